// Compaction and salvage: rewriting a run into its compacted form
// (tracking/compaction/compacted_run.h) without ever editing a file in place
// (invariant 8 of the design).
//
//   1. COMPACTING is created (exclusively) holding an OWNER record of this
//      process, so recovery can tell a crashed compaction's leftovers from a
//      running one's outputs.
//   2-3. The log is read chunk by chunk and a new column file, numbered
//      above every file in the directory, is written as it goes: each
//      series' points go out as blocks once a block is full (buffers capped
//      at 32 MiB, then written as short blocks), so memory does not grow
//      with the run. Damage aborts the compaction and removes the partial
//      file, which no COMMIT names. The file is fsynced, then the run
//      directory.
//   4. A new COMMIT naming only the column file replaces the old one
//      (COMMIT.tmp, fsync, rename, fsync directory).
//   5. The old segments, then COMPACTING, are unlinked.
// A crash before the rename in 4 leaves the old run whole plus garbage (the
// column file, COMMIT.tmp, COMPACTING); after it, the new run whole plus
// garbage (old segments, COMPACTING). storage/recovery.h removes garbage
// once COMPACTING's owner is gone.
//
// Thread-safety: as RunStore; two compactions of one run exclude each other
// through COMPACTING.
#ifndef RUNLOG_TRACKING_COMPACTION_COMPACTION_H_
#define RUNLOG_TRACKING_COMPACTION_COMPACTION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/run_store.h"

namespace runlog {

// What a compaction did.
struct CompactionReport {
  std::string run_id;
  uint64_t bytes_before = 0;       // the run directory's files before
  uint64_t bytes_after = 0;        // and after
  int64_t points = 0;              // points of every series
  bool already_compacted = false;  // nothing to do: left as it was
};

// Compacts committed run `id`. FailedPrecondition for an uncommitted run or
// one with a COMPACTING file (another compaction runs, or a crashed one's
// leftovers await recovery); NotFound if absent; DataLoss if the run's data
// is damaged (nothing is changed then).
absl::StatusOr<CompactionReport> CompactRun(storage::RunStore& store,
                                            absl::string_view id);

// Commits abandoned run `id` with status crashed: its readable prefix (every
// complete chunk) is compacted and named by a new COMMIT, whose reason says
// why. FailedPrecondition unless the run is uncommitted and abandoned.
absl::Status SalvageRun(storage::RunStore& store, absl::string_view id,
                        absl::string_view reason);

}  // namespace runlog

#endif  // RUNLOG_TRACKING_COMPACTION_COMPACTION_H_
