#include "tracking/run_summary.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/coding.h"
#include "storage/status_macros.h"
#include "tracking/codec/column_codec.h"
#include "tracking/codec/record_format.h"
#include "tracking/codec/value_codec.h"

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

void PutContext(std::string* out, const Context& context) {
  PutVarint64(out, context.size());
  for (const auto& [k, v] : context) {
    PutString(out, k);
    PutString(out, v);
  }
}

}  // namespace

// Summary layout (all after the version byte):
//   created µs zig-zag | experiment | name | description (strings) |
//   tag count varint, tags | params value |
//   series count varint, then per series:
//     kind u8 (record::SeriesKindCode) | name | context (count varint,
//     key/value strings) | count varint | first step, last step (zig-zag) |
//     first, last, min, max f64
std::string EncodeRunSummary(const RunSummary& s) {
  std::string out;
  out.push_back(static_cast<char>(record::kSummaryVersion));
  PutSignedVarint(&out, absl::ToUnixMicros(s.created));
  PutString(&out, s.experiment);
  PutString(&out, s.name);
  PutString(&out, s.description);
  PutVarint64(&out, s.tags.size());
  for (const std::string& t : s.tags) PutString(&out, t);
  EncodeValue(s.params, &out);
  PutVarint64(&out, s.series.size());
  for (const SeriesSummary& ss : s.series) {
    // Same kind codes as DefineSeries records (record::SeriesKindCode).
    out.push_back(static_cast<char>(static_cast<int>(ss.kind) + 1));
    PutString(&out, ss.key.name);
    PutContext(&out, ss.key.context);
    PutVarint64(&out, static_cast<uint64_t>(ss.count));
    PutSignedVarint(&out, ss.first_step);
    PutSignedVarint(&out, ss.last_step);
    PutDouble(&out, ss.first);
    PutDouble(&out, ss.last);
    PutDouble(&out, ss.min);
    PutDouble(&out, ss.max);
  }
  return out;
}

namespace {

absl::Status ParseSeriesPart(absl::string_view bytes, absl::string_view in,
                             absl::string_view location, RunSummaryView* view);

}  // namespace

absl::Status ParseRunSummaryView(absl::string_view bytes,
                                 absl::string_view location,
                                 RunSummaryView* view, bool with_series) {
  absl::string_view in = bytes;
  auto damaged = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(location, ": run summary offset ",
                                            bytes.size() - in.size(), ": ",
                                            what));
  };
  view->has_series = false;
  view->series.clear();
  view->location = location;
  if (in.empty()) return damaged("empty");
  if (static_cast<uint8_t>(in[0]) != record::kSummaryVersion) {
    return absl::UnimplementedError(absl::StrCat(
        location, ": run summary version ",
        static_cast<int>(static_cast<uint8_t>(in[0])), " is not supported"));
  }
  in.remove_prefix(1);
  RunSummaryView& s = *view;
  int64_t created;
  if (!GetSignedVarint(&in, &created) ||
      !GetString(&in, record::kMaxMetaStringLength, &s.experiment) ||
      !GetString(&in, record::kMaxMetaStringLength, &s.name) ||
      !GetString(&in, record::kMaxMetaStringLength, &s.description)) {
    return damaged("bad run info");
  }
  s.created = absl::FromUnixMicros(created);
  uint64_t tags;
  if (!GetVarint64(&in, &tags) || tags > record::kMaxTags) {
    return damaged("bad tag count");
  }
  s.tags.clear();
  for (uint64_t i = 0; i < tags; ++i) {
    absl::string_view t;
    if (!GetString(&in, record::kMaxMetaStringLength, &t)) {
      return damaged("bad tag");
    }
    s.tags.push_back(t);
  }
  s.params_offset = bytes.size() - in.size();
  if (!with_series) {
    s.params = in;
    return absl::OkStatus();
  }
  return ParseSeriesPart(bytes, in, location, view);
}

absl::Status ParseRunSummaryViewSeries(RunSummaryView* view) {
  if (view->has_series) return absl::OkStatus();
  // `params` runs to the end of the summary while the series are unread.
  const absl::string_view rest = view->params;
  // The offsets of errors count from the summary's start.
  absl::string_view bytes(rest.data() - view->params_offset,
                          view->params_offset + rest.size());
  return ParseSeriesPart(bytes, rest, view->location, view);
}

