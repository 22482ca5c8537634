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

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "storage/clock.h"
#include "storage/commit_manifest.h"
#include "storage/file_system.h"
#include "storage/owner_liveness.h"
#include "storage/run_writer.h"

namespace runlog::storage {

// How long an uncommitted run whose writer cannot be probed must show no
// sign of life before it counts as abandoned. Long, because removing a live
// run loses data while keeping a dead one only wastes space: a writer shows
// life from inside its own calls (a write, or OWNER's mtime refreshed every
// RunWriterOptions::heartbeat_interval), so only a program that calls
// nothing for a whole day looks dead.
inline constexpr absl::Duration kDefaultStaleness = absl::Hours(24);

struct RunStoreOptions {
  // Create the repository (its directory, marker and subdirectories) if it
  // does not exist. The parent directory must exist. Only a missing or empty
  // directory becomes a repository (or one holding nothing but runs/,
  // trash/ and RUNLOG.tmp.*, what a concurrent or crashed creator leaves);
  // any other existing directory or file is FailedPrecondition naming an
  // entry it holds.
  bool create_if_missing = false;
  // An uncommitted run whose writer cannot be probed (another host, another
  // pid namespace, unreadable OWNER) counts as abandoned after this long
  // without writes. Deciding callers (recovery, deletion) measure it against
  // the file system's clock (FileSystemNow()), as the mtimes are stamped.
  absl::Duration staleness = kDefaultStaleness;
  // Defaults: FileSystem::Default(), Clock::Default(), SystemProbe::Default().
  FileSystem* fs = nullptr;
  Clock* clock = nullptr;
  SystemProbe* probe = nullptr;
  // The clock that stamps the file system's modification times, for tests
  // that pin those times by hand; null (the default): FileSystemNow() reads
  // it from the file system itself.
  Clock* file_system_clock = nullptr;
};

// One run as a listing sees it.
struct RunEntry {
  std::string id;
  RunState state = RunState::kUnknown;
  // For committed runs: the manifest. For the rest: empty.
  std::optional<CommitManifest> manifest;
  // Why the state was chosen (liveness reason), or the error that made a
  // committed run unreadable (its COMMIT is damaged; state is kCommitted),
  // or a run directory unreadable now (Unavailable; state is kUnknown).
  std::string detail;
  absl::Status manifest_error;
  // Committed runs: the generation of the manifest read (commit_manifest.h).
  uint32_t manifest_generation = 0;
  // COMMIT was damaged and the manifest rebuilt from the commit record
  // (commit_manifest.h); recovery writes it anew.
  bool manifest_rebuilt = false;
  absl::Time last_write = absl::InfinitePast();
  uint64_t bytes_on_disk = 0;
};

// What RemoveIfAbandoned() did.
struct RemovalOutcome {
  bool removed = false;
  // Why it was removed (the liveness reason), or why it was put back.
  std::string reason;
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

  // Creates a new run: a unique time-ordered id, its directory holding
  // OWNER (built as runs/.creating.<id> and renamed into place) and the
  // first segment. Performs no fsync: Commit() makes the run durable.
  absl::StatusOr<std::unique_ptr<RunWriter>> CreateRun(
      const RunWriterOptions& options = {});

  // Deletes a run whatever its state (invariant 5): renames runs/<id> into
  // trash/ in one atomic step, makes that durable, then unlinks its files.
  // A writer of the run in another process fails at its next commit, new
  // segment or heartbeat. Callers that must not delete live runs use
  // RemoveIfAbandoned() instead.
  // InvalidArgument for a malformed id; NotFound if there is no such run
  // (also when a concurrent deletion won the race).
  absl::Status DeleteRun(absl::string_view id);

  // Removes an uncommitted run only if it is still abandoned once nobody
  // can write to it by path any more: renames runs/<id> to
  // trash/<id>.recheck, judges it again there at `now` (the file system's
  // clock, FileSystemNow()), and then either unlinks it or puts it back in
  // runs/ (it committed, wrote or came alive meanwhile; `removed` false).
  // docs/design.md lists the window that remains. NotFound if absent.
  absl::StatusOr<RemovalOutcome> RemoveIfAbandoned(absl::string_view id,
                                                   absl::Time now);
  // RemoveIfAbandoned() for many runs at about the cost of one: each run is
  // moved and judged again as above, then the removals of them all are made
  // durable by one sync of runs/ and one of trash/ (instead of two per run)
  // before any is unlinked. One outcome per id, in order; an error in one
  // (NotFound: gone already) concerns that run only. The call fails only if
  // a sync does: the runs judged abandoned then stay in trash/ under their
  // ids, and recovery purges them later.
  absl::StatusOr<std::vector<absl::StatusOr<RemovalOutcome>>> RemoveIfAbandoned(
      absl::Span<const std::string> ids, absl::Time now);
  // The second half of RemoveIfAbandoned() for trash/<name> (an
  // "<id>.recheck" entry), also for one a crashed process left behind.
  absl::StatusOr<RemovalOutcome> RecheckTrashEntry(absl::string_view name,
                                                   absl::Time now);

