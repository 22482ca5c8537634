// Column files: the compacted form of a committed run (invariant 8). One
// file "NNNNNN.col" holds blocks (chunks whose payload and type belong to the
// tracking layer) and a footer that indexes them, so a reader fetches only
// the blocks it needs. Byte layout: format.h and docs/format.md.
//
// Thread-safety: none; each object is used by one thread.
#ifndef RUNLOG_STORAGE_COLUMN_FILE_H_
#define RUNLOG_STORAGE_COLUMN_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/checksum.h"
#include "storage/file_system.h"
#include "storage/segment.h"

namespace runlog::storage {

// Where a block lives: the file offset of its chunk header and its payload
// length (the chunk occupies format::kChunkHeaderSize + length bytes).
struct BlockHandle {
  uint64_t offset = 0;
  uint32_t length = 0;
};

class ColumnFileWriter {
 public:
  // Creates `dir`/ColumnFileName(number) (AlreadyExists if present) and
  // buffers its header. InvalidArgument for a bad run id or number 0.
  static absl::StatusOr<std::unique_ptr<ColumnFileWriter>> Create(
      FileSystem* fs, const std::string& dir, absl::string_view run_id,
      uint32_t number);

  ColumnFileWriter(const ColumnFileWriter&) = delete;
  ColumnFileWriter& operator=(const ColumnFileWriter&) = delete;
  // Closes the file if Finish() was not called; the partial file stays for
  // the caller (or recovery) to remove.
  ~ColumnFileWriter();

  // Appends one block of `type` (any type but format::kChunkFooter).
  // InvalidArgument, without poisoning, for a payload over
  // format::kMaxChunkPayload; the first I/O error poisons the writer.
  absl::StatusOr<BlockHandle> AddBlock(uint8_t type, absl::string_view payload);

  // Appends the footer chunk and the trailer, flushes, fsyncs if `sync`, and
  // closes. Returns the manifest entry (kind kColumn) describing the file.
  absl::StatusOr<SegmentInfo> Finish(absl::string_view footer, bool sync);

  const std::string& path() const { return path_; }

 private:
  ColumnFileWriter(std::unique_ptr<WritableFile> file, std::string path,
                   uint32_t number);
  absl::Status Write(absl::string_view bytes);
  absl::Status Poison(absl::Status s);

  std::unique_ptr<WritableFile> file_;
  std::string path_;
  uint32_t number_;
  uint64_t length_ = 0;
  std::string buffer_;
  StreamingChecksum checksum_;
  absl::Status status_;
  bool finished_ = false;
};

class ColumnFileReader {
 public:
  // Opens the column file named by `info` in `dir` and checks, in order:
  // its size against info.length, the header (magic, number, `run_id`), the
  // trailer, and the footer chunk's checksum and position. NotFound if the
  // file is missing; DataLoss naming the path and byte offset otherwise.
  // The whole-file checksum is checked by VerifyWholeFile(), not here, so an
  // open touches only the header, trailer and footer.
  static absl::StatusOr<std::unique_ptr<ColumnFileReader>> Open(
      FileSystem* fs, const std::string& dir, absl::string_view run_id,
      const SegmentInfo& info);

  ColumnFileReader(const ColumnFileReader&) = delete;
  ColumnFileReader& operator=(const ColumnFileReader&) = delete;

  const std::string& path() const { return path_; }
  // The footer payload; valid while the reader lives.
  absl::string_view footer() const { return footer_; }

  // Reads the block at `handle` and checks its chunk header and checksum;
  // returns its payload, a view of `scratch`. DataLoss naming the path and
  // offset if the handle points outside the blocks or the bytes are damaged.
  absl::StatusOr<absl::string_view> ReadBlock(const BlockHandle& handle,
                                              uint8_t* type,
                                              std::string* scratch) const;

  // Reads the whole file and compares its XXH3-64 with the manifest's.
  // DataLoss naming the path on mismatch.
  absl::Status VerifyWholeFile(const SegmentInfo& info) const;

 private:
  ColumnFileReader(std::unique_ptr<RandomAccessFile> file, std::string path,
                   uint64_t blocks_end);

  std::unique_ptr<RandomAccessFile> file_;
  std::string path_;
  uint64_t blocks_end_;  // offset of the footer chunk
  std::string footer_chunk_;
  absl::string_view footer_;
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_COLUMN_FILE_H_
