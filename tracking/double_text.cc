#include "tracking/double_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>

#include "tracking/exact_decimal.h"

namespace runlog {
namespace {

constexpr uint64_t kPow10Int[16] = {1,
                                    10,
                                    100,
                                    1000,
                                    10000,
                                    100000,
                                    1000000,
                                    10000000,
                                    100000000,
                                    1000000000,
                                    10000000000,
                                    100000000000,
                                    1000000000000,
                                    10000000000000,
                                    100000000000000,
                                    1000000000000000};

char* WriteZeros(char* p, int n) {
  std::memset(p, '0', static_cast<size_t>(n));
  return p + n;
}

char* Copy(char* p, const char* from, int n) {
  std::memcpy(p, from, static_cast<size_t>(n));
  return p + n;
}

// The shortest text of a = s * 10^x (s with n digits, no trailing zero),
// laid out as std::to_chars does.
char* Layout(uint64_t s, int x, char* p) {
  char digits[16];
  const int n =
      static_cast<int>(std::to_chars(digits, digits + 16, s).ptr - digits);
  const int sci_exponent = x + n - 1;
  const int abs_exponent = sci_exponent < 0 ? -sci_exponent : sci_exponent;
  const int sci_length =
      n + (n > 1 ? 1 : 0) + 2 + (abs_exponent >= 100 ? 3 : 2);
  const int fixed_length = x >= 0 ? n + x : (n + x > 0 ? n + 1 : 2 - x);
  if (fixed_length <= sci_length) {
    if (x >= 0) return WriteZeros(Copy(p, digits, n), x);
    if (n + x > 0) {
      p = Copy(p, digits, n + x);
      *p++ = '.';
      return Copy(p, digits + n + x, -x);
    }
    *p++ = '0';
    *p++ = '.';
    return Copy(WriteZeros(p, -x - n), digits, n);
  }
  *p++ = digits[0];
  if (n > 1) {
    *p++ = '.';
    p = Copy(p, digits + 1, n - 1);
  }
  *p++ = 'e';
  *p++ = sci_exponent < 0 ? '-' : '+';
  if (abs_exponent >= 100) *p++ = static_cast<char>('0' + abs_exponent / 100);
  *p++ = static_cast<char>('0' + abs_exponent / 10 % 10);
  *p++ = static_cast<char>('0' + abs_exponent % 10);
  return p;
}

}  // namespace

char* WriteShortestDouble(double d, char* p) {
  const double a = std::fabs(d);
  if (!(a >= 1e-7 && a < 1e15)) {  // zero, NaN and infinities too
    return std::to_chars(p, p + kMaxShortestDoubleText, d).ptr;
  }
  // The nearest 15-digit decimal: k in [1e14, 1e15) with a ~ k * 10^-scale.
  // If a's shortest text has at most 15 digits, it is k without its
  // trailing zeros: a lies within half an ulp (2^-53 relative) of it, and
  // the product and its rounding err by less than a quarter of k's unit,
  // so no other 15-digit decimal is nearer. The round trip below checks it.
  uint64_t bits;
  std::memcpy(&bits, &a, sizeof bits);
  // A float32 widened to double (what a float32 training loop logs, e.g.
  // PyTorch's loss.item()) has its low 29 fraction bits zero, and its
  // shortest text as a double has 16 or 17 digits unless its fraction is
  // short, as 0.5's or 3.25's is: such a value goes to std::to_chars
  // without the 15-digit attempt, which would fail. Only speed depends on
  // this test; the text does not.
  constexpr uint64_t kFraction = (uint64_t{1} << 52) - 1;
  constexpr uint64_t kBelowFloat32 = (uint64_t{1} << 29) - 1;
  if ((bits & kBelowFloat32) == 0 && (bits & kFraction) != 0 &&
      __builtin_ctzll(bits & kFraction) < 40) {
    return std::to_chars(p, p + kMaxShortestDoubleText, d).ptr;
  }
  const int binary_exponent = static_cast<int>(bits >> 52) - 1023;
  // floor(binary_exponent * log10(2)), give or take one; fixed below.
  int scale = 14 - ((binary_exponent * 78913) >> 18);
  uint64_t k = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (scale < 0 || scale > 22) {
      return std::to_chars(p, p + kMaxShortestDoubleText, d).ptr;
    }
    k = static_cast<uint64_t>(RoundToEven(a * kExactPow10[scale]));
    if (k >= kPow10Int[15]) {
      --scale;
    } else if (k < kPow10Int[14]) {
      ++scale;
    } else {
      break;
    }
  }
  if (k < kPow10Int[14] || k >= kPow10Int[15]) {
    return std::to_chars(p, p + kMaxShortestDoubleText, d).ptr;
  }
  int x = -scale;
  for (int zeros : {8, 4, 2, 1}) {
    if (k % kPow10Int[zeros] == 0) {
      k /= kPow10Int[zeros];
      x += zeros;
    }
  }
  // k has at most 15 digits, so it and every power of ten used are exact,
  // and the division and the product round correctly: equality means the
  // text reads back to a.
  const bool round_trips = x < 0 ? static_cast<double>(k) / kExactPow10[-x] == a
                                 : static_cast<double>(k * kPow10Int[x]) == a;
  if (!round_trips) {
    return std::to_chars(p, p + kMaxShortestDoubleText, d).ptr;
  }
  if (d < 0) *p++ = '-';
  return Layout(k, x, p);
}

}  // namespace runlog
