// Segment naming, the description of one finished or in-progress segment, and
// the byte-level framing (segment header, chunk header) shared by the segment
// writer, reader, the commit manifest and tests. Layout: format.h and
// docs/format.md.
#ifndef RUNLOG_STORAGE_SEGMENT_H_
#define RUNLOG_STORAGE_SEGMENT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace runlog::storage {

struct SegmentInfo {
  uint32_t number = 0;    // 1, 2, ... ; file name SegmentFileName(number)
  uint64_t length = 0;    // exact file length in bytes
  uint64_t checksum = 0;  // XXH3-64 of the whole file
  friend bool operator==(const SegmentInfo& a, const SegmentInfo& b) {
    return a.number == b.number && a.length == b.length &&
           a.checksum == b.checksum;
  }
};

// "000001.seg" for 1. Numbers above 999999 get more digits.
std::string SegmentFileName(uint32_t number);
// Inverse of SegmentFileName; nullopt for any other name (including
// non-canonical spellings such as "0000001.seg", and number 0).
std::optional<uint32_t> ParseSegmentFileName(absl::string_view name);

// The 64-byte segment header for `run_id` (at most format::kMaxRunIdLength
// bytes; the caller validates it) and segment `number`.
std::string EncodeSegmentHeader(absl::string_view run_id, uint32_t number);

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
