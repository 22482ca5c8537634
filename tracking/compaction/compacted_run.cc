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
constexpr uint8_t kViewChunk = 0x14;

// Version 2 added view chunks; version 1 footers still read.
constexpr uint8_t kFooterVersion = 2;
constexpr uint8_t kViewVersion = 1;
// A scalar block's extremes byte in a version 2 footer: 0 every value is
// NaN, 1 the min and max points follow, 2 they are not stored.
constexpr uint8_t kExtremesNotStored = 2;
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

// The first minimum and first maximum of v[0..n) ignoring NaN; false when
// every value is NaN.
bool FirstExtremes(const double* v, size_t n, size_t* min_i, size_t* max_i) {
  size_t i = 0;
  while (i < n && std::isnan(v[i])) ++i;
  if (i == n) return false;
  // The extremes are kept as values, not re-read through their indices; a
  // NaN compares false both ways, so the rest needs no test for it.
  size_t lo = i, hi = i;
  double min = v[i], max = v[i];
  for (++i; i < n; ++i) {
    const double x = v[i];
    if (x < min) {
      min = x;
      lo = i;
    }
    if (x > max) {
      max = x;
      hi = i;
    }
  }
  *min_i = lo;
  *max_i = hi;
  return true;
}

void ResizeColumns(ScalarColumns* c, size_t n) {
  c->steps.resize(n);
  c->values.resize(n);
  c->epochs.resize(n);
  c->times_us.resize(n);
}

void AppendPoint(const ScalarColumns& c, size_t i, ScalarColumns* out) {
  out->steps.push_back(c.steps[i]);
  out->values.push_back(c.values[i]);
  out->epochs.push_back(c.epochs[i]);
  out->times_us.push_back(c.times_us[i]);
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
      // A series of one block never has its extremes taken from the footer
      // (no downsampling bucket holds the first point's block whole), so
      // they are not stored: most real series are that short.
      if (s.blocks.size() == 1 || !b.extremes_stored) {
        raw.push_back(kExtremesNotStored);
        continue;
      }
      raw.push_back(b.has_extremes ? 1 : 0);
      if (!b.has_extremes) continue;
      PutVarint64(&raw, b.min_index);
      PutPoint(&raw, b.min_point);
      PutVarint64(&raw, b.max_index);
      PutPoint(&raw, b.max_point);
    }
    if (s.kind != SeriesKind::kScalar) continue;
    raw.push_back(s.has_view ? 1 : 0);
    if (s.has_view) {
      PutVarint64(&raw, s.view.offset);
      PutVarint64(&raw, s.view.length);
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
  if (version != kFooterVersion && version != 1) {
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
        double last;  // version 1 only; never read
        if ((version == 1 && !GetDouble(&in, &last)) || in.empty()) {
          return Damaged(ws, absl::StrCat("bad block summary ", j));
        }
        const uint8_t has = static_cast<uint8_t>(in[0]);
        in.remove_prefix(1);
        if (has > 1 && !(version >= 2 && has == kExtremesNotStored)) {
          return Damaged(ws, absl::StrCat("bad block summary ", j));
        }
        b.extremes_stored = has != kExtremesNotStored;
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
    if (version >= 2 && s.kind == SeriesKind::kScalar) {
      if (in.empty() || static_cast<uint8_t>(in[0]) > 1) {
        return Damaged(ws, "bad view flag");
      }
      s.has_view = in[0] == 1;
      in.remove_prefix(1);
      uint64_t offset, length;
      if (s.has_view && (!GetVarint64(&in, &offset) ||
                         !GetVarint64(&in, &length) || length > UINT32_MAX)) {
        return Damaged(ws, "bad view handle");
      }
      if (s.has_view) s.view = {offset, static_cast<uint32_t>(length)};
    }
    f.series.push_back(std::move(s));
  }
  if (!in.empty()) return Damaged(at, "trailing bytes");
  return f;
}

// ---- Writing ----------------------------------------------------------------

