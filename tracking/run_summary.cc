#include "tracking/run_summary.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/coding.h"
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

absl::StatusOr<RunSummary> DecodeRunSummary(absl::string_view bytes,
                                            absl::string_view location) {
  absl::string_view in = bytes;
  auto damaged = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(location, ": run summary offset ",
                                            bytes.size() - in.size(), ": ",
                                            what));
  };
  if (in.empty()) return damaged("empty");
  if (static_cast<uint8_t>(in[0]) != record::kSummaryVersion) {
    return absl::UnimplementedError(absl::StrCat(
        location, ": run summary version ",
        static_cast<int>(static_cast<uint8_t>(in[0])), " is not supported"));
  }
  in.remove_prefix(1);
  RunSummary s;
  int64_t created;
  absl::string_view experiment, name, description;
  if (!GetSignedVarint(&in, &created) ||
      !GetString(&in, record::kMaxMetaStringLength, &experiment) ||
      !GetString(&in, record::kMaxMetaStringLength, &name) ||
      !GetString(&in, record::kMaxMetaStringLength, &description)) {
    return damaged("bad run info");
  }
  s.created = absl::FromUnixMicros(created);
  s.experiment = std::string(experiment);
  s.name = std::string(name);
  s.description = std::string(description);
  uint64_t tags;
  if (!GetVarint64(&in, &tags) || tags > record::kMaxTags) {
    return damaged("bad tag count");
  }
  for (uint64_t i = 0; i < tags; ++i) {
    absl::string_view t;
    if (!GetString(&in, record::kMaxMetaStringLength, &t)) {
      return damaged("bad tag");
    }
    s.tags.emplace(t);
  }
  absl::StatusOr<Value> params = DecodeValue(&in);
  if (!params.ok()) return damaged(params.status().message());
  s.params = *std::move(params);
  uint64_t series;
  // Each series takes at least 38 bytes, which bounds the count by the input
  // before anything is reserved.
  if (!GetVarint64(&in, &series) || series > record::kMaxSeriesPerRun ||
      series > in.size() / 38) {
    return damaged("bad series count");
  }
  s.series.reserve(static_cast<size_t>(series));
  for (uint64_t i = 0; i < series; ++i) {
    SeriesSummary ss;
    if (in.empty()) return damaged("truncated series");
    const uint8_t kind = static_cast<uint8_t>(in[0]);
    if (kind < static_cast<uint8_t>(record::SeriesKindCode::kScalar) ||
        kind > static_cast<uint8_t>(record::SeriesKindCode::kBlob)) {
      return damaged("unknown series kind");
    }
    in.remove_prefix(1);
    ss.kind = static_cast<SeriesKind>(kind - 1);
    absl::string_view sname;
    uint64_t ctx;
    if (!GetString(&in, record::kMaxSeriesNameLength, &sname) ||
        !GetVarint64(&in, &ctx) || ctx > record::kMaxContextEntries) {
      return damaged("bad series name or context");
    }
    ss.key.name = std::string(sname);
    for (uint64_t c = 0; c < ctx; ++c) {
      absl::string_view k, v;
      if (!GetString(&in, record::kMaxContextStringLength, &k) ||
          !GetString(&in, record::kMaxContextStringLength, &v)) {
        return damaged("bad context entry");
      }
      ss.key.context.emplace(std::string(k), std::string(v));
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
  return s;
}

}  // namespace runlog
