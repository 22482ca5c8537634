// What the decimal encoders and formatters share: the powers of ten that are
// exact doubles, and rounding to an integer without a library call. Used by
// the block codec's alp mapping (tracking/codec/block_codec.cc) and by the
// shortest double text (tracking/double_text.cc).
//
// Pure functions; thread-safe.
#ifndef RUNLOG_TRACKING_EXACT_DECIMAL_H_
#define RUNLOG_TRACKING_EXACT_DECIMAL_H_

#include <cmath>

namespace runlog {

// 10^0 .. 10^22: every one is exactly a double, so a product or quotient
// with one rounds once.
inline constexpr double kExactPow10[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// x rounded to the nearest integer, ties to even, as std::nearbyint does in
// the default rounding mode (NaN and infinities come back as they are);
// inline, where nearbyint and lrint are library calls without SSE4.1 or
// -fno-math-errno. Below 2^52, adding 2^52 leaves no fraction bits, so the
// addition itself rounds; from 2^52 on every double is an integer.
inline double RoundToEven(double x) {
  constexpr double kNoFraction = 4503599627370496.0;  // 2^52
  const double a = std::fabs(x);
  if (!(a < kNoFraction)) return x;
  return std::copysign((a + kNoFraction) - kNoFraction, x);
}

}  // namespace runlog

#endif  // RUNLOG_TRACKING_EXACT_DECIMAL_H_
