// A repository directory and the lifecycle of the runs in it:
//
//   <root>/RUNLOG            format marker (created by Open)
//   <root>/runs/<run-id>/    one directory per run (OWNER, segments, COMMIT)
//   <root>/trash/<run-id>/   runs being deleted
//
// No locks and no threads: several processes may open the same repository
// and create, read, delete and recover runs at once. Each new name is unique
// (run ids), each file has one writer, and every state change is a single
// atomic rename, so a crash at any point leaves each run either whole or
// uncommitted, and recovery (recovery.h) finishes what a crash interrupted.
//
// Thread-safety: a RunStore may be used from several threads; the objects it
// returns may not be shared. `fs`, `clock` and `probe` must outlive it.
#ifndef RUNLOG_STORAGE_RUN_STORE_H_
#define RUNLOG_STORAGE_RUN_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/clock.h"
#include "storage/commit_manifest.h"
#include "storage/file_system.h"
#include "storage/owner_liveness.h"
#include "storage/run_writer.h"

namespace runlog::storage {

struct RunStoreOptions {
  // Create the repository (its directory, marker and subdirectories) if it
  // does not exist. The parent directory must exist.
  bool create_if_missing = false;
  // An uncommitted run whose writer cannot be probed (another host, another
  // pid namespace, unreadable OWNER) counts as abandoned after this long
  // without writes.
  absl::Duration staleness = absl::Minutes(15);
  // Defaults: FileSystem::Default(), Clock::Default(), SystemProbe::Default().
  FileSystem* fs = nullptr;
  Clock* clock = nullptr;
  SystemProbe* probe = nullptr;
};

// One run as a listing sees it.
struct RunEntry {
  std::string id;
  RunState state = RunState::kUnknown;
  // For committed runs: the manifest. For the rest: empty.
  std::optional<CommitManifest> manifest;
  // Why the state was chosen (liveness reason), or the error that made a
  // committed run unreadable (its COMMIT is damaged; state is kCommitted).
  std::string detail;
  absl::Status manifest_error;
  absl::Time last_write = absl::InfinitePast();
  uint64_t bytes_on_disk = 0;
};

class RunStore {
 public:
  // Opens the repository at `root`. NotFound if it does not exist (and
  // create_if_missing is false); FailedPrecondition if `root` exists but is
  // not a runlog repository; DataLoss if its marker is damaged;
  // Unimplemented if it was written by a newer format version.
  static absl::StatusOr<std::unique_ptr<RunStore>> Open(
      std::string root, RunStoreOptions options = {});

  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  const std::string& root() const { return root_; }
  std::string RunDir(absl::string_view id) const;
  FileSystem* fs() const { return fs_; }
  Clock* clock() const { return clock_; }
  SystemProbe* probe() const { return probe_; }
  const RunStoreOptions& options() const { return options_; }

  // Creates a new run: a unique time-ordered id, its directory, OWNER naming
  // this process, the first segment, and an fsync of runs/ so the run
  // survives a power loss once it has data (skipped under SyncPolicy::kNever).
  absl::StatusOr<std::unique_ptr<RunWriter>> CreateRun(
      const RunWriterOptions& options = {});

  // Deletes a run whatever its state (invariant 5): renames runs/<id> into
  // trash/ in one atomic step, makes that durable, then unlinks its files.
  // A writer of the run in another process fails at its next file creation
  // or commit; callers that must not delete live runs check ListRuns() first.
  // InvalidArgument for a malformed id; NotFound if there is no such run
  // (also when a concurrent deletion won the race).
  absl::Status DeleteRun(absl::string_view id);

  // Every run in runs/, ordered by id (= creation time). A run deleted while
  // the listing runs is left out; entries that are not run ids are ignored.
  // kFull reads every run's directory and COMMIT: bytes_on_disk, last_write
  // and the whole manifest are filled in. kSummary takes committed runs from
  // the repository's catalog (storage/run_catalog.h) where it has them:
  // their manifest then has no segment list, bytes_on_disk is 0 and
  // last_write is InfinitePast; runs the catalog lacks are read as kFull
  // reads them and then added to it (the catalog is rewritten; a failure to
  // write it is ignored, so read-only repositories list too).
  enum class ListDetail { kFull, kSummary };
  absl::StatusOr<std::vector<RunEntry>> ListRuns(
      ListDetail detail = ListDetail::kFull);
  // One run. InvalidArgument for a malformed id, NotFound if absent.
  absl::StatusOr<RunEntry> GetRun(absl::string_view id);

  // The liveness of the process an OWNER-format file at `path` names (a
  // run's COMPACTING), its modification time counting as the last write;
  // nullopt if the file does not exist (or vanished while being read).
  std::optional<LivenessVerdict> JudgeOwnerFile(const std::string& path);

  // Removes trash/<name> and everything in it; ENOENT from a racing peer is
  // not an error.
  absl::Status PurgeTrashEntry(absl::string_view name);

 private:
  RunStore(std::string root, RunStoreOptions options);
  absl::StatusOr<RunEntry> Describe(const std::string& id);
  // Replaces the catalog with the committed runs of `runs`; errors ignored.
  void RewriteCatalog(const std::vector<RunEntry>& runs);

  std::string root_;
  RunStoreOptions options_;
  FileSystem* fs_;
  Clock* clock_;
  SystemProbe* probe_;
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_RUN_STORE_H_
