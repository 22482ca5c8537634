#include "interop/tensorboard/tfrecord_reader.h"

#include "absl/strings/str_cat.h"
#include "interop/tensorboard/crc32c.h"
#include "storage/coding.h"

namespace runlog::interop {
namespace {

constexpr size_t kHeader = 12;  // length + its CRC
constexpr size_t kFooter = 4;   // data CRC
// TensorFlow never writes a record near this size; a sound length beyond it
// is damage (or hostile), not a writer stopped mid-record.
constexpr uint64_t kMaxPlausibleLength = uint64_t{1} << 40;

bool LengthSound(absl::string_view bytes, size_t pos) {
  return storage::DecodeFixed32(bytes.data() + pos + 8) ==
         MaskedCrc32c(bytes.substr(pos, 8));
}

}  // namespace

absl::Status ScanTFRecords(
    absl::string_view bytes, absl::string_view file, bool skip_damaged,
    const std::function<absl::Status(absl::string_view, uint64_t)>& on_record,
    TFRecordScan* scan) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t left = bytes.size() - pos;
    if (left < kHeader) {
      scan->torn_at = pos;
      return absl::OkStatus();
    }
    if (!LengthSound(bytes, pos)) {
      if (!skip_damaged) {
        return absl::DataLossError(absl::StrCat(
            file, ": offset ", pos, ": record length CRC mismatch"));
      }
      // Resynchronise on the next offset whose length CRC holds.
      size_t next = pos + 1;
      while (next + kHeader <= bytes.size() && !LengthSound(bytes, next)) {
        ++next;
      }
      scan->damage.push_back(absl::StrCat("offset ", pos, ": ", next - pos,
                                          " bytes with a bad length CRC"));
      if (next + kHeader > bytes.size()) return absl::OkStatus();
      pos = next;
      continue;
    }
    const uint64_t length = storage::DecodeFixed64(bytes.data() + pos);
    if (length > kMaxPlausibleLength) {
      if (!skip_damaged) {
        return absl::DataLossError(absl::StrCat(
            file, ": offset ", pos, ": implausible record length ", length));
      }
      scan->damage.push_back(absl::StrCat("offset ", pos,
                                          ": implausible record length ",
                                          length, "; the rest is skipped"));
      return absl::OkStatus();
    }
    if (length > left - kHeader || left - kHeader - length < kFooter) {
      // A sound length that runs past the end: the writer stopped here.
      scan->torn_at = pos;
      return absl::OkStatus();
    }
    const absl::string_view data = bytes.substr(pos + kHeader, length);
    const uint32_t stored =
        storage::DecodeFixed32(bytes.data() + pos + kHeader + length);
    if (stored != MaskedCrc32c(data)) {
      if (!skip_damaged) {
        return absl::DataLossError(absl::StrCat(file, ": offset ", pos,
                                                ": record data CRC mismatch (",
                                                length, " bytes)"));
      }
      scan->damage.push_back(absl::StrCat("offset ", pos, ": record of ",
                                          length, " bytes with a bad CRC"));
    } else {
      ++scan->records;
      absl::Status s = on_record(data, pos);
      if (!s.ok()) return s;
    }
    pos += kHeader + length + kFooter;
  }
  return absl::OkStatus();
}

void AppendTFRecord(absl::string_view data, std::string* out) {
  char head[kHeader];
  storage::EncodeFixed64(head, data.size());
  storage::EncodeFixed32(head + 8, MaskedCrc32c(absl::string_view(head, 8)));
  out->append(head, kHeader);
  out->append(data.data(), data.size());
  char foot[kFooter];
  storage::EncodeFixed32(foot, MaskedCrc32c(data));
  out->append(foot, kFooter);
}

}  // namespace runlog::interop