namespace {

absl::Status ParseSeriesPart(absl::string_view bytes, absl::string_view in,
                             absl::string_view location, RunSummaryView* view) {
  RunSummaryView& s = *view;
  auto damaged = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(location, ": run summary offset ",
                                            bytes.size() - in.size(), ": ",
                                            what));
  };
  absl::string_view after = in;
  if (absl::Status st = SkipValue(&after); !st.ok()) {
    // DecodeValue names the damage precisely.
    absl::string_view probe = in;
    absl::StatusOr<Value> v = DecodeValue(&probe);
    return damaged(v.ok() ? st.message() : v.status().message());
  }
  s.params = in.substr(0, in.size() - after.size());
  in = after;
  uint64_t series;
  // Each series takes at least 38 bytes, which bounds the count by the input
  // before anything is reserved.
  if (!GetVarint64(&in, &series) || series > record::kMaxSeriesPerRun ||
      series > in.size() / 38) {
    return damaged("bad series count");
  }
  s.series.clear();
  s.series.reserve(static_cast<size_t>(series));
  for (uint64_t i = 0; i < series; ++i) {
    RunSummaryView::Series ss;
    if (in.empty()) return damaged("truncated series");
    const uint8_t kind = static_cast<uint8_t>(in[0]);
    if (kind < static_cast<uint8_t>(record::SeriesKindCode::kScalar) ||
        kind > static_cast<uint8_t>(record::SeriesKindCode::kBlob)) {
      return damaged("unknown series kind");
    }
    in.remove_prefix(1);
    ss.kind = static_cast<SeriesKind>(kind - 1);
    uint64_t ctx;
    if (!GetString(&in, record::kMaxSeriesNameLength, &ss.name) ||
        !GetVarint64(&in, &ctx) || ctx > record::kMaxContextEntries) {
      return damaged("bad series name or context");
    }
    for (uint64_t c = 0; c < ctx; ++c) {
      absl::string_view k, v;
      if (!GetString(&in, record::kMaxContextStringLength, &k) ||
          !GetString(&in, record::kMaxContextStringLength, &v)) {
        return damaged("bad context entry");
      }
      ss.context.emplace_back(k, v);
    }
    uint64_t count;
    if (!GetVarint64(&in, &count) || !GetSignedVarint(&in, &ss.first_step) ||
        !GetSignedVarint(&in, &ss.last_step) || !GetDouble(&in, &ss.first) ||
        !GetDouble(&in, &ss.last) || !GetDouble(&in, &ss.min) ||
        !GetDouble(&in, &ss.max)) {
      return damaged("bad series summary");
    }
    ss.count = static_cast<int64_t>(count);
    s.series.push_back(std::move(ss));
  }
  if (!in.empty()) return damaged("trailing bytes");
  s.has_series = true;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RunSummary> DecodeRunSummary(absl::string_view bytes,
                                            absl::string_view location) {
  RunSummaryView view;
  RUNLOG_RETURN_IF_ERROR(ParseRunSummaryView(bytes, location, &view));
  RunSummary s;
  s.created = view.created;
  s.experiment = std::string(view.experiment);
  s.name = std::string(view.name);
  s.description = std::string(view.description);
  for (absl::string_view t : view.tags) s.tags.emplace(t);
  absl::string_view in = view.params;
  absl::StatusOr<Value> params = DecodeValue(&in);
  if (!params.ok() || !in.empty()) {
    return absl::DataLossError(absl::StrCat(
        location, ": run summary offset ", view.params_offset, ": ",
        params.ok() ? "params end early" : params.status().message()));
  }
  s.params = *std::move(params);
  s.series.reserve(view.series.size());
  for (const RunSummaryView::Series& v : view.series) {
    SeriesSummary ss;
    ss.kind = v.kind;
    ss.key.name = std::string(v.name);
    for (const auto& [k, val] : v.context) {
      ss.key.context.emplace(std::string(k), std::string(val));
    }
    ss.count = v.count;
    ss.first_step = v.first_step;
    ss.last_step = v.last_step;
    ss.first = v.first;
    ss.last = v.last;
    ss.min = v.min;
    ss.max = v.max;
    s.series.push_back(std::move(ss));
  }
  return s;
}

}  // namespace runlog
