#include "tracking/codec/column_codec.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/coding.h"
#include "tests/testing/decoder_probes.h"
#include "tests/testing/double_bits.h"
#include "tracking/codec/record_format.h"

namespace runlog::record {
namespace {

using ::runlog::testing::Bits;
using ::runlog::testing::FromBits;

using ::runlog::testing::ExactBuffer;
using ::testing::ElementsAreArray;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<uint64_t> BitsOf(const std::vector<double>& v) {
  std::vector<uint64_t> out;
  for (double d : v) out.push_back(Bits(d));
  return out;
}

// Decoders under test share this shape.
template <typename T>
using Decoder = bool (*)(absl::string_view*, size_t, std::vector<T>*);

// Decodes `bytes` holding exactly `n` values; fails the test if bytes are
// left over.
template <typename T>
std::vector<T> DecodeAll(Decoder<T> decode, absl::string_view bytes, size_t n) {
  ExactBuffer buf(bytes);
  absl::string_view in = buf.view();
  std::vector<T> out;
  EXPECT_TRUE(decode(&in, n, &out));
  EXPECT_TRUE(in.empty()) << in.size() << " bytes left over";
  return out;
}

// Every strict prefix of `bytes` must be rejected, reading only the prefix.
template <typename T>
void ExpectEveryTruncationFails(Decoder<T> decode, absl::string_view bytes,
                                size_t n) {
  for (size_t len = 0; len < bytes.size(); ++len) {
    ExactBuffer buf(bytes.substr(0, len));
    absl::string_view in = buf.view();
    std::vector<T> out;
    EXPECT_FALSE(decode(&in, n, &out))
        << "prefix of " << len << " of " << bytes.size() << " bytes";
  }
}

// Bytes after the column are left for the caller.
template <typename T>
void ExpectTrailingBytesLeft(Decoder<T> decode, absl::string_view bytes,
                             size_t n) {
  const std::string with_tail = std::string(bytes) + "tail";
  ExactBuffer buf(with_tail);
  absl::string_view in = buf.view();
  std::vector<T> out;
  ASSERT_TRUE(decode(&in, n, &out));
  EXPECT_EQ(in, "tail");
}

std::string Steps(const std::vector<int64_t>& v) {
  std::string out;
  EncodeSteps(v, &out);
  return out;
}
std::string Deltas(const std::vector<int64_t>& v) {
  std::string out;
  EncodeDeltas(v, &out);
  return out;
}
std::string Xor(const std::vector<double>& v) {
  std::string out;
  EncodeXorDoubles(v, &out);
  return out;
}
std::string Epochs(const std::vector<double>& v) {
  std::string out;
  EncodeEpochs(v, &out);
  return out;
}

// ---- inputs -----------------------------------------------------------------

std::vector<std::vector<int64_t>> EdgeIntegerColumns() {
  return {
      {0},
      {kMin},
      {kMax},
      {kMin, kMax},
      {kMax, kMin},
      {kMax, kMax, kMax},
      {kMin, kMin},
      {kMin, kMin + 1, kMax - 1, kMax, kMin},  // wrapping in both directions
      {0, -1, 1, -2, 2, kMin, 0, kMax, 0},
      {5, 4, 3, 2, 1, 0, -1},  // descending
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
      {1'700'000'000'000'000, 1'700'000'000'000'001, 1'700'000'000'000'001},
  };
}

// 200 columns of 1..max_n values.
std::vector<std::vector<int64_t>> RandomIntegerColumns(uint32_t seed,
                                                       size_t max_n = 300) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int64_t>> out;
  for (int c = 0; c < 200; ++c) {
    const size_t n = 1 + rng() % max_n;
    std::vector<int64_t> v(n);
    const int mode = c % 4;
    int64_t x = static_cast<int64_t>(rng());
    for (size_t i = 0; i < n; ++i) {
      switch (mode) {
        case 0:  // anything
          v[i] = static_cast<int64_t>(rng());
          break;
        case 1:  // mostly consecutive with jumps
          x += (rng() % 8 == 0) ? static_cast<int64_t>(rng() % 1000) - 500 : 1;
          v[i] = x;
          break;
        case 2:  // small values of either sign
          v[i] = static_cast<int64_t>(rng() % 2001) - 1000;
          break;
        default:  // timestamps
          x = 1'700'000'000'000'000 +
              static_cast<int64_t>(i * 1000 + rng() % 50);
          v[i] = x;
          break;
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<std::vector<double>> EdgeDoubleColumns() {
  const double nan_payload = FromBits(0x7ff8'0000'0000'0001);
  const double snan = FromBits(0x7ff0'0000'0000'0001);
  const double neg_nan = FromBits(0xfff8'dead'beef'0000);
  const double denorm_min = std::numeric_limits<double>::denorm_min();
  const double denorm_max = FromBits(0x000f'ffff'ffff'ffff);
  return {
      {0.0},
      {-0.0},
      {0.0, -0.0, 0.0, -0.0},
      {kInf, -kInf, kInf},
      {nan_payload, snan, neg_nan, std::nan(""), nan_payload},
      {denorm_min, -denorm_min, denorm_max, 0.0, denorm_min},
      {std::numeric_limits<double>::max(),
       std::numeric_limits<double>::lowest(),
       std::numeric_limits<double>::min()},
      {1.5, 1.5, 1.5, 1.5, 1.5, 1.5},  // constant run
      {1.0, 1.0, 2.0, 2.0, 2.0, 1.0},
      {FromBits(0), FromBits(~uint64_t{0}), FromBits(0)},  // every byte flips
      {FromBits(0x0100'0000'0000'0000), FromBits(0x0000'0000'0000'0001)},
  };
}

// 200 columns of 1..max_n values.
std::vector<std::vector<double>> RandomDoubleColumns(uint32_t seed,
                                                     size_t max_n = 300) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::vector<std::vector<double>> out;
  for (int c = 0; c < 200; ++c) {
    const size_t n = 1 + rng() % max_n;
    std::vector<double> v(n);
    const int mode = c % 4;
    for (size_t i = 0; i < n; ++i) {
      switch (mode) {
        case 0:  // arbitrary bit patterns, NaNs included
          v[i] = FromBits(rng());
          break;
        case 1:  // a smooth metric
          v[i] = std::exp(-static_cast<double>(i) / 100.0) + 0.01 * unit(rng);
          break;
        case 2:  // float32 values, as most frameworks log them
          v[i] = static_cast<double>(static_cast<float>(unit(rng) * 10));
          break;
        default:  // long constant runs
          v[i] = static_cast<double>(i / 37);
          break;
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

// ---- steps ------------------------------------------------------------------

TEST(StepsTest, RoundTripsEdgeColumns) {
  for (const auto& steps : EdgeIntegerColumns()) {
    const std::string enc = Steps(steps);
    EXPECT_THAT(DecodeAll<int64_t>(DecodeSteps, enc, steps.size()),
                ElementsAreArray(steps));
  }
}

TEST(StepsTest, RoundTripsRandomColumns) {
  for (const auto& steps : RandomIntegerColumns(1)) {
    const std::string enc = Steps(steps);
    ASSERT_THAT(DecodeAll<int64_t>(DecodeSteps, enc, steps.size()),
                ElementsAreArray(steps));
  }
}

TEST(StepsTest, ConsecutiveStepsCostOneByteEach) {
  std::vector<int64_t> steps(1000);
  for (size_t i = 0; i < steps.size(); ++i) steps[i] = static_cast<int64_t>(i);
  EXPECT_EQ(Steps(steps).size(), 1000u);
  // After a first step of any size, the rest still cost one byte each.
  for (int64_t& s : steps) s += 1'000'000'000;
  const size_t first = Steps({steps[0]}).size();
  EXPECT_EQ(Steps(steps).size(), first + 999);
}

TEST(StepsTest, SmallGapsCostOneByte) {
  // A jump forward by up to 64 (or back by up to 63) fits one byte.
  EXPECT_EQ(Steps({0, 64}).size(), 2u);
  EXPECT_EQ(Steps({10, -53}).size(), 2u);
  EXPECT_EQ(Steps({10, -54}).size(), 3u);
  EXPECT_EQ(Steps({0, 65}).size(), 3u);
}

TEST(StepsTest, EmptyColumnIsEmpty) {
  EXPECT_EQ(Steps({}), "");
  absl::string_view in;
  std::vector<int64_t> out;
  EXPECT_TRUE(DecodeSteps(&in, 0, &out));
  EXPECT_TRUE(out.empty());
}

TEST(StepsTest, DecodeAppendsToOutput) {
  const std::string enc = Steps({7, 8});
  absl::string_view in = enc;
  std::vector<int64_t> out = {1};
  ASSERT_TRUE(DecodeSteps(&in, 2, &out));
  EXPECT_THAT(out, ElementsAreArray({1, 7, 8}));
}

TEST(StepsTest, EveryTruncationFails) {
  for (const auto& steps : EdgeIntegerColumns()) {
    ExpectEveryTruncationFails<int64_t>(DecodeSteps, Steps(steps),
                                        steps.size());
  }
  for (const auto& steps : RandomIntegerColumns(2, 40)) {
    ExpectEveryTruncationFails<int64_t>(DecodeSteps, Steps(steps),
                                        steps.size());
  }
}

TEST(StepsTest, LeavesTrailingBytes) {
  ExpectTrailingBytesLeft<int64_t>(DecodeSteps, Steps({kMin, 0, kMax}), 3);
}

TEST(StepsTest, OverlongVarintFails) {
  // Eleven continuation bytes: no valid varint.
  const std::string bad(11, '\x80');
  absl::string_view in = bad;
  std::vector<int64_t> out;
  EXPECT_FALSE(DecodeSteps(&in, 1, &out));
}

TEST(StepsTest, FailureLeavesTheOutputAsItWas) {
  const std::string enc = Steps({5, 6, 9, 1 << 20});
  absl::string_view in = absl::string_view(enc).substr(0, enc.size() - 1);
  std::vector<int64_t> out = {42};
  EXPECT_FALSE(DecodeSteps(&in, 4, &out));
  EXPECT_THAT(out, ElementsAreArray({42}));
}

TEST(StepsTest, CountOverTheInputFailsBeforeAllocating) {
  const std::string enc = Steps({1, 2, 3});
  absl::string_view in = enc;
  std::vector<int64_t> out;
  ::runlog::testing::AllocationProbe probe;
  EXPECT_FALSE(DecodeSteps(&in, size_t{1} << 40, &out));
  EXPECT_LT(probe.largest(), 4096u);
}

// ---- deltas (times) ---------------------------------------------------------

TEST(DeltasTest, RoundTripsEdgeColumns) {
  for (const auto& v : EdgeIntegerColumns()) {
    EXPECT_THAT(DecodeAll<int64_t>(DecodeDeltas, Deltas(v), v.size()),
                ElementsAreArray(v));
  }
}

TEST(DeltasTest, RoundTripsRandomColumns) {
  for (const auto& v : RandomIntegerColumns(3)) {
    ASSERT_THAT(DecodeAll<int64_t>(DecodeDeltas, Deltas(v), v.size()),
                ElementsAreArray(v));
  }
}

TEST(DeltasTest, WrappingDeltasRoundTrip) {
  // kMax - kMin and kMin - kMax overflow int64; the encoding wraps.
  const std::vector<int64_t> v = {kMin, kMax, kMin, kMax, -1, kMax, 0, kMin};
  EXPECT_THAT(DecodeAll<int64_t>(DecodeDeltas, Deltas(v), v.size()),
              ElementsAreArray(v));
}

TEST(DeltasTest, EqualTimesCostOneByte) {
  const std::vector<int64_t> v(100, 1'700'000'000'000'000);
  EXPECT_EQ(Deltas(v).size(), Deltas({v[0]}).size() + 99);
}

TEST(DeltasTest, EveryTruncationFails) {
  for (const auto& v : EdgeIntegerColumns()) {
    ExpectEveryTruncationFails<int64_t>(DecodeDeltas, Deltas(v), v.size());
  }
  for (const auto& v : RandomIntegerColumns(4, 40)) {
    ExpectEveryTruncationFails<int64_t>(DecodeDeltas, Deltas(v), v.size());
  }
}

TEST(DeltasTest, LeavesTrailingBytes) {
  ExpectTrailingBytesLeft<int64_t>(DecodeDeltas, Deltas({kMax, kMin}), 2);
}

// ---- xor doubles ------------------------------------------------------------

TEST(XorDoublesTest, RoundTripsEdgeColumnsBitExactly) {
  for (const auto& v : EdgeDoubleColumns()) {
    EXPECT_THAT(BitsOf(DecodeAll<double>(DecodeXorDoubles, Xor(v), v.size())),
                ElementsAreArray(BitsOf(v)));
  }
}

TEST(XorDoublesTest, RoundTripsRandomColumnsBitExactly) {
  for (const auto& v : RandomDoubleColumns(5)) {
    ASSERT_THAT(BitsOf(DecodeAll<double>(DecodeXorDoubles, Xor(v), v.size())),
                ElementsAreArray(BitsOf(v)));
  }
}

TEST(XorDoublesTest, FirstValueIsEightBytesLittleEndian) {
  EXPECT_EQ(Xor({FromBits(0x0102'0304'0506'0708)}),
            std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
}

TEST(XorDoublesTest, UnchangedValueCostsOneByte) {
  const std::string enc = Xor({0.25, 0.25, 0.25});
  ASSERT_EQ(enc.size(), 8u + 2u);
  EXPECT_EQ(static_cast<uint8_t>(enc[8]), kXorUnchanged);
  EXPECT_EQ(static_cast<uint8_t>(enc[9]), kXorUnchanged);
  // NaN with the same payload is unchanged too; -0.0 after 0.0 is not.
  EXPECT_EQ(Xor({std::nan(""), std::nan("")}).size(), 9u);
  EXPECT_EQ(Xor({0.0, -0.0}).size(), 8u + 2u);  // control + sign byte
}

TEST(XorDoublesTest, ControlByteCountsZeroBytes) {
  // x = 0x0000'00ab'cd00'0000: 3 leading and 3 trailing zero bytes.
  const std::string enc = Xor({FromBits(0), FromBits(0x0000'00ab'cd00'0000)});
  ASSERT_EQ(enc.size(), 8u + 3u);
  EXPECT_EQ(static_cast<uint8_t>(enc[8]), (3 << 4) | 3);
  EXPECT_EQ(static_cast<uint8_t>(enc[9]), 0xcd);
  EXPECT_EQ(static_cast<uint8_t>(enc[10]), 0xab);
}

TEST(XorDoublesTest, Float32DerivedValueCostsAtMostSixBytes) {
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<float> dist(-1e6f, 1e6f);
  std::vector<double> v;
  for (int i = 0; i < 10'000; ++i) v.push_back(static_cast<double>(dist(rng)));
  // The cost of each value after its predecessor, then of the whole column.
  for (size_t i = 1; i < v.size(); ++i) {
    ASSERT_LE(Xor({v[i - 1], v[i]}).size(), 8u + 6u) << "value " << v[i];
  }
  EXPECT_LE(Xor(v).size(), 8u + 6u * (v.size() - 1));
  // Also across very different magnitudes and subnormal floats.
  for (float f : {std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::max(), -1.0f, 3.0e-20f}) {
    EXPECT_LE(Xor({0.5, static_cast<double>(f)}).size(), 8u + 6u) << f;
  }
}

TEST(XorDoublesTest, EveryTruncationFails) {
  for (const auto& v : EdgeDoubleColumns()) {
    ExpectEveryTruncationFails<double>(DecodeXorDoubles, Xor(v), v.size());
  }
  for (const auto& v : RandomDoubleColumns(7, 40)) {
    ExpectEveryTruncationFails<double>(DecodeXorDoubles, Xor(v), v.size());
  }
}

TEST(XorDoublesTest, FailureLeavesTheOutputAsItWas) {
  const std::string enc = Xor({1.0, 2.5, -3.75, 1e300});
  absl::string_view in = absl::string_view(enc).substr(0, enc.size() - 1);
  std::vector<double> out = {0.5};
  EXPECT_FALSE(DecodeXorDoubles(&in, 4, &out));
  EXPECT_THAT(out, ElementsAreArray({0.5}));
}

TEST(XorDoublesTest, CountOverTheInputFailsBeforeAllocating) {
  const std::string enc = Xor({1.0, 2.0});
  absl::string_view in = enc;
  std::vector<double> out;
  ::runlog::testing::AllocationProbe probe;
  EXPECT_FALSE(DecodeXorDoubles(&in, size_t{1} << 40, &out));
  EXPECT_LT(probe.largest(), 4096u);
}

TEST(XorDoublesTest, LeavesTrailingBytes) {
  ExpectTrailingBytesLeft<double>(DecodeXorDoubles, Xor({1.0, 2.0, 2.0}), 3);
}

TEST(XorDoublesTest, ImpossibleControlBytesFail) {
  // Leading + trailing zero bytes must leave at least one middle byte.
  for (uint8_t control : {0x80, 0x08, 0x44, 0x17, 0x71, 0x0f, 0xf0, 0xfe}) {
    std::string enc(8, '\0');
    enc.push_back(static_cast<char>(control));
    enc.append(8, '\x01');  // enough bytes for any length
    ExactBuffer buf(enc);
    absl::string_view in = buf.view();
    std::vector<double> out;
    EXPECT_FALSE(DecodeXorDoubles(&in, 2, &out))
        << "control " << static_cast<int>(control);
  }
}

TEST(XorDoublesTest, ArbitraryBytesNeverReadPastTheInput) {
  std::mt19937_64 rng(8);
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    ExactBuffer buf(bytes);
    absl::string_view in = buf.view();
    std::vector<double> out;
    const size_t n = 1 + rng() % 10;
    if (DecodeXorDoubles(&in, n, &out)) {
      EXPECT_EQ(out.size(), n);
    }
    EXPECT_LE(in.size(), bytes.size());
  }
}

// ---- epochs -----------------------------------------------------------------

// Epochs keep NaN-ness (NaN = no epoch) and the exact bits of every other
// value, -0.0 included.
void ExpectSameEpochs(const std::vector<double>& got,
                      const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << i;
    } else {
      EXPECT_EQ(Bits(got[i]), Bits(want[i])) << i << ": " << got[i];
    }
  }
}

TEST(EpochsTest, AllNaNIsOneFlagByte) {
  const std::vector<double> v(500, std::nan(""));
  const std::string enc = Epochs(v);
  EXPECT_EQ(enc, std::string(1, static_cast<char>(kEpochsNone)));
  ExpectSameEpochs(DecodeAll<double>(DecodeEpochs, enc, v.size()), v);
}

TEST(EpochsTest, EmptyColumnIsNone) {
  EXPECT_EQ(Epochs({}), std::string(1, static_cast<char>(kEpochsNone)));
}

TEST(EpochsTest, ConstantIsFlagAndOneDouble) {
  const std::vector<double> v(500, 3.0);
  const std::string enc = Epochs(v);
  ASSERT_EQ(enc.size(), 9u);
  EXPECT_EQ(static_cast<uint8_t>(enc[0]), kEpochsConstant);
  ExpectSameEpochs(DecodeAll<double>(DecodeEpochs, enc, v.size()), v);
  // -0.0 is its own constant, not 0.0.
  const std::vector<double> neg(3, -0.0);
  ExpectSameEpochs(DecodeAll<double>(DecodeEpochs, Epochs(neg), 3), neg);
}

TEST(EpochsTest, VaryingUsesXorColumn) {
  const std::vector<double> v = {0.0, 0.0, 1.0, std::nan(""), -0.0, kInf};
  const std::string enc = Epochs(v);
  EXPECT_EQ(static_cast<uint8_t>(enc[0]), kEpochsXor);
  ExpectSameEpochs(DecodeAll<double>(DecodeEpochs, enc, v.size()), v);
}

TEST(EpochsTest, RoundTripsEdgeAndRandomColumns) {
  for (const auto& v : EdgeDoubleColumns()) {
    ExpectSameEpochs(DecodeAll<double>(DecodeEpochs, Epochs(v), v.size()), v);
  }
  for (const auto& v : RandomDoubleColumns(9)) {
    ExpectSameEpochs(DecodeAll<double>(DecodeEpochs, Epochs(v), v.size()), v);
  }
}

TEST(EpochsTest, EveryTruncationFails) {
  std::vector<std::vector<double>> columns = EdgeDoubleColumns();
  columns.push_back(std::vector<double>(4, std::nan("")));
  columns.push_back({2.0, 2.0});
  for (const auto& v : columns) {
    ExpectEveryTruncationFails<double>(DecodeEpochs, Epochs(v), v.size());
  }
}

TEST(EpochsTest, LeavesTrailingBytes) {
  ExpectTrailingBytesLeft<double>(DecodeEpochs, Epochs({std::nan("")}), 1);
  ExpectTrailingBytesLeft<double>(DecodeEpochs, Epochs({1.0, 1.0}), 2);
  ExpectTrailingBytesLeft<double>(DecodeEpochs, Epochs({1.0, 2.0}), 2);
}

TEST(EpochsTest, UnknownFlagFails) {
  for (uint8_t flag : {3, 0x7f, 0xff}) {
    std::string enc(1, static_cast<char>(flag));
    enc.append(16, '\0');
    absl::string_view in = enc;
    std::vector<double> out;
    EXPECT_FALSE(DecodeEpochs(&in, 1, &out)) << static_cast<int>(flag);
  }
}

// ---- scalars and strings ----------------------------------------------------

TEST(PrimitivesTest, SignedVarintRoundTrips) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{63},
                    int64_t{-64}, int64_t{64}, kMin, kMax}) {
    std::string enc;
    PutSignedVarint(&enc, v);
    ExactBuffer buf(enc);
    absl::string_view in = buf.view();
    int64_t got = 0;
    ASSERT_TRUE(GetSignedVarint(&in, &got));
    EXPECT_EQ(got, v);
    EXPECT_TRUE(in.empty());
    for (size_t len = 0; len < enc.size(); ++len) {
      ExactBuffer cut(absl::string_view(enc).substr(0, len));
      absl::string_view cin = cut.view();
      EXPECT_FALSE(GetSignedVarint(&cin, &got));
    }
  }
}

TEST(PrimitivesTest, DoubleRoundTripsBits) {
  for (uint64_t b : {uint64_t{0}, uint64_t{0x8000'0000'0000'0000},
                     uint64_t{0x7ff8'0000'0000'0001}, ~uint64_t{0}}) {
    std::string enc;
    PutDouble(&enc, FromBits(b));
    ASSERT_EQ(enc.size(), 8u);
    absl::string_view in = enc;
    double got;
    ASSERT_TRUE(GetDouble(&in, &got));
    EXPECT_EQ(Bits(got), b);
    absl::string_view cut = absl::string_view(enc).substr(0, 7);
    EXPECT_FALSE(GetDouble(&cut, &got));
  }
}

TEST(PrimitivesTest, StringRoundTripsAndHonoursLimit) {
  std::string enc;
  PutString(&enc, std::string("a\0b", 3));
  PutString(&enc, "");
  ExactBuffer buf(enc);
  absl::string_view in = buf.view();
  absl::string_view s;
  ASSERT_TRUE(GetString(&in, 3, &s));
  EXPECT_EQ(s, absl::string_view("a\0b", 3));
  ASSERT_TRUE(GetString(&in, 0, &s));
  EXPECT_EQ(s, "");
  EXPECT_TRUE(in.empty());

  absl::string_view again = enc;
  EXPECT_FALSE(GetString(&again, 2, &s));  // over max_length
}

TEST(PrimitivesTest, StringLengthPastInputFails) {
  std::string enc;
  PutString(&enc, "hello");
  for (size_t len = 0; len < enc.size(); ++len) {
    ExactBuffer buf(absl::string_view(enc).substr(0, len));
    absl::string_view in = buf.view();
    absl::string_view s;
    EXPECT_FALSE(GetString(&in, 100, &s)) << len;
  }
  // A declared length near 2^64 must not wrap a bounds check.
  std::string huge;
  storage::PutVarint64(&huge, ~uint64_t{0});
  huge += "x";
  absl::string_view in = huge;
  absl::string_view s;
  EXPECT_FALSE(GetString(&in, ~size_t{0}, &s));
}

}  // namespace
}  // namespace runlog::record