  // The file system's current time: the modification time of a file created
  // (and removed) in trash/ for the purpose. On NFS and GlusterFS that is
  // the server's (or the writing client's) clock, the one that stamps every
  // run's files, so ages computed from it do not depend on this host's
  // clock being right.
  absl::StatusOr<absl::Time> FileSystemNow();

  // Every run in runs/, ordered by id (= creation time). A run deleted while
  // the listing runs is left out; entries that are not run ids are ignored.
  // A run whose directory answers Unavailable twice (a network file system's
  // stale handle) is listed as kUnknown with that error in manifest_error,
  // so one unreadable run neither hides the others nor is ever judged
  // abandoned; Unavailable for runs/ itself fails the listing.
  // kFull reads every run's directory and COMMIT: bytes_on_disk, last_write
  // and the whole manifest are filled in. kSummary takes committed runs from
  // the repository's catalog (storage/run_catalog.h) where it has them:
  // their manifest then has no segment list, bytes_on_disk is 0 and
  // last_write is InfinitePast; runs the catalog lacks are read as kFull
  // reads them and then added to it (the catalog is rewritten; a failure to
  // write it is ignored, so read-only repositories list too).
  enum class ListDetail { kFull, kSummary };
  // Liveness is judged at `now` (default: the store's clock).
  absl::StatusOr<std::vector<RunEntry>> ListRuns(
      ListDetail detail = ListDetail::kFull,
      std::optional<absl::Time> now = std::nullopt);
  // One run. InvalidArgument for a malformed id, NotFound if absent.
  absl::StatusOr<RunEntry> GetRun(absl::string_view id,
                                  std::optional<absl::Time> now = std::nullopt);

  // The liveness of the process an OWNER-format file at `path` names (a
  // run's COMPACTING), its modification time counting as the last write;
  // nullopt if the file does not exist (or vanished while being read).
  std::optional<LivenessVerdict> JudgeOwnerFile(
      const std::string& path, std::optional<absl::Time> now = std::nullopt);

  // Removes trash/<name> and everything in it; ENOENT from a racing peer is
  // not an error.
  absl::Status PurgeTrashEntry(absl::string_view name);

  // Remembers the manifest (without segments) of a run this process has
  // just committed, so that the next kSummary listing takes it from memory
  // instead of reading its COMMIT: the first listing after a program's runs
  // would otherwise read every one. Forgotten once a catalog holding it has
  // been written. Only what COMMIT holds and a committed run never changes
  // is kept, and it is used only while runs/<id> exists, as catalog entries.
  //
  // Once the runs remembered reach kCatalogRefreshMin or an eighth of the
  // catalog last seen, the call also lists the repository (kSummary), which
  // writes them into the catalog: another process's first listing then
  // reads at most that many COMMIT files, and the catalog is rewritten once
  // per that many commits (errors ignored: it is a cache).
  void NoteCommitted(CommitManifest manifest);
  static constexpr size_t kCatalogRefreshMin = 64;

 private:
  RunStore(std::string root, RunStoreOptions options);
  // Describes the run `id` whose directory is `dir` (runs/<id>, or its
  // place in trash/ during a recheck), judging liveness at `now`.
  absl::StatusOr<RunEntry> DescribeDir(const std::string& id,
                                       const std::string& dir, absl::Time now);
  // Syncs runs/ and trash/, then unlinks trash/<name>.
  absl::Status FinishDeletion(absl::string_view name);
  // RecheckTrashEntry() up to the unlink: a run still abandoned is renamed
  // to trash/<id> (removed = true) and left there for FinishDeletion().
  absl::StatusOr<RemovalOutcome> JudgeTrashEntry(absl::string_view name,
                                                 absl::Time now);
  // Replaces the catalog with the committed runs of `runs`; errors ignored.
  // Returns whether it was written.
  bool RewriteCatalog(const std::vector<RunEntry>& runs);

  std::string root_;
  RunStoreOptions options_;
  FileSystem* fs_;
  Clock* clock_;
  SystemProbe* probe_;
  bool shared_;  // fs_->IsShared(root_)
  absl::Mutex committed_mu_;
  absl::flat_hash_map<std::string, CommitManifest> committed_here_
      ABSL_GUARDED_BY(committed_mu_);
  // Runs in the catalog this store last read or wrote.
  size_t catalog_runs_ ABSL_GUARDED_BY(committed_mu_) = 0;
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_RUN_STORE_H_
