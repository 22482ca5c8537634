// Iterates the chunks of one segment file (format.h, docs/format.md).
//
// The tail policy says what a damaged end means:
//   kTornTailIsEnd  - the run is live or crashed (uncommitted): the first
//                     incomplete or damaged chunk is the end of data, never an
//                     error (a writer may be mid-append, or died mid-append).
//                     A file shorter than the segment header, or whose header
//                     is all zero bytes (size extended, data lost in a power
//                     failure), has no chunks. A present header must be
//                     valid, though: a wrong magic, checksum, run id or
//                     segment number is DataLoss at offset 0.
//   kExactManifest  - the run is committed: the file must match its manifest
//                     entry (length and whole-file checksum) and parse exactly
//                     to its end; any mismatch is DataLoss naming the file and
//                     byte offset.
// A chunk is damaged when its header or payload runs past the end of the
// file, its declared length exceeds format::kMaxChunkPayload (rejected before
// any allocation), its checksum does not match, or its reserved bytes are not
// zero.
// Chunks of an unknown type with the ignorable bit are skipped; an unknown
// type without it stops the read with Unimplemented (a newer writer made it),
// under both policies. A header with a newer format version is Unimplemented.
// After an error Next() keeps returning that error.
//
// The reader holds a window of the file, not the file: it reads ahead in
// pieces of kReadAhead bytes and keeps at most that plus the chunk being
// returned, so reading a segment takes about 1 MiB whatever its size. A
// returned payload view is valid until the next call of Next() (or the
// reader's destruction). The file is read up to the size it had at Open().
// Thread-safety: none.
#ifndef RUNLOG_STORAGE_SEGMENT_READER_H_
#define RUNLOG_STORAGE_SEGMENT_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/file_system.h"
#include "storage/segment.h"

namespace runlog::storage {

enum class TailPolicy { kTornTailIsEnd, kExactManifest };

// Segment files larger than this are rejected before reading.
inline constexpr uint64_t kMaxSegmentFileSize = uint64_t{1} << 30;

class SegmentReader {
 public:
  // Opens `path` (a segment named SegmentFileName(n)) and checks its header:
  // magic, version, header checksum, run id == `run_id`, and segment number ==
  // n. With kExactManifest, `expected` is required and the length and
  // whole-file checksum are checked here, before any chunk is returned (the
  // file is read twice: once for the checksum, once for the chunks).
  // Errors: NotFound if missing; InvalidArgument if the file name is not a
  // segment name, `run_id` is too long, or `expected` is missing or names
  // another segment; DataLoss naming path and offset (also for a file over
  // kMaxSegmentFileSize); Unimplemented for a newer format version.
  static absl::StatusOr<std::unique_ptr<SegmentReader>> Open(
      FileSystem* fs, const std::string& path, absl::string_view run_id,
      TailPolicy policy, std::optional<SegmentInfo> expected = std::nullopt);

  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  // Returns true and fills `chunk` (its payload valid until the next call),
  // or false at the end of data. A read that fails is that error (the
  // file's path in it), sticky as the others.
  absl::StatusOr<bool> Next(Chunk* chunk);

  // Bytes read from the file per read call (more for a larger chunk).
  static constexpr size_t kReadAhead = size_t{1} << 20;

  // With kTornTailIsEnd: bytes after the last good chunk that were ignored
  // (0 for a clean end). Valid once Next() returned false.
  uint64_t ignored_tail_bytes() const { return ignored_tail_bytes_; }
  // With kTornTailIsEnd, once Next() returned false: OK when the ignored
  // tail can be a torn write (a chunk running past the end of the file, or
  // nothing but zero bytes, as a power loss leaves); otherwise DataLoss
  // naming the file and the offset of the first chunk that fails its checks
  // although the file holds all of it. A writer appends whole chunks, so
  // such a chunk is damage, not where the writer stopped.
  const absl::Status& tail_damage() const { return tail_damage_; }
  // Offset just past the last good chunk returned so far.
  uint64_t valid_length() const { return pos_; }
  // Bytes the reader holds now (its window of the file).
  size_t buffered_bytes() const { return window_.size(); }
  uint32_t segment_number() const { return number_; }
  const std::string& path() const { return path_; }

 private:
  SegmentReader(std::string path, std::unique_ptr<RandomAccessFile> file,
                uint64_t size, TailPolicy policy, uint32_t number);
  // Makes the window hold the file's bytes [pos_, min(end, size_)): drops
  // what lies before pos_ and reads at least kReadAhead bytes more.
  absl::Status Fill(uint64_t end);
  // The window's bytes from file offset `offset` (>= window_base_) on.
  absl::string_view From(uint64_t offset) const {
    return absl::string_view(window_).substr(offset - window_base_);
  }
  // Validates the 64-byte header; sets done_ for a torn or zeroed header
  // under kTornTailIsEnd.
  absl::Status CheckHeader(absl::string_view run_id);
  // Brings the whole chunk at pos_ into the window (as much of it as the
  // file holds) and parses it: OK with it in `chunk`, the reason it is
  // damaged (DataLoss naming path and offset), or a read error (`io`).
  absl::Status ParseChunk(Chunk* chunk, absl::Status* io);
  // Whether the bytes from pos_ on, which fail to parse, can be a torn
  // append rather than damage (see tail_damage()). The window must hold
  // the rest of the file.
  bool LooksTorn() const;
  // Ends the data at pos_ (kTornTailIsEnd) or fails with `damage`.
  absl::StatusOr<bool> EndAt(absl::Status damage);

  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t size_;       // the file's size at Open()
  std::string window_;  // the file's bytes from window_base_ on
  uint64_t window_base_ = 0;
  TailPolicy policy_;
  uint32_t number_;
  uint64_t pos_;
  uint64_t ignored_tail_bytes_ = 0;
  bool done_ = false;
  absl::Status error_;  // sticky: returned by every Next() after it
  absl::Status tail_damage_;
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_SEGMENT_READER_H_
