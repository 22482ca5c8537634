#include "bench/peers/tensorboard_events.h"

#include <array>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/status_macros.h"

namespace runlog::bench {
namespace {

constexpr char kFileName[] = "events.out.tfevents.1700000000.bench";
constexpr size_t kBufferBytes = 64 << 10;
constexpr uint32_t kCastagnoli = 0x82f63b78;  // reflected polynomial

const std::array<uint32_t, 256>& CrcTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? kCastagnoli : 0);
      t[i] = c;
    }
    return t;
  }();
  return table;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(
    const unsigned char* p, size_t n, uint32_t crc) {
  uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = __builtin_ia32_crc32qi(c32, *p);
  return c32;
}
#endif

void PutFixed32(std::string* out, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);  // little-endian hosts only (x86-64, arm64)
  out->append(b, 4);
}

void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutDouble(std::string* out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  PutFixed64(out, bits);
}

// Protobuf wire types of the fields written here.
constexpr uint8_t kTagWallTime = (1 << 3) | 1;     // Event.wall_time, double
constexpr uint8_t kTagStep = (2 << 3) | 0;         // Event.step, int64
constexpr uint8_t kTagFileVersion = (3 << 3) | 2;  // Event.file_version
constexpr uint8_t kTagSummary = (5 << 3) | 2;      // Event.summary
constexpr uint8_t kTagValue = (1 << 3) | 2;        // Summary.value
constexpr uint8_t kTagValueTag = (1 << 3) | 2;     // Summary.Value.tag
constexpr uint8_t kTagSimpleValue = (2 << 3) | 5;  // Summary.Value, float

// A cursor over protobuf bytes; every read fails (returns false) past the
// end.
struct Reader {
  const unsigned char* p;
  const unsigned char* end;
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
      const unsigned char b = *p++;
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Bytes(size_t n, absl::string_view* out) {
    if (static_cast<size_t>(end - p) < n) return false;
    *out = absl::string_view(reinterpret_cast<const char*>(p), n);
    p += n;
    return true;
  }
  // Skips a field of wire type `type` (0, 1, 2 or 5).
  bool Skip(uint64_t type) {
    uint64_t n;
    absl::string_view ignored;
    switch (type) {
      case 0:
        return Varint(&n);
      case 1:
        return Bytes(8, &ignored);
      case 2:
        return Varint(&n) && Bytes(n, &ignored);
      case 5:
        return Bytes(4, &ignored);
      default:
        return false;
    }
  }
};

// Decodes a Summary.Value; true with `*matched` when its tag is `tag` and it
// has a simple_value.
bool DecodeValue(absl::string_view bytes, absl::string_view tag, bool* matched,
                 float* value) {
  Reader r{reinterpret_cast<const unsigned char*>(bytes.data()),
           reinterpret_cast<const unsigned char*>(bytes.data()) + bytes.size()};
  bool tag_ok = false, has_value = false;
  while (r.p < r.end) {
    uint64_t key;
    if (!r.Varint(&key)) return false;
    absl::string_view field;
    if (key == kTagValueTag) {
      uint64_t n;
      if (!r.Varint(&n) || !r.Bytes(n, &field)) return false;
      tag_ok = field == tag;
    } else if (key == kTagSimpleValue) {
      if (!r.Bytes(4, &field)) return false;
      std::memcpy(value, field.data(), 4);
      has_value = true;
    } else if (!r.Skip(key & 7)) {
      return false;
    }
  }
  *matched = tag_ok && has_value;
  return true;
}

