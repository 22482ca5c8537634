#include "tracking/compaction/compacted_run.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "storage/coding.h"
#include "storage/compression.h"
#include "storage/status_macros.h"
#include "tracking/codec/block_codec.h"
#include "tracking/codec/column_codec.h"
#include "tracking/codec/record_format.h"

namespace runlog {
namespace {

using record::GetDouble;
using record::GetSignedVarint;
using record::GetString;
using record::PutDouble;
using record::PutSignedVarint;
using record::PutString;
using storage::GetVarint64;
using storage::PutVarint64;

// Block chunk types of a column file (docs/format.md, "Compacted runs").
constexpr uint8_t kScalarBlock = 0x10;
constexpr uint8_t kTextBlock = 0x11;
constexpr uint8_t kHistogramBlock = 0x12;
constexpr uint8_t kBlobBlock = 0x13;

constexpr uint8_t kFooterVersion = 1;
// Payload encodings of the footer and of non-scalar blocks.
constexpr uint8_t kPlain = 0;
constexpr uint8_t kZstd = 1;
// Non-scalar blocks end at this many raw bytes (or kCompactedBlockPoints).
constexpr size_t kGenericBlockBytes = 4u << 20;
// Decompressed footers and blocks are bounded by the chunk limit.
constexpr uint64_t kMaxRawSize = storage::format::kMaxChunkPayload;

uint8_t BlockType(SeriesKind kind) {
  switch (kind) {
    case SeriesKind::kScalar:
      return kScalarBlock;
    case SeriesKind::kText:
      return kTextBlock;
    case SeriesKind::kHistogram:
      return kHistogramBlock;
    case SeriesKind::kBlob:
      return kBlobBlock;
  }
  return kScalarBlock;
}

absl::Status Damaged(absl::string_view where, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(where, ": ", what));
}

// Compresses `raw` when that saves space: kind byte, then the bytes.
absl::StatusOr<std::string> MaybeCompress(const std::string& raw) {
  std::string out(1, static_cast<char>(kPlain));
  if (raw.size() >= 64) {
    RUNLOG_ASSIGN_OR_RETURN(std::string z, storage::ZstdCompress(raw, 3));
    if (z.size() + 8 < raw.size()) {
      out[0] = static_cast<char>(kZstd);
      out.append(z);
      return out;
    }
  }
  out.append(raw);
  return out;
}

absl::StatusOr<std::string> Unwrap(absl::string_view bytes,
                                   absl::string_view where) {
  if (bytes.empty()) return Damaged(where, "empty payload");
  const uint8_t kind = static_cast<uint8_t>(bytes[0]);
  bytes.remove_prefix(1);
  if (kind == kPlain) return std::string(bytes);
  if (kind != kZstd) {
    return Damaged(where, absl::StrCat("unknown payload encoding ", kind));
  }
  absl::StatusOr<std::string> raw = storage::ZstdDecompress(bytes, kMaxRawSize);
  if (!raw.ok()) return Damaged(where, raw.status().message());
  return raw;
}

void PutPoint(std::string* out, const PointRecord& p) {
  PutSignedVarint(out, p.step);
  PutDouble(out, p.value);
  PutDouble(out, p.epoch);
  PutSignedVarint(out, p.time_us);
}

bool GetPoint(absl::string_view* in, PointRecord* p) {
  return GetSignedVarint(in, &p->step) && GetDouble(in, &p->value) &&
         GetDouble(in, &p->epoch) && GetSignedVarint(in, &p->time_us);
}

template <typename T>
void PutGenericValue(std::string* out, const T& v);
template <>
void PutGenericValue(std::string* out, const std::string& v) {
  PutString(out, v);
}
template <>
void PutGenericValue(std::string* out, const Histogram& h) {
  PutVarint64(out, h.counts.size());
  for (double e : h.edges) PutDouble(out, e);
  for (double c : h.counts) PutDouble(out, c);
}
template <>
void PutGenericValue(std::string* out, const Blob& b) {
  PutString(out, b.content_type);
  PutString(out, b.data);
}

size_t GenericSize(const std::string& v) { return v.size() + 5; }
size_t GenericSize(const Histogram& h) {
  return (h.edges.size() + h.counts.size()) * 8 + 5;
}
size_t GenericSize(const Blob& b) {
  return b.content_type.size() + b.data.size() + 10;
}

bool GetGenericValue(absl::string_view* in, std::string* v) {
  absl::string_view s;
  if (!GetString(in, record::kMaxTextLength, &s)) return false;
  *v = std::string(s);
  return true;
}
bool GetGenericValue(absl::string_view* in, Histogram* h) {
  uint64_t bins;
  if (!GetVarint64(in, &bins) || bins == 0 ||
      bins > record::kMaxHistogramBins || (2 * bins + 1) * 8 > in->size()) {
    return false;
  }
  h->edges.resize(static_cast<size_t>(bins) + 1);
  h->counts.resize(static_cast<size_t>(bins));
  for (double& e : h->edges) GetDouble(in, &e);
  for (double& c : h->counts) GetDouble(in, &c);
  return true;
}
bool GetGenericValue(absl::string_view* in, Blob* b) {
  absl::string_view type, data;
  if (!GetString(in, record::kMaxContentTypeLength, &type) ||
      !GetString(in, record::kMaxBlobSize, &data)) {
    return false;
  }
  b->content_type = std::string(type);
  b->data = std::string(data);
  return true;
}

// Steps' extent over points [begin, end).
void StepExtent(const std::vector<int64_t>& steps, size_t begin, size_t end,
                BlockSummary* b) {
  b->min_step = *std::min_element(steps.begin() + begin, steps.begin() + end);
  b->max_step = *std::max_element(steps.begin() + begin, steps.begin() + end);
}

absl::Status WriteScalarSeries(storage::ColumnFileWriter& w,
                               const ScalarColumns& c, CompactedSeries* out) {
  std::string payload;
  for (size_t begin = 0; begin < c.size(); begin += kCompactedBlockPoints) {
    const size_t end = std::min(c.size(), begin + kCompactedBlockPoints);
    const size_t n = end - begin;
    payload.clear();
    RUNLOG_RETURN_IF_ERROR(EncodeScalarBlock(
        ScalarBlockInput{
            absl::MakeConstSpan(c.steps.data() + begin, n),
            absl::MakeConstSpan(c.values.data() + begin, n),
            absl::MakeConstSpan(c.epochs.data() + begin, n),
            absl::MakeConstSpan(c.times_us.data() + begin, n),
        },
        &payload));
    BlockSummary b;
    RUNLOG_ASSIGN_OR_RETURN(b.handle, w.AddBlock(kScalarBlock, payload));
    b.count = static_cast<uint32_t>(n);
    StepExtent(c.steps, begin, end, &b);
    b.last = c.values[end - 1];
    size_t min_i = end, max_i = end;
    for (size_t i = begin; i < end; ++i) {
      const double v = c.values[i];
      if (std::isnan(v)) continue;
      if (min_i == end || v < c.values[min_i]) min_i = i;
      if (max_i == end || v > c.values[max_i]) max_i = i;
    }
    if (min_i != end) {
      b.has_extremes = true;
      b.min_index = static_cast<uint32_t>(min_i - begin);
      b.max_index = static_cast<uint32_t>(max_i - begin);
      b.min_point = {c.steps[min_i], c.values[min_i], c.epochs[min_i],
                     c.times_us[min_i]};
      b.max_point = {c.steps[max_i], c.values[max_i], c.epochs[max_i],
                     c.times_us[max_i]};
    }
    out->blocks.push_back(b);
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status WriteGenericSeries(storage::ColumnFileWriter& w, SeriesKind kind,
                                const SeriesColumns<T>& c,
                                CompactedSeries* out) {
  size_t begin = 0;
  while (begin < c.size()) {
    size_t end = begin;
    size_t bytes = 0;
    while (end < c.size() && end - begin < kCompactedBlockPoints &&
           (end == begin ||
            bytes + GenericSize(c.values[end]) <= kGenericBlockBytes)) {
      bytes += GenericSize(c.values[end]);
      ++end;
    }
    std::string raw;
    PutVarint64(&raw, end - begin);
    for (size_t i = begin; i < end; ++i) {
      PutSignedVarint(&raw, c.steps[i]);
      PutDouble(&raw, c.epochs[i]);
      PutSignedVarint(&raw, c.times_us[i]);
    }
    for (size_t i = begin; i < end; ++i) PutGenericValue(&raw, c.values[i]);
    RUNLOG_ASSIGN_OR_RETURN(std::string payload, MaybeCompress(raw));
    BlockSummary b;
    RUNLOG_ASSIGN_OR_RETURN(b.handle, w.AddBlock(BlockType(kind), payload));
    b.count = static_cast<uint32_t>(end - begin);
    StepExtent(c.steps, begin, end, &b);
    out->blocks.push_back(b);
    begin = end;
  }
  return absl::OkStatus();
}

}  // namespace

int64_t CompactedSeries::count() const {
  int64_t n = 0;
  for (const BlockSummary& b : blocks) n += b.count;
  return n;
}

// ---- Footer -----------------------------------------------------------------

std::string EncodeCompactedFooter(const CompactedFooter& footer) {
  std::string raw;
  PutVarint64(&raw, footer.series.size());
  for (const CompactedSeries& s : footer.series) {
    raw.push_back(static_cast<char>(static_cast<uint8_t>(s.kind) + 1));
    PutString(&raw, s.key.name);
    PutVarint64(&raw, s.key.context.size());
    for (const auto& [k, v] : s.key.context) {
      PutString(&raw, k);
      PutString(&raw, v);
    }
    PutVarint64(&raw, s.blocks.size());
    for (const BlockSummary& b : s.blocks) {
      PutVarint64(&raw, b.handle.offset);
      PutVarint64(&raw, b.handle.length);
      PutVarint64(&raw, b.count);
      PutSignedVarint(&raw, b.min_step);
      PutSignedVarint(&raw, b.max_step);
      if (s.kind != SeriesKind::kScalar) continue;
      PutDouble(&raw, b.last);
      raw.push_back(b.has_extremes ? 1 : 0);
      if (!b.has_extremes) continue;
      PutVarint64(&raw, b.min_index);
      PutPoint(&raw, b.min_point);
      PutVarint64(&raw, b.max_index);
      PutPoint(&raw, b.max_point);
    }
  }
  std::string out(1, static_cast<char>(kFooterVersion));
  absl::StatusOr<std::string> wrapped = MaybeCompress(raw);
  // Compression of a bounded buffer cannot fail short of memory exhaustion;
  // fall back to the plain form rather than lose the footer.
  if (wrapped.ok()) {
    out.append(*wrapped);
  } else {
    out.push_back(static_cast<char>(kPlain));
    out.append(raw);
  }
  return out;
}

absl::StatusOr<CompactedFooter> DecodeCompactedFooter(absl::string_view bytes,
                                                      absl::string_view where) {
  const std::string at = absl::StrCat(where, ": footer");
  if (bytes.empty()) return Damaged(at, "empty");
  const uint8_t version = static_cast<uint8_t>(bytes[0]);
  if (version != kFooterVersion) {
    if (version > kFooterVersion) {
      return absl::UnimplementedError(absl::StrCat(
          at, ": version ", version, " is from a newer runlog version"));
    }
    return Damaged(at, absl::StrCat("bad version ", version));
  }
  RUNLOG_ASSIGN_OR_RETURN(std::string raw, Unwrap(bytes.substr(1), at));
  absl::string_view in = raw;
  CompactedFooter f;
  uint64_t series_count;
  if (!GetVarint64(&in, &series_count) ||
      series_count > record::kMaxSeriesPerRun || series_count > in.size()) {
    return Damaged(at, "bad series count");
  }
  f.series.reserve(static_cast<size_t>(series_count));
  for (uint64_t i = 0; i < series_count; ++i) {
    const std::string ws = absl::StrCat(at, ", series ", i);
    CompactedSeries s;
    if (in.empty()) return Damaged(ws, "truncated");
    const uint8_t code = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    if (code < 1 || code > 4) return Damaged(ws, "unknown series kind");
    s.kind = static_cast<SeriesKind>(code - 1);
    absl::string_view name;
    uint64_t ctx;
    if (!GetString(&in, record::kMaxSeriesNameLength, &name) ||
        !GetVarint64(&in, &ctx) || ctx > record::kMaxContextEntries) {
      return Damaged(ws, "bad series name or context");
    }
    s.key.name = std::string(name);
    for (uint64_t j = 0; j < ctx; ++j) {
      absl::string_view k, v;
      if (!GetString(&in, record::kMaxContextStringLength, &k) ||
          !GetString(&in, record::kMaxContextStringLength, &v)) {
        return Damaged(ws, "bad context entry");
      }
      s.key.context.emplace(std::string(k), std::string(v));
    }
    uint64_t blocks;
    // Each block takes at least 5 bytes, which bounds the allocation.
    if (!GetVarint64(&in, &blocks) || blocks > in.size() / 5) {
      return Damaged(ws, "bad block count");
    }
    s.blocks.reserve(static_cast<size_t>(blocks));
    for (uint64_t j = 0; j < blocks; ++j) {
      BlockSummary b;
      uint64_t offset, length, count;
      if (!GetVarint64(&in, &offset) || !GetVarint64(&in, &length) ||
          !GetVarint64(&in, &count) || length > UINT32_MAX || count == 0 ||
          count > kMaxBlockPoints || !GetSignedVarint(&in, &b.min_step) ||
          !GetSignedVarint(&in, &b.max_step) || b.min_step > b.max_step) {
        return Damaged(ws, absl::StrCat("bad block entry ", j));
      }
      b.handle = {offset, static_cast<uint32_t>(length)};
      b.count = static_cast<uint32_t>(count);
      if (s.kind == SeriesKind::kScalar) {
        if (!GetDouble(&in, &b.last) || in.empty()) {
          return Damaged(ws, absl::StrCat("bad block summary ", j));
        }
        const uint8_t has = static_cast<uint8_t>(in[0]);
        in.remove_prefix(1);
        if (has > 1) return Damaged(ws, absl::StrCat("bad block summary ", j));
        b.has_extremes = has == 1;
        if (b.has_extremes) {
          uint64_t min_i, max_i;
          if (!GetVarint64(&in, &min_i) || !GetPoint(&in, &b.min_point) ||
              !GetVarint64(&in, &max_i) || !GetPoint(&in, &b.max_point) ||
              min_i >= count || max_i >= count) {
            return Damaged(ws, absl::StrCat("bad block extremes ", j));
          }
          b.min_index = static_cast<uint32_t>(min_i);
          b.max_index = static_cast<uint32_t>(max_i);
        }
      }
      s.blocks.push_back(b);
    }
    f.series.push_back(std::move(s));
  }
  if (!in.empty()) return Damaged(at, "trailing bytes");
  return f;
}

// ---- Writing ----------------------------------------------------------------

absl::StatusOr<storage::SegmentInfo> WriteCompactedRun(
    storage::FileSystem* fs, const std::string& dir, absl::string_view run_id,
    uint32_t number, const std::vector<SeriesSummary>& series,
    const std::vector<RunLogDecoder::SeriesPoints>& points, bool sync) {
  if (series.size() != points.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("compaction of run ", run_id, ": ", series.size(),
                     " series but points for ", points.size()));
  }
  RUNLOG_ASSIGN_OR_RETURN(
      std::unique_ptr<storage::ColumnFileWriter> w,
      storage::ColumnFileWriter::Create(fs, dir, run_id, number));
  CompactedFooter footer;
  for (size_t i = 0; i < series.size(); ++i) {
    CompactedSeries s;
    s.key = series[i].key;
    s.kind = series[i].kind;
    const RunLogDecoder::SeriesPoints& p = points[i];
    switch (s.kind) {
      case SeriesKind::kScalar:
        RUNLOG_RETURN_IF_ERROR(WriteScalarSeries(*w, p.scalars, &s));
        break;
      case SeriesKind::kText:
        RUNLOG_RETURN_IF_ERROR(WriteGenericSeries(*w, s.kind, p.texts, &s));
        break;
      case SeriesKind::kHistogram:
        RUNLOG_RETURN_IF_ERROR(
            WriteGenericSeries(*w, s.kind, p.histograms, &s));
        break;
      case SeriesKind::kBlob:
        RUNLOG_RETURN_IF_ERROR(WriteGenericSeries(*w, s.kind, p.blobs, &s));
        break;
    }
    footer.series.push_back(std::move(s));
  }
  return w->Finish(EncodeCompactedFooter(footer), sync);
}

// ---- Reading ----------------------------------------------------------------

CompactedRunReader::CompactedRunReader(
    std::unique_ptr<storage::ColumnFileReader> file, CompactedFooter footer)
    : file_(std::move(file)), footer_(std::move(footer)) {
  for (size_t i = 0; i < footer_.series.size(); ++i) {
    index_.emplace(footer_.series[i].key, i);
  }
}

absl::StatusOr<std::unique_ptr<CompactedRunReader>> CompactedRunReader::Open(
    storage::FileSystem* fs, const std::string& dir, absl::string_view run_id,
    const storage::SegmentInfo& info) {
  RUNLOG_ASSIGN_OR_RETURN(
      std::unique_ptr<storage::ColumnFileReader> file,
      storage::ColumnFileReader::Open(fs, dir, run_id, info));
  RUNLOG_ASSIGN_OR_RETURN(CompactedFooter footer,
                          DecodeCompactedFooter(file->footer(), file->path()));
  return std::unique_ptr<CompactedRunReader>(
      new CompactedRunReader(std::move(file), std::move(footer)));
}

const CompactedSeries* CompactedRunReader::Find(const SeriesKey& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &footer_.series[it->second];
}

absl::Status CompactedRunReader::DecodeScalarBlockAt(const BlockSummary& b,
                                                     ScalarColumns* out) {
  uint8_t type;
  RUNLOG_ASSIGN_OR_RETURN(absl::string_view payload,
                          file_->ReadBlock(b.handle, &type, &scratch_));
  const std::string where =
      absl::StrCat(file_->path(), ": block at offset ", b.handle.offset);
  if (type != kScalarBlock) {
    return Damaged(where, absl::StrCat("block type ", type,
                                       " where a scalar block should be"));
  }
  const size_t before = out->size();
  RUNLOG_RETURN_IF_ERROR(DecodeScalarBlock(payload, where, out));
  if (out->size() - before != b.count) {
    return Damaged(where, absl::StrCat("holds ", out->size() - before,
                                       " points, the footer says ", b.count));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status CompactedRunReader::DecodeGenericBlockAt(const BlockSummary& b,
                                                      SeriesKind kind,
                                                      SeriesColumns<T>* out) {
  uint8_t type;
  RUNLOG_ASSIGN_OR_RETURN(absl::string_view payload,
                          file_->ReadBlock(b.handle, &type, &scratch_));
  const std::string where =
      absl::StrCat(file_->path(), ": block at offset ", b.handle.offset);
  if (type != BlockType(kind)) {
    return Damaged(where,
                   absl::StrCat("block type ", type, " where a ",
                                SeriesKindName(kind), " block should be"));
  }
  RUNLOG_ASSIGN_OR_RETURN(std::string raw, Unwrap(payload, where));
  absl::string_view in = raw;
  uint64_t n;
  if (!GetVarint64(&in, &n) || n != b.count || n > in.size()) {
    return Damaged(where, "bad point count");
  }
  const size_t base = out->size();
  for (uint64_t i = 0; i < n; ++i) {
    int64_t step, time;
    double epoch;
    if (!GetSignedVarint(&in, &step) || !GetDouble(&in, &epoch) ||
        !GetSignedVarint(&in, &time)) {
      return Damaged(where, absl::StrCat("bad point ", i));
    }
    out->steps.push_back(step);
    out->epochs.push_back(epoch);
    out->times_us.push_back(time);
  }
  out->values.resize(base + static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    if (!GetGenericValue(&in, &out->values[base + i])) {
      return Damaged(where, absl::StrCat("bad value ", i));
    }
  }
  if (!in.empty()) return Damaged(where, "trailing bytes");
  return absl::OkStatus();
}

template <typename T>
absl::Status CompactedRunReader::DecodeBlockAt(const BlockSummary& b,
                                               SeriesKind kind,
                                               SeriesColumns<T>* out) {
  if constexpr (std::is_same_v<T, double>) {
    return DecodeScalarBlockAt(b, out);
  } else {
    return DecodeGenericBlockAt(b, kind, out);
  }
}

namespace {

// Calls `f` with empty columns of the type a series of `kind` holds.
template <typename F>
absl::Status WithColumnsOf(SeriesKind kind, F f) {
  switch (kind) {
    case SeriesKind::kScalar:
      return f(ScalarColumns());
    case SeriesKind::kText:
      return f(TextColumns());
    case SeriesKind::kHistogram:
      return f(HistogramColumns());
    case SeriesKind::kBlob:
      break;
  }
  return f(BlobColumns());
}

bool Overlaps(const BlockSummary& b, const StepRange& r) {
  return b.max_step >= r.first && b.min_step <= r.last;
}
bool Inside(const BlockSummary& b, const StepRange& r) {
  return b.min_step >= r.first && b.max_step <= r.last;
}

template <typename T>
void AppendFiltered(SeriesColumns<T>&& in, const StepRange& r,
                    SeriesColumns<T>* out) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (!r.Contains(in.steps[i])) continue;
    out->steps.push_back(in.steps[i]);
    out->values.push_back(std::move(in.values[i]));
    out->epochs.push_back(in.epochs[i]);
    out->times_us.push_back(in.times_us[i]);
  }
}

}  // namespace

absl::StatusOr<ScalarColumns> CompactedRunReader::ReadScalars(
    const CompactedSeries& s, StepRange range) {
  ScalarColumns out;
  RUNLOG_RETURN_IF_ERROR(ReadScalarsInto(s, range, &out));
  return out;
}

absl::Status CompactedRunReader::ReadScalarsInto(const CompactedSeries& s,
                                                 StepRange range,
                                                 ScalarColumns* out) {
  out->steps.clear();
  out->values.clear();
  out->epochs.clear();
  out->times_us.clear();
  if (s.kind != SeriesKind::kScalar) {
    return absl::InvalidArgumentError(
        absl::StrCat("series ", s.key.ToString(), " holds ",
                     SeriesKindName(s.kind), " values, not scalar"));
  }
  size_t total = 0;
  for (const BlockSummary& b : s.blocks) {
    if (Overlaps(b, range)) total += b.count;
  }
  out->steps.reserve(total);
  out->values.reserve(total);
  out->epochs.reserve(total);
  out->times_us.reserve(total);
  ScalarColumns partial;
  for (const BlockSummary& b : s.blocks) {
    if (!Overlaps(b, range)) continue;
    if (Inside(b, range)) {
      RUNLOG_RETURN_IF_ERROR(DecodeBlockAt(b, s.kind, out));
      continue;
    }
    partial = ScalarColumns();
    RUNLOG_RETURN_IF_ERROR(DecodeBlockAt(b, s.kind, &partial));
    AppendFiltered(std::move(partial), range, out);
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<SeriesColumns<T>> CompactedRunReader::ReadGeneric(
    const CompactedSeries& s, StepRange range) {
  SeriesColumns<T> out;
  for (const BlockSummary& b : s.blocks) {
    if (!Overlaps(b, range)) continue;
    SeriesColumns<T> block;
    RUNLOG_RETURN_IF_ERROR(DecodeBlockAt(b, s.kind, &block));
    AppendFiltered(std::move(block), range, &out);
  }
  return out;
}

absl::StatusOr<TextColumns> CompactedRunReader::ReadTexts(
    const CompactedSeries& s, StepRange range) {
  return ReadGeneric<std::string>(s, range);
}
absl::StatusOr<HistogramColumns> CompactedRunReader::ReadHistograms(
    const CompactedSeries& s, StepRange range) {
  return ReadGeneric<Histogram>(s, range);
}
absl::StatusOr<BlobColumns> CompactedRunReader::ReadBlobs(
    const CompactedSeries& s, StepRange range) {
  return ReadGeneric<Blob>(s, range);
}

absl::StatusOr<ScalarColumns> CompactedRunReader::ReadScalarsDownsampled(
    const CompactedSeries& s, size_t max_points, StepRange range) {
  if (max_points < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_points must be at least 2 (first and last point); got ",
        max_points));
  }
  if (s.kind != SeriesKind::kScalar) {
    return absl::InvalidArgumentError(
        absl::StrCat("series ", s.key.ToString(), " holds ",
                     SeriesKindName(s.kind), " values, not scalar"));
  }
  // The selection as pieces in order: whole blocks (not decoded unless a
  // bucket needs their points) and filtered parts of blocks the range cuts.
  struct Piece {
    const BlockSummary* block;  // whole block, or nullptr
    ScalarColumns points;       // decoded points (filled lazily for blocks)
    bool decoded = false;
    size_t begin = 0;  // selection index of its first point
    size_t size = 0;
  };
  std::vector<Piece> pieces;
  size_t n = 0;
  for (const BlockSummary& b : s.blocks) {
    if (!Overlaps(b, range)) continue;
    Piece p;
    if (Inside(b, range)) {
      p.block = &b;
      p.size = b.count;
    } else {
      p.block = nullptr;
      ScalarColumns all;
      RUNLOG_RETURN_IF_ERROR(DecodeScalarBlockAt(b, &all));
      AppendFiltered(std::move(all), range, &p.points);
      p.decoded = true;
      p.size = p.points.size();
      if (p.size == 0) continue;
    }
    p.begin = n;
    n += p.size;
    pieces.push_back(std::move(p));
  }
  auto decode = [&](Piece& p) -> absl::Status {
    if (p.decoded) return absl::OkStatus();
    RUNLOG_RETURN_IF_ERROR(DecodeScalarBlockAt(*p.block, &p.points));
    p.decoded = true;
    return absl::OkStatus();
  };
  if (n <= max_points) {
    ScalarColumns out;
    for (Piece& p : pieces) {
      RUNLOG_RETURN_IF_ERROR(decode(p));
      out.steps.insert(out.steps.end(), p.points.steps.begin(),
                       p.points.steps.end());
      out.values.insert(out.values.end(), p.points.values.begin(),
                        p.points.values.end());
      out.epochs.insert(out.epochs.end(), p.points.epochs.begin(),
                        p.points.epochs.end());
      out.times_us.insert(out.times_us.end(), p.points.times_us.begin(),
                          p.points.times_us.end());
    }
    return out;
  }

  ScalarColumns out;
  auto take_point = [&](const PointRecord& r) {
    out.steps.push_back(r.step);
    out.values.push_back(r.value);
    out.epochs.push_back(r.epoch);
    out.times_us.push_back(r.time_us);
  };
  auto piece_of = [&](size_t i) -> Piece& {
    auto it =
        std::upper_bound(pieces.begin(), pieces.end(), i,
                         [](size_t v, const Piece& p) { return v < p.begin; });
    return *(it - 1);
  };
  auto point_at = [&](size_t i) -> absl::StatusOr<PointRecord> {
    Piece& p = piece_of(i);
    RUNLOG_RETURN_IF_ERROR(decode(p));
    const size_t k = i - p.begin;
    return PointRecord{p.points.steps[k], p.points.values[k],
                       p.points.epochs[k], p.points.times_us[k]};
  };

  RUNLOG_ASSIGN_OR_RETURN(PointRecord first, point_at(0));
  take_point(first);
  // Buckets advance in order, so a whole block's decoded points are dropped
  // once the buckets have passed it: memory stays at a few blocks instead of
  // the whole selection, which matters more than decoding time where fresh
  // memory is slow to fault in.
  size_t keep_from = 0;
  auto release_before = [&](size_t index) {
    for (; keep_from < pieces.size() &&
           pieces[keep_from].begin + pieces[keep_from].size <= index;
         ++keep_from) {
      Piece& q = pieces[keep_from];
      if (q.block != nullptr && q.decoded) {
        q.points = ScalarColumns();
        q.decoded = false;
      }
    }
  };
  for (const auto& [lo, hi] : DownsampleBuckets(n, max_points)) {
    release_before(lo);
    // The first minimum and maximum in [lo, hi), and their selection index.
    bool found = false;
    PointRecord min_p, max_p;
    size_t min_i = 0, max_i = 0;
    auto consider = [&](const PointRecord& r, size_t i, bool is_min) {
      if (is_min) {
        if (!found || r.value < min_p.value) min_p = r, min_i = i;
      } else {
        if (!found || r.value > max_p.value) max_p = r, max_i = i;
      }
    };
    Piece* p = &piece_of(lo);
    for (size_t at = lo; at < hi;) {
      const size_t piece_end = p->begin + p->size;
      const size_t seg_end = std::min(hi, piece_end);
      const bool whole = at == p->begin && seg_end == piece_end;
      if (whole && !p->decoded) {
        const BlockSummary& b = *p->block;
        if (b.has_extremes) {
          consider(b.min_point, p->begin + b.min_index, true);
          consider(b.max_point, p->begin + b.max_index, false);
          found = true;
        }
      } else {
        RUNLOG_RETURN_IF_ERROR(decode(*p));
        for (size_t i = at; i < seg_end; ++i) {
          const size_t k = i - p->begin;
          const double v = p->points.values[k];
          if (std::isnan(v)) continue;
          const PointRecord r{p->points.steps[k], v, p->points.epochs[k],
                              p->points.times_us[k]};
          consider(r, i, true);
          consider(r, i, false);
          found = true;
        }
      }
      at = seg_end;
      if (at < hi) ++p;
    }
    if (!found) {  // all NaN: keep one to show the gap
      RUNLOG_ASSIGN_OR_RETURN(PointRecord r, point_at(lo));
      take_point(r);
      continue;
    }
    if (min_i == max_i) {
      take_point(min_p);
    } else if (min_i < max_i) {
      take_point(min_p);
      take_point(max_p);
    } else {
      take_point(max_p);
      take_point(min_p);
    }
  }
  RUNLOG_ASSIGN_OR_RETURN(PointRecord last, point_at(n - 1));
  take_point(last);
  return out;
}

int64_t CompactedRunReader::Verify(const storage::SegmentInfo& info,
                                   std::vector<absl::Status>* problems) {
  absl::Status whole = file_->VerifyWholeFile(info);
  if (!whole.ok()) problems->push_back(std::move(whole));
  int64_t points = 0;
  for (const CompactedSeries& s : footer_.series) {
    for (const BlockSummary& b : s.blocks) {
      absl::Status st = WithColumnsOf(s.kind, [&](auto columns) {
        return DecodeBlockAt(b, s.kind, &columns);
      });
      if (st.ok()) {
        points += b.count;
      } else {
        problems->push_back(std::move(st));
      }
    }
  }
  return points;
}

}  // namespace runlog
