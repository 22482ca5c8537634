// Format constants of the tracking layer: the records inside kChunkRecords
// chunks, the blob chunks, and the run summary stored in COMMIT. Shared by
// every encoder and decoder; docs/format.md ("Tracking records") describes
// each byte.
//
// A kChunkRecords payload is a sequence of records:
//   type u8 | body length varint | body
// so a reader can skip records it does not need (or know) without decoding.
#ifndef RUNLOG_TRACKING_CODEC_RECORD_FORMAT_H_
#define RUNLOG_TRACKING_CODEC_RECORD_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace runlog::record {

enum class RecordType : uint8_t {
  kRunInfo = 0x01,          // created µs, experiment, name, description
  kSetParam = 0x02,         // path, value
  kMergeParams = 0x03,      // value (a map), deep-merged into the params
  kAddTag = 0x04,           // tag
  kRemoveTag = 0x05,        // tag
  kSetName = 0x06,          // name
  kSetDescription = 0x07,   // description
  kDefineSeries = 0x10,     // series id, kind, name, context
  kScalarPoints = 0x11,     // series id, columns
  kTextPoints = 0x12,       // series id, columns, strings
  kHistogramPoints = 0x13,  // series id, columns, histograms
};
// Record types >= this may be skipped by readers that do not know them.
inline constexpr uint8_t kFirstIgnorableRecordType = 0x80;

// Series kinds (kDefineSeries).
enum class SeriesKindCode : uint8_t {
  kScalar = 1,
  kText = 2,
  kHistogram = 3,
  kBlob = 4,
};

// Point columns of kScalarPoints / kTextPoints / kHistogramPoints:
//   count varint (>= 1)
//   steps: first zig-zag varint, then zig-zag(step[i] - step[i-1] - 1)
//   times: µs since the Unix epoch; first zig-zag varint, then zig-zag deltas
//   epochs: flag u8 (kEpochsNone | kEpochsConstant + f64 | kEpochsXor + xor
//   column) values (scalar only): xor column
// An xor column encodes doubles: the first as 8 bytes LE; each next one as
// x = bits ^ previous bits: a control byte kXorUnchanged when x == 0,
// otherwise (leading zero bytes << 4) | trailing zero bytes (both 0..7),
// then the 8 - leading - trailing middle bytes, little-endian.
inline constexpr uint8_t kXorUnchanged = 0xff;
inline constexpr uint8_t kEpochsNone = 0;
inline constexpr uint8_t kEpochsConstant = 1;
inline constexpr uint8_t kEpochsXor = 2;

// Limits, checked when writing (InvalidArgument) and reading (DataLoss).
inline constexpr size_t kMaxSeriesNameLength = 1024;
inline constexpr size_t kMaxContextEntries = 64;
inline constexpr size_t kMaxContextStringLength = 1024;
inline constexpr size_t kMaxMetaStringLength = 64 * 1024;  // name, tags...
inline constexpr size_t kMaxTags = 4096;
inline constexpr size_t kMaxTextLength = 16u << 20;
inline constexpr size_t kMaxHistogramBins = 1u << 20;
inline constexpr size_t kMaxBlobSize = 48u << 20;  // under kMaxChunkPayload
inline constexpr size_t kMaxContentTypeLength = 256;
inline constexpr uint32_t kMaxSeriesPerRun = 1u << 20;
// At most this many points per points record.
inline constexpr uint32_t kMaxPointsPerRecord = 1u << 20;

// A kChunkBlob payload holds one blob point:
//   series id varint | step zig-zag varint | time µs zig-zag varint |
//   epoch f64 (NaN = none) | content type (varint length + bytes) | bytes
//
// The run summary (COMMIT's opaque payload) starts with this version byte.
inline constexpr uint8_t kSummaryVersion = 1;

}  // namespace runlog::record

#endif  // RUNLOG_TRACKING_CODEC_RECORD_FORMAT_H_
