// Byte layout of a compacted scalar block (format version 1).
//
// Notation: u8 is one byte; varint is an unsigned LEB128 varint (at most 10
// bytes); zz is a zig-zag varint of a signed value ((v << 1) ^ (v >> 63));
// f64 is 8 bytes little-endian (the IEEE-754 bit pattern of a double, or a
// uint64). All integer arithmetic below is modulo 2^64 (so any int64
// sequence round-trips, including INT64_MIN/MAX neighbours); tags are in
// tracking/codec/block_format.h.
//
//   block    := u8 version (= 1) | varint n (1..65536)
//               | column(steps: int stream) | column(values: double stream)
//               | column(epochs: double stream) | column(times_us: int stream)
//               and nothing after the last column.
//   column   := varint length | stream of exactly `length` bytes
//               (a reader can skip a column without decoding it)
//
// Int stream (n int64 values x[0..n)), one tag byte then:
//   0x01 arith      zz first | zz delta           x[i] = first + i * delta
//   0x02 runs       varint r (1..n) | r × (zz d | varint c (>= 1))
//                   run j repeats value v_j = v_{j-1} + d (v_{-1} = 0) c times;
//                   the counts add up to n
//   0x03 deltaruns  zz first | varint r (0..n-1) | r × (zz d | varint c >= 1)
//                   the n - 1 deltas x[i] - x[i-1] as runs, adding up to n - 1
//   0x04 for        zz base | u8 w (0..64) | packed(n, w)
//                   x[i] = base + p[i]
//   0x05 deltafor   zz first | zz base | u8 w (0..64) | packed(n - 1, w)
//                   x[i] = x[i-1] + base + p[i-1]
//   0x06 varint     n × zz d             x[i] = x[i-1] + d_i, x[-1] = 0
//   0x07 zstd       varint m | m bytes: one zstd frame (declaring its
//                   content size, at most 64 + 20 n) whose content is
//                   exactly one int stream of n values with a tag other
//                   than 0x07
//   0x08 dodvarint  zz first | (n - 1) × zz dd
//                   delta_0 = 0, delta_i = delta_{i-1} + dd_i,
//                   x[i] = x[i-1] + delta_i (delta-of-delta)
//   0x09 splitruns  varint r (1..n) | int stream of the r run values
//                   | int stream of the r run lengths (each >= 1, adding up
//                   to n); neither inner stream may be splitruns or zstd.
//                   Wall times constant over groups of 32 points cost ~2
//                   bytes per group this way (values deltafor, lengths
//                   arith), less than zstd of plain runs, and decode fast.
//   packed(k, w) is ceil(k * w / 8) bytes: value i occupies bits
//   [i*w, (i+1)*w) of the little-endian bit string (bit b is bit b % 8 of
//   byte b / 8), unsigned; w = 0 means every p[i] = 0 and takes no bytes.
//
// Double stream (n doubles), one tag byte then:
//   0x11 runs       varint r (1..n) | r × (f64 bits | varint c (>= 1))
//                   counts add up to n
//   0x12 alp        u8 e (0..18) | int stream of k[0..n) | exceptions
//                   v[i] = (double)k[i] / 10^e, an IEEE division correctly
//                   rounded (round-to-nearest-even), 10^e exact as a double
//   0x13 f32        int stream of k[0..n) | exceptions
//                   u = (uint32)k[i]; bits32 = u >= 2^31 ? u - 2^31 : ~u
//                   (the order-preserving key of a float's bits, inverted);
//                   v[i] = (double)(the float with bits32)
//   0x14 shuffle    8 planes of n bytes: plane b holds byte b (little-endian)
//                   of every value's bits, in point order
//   0x15 zstd       varint m | m bytes: one zstd frame (content size at most
//                   64 + 20 n) whose content is exactly one double stream of
//                   n values with a tag other than 0x15
//   0x16 bits       int stream of the n bit patterns (as int64): smooth
//                   full-precision sequences (e.g. epoch = step / steps per
//                   epoch) have near-constant bit deltas within a binade
//   exceptions := varint c (0..n) | c × (varint gap | f64 bits)
//                   position p_j = p_{j-1} + 1 + gap (p_{-1} = -1), p_j < n;
//                   v[p_j] = the bits, replacing what the int stream gave.
//
// The encoder picks, per block and per column, the smallest stream among
// the candidates it tries, counting zstd-wrapped ones as slightly larger
// than they are (they decode slower); see ChooseIntStream and
// ChooseDoubleStream. Decoding alp and f32 relies on IEEE-754 arithmetic in
// the default rounding mode (no -ffast-math); the encoder checks every point
// with the decoder's formula and turns misfits into exceptions, and never
// lets f32 carry a NaN or a subnormal float (their conversions differ
// between CPUs and FPU modes).
#include "tracking/codec/block_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "storage/coding.h"
#include "storage/compression.h"
#include "storage/status_macros.h"
#include "tracking/codec/block_format.h"
#include "tracking/exact_decimal.h"