absl::StatusOr<std::string> EncodeSeriesView(const SeriesView& view) {
  std::string raw(1, static_cast<char>(kViewVersion));
  PutVarint64(&raw, kViewSubBlockPoints);
  PutVarint64(&raw, view.min_index.size());
  for (size_t j = 0; j < view.min_index.size(); ++j) {
    for (uint16_t v : {view.min_index[j], view.max_index[j]}) {
      raw.push_back(static_cast<char>(v & 0xff));
      raw.push_back(static_cast<char>(v >> 8));
    }
  }
  PutVarint64(&raw, view.points.size());
  if (view.points.size() > 0) {
    std::string block;
    RUNLOG_RETURN_IF_ERROR(EncodeScalarBlock(
        ScalarBlockInput{view.points.steps, view.points.values,
                         view.points.epochs, view.points.times_us},
        &block));
    PutVarint64(&raw, block.size());
    raw.append(block);
  }
  return MaybeCompress(raw);
}

absl::StatusOr<SeriesView> DecodeSeriesView(absl::string_view payload,
                                            const CompactedSeries& series,
                                            absl::string_view where) {
  RUNLOG_ASSIGN_OR_RETURN(std::string raw, Unwrap(payload, where));
  absl::string_view in = raw;
  SeriesView v;
  v.first_sub_block.reserve(series.blocks.size());
  size_t subs = 0;
  for (const BlockSummary& b : series.blocks) {
    v.first_sub_block.push_back(subs);
    subs += (b.count + kViewSubBlockPoints - 1) / kViewSubBlockPoints;
  }
  uint64_t sub_points, m;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kViewVersion) {
    return Damaged(where, "unknown view version");
  }
  in.remove_prefix(1);
  if (!GetVarint64(&in, &sub_points) || sub_points != kViewSubBlockPoints) {
    return Damaged(where, "bad sub-block size");
  }
  if (!GetVarint64(&in, &m) || m != subs || in.size() / 4 < m) {
    return Damaged(where,
                   absl::StrCat("bad sub-block count: the blocks have ", subs));
  }
  v.min_index.resize(subs);
  v.max_index.resize(subs);
  v.point_at.resize(subs);
  auto u16 = [](const char* p) {
    return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) |
                                 (static_cast<uint8_t>(p[1]) << 8));
  };
  uint32_t with_extremes = 0;
  size_t j = 0;
  for (size_t bi = 0; bi < series.blocks.size(); ++bi) {
    const size_t count = series.blocks[bi].count;
    for (size_t at = 0; at < count; at += kViewSubBlockPoints, ++j) {
      const size_t size = std::min(count - at, kViewSubBlockPoints);
      const uint16_t lo = u16(in.data() + 4 * j);
      const uint16_t hi = u16(in.data() + 4 * j + 2);
      const bool none = lo == SeriesView::kNone && hi == SeriesView::kNone;
      if (!none && (lo >= size || hi >= size)) {
        return Damaged(where, absl::StrCat("bad extremes of sub-block ", j));
      }
      v.min_index[j] = lo;
      v.max_index[j] = hi;
      v.point_at[j] = none ? 0 : 2 * with_extremes;
      if (!none) ++with_extremes;
    }
  }
  in.remove_prefix(4 * subs);
  uint64_t points;
  if (!GetVarint64(&in, &points) || points != 2ull * with_extremes) {
    return Damaged(where, "bad view point count");
  }
  if (points > 0) {
    uint64_t length;
    if (!GetVarint64(&in, &length) || length != in.size()) {
      return Damaged(where, "bad view block length");
    }
    RUNLOG_RETURN_IF_ERROR(DecodeScalarBlock(in, where, &v.points));
    if (v.points.size() != points) {
      return Damaged(where, "view block holds the wrong number of points");
    }
    in = {};
  }
  if (!in.empty()) return Damaged(where, "trailing bytes in the view");
  return v;
}

