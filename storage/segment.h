// Segment naming, the description of one finished or in-progress segment, and
// the byte-level framing (segment header, chunk header) shared by the segment
// writer, reader, the commit manifest and tests. Layout: format.h and
// docs/format.md.
#ifndef RUNLOG_STORAGE_SEGMENT_H_
#define RUNLOG_STORAGE_SEGMENT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/format.h"

namespace runlog::storage {

struct SegmentInfo {
  uint32_t number = 0;    // 1, 2, ... ; file name SegmentFileName(number)
  uint64_t length = 0;    // exact file length in bytes
  uint64_t checksum = 0;  // XXH3-64 of the whole file
  format::SegmentKind kind = format::SegmentKind::kLog;
  friend bool operator==(const SegmentInfo& a, const SegmentInfo& b) {
    return a.number == b.number && a.length == b.length &&
           a.checksum == b.checksum && a.kind == b.kind;
  }
};

// One chunk as read: a view into the reader's buffer.
struct Chunk {
  uint8_t type = 0;
  absl::string_view payload;
  uint64_t offset = 0;  // byte offset of the chunk header in the file
};

// "000001.seg" for 1. Numbers above 999999 get more digits.
std::string SegmentFileName(uint32_t number);
// "000007.col" for a column file (format::SegmentKind::kColumn).
std::string ColumnFileName(uint32_t number);
// The file name of a manifest entry, by its kind.
std::string FileNameOf(const SegmentInfo& info);
// Inverse of ColumnFileName, with the rules of ParseSegmentFileName.
std::optional<uint32_t> ParseColumnFileName(absl::string_view name);
// Inverse of SegmentFileName; nullopt for any other name (including
// non-canonical spellings such as "0000001.seg", and number 0).
std::optional<uint32_t> ParseSegmentFileName(absl::string_view name);

// The 64-byte segment header for `run_id` (at most format::kMaxRunIdLength
// bytes; the caller validates it) and segment `number`.
std::string EncodeSegmentHeader(absl::string_view run_id, uint32_t number);
// The same layout with another 8-byte magic (format::kColumnFileMagic).
std::string EncodeFileHeader(absl::string_view magic, absl::string_view run_id,
                             uint32_t number);

// Checks the 64-byte header at the start of `data` (a segment with
// format::kSegmentMagic, or a column file with format::kColumnFileMagic):
// magic, version, header checksum, header length, `number` and `run_id`.
// DataLoss naming `path` for damage; Unimplemented for a newer version.
absl::Status CheckFileHeader(absl::string_view data, absl::string_view magic,
                             absl::string_view run_id, uint32_t number,
                             absl::string_view path);

// Parses and checks the chunk whose header starts at `offset` of `data`
// (the whole file, or a window of it starting at file offset `base`).
// DataLoss naming `path` and the chunk's file offset for a truncated header,
// a declared length over format::kMaxChunkPayload (checked before anything
// is sized from it), a payload running past `data`, a checksum mismatch or
// nonzero reserved bytes. `chunk->payload` views `data`.
absl::Status ParseChunkAt(absl::string_view data, size_t offset, uint64_t base,
                          absl::string_view path, Chunk* chunk);

// Writes the 16-byte chunk header for `payload` of `type` to `dst`:
// checksum, length, type, zero reserved bytes. `payload` must be at most
// format::kMaxChunkPayload bytes.
void EncodeChunkHeader(uint8_t type, absl::string_view payload, char* dst);

// The checksum a chunk whose header is `header` (16 bytes) must carry for
// `payload`: XXH3-64 of the payload seeded with the little-endian u64 at
// header bytes [8,16).
uint64_t ChunkChecksum(const char* header, absl::string_view payload);

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_SEGMENT_H_