namespace runlog {
namespace {

using storage::PutFixed64;
using storage::PutVarint64;
using storage::ZigZagDecode;
using storage::ZigZagEncode;

// alp's scales are kExactPow10[0..kMaxAlpExponent].
static_assert(block::kMaxAlpExponent < std::size(kExactPow10));

// Weights applied to a candidate's size when choosing: a stream that decodes
// slower must be this much smaller to win.
constexpr double kPlainWeight = 1.0;
constexpr double kZstdWeight = 1.15;

// zstd is only worth a try above this many bytes of input.
constexpr size_t kMinZstdInput = 64;

// A candidate whose cost exceeds the winner's by more than this fraction
// lost by a wide margin (EncoderHints); pauses double up to kMaxPause blocks.
constexpr double kHopelessRatio = 1.1;
constexpr uint8_t kMaxPause = 16;

using Trial = EncoderHints::Trial;

// Whether a candidate scheduled by `trial` (nullptr: not scheduled, always
// tried) is to be tried in this block.
bool Due(Trial* trial) { return trial == nullptr || trial->Due(); }

// The object representation of `from` as a `To` of the same size.
template <typename To, typename From>
inline To BitCast(From from) {
  static_assert(sizeof(To) == sizeof(From));
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}
inline uint64_t Bits(double v) { return BitCast<uint64_t>(v); }
inline double FromBits(uint64_t b) { return BitCast<double>(b); }
inline uint32_t FloatBits(float f) { return BitCast<uint32_t>(f); }
inline float FloatFromBits(uint32_t b) { return BitCast<float>(b); }
// Order-preserving map of a float's bits to an unsigned key (negative
// floats below positive ones), so frame-of-reference and deltas stay small
// across zero.
inline uint32_t FloatKey(uint32_t bits) {
  return (bits >> 31) != 0 ? ~bits : (bits | 0x80000000u);
}
inline uint32_t FloatFromKey(uint32_t key) {
  return (key >> 31) != 0 ? (key & 0x7fffffffu) : ~key;
}

inline int BitWidth(uint64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(v); }
inline uint64_t WidthMask(int w) {
  return w >= 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1;
}
inline size_t PackedBytes(size_t count, int w) {
  return (count * static_cast<size_t>(w) + 7) / 8;
}

void PutZigZag(std::string* out, int64_t v) {
  PutVarint64(out, ZigZagEncode(v));
}
void PutByte(std::string* out, uint8_t b) {
  out->push_back(static_cast<char>(b));
}

// ---------------------------------------------------------------------------
// Encoding

inline uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }
inline int64_t S(uint64_t v) { return static_cast<int64_t>(v); }

// Appends packed(count, w) of the offsets x[i] - base (each < 2^w), least
// significant bit first. Up to 32 bits wide (the usual case) the bits are
// gathered in a 64-bit accumulator and written four bytes at a time; wider
// ones go through a 128-bit accumulator a byte at a time.
void PackOffsets(const int64_t* x, size_t count, int64_t base, int w,
                 std::string* out) {
  if (w == 0) return;
  const size_t start = out->size();
  out->resize(start + PackedBytes(count, w));
  auto* p = reinterpret_cast<unsigned char*>(&(*out)[start]);
  int filled = 0;
  if (w <= 32) {
    uint64_t acc = 0;
    for (size_t i = 0; i < count; ++i) {
      acc |= (U(x[i]) - U(base)) << filled;
      filled += w;
      if (filled >= 32) {
        p[0] = static_cast<unsigned char>(acc);
        p[1] = static_cast<unsigned char>(acc >> 8);
        p[2] = static_cast<unsigned char>(acc >> 16);
        p[3] = static_cast<unsigned char>(acc >> 24);
        p += 4;
        acc >>= 32;
        filled -= 32;
      }
    }
    for (; filled > 0; filled -= 8, acc >>= 8) {
      *p++ = static_cast<unsigned char>(acc);
    }
    return;
  }
  unsigned __int128 acc = 0;
  for (size_t i = 0; i < count; ++i) {
    acc |= static_cast<unsigned __int128>(U(x[i]) - U(base)) << filled;
    filled += w;
    while (filled >= 8) {
      *p++ = static_cast<unsigned char>(acc);
      acc >>= 8;
      filled -= 8;
    }
  }
  if (filled > 0) *p = static_cast<unsigned char>(acc);
}

void EncodeIntArith(absl::Span<const int64_t> x, std::string* out) {
  PutByte(out, block::kIntArith);
  PutZigZag(out, x[0]);
  PutZigZag(out, x.size() > 1 ? S(U(x[1]) - U(x[0])) : 0);
}

void EncodeIntRuns(absl::Span<const int64_t> x, size_t runs, std::string* out) {
  PutByte(out, block::kIntRuns);
  PutVarint64(out, runs);
  int64_t prev = 0;
  for (size_t i = 0; i < x.size();) {
    size_t j = i + 1;
    while (j < x.size() && x[j] == x[i]) ++j;
    PutZigZag(out, S(U(x[i]) - U(prev)));
    PutVarint64(out, j - i);
    prev = x[i];
    i = j;
  }
}

void EncodeIntDeltaRuns(absl::Span<const int64_t> x,
                        absl::Span<const int64_t> deltas, size_t runs,
                        std::string* out) {
  PutByte(out, block::kIntDeltaRuns);
  PutZigZag(out, x[0]);
  PutVarint64(out, runs);
  const int64_t* d = deltas.data();
  for (size_t i = 0; i < deltas.size();) {
    size_t j = i + 1;
    while (j < deltas.size() && d[j] == d[i]) ++j;
    PutZigZag(out, d[i]);
    PutVarint64(out, j - i);
    i = j;
  }
}

// Frame of reference: base = the minimum, offsets bit-packed.
void EncodeForBody(absl::Span<const int64_t> x, std::string* out) {
  // Raw pointers in the loops: the hardened Span checks every index.
  const int64_t* v = x.data();
  const size_t n = x.size();
  int64_t lo = v[0], hi = v[0];
  for (size_t i = 1; i < n; ++i) {
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  const int w = BitWidth(U(hi) - U(lo));
  PutZigZag(out, lo);
  PutByte(out, static_cast<uint8_t>(w));
  PackOffsets(v, n, lo, w, out);
}

void EncodeIntFor(absl::Span<const int64_t> x, std::string* out) {
  PutByte(out, block::kIntFor);
  EncodeForBody(x, out);
}

void EncodeIntDeltaFor(absl::Span<const int64_t> x,
                       absl::Span<const int64_t> deltas, std::string* out) {
  PutByte(out, block::kIntDeltaFor);
  PutZigZag(out, x[0]);
  EncodeForBody(deltas, out);
}

void EncodeIntDodVarint(absl::Span<const int64_t> x, std::string* out) {
  PutByte(out, block::kIntDodVarint);
  PutZigZag(out, x[0]);
  uint64_t delta = 0;
  for (size_t i = 1; i < x.size(); ++i) {
    const uint64_t next = U(x[i]) - U(x[i - 1]);
    PutZigZag(out, S(next - delta));
    delta = next;
  }
}

void EncodeIntVarint(absl::Span<const int64_t> x, std::string* out) {
  PutByte(out, block::kIntVarint);
  int64_t prev = 0;
  for (int64_t v : x) {
    PutZigZag(out, S(U(v) - U(prev)));
    prev = v;
  }
}

// Appends `tag`, then a zstd frame of `inner` with its length; false when
// compression fails (then nothing is appended).
bool EncodeZstdWrapped(uint8_t tag, absl::string_view inner, std::string* out) {
  absl::StatusOr<std::string> frame = storage::ZstdCompress(inner);
  if (!frame.ok()) return false;
  PutByte(out, tag);
  PutVarint64(out, frame->size());
  out->append(*frame);
  return true;
}

struct Candidate {
  std::string bytes;
  double weight = kPlainWeight;
  Trial* trial = nullptr;  // the schedule of a costly candidate
  double cost() const { return static_cast<double>(bytes.size()) * weight; }
};

const Candidate& Cheapest(const std::vector<Candidate>& candidates) {
  return *std::min_element(candidates.begin(), candidates.end(),
                           [](const Candidate& a, const Candidate& b) {
                             return a.cost() < b.cost();
                           });
}

// (b * 37) >> 8 is b / 7 for every b in [0, 63]: VarintBytes divides by 7
// with a multiply and a shift, where the division took several
// instructions in the sizing loops.
constexpr bool DivideBy7Holds() {
  for (unsigned b = 0; b < 64; ++b) {
    if ((b * 37) >> 8 != b / 7) return false;
  }
  return true;
}
static_assert(DivideBy7Holds());
// Bytes of a varint (b / 7 + 1 for the index b of v's top bit; v | 1 makes
// it defined), and of a zig-zag varint.
inline size_t VarintBytes(uint64_t v) {
  const auto top = static_cast<unsigned>(63 ^ __builtin_clzll(v | 1));
  return ((top * 37) >> 8) + 1;
}
inline size_t ZigZagBytes(int64_t v) { return VarintBytes(ZigZagEncode(v)); }

// The exact sizes of the candidate int streams, computed without encoding
// them (encoding every candidate to compare was most of a compaction's time).
size_t RunsBytes(absl::Span<const int64_t> x, size_t runs) {
  size_t bytes = 1 + VarintBytes(runs);
  int64_t prev = 0;
  for (size_t i = 0; i < x.size();) {
    size_t j = i + 1;
    while (j < x.size() && x[j] == x[i]) ++j;
    bytes += ZigZagBytes(S(U(x[i]) - U(prev))) + VarintBytes(j - i);
    prev = x[i];
    i = j;
  }
  return bytes;
}
size_t DeltaRunsBytes(absl::Span<const int64_t> x,
                      absl::Span<const int64_t> deltas, size_t runs) {
  size_t bytes = 1 + ZigZagBytes(x[0]) + VarintBytes(runs);
  const int64_t* d = deltas.data();
  for (size_t i = 0; i < deltas.size();) {
    size_t j = i + 1;
    while (j < deltas.size() && d[j] == d[i]) ++j;
    bytes += ZigZagBytes(d[i]) + VarintBytes(j - i);
    i = j;
  }
  return bytes;
}

enum class IntKind {
  kRuns,
  kDeltaRuns,
  kVarint,
  kDodVarint,
  kSplitRuns,
  kFor,
  kDeltaFor,
};

void ChooseIntStreamImpl(absl::Span<const int64_t> x, bool allow_zstd,
                         std::string* out, bool allow_split, size_t* size_only,
                         EncoderHints::IntColumn* hints = nullptr);

// What the candidates' sizes need of an int stream x (n >= 2), and its
// deltas, written to `deltas` (n - 1 of them).
struct IntScan {
  size_t value_runs = 1;
  size_t delta_runs = 1;
  int64_t lo = 0, hi = 0;    // of the values (FOR width)
  int64_t dlo = 0, dhi = 0;  // of the deltas (delta-FOR width)
  // With kVarints: the byte counts of the varint and delta-of-delta varint
  // streams of x; else 0.
  size_t varint = 0, dod = 0;
};
// One pass, a function of its own over raw pointers, so that its loop keeps
// every sum in registers (inline, captured variables were stored every
// iteration) and no hardened Span checks an index. The varint sizes are a
// template choice: when the schedule skips them the loop carries no
// byte counting at all.
template <bool kVarints>
IntScan ScanInts(absl::Span<const int64_t> x, int64_t* deltas) {
  const int64_t* xp = x.data();
  const size_t n = x.size();
  size_t value_runs = 1, delta_runs = 1;
  int64_t lo = xp[0], hi = xp[0];
  int64_t prev_delta = S(U(xp[1]) - U(xp[0]));
  int64_t dlo = prev_delta, dhi = prev_delta;
  deltas[0] = prev_delta;
  value_runs += prev_delta != 0;
  lo = std::min(lo, xp[1]);
  hi = std::max(hi, xp[1]);
  // The first delta's varint, and as the first delta of delta (against 0).
  size_t varint = 0, dod = 0;
  if (kVarints) {
    varint = 1 + ZigZagBytes(xp[0]) + ZigZagBytes(prev_delta);
    dod = varint;
  }
  for (size_t i = 2; i < n; ++i) {
    const int64_t d = S(U(xp[i]) - U(xp[i - 1]));
    deltas[i - 1] = d;
    value_runs += d != 0;
    delta_runs += d != prev_delta;
    lo = std::min(lo, xp[i]);
    hi = std::max(hi, xp[i]);
    dlo = std::min(dlo, d);
    dhi = std::max(dhi, d);
    if (kVarints) {
      varint += ZigZagBytes(d);
      dod += ZigZagBytes(S(U(d) - U(prev_delta)));
    }
    prev_delta = d;
  }
  return IntScan{value_runs, delta_runs, lo, hi, dlo, dhi, varint, dod};
}

// The sizes of the FOR and delta-FOR streams of x (n points, x[0] ==
// `first`) from its scan.
size_t ForBytes(const IntScan& scan, size_t n) {
  return 1 + ZigZagBytes(scan.lo) + 1 +
         PackedBytes(n, BitWidth(U(scan.hi) - U(scan.lo)));
}
size_t DeltaForBytes(int64_t first, const IntScan& scan, size_t n) {
  return 1 + ZigZagBytes(first) + ZigZagBytes(scan.dlo) + 1 +
         PackedBytes(n - 1, BitWidth(U(scan.dhi) - U(scan.dlo)));
}

// The byte counts of the varint and delta-of-delta varint streams of x
// (n >= 2) from its deltas.
struct VarintSizes {
  size_t varint, dod;
};
// The varint and delta-of-delta varint bytes of the deltas at 0, stride,
// 2 * stride, ... (each delta of delta against the delta before it, the
// first against 0), and how many were counted.
struct VarintSums {
  size_t varint = 0, dod = 0, counted = 0;
};
VarintSums SumVarints(absl::Span<const int64_t> deltas, size_t stride) {
  const int64_t* d = deltas.data();
  const size_t count = deltas.size();
  VarintSums sums;
  for (size_t i = 0; i < count; i += stride, ++sums.counted) {
    const int64_t prev_delta = i == 0 ? 0 : d[i - 1];
    sums.varint += ZigZagBytes(d[i]);
    sums.dod += ZigZagBytes(S(U(d[i]) - U(prev_delta)));
  }
  return sums;
}
VarintSizes SizeVarints(int64_t first, absl::Span<const int64_t> deltas) {
  const VarintSums sums = SumVarints(deltas, 1);
  const size_t head = 1 + ZigZagBytes(first);
  return VarintSizes{head + sums.varint, head + sums.dod};
}

// SizeVarints estimated from at most kVarintSamples evenly spaced deltas,
// scaled to all of them.
constexpr size_t kVarintSamples = 128;
// How far above the bit-packed sizes a varint estimate must lie to be
// trusted as a loss without the exact pass. The sample errs by a few
// percent on steady data; a varint that truly loses by 10% pauses anyway.
constexpr double kVarintEstimateMargin = 1.2;
VarintSizes EstimateVarints(int64_t first, absl::Span<const int64_t> deltas) {
  const VarintSums sums =
      SumVarints(deltas, std::max<size_t>(1, deltas.size() / kVarintSamples));
  const double scale =
      static_cast<double>(deltas.size()) / static_cast<double>(sums.counted);
  const size_t head = 1 + ZigZagBytes(first);
  return VarintSizes{
      head + static_cast<size_t>(static_cast<double>(sums.varint) * scale),
      head + static_cast<size_t>(static_cast<double>(sums.dod) * scale)};
}

// The size ChooseIntStream would write for x, without zstd.
size_t ChosenIntStreamBytes(absl::Span<const int64_t> x, bool allow_split) {
  size_t bytes = 0;
  ChooseIntStreamImpl(x, /*allow_zstd=*/false, nullptr, allow_split, &bytes);
  return bytes;
}

// Run values and lengths of x, for splitruns.
void SplitRuns(absl::Span<const int64_t> x, size_t runs,
               std::vector<int64_t>* values, std::vector<int64_t>* lengths) {
  values->reserve(runs);
  lengths->reserve(runs);
  for (size_t i = 0; i < x.size();) {
    size_t j = i + 1;
    while (j < x.size() && x[j] == x[i]) ++j;
    values->push_back(x[i]);
    lengths->push_back(static_cast<int64_t>(j - i));
    i = j;
  }
}

// Appends the chosen int stream for x (x non-empty), or with `size_only`
// set stores its size there and appends nothing (zstd then is not tried).
// Candidates are compared by their exact sizes, computed without encoding;
// only the winner is encoded (and, for the zstd candidate, the best
// byte-aligned stream it would compress). Ties go to the earlier candidate
// in the order below, as when every candidate was encoded to compare.
// `hints` schedules the zstd candidate and the sizing of the varint ones
// (nullptr: all tried whenever allowed).
void ChooseIntStreamImpl(absl::Span<const int64_t> x, bool allow_zstd,
                         std::string* out, bool allow_split, size_t* size_only,
                         EncoderHints::IntColumn* hints) {
  const size_t n = x.size();
  // Steps and clock times are mostly arithmetic progressions: one compare
  // pass settles them (and ends at once for anything else).
  bool arithmetic = true;
  if (n > 2) {
    const int64_t* xp = x.data();
    const uint64_t d0 = U(xp[1]) - U(xp[0]);
    for (size_t i = 2; i < n && arithmetic; ++i) {
      arithmetic = U(xp[i]) - U(xp[i - 1]) == d0;
    }
  }
  if (arithmetic) {  // n <= 2 included
    if (size_only != nullptr) {
      *size_only =
          1 + ZigZagBytes(x[0]) + ZigZagBytes(n > 1 ? S(U(x[1]) - U(x[0])) : 0);
      return;
    }
    EncodeIntArith(x, out);
    return;
  }
  // Not zero-filled (a memset of every block's deltas showed in profiles):
  // ScanInts writes all n - 1 before anything reads them.
  std::unique_ptr<int64_t[]> delta_buffer(new int64_t[n - 1]);
  const absl::Span<const int64_t> deltas(delta_buffer.get(), n - 1);
  Trial* zstd_trial = hints == nullptr ? nullptr : &hints->zstd;
  Trial* varint_trial = hints == nullptr ? nullptr : &hints->varint;
  const bool try_zstd = allow_zstd && Due(zstd_trial);
  // The varint sizes are needed for their own candidates and, exactly, as
  // zstd's input when nothing smaller is byte-aligned: with zstd tried the
  // scan computes them; otherwise a sample of the deltas is asked first
  // (EstimateVarints, below).
  const bool due_varints = Due(varint_trial);
  const IntScan scan = try_zstd ? ScanInts<true>(x, delta_buffer.get())
                                : ScanInts<false>(x, delta_buffer.get());
  const size_t value_runs = scan.value_runs;
  const size_t delta_runs = scan.delta_runs;
  struct Sized {
    IntKind kind;
    size_t bytes;
  };
  Sized best{IntKind::kVarint, SIZE_MAX};
  auto consider = [&best](IntKind kind, size_t bytes) {
    if (bytes < best.bytes) best = {kind, bytes};
  };
  // Byte-aligned candidates first: the best of them is the zstd input.
  if (value_runs <= n / 2) consider(IntKind::kRuns, RunsBytes(x, value_runs));
  if (delta_runs <= n / 2) {
    consider(IntKind::kDeltaRuns, DeltaRunsBytes(x, deltas, delta_runs));
  }
  size_t varints = SIZE_MAX;
  VarintSizes sizes{scan.varint, scan.dod};
  bool have_varints = try_zstd;
  if (!have_varints && due_varints) {
    // The bit-packed candidates' sizes are known from the scan; a varint
    // stream estimated from a sample to lose to them by a wide margin is
    // not sized exactly (the sizing pass was a tenth of a compaction's CPU
    // on noisy values, where delta-FOR wins every block, and on the split
    // runs of coarse clock times, whose short run lengths bit-pack) and its
    // trial, if any, is told the estimate, which pauses it as a loss would.
    // The rule depends on x alone, so a stream sized with `size_only` is
    // encoded to exactly that size.
    const size_t packed =
        std::min(ForBytes(scan, n), DeltaForBytes(x[0], scan, n));
    const VarintSizes estimate = EstimateVarints(x[0], deltas);
    const size_t least = std::min(estimate.varint, estimate.dod);
    const size_t rival = std::min(packed, best.bytes);
    if (static_cast<double>(least) >
        kVarintEstimateMargin * static_cast<double>(rival)) {
      if (varint_trial != nullptr) {
        varint_trial->Tried(static_cast<double>(least) /
                            static_cast<double>(rival));
      }
    } else {
      sizes = SizeVarints(x[0], deltas);
      have_varints = true;
    }
  }
  if (have_varints) {
    consider(IntKind::kVarint, sizes.varint);
    consider(IntKind::kDodVarint, sizes.dod);
    varints = std::min(sizes.varint, sizes.dod);
  }
  const Sized byte_aligned = best;
  std::vector<int64_t> run_values, run_lengths;
  Trial* split_trial = hints == nullptr ? nullptr : &hints->split;
  size_t split = SIZE_MAX;
  if (allow_split && value_runs <= n / 2 && Due(split_trial)) {
    SplitRuns(x, value_runs, &run_values, &run_lengths);
    split = 1 + VarintBytes(value_runs) +
            ChosenIntStreamBytes(run_values, /*allow_split=*/false) +
            ChosenIntStreamBytes(run_lengths, /*allow_split=*/false);
    consider(IntKind::kSplitRuns, split);
  }
  consider(IntKind::kFor, ForBytes(scan, n));
  consider(IntKind::kDeltaFor, DeltaForBytes(x[0], scan, n));
  if (varints != SIZE_MAX && varint_trial != nullptr) {
    varint_trial->Tried(static_cast<double>(varints) /
                        static_cast<double>(best.bytes));
  }
  if (split != SIZE_MAX && split_trial != nullptr) {
    split_trial->Tried(static_cast<double>(split) /
                       static_cast<double>(best.bytes));
  }
  if (size_only != nullptr) {
    *size_only = best.bytes;
    return;
  }
  auto encode = [&](IntKind kind, std::string* to) {
    switch (kind) {
      case IntKind::kRuns:
        return EncodeIntRuns(x, value_runs, to);
      case IntKind::kDeltaRuns:
        return EncodeIntDeltaRuns(x, deltas, delta_runs, to);
      case IntKind::kVarint:
        return EncodeIntVarint(x, to);
      case IntKind::kDodVarint:
        return EncodeIntDodVarint(x, to);
      case IntKind::kSplitRuns:
        PutByte(to, block::kIntSplitRuns);
        PutVarint64(to, value_runs);
        ChooseIntStreamImpl(run_values, false, to, false, nullptr);
        ChooseIntStreamImpl(run_lengths, false, to, false, nullptr);
        return;
      case IntKind::kFor:
        return EncodeIntFor(x, to);
      case IntKind::kDeltaFor:
        return EncodeIntDeltaFor(x, deltas, to);
    }
  };
  if (try_zstd && byte_aligned.bytes >= kMinZstdInput) {
    std::string plain;
    encode(byte_aligned.kind, &plain);
    std::string wrapped;
    if (EncodeZstdWrapped(block::kIntZstd, plain, &wrapped)) {
      const double ratio = static_cast<double>(wrapped.size()) * kZstdWeight /
                           (static_cast<double>(best.bytes) * kPlainWeight);
      if (zstd_trial != nullptr) zstd_trial->Tried(ratio);
      if (ratio < 1) {
        out->append(wrapped);
        return;
      }
    }
  }
  encode(best.kind, out);
}

void ChooseIntStream(absl::Span<const int64_t> x, bool allow_zstd,
                     std::string* out,
                     EncoderHints::IntColumn* hints = nullptr) {
  ChooseIntStreamImpl(x, allow_zstd, out, /*allow_split=*/true, nullptr, hints);
}

// The exceptions of a decimal or float32 encoding: points whose value the
// integer stream cannot reproduce, stored as raw bits.
void PutExceptions(absl::Span<const double> v,
                   const std::vector<size_t>& positions, std::string* out) {
  PutVarint64(out, positions.size());
  size_t next = 0;  // first position the next gap may name
  for (size_t p : positions) {
    PutVarint64(out, p - next);
    PutFixed64(out, Bits(v[p]));
    next = p + 1;
  }
}

// The integer k with (double)k / 10^e == v bit for bit, if there is one
// with |k| <= 2^53 (so that (double)k is exact).
inline bool AlpInteger(double v, int e, int64_t* k) {
  const double scaled = v * kExactPow10[e];
  if (!(std::fabs(scaled) <= 9007199254740992.0)) return false;  // NaN too
  const auto candidate = static_cast<int64_t>(RoundToEven(scaled));
  if (Bits(static_cast<double>(candidate) / kExactPow10[e]) != Bits(v)) {
    return false;
  }
  *k = candidate;
  return true;
}

// The smallest exponent that represents the most points of an even sample.
int ChooseAlpExponent(absl::Span<const double> v) {
  constexpr size_t kSamples = 256;
  const size_t stride = std::max<size_t>(1, v.size() / kSamples);
  const double* vp = v.data();
  const size_t samples = (v.size() + stride - 1) / stride;
  int best_e = 0;
  size_t best_hits = 0;
  for (int e = 0; e <= block::kMaxAlpExponent; ++e) {
    size_t hits = 0;
    int64_t k = 0;
    for (size_t i = 0; i < v.size(); i += stride)
      hits += AlpInteger(vp[i], e, &k);
    if (hits > best_hits) {
      best_hits = hits;
      best_e = e;
    }
    // Every sample fits: a larger exponent could only tie, and a tie keeps
    // the smaller one.
    if (best_hits == samples) break;
  }
  return best_e;
}

// Fills `ints` from `encode(i, &k)`; a point it refuses becomes an exception
// and repeats the previous integer (the first accepted one for leading
// exceptions), so exceptions do not widen the integer stream. False when
// more than half the points are exceptions.
template <typename EncodeOne>
bool IntsWithExceptions(size_t n, EncodeOne encode, std::vector<int64_t>* ints,
                        std::vector<size_t>* exceptions) {
  ints->resize(n);
  int64_t* out = ints->data();
  exceptions->clear();
  bool have_previous = false;
  int64_t previous = 0;
  for (size_t i = 0; i < n; ++i) {
    int64_t k = 0;
    if (ABSL_PREDICT_TRUE(encode(i, &k))) {
      if (!have_previous) {
        for (size_t j : *exceptions) out[j] = k;
        have_previous = true;
      }
      out[i] = k;
      previous = k;
    } else {
      exceptions->push_back(i);
      out[i] = previous;
      if (exceptions->size() > n / 2) return false;
    }
  }
  return true;
}

// The key of v's float, if v is exactly a float that is neither NaN nor
// subnormal (their conversions differ between CPUs and FPU modes).
inline bool F32Key(double v, int64_t* key) {
  const auto f = static_cast<float>(v);
  if (std::isnan(f) || std::fpclassify(f) == FP_SUBNORMAL) return false;
  if (Bits(static_cast<double>(f)) != Bits(v)) return false;
  *key = FloatKey(FloatBits(f));
  return true;
}

void EncodeDoubleRuns(absl::Span<const double> v, size_t runs,
                      std::string* out) {
  PutByte(out, block::kDoubleRuns);
  PutVarint64(out, runs);
  for (size_t i = 0; i < v.size();) {
    size_t j = i + 1;
    while (j < v.size() && Bits(v[j]) == Bits(v[i])) ++j;
    PutFixed64(out, Bits(v[i]));
    PutVarint64(out, j - i);
    i = j;
  }
}

void EncodeDoubleShuffle(absl::Span<const double> v, std::string* out) {
  PutByte(out, block::kDoubleShuffle);
  const size_t n = v.size();
  const double* vp = v.data();
  const size_t start = out->size();
  out->resize(start + 8 * n);
  char* planes = &(*out)[start];
  for (size_t i = 0; i < n; ++i) {
    const uint64_t b = Bits(vp[i]);
    for (size_t k = 0; k < 8; ++k) {
      planes[k * n + i] = static_cast<char>(b >> (8 * k));
    }
  }
}

// `hints` (nullptr: try every candidate) schedules the costly candidates;
// the plain shuffle is always there to fall back on.
void ChooseDoubleStream(absl::Span<const double> v, std::string* out,
                        EncoderHints::DoubleColumn* hints) {
  const size_t n = v.size();
  const double* vp = v.data();  // unchecked: the hardened Span checks
  size_t runs = 1;
  for (size_t i = 1; i < n; ++i) runs += Bits(vp[i]) != Bits(vp[i - 1]);
  if (runs == 1) {
    EncodeDoubleRuns(v, runs, out);
    return;
  }
  // The hints member `m` (a trial, or an int stream's hints), or nullptr.
  auto hint = [hints](auto m) -> decltype(&(hints->*m)) {
    return hints == nullptr ? nullptr : &(hints->*m);
  };
  using H = EncoderHints::DoubleColumn;
  std::vector<Candidate> candidates;
  auto add = [&candidates](double weight, Trial* t) -> std::string* {
    candidates.push_back(Candidate{std::string(), weight, t});
    return &candidates.back().bytes;
  };
  if (runs <= n / 4) EncodeDoubleRuns(v, runs, add(kPlainWeight, nullptr));

  std::vector<int64_t> ints;
  std::vector<size_t> exceptions;
  // A mapping to integers that refuses more than half the points is a
  // candidate that could not encode the block: it lost by any margin.
  auto refused = [](Trial* t) {
    if (t != nullptr) t->Tried(std::numeric_limits<double>::infinity());
  };
  if (Trial* t = hint(&H::alp); Due(t)) {
    const int e = ChooseAlpExponent(v);
    if (IntsWithExceptions(
            n, [&](size_t i, int64_t* k) { return AlpInteger(vp[i], e, k); },
            &ints, &exceptions)) {
      std::string* s = add(kPlainWeight, t);
      PutByte(s, block::kDoubleAlp);
      PutByte(s, static_cast<uint8_t>(e));
      ChooseIntStream(ints, /*allow_zstd=*/true, s, hint(&H::alp_ints));
      PutExceptions(v, exceptions, s);
    } else {
      refused(t);
    }
  }
  if (Trial* t = hint(&H::f32); Due(t)) {
    if (IntsWithExceptions(
            n, [&](size_t i, int64_t* k) { return F32Key(vp[i], k); }, &ints,
            &exceptions)) {
      std::string* s = add(kPlainWeight, t);
      PutByte(s, block::kDoubleF32);
      ChooseIntStream(ints, /*allow_zstd=*/true, s, hint(&H::f32_ints));
      PutExceptions(v, exceptions, s);
    } else {
      refused(t);
    }
  }
  if (Trial* t = hint(&H::bits); Due(t)) {
    std::vector<int64_t> bits(n);
    for (size_t i = 0; i < n; ++i) bits[i] = S(Bits(vp[i]));
    std::string* s = add(kPlainWeight, t);
    PutByte(s, block::kDoubleBits);
    ChooseIntStream(bits, /*allow_zstd=*/true, s, hint(&H::bits_ints));
  }
  std::string shuffled;
  if (Trial* t = hint(&H::shuffle_zstd); Due(t)) {
    EncodeDoubleShuffle(v, &shuffled);
    std::string wrapped;
    if (EncodeZstdWrapped(block::kDoubleZstd, shuffled, &wrapped)) {
      candidates.push_back(Candidate{std::move(wrapped), kZstdWeight, t});
    }
  }
  // The plain shuffle is the fallback and the last candidate (a tie goes to
  // the others): its size is known, so it is built only when it wins.
  const double shuffle_cost = static_cast<double>(1 + 8 * n) * kPlainWeight;
  const Candidate* best = candidates.empty() ? nullptr : &Cheapest(candidates);
  const bool shuffle_wins = best == nullptr || shuffle_cost < best->cost();
  const double winner_cost = shuffle_wins ? shuffle_cost : best->cost();
  for (const Candidate& c : candidates) {
    if (c.trial != nullptr) c.trial->Tried(c.cost() / winner_cost);
  }
  if (!shuffle_wins) {
    out->append(best->bytes);
    return;
  }
  if (shuffled.empty()) EncodeDoubleShuffle(v, &shuffled);
  out->append(shuffled);
}

// Appends varint length | stream, the stream written by `encode(&stream)`.
template <typename EncodeStream>
void PutColumn(std::string* out, EncodeStream encode) {
  std::string stream;
  encode(&stream);
  PutVarint64(out, stream.size());
  out->append(stream);
}

// ---------------------------------------------------------------------------
// Decoding

// A bounded reader over a block or over the content of a zstd frame inside
// it; errors name the byte offset within the block (for frame content: the
// frame's offset and the offset within its content).
class Cursor {
 public:
  Cursor(absl::string_view data, absl::string_view where, size_t origin,
         bool in_frame)
      : begin_(data.data()),
        p_(data.data()),
        end_(data.data() + data.size()),
        where_(where),
        origin_(origin),
        in_frame_(in_frame) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool at_end() const { return p_ == end_; }
  // Offset of the next byte within the block (frame content: of the frame).
  size_t block_offset() const {
    return in_frame_ ? origin_ : origin_ + static_cast<size_t>(p_ - begin_);
  }
  absl::string_view where() const { return where_; }

  absl::Status Error(absl::string_view what) const {
    if (in_frame_) {
      return absl::DataLossError(absl::StrCat(
          where_, ": damaged compacted block: ", what, " at byte ", p_ - begin_,
          " of the zstd frame content at block byte ", origin_));
    }
    return absl::DataLossError(
        absl::StrCat(where_, ": damaged compacted block: ", what, " at byte ",
                     origin_ + static_cast<size_t>(p_ - begin_)));
  }

  absl::Status Byte(uint8_t* b, absl::string_view what) {
    if (p_ == end_) return Error(absl::StrCat("truncated ", what));
    *b = static_cast<uint8_t>(*p_++);
    return absl::OkStatus();
  }
  absl::Status Varint(uint64_t* v, absl::string_view what) {
    absl::string_view in(p_, remaining());
    if (!storage::GetVarint64(&in, v)) {
      return Error(absl::StrCat("truncated or overlong varint (", what, ")"));
    }
    p_ = in.data();
    return absl::OkStatus();
  }
  absl::Status ZigZag(int64_t* v, absl::string_view what) {
    uint64_t u = 0;
    RUNLOG_RETURN_IF_ERROR(Varint(&u, what));
    *v = ZigZagDecode(u);
    return absl::OkStatus();
  }
  absl::Status Fixed64(uint64_t* v, absl::string_view what) {
    if (remaining() < 8) return Error(absl::StrCat("truncated ", what));
    *v = storage::DecodeFixed64(p_);
    p_ += 8;
    return absl::OkStatus();
  }
  // A count in [min, max].
  absl::Status Count(uint64_t min, uint64_t max, uint64_t* v,
                     absl::string_view what) {
    const char* at = p_;
    RUNLOG_RETURN_IF_ERROR(Varint(v, what));
    if (*v < min || *v > max) {
      p_ = at;
      return Error(absl::StrCat("bad ", what, " ", *v, " (allowed ", min, "..",
                                max, ")"));
    }
    return absl::OkStatus();
  }
  absl::Status Bytes(size_t size, const char** data, absl::string_view what) {
    if (remaining() < size) {
      return Error(absl::StrCat("truncated ", what, " (", size,
                                " bytes declared, ", remaining(), " left)"));
    }
    *data = p_;
    p_ += size;
    return absl::OkStatus();
  }

 private:
  const char* begin_;
  const char* p_;
  const char* end_;
  absl::string_view where_;
  size_t origin_;
  bool in_frame_;
};

inline uint64_t Load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

// Bits [bit, bit + w) of p, reading only the bytes they occupy.
inline uint64_t ReadBitsSlow(const unsigned char* p, size_t bit, int w) {
  uint64_t x = 0;
  for (int done = 0; done < w;) {
    const size_t at = bit + static_cast<size_t>(done);
    const int shift = static_cast<int>(at & 7);
    const int take = std::min(8 - shift, w - done);
    x |= static_cast<uint64_t>((p[at >> 3] >> shift) & WidthMask(take)) << done;
    done += take;
  }
  return x;
}

// out[i] = base + p[i] for the count values of packed(count, w) at p,
// which holds exactly PackedBytes(count, w) bytes.
void Unpack(const unsigned char* p, size_t count, int w, uint64_t base,
            uint64_t* out) {
  if (w == 0) {
    std::fill(out, out + count, base);
    return;
  }
  const size_t bytes = PackedBytes(count, w);
  size_t i = 0;
  if (w <= 56 && bytes >= 8) {
    // One unaligned 8-byte load per value while it stays inside the data.
    const size_t fast = std::min(count, (bytes - 8) * 8 / w + 1);
    const uint64_t mask = WidthMask(w);
    for (; i < fast; ++i) {
      const size_t bit = i * static_cast<size_t>(w);
      out[i] = base + ((Load64(p + (bit >> 3)) >> (bit & 7)) & mask);
    }
  }
  for (; i < count; ++i) {
    out[i] = base + ReadBitsSlow(p, i * static_cast<size_t>(w), w);
  }
}

// A zstd-wrapped stream of n values at `c`: the frame's size and bytes; its
// content is one inner stream, which `decode_inner` reads and must consume
// whole. Frames do not nest, and the content is bounded before it is
// decompressed (block::MaxInnerStreamBytes).
template <typename DecodeInner>
absl::Status DecodeZstdFrame(Cursor& c, size_t n, bool allow_zstd,
                             std::string* desc, DecodeInner decode_inner) {
  if (!allow_zstd) return c.Error("nested zstd stream");
  uint64_t size = 0;
  RUNLOG_RETURN_IF_ERROR(c.Count(1, c.remaining(), &size, "zstd frame size"));
  const size_t frame_offset = c.block_offset();
  const char* frame = nullptr;
  RUNLOG_RETURN_IF_ERROR(c.Bytes(size, &frame, "zstd frame"));
  absl::StatusOr<std::string> content = storage::ZstdDecompress(
      absl::string_view(frame, size), block::MaxInnerStreamBytes(n));
  if (!content.ok()) {
    return absl::DataLossError(absl::StrCat(
        c.where(), ": damaged compacted block: bad zstd frame at byte ",
        frame_offset, ": ", content.status().message()));
  }
  Cursor inner(*content, c.where(), frame_offset, /*in_frame=*/true);
  if (desc != nullptr) desc->append("zstd(");
  RUNLOG_RETURN_IF_ERROR(decode_inner(inner));
  if (!inner.at_end()) return inner.Error("trailing bytes");
  if (desc != nullptr) desc->append(")");
  return absl::OkStatus();
}

// A runs stream after its tag: the run count (1..n), then per run its value,
// read by `next_value` (which may depend on the run before), and its length;
// the runs cover exactly n points. Shared by the int and double runs streams.
template <typename T, typename NextValue>
absl::Status DecodeRuns(Cursor& c, size_t n, T* out, std::string* desc,
                        NextValue next_value) {
  uint64_t runs = 0;
  RUNLOG_RETURN_IF_ERROR(c.Count(1, n, &runs, "run count"));
  size_t i = 0;
  for (uint64_t r = 0; r < runs; ++r) {
    T value{};
    uint64_t count = 0;
    RUNLOG_RETURN_IF_ERROR(next_value(&value));
    RUNLOG_RETURN_IF_ERROR(c.Count(1, n - i, &count, "run length"));
    std::fill(out + i, out + i + count, value);
    i += count;
  }
  if (i != n) return c.Error("runs cover fewer points than the block");
  if (desc != nullptr) absl::StrAppend(desc, "runs(", runs, ")");
  return absl::OkStatus();
}

// Decodes one int stream of n values (tag included) into out[0..n).
// Appends a description to *desc when desc is not null. Not a template on
// purpose: one copy of this switch keeps compile time and code size small;
// callers convert the integers in a second, cache-resident pass.
absl::Status DecodeIntStream(Cursor& c, size_t n, uint64_t* out,
                             std::string* desc, bool allow_zstd,
                             bool allow_split) {
  uint8_t tag = 0;
  RUNLOG_RETURN_IF_ERROR(c.Byte(&tag, "int stream tag"));
  switch (tag) {
    case block::kIntArith: {
      int64_t first = 0, delta = 0;
      RUNLOG_RETURN_IF_ERROR(c.ZigZag(&first, "arith first"));
      RUNLOG_RETURN_IF_ERROR(c.ZigZag(&delta, "arith delta"));
      uint64_t x = U(first);
      for (size_t i = 0; i < n; ++i, x += U(delta)) out[i] = x;
      if (desc != nullptr) desc->append("arith");
      return absl::OkStatus();
    }
    case block::kIntRuns: {
      uint64_t value = 0;
      return DecodeRuns(c, n, out, desc, [&](uint64_t* v) {
        int64_t d = 0;
        RUNLOG_RETURN_IF_ERROR(c.ZigZag(&d, "run value"));
        value += U(d);
        *v = value;
        return absl::OkStatus();
      });
    }
    case block::kIntSplitRuns: {
      if (!allow_split) return c.Error("nested splitruns stream");
      uint64_t runs = 0;
      RUNLOG_RETURN_IF_ERROR(c.Count(1, n, &runs, "run count"));
      std::vector<uint64_t> values(runs);
      std::vector<uint64_t> lengths(runs);
      if (desc != nullptr) absl::StrAppend(desc, "splitruns(", runs, ",v=");
      RUNLOG_RETURN_IF_ERROR(DecodeIntStream(c, runs, values.data(), desc,
                                             /*allow_zstd=*/false,
                                             /*allow_split=*/false));
      if (desc != nullptr) desc->append(",c=");
      const size_t lengths_offset = c.block_offset();
      RUNLOG_RETURN_IF_ERROR(DecodeIntStream(c, runs, lengths.data(), desc,
                                             /*allow_zstd=*/false,
                                             /*allow_split=*/false));
      size_t i = 0;
      for (uint64_t r = 0; r < runs; ++r) {
        if (lengths[r] < 1 || lengths[r] > n - i) {
          return c.Error(absl::StrCat("bad run length ", lengths[r], " of run ",
                                      r, " (the lengths start at byte ",
                                      lengths_offset, ")"));
        }
        std::fill(out + i, out + i + lengths[r], values[r]);
        i += lengths[r];
      }
      if (i != n) return c.Error("runs cover fewer points than the block");
      if (desc != nullptr) desc->append(")");
      return absl::OkStatus();
    }
    case block::kIntDeltaRuns: {
      int64_t first = 0;
      uint64_t runs = 0;
      RUNLOG_RETURN_IF_ERROR(c.ZigZag(&first, "deltaruns first"));
      RUNLOG_RETURN_IF_ERROR(c.Count(0, n - 1, &runs, "run count"));
      uint64_t value = U(first);
      out[0] = value;
      size_t i = 1;
      for (uint64_t r = 0; r < runs; ++r) {
        int64_t d = 0;
        uint64_t count = 0;
        RUNLOG_RETURN_IF_ERROR(c.ZigZag(&d, "run delta"));
        RUNLOG_RETURN_IF_ERROR(c.Count(1, n - i, &count, "run length"));
        for (size_t end = i + count; i < end; ++i) {
          value += U(d);
          out[i] = value;
        }
      }
      if (i != n) {
        return c.Error("delta runs cover fewer points than the block");
      }
      if (desc != nullptr) absl::StrAppend(desc, "deltaruns(", runs, ")");
      return absl::OkStatus();
    }
    case block::kIntFor:
    case block::kIntDeltaFor: {
      const bool delta = tag == block::kIntDeltaFor;
      int64_t first = 0, base = 0;
      uint8_t w = 0;
      if (delta) RUNLOG_RETURN_IF_ERROR(c.ZigZag(&first, "deltafor first"));
      RUNLOG_RETURN_IF_ERROR(c.ZigZag(&base, "for base"));
      RUNLOG_RETURN_IF_ERROR(c.Byte(&w, "bit width"));
      if (w > block::kMaxBitWidth) {
        return c.Error(absl::StrCat("bad bit width ", int{w}));
      }
      const size_t count = delta ? n - 1 : n;
      const char* packed = nullptr;
      RUNLOG_RETURN_IF_ERROR(
          c.Bytes(PackedBytes(count, w), &packed, "bit-packed values"));
      const auto* p = reinterpret_cast<const unsigned char*>(packed);
      if (!delta) {
        Unpack(p, count, w, U(base), out);
      } else {
        out[0] = U(first);
        Unpack(p, count, w, U(base), out + 1);
        for (size_t i = 1; i < n; ++i) out[i] += out[i - 1];
      }
      if (desc != nullptr) {
        absl::StrAppend(desc, delta ? "deltafor" : "for", "(w=", int{w}, ")");
      }
      return absl::OkStatus();
    }
    case block::kIntVarint: {
      uint64_t value = 0;
      for (size_t i = 0; i < n; ++i) {
        int64_t d = 0;
        RUNLOG_RETURN_IF_ERROR(c.ZigZag(&d, "varint delta"));
        value += U(d);
        out[i] = value;
      }
      if (desc != nullptr) desc->append("varint");
      return absl::OkStatus();
    }
    case block::kIntDodVarint: {
      int64_t first = 0;
      RUNLOG_RETURN_IF_ERROR(c.ZigZag(&first, "dodvarint first"));
      uint64_t value = U(first);
      uint64_t delta = 0;
      out[0] = value;
      for (size_t i = 1; i < n; ++i) {
        int64_t dd = 0;
        RUNLOG_RETURN_IF_ERROR(c.ZigZag(&dd, "delta of delta"));
        delta += U(dd);
        value += delta;
        out[i] = value;
      }
      if (desc != nullptr) desc->append("dodvarint");
      return absl::OkStatus();
    }
    case block::kIntZstd:
      return DecodeZstdFrame(c, n, allow_zstd, desc, [&](Cursor& inner) {
        return DecodeIntStream(inner, n, out, desc, /*allow_zstd=*/false,
                               allow_split);
      });
    default:
      return c.Error(absl::StrCat("unknown int stream tag ", int{tag}));
  }
}

// The integers of an alp, f32 or bits double stream, before conversion:
// per thread so that a read of many blocks allocates once.
uint64_t* IntScratch(size_t n) {
  thread_local std::vector<uint64_t> scratch;
  if (scratch.size() < n) scratch.resize(n);
  return scratch.data();
}

// The exceptions list (see the layout) into out[0..n).
absl::Status DecodeExceptions(Cursor& c, size_t n, double* out,
                              std::string* desc) {
  uint64_t count = 0;
  RUNLOG_RETURN_IF_ERROR(c.Count(0, n, &count, "exception count"));
  size_t next = 0;
  for (uint64_t j = 0; j < count; ++j) {
    uint64_t gap = 0, bits = 0;
    if (next >= n) return c.Error("exception position past the block");
    RUNLOG_RETURN_IF_ERROR(c.Count(0, n - 1 - next, &gap, "exception gap"));
    RUNLOG_RETURN_IF_ERROR(c.Fixed64(&bits, "exception value"));
    const size_t position = next + gap;
    out[position] = FromBits(bits);
    next = position + 1;
  }
  if (desc != nullptr && count > 0) absl::StrAppend(desc, ",exc=", count);
  return absl::OkStatus();
}

// The body of an alp, f32 or bits double stream, whose description the
// caller has opened: one int stream of n values that `convert` turns into
// out[0..n), then, with `exceptions`, the exceptions list; closes the
// description.
template <typename Convert>
absl::Status DecodeFromInts(Cursor& c, size_t n, bool allow_zstd,
                            bool exceptions, double* out, std::string* desc,
                            Convert convert) {
  uint64_t* k = IntScratch(n);
  RUNLOG_RETURN_IF_ERROR(
      DecodeIntStream(c, n, k, desc, allow_zstd, /*allow_split=*/true));
  convert(static_cast<const uint64_t*>(k));
  if (exceptions) RUNLOG_RETURN_IF_ERROR(DecodeExceptions(c, n, out, desc));
  if (desc != nullptr) desc->append(")");
  return absl::OkStatus();
}

absl::Status DecodeDoubleStream(Cursor& c, size_t n, bool allow_zstd,
                                double* out, std::string* desc) {
  uint8_t tag = 0;
  RUNLOG_RETURN_IF_ERROR(c.Byte(&tag, "double stream tag"));
  switch (tag) {
    case block::kDoubleRuns:
      return DecodeRuns(c, n, out, desc, [&](double* v) {
        uint64_t bits = 0;
        RUNLOG_RETURN_IF_ERROR(c.Fixed64(&bits, "run value"));
        *v = FromBits(bits);
        return absl::OkStatus();
      });
    case block::kDoubleAlp: {
      uint8_t e = 0;
      RUNLOG_RETURN_IF_ERROR(c.Byte(&e, "alp exponent"));
      if (e > block::kMaxAlpExponent) {
        return c.Error(absl::StrCat("bad alp exponent ", int{e}));
      }
      const double scale = kExactPow10[e];
      if (desc != nullptr) absl::StrAppend(desc, "alp(e=", int{e}, ",");
      return DecodeFromInts(c, n, allow_zstd, /*exceptions=*/true, out, desc,
                            [&](const uint64_t* k) {
                              if (e == 0) {  // k / 1.0 is k: spare the division
                                for (size_t i = 0; i < n; ++i) {
                                  out[i] = static_cast<double>(S(k[i]));
                                }
                              } else {
                                for (size_t i = 0; i < n; ++i) {
                                  out[i] = static_cast<double>(S(k[i])) / scale;
                                }
                              }
                            });
    }
    case block::kDoubleF32:
      if (desc != nullptr) desc->append("f32(");
      return DecodeFromInts(c, n, allow_zstd, /*exceptions=*/true, out, desc,
                            [&](const uint64_t* k) {
                              for (size_t i = 0; i < n; ++i) {
                                out[i] = static_cast<double>(FloatFromBits(
                                    FloatFromKey(static_cast<uint32_t>(k[i]))));
                              }
                            });
    case block::kDoubleShuffle: {
      const char* planes = nullptr;
      RUNLOG_RETURN_IF_ERROR(c.Bytes(8 * n, &planes, "byte planes"));
      const auto* p = reinterpret_cast<const unsigned char*>(planes);
      for (size_t i = 0; i < n; ++i) {
        uint64_t bits = 0;
        for (size_t k = 0; k < 8; ++k) {
          bits |= uint64_t{p[k * n + i]} << (8 * k);
        }
        out[i] = FromBits(bits);
      }
      if (desc != nullptr) desc->append("shuffle");
      return absl::OkStatus();
    }
    case block::kDoubleBits:
      if (desc != nullptr) desc->append("bits(");
      return DecodeFromInts(c, n, allow_zstd, /*exceptions=*/false, out, desc,
                            [&](const uint64_t* bits) {
                              std::memcpy(out, bits, n * sizeof(double));
                            });
    case block::kDoubleZstd:
      return DecodeZstdFrame(c, n, allow_zstd, desc, [&](Cursor& inner) {
        return DecodeDoubleStream(inner, n, /*allow_zstd=*/false, out, desc);
      });
    default:
      return c.Error(absl::StrCat("unknown double stream tag ", int{tag}));
  }
}

// The column's length prefix, then a cursor over exactly its stream.
absl::Status OpenColumn(Cursor& c, absl::string_view block,
                        absl::string_view name, Cursor* column) {
  uint64_t length = 0;
  RUNLOG_RETURN_IF_ERROR(
      c.Count(1, c.remaining(), &length, absl::StrCat(name, " column length")));
  const size_t offset = c.block_offset();
  const char* data = nullptr;
  RUNLOG_RETURN_IF_ERROR(c.Bytes(length, &data, name));
  *column = Cursor(block.substr(offset, length), c.where(), offset,
                   /*in_frame=*/false);
  return absl::OkStatus();
}

absl::Status CloseColumn(const Cursor& column, absl::string_view name) {
  if (!column.at_end()) {
    return column.Error(
        absl::StrCat("trailing bytes in the ", name, " column"));
  }
  return absl::OkStatus();
}

// Decodes the whole block into out[0..n) of four raw arrays provided by
// `reserve(n)` (a Status: it may refuse n), describing it into *desc when
// not null. A null array skips its column.
template <typename Reserve>
absl::Status DecodeBlock(absl::string_view block, absl::string_view where,
                         Reserve reserve, std::string* desc) {
  Cursor c(block, where, 0, /*in_frame=*/false);
  uint8_t version = 0;
  RUNLOG_RETURN_IF_ERROR(c.Byte(&version, "block version"));
  if (version != block::kBlockVersion) {
    return absl::DataLossError(
        absl::StrCat(where, ": damaged compacted block: unknown version ",
                     int{version}, " at byte 0"));
  }
  uint64_t n = 0;
  RUNLOG_RETURN_IF_ERROR(c.Count(1, kMaxBlockPoints, &n, "point count"));
  int64_t* steps = nullptr;
  double* values = nullptr;
  double* epochs = nullptr;
  int64_t* times = nullptr;
  RUNLOG_RETURN_IF_ERROR(
      reserve(static_cast<size_t>(n), &steps, &values, &epochs, &times));
  if (desc != nullptr) absl::StrAppend(desc, "n=", n, " steps=");

  // int64_t storage may be accessed as uint64_t (its unsigned type).
  auto* steps_bits = reinterpret_cast<uint64_t*>(steps);
  auto* times_bits = reinterpret_cast<uint64_t*>(times);
  // A column whose pointer is null is skipped by its length prefix,
  // undecoded: a steps+values read never touches the other two.
  Cursor column = c;
  RUNLOG_RETURN_IF_ERROR(OpenColumn(c, block, "steps", &column));
  if (steps_bits != nullptr) {
    RUNLOG_RETURN_IF_ERROR(
        DecodeIntStream(column, n, steps_bits, desc, true, true));
    RUNLOG_RETURN_IF_ERROR(CloseColumn(column, "steps"));
  }

  if (desc != nullptr) desc->append(" values=");
  RUNLOG_RETURN_IF_ERROR(OpenColumn(c, block, "values", &column));
  if (values != nullptr) {
    RUNLOG_RETURN_IF_ERROR(DecodeDoubleStream(column, n, true, values, desc));
    RUNLOG_RETURN_IF_ERROR(CloseColumn(column, "values"));
  }

  if (desc != nullptr) desc->append(" epochs=");
  RUNLOG_RETURN_IF_ERROR(OpenColumn(c, block, "epochs", &column));
  if (epochs != nullptr) {
    RUNLOG_RETURN_IF_ERROR(DecodeDoubleStream(column, n, true, epochs, desc));
    RUNLOG_RETURN_IF_ERROR(CloseColumn(column, "epochs"));
  }

  if (desc != nullptr) desc->append(" times=");
  RUNLOG_RETURN_IF_ERROR(OpenColumn(c, block, "times", &column));
  if (times_bits != nullptr) {
    RUNLOG_RETURN_IF_ERROR(
        DecodeIntStream(column, n, times_bits, desc, true, true));
    RUNLOG_RETURN_IF_ERROR(CloseColumn(column, "times"));
  }

  if (!c.at_end()) return c.Error("trailing bytes after the last column");
  return absl::OkStatus();
}

}  // namespace

void EncoderHints::Trial::Tried(double ratio) {
  if (!(ratio > kHopelessRatio)) {
    pause_ = 0;
    return;
  }
  pause_ = pause_ == 0 ? 1 : std::min<uint8_t>(2 * pause_, kMaxPause);
  pause_left_ = pause_;
}

absl::Status EncodeScalarBlock(const ScalarBlockInput& in, std::string* out,
                               EncoderHints* hints) {
  const size_t n = in.steps.size();
  if (in.values.size() != n || in.epochs.size() != n ||
      in.times_us.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("scalar block columns differ in length: steps ", n,
                     ", values ", in.values.size(), ", epochs ",
                     in.epochs.size(), ", times ", in.times_us.size()));
  }
  if (n == 0 || n > kMaxBlockPoints) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scalar block of ", n, " points (allowed 1..", kMaxBlockPoints, ")"));
  }
  std::string bytes;
  PutByte(&bytes, block::kBlockVersion);
  PutVarint64(&bytes, n);
  PutColumn(&bytes, [&](std::string* s) {
    ChooseIntStream(in.steps, true, s, hints ? &hints->steps : nullptr);
  });
  PutColumn(&bytes, [&](std::string* s) {
    ChooseDoubleStream(in.values, s, hints ? &hints->values : nullptr);
  });
  PutColumn(&bytes, [&](std::string* s) {
    ChooseDoubleStream(in.epochs, s, hints ? &hints->epochs : nullptr);
  });
  PutColumn(&bytes, [&](std::string* s) {
    ChooseIntStream(in.times_us, true, s, hints ? &hints->times : nullptr);
  });
  out->append(bytes);
  return absl::OkStatus();
}

