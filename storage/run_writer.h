// Writes one run: its segments and, at the end, its commit marker.
//
// Lifecycle: created by RunStore::CreateRun() (directory, OWNER and the first
// segment exist); AppendChunk()/Flush()/Sync() any number of times; then
// exactly one of Commit() (COMMIT written; the run is committed) or Close()
// (flushed and left uncommitted; readers see it live, then abandoned once
// this process is gone). The destructor of a writer that was neither
// committed nor closed behaves like Close() but drops errors.
//
// A failed write, fsync, create or rename poisons the writer (invariant 7):
// that call and every later one return the first error, and the run can no
// longer be committed. A failed fsync is never retried.
//
// Thread-safety: none. `fs` must outlive the writer.
#ifndef RUNLOG_STORAGE_RUN_WRITER_H_
#define RUNLOG_STORAGE_RUN_WRITER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/segment_writer.h"
#include "storage/sync_policy.h"

namespace runlog::storage {

// Device flushes (fdatasync/fsync) a committed one-segment run costs under
// SyncPolicy::kOnCommit, creation included; docs/design.md argues each one.
inline constexpr int kFlushesPerCommit = 3;

struct RunWriterOptions {
  SyncPolicy sync_policy = SyncPolicy::kOnCommit;
  uint64_t segment_roll_size = 16u << 20;
  size_t buffer_size = 256u << 10;
};

class RunWriter {
 public:
  // Used by RunStore::CreateRun(); `run_dir` exists and holds OWNER.
  static absl::StatusOr<std::unique_ptr<RunWriter>> Start(
      FileSystem* fs, std::string run_dir, std::string run_id,
      const RunWriterOptions& options);

  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;
  ~RunWriter();

  const std::string& id() const { return run_id_; }
  const std::string& dir() const { return run_dir_; }

  absl::Status AppendChunk(uint8_t type, absl::string_view payload);
  // Hands buffered bytes to the OS; with SyncPolicy::kEveryFlush also fsyncs.
  absl::Status Flush();
  // Makes everything appended so far durable (unless SyncPolicy::kNever).
  absl::Status Sync();

  // Ends the run as committed with `status` (invariant 3): append the commit
  // record to the last segment -> fdatasync it -> COMMIT.tmp, renamed to
  // COMMIT -> fsync the run dir -> fsync runs/ (docs/design.md, "flushes
  // per run"; the fsyncs are skipped under SyncPolicy::kNever). On error the
  // writer is poisoned and the run stays uncommitted. FailedPrecondition if
  // already committed or closed.
  absl::Status Commit(format::RunStatus status, absl::Time end_time,
                      absl::string_view reason, absl::string_view summary);
  // Flushes and stops writing; the run stays uncommitted. Idempotent.
  absl::Status Close();

  // Refreshes OWNER's modification time: this writer's sign of life to
  // processes that cannot probe it (another host; owner_liveness.h). A run
  // deleted meanwhile (OWNER gone) poisons the writer with NotFound, so its
  // next call fails instead of writing into unlinked files; other failures
  // are returned and leave the writer usable (the next heartbeat retries).
  absl::Status Heartbeat();
  // Bytes handed to the OS so far, over all segments.
  uint64_t bytes_written() const;

  // True until Commit() or Close() (even if poisoned).
  bool is_open() const { return state_ == State::kOpen; }
  bool committed() const { return state_ == State::kCommitted; }
  // OK, or the first error that poisoned the writer.
  const absl::Status& status() const { return status_; }

 private:
  enum class State { kOpen, kCommitted, kClosed };
  RunWriter(FileSystem* fs, std::string run_dir, std::string run_id,
            SyncPolicy policy, std::unique_ptr<SegmentWriter> segments);
  absl::Status CheckWritable() const;
  absl::Status Poison(absl::Status s);

  FileSystem* fs_;
  std::string run_dir_;
  std::string run_id_;
  SyncPolicy policy_;
  std::unique_ptr<SegmentWriter> segments_;
  State state_ = State::kOpen;
  absl::Status status_;
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_RUN_WRITER_H_
