// Format constants of a compacted scalar block (tracking/codec/block_codec.cc
// documents the byte layout). Changing any value here changes the on-disk
// format.
#ifndef RUNLOG_TRACKING_CODEC_BLOCK_FORMAT_H_
#define RUNLOG_TRACKING_CODEC_BLOCK_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace runlog::block {

// First byte of every block.
inline constexpr uint8_t kBlockVersion = 1;

// Integer stream tags (steps, times, and the integers inside the alp and f32
// double encodings).
inline constexpr uint8_t kIntArith = 0x01;      // first, delta
inline constexpr uint8_t kIntRuns = 0x02;       // (value, count) runs
inline constexpr uint8_t kIntDeltaRuns = 0x03;  // first, (delta, count) runs
inline constexpr uint8_t kIntFor = 0x04;        // base + bit-packed offsets
inline constexpr uint8_t kIntDeltaFor = 0x05;   // first, bit-packed deltas
inline constexpr uint8_t kIntVarint = 0x06;     // zig-zag varint deltas
inline constexpr uint8_t kIntZstd = 0x07;       // zstd of another int stream
inline constexpr uint8_t kIntDodVarint = 0x08;  // zig-zag varint 2nd deltas
inline constexpr uint8_t kIntSplitRuns = 0x09;  // run values, run lengths
inline constexpr uint8_t kIntFirstTag = kIntArith;
inline constexpr uint8_t kIntLastTag = kIntSplitRuns;

// Double stream tags (values, epochs).
inline constexpr uint8_t kDoubleRuns = 0x11;     // (bits, count) runs
inline constexpr uint8_t kDoubleAlp = 0x12;      // decimal: k / 10^e
inline constexpr uint8_t kDoubleF32 = 0x13;      // float32 patterns
inline constexpr uint8_t kDoubleShuffle = 0x14;  // 8 byte planes
inline constexpr uint8_t kDoubleZstd = 0x15;     // zstd of a double stream
inline constexpr uint8_t kDoubleBits = 0x16;     // int stream of the bits
inline constexpr uint8_t kDoubleFirstTag = kDoubleRuns;
inline constexpr uint8_t kDoubleLastTag = kDoubleBits;

static_assert(kIntLastTag < kDoubleFirstTag,
              "int and double tags must not overlap, so a swapped column is "
              "detected as a bad tag");

// Largest decimal exponent of the alp encoding: 10^e is exact in a double
// up to 10^22, and k * 10^e must stay below 2^63.
inline constexpr int kMaxAlpExponent = 18;

// Bit widths of the bit-packed integer encodings.
inline constexpr int kMaxBitWidth = 64;

// A zstd stream holds one non-zstd stream of the same kind (no nesting).
// Upper bound of the decompressed size for n points, so the decompressor
// rejects a hostile frame before allocating: the largest non-zstd stream is
// a varint per point (int: at most 10 bytes) or 8 bytes per point (double
// shuffle), plus a small header.
inline constexpr uint64_t MaxInnerStreamBytes(uint64_t n) {
  return 64 + 20 * n;
}

}  // namespace runlog::block

#endif  // RUNLOG_TRACKING_CODEC_BLOCK_FORMAT_H_