absl::Status DecodeScalarBlock(absl::string_view block, absl::string_view where,
                               ScalarColumns* out) {
  const size_t size = out->steps.size();
  if (out->values.size() != size || out->epochs.size() != size ||
      out->times_us.size() != size) {
    return absl::InvalidArgumentError(
        "DecodeScalarBlock: output columns differ in length");
  }
  // Decoded into per-thread scratch columns that stay in cache, then
  // appended: growing `out` by resize() would zero-fill memory that is
  // overwritten at once, which costs as much as the decoding itself.
  thread_local ScalarColumns scratch;
  size_t decoded = 0;
  auto reserve = [&decoded](size_t n, int64_t** steps, double** values,
                            double** epochs, int64_t** times) {
    if (scratch.steps.size() < n) {
      scratch.steps.resize(n);
      scratch.values.resize(n);
      scratch.epochs.resize(n);
      scratch.times_us.resize(n);
    }
    decoded = n;
    *steps = scratch.steps.data();
    *values = scratch.values.data();
    *epochs = scratch.epochs.data();
    *times = scratch.times_us.data();
    return absl::OkStatus();
  };
  RUNLOG_RETURN_IF_ERROR(DecodeBlock(block, where, reserve, nullptr));
  const auto n = static_cast<std::ptrdiff_t>(decoded);
  out->steps.insert(out->steps.end(), scratch.steps.begin(),
                    scratch.steps.begin() + n);
  out->values.insert(out->values.end(), scratch.values.begin(),
                     scratch.values.begin() + n);
  out->epochs.insert(out->epochs.end(), scratch.epochs.begin(),
                     scratch.epochs.begin() + n);
  out->times_us.insert(out->times_us.end(), scratch.times_us.begin(),
                       scratch.times_us.begin() + n);
  return absl::OkStatus();
}

