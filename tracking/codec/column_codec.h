// Encoders and decoders for the point columns of tracking records
// (record_format.h). Decoders consume from the front of `*in`, never read past
// it, and return false on truncated or malformed input; callers turn that
// into DataLoss with a location.
#ifndef RUNLOG_TRACKING_CODEC_COLUMN_CODEC_H_
#define RUNLOG_TRACKING_CODEC_COLUMN_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace runlog::record {

// Steps: first zig-zag varint, then zig-zag(step[i] - step[i-1] - 1), so a
// run of consecutive steps costs one byte each.
void EncodeSteps(absl::Span<const int64_t> steps, std::string* out);
bool DecodeSteps(absl::string_view* in, size_t n, std::vector<int64_t>* out);

// Times (µs): first zig-zag varint, then zig-zag deltas.
void EncodeDeltas(absl::Span<const int64_t> values, std::string* out);
// `count` consecutive entries equal to `value`.
struct ValueRun {
  int64_t value;
  size_t count;
};
// The same bytes as EncodeDeltas() of the column the runs expand to, without
// expanding it: each run is one delta and then count - 1 zero bytes.
void EncodeDeltaRuns(absl::Span<const ValueRun> runs, std::string* out);
bool DecodeDeltas(absl::string_view* in, size_t n, std::vector<int64_t>* out);

// Doubles: first as 8 bytes LE, then XOR with the previous value's bits,
// stored as a control byte (kXorUnchanged = 0xff for an unchanged value,
// else (leading zero bytes << 4) | trailing zero bytes) followed by the
// remaining middle bytes.
void EncodeXorDoubles(absl::Span<const double> values, std::string* out);
bool DecodeXorDoubles(absl::string_view* in, size_t n,
                      std::vector<double>* out);

// Epochs: a flag byte, then nothing (all NaN), one f64 (all equal), or an XOR
// column.
void EncodeEpochs(absl::Span<const double> epochs, std::string* out);
bool DecodeEpochs(absl::string_view* in, size_t n, std::vector<double>* out);

// Length-prefixed string: varint length, bytes.
void PutString(std::string* out, absl::string_view s);
bool GetString(absl::string_view* in, size_t max_length, absl::string_view* s);
void PutSignedVarint(std::string* out, int64_t v);
bool GetSignedVarint(absl::string_view* in, int64_t* v);
void PutDouble(std::string* out, double v);
bool GetDouble(absl::string_view* in, double* v);

}  // namespace runlog::record

#endif  // RUNLOG_TRACKING_CODEC_COLUMN_CODEC_H_
