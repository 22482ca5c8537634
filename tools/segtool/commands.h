// segtool's commands as plain functions, so tests run them in-process.
//
// Every command takes its parsed options, an Env (what to inject into the
// Repo) and the two output streams, and returns the process exit code:
//   kExitOk (0)       success
//   kExitProblem (1)  a problem was found or an operation failed
//   kExitUsage (2)    bad arguments: unknown commands or flags, bad values,
//                     an empty repository path, a malformed run id
//                     (checked before any file is touched)
// Errors are single lines on `err` starting with "segtool: " and naming the
// run, file or argument. Results go to `out` only.
//
// Repositories are opened with create_if_missing = false. Only rm, recover
// and compact change a repository; every other command only reads, except
// that ls may refresh the run catalog (a cache, storage/run_catalog.h). Run ids
// from the command line are validated (storage/run_id.h) before any file is
// touched, so no argument can address a path outside the repository.
//
// Thread-safety: none needed; the functions share no state.
#ifndef RUNLOG_TOOLS_SEGTOOL_COMMANDS_H_
#define RUNLOG_TOOLS_SEGTOOL_COMMANDS_H_

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "storage/clock.h"
#include "storage/file_system.h"
#include "storage/owner_liveness.h"
#include "storage/run_store.h"
#include "tracking/series.h"