absl::StatusOr<size_t> DecodeScalarBlockAt(absl::string_view block,
                                           absl::string_view where, size_t at,
                                           ColumnSet columns,
                                           ScalarColumns* out) {
  size_t decoded = 0;
  auto room = [&](const auto& column) -> size_t {
    return column.size() > at ? column.size() - at : 0;
  };
  auto reserve = [&](size_t n, int64_t** steps, double** values,
                     double** epochs, int64_t** times) -> absl::Status {
    auto place = [&](bool wanted, auto& column, auto** ptr) -> absl::Status {
      *ptr = nullptr;
      if (!wanted) return absl::OkStatus();
      if (room(column) < n) {
        return absl::DataLossError(absl::StrCat(
            where, ": damaged compacted block: holds ", n,
            " points where the index leaves room for ", room(column)));
      }
      *ptr = column.data() + at;
      return absl::OkStatus();
    };
    RUNLOG_RETURN_IF_ERROR(
        place(Has(columns, ColumnSet::kSteps), out->steps, steps));
    RUNLOG_RETURN_IF_ERROR(
        place(Has(columns, ColumnSet::kValues), out->values, values));
    RUNLOG_RETURN_IF_ERROR(
        place(Has(columns, ColumnSet::kEpochs), out->epochs, epochs));
    RUNLOG_RETURN_IF_ERROR(
        place(Has(columns, ColumnSet::kTimes), out->times_us, times));
    decoded = n;
    return absl::OkStatus();
  };
  RUNLOG_RETURN_IF_ERROR(DecodeBlock(block, where, reserve, nullptr));
  return decoded;
}

absl::StatusOr<std::string> DescribeScalarBlock(absl::string_view block) {
  ScalarColumns scratch;
  auto reserve = [&scratch](size_t n, int64_t** steps, double** values,
                            double** epochs, int64_t** times) {
    scratch.steps.resize(n);
    scratch.values.resize(n);
    scratch.epochs.resize(n);
    scratch.times_us.resize(n);
    *steps = scratch.steps.data();
    *values = scratch.values.data();
    *epochs = scratch.epochs.data();
    *times = scratch.times_us.data();
    return absl::OkStatus();
  };
  std::string desc;
  RUNLOG_RETURN_IF_ERROR(DecodeBlock(block, "block", reserve, &desc));
  return desc;
}

}  // namespace runlog
