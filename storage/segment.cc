#include "storage/segment.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

std::string ColumnFileName(uint32_t number) {
  return absl::StrFormat("%0*u%s", static_cast<int>(format::kSegmentNameDigits),
                         number, format::kColumnFileSuffix);
}

std::string FileNameOf(const SegmentInfo& info) {
  return info.kind == format::SegmentKind::kColumn
             ? ColumnFileName(info.number)
             : SegmentFileName(info.number);
}

namespace {

std::optional<uint32_t> ParseNumberedName(absl::string_view name,
                                          absl::string_view suffix) {
  if (!absl::ConsumeSuffix(&name, suffix)) return std::nullopt;
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

}  // namespace

std::optional<uint32_t> ParseSegmentFileName(absl::string_view name) {
  return ParseNumberedName(name, format::kSegmentSuffix);
}

std::optional<uint32_t> ParseColumnFileName(absl::string_view name) {
  return ParseNumberedName(name, format::kColumnFileSuffix);
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

namespace {

std::string Hex64(uint64_t v) { return absl::StrFormat("0x%016x", v); }

bool AllZero(absl::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(),
                     [](char c) { return c == '\0'; });
}

}  // namespace

absl::Status CheckFileHeader(absl::string_view data, absl::string_view magic,
                             absl::string_view run_id, uint32_t number,
                             absl::string_view path) {
  auto damage = [&](absl::string_view what) {
    return absl::DataLossError(
        absl::StrCat(path, ": file header at offset 0: ", what));
  };
  if (data.size() < format::kSegmentHeaderSize) {
    return damage(absl::StrCat("truncated, ", data.size(), " of ",
                               format::kSegmentHeaderSize, " bytes"));
  }
  const char* h = data.data();
  if (absl::string_view(h, 8) != magic) return damage("bad magic");
  const uint16_t version = DecodeFixed16(h + 8);
  // Checked before the header checksum: a newer version may lay the header
  // out differently, so its checksum need not be where ours is.
  if (version > format::kSegmentFormatVersion) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": file header at offset 0: format version ",
                     version, " is newer than the supported version ",
                     format::kSegmentFormatVersion));
  }
  const uint64_t stored =
      DecodeFixed64(h + format::kSegmentHeaderChecksumOffset);
  const uint64_t actual =
      Checksum64(absl::string_view(h, format::kSegmentHeaderChecksumOffset));
  if (stored != actual) {
    return damage(absl::StrCat("checksum mismatch: stored ", Hex64(stored),
                               ", computed ", Hex64(actual)));
  }
  if (version == 0) return damage("format version 0");
  const uint16_t header_length = DecodeFixed16(h + 10);
  if (header_length != format::kSegmentHeaderSize) {
    return damage(absl::StrCat("header length ", header_length, ", want ",
                               format::kSegmentHeaderSize));
  }
  const uint32_t stored_number = DecodeFixed32(h + 12);
  if (stored_number != number) {
    return damage(
        absl::StrCat("number ", stored_number, ", file name says ", number));
  }
  const size_t id_length = static_cast<unsigned char>(h[16]);
  if (id_length == 0 || id_length > format::kMaxRunIdLength) {
    return damage(absl::StrCat("run id length ", id_length));
  }
  const absl::string_view stored_id(h + 17, id_length);
  if (!AllZero(absl::string_view(h + 17 + id_length,
                                 format::kMaxRunIdLength - id_length)) ||
      !AllZero(absl::string_view(h + 17 + format::kMaxRunIdLength, 7))) {
    return damage("nonzero padding or reserved bytes");
  }
  if (stored_id != run_id) {
    return damage(absl::StrCat("run id \"", absl::CEscape(stored_id),
                               "\", expected \"", absl::CEscape(run_id), "\""));
  }
  return absl::OkStatus();
}

absl::Status ParseChunkAt(absl::string_view data, size_t offset, uint64_t base,
                          absl::string_view path, Chunk* chunk) {
  const uint64_t at = base + offset;
  auto damage = [&](absl::string_view what) {
    return absl::DataLossError(
        absl::StrCat(path, ": chunk at offset ", at, ": ", what));
  };
  const uint64_t left = offset <= data.size() ? data.size() - offset : 0;
  if (left < format::kChunkHeaderSize) {
    return damage(absl::StrCat("truncated header, ", left, " of ",
                               format::kChunkHeaderSize, " bytes"));
  }
  const char* h = data.data() + offset;
  const uint32_t length = DecodeFixed32(h + 8);
  // Before anything is sized from it: a flipped high bit must not make us
  // hash (or, for a streaming reader, allocate) gigabytes.
  if (length > format::kMaxChunkPayload) {
    return damage(absl::StrCat("declared length ", length,
                               " exceeds the limit of ",
                               format::kMaxChunkPayload));
  }
  if (length > left - format::kChunkHeaderSize) {
    return damage(absl::StrCat(
        "payload of ", length, " bytes runs past the end of the file by ",
        length - (left - format::kChunkHeaderSize), " bytes"));
  }
  const absl::string_view payload(h + format::kChunkHeaderSize, length);
  const uint64_t stored = DecodeFixed64(h);
  const uint64_t actual = ChunkChecksum(h, payload);
  if (stored != actual) {
    return damage(absl::StrCat("checksum mismatch: stored ", Hex64(stored),
                               ", computed ", Hex64(actual)));
  }
  if (!AllZero(absl::string_view(h + 13, 3))) {
    return damage("nonzero reserved bytes");
  }
  chunk->type = static_cast<uint8_t>(h[12]);
  chunk->payload = payload;
  chunk->offset = at;
  return absl::OkStatus();
}

std::string EncodeFileHeader(absl::string_view magic, absl::string_view run_id,
                             uint32_t number) {
  std::string header = EncodeSegmentHeader(run_id, number);
  std::memcpy(header.data(), magic.data(), 8);
  EncodeFixed64(header.data() + format::kSegmentHeaderChecksumOffset,
                Checksum64(absl::string_view(
                    header.data(), format::kSegmentHeaderChecksumOffset)));
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
