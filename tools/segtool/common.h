// Helpers shared by the command implementations (not part of the library's
// interface to main or tests).
#ifndef RUNLOG_TOOLS_SEGTOOL_COMMON_H_
#define RUNLOG_TOOLS_SEGTOOL_COMMON_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/segtool/commands.h"
#include "tracking/repo.h"

namespace runlog::segtool {

// The usage checks every command makes before it touches a file: `repo` is
// not empty and each of `runs` (ids or prefixes) holds only run-id
// characters (storage/run_id.h). False after printing the error on `err`;
// the command then exits kExitUsage.
bool CheckArgs(absl::string_view repo, const std::vector<std::string>& runs,
               std::ostream& err);

// What Repo::Open gets from `env` (create_if_missing false).
RepoOptions RepoOptionsFor(const Env& env);

// Opens an existing repository (never creates one) with `env` injected.
absl::StatusOr<std::unique_ptr<Repo>> OpenRepo(const std::string& path,
                                               const Env& env);

// "segtool: <message>" (DataLoss messages start with "data loss: ").
void PrintError(std::ostream& err, const absl::Status& status);
// "segtool: run <id>: <message>", the id quoted with QuoteArg.
void PrintRunError(std::ostream& err, absl::string_view run,
                   const absl::Status& status);

// Replaces `*run`, an id or a unique prefix of one, with the id it names
// (Repo::ResolveRunId); false after printing the error on `err`.
bool ResolveRun(Repo& repo, std::string* run, std::ostream& err);

// The runs a command works on: the ids given (or the one run each given
// unique prefix names, Repo::ResolveRunId), in the order given, or every
// run of the repository when none are given. Invalid, unknown and
// ambiguous ids are reported on `err` and left out; `*failed` is set when
// any was.
absl::StatusOr<std::vector<std::string>> SelectRuns(
    Repo& repo, const std::vector<std::string>& given, std::ostream& err,
    bool* failed);

// An opened repository and the runs a command works on (SelectRuns).
struct Selection {
  std::unique_ptr<Repo> repo;
  std::vector<std::string> ids;
  bool failed = false;  // some given id was invalid (already reported)
};
// OpenRepo then SelectRuns; nullopt after printing the error on `err`.
std::optional<Selection> OpenAndSelect(const std::string& path,
                                       const std::vector<std::string>& given,
                                       const Env& env, std::ostream& err);

// "finished", "failed", ... or "damaged" when the run could not be read
// whole (RunRecord::error).
std::string StatusText(const RunRecord& record);
// Total points of every series.
int64_t PointCount(const RunRecord& record);

// A run's metadata as JSON: id, state, status, experiment, name,
// description, created, ended, failure_reason, detail, tags, series_count,
// points, bytes_on_disk, error; with `full` also params and the series
// summaries.
Value RunRecordValue(const RunRecord& record, bool full);

}  // namespace runlog::segtool

#endif  // RUNLOG_TOOLS_SEGTOOL_COMMON_H_