namespace runlog::segtool {

inline constexpr int kExitOk = 0;
inline constexpr int kExitProblem = 1;
inline constexpr int kExitUsage = 2;

// What the commands hand to Repo::Open. Null pointers mean the real file
// system, clock and process probe. Not owned; must outlive the call.
struct Env {
  storage::FileSystem* fs = nullptr;
  storage::Clock* clock = nullptr;
  // See storage::RunStoreOptions::file_system_clock (tests only).
  storage::Clock* file_system_clock = nullptr;
  storage::SystemProbe* probe = nullptr;
  absl::Duration staleness = storage::kDefaultStaleness;
  // Draw progress of long operations on `err` (main sets it when stderr is
  // a terminal; tests leave it off so outputs stay exact).
  bool progress = false;
  // Columns of the terminal `out` is; 0 when it is none (no limit). ls fits
  // its default columns within it.
  size_t terminal_width = 0;
};

// Run ids given to any command may be unique prefixes (Repo::ResolveRunId).
struct LsArgs {
  std::string repo;
  bool json = false;
  bool csv = false;
  std::string where;              // the query of docs/query.md
  std::vector<std::string> sort;  // "FIELD", "FIELD:desc" or "FIELD:asc"
  std::optional<size_t> limit;
  size_t offset = 0;
  // Comma-separated fields; empty: the default columns (run_table.h).
  std::optional<std::string> columns;
  std::optional<std::string> experiment;
  std::optional<std::string> tag;
  std::optional<std::string> state;   // committed|live|abandoned|unknown
  std::optional<std::string> status;  // running|finished|failed|crashed|...
};
int Ls(const LsArgs& args, const Env& env, std::ostream& out,
       std::ostream& err);

struct ShowArgs {
  std::string repo;
  std::string run;
  bool json = false;
};
int Show(const ShowArgs& args, const Env& env, std::ostream& out,
         std::ostream& err);

enum class CatFormat { kText, kCsv, kJson };
struct CatArgs {
  std::string repo;
  std::string run;
  SeriesKey series;
  StepRange steps;
  // Scalar series only; at least 2 (signed, so that a negative count given
  // on the command line is reported, not wrapped around).
  std::optional<int64_t> max_points;
  CatFormat format = CatFormat::kText;
};
int Cat(const CatArgs& args, const Env& env, std::ostream& out,
        std::ostream& err);

struct RmArgs {
  std::string repo;
  std::vector<std::string> runs;
  bool force = false;
  bool json = false;  // {"deleted": [ids], "errors": [{run, error}]}
};
// Deletes every run it can; exit 1 if any could not be deleted.
int Rm(const RmArgs& args, const Env& env, std::ostream& out,
       std::ostream& err);

struct RecoverArgs {
  std::string repo;
  bool dry_run = false;
  bool salvage = false;
  // {"dry_run", "actions": [{action, path, done, already_done, reason}],
  //  "kept": [{run, why}]}
  bool json = false;
};
int Recover(const RecoverArgs& args, const Env& env, std::ostream& out,
            std::ostream& err);

struct VerifyArgs {
  std::string repo;
  std::vector<std::string> runs;  // empty: every run
  // {"runs": [{run, state, ok, bytes_checked, points,
  //            problems: [{file, offset, problem}], notes}],
  //  "errors": [{run, error}]}
  bool json = false;
};
// Exit 1 if any run has a problem or could not be examined.
int Verify(const VerifyArgs& args, const Env& env, std::ostream& out,
           std::ostream& err);

struct CompactArgs {
  std::string repo;
  std::vector<std::string> runs;  // empty: every committed run
  // {"runs": [{run, bytes_before, bytes_after, points, compacted, note}],
  //  "bytes_before", "bytes_after", "errors": [{run, error}]}
  bool json = false;
};
// Uncommitted runs are skipped with a note (not an error).
int Compact(const CompactArgs& args, const Env& env, std::ostream& out,
            std::ostream& err);

enum class ExportFormat { kCsv, kJsonl };
struct ExportArgs {
  std::string repo;
  std::vector<std::string> runs;  // empty: every run
  ExportFormat format = ExportFormat::kJsonl;
  // Written through a temporary file renamed into place at the end, so a
  // failed export never leaves a partial file; empty: `out`.
  std::string output;
};
// Every given id is resolved before a byte is written: one unknown or
// ambiguous id fails the export with nothing written. A run that cannot be
// read whole is reported and left out of `out`; with --output it fails the
// export and no file is made.
int Export(const ExportArgs& args, const Env& env, std::ostream& out,
           std::ostream& err);

// import: another tracker's logs into a repository (created when missing),
// through interop/ (docs/interop.md). Prints the per-source report on `out`;
// exit 1 when a source run failed to import.
enum class ImportFormat {
  kTensorBoard,
  kMlflow,
  kWandb,
  kCsv,
  kHfTrainerState
};
struct ImportArgs {
  ImportFormat format = ImportFormat::kTensorBoard;
  std::string source;  // LOGDIR, MLRUNS_DIR or mlflow.db, WANDB_DIR, FILE
  std::string repo;
  std::optional<std::string> experiment;
  std::vector<std::string> experiment_ids;  // mlflow: only these
  bool dry_run = false;
  bool update = false;
  bool skip_damaged = false;
};
int Import(const ImportArgs& args, const Env& env, std::ostream& out,
           std::ostream& err);

// cp and mv: committed runs copied into another repository under their ids
// (storage/run_copy.h: written whole, then committed by one rename), each
// verified in the destination (every checksum read back, and its point count
// compared with the source's). mv deletes a source run only after its copy
// is committed and verified. Every id is resolved before anything is
// copied; uncommitted runs and ids the destination already has are refused
// with the reason; the rest are still copied (exit 1 if any was refused).
struct CopyArgs {
  std::string repo;
  std::vector<std::string> runs;
  std::string dest;  // created when missing or an empty directory
  bool move = false;
  // {"copied" | "moved": [{run, files, bytes, points}],
  //  "errors": [{run, error}]}
  bool json = false;
};
int Copy(const CopyArgs& args, const Env& env, std::ostream& out,
         std::ostream& err);

// export --format tensorboard: one event file per run under `output`.
struct TensorBoardExportArgs {
  std::string repo;
  std::vector<std::string> runs;  // empty: every run
  std::string output;
};
int ExportTensorBoard(const TensorBoardExportArgs& args, const Env& env,
                      std::ostream& out, std::ostream& err);

}  // namespace runlog::segtool

#endif  // RUNLOG_TOOLS_SEGTOOL_COMMANDS_H_
