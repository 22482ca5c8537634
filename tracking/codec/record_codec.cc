#include "tracking/codec/record_codec.h"

#include "storage/coding.h"
#include "tracking/codec/column_codec.h"
#include "tracking/codec/value_codec.h"

namespace runlog::record {
namespace {

using storage::PutVarint64;

void EncodeTimes(absl::Span<const int64_t> times_us, std::string* out) {
  EncodeDeltas(times_us, out);
}
void EncodeTimes(absl::Span<const ValueRun> time_runs, std::string* out) {
  EncodeDeltaRuns(time_runs, out);
}

template <typename Times>
void PutColumnsHeader(std::string* body, uint32_t id,
                      absl::Span<const int64_t> steps,
                      absl::Span<const double> epochs, Times times) {
  PutVarint64(body, id);
  PutVarint64(body, steps.size());
  EncodeSteps(steps, body);
  EncodeTimes(times, body);
  EncodeEpochs(epochs, body);
}

template <typename Times>
void ScalarPoints(std::string* chunk, std::string* scratch, uint32_t id,
                  absl::Span<const int64_t> steps,
                  absl::Span<const double> values,
                  absl::Span<const double> epochs, Times times) {
  scratch->clear();
  PutColumnsHeader(scratch, id, steps, epochs, times);
  EncodeXorDoubles(values, scratch);
  AppendRecord(chunk, RecordType::kScalarPoints, *scratch);
}

template <typename Times>
void TextPoints(std::string* chunk, std::string* scratch, uint32_t id,
                absl::Span<const int64_t> steps,
                absl::Span<const std::string> values,
                absl::Span<const double> epochs, Times times) {
  scratch->clear();
  PutColumnsHeader(scratch, id, steps, epochs, times);
  for (const std::string& v : values) PutString(scratch, v);
  AppendRecord(chunk, RecordType::kTextPoints, *scratch);
}

template <typename Times>
void HistogramPoints(std::string* chunk, std::string* scratch, uint32_t id,
                     absl::Span<const int64_t> steps,
                     absl::Span<const Histogram> values,
                     absl::Span<const double> epochs, Times times) {
  scratch->clear();
  PutColumnsHeader(scratch, id, steps, epochs, times);
  for (const Histogram& h : values) {
    PutVarint64(scratch, h.counts.size());
    for (double e : h.edges) PutDouble(scratch, e);
    for (double c : h.counts) PutDouble(scratch, c);
  }
  AppendRecord(chunk, RecordType::kHistogramPoints, *scratch);
}

}  // namespace

void AppendRecord(std::string* chunk, RecordType type, absl::string_view body) {
  chunk->push_back(static_cast<char>(type));
  PutVarint64(chunk, body.size());
  chunk->append(body.data(), body.size());
}

void AppendRunInfo(std::string* chunk, absl::Time created,
                   absl::string_view experiment, absl::string_view name,
                   absl::string_view description) {
  std::string body;
  PutSignedVarint(&body, absl::ToUnixMicros(created));
  PutString(&body, experiment);
  PutString(&body, name);
  PutString(&body, description);
  AppendRecord(chunk, RecordType::kRunInfo, body);
}

void AppendStringRecord(std::string* chunk, RecordType type,
                        absl::string_view s) {
  std::string body;
  PutString(&body, s);
  AppendRecord(chunk, type, body);
}

void AppendSetParam(std::string* chunk, absl::string_view path,
                    const Value& value) {
  std::string body;
  PutString(&body, path);
  EncodeValue(value, &body);
  AppendRecord(chunk, RecordType::kSetParam, body);
}

void AppendMergeParams(std::string* chunk, const Value& patch) {
  std::string body;
  EncodeValue(patch, &body);
  AppendRecord(chunk, RecordType::kMergeParams, body);
}

void AppendDefineSeries(std::string* chunk, uint32_t id, SeriesKind kind,
                        const SeriesKey& key) {
  std::string body;
  PutVarint64(&body, id);
  SeriesKindCode code = SeriesKindCode::kScalar;
  switch (kind) {
    case SeriesKind::kScalar:
      code = SeriesKindCode::kScalar;
      break;
    case SeriesKind::kText:
      code = SeriesKindCode::kText;
      break;
    case SeriesKind::kHistogram:
      code = SeriesKindCode::kHistogram;
      break;
    case SeriesKind::kBlob:
      code = SeriesKindCode::kBlob;
      break;
  }
  body.push_back(static_cast<char>(code));
  PutString(&body, key.name);
  PutVarint64(&body, key.context.size());
  for (const auto& [k, v] : key.context) {
    PutString(&body, k);
    PutString(&body, v);
  }
  AppendRecord(chunk, RecordType::kDefineSeries, body);
}

void AppendScalarPoints(std::string* chunk, std::string* scratch, uint32_t id,
                        absl::Span<const int64_t> steps,
                        absl::Span<const double> values,
                        absl::Span<const double> epochs,
                        absl::Span<const int64_t> times_us) {
  ScalarPoints(chunk, scratch, id, steps, values, epochs, times_us);
}
void AppendScalarPoints(std::string* chunk, std::string* scratch, uint32_t id,
                        absl::Span<const int64_t> steps,
                        absl::Span<const double> values,
                        absl::Span<const double> epochs,
                        absl::Span<const ValueRun> time_runs) {
  ScalarPoints(chunk, scratch, id, steps, values, epochs, time_runs);
}

void AppendTextPoints(std::string* chunk, std::string* scratch, uint32_t id,
                      absl::Span<const int64_t> steps,
                      absl::Span<const std::string> values,
                      absl::Span<const double> epochs,
                      absl::Span<const int64_t> times_us) {
  TextPoints(chunk, scratch, id, steps, values, epochs, times_us);
}
void AppendTextPoints(std::string* chunk, std::string* scratch, uint32_t id,
                      absl::Span<const int64_t> steps,
                      absl::Span<const std::string> values,
                      absl::Span<const double> epochs,
                      absl::Span<const ValueRun> time_runs) {
  TextPoints(chunk, scratch, id, steps, values, epochs, time_runs);
}

void AppendHistogramPoints(std::string* chunk, std::string* scratch,
                           uint32_t id, absl::Span<const int64_t> steps,
                           absl::Span<const Histogram> values,
                           absl::Span<const double> epochs,
                           absl::Span<const int64_t> times_us) {
  HistogramPoints(chunk, scratch, id, steps, values, epochs, times_us);
}
void AppendHistogramPoints(std::string* chunk, std::string* scratch,
                           uint32_t id, absl::Span<const int64_t> steps,
                           absl::Span<const Histogram> values,
                           absl::Span<const double> epochs,
                           absl::Span<const ValueRun> time_runs) {
  HistogramPoints(chunk, scratch, id, steps, values, epochs, time_runs);
}

std::string EncodeBlobPoint(uint32_t id, int64_t step, int64_t time_us,
                            double epoch, const Blob& blob) {
  std::string out;
  out.reserve(blob.data.size() + blob.content_type.size() + 32);
  PutVarint64(&out, id);
  PutSignedVarint(&out, step);
  PutSignedVarint(&out, time_us);
  PutDouble(&out, epoch);
  PutString(&out, blob.content_type);
  out.append(blob.data);
  return out;
}

}  // namespace runlog::record
