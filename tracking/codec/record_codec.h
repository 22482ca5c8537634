// Encoding of tracking records into kChunkRecords payloads and of blob points
// into kChunkBlob payloads (record_format.h, docs/format.md).
#ifndef RUNLOG_TRACKING_CODEC_RECORD_CODEC_H_
#define RUNLOG_TRACKING_CODEC_RECORD_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tracking/codec/column_codec.h"
#include "tracking/codec/record_format.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace runlog::record {

// Appends `type | varint(body.size()) | body` to `chunk`.
void AppendRecord(std::string* chunk, RecordType type, absl::string_view body);

void AppendRunInfo(std::string* chunk, absl::Time created,
                   absl::string_view experiment, absl::string_view name,
                   absl::string_view description);
// kAddTag, kRemoveTag, kSetName, kSetDescription: one string.
void AppendStringRecord(std::string* chunk, RecordType type,
                        absl::string_view s);
void AppendSetParam(std::string* chunk, absl::string_view path,
                    const Value& value);
void AppendMergeParams(std::string* chunk, const Value& patch);
void AppendDefineSeries(std::string* chunk, uint32_t id, SeriesKind kind,
                        const SeriesKey& key);

// Points of one series; all spans have the same length (>= 1, at most
// kMaxPointsPerRecord), except that `epochs` may be empty when no point has
// an epoch (encoded like all NaN). `scratch` is reused to avoid allocations.
void AppendScalarPoints(std::string* chunk, std::string* scratch, uint32_t id,
                        absl::Span<const int64_t> steps,
                        absl::Span<const double> values,
                        absl::Span<const double> epochs,
                        absl::Span<const int64_t> times_us);
void AppendTextPoints(std::string* chunk, std::string* scratch, uint32_t id,
                      absl::Span<const int64_t> steps,
                      absl::Span<const std::string> values,
                      absl::Span<const double> epochs,
                      absl::Span<const int64_t> times_us);
void AppendHistogramPoints(std::string* chunk, std::string* scratch,
                           uint32_t id, absl::Span<const int64_t> steps,
                           absl::Span<const Histogram> values,
                           absl::Span<const double> epochs,
                           absl::Span<const int64_t> times_us);

// The same records with the times given as runs of equal times (as many
// points as the other spans; column_codec.h).
void AppendScalarPoints(std::string* chunk, std::string* scratch, uint32_t id,
                        absl::Span<const int64_t> steps,
                        absl::Span<const double> values,
                        absl::Span<const double> epochs,
                        absl::Span<const ValueRun> time_runs);
void AppendTextPoints(std::string* chunk, std::string* scratch, uint32_t id,
                      absl::Span<const int64_t> steps,
                      absl::Span<const std::string> values,
                      absl::Span<const double> epochs,
                      absl::Span<const ValueRun> time_runs);
void AppendHistogramPoints(std::string* chunk, std::string* scratch,
                           uint32_t id, absl::Span<const int64_t> steps,
                           absl::Span<const Histogram> values,
                           absl::Span<const double> epochs,
                           absl::Span<const ValueRun> time_runs);

// The payload of a kChunkBlob chunk holding one blob point.
std::string EncodeBlobPoint(uint32_t id, int64_t step, int64_t time_us,
                            double epoch, const Blob& blob);

}  // namespace runlog::record

#endif  // RUNLOG_TRACKING_CODEC_RECORD_CODEC_H_
