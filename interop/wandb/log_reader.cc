#include "interop/wandb/log_reader.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"
#include "storage/coding.h"

namespace runlog::interop {
namespace {

constexpr char kIdent[] = ":W&B";
constexpr uint16_t kMagic = 0xBEE1;
constexpr uint8_t kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4;

uint32_t RecordCrc(uint8_t type, absl::string_view data) {
  uLong crc = crc32(0L, &type, 1);
  // zlib takes lengths as uInt; a record is at most one block.
  crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data()),
              static_cast<uInt>(data.size()));
  return static_cast<uint32_t>(crc);
}

}  // namespace

absl::Status ScanWandbLog(
    absl::string_view bytes, absl::string_view file, bool skip_damaged,
    const std::function<absl::Status(absl::string_view, uint64_t)>& on_record,
    WandbLogScan* scan) {
  if (bytes.size() < kWandbHeaderSize || bytes.substr(0, 4) != kIdent ||
      storage::DecodeFixed16(bytes.data() + 4) != kMagic ||
      static_cast<uint8_t>(bytes[6]) > 1) {
    return absl::DataLossError(
        absl::StrCat(file, ": offset 0: not a W&B run file (bad header)"));
  }
  size_t pos = kWandbHeaderSize;
  std::string joined;
  bool in_fragments = false;
  uint64_t record_start = 0;
  // Damage: an error, or (skip_damaged) a skip to the next block.
  auto damaged = [&](size_t at, absl::string_view what) -> absl::Status {
    if (!skip_damaged) {
      return absl::DataLossError(
          absl::StrCat(file, ": offset ", at, ": ", what));
    }
    const size_t next = (at / kWandbBlockSize + 1) * kWandbBlockSize;
    scan->damage.push_back(
        absl::StrCat("offset ", at, ": ", what, "; skipped to offset ", next));
    pos = next;
    in_fragments = false;
    joined.clear();
    return absl::OkStatus();
  };
  while (pos < bytes.size()) {
    const size_t left_in_block = kWandbBlockSize - pos % kWandbBlockSize;
    if (left_in_block < kWandbHeaderSize) {
      pos += left_in_block;  // padding
      continue;
    }
    if (bytes.size() - pos < kWandbHeaderSize) {
      scan->torn_at = in_fragments ? record_start : pos;
      return absl::OkStatus();
    }
    const uint32_t crc = storage::DecodeFixed32(bytes.data() + pos);
    const uint16_t length = storage::DecodeFixed16(bytes.data() + pos + 4);
    const uint8_t type = static_cast<uint8_t>(bytes[pos + 6]);
    if (type == 0 && length == 0 && crc == 0) {
      // Zeros the writer preallocated or padded with: the rest of the block
      // holds nothing.
      pos += left_in_block;
      continue;
    }
    if (kWandbHeaderSize + length > left_in_block) {
      absl::Status s = damaged(pos, "record crosses its block");
      if (!s.ok()) return s;
      continue;
    }
    if (bytes.size() - pos - kWandbHeaderSize < length) {
      scan->torn_at = in_fragments ? record_start : pos;
      return absl::OkStatus();
    }
    const absl::string_view data = bytes.substr(pos + kWandbHeaderSize, length);
    if (type < kFull || type > kLast || RecordCrc(type, data) != crc) {
      absl::Status s = damaged(pos, type < kFull || type > kLast
                                        ? "record of an unknown type"
                                        : "record CRC mismatch");
      if (!s.ok()) return s;
      continue;
    }
    const size_t here = pos;
    pos += kWandbHeaderSize + length;
    if (type == kFull || type == kFirst) {
      if (in_fragments) {
        absl::Status s = damaged(here, "a record starts inside another");
        if (!s.ok()) return s;
        continue;
      }
      if (type == kFull) {
        ++scan->records;
        absl::Status s = on_record(data, here);
        if (!s.ok()) return s;
        continue;
      }
      in_fragments = true;
      record_start = here;
      joined.assign(data.data(), data.size());
      continue;
    }
    if (!in_fragments) {
      absl::Status s = damaged(here, "a record continues none");
      if (!s.ok()) return s;
      continue;
    }
    joined.append(data.data(), data.size());
    if (type == kLast) {
      in_fragments = false;
      ++scan->records;
      absl::Status s = on_record(joined, record_start);
      if (!s.ok()) return s;
    }
  }
  if (in_fragments) scan->torn_at = record_start;
  return absl::OkStatus();
}

WandbLogWriter::WandbLogWriter(std::string* out) : out_(out) {
  out_->append(kIdent, 4);
  storage::PutFixed16(out_, kMagic);
  out_->push_back('\0');
}

void WandbLogWriter::Add(absl::string_view record) {
  bool first = true;
  do {
    size_t left = kWandbBlockSize - out_->size() % kWandbBlockSize;
    if (left < kWandbHeaderSize) {
      out_->append(left, '\0');
      left = kWandbBlockSize;
    }
    const size_t room = left - kWandbHeaderSize;
    const size_t n = std::min(room, record.size());
    const bool last = n == record.size();
    const uint8_t type = first && last ? kFull
                         : first       ? kFirst
                         : last        ? kLast
                                       : kMiddle;
    const absl::string_view data = record.substr(0, n);
    storage::PutFixed32(out_, RecordCrc(type, data));
    storage::PutFixed16(out_, static_cast<uint16_t>(n));
    out_->push_back(static_cast<char>(type));
    out_->append(data.data(), data.size());
    record.remove_prefix(n);
    first = false;
  } while (!record.empty());
}

}  // namespace runlog::interop
