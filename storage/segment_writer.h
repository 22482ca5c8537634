// Appends framed chunks to a run's segment files (format.h, docs/format.md).
//
// Durability is explicit: AppendChunk() buffers in memory (writing to the OS
// only when the buffer fills), Flush() hands everything buffered to the OS,
// Sync() makes everything appended so far durable (with `sync_on_roll`; see
// Sync() for what holds without it). The writer rolls to a new
// segment (next number) before a chunk would take the current one past
// `roll_size`; the new file is created only when a chunk goes into it, so
// there is never an empty trailing segment. A rolled-away segment is flushed,
// fsynced when `sync_on_roll` is set, and closed.
//
// A failed write, fsync, create or close poisons the writer: that call and
// every later one return the first error, and a failed fsync is never retried
// (after a failed fsync the page cache may have dropped the data).
//
// Ownership: the writer owns its open file; `fs` must outlive it.
// Thread-safety: none; one writer per run, used from one thread at a time.
#ifndef RUNLOG_STORAGE_SEGMENT_WRITER_H_
#define RUNLOG_STORAGE_SEGMENT_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/checksum.h"
#include "storage/file_system.h"
#include "storage/segment.h"

namespace runlog::storage {

struct SegmentWriterOptions {
  // Start a new segment before a chunk would take the current file past this
  // many bytes (a single larger chunk gets a segment of its own).
  uint64_t roll_size = 16u << 20;
  // Bytes held in memory before AppendChunk() writes them to the OS.
  size_t buffer_size = 256u << 10;
  // fsync a segment when rolling away from it. Off only for the never-fsync
  // sync policy.
  bool sync_on_roll = true;
  // Number of the first segment to create.
  uint32_t first_segment_number = 1;
};

class SegmentWriter {
 public:
  // Creates segment `first_segment_number` in `run_dir` (which must exist) and
  // writes its header. The header is buffered like any chunk.
  // InvalidArgument for a run id that is not [0-9a-z]{1,32}, segment number 0,
  // or a roll_size over kMaxSegmentFileSize (segment_reader.h) that readers
  // would refuse; AlreadyExists if the segment file exists.
  static absl::StatusOr<std::unique_ptr<SegmentWriter>> Create(
      FileSystem* fs, std::string run_dir, std::string run_id,
      SegmentWriterOptions options);

  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;
  // Closes without flushing: buffered bytes are dropped. Call Flush() or
  // Finish() first to keep them.
  ~SegmentWriter();

  // Frames `payload` as one chunk of `type` (any type; readers skip or reject
  // unknown ones, see segment_reader.h). InvalidArgument, without poisoning,
  // if the payload is over format::kMaxChunkPayload. With `may_roll` false
  // the chunk goes into the current segment whatever the roll size (the
  // commit record must follow the bytes it describes).
  absl::Status AppendChunk(uint8_t type, absl::string_view payload,
                           bool may_roll = true);
  // Writes buffered bytes to the OS (readers of the live run see them).
  absl::Status Flush();
  // Flush(), then fsync the current segment if anything was appended since
  // its last fsync. Earlier segments were fsynced when the writer rolled away
  // from them if `sync_on_roll` was set; without it they were closed unsynced
  // and stay so (the never-fsync policy), as a closed file cannot be synced.
  absl::Status Sync();
  // Flush(), Sync() if `sync`, and close. After Finish() only segments() and
  // status() may be called; other calls return FailedPrecondition (or the
  // poisoning error).
  absl::Status Finish(bool sync);

  // Every segment created so far, with the length and checksum of all bytes
  // appended (buffered bytes included).
  const std::vector<SegmentInfo>& segments() const;
  // OK, or the first error that poisoned the writer.
  const absl::Status& status() const { return status_; }
  uint64_t buffered_bytes() const { return buffer_.size(); }

 private:
  SegmentWriter(FileSystem* fs, std::string run_dir, std::string run_id,
                SegmentWriterOptions options);
  absl::Status CheckUsable() const;
  absl::Status OpenSegment(uint32_t number);
  absl::Status Roll();
  absl::Status WriteBuffer();
  absl::Status Poison(absl::Status s);
  void AddToCurrent(absl::string_view bytes);
  void RefreshChecksum() const;

  FileSystem* fs_;
  std::string run_dir_;
  std::string run_id_;
  SegmentWriterOptions options_;
  std::unique_ptr<WritableFile> file_;
  std::string buffer_;
  StreamingChecksum file_checksum_;
  // back() is the current file. Its checksum is brought up to date from
  // file_checksum_ only when needed (segments(), rolling), so appends do not
  // pay a digest each; hence mutable.
  mutable std::vector<SegmentInfo> segments_;
  mutable bool checksum_stale_ = false;
  bool current_synced_ = false;  // current file has no bytes since last fsync
  bool finished_ = false;
  absl::Status status_;
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_SEGMENT_WRITER_H_
