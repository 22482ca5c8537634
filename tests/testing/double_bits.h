// The bit pattern of a double and back, for tests that compare values
// bit-exactly (NaN payloads, -0.0).
#ifndef RUNLOG_TESTS_TESTING_DOUBLE_BITS_H_
#define RUNLOG_TESTS_TESTING_DOUBLE_BITS_H_

#include <cstdint>
#include <cstring>

namespace runlog::testing {

inline uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

inline double FromBits(uint64_t b) {
  double d;
  std::memcpy(&d, &b, sizeof d);
  return d;
}

}  // namespace runlog::testing

#endif  // RUNLOG_TESTS_TESTING_DOUBLE_BITS_H_