// Decodes an Event, appending its scalar of `tag` (if any) to `out`.
bool DecodeEvent(absl::string_view bytes, absl::string_view tag,
                 SeriesPoints* out) {
  Reader r{reinterpret_cast<const unsigned char*>(bytes.data()),
           reinterpret_cast<const unsigned char*>(bytes.data()) + bytes.size()};
  uint64_t step = 0;
  while (r.p < r.end) {
    uint64_t key;
    if (!r.Varint(&key)) return false;
    if (key == kTagStep) {
      if (!r.Varint(&step)) return false;
    } else if (key == kTagSummary) {
      uint64_t n;
      absl::string_view summary;
      if (!r.Varint(&n) || !r.Bytes(n, &summary)) return false;
      Reader s{reinterpret_cast<const unsigned char*>(summary.data()),
               reinterpret_cast<const unsigned char*>(summary.data()) +
                   summary.size()};
      while (s.p < s.end) {
        uint64_t skey;
        if (!s.Varint(&skey)) return false;
        if (skey != kTagValue) {
          if (!s.Skip(skey & 7)) return false;
          continue;
        }
        absl::string_view value_bytes;
        if (!s.Varint(&n) || !s.Bytes(n, &value_bytes)) return false;
        bool matched = false;
        float value = 0;
        if (!DecodeValue(value_bytes, tag, &matched, &value)) return false;
        if (matched) {
          // The step field may follow the summary; fixed up below.
          out->steps.push_back(-1);
          out->values.push_back(static_cast<double>(value));
        }
      }
    } else if (!r.Skip(key & 7)) {
      return false;
    }
  }
  // Fields come in any order: give this event's points their step now.
  for (size_t i = out->steps.size(); i > 0 && out->steps[i - 1] == -1; --i) {
    out->steps[i - 1] = static_cast<int64_t>(step);
  }
  return true;
}

}  // namespace

