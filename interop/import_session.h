// The write side every importer shares: opens the target repository, knows
// which sources were imported before, and writes one source run at a time
// through a RunSink (or, in a dry run, only counts what it would write).
//
// Provenance. Every imported run carries the reserved param `runlog_import`,
// a map {format, source, fingerprint}:
//   source       a key naming the source run, stable across imports (a
//                TensorBoard run directory's absolute path, an MLflow run id,
//                a W&B run id, a CSV file's path and run column);
//   fingerprint  a digest of what was read (sizes and modification times of
//                the source files, or of their content), so a changed source
//                is noticed without reading it.
// Importing a source whose key is already in the repository with the same
// fingerprint is "unchanged" and skipped; with another fingerprint it is
// "changed" and skipped unless ImportOptions::update, which imports it again
// and deletes the old run once the new one is committed. A source param named
// `runlog_import` is not imported (reported as skipped).
//
// Wall times: the repository is opened with a ReplayClock (replay_clock.h),
// so points keep the source's times.
//
// Thread-safety: none; one session, one thread.
#ifndef RUNLOG_INTEROP_IMPORT_SESSION_H_
#define RUNLOG_INTEROP_IMPORT_SESSION_H_

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "interop/import_options.h"
#include "interop/import_report.h"
#include "interop/replay_clock.h"
#include "tracking/repo.h"
#include "tracking/run.h"

namespace runlog::interop {

inline constexpr char kImportParam[] = "runlog_import";

// A point's wall time when the source has none.
inline constexpr int64_t kNoTime = INT64_MIN;

// One source run to import.
struct SourceRun {
  std::string key;
  std::string fingerprint;
  std::string experiment;  // used unless ImportOptions::experiment is set
  std::string name;
  std::string description;
  std::vector<std::string> tags;
};

// Writes the points of one source run. In a dry run nothing is written but
// every call validates and counts as a real one would. Every method returns
// the Run's error (InvalidArgument for a value over runlog's limits, which
// the importer reports as a skip; anything else ends the import of the
// run).
class RunSink {
 public:
  absl::Status Scalar(absl::string_view name, const Context& context,
                      int64_t step, double value, int64_t time_us,
                      double epoch = std::numeric_limits<double>::quiet_NaN());
  absl::Status Text(absl::string_view name, const Context& context,
                    int64_t step, absl::string_view text, int64_t time_us);
  absl::Status Hist(absl::string_view name, const Context& context,
                    int64_t step, Histogram histogram, int64_t time_us);
  absl::Status BlobPoint(absl::string_view name, const Context& context,
                         int64_t step, const Blob& blob, int64_t time_us);
  // Merges {key: value} into the params; keys may hold '.'.
  absl::Status Param(absl::string_view key, Value value);
  // Merges a map of params.
  absl::Status Params(const Value& params);
  absl::Status Tag(absl::string_view tag);

  // The source's end state: finished (nullopt) or failed with a reason.
  void SetFailure(std::string reason) { failure_ = std::move(reason); }

  ImportedRun& report() { return report_; }

 private:
  friend class ImportSession;
  RunSink(std::unique_ptr<Run> run, ReplayClock* clock, ImportedRun report)
      : run_(std::move(run)), clock_(clock), report_(std::move(report)) {}
  struct SeriesEntry {
    SeriesKind kind;
    ScalarSeries scalar;  // scalar series of a real run
  };
  // The series `name` + `context` of `kind`, created on first use (a kind
  // other than its first is InvalidArgument). One hash lookup, without
  // building a key, for a series without context.
  absl::StatusOr<SeriesEntry*> Entry(absl::string_view name,
                                     const Context& context, SeriesKind kind);
  void SetTime(int64_t time_us);

  std::unique_ptr<Run> run_;  // null in a dry run
  ReplayClock* clock_;
  ImportedRun report_;
  std::optional<std::string> failure_;
  std::string replaces_;     // run id the import replaces (update)
  std::string fingerprint_;  // of the source, once committed
  // Series by name, or by "name\0k\0v..." for those with a context.
  absl::flat_hash_map<std::string, SeriesEntry> series_;
  std::string key_scratch_;
};

class ImportSession {
 public:
  // Opens (creating when missing, except in a dry run) the repository at
  // `repo_path` with `base` injected (fs, clock, probe; its clock becomes
  // the ReplayClock's base) and reads which sources it holds.
  static absl::StatusOr<std::unique_ptr<ImportSession>> Open(
      const std::string& repo_path, const RepoOptions& base, std::string format,
      ImportOptions options);

  const ImportOptions& options() const { return options_; }
  // The report every Begin adds to; `source` is the path given.
  ImportReport& report() { return report_; }

  // Starts `source`: a sink to write it into, or null when it is skipped
  // (unchanged, or changed without update; the report says which).
  absl::StatusOr<std::unique_ptr<RunSink>> Begin(const SourceRun& source);
  // Commits the run (or Fail()s it when the sink has a failure), then deletes
  // the run it replaces. On error the new run is deleted and the old kept.
  absl::Status End(std::unique_ptr<RunSink> sink);
  // Deletes the partial run after an error reading the source, recording
  // `error` in the report.
  void Abandon(std::unique_ptr<RunSink> sink, const absl::Status& error);

 private:
  ImportSession(std::string format, ImportOptions options)
      : format_(std::move(format)), options_(std::move(options)) {}

  std::string format_;
  ImportOptions options_;
  std::unique_ptr<ReplayClock> clock_;
  std::unique_ptr<Repo> repo_;  // null in a dry run of a missing repository
  ImportReport report_;
  struct Known {
    std::string run_id;
    std::string fingerprint;
  };
  std::map<std::string, Known> known_;  // by source key
};

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_IMPORT_SESSION_H_
