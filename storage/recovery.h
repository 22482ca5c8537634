// Recovery: finishes what crashes interrupted, without touching anything that
// may still be in use.
//
//   * trash/ is emptied (a crash mid-delete leaves only trash).
//   * Uncommitted runs whose writer is certainly gone (RunState::kAbandoned)
//     are removed with RunStore::RemoveIfAbandoned(): moved to trash, judged
//     again there, and put back if they committed or wrote meanwhile. Live
//     and unknown runs are kept: deleting a live run loses data, keeping a
//     dead one only wastes space. Ages are measured on the file system's
//     clock (RunStore::FileSystemNow()).
//   * Unfinished creations (runs/.creating.<id>) whose creator is gone are
//     removed, and so are empty runs without OWNER left by older versions.
//   * Manifests superseded by a compaction's (COMMIT.<n>) are removed once
//     older than the staleness period.
//   * In committed runs, a leftover COMMIT.tmp is removed, and so are segment
//     and column files the manifest does not reference once they are older
//     than the staleness period (a compaction may be writing them right now).
//     A run holding COMPACTING whose owner may be alive is left alone; once
//     its owner is gone, COMPACTING goes with the garbage it explains.
//
// Idempotent, and safe while writers are active and while another recovery
// runs: a file or run that a racing peer removed first is not an error.
// With `dry_run` nothing is changed and the report lists what would be done.
#ifndef RUNLOG_STORAGE_RECOVERY_H_
#define RUNLOG_STORAGE_RECOVERY_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/run_store.h"

namespace runlog::storage {

struct RecoveryAction {
  enum class Kind {
    kDeleteAbandonedRun,  // path = runs/<id>
    kPurgeTrash,          // path = trash/<name>
    kRemoveTempFile,      // path = runs/<id>/COMMIT.tmp, or CATALOG.tmp.*
    kRemoveUnreferencedSegment,
    kSalvageAbandonedRun,    // path = runs/<id>; committed as crashed
    kRemoveStaleCompaction,  // path = runs/<id>/COMPACTING and its outputs
    kRecheckRemoval,         // path = trash/<id>.recheck: removed or restored
    kRemoveOldManifest,      // path = runs/<id>/COMMIT[.n], superseded
    kRepairManifest,         // path = runs/<id>/COMMIT.<n>, rebuilt from the
                             // commit record after a power loss tore COMMIT
    kRemoveUnfinishedCreation,  // runs/.creating.<id>, or an empty run
                                // without OWNER from an older runlog
  };
  Kind kind;
  std::string path;
  std::string reason;
  bool done = false;  // false in a dry run, or when a racing peer did it first
};

struct RecoveryReport {
  std::vector<RecoveryAction> actions;
  // Uncommitted runs that were kept, with why ("pid 42 is alive").
  std::vector<std::pair<std::string, std::string>> kept;
};

absl::StatusOr<RecoveryReport> Recover(RunStore& store, bool dry_run);

struct RecoveryOptions {
  bool dry_run = false;
  // When set, an abandoned run is handed to it instead of being deleted
  // (kSalvageAbandonedRun); if it fails, the run is kept and the action's
  // reason carries the error.
  std::function<absl::Status(const RunEntry& run)> salvage;
};
absl::StatusOr<RecoveryReport> Recover(RunStore& store,
                                       const RecoveryOptions& options);

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_RECOVERY_H_
