// Helpers shared by the fuzz targets: where a fuzzed file claims to belong.
//
// Segment and column files carry their run id and number in the 64-byte
// header (storage/format.h). A target that opens fuzzed bytes as a file takes
// both from the bytes themselves, so that one corpus file holds everything a
// target needs and mutations of the header still reach the header checks
// (a mutated id length or number is then a mismatch the reader must report).
#ifndef RUNLOG_TESTS_FUZZ_FUZZ_INPUT_H_
#define RUNLOG_TESTS_FUZZ_FUZZ_INPUT_H_

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/checksum.h"
#include "storage/coding.h"
#include "storage/format.h"
#include "storage/segment.h"

namespace runlog::fuzz {

// The run id the header of `file` names, or "fuzzrun" when the file is too
// short to have one. Never longer than format::kMaxRunIdLength.
inline std::string HeaderRunId(absl::string_view file) {
  constexpr size_t kIdLengthOffset = 16;
  constexpr size_t kIdOffset = 17;
  if (file.size() < storage::format::kSegmentHeaderSize) return "fuzzrun";
  size_t n = std::min<size_t>(static_cast<uint8_t>(file[kIdLengthOffset]),
                              storage::format::kMaxRunIdLength);
  return std::string(file.substr(kIdOffset, n));
}

// The file number the header of `file` names, or 1 when it is absent or 0
// (no file may be numbered 0).
inline uint32_t HeaderNumber(absl::string_view file) {
  constexpr size_t kNumberOffset = 12;
  if (file.size() < storage::format::kSegmentHeaderSize) return 1;
  uint32_t n = storage::DecodeFixed32(file.data() + kNumberOffset);
  return n == 0 ? 1 : n;
}

// Checksums stop almost every mutation at the first check, so the targets
// also run each input with its checksums made right again: this one
// recomputes the 64-byte file header's and, walking the chunks from the end
// of the header, every chunk's whose declared length fits the file (for a
// segment, its chunks; for a column file, its blocks and footer).
inline std::string WithChunkChecksumsFixed(absl::string_view file) {
  std::string out(file);
  constexpr size_t kHeader = storage::format::kSegmentHeaderSize;
  if (out.size() < kHeader) return out;
  constexpr size_t kAt = storage::format::kSegmentHeaderChecksumOffset;
  storage::EncodeFixed64(
      out.data() + kAt,
      storage::Checksum64(absl::string_view(out).substr(0, kAt)));
  size_t pos = kHeader;
  while (out.size() - pos >= storage::format::kChunkHeaderSize) {
    const uint32_t length = storage::DecodeFixed32(out.data() + pos + 8);
    const size_t body = pos + storage::format::kChunkHeaderSize;
    if (length > out.size() - body) break;
    storage::EncodeFixed64(
        out.data() + pos,
        storage::ChunkChecksum(out.data() + pos,
                               absl::string_view(out).substr(body, length)));
    pos = body + length;
  }
  return out;
}

// The same for a file whose last 8 bytes are the XXH3-64 of the rest
// (COMMIT).
inline std::string WithTrailingChecksumFixed(absl::string_view file) {
  std::string out(file);
  if (out.size() < 8) return out;
  const size_t at = out.size() - 8;
  storage::EncodeFixed64(
      out.data() + at,
      storage::Checksum64(absl::string_view(out).substr(0, at)));
  return out;
}

// Damaged bytes must come back as DataLoss (or Unimplemented, for bytes a
// newer version could have written); any other code means a reader
// misclassified damage, which the fuzzer reports like a crash.
inline void CheckBadBytesStatus(const absl::Status& s, const char* what) {
  if (s.ok() || absl::IsDataLoss(s) || absl::IsUnimplemented(s)) return;
  std::fprintf(stderr, "%s: unexpected status for damaged bytes: %s\n", what,
               s.ToString().c_str());
  std::abort();
}

}  // namespace runlog::fuzz

#endif  // RUNLOG_TESTS_FUZZ_FUZZ_INPUT_H_
