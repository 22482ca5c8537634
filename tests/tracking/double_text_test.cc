#include "tracking/double_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace runlog {
namespace {

std::string Ours(double d) {
  char buf[kMaxShortestDoubleText];
  return std::string(buf, WriteShortestDouble(d, buf));
}

std::string Reference(double d) {
  char buf[64];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
}

// Every value, and its negation, written as std::to_chars writes it; the
// first few mismatches are named.
void ExpectSameAsToChars(const std::vector<double>& values) {
  int failures = 0;
  for (double v : values) {
    for (double d : {v, -v}) {
      const std::string ours = Ours(d), reference = Reference(d);
      if (ours != reference && ++failures <= 10) {
        ADD_FAILURE() << "bits " << std::hexfloat << d << ": wrote \"" << ours
                      << "\", std::to_chars \"" << reference << "\"";
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(DoubleTextTest, DecimalsOfEveryScale) {
  std::mt19937_64 rng(1);
  std::vector<double> values;
  for (int e = 0; e <= 22; ++e) {
    for (int digits = 1; digits <= 17; ++digits) {
      std::uniform_int_distribution<uint64_t> k(
          1, static_cast<uint64_t>(std::pow(10.0, digits)) - 1);
      for (int i = 0; i < 300; ++i) {
        const double scale = std::pow(10.0, e);
        values.push_back(static_cast<double>(k(rng)) / scale);
        values.push_back(static_cast<double>(k(rng)) * scale);
      }
    }
  }
  ExpectSameAsToChars(values);
}

TEST(DoubleTextTest, Float32Values) {
  std::mt19937_64 rng(2);
  std::uniform_int_distribution<uint32_t> bits(0, 0x7f7fffff);
  std::vector<double> values;
  for (int i = 0; i < 200000; ++i) {
    const uint32_t b = bits(rng);
    float f;
    std::memcpy(&f, &b, sizeof f);
    values.push_back(static_cast<double>(f));
  }
  ExpectSameAsToChars(values);
}

TEST(DoubleTextTest, RandomBitPatterns) {
  std::mt19937_64 rng(3);
  std::vector<double> values;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t b = rng();
    double d;
    std::memcpy(&d, &b, sizeof d);
    values.push_back(d);
  }
  // And the magnitudes the direct path takes, densely.
  std::uniform_real_distribution<double> exponent(-7.5, 15.5);
  for (int i = 0; i < 200000; ++i) {
    values.push_back(std::pow(10.0, exponent(rng)));
  }
  ExpectSameAsToChars(values);
}

TEST(DoubleTextTest, EdgesOfTheDirectPath) {
  std::vector<double> values = {0.0,
                                1e-7,
                                1e15,
                                1e14,
                                1e-6,
                                0.1,
                                0.2,
                                0.1 + 0.2,
                                1.0 / 3,
                                2.0 / 3,
                                1.0,
                                9.0,
                                10.0,
                                100000.0,
                                123456.0,
                                1500.0,
                                0.0015,
                                0.0001,
                                999999999999999.0,
                                99999999999999.9,
                                9.999999999999999e-8,
                                std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::epsilon(),
                                std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::quiet_NaN()};
  for (int e = -8; e <= 16; ++e) {
    const double p = std::pow(10.0, e);
    values.push_back(p);
    values.push_back(std::nextafter(p, 0.0));
    values.push_back(std::nextafter(p, 2 * p));
  }
  ExpectSameAsToChars(values);
}

}  // namespace
}  // namespace runlog