absl::StatusOr<std::unique_ptr<CompactedRunWriter>> CompactedRunWriter::Create(
    storage::FileSystem* fs, const std::string& dir, absl::string_view run_id,
    uint32_t number) {
  RUNLOG_ASSIGN_OR_RETURN(
      std::unique_ptr<storage::ColumnFileWriter> w,
      storage::ColumnFileWriter::Create(fs, dir, run_id, number));
  return std::unique_ptr<CompactedRunWriter>(
      new CompactedRunWriter(std::move(w)));
}

CompactedRunWriter::CompactedRunWriter(
    std::unique_ptr<storage::ColumnFileWriter> file)
    : file_(std::move(file)) {}

CompactedRunWriter::~CompactedRunWriter() = default;

size_t CompactedRunWriter::AddSeries(const SeriesKey& key, SeriesKind kind) {
  Pending p;
  p.series.key = key;
  p.series.kind = kind;
  series_.push_back(std::move(p));
  return series_.size() - 1;
}

absl::Status CompactedRunWriter::AddScalarBlock(size_t series,
                                                const ScalarColumns& c,
                                                size_t begin, size_t end) {
  Pending& p = series_.at(series);
  const size_t n = end - begin;
  if (p.series.kind != SeriesKind::kScalar || n == 0 ||
      n > kCompactedBlockPoints || end > c.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("compacted block of series ", p.series.key.ToString(),
                     ": points [", begin, ", ", end, ") of ", c.size()));
  }
  payload_.clear();
  RUNLOG_RETURN_IF_ERROR(EncodeScalarBlock(
      ScalarBlockInput{
          absl::MakeConstSpan(c.steps.data() + begin, n),
          absl::MakeConstSpan(c.values.data() + begin, n),
          absl::MakeConstSpan(c.epochs.data() + begin, n),
          absl::MakeConstSpan(c.times_us.data() + begin, n),
      },
      &payload_, &p.hints));
  BlockSummary b;
  RUNLOG_ASSIGN_OR_RETURN(b.handle, file_->AddBlock(kScalarBlock, payload_));
  b.count = static_cast<uint32_t>(n);
  StepExtent(c.steps, begin, end, &b);
  size_t min_i, max_i;
  if (FirstExtremes(c.values.data() + begin, n, &min_i, &max_i)) {
    b.has_extremes = true;
    b.min_index = static_cast<uint32_t>(min_i);
    b.max_index = static_cast<uint32_t>(max_i);
    b.min_point = {c.steps[begin + min_i], c.values[begin + min_i],
                   c.epochs[begin + min_i], c.times_us[begin + min_i]};
    b.max_point = {c.steps[begin + max_i], c.values[begin + max_i],
                   c.epochs[begin + max_i], c.times_us[begin + max_i]};
  }
  p.series.blocks.push_back(b);
  if (!p.view_ok) return absl::OkStatus();
  SeriesView& view = p.view;
  for (size_t sub = begin; sub < end; sub += kViewSubBlockPoints) {
    const size_t sub_n = std::min(end - sub, kViewSubBlockPoints);
    if (!FirstExtremes(c.values.data() + sub, sub_n, &min_i, &max_i)) {
      view.min_index.push_back(SeriesView::kNone);
      view.max_index.push_back(SeriesView::kNone);
      continue;
    }
    view.min_index.push_back(static_cast<uint16_t>(min_i));
    view.max_index.push_back(static_cast<uint16_t>(max_i));
    AppendPoint(c, sub + min_i, &view.points);
    AppendPoint(c, sub + max_i, &view.points);
  }
  if (view.points.size() > 2 * kMaxViewSubBlocks) {
    p.view_ok = false;  // too long for one view: its memory is released
    view = SeriesView();
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<size_t> CompactedRunWriter::AddGeneric(size_t series,
                                                      const SeriesColumns<T>& c,
                                                      size_t begin, bool all) {
  Pending& p = series_.at(series);
  size_t at = begin;
  while (at < c.size()) {
    size_t end = at;
    size_t bytes = 0;
    while (end < c.size() && end - at < kCompactedBlockPoints &&
           (end == at ||
            bytes + GenericSize(c.values[end]) <= kGenericBlockBytes)) {
      bytes += GenericSize(c.values[end]);
      ++end;
    }
    // A block that ends with the points, not at a limit, may still grow.
    if (!all && end == c.size() && end - at < kCompactedBlockPoints) break;
    std::string raw;
    PutVarint64(&raw, end - at);
    for (size_t i = at; i < end; ++i) {
      PutSignedVarint(&raw, c.steps[i]);
      PutDouble(&raw, c.epochs[i]);
      PutSignedVarint(&raw, c.times_us[i]);
    }
    for (size_t i = at; i < end; ++i) PutGenericValue(&raw, c.values[i]);
    RUNLOG_ASSIGN_OR_RETURN(std::string payload, MaybeCompress(raw));
    BlockSummary b;
    RUNLOG_ASSIGN_OR_RETURN(b.handle,
                            file_->AddBlock(BlockType(p.series.kind), payload));
    b.count = static_cast<uint32_t>(end - at);
    StepExtent(c.steps, at, end, &b);
    p.series.blocks.push_back(b);
    at = end;
  }
  return at;
}

absl::StatusOr<size_t> CompactedRunWriter::AddTexts(size_t series,
                                                    const TextColumns& c,
                                                    size_t begin, bool all) {
  return AddGeneric(series, c, begin, all);
}
absl::StatusOr<size_t> CompactedRunWriter::AddHistograms(
    size_t series, const HistogramColumns& c, size_t begin, bool all) {
  return AddGeneric(series, c, begin, all);
}
absl::StatusOr<size_t> CompactedRunWriter::AddBlobs(size_t series,
                                                    const BlobColumns& c,
                                                    size_t begin, bool all) {
  return AddGeneric(series, c, begin, all);
}

size_t CompactedRunWriter::MetadataBytes() const {
  size_t bytes = 0;
  for (const Pending& p : series_) {
    bytes +=
        sizeof(Pending) + p.series.blocks.capacity() * sizeof(BlockSummary) +
        p.view.points.steps.capacity() * 32 + p.view.min_index.capacity() * 4;
  }
  return bytes;
}

absl::StatusOr<storage::SegmentInfo> CompactedRunWriter::Finish(bool sync) {
  CompactedFooter footer;
  footer.series.reserve(series_.size());
  for (Pending& p : series_) {
    if (p.series.kind == SeriesKind::kScalar && p.series.blocks.size() > 1 &&
        p.view_ok) {
      RUNLOG_ASSIGN_OR_RETURN(std::string chunk, EncodeSeriesView(p.view));
      RUNLOG_ASSIGN_OR_RETURN(p.series.view,
                              file_->AddBlock(kViewChunk, chunk));
      p.series.has_view = true;
    }
    p.view = SeriesView();
    footer.series.push_back(std::move(p.series));
  }
  series_.clear();
  return file_->Finish(EncodeCompactedFooter(footer), sync);
}

absl::StatusOr<storage::SegmentInfo> WriteCompactedRun(
    storage::FileSystem* fs, const std::string& dir, absl::string_view run_id,
    uint32_t number, const std::vector<SeriesSummary>& series,
    const std::vector<RunLogDecoder::SeriesPoints>& points, bool sync) {
  if (series.size() != points.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("compaction of run ", run_id, ": ", series.size(),
                     " series but points for ", points.size()));
  }
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<CompactedRunWriter> w,
                          CompactedRunWriter::Create(fs, dir, run_id, number));
  for (size_t i = 0; i < series.size(); ++i) {
    const size_t id = w->AddSeries(series[i].key, series[i].kind);
    const RunLogDecoder::SeriesPoints& p = points[i];
    switch (series[i].kind) {
      case SeriesKind::kScalar:
        for (size_t begin = 0; begin < p.scalars.size();
             begin += kCompactedBlockPoints) {
          RUNLOG_RETURN_IF_ERROR(w->AddScalarBlock(
              id, p.scalars, begin,
              std::min(p.scalars.size(), begin + kCompactedBlockPoints)));
        }
        break;
      case SeriesKind::kText:
        RUNLOG_RETURN_IF_ERROR(w->AddTexts(id, p.texts, 0, true).status());
        break;
      case SeriesKind::kHistogram:
        RUNLOG_RETURN_IF_ERROR(
            w->AddHistograms(id, p.histograms, 0, true).status());
        break;
      case SeriesKind::kBlob:
        RUNLOG_RETURN_IF_ERROR(w->AddBlobs(id, p.blobs, 0, true).status());
        break;
    }
  }
  return w->Finish(sync);
}