uint32_t Crc32c(absl::string_view data, uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  crc = ~crc;
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return ~Crc32cHardware(p, n, crc);
#endif
  const std::array<uint32_t, 256>& table = CrcTable();
  for (; n > 0; --n, ++p) crc = table[(crc ^ *p) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t MaskCrc(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

absl::StatusOr<std::unique_ptr<TensorBoardEvents>> TensorBoardEvents::Open(
    std::string dir) {
  return std::unique_ptr<TensorBoardEvents>(
      new TensorBoardEvents(std::move(dir)));
}

void TensorBoardEvents::AppendRecord(absl::string_view data) {
  std::string header;
  PutFixed64(&header, data.size());
  buffer_.append(header);
  PutFixed32(&buffer_, MaskCrc(Crc32c(header)));
  buffer_.append(data.data(), data.size());
  PutFixed32(&buffer_, MaskCrc(Crc32c(data)));
}

absl::Status TensorBoardEvents::FlushBuffer() {
  if (buffer_.empty()) return absl::OkStatus();
  RUNLOG_RETURN_IF_ERROR(file_->Append(buffer_));
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status TensorBoardEvents::StartRun(const std::string& run_id,
                                         const std::vector<Param>& params) {
  (void)params;  // event files hold no params (hparams not modelled)
  if (file_ != nullptr) {
    return absl::FailedPreconditionError("a run is still open");
  }
  storage::FileSystem* fs = storage::FileSystem::Default();
  const std::string run_dir = storage::JoinPath(dir(), run_id);
  RUNLOG_RETURN_IF_ERROR(fs->CreateDir(run_dir));
  RUNLOG_ASSIGN_OR_RETURN(
      file_, fs->NewWritableFile(storage::JoinPath(run_dir, kFileName)));
  runs_.push_back(run_id);
  tags_.clear();
  event_.clear();
  event_.push_back(static_cast<char>(kTagWallTime));
  PutDouble(&event_, 1.7e9);
  event_.push_back(static_cast<char>(kTagFileVersion));
  PutVarint(&event_, 13);
  event_.append("brain.Event:2");
  AppendRecord(event_);
  return absl::OkStatus();
}

absl::StatusOr<int> TensorBoardEvents::Series(absl::string_view name) {
  for (size_t i = 0; i < tags_.size(); ++i) {
    if (tags_[i] == name) return static_cast<int>(i);
  }
  tags_.emplace_back(name);
  return static_cast<int>(tags_.size() - 1);
}

absl::Status TensorBoardEvents::WritePoint(int series, int64_t step,
                                           double value, double /*epoch*/,
                                           int64_t time_us) {
  const std::string& tag = tags_[static_cast<size_t>(series)];
  // Summary.Value {tag, simple_value}: its size fits one varint byte for
  // tags under 120 bytes, but encode the length properly anyway.
  const uint64_t value_size = 1 + 1 + tag.size() + 1 + 4;
  std::string value_len, summary_len;
  PutVarint(&value_len, value_size);
  const uint64_t summary_size = 1 + value_len.size() + value_size;
  PutVarint(&summary_len, summary_size);
  event_.clear();
  event_.push_back(static_cast<char>(kTagWallTime));
  PutDouble(&event_, static_cast<double>(time_us) * 1e-6);
  if (step != 0) {
    event_.push_back(static_cast<char>(kTagStep));
    PutVarint(&event_, static_cast<uint64_t>(step));
  }
  event_.push_back(static_cast<char>(kTagSummary));
  event_.append(summary_len);
  event_.push_back(static_cast<char>(kTagValue));
  event_.append(value_len);
  event_.push_back(static_cast<char>(kTagValueTag));
  PutVarint(&event_, tag.size());
  event_.append(tag);
  event_.push_back(static_cast<char>(kTagSimpleValue));
  const float f = static_cast<float>(value);
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  PutFixed32(&event_, bits);
  AppendRecord(event_);
  if (buffer_.size() >= kBufferBytes) return FlushBuffer();
  return absl::OkStatus();
}

absl::Status TensorBoardEvents::EndRun() {
  RUNLOG_RETURN_IF_ERROR(FlushBuffer());
  RUNLOG_RETURN_IF_ERROR(file_->Close());
  file_.reset();
  return absl::OkStatus();
}

absl::Status TensorBoardEvents::Scan(const std::string& path,
                                     absl::string_view tag, SeriesPoints* out) {
  storage::FileSystem* fs = storage::FileSystem::Default();
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<storage::RandomAccessFile> file,
                          fs->NewRandomAccessFile(path));
  RUNLOG_ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  std::string scratch(static_cast<size_t>(size), '\0');
  RUNLOG_ASSIGN_OR_RETURN(
      const absl::string_view data,
      file->Read(0, static_cast<size_t>(size), scratch.data()));
  size_t pos = 0;
  while (pos < data.size()) {
    auto bad = [&](absl::string_view what) {
      return absl::DataLossError(
          absl::StrCat(path, " at offset ", pos, ": ", what));
    };
    if (data.size() - pos < 12) return bad("truncated record header");
    const absl::string_view header(data.data() + pos, 8);
    uint64_t length;
    uint32_t crc;
    std::memcpy(&length, header.data(), 8);
    std::memcpy(&crc, data.data() + pos + 8, 4);
    if (crc != MaskCrc(Crc32c(header))) return bad("length CRC mismatch");
    if (data.size() - pos - 12 < length + 4) return bad("truncated record");
    const absl::string_view record(data.data() + pos + 12, length);
    std::memcpy(&crc, data.data() + pos + 12 + length, 4);
    if (crc != MaskCrc(Crc32c(record))) return bad("data CRC mismatch");
    if (!DecodeEvent(record, tag, out)) return bad("malformed Event");
    pos += 12 + length + 4;
  }
  return absl::OkStatus();
}

absl::Status TensorBoardEvents::ReadSeries(const std::string& run_id,
                                           absl::string_view name,
                                           SeriesPoints* out) {
  out->steps.clear();
  out->values.clear();
  return Scan(storage::JoinPath(dir(), run_id, kFileName), name, out);
}

absl::Status TensorBoardEvents::ListRuns(absl::string_view metric,
                                         std::vector<RunListing>* out) {
  out->clear();
  storage::FileSystem* fs = storage::FileSystem::Default();
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> runs, fs->ListDir(dir()));
  SeriesPoints points;
  for (const std::string& run : runs) {
    points.steps.clear();
    points.values.clear();
    RUNLOG_RETURN_IF_ERROR(
        Scan(storage::JoinPath(dir(), run, kFileName), metric, &points));
    RunListing listing{run};
    if (!points.values.empty()) {
      listing.last = points.values.back();
      listing.has_last = true;
    }
    out->push_back(std::move(listing));
  }
  return absl::OkStatus();
}

}  // namespace runlog::bench
