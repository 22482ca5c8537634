// The column codec of compacted segments: one block of one scalar series
// (steps, values, epochs, wall times) to bytes and back. The container
// (segment layout, block summaries, checksums) is not this unit's business:
// a block carries its own point count and nothing else, and the caller
// checksums it. The byte layout is documented at the top of block_codec.cc;
// the tags are in block_format.h.
//
// Every function is a pure function of its arguments (an EncoderHints
// passed in is one of them): thread-safe, no hidden state.
#ifndef RUNLOG_TRACKING_CODEC_BLOCK_CODEC_H_
#define RUNLOG_TRACKING_CODEC_BLOCK_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tracking/series.h"

namespace runlog {

// The most points one block may hold; decoders reject larger declared counts
// before allocating anything.
inline constexpr size_t kMaxBlockPoints = 1u << 16;

// One block's points as parallel columns of equal length n,
// 1 <= n <= kMaxBlockPoints. The spans are only read during the call.
struct ScalarBlockInput {
  // Any int64 values; usually ascending, not necessarily.
  absl::Span<const int64_t> steps;
  // Any doubles, including NaN with any payload, infinities, -0.0, denormals.
  absl::Span<const double> values;
  // NaN when the point had no epoch.
  absl::Span<const double> epochs;
  // µs since the Unix epoch.
  absl::Span<const int64_t> times_us;
};

// What the encoder learned from one series' earlier blocks: which of its
// costly candidates (a zstd frame, a whole alternative value encoding) lost
// by a wide margin. Such a candidate is left out of the next 1, 2, 4, 8 or
// 16 blocks, the pause doubling each time it is tried again and loses
// again; one that wins or comes close is tried in every block. A long
// series whose character is steady thus stops paying for encoders that
// cannot win on it (compaction of a noisy float series: 2.2 s -> 1.0 s of
// CPU for 10 M points), and a change of character costs at most 16 blocks
// encoded without the candidate that would have won them.
//
// The bytes written are a function of the blocks given in order, so a
// compaction is deterministic. One value per series and per writer; not
// thread-safe. Default-constructed: nothing learned, every candidate tried.
class EncoderHints {
 public:
  // One costly candidate's schedule.
  class Trial {
   public:
    // Whether to try the candidate in this block (counts down a pause).
    bool Due() {
      if (pause_left_ == 0) return true;
      --pause_left_;
      return false;
    }
    // The candidate was tried and its cost was `ratio` times the winner's
    // (1 when it won; +inf when it could not encode the block).
    void Tried(double ratio);

   private:
    uint8_t pause_ = 0;
    uint8_t pause_left_ = 0;
  };
  // An integer stream's: its zstd frame, the pass that sizes its varint
  // encodings, and the sizing of its split-runs encoding.
  struct IntColumn {
    Trial zstd, varint, split;
  };
  // A double column's: its alternative encodings, the integer streams they
  // map the values to, and the zstd frame of the byte-shuffled values.
  struct DoubleColumn {
    Trial alp, f32, bits, shuffle_zstd;
    IntColumn alp_ints, f32_ints, bits_ints;
  };
  IntColumn steps, times;
  DoubleColumn values, epochs;
};

// Appends the encoded block to *out (existing bytes are kept). Each column's
// encoding is chosen per block, the smallest among those that decode fast;
// every column round-trips bit-exactly (doubles by bit pattern, so NaN
// payloads and -0.0 survive). With `hints` (the series' EncoderHints, kept
// from block to block) candidates that keep losing are not tried in every
// block; without, all are, except that a varint stream whose sampled deltas
// show it over 1.2x the bit-packed sizes is not sized exactly, with or
// without hints. InvalidArgument if the column lengths differ,
// n == 0 or n > kMaxBlockPoints; *out is then unchanged.
absl::Status EncodeScalarBlock(const ScalarBlockInput& in, std::string* out,
                               EncoderHints* hints = nullptr);

// Appends the block's n points to the four columns of *out (whose columns
// must have equal sizes on entry). `block` must be exactly one block, as
// EncodeScalarBlock wrote it. DataLoss naming `where` and the byte offset
// within the block on any damage: truncation, an unknown tag, a bad length
// or count, trailing bytes, a declared count over kMaxBlockPoints. Never
// reads outside `block`, allocates at most in proportion to the declared
// (bounded) count, and never crashes or loops on hostile bytes. On error
// *out is restored to its size on entry.
absl::Status DecodeScalarBlock(absl::string_view block, absl::string_view where,
                               ScalarColumns* out);

// Decodes the block's n points straight into the columns of *out selected by
// `columns`, at indices [at, at + n), and returns n; no scratch, no copy.
// Each selected column must already hold at least at + n elements (the
// caller sizes them from the index it has, e.g. a footer's block counts);
// the other columns are neither read nor written, and their streams are
// skipped undecoded. DataLoss naming `where` as DecodeScalarBlock does, and
// also when the block holds more points than the room left; on error the
// selected columns may hold partly written values in [at, at + n).
absl::StatusOr<size_t> DecodeScalarBlockAt(absl::string_view block,
                                           absl::string_view where, size_t at,
                                           ColumnSet columns,
                                           ScalarColumns* out);

// One line naming the point count and the encoding of each column, for
// debugging tools, e.g.
//   "n=4096 steps=arith values=f32(for(w=21)) epochs=runs(5) times=runs(128)"
// Validates the whole block: DataLoss as DecodeScalarBlock.
absl::StatusOr<std::string> DescribeScalarBlock(absl::string_view block);

}  // namespace runlog

#endif  // RUNLOG_TRACKING_CODEC_BLOCK_CODEC_H_