// ---- Reading ----------------------------------------------------------------

CompactedRunReader::CompactedRunReader(
    std::unique_ptr<storage::ColumnFileReader> file,
    std::shared_ptr<const CompactedIndex> index)
    : file_(std::move(file)), index_(std::move(index)) {}

absl::StatusOr<std::unique_ptr<CompactedRunReader>> CompactedRunReader::Open(
    storage::FileSystem* fs, const std::string& dir, absl::string_view run_id,
    const storage::SegmentInfo& info,
    std::shared_ptr<const CompactedIndex> known) {
  RUNLOG_ASSIGN_OR_RETURN(
      std::unique_ptr<storage::ColumnFileReader> file,
      storage::ColumnFileReader::Open(fs, dir, run_id, info));
  if (known == nullptr) {
    auto index = std::make_shared<CompactedIndex>();
    RUNLOG_ASSIGN_OR_RETURN(
        index->footer, DecodeCompactedFooter(file->footer(), file->path()));
    for (size_t i = 0; i < index->footer.series.size(); ++i) {
      index->by_key.emplace(index->footer.series[i].key, i);
    }
    known = std::move(index);
  }
  return std::unique_ptr<CompactedRunReader>(
      new CompactedRunReader(std::move(file), std::move(known)));
}

const CompactedSeries* CompactedRunReader::Find(const SeriesKey& key) const {
  auto it = index_->by_key.find(key);
  return it == index_->by_key.end() ? nullptr
                                    : &index_->footer.series[it->second];
}

