#include "storage/segment.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "storage/checksum.h"
#include "storage/coding.h"
#include "storage/format.h"

namespace runlog::storage {

std::string SegmentFileName(uint32_t number) {
  return absl::StrFormat("%0*u%s", static_cast<int>(format::kSegmentNameDigits),
                         number, format::kSegmentSuffix);
}

std::optional<uint32_t> ParseSegmentFileName(absl::string_view name) {
  if (!absl::ConsumeSuffix(&name, format::kSegmentSuffix)) return std::nullopt;
  if (name.size() < format::kSegmentNameDigits || name.size() > 10) {
    return std::nullopt;
  }
  for (char c : name) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  uint32_t number = 0;
  if (!absl::SimpleAtoi(name, &number) || number == 0) return std::nullopt;
  // Exactly one spelling per number, so two directory entries can never name
  // the same segment ("0000001.seg" next to "000001.seg").
  if (name.size() > format::kSegmentNameDigits && name.front() == '0') {
    return std::nullopt;
  }
  return number;
}

std::string EncodeSegmentHeader(absl::string_view run_id, uint32_t number) {
  std::string header(format::kSegmentHeaderSize, '\0');
  char* p = header.data();
  std::memcpy(p, format::kSegmentMagic, 8);
  EncodeFixed16(p + 8, format::kSegmentFormatVersion);
  EncodeFixed16(p + 10, static_cast<uint16_t>(format::kSegmentHeaderSize));
  EncodeFixed32(p + 12, number);
  p[16] = static_cast<char>(run_id.size());
  std::memcpy(p + 17, run_id.data(), run_id.size());
  EncodeFixed64(
      p + format::kSegmentHeaderChecksumOffset,
      Checksum64(absl::string_view(p, format::kSegmentHeaderChecksumOffset)));
  return header;
}

uint64_t ChunkChecksum(const char* header, absl::string_view payload) {
  return Checksum64(payload,
                    DecodeFixed64(header + format::kChunkChecksumSize));
}

void EncodeChunkHeader(uint8_t type, absl::string_view payload, char* dst) {
  EncodeFixed32(dst + 8, static_cast<uint32_t>(payload.size()));
  dst[12] = static_cast<char>(type);
  dst[13] = dst[14] = dst[15] = 0;
  EncodeFixed64(dst, ChunkChecksum(dst, payload));
}

}  // namespace runlog::storage