absl::Status CompactedRunReader::DecodeScalarBlockInPlace(const BlockSummary& b,
                                                          size_t at,
                                                          ColumnSet columns,
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
  RUNLOG_ASSIGN_OR_RETURN(
      size_t n, runlog::DecodeScalarBlockAt(payload, where, at, columns, out));
  if (n != b.count) {
    return Damaged(
        where, absl::StrCat("holds ", n, " points, the footer says ", b.count));
  }
  return absl::OkStatus();
}

absl::Status CompactedRunReader::DecodeScalarBlockAt(const BlockSummary& b,
                                                     ScalarColumns* out) {
  const size_t before = out->size();
  ResizeColumns(out, before + b.count);
  absl::Status st = DecodeScalarBlockInPlace(b, before, ColumnSet::kAll, out);
  if (!st.ok()) ResizeColumns(out, before);
  return st;
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

absl::Status CompactedRunReader::ForEachScalarBlock(
    const CompactedSeries& s, size_t skip, ScalarColumns* block,
    absl::FunctionRef<absl::Status(const ScalarColumns& block, bool last)> fn) {
  if (s.kind != SeriesKind::kScalar) {
    return absl::InvalidArgumentError(
        absl::StrCat("series ", s.key.ToString(), " holds ",
                     SeriesKindName(s.kind), " values, not scalar"));
  }
  for (size_t i = 0; i < s.blocks.size(); ++i) {
    const BlockSummary& b = s.blocks[i];
    if (skip >= b.count) {
      skip -= b.count;
      continue;
    }
    ResizeColumns(block, b.count);
    RUNLOG_RETURN_IF_ERROR(
        DecodeScalarBlockInPlace(b, 0, ColumnSet::kAll, block));
    DropFrontPoints(skip, block);
    skip = 0;
    RUNLOG_RETURN_IF_ERROR(fn(*block, i + 1 == s.blocks.size()));
  }
  return absl::OkStatus();
}

absl::Status CompactedRunReader::ReadScalarsInto(const CompactedSeries& s,
                                                 StepRange range,
                                                 ScalarColumns* out,
                                                 ColumnSet columns) {
  if (s.kind != SeriesKind::kScalar) {
    *out = ScalarColumns();
    return absl::InvalidArgumentError(
        absl::StrCat("series ", s.key.ToString(), " holds ",
                     SeriesKindName(s.kind), " values, not scalar"));
  }
  size_t total = 0;
  for (const BlockSummary& b : s.blocks) {
    if (Overlaps(b, range)) total += b.count;
  }
  // Sized once from the footer and decoded in place: a reused `out` of the
  // same size is neither zero-filled nor copied into.
  auto size_columns = [&](size_t n) {
    auto fit = [&](ColumnSet c, auto& column) {
      if (Has(columns, c)) {
        column.resize(n);
      } else {
        column.clear();
      }
    };
    fit(ColumnSet::kSteps, out->steps);
    fit(ColumnSet::kValues, out->values);
    fit(ColumnSet::kEpochs, out->epochs);
    fit(ColumnSet::kTimes, out->times_us);
  };
  size_columns(total);
  size_t at = 0;
  for (const BlockSummary& b : s.blocks) {
    if (!Overlaps(b, range)) continue;
    if (Inside(b, range)) {
      RUNLOG_RETURN_IF_ERROR(DecodeScalarBlockInPlace(b, at, columns, out));
      at += b.count;
      continue;
    }
    // The range cuts this block: all its columns (steps decide) into
    // reused scratch, then the points inside the range.
    ResizeColumns(&partial_, b.count);
    RUNLOG_RETURN_IF_ERROR(
        DecodeScalarBlockInPlace(b, 0, ColumnSet::kAll, &partial_));
    const size_t n = b.count;
    for (size_t i = 0; i < n; ++i) {
      if (!range.Contains(partial_.steps[i])) continue;
      if (Has(columns, ColumnSet::kSteps)) out->steps[at] = partial_.steps[i];
      if (Has(columns, ColumnSet::kValues)) {
        out->values[at] = partial_.values[i];
      }
      if (Has(columns, ColumnSet::kEpochs)) {
        out->epochs[at] = partial_.epochs[i];
      }
      if (Has(columns, ColumnSet::kTimes)) {
        out->times_us[at] = partial_.times_us[i];
      }
      ++at;
    }
  }
  size_columns(at);
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

absl::StatusOr<const SeriesView*> CompactedRunReader::ViewOf(
    const CompactedSeries& s) {
  if (view_series_ == &s) return &view_;
  view_series_ = nullptr;
  uint8_t type;
  RUNLOG_ASSIGN_OR_RETURN(absl::string_view payload,
                          file_->ReadBlock(s.view, &type, &scratch_));
  const std::string where =
      absl::StrCat(file_->path(), ": view chunk at offset ", s.view.offset);
  if (type != kViewChunk) {
    return Damaged(where, absl::StrCat("chunk type ", type,
                                       " where a view chunk should be"));
  }
  RUNLOG_ASSIGN_OR_RETURN(view_, DecodeSeriesView(payload, s, where));
  view_series_ = &s;
  return &view_;
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
  // The selection as pieces in order: whole blocks (decoded only where a
  // bucket needs their points) and the filtered parts of blocks the range
  // cuts.
  struct Piece {
    const BlockSummary* block;  // a whole block, or nullptr
    size_t block_index = 0;     // in s.blocks, for whole blocks
    ScalarColumns points;       // the points of a cut block
    size_t begin = 0;           // selection index of its first point
    size_t size = 0;
  };
  std::vector<Piece> pieces;
  size_t n = 0;
  for (size_t bi = 0; bi < s.blocks.size(); ++bi) {
    const BlockSummary& b = s.blocks[bi];
    if (!Overlaps(b, range)) continue;
    Piece p;
    if (Inside(b, range)) {
      p.block = &b;
      p.block_index = bi;
      p.size = b.count;
    } else {
      p.block = nullptr;
      ScalarColumns all;
      RUNLOG_RETURN_IF_ERROR(DecodeScalarBlockAt(b, &all));
      AppendFiltered(std::move(all), range, &p.points);
      p.size = p.points.size();
      if (p.size == 0) continue;
    }
    p.begin = n;
    n += p.size;
    pieces.push_back(std::move(p));
  }
  // Buckets advance in order, so one decoded whole block at a time is
  // enough: decoded into reused columns, no allocation per block.
  const Piece* cached = nullptr;
  ScalarColumns& cache = partial_;
  auto points_of = [&](const Piece& p) -> absl::StatusOr<const ScalarColumns*> {
    if (p.block == nullptr) return &p.points;
    if (cached != &p) {
      cached = nullptr;
      ResizeColumns(&cache, p.size);
      RUNLOG_RETURN_IF_ERROR(
          DecodeScalarBlockInPlace(*p.block, 0, ColumnSet::kAll, &cache));
      cached = &p;
    }
    return &cache;
  };
  if (n <= max_points) {
    ScalarColumns out;
    out.steps.reserve(n);
    out.values.reserve(n);
    out.epochs.reserve(n);
    out.times_us.reserve(n);
    for (const Piece& p : pieces) {
      RUNLOG_ASSIGN_OR_RETURN(const ScalarColumns* c, points_of(p));
      for (size_t k = 0; k < c->size(); ++k) AppendPoint(*c, k, &out);
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
  auto record_of = [](const ScalarColumns& c, size_t k) {
    return PointRecord{c.steps[k], c.values[k], c.epochs[k], c.times_us[k]};
  };
  auto piece_of = [&](size_t i) -> const Piece& {
    auto it =
        std::upper_bound(pieces.begin(), pieces.end(), i,
                         [](size_t v, const Piece& p) { return v < p.begin; });
    return *(it - 1);
  };
  auto point_at = [&](size_t i) -> absl::StatusOr<PointRecord> {
    const Piece& p = piece_of(i);
    RUNLOG_ASSIGN_OR_RETURN(const ScalarColumns* c, points_of(p));
    return record_of(*c, i - p.begin);
  };
  // The view, read on the first bucket that can use it; a read that never
  // needs it (buckets of whole blocks, or none aligned) never reads it.
  bool view_tried = false;
  const SeriesView* view = nullptr;
  auto view_for_segment = [&](const Piece& p, size_t from,
                              size_t to) -> absl::StatusOr<const SeriesView*> {
    if (!s.has_view || p.block == nullptr) return nullptr;
    if (from % kViewSubBlockPoints != 0) return nullptr;
    if (to % kViewSubBlockPoints != 0 && to != p.size) return nullptr;
    if (!view_tried) {
      view_tried = true;
      RUNLOG_ASSIGN_OR_RETURN(view, ViewOf(s));
    }
    return view;
  };

  RUNLOG_ASSIGN_OR_RETURN(PointRecord first, point_at(0));
  take_point(first);
  for (const auto& [lo, hi] : DownsampleBuckets(n, max_points)) {
    // The first minimum and maximum in [lo, hi), and their selection index.
    bool found = false;
    PointRecord min_p, max_p;
    size_t min_i = 0, max_i = 0;
    auto consider = [&](const PointRecord& min_r, size_t min_at,
                        const PointRecord& max_r, size_t max_at) {
      if (!found || min_r.value < min_p.value) min_p = min_r, min_i = min_at;
      if (!found || max_r.value > max_p.value) max_p = max_r, max_i = max_at;
      found = true;
    };
    const Piece* p = &piece_of(lo);
    for (size_t at = lo; at < hi;) {
      const size_t piece_end = p->begin + p->size;
      const size_t seg_end = std::min(hi, piece_end);
      const size_t from = at - p->begin, to = seg_end - p->begin;
      const bool whole = from == 0 && to == p->size;
      const SeriesView* v = nullptr;
      if (p->block != nullptr && !(whole && cached != p)) {
        RUNLOG_ASSIGN_OR_RETURN(v, view_for_segment(*p, from, to));
      }
      if (whole && p->block != nullptr && cached != p &&
          p->block->extremes_stored) {
        const BlockSummary& b = *p->block;
        if (b.has_extremes) {
          consider(b.min_point, p->begin + b.min_index, b.max_point,
                   p->begin + b.max_index);
        }
      } else if (v != nullptr && cached != p) {
        const size_t base = v->first_sub_block[p->block_index];
        for (size_t k = from; k < to; k += kViewSubBlockPoints) {
          const size_t j = base + k / kViewSubBlockPoints;
          if (v->min_index[j] == SeriesView::kNone) continue;
          const size_t pa = v->point_at[j];
          consider(record_of(v->points, pa), p->begin + k + v->min_index[j],
                   record_of(v->points, pa + 1),
                   p->begin + k + v->max_index[j]);
        }
      } else {
        RUNLOG_ASSIGN_OR_RETURN(const ScalarColumns* c, points_of(*p));
        size_t lo_k, hi_k;
        if (FirstExtremes(c->values.data() + from, to - from, &lo_k, &hi_k)) {
          consider(record_of(*c, from + lo_k), at + lo_k,
                   record_of(*c, from + hi_k), at + hi_k);
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

namespace {

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Whether sub-block j of a view holds what decoding its points gives.
bool ViewMatches(const SeriesView& v, size_t j, const ScalarColumns& c,
                 size_t from, size_t size) {
  size_t lo, hi;
  if (!FirstExtremes(c.values.data() + from, size, &lo, &hi)) {
    return v.min_index[j] == SeriesView::kNone;
  }
  if (v.min_index[j] != lo || v.max_index[j] != hi) return false;
  for (size_t q = 0; q < 2; ++q) {
    const size_t k = from + (q == 0 ? lo : hi);
    const size_t at = v.point_at[j] + q;
    if (v.points.steps[at] != c.steps[k] ||
        !SameBits(v.points.values[at], c.values[k]) ||
        !SameBits(v.points.epochs[at], c.epochs[k]) ||
        v.points.times_us[at] != c.times_us[k]) {
      return false;
    }
  }
  return true;
}

}  // namespace

int64_t CompactedRunReader::Verify(const storage::SegmentInfo& info,
                                   std::vector<absl::Status>* problems) {
  absl::Status whole = file_->VerifyWholeFile(info);
  if (!whole.ok()) problems->push_back(std::move(whole));
  int64_t points = 0;
  for (const CompactedSeries& s : index_->footer.series) {
    const SeriesView* view = nullptr;
    if (s.has_view) {
      absl::StatusOr<const SeriesView*> v = ViewOf(s);
      if (v.ok()) {
        view = *v;
      } else {
        problems->push_back(v.status());
      }
    }
    for (size_t bi = 0; bi < s.blocks.size(); ++bi) {
      const BlockSummary& b = s.blocks[bi];
      absl::Status st = WithColumnsOf(s.kind, [&](auto columns) {
        RUNLOG_RETURN_IF_ERROR(DecodeBlockAt(b, s.kind, &columns));
        if constexpr (std::is_same_v<decltype(columns), ScalarColumns>) {
          if (view == nullptr) return absl::OkStatus();
          const size_t base = view->first_sub_block[bi];
          for (size_t k = 0; k < b.count; k += kViewSubBlockPoints) {
            const size_t size =
                std::min<size_t>(b.count - k, kViewSubBlockPoints);
            if (!ViewMatches(*view, base + k / kViewSubBlockPoints, columns, k,
                             size)) {
              return Damaged(
                  absl::StrCat(file_->path(), ": view chunk at offset ",
                               s.view.offset),
                  absl::StrCat("sub-block ", k / kViewSubBlockPoints,
                               " of the block at offset ", b.handle.offset,
                               " disagrees with the block's points"));
            }
          }
        }
        return absl::OkStatus();
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
