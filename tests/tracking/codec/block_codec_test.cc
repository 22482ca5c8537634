#include "tracking/codec/block_codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bench/synthetic_series.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/coding.h"
#include "storage/compression.h"
#include "tests/testing/decoder_probes.h"
#include "tests/testing/double_bits.h"
#include "tests/testing/status_matchers.h"
#include "tracking/codec/block_format.h"

namespace runlog {
namespace {

using ::runlog::testing::Bits;
using ::runlog::testing::FromBits;

using ::runlog::testing::AllocationProbe;
using ::runlog::testing::ExactBuffer;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Owned columns of one block.
struct Points {
  std::vector<int64_t> steps;
  std::vector<double> values;
  std::vector<double> epochs;
  std::vector<int64_t> times_us;

  size_t size() const { return steps.size(); }
  static Points Of(size_t n) {
    Points p;
    for (size_t i = 0; i < n; ++i) {
      p.steps.push_back(static_cast<int64_t>(i));
      p.values.push_back(0.5);
      p.epochs.push_back(std::nan(""));
      p.times_us.push_back(1'700'000'000'000'000);
    }
    return p;
  }
  static Points From(const bench::SyntheticSeries& s) {
    return Points{s.steps, s.values, s.epochs, s.times_us};
  }
  ScalarBlockInput input() const {
    return ScalarBlockInput{steps, values, epochs, times_us};
  }
};

std::string Encode(const Points& p) {
  std::string out;
  const absl::Status status = EncodeScalarBlock(p.input(), &out);
  EXPECT_THAT(status, IsOk());
  return out;
}

std::string Describe(const Points& p) {
  absl::StatusOr<std::string> desc = DescribeScalarBlock(Encode(p));
  EXPECT_THAT(desc.status(), IsOk());
  return desc.ok() ? *desc : "";
}

std::vector<uint64_t> BitsOf(const std::vector<double>& v) {
  std::vector<uint64_t> b;
  for (double d : v) b.push_back(Bits(d));
  return b;
}

// Encodes, decodes (from a buffer of exactly the block's size) and compares
// every column bit for bit.
void ExpectRoundTrip(const Points& p) {
  const std::string block = Encode(p);
  const ExactBuffer buffer(block);
  ScalarColumns out;
  ASSERT_THAT(DecodeScalarBlock(buffer.view(), "test", &out), IsOk());
  EXPECT_EQ(out.steps, p.steps);
  EXPECT_EQ(BitsOf(out.values), BitsOf(p.values));
  EXPECT_EQ(BitsOf(out.epochs), BitsOf(p.epochs));
  EXPECT_EQ(out.times_us, p.times_us);
}

absl::Status DecodeBytes(absl::string_view bytes, ScalarColumns* out) {
  const ExactBuffer buffer(bytes);
  return DecodeScalarBlock(buffer.view(), "seg 7 block 3", out);
}

absl::Status DecodeBytes(absl::string_view bytes) {
  ScalarColumns out;
  return DecodeBytes(bytes, &out);
}

// Blocks of `block` points of one series, encoded in order through one
// EncoderHints (as compaction does) and, separately, with none.
struct HintedBlocks {
  std::vector<std::string> hinted;
  std::vector<std::string> plain;
};
HintedBlocks EncodeSeries(const Points& all, size_t block) {
  HintedBlocks out;
  EncoderHints hints;
  for (size_t i = 0; i < all.size(); i += block) {
    const size_t n = std::min(block, all.size() - i);
    const ScalarBlockInput in{absl::MakeConstSpan(all.steps).subspan(i, n),
                              absl::MakeConstSpan(all.values).subspan(i, n),
                              absl::MakeConstSpan(all.epochs).subspan(i, n),
                              absl::MakeConstSpan(all.times_us).subspan(i, n)};
    std::string hinted, plain;
    EXPECT_THAT(EncodeScalarBlock(in, &hinted, &hints), IsOk());
    EXPECT_THAT(EncodeScalarBlock(in, &plain), IsOk());
    out.hinted.push_back(std::move(hinted));
    out.plain.push_back(std::move(plain));
  }
  return out;
}

// Appends `n` points with values value(i) to `p`, steps, epochs and times
// continuing.
template <typename ValueOf>
void AppendPoints(Points* p, size_t n, ValueOf value) {
  for (size_t i = 0; i < n; ++i) {
    const auto k = static_cast<int64_t>(p->steps.size());
    p->steps.push_back(k);
    p->values.push_back(value(i));
    p->epochs.push_back(static_cast<double>(k / 10000));
    p->times_us.push_back(1'700'000'000'000'000 + k * 1500);
  }
}

// --- hand-made blocks for the error paths -------------------------------

std::string Varint(uint64_t v) {
  std::string s;
  storage::PutVarint64(&s, v);
  return s;
}
std::string ZigZag(int64_t v) { return Varint(storage::ZigZagEncode(v)); }
std::string Fixed64(uint64_t v) {
  std::string s;
  storage::PutFixed64(&s, v);
  return s;
}
std::string Byte(uint8_t b) { return std::string(1, static_cast<char>(b)); }

std::string IntArith(int64_t first, int64_t delta) {
  return Byte(block::kIntArith) + ZigZag(first) + ZigZag(delta);
}
std::string DoubleRuns1(double v, uint64_t n) {
  return Byte(block::kDoubleRuns) + Varint(1) + Fixed64(Bits(v)) + Varint(n);
}
std::string Column(const std::string& stream) {
  return Varint(stream.size()) + stream;
}
// A block of n points from four streams (steps, values, epochs, times).
std::string MakeBlock(uint64_t n, const std::string& steps,
                      const std::string& values, const std::string& epochs,
                      const std::string& times) {
  return Byte(block::kBlockVersion) + Varint(n) + Column(steps) +
         Column(values) + Column(epochs) + Column(times);
}
std::string ValidBlock(uint64_t n) {
  return MakeBlock(n, IntArith(0, 1), DoubleRuns1(1.5, n), DoubleRuns1(2.0, n),
                   IntArith(100, 0));
}
// ValidBlock(n) with its values stream replaced.
std::string BlockWithValues(uint64_t n, const std::string& values) {
  return MakeBlock(n, IntArith(0, 1), values, DoubleRuns1(2.0, n),
                   IntArith(100, 0));
}
// ValidBlock(n) with its steps stream replaced.
std::string BlockWithSteps(uint64_t n, const std::string& steps) {
  return MakeBlock(n, steps, DoubleRuns1(1.5, n), DoubleRuns1(2.0, n),
                   IntArith(100, 0));
}

auto DataLossWith(absl::string_view what) {
  return StatusIs(absl::StatusCode::kDataLoss,
                  AllOf(HasSubstr("seg 7 block 3"), HasSubstr(what)));
}

// --- round trips --------------------------------------------------------

TEST(BlockCodecTest, HandMadeBlockDecodes) {
  ScalarColumns out;
  ASSERT_THAT(DecodeBytes(ValidBlock(3), &out), IsOk());
  EXPECT_EQ(out.steps, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(out.values, (std::vector<double>{1.5, 1.5, 1.5}));
  EXPECT_EQ(out.epochs, (std::vector<double>{2.0, 2.0, 2.0}));
  EXPECT_EQ(out.times_us, (std::vector<int64_t>{100, 100, 100}));
}

TEST(BlockCodecTest, SyntheticFamiliesRoundTrip) {
  for (size_t n : {1024, 4096, 16384}) {
    ExpectRoundTrip(Points::From(bench::MakeCounter(n, 1)));
    ExpectRoundTrip(Points::From(bench::MakeLrSchedule(n, 1)));
    ExpectRoundTrip(Points::From(bench::MakeNoisyLoss(n, 1)));
  }
}

TEST(BlockCodecTest, SyntheticFamiliesMeetSizeTargets) {
  const size_t n = 4096;
  const auto size = [](const bench::SyntheticSeries& s) {
    return static_cast<double>(Encode(Points::From(s)).size()) /
           static_cast<double>(s.size());
  };
  EXPECT_LE(size(bench::MakeCounter(n, 1)), 0.5);
  EXPECT_LE(size(bench::MakeLrSchedule(n, 1)), 0.5);
  EXPECT_LE(size(bench::MakeNoisyLoss(n, 1)), 4.0);
}

TEST(BlockCodecTest, RandomBitPatternsRoundTrip) {
  std::mt19937_64 rng(42);
  Points p;
  for (int i = 0; i < 3000; ++i) {
    p.steps.push_back(static_cast<int64_t>(rng()));
    p.values.push_back(FromBits(rng()));
    p.epochs.push_back(FromBits(rng()));
    p.times_us.push_back(static_cast<int64_t>(rng()));
  }
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, RandomFiniteDoublesRoundTrip) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(-1e6, 1e6);
  Points p = Points::Of(2000);
  for (double& v : p.values) v = uniform(rng);
  for (double& e : p.epochs) e = uniform(rng);
  ExpectRoundTrip(p);
}

// Special values among decimals and floats, so that they become exceptions
// of the alp and f32 encodings.
std::vector<double> SpecialDoubles() {
  return {std::nan(""),
          -std::nan(""),
          FromBits(0x7ff0000000000001),  // signaling NaN, smallest payload
          FromBits(0x7ff8dead0000beef),  // quiet NaN with a payload
          FromBits(0xfff4000000000123),
          -0.0,
          0.0,
          kInf,
          -kInf,
          std::numeric_limits<double>::denorm_min(),
          -std::numeric_limits<double>::denorm_min(),
          FromBits(0x000fffffffffffff),  // largest subnormal
          std::numeric_limits<double>::max(),
          std::numeric_limits<double>::lowest(),
          std::numeric_limits<double>::min(),
          static_cast<double>(std::numeric_limits<float>::denorm_min()),
          static_cast<double>(std::numeric_limits<float>::quiet_NaN())};
}

TEST(BlockCodecTest, SpecialDoublesAmongDecimalsRoundTrip) {
  Points p = Points::Of(400);
  const std::vector<double> special = SpecialDoubles();
  for (size_t i = 0; i < p.size(); ++i) {
    p.values[i] = static_cast<double>(i % 97) / 100.0;  // alp, e = 2
    p.epochs[i] = static_cast<double>(static_cast<float>(0.1 * i));  // f32
    if (i % 23 == 5) {
      p.values[i] = special[(i / 23) % special.size()];
      p.epochs[i] = special[(i / 23 + 3) % special.size()];
    }
  }
  EXPECT_THAT(Describe(p), AllOf(HasSubstr("values=alp(e=2,"),
                                 HasSubstr(",exc="), HasSubstr("f32(")));
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, OnlySpecialDoublesRoundTrip) {
  const std::vector<double> special = SpecialDoubles();
  Points p = Points::Of(special.size());
  p.values = special;
  p.epochs.assign(special.rbegin(), special.rend());
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, ExtremeAndUnorderedStepsRoundTrip) {
  Points p = Points::Of(8);
  p.steps = {kMax, kMin, 0, kMin, kMax, -1, -1, 5};
  p.times_us = {kMin, kMax, kMax, kMin, 0, 3, 2, 1};
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, DescendingAndDuplicateStepsRoundTrip) {
  Points p = Points::Of(1000);
  for (size_t i = 0; i < p.size(); ++i) {
    p.steps[i] = 5000 - static_cast<int64_t>(i / 3);
  }
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, WrappingArithmeticProgressionRoundTrips) {
  Points p = Points::Of(5);
  p.steps = {kMax - 1, kMax, kMin, kMin + 1, kMin + 2};  // wraps past kMax
  EXPECT_THAT(Describe(p), HasSubstr("steps=arith"));
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, SinglePointRoundTrips) {
  Points p = Points::Of(1);
  p.steps = {kMin};
  p.values = {-0.0};
  p.epochs = {std::nan("")};
  p.times_us = {kMax};
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, MaximalBlockRoundTrips) {
  ExpectRoundTrip(Points::From(bench::MakeNoisyLoss(kMaxBlockPoints, 3)));
}

TEST(BlockCodecTest, DecodeAppendsToExistingColumns) {
  const Points a = Points::From(bench::MakeCounter(100, 1));
  const Points b = Points::From(bench::MakeNoisyLoss(50, 2));
  ScalarColumns out;
  ASSERT_THAT(DecodeScalarBlock(Encode(a), "a", &out), IsOk());
  ASSERT_THAT(DecodeScalarBlock(Encode(b), "b", &out), IsOk());
  ASSERT_EQ(out.size(), 150u);
  EXPECT_EQ(out.steps[99], a.steps[99]);
  EXPECT_EQ(out.steps[100], b.steps[0]);
  EXPECT_EQ(Bits(out.values[149]), Bits(b.values[49]));
}

TEST(BlockCodecTest, EncodeAppendsAfterExistingBytes) {
  const Points p = Points::Of(10);
  std::string out = "prefix";
  ASSERT_THAT(EncodeScalarBlock(p.input(), &out), IsOk());
  EXPECT_THAT(out, StartsWith("prefix"));
  EXPECT_EQ(out.substr(6), Encode(p));
}

// --- each encoding is chosen for the data it is meant for ----------------

TEST(BlockCodecTest, DescribesAWholeBlock) {
  Points p = Points::Of(64);
  EXPECT_EQ(Describe(p),
            "n=64 steps=arith values=runs(1) epochs=runs(1) times=arith");
}

TEST(BlockCodecTest, ChoosesIntRunsForFewIrregularRuns) {
  Points p = Points::Of(123);
  for (size_t i = 0; i < p.size(); ++i) p.steps[i] = i < 100 ? 5 : 9;
  EXPECT_THAT(Describe(p), HasSubstr("steps=runs(2)"));
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, ChoosesSplitRunsForClockGroups) {
  Points p = Points::From(bench::MakeNoisyLoss(4096, 1));
  EXPECT_THAT(Describe(p),
              HasSubstr("times=splitruns(128,v=deltafor(w=16),c=arith)"));
}

TEST(BlockCodecTest, ChoosesDeltaRunsForCounters) {
  Points p = Points::From(bench::MakeCounter(4096, 1));
  EXPECT_THAT(Describe(p), HasSubstr("values=alp(e=0,deltaruns("));
}

TEST(BlockCodecTest, ChoosesForAndF32ForFloatNoise) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<float> noise(0.9f, 1.1f);
  Points p = Points::Of(4096);
  for (double& v : p.values) v = static_cast<double>(noise(rng));
  EXPECT_THAT(Describe(p), HasSubstr("values=f32(for(w="));
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, ChoosesDeltaForForRandomWalks) {
  std::mt19937_64 rng(3);
  Points p = Points::Of(500);
  int64_t x = 1'000'000;
  for (int64_t& s : p.steps) s = x += static_cast<int64_t>(rng() % 200);
  EXPECT_THAT(Describe(p), HasSubstr("steps=deltafor(w="));
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, ChoosesVarintForSmallDeltasWithAnOutlier) {
  std::mt19937_64 rng(4);
  Points p = Points::Of(40);
  int64_t x = 0;
  for (int64_t& s : p.steps) s = x += static_cast<int64_t>(rng() % 3);
  p.steps[20] += int64_t{1} << 40;
  EXPECT_THAT(Describe(p), HasSubstr("steps=varint"));
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, ChoosesDodVarintForQuadraticSequences) {
  Points p = Points::Of(50);
  for (size_t i = 0; i < p.size(); ++i) {
    p.steps[i] = static_cast<int64_t>(30 * i * (i + 1));
  }
  EXPECT_THAT(Describe(p), HasSubstr("steps=dodvarint"));
  ExpectRoundTrip(p);
}

// Where zstd is not tried (the run values and lengths of splitruns, or a
// column whose zstd frame is paused) the varint sizes are first estimated
// from a sample of the deltas and sized exactly only if they may win: a
// winner must still be chosen. 512 clock groups of 8 points, so the sample
// (128 deltas) is a true sample of the 511 group deltas; an estimate that
// got the deltas of deltas wrong would lose dodvarint to delta-FOR here.
TEST(BlockCodecTest, ChoosesDodVarintGroupTimesWhenTheyWin) {
  Points p = Points::Of(4096);
  for (size_t i = 0; i < p.size(); ++i) {
    const auto g = static_cast<int64_t>(i / 8);
    p.times_us[i] = 1'700'000'000'000'000 + 30 * g * (g + 1);
  }
  EXPECT_THAT(Describe(p), HasSubstr("splitruns(512,v=dodvarint,c=arith)"));
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, ChoosesZstdForRepetitiveIrregularInts) {
  std::mt19937_64 rng(5);
  Points p = Points::Of(4096);
  int64_t t = 1'600'000'000'000'000;
  for (int64_t& time : p.times_us) {
    time = t += (rng() % 2 == 0 ? 1000 : 2000) * 1000;
  }
  EXPECT_THAT(Describe(p), HasSubstr("times=zstd("));
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, ChoosesAlpForShortDecimals) {
  std::mt19937_64 rng(6);
  Points p = Points::Of(1000);
  for (double& v : p.values) v = static_cast<double>(rng() % 30000) / 10000;
  EXPECT_THAT(Describe(p), HasSubstr("values=alp(e=4,"));
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, ChoosesBitsForSmoothFullPrecisionDoubles) {
  Points p = Points::Of(1000);
  for (size_t i = 0; i < p.size(); ++i) {
    p.epochs[i] = static_cast<double>(5 * i + 5) / 1207.0;  // Trainer epoch
  }
  EXPECT_THAT(Describe(p), HasSubstr("epochs=bits("));
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, ChoosesShuffleForFewRandomDoubles) {
  std::mt19937_64 rng(8);
  Points p = Points::Of(10);
  for (double& v : p.values) v = FromBits(rng() >> 1);
  EXPECT_THAT(Describe(p), HasSubstr("values=shuffle"));
  ExpectRoundTrip(p);
}

TEST(BlockCodecTest, ChoosesZstdForDoublesWithRandomMiddleBytes) {
  std::mt19937_64 rng(9);
  Points p = Points::Of(2000);
  for (double& v : p.values) {
    v = FromBits(0x3ff0000000000000 | (rng() & 0xffff) << 16);
  }
  EXPECT_THAT(Describe(p), HasSubstr("values=zstd(shuffle)"));
  ExpectRoundTrip(p);
}

// --- encoder hints ------------------------------------------------------

// Decodes the blocks in order and compares every column bit for bit.
void ExpectBlocksDecodeTo(const std::vector<std::string>& blocks,
                          const Points& p) {
  ScalarColumns out;
  for (const std::string& b : blocks) {
    ASSERT_THAT(DecodeBytes(b, &out), IsOk());
  }
  EXPECT_EQ(out.steps, p.steps);
  EXPECT_EQ(BitsOf(out.values), BitsOf(p.values));
  EXPECT_EQ(BitsOf(out.epochs), BitsOf(p.epochs));
  EXPECT_EQ(out.times_us, p.times_us);
}

TEST(EncoderHintsTest, ALosingTrialPausesForDoublingBlocksUpToSixteen) {
  EncoderHints::Trial t;
  std::vector<int> pauses;
  for (int round = 0; round < 6; ++round) {
    ASSERT_TRUE(t.Due());
    t.Tried(2.0);
    int pause = 0;
    while (!t.Due()) ++pause;  // the Due() that ends it is the next try
    pauses.push_back(pause);
  }
  EXPECT_EQ(pauses, (std::vector<int>{1, 2, 4, 8, 16, 16}));
}

TEST(EncoderHintsTest, AWinOrACloseLossEndsThePauses) {
  EncoderHints::Trial t;
  t.Tried(2.0);
  EXPECT_FALSE(t.Due());
  t.Tried(1.05);  // within 10% of the winner: close
  EXPECT_TRUE(t.Due());
  EXPECT_TRUE(t.Due());
  t.Tried(std::numeric_limits<double>::infinity());  // could not encode
  EXPECT_FALSE(t.Due());
  EXPECT_TRUE(t.Due());
  t.Tried(0.5);  // won
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(t.Due());
}

TEST(EncoderHintsTest, SyntheticFamiliesRoundTripThroughHints) {
  for (const bench::SyntheticSeries& s :
       {bench::MakeCounter(1 << 16, 3), bench::MakeLrSchedule(1 << 16, 3),
        bench::MakeNoisyLoss(1 << 16, 3)}) {
    const Points p = Points::From(s);
    ExpectBlocksDecodeTo(EncodeSeries(p, 4096).hinted, p);
  }
}

TEST(EncoderHintsTest, HintsChangeNoByteOfASteadySeries) {
  // Decimal noise: alp wins every block, and what the hints pause (f32,
  // bits, the zstd frames) loses every block by far.
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> noise(0, 99999);
  Points p;
  AppendPoints(&p, 40 * 4096,
               [&](size_t) { return noise(rng) / 100000.0 + 1.0; });
  const HintedBlocks b = EncodeSeries(p, 4096);
  EXPECT_EQ(b.hinted, b.plain);
}

TEST(EncoderHintsTest, AChangeOfCharacterIsCaughtUpWithinSixteenBlocks) {
  // Decimals (alp wins; f32 cannot encode them and is paused, up to 16
  // blocks), then float32 noise, which f32 wins and alp cannot encode.
  std::mt19937_64 rng(6);
  std::uniform_int_distribution<int> decimal(0, 99999);
  std::uniform_real_distribution<float> f32(0.9f, 1.1f);
  Points p;
  const size_t block = 1024;
  AppendPoints(&p, 64 * block,
               [&](size_t) { return decimal(rng) / 100000.0 + 1.0; });
  AppendPoints(&p, 40 * block,
               [&](size_t) { return static_cast<double>(f32(rng)); });
  const HintedBlocks b = EncodeSeries(p, block);
  ExpectBlocksDecodeTo(b.hinted, p);
  size_t differing = 0;
  for (size_t j = 64; j < b.hinted.size(); ++j) {
    if (b.hinted[j] != b.plain[j]) {
      ++differing;
      EXPECT_LE(j, 64u + 16) << "block " << j << " still differs";
    }
  }
  EXPECT_GT(differing, 0u) << "f32 was never paused: nothing was tested";
}

// --- caller errors ------------------------------------------------------

TEST(BlockCodecTest, RejectsColumnsOfDifferentLengths) {
  Points p = Points::Of(10);
  p.epochs.pop_back();
  std::string out = "keep";
  EXPECT_THAT(EncodeScalarBlock(p.input(), &out),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("differ in length")));
  EXPECT_EQ(out, "keep");
}

TEST(BlockCodecTest, RejectsAnEmptyBlock) {
  std::string out;
  EXPECT_THAT(
      EncodeScalarBlock(Points::Of(0).input(), &out),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0 points")));
  EXPECT_TRUE(out.empty());
}

TEST(BlockCodecTest, RejectsAnOversizedBlock) {
  std::string out;
  EXPECT_THAT(
      EncodeScalarBlock(Points::Of(kMaxBlockPoints + 1).input(), &out),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("65537 points")));
  EXPECT_TRUE(out.empty());
}

TEST(BlockCodecTest, RejectsUnequalOutputColumns) {
  ScalarColumns out;
  out.steps.push_back(1);
  EXPECT_THAT(
      DecodeScalarBlock(ValidBlock(3), "x", &out),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("differ")));
}

// --- damaged blocks -----------------------------------------------------

TEST(BlockCodecTest, TruncationAtEveryByteIsDataLoss) {
  Points p = Points::Of(40);
  for (size_t i = 0; i < p.size(); ++i) {
    p.values[i] = static_cast<double>(i * 7 % 13) / 100.0;
    p.epochs[i] = i == 9 ? -0.0 : static_cast<double>(i / 8);
    p.times_us[i] = 1000 + static_cast<int64_t>(i / 4) * 33;
  }
  const std::string block = Encode(p);
  for (size_t size = 0; size < block.size(); ++size) {
    ScalarColumns out;
    out.steps = {1};
    out.values = {2};
    out.epochs = {3};
    out.times_us = {4};
    EXPECT_THAT(DecodeBytes(block.substr(0, size), &out),
                DataLossWith("damaged compacted block"))
        << "prefix of " << size << " bytes";
    EXPECT_EQ(out.size(), 1u);  // restored
    EXPECT_EQ(out.values.size(), 1u);
    EXPECT_EQ(out.times_us.size(), 1u);
  }
}

TEST(BlockCodecTest, ErrorNamesTheByteOffset) {
  // Byte 0 version, 1 count, 2 steps length, 3 the steps tag.
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, Byte(0x7f))),
              DataLossWith("unknown int stream tag 127 at byte 4"));
}

TEST(BlockCodecTest, UnknownVersionIsDataLoss) {
  std::string block = ValidBlock(3);
  block[0] = 2;
  EXPECT_THAT(DecodeBytes(block), DataLossWith("unknown version 2 at byte 0"));
}

TEST(BlockCodecTest, ZeroPointCountIsDataLoss) {
  std::string block = ValidBlock(3);
  block[1] = 0;
  EXPECT_THAT(DecodeBytes(block), DataLossWith("bad point count 0"));
}

TEST(BlockCodecTest, PointCountOverTheLimitIsDataLossBeforeAllocating) {
  const std::string block = MakeBlock(
      kMaxBlockPoints + 1, IntArith(0, 1), DoubleRuns1(1, kMaxBlockPoints + 1),
      DoubleRuns1(1, kMaxBlockPoints + 1), IntArith(0, 0));
  AllocationProbe probe;
  EXPECT_THAT(DecodeBytes(block), DataLossWith("bad point count 65537"));
  EXPECT_LT(probe.largest(), 4096u);
}

TEST(BlockCodecTest, HugeDeclaredCountIsDataLoss) {
  const std::string block =
      Byte(block::kBlockVersion) + Varint(uint64_t{1} << 62);
  EXPECT_THAT(DecodeBytes(block), DataLossWith("bad point count"));
}

TEST(BlockCodecTest, ColumnLengthPastTheEndIsDataLoss) {
  std::string block = ValidBlock(3);
  block[2] = 0x7f;  // steps column length
  EXPECT_THAT(DecodeBytes(block), DataLossWith("bad steps column length 127"));
}

TEST(BlockCodecTest, EmptyColumnIsDataLoss) {
  const std::string block = Byte(block::kBlockVersion) + Varint(3) + Varint(0);
  EXPECT_THAT(DecodeBytes(block), DataLossWith("bad steps column length 0"));
}

TEST(BlockCodecTest, TrailingBytesInAColumnAreDataLoss) {
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, IntArith(0, 1) + "x")),
              DataLossWith("trailing bytes in the steps column"));
}

TEST(BlockCodecTest, TrailingBytesAfterTheBlockAreDataLoss) {
  EXPECT_THAT(DecodeBytes(ValidBlock(3) + "garbage"),
              DataLossWith("trailing bytes after the last column"));
}

TEST(BlockCodecTest, UnknownIntTagIsDataLoss) {
  for (uint8_t tag :
       {uint8_t{0}, uint8_t{block::kIntLastTag + 1}, uint8_t{0xff}}) {
    EXPECT_THAT(DecodeBytes(BlockWithSteps(3, Byte(tag) + "\x01\x01")),
                DataLossWith("unknown int stream tag"));
  }
}

TEST(BlockCodecTest, UnknownDoubleTagIsDataLoss) {
  for (uint8_t tag :
       {uint8_t{0}, uint8_t{block::kDoubleLastTag + 1}, uint8_t{0xff}}) {
    EXPECT_THAT(DecodeBytes(BlockWithValues(3, Byte(tag) + "\x01\x01")),
                DataLossWith("unknown double stream tag"));
  }
}

TEST(BlockCodecTest, SwappedColumnKindsAreDataLoss) {
  EXPECT_THAT(DecodeBytes(BlockWithValues(3, IntArith(0, 1))),
              DataLossWith("unknown double stream tag"));
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, DoubleRuns1(1, 3))),
              DataLossWith("unknown int stream tag"));
}

TEST(BlockCodecTest, BadBitWidthIsDataLoss) {
  const std::string steps = Byte(block::kIntFor) + ZigZag(0) + Byte(65);
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, steps)),
              DataLossWith("bad bit width 65"));
}

TEST(BlockCodecTest, ShortBitPackedDataIsDataLoss) {
  // 3 values of 9 bits need 4 bytes.
  const std::string steps = Byte(block::kIntFor) + ZigZag(0) + Byte(9) + "abc";
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, steps)),
              DataLossWith("truncated bit-packed values"));
}

TEST(BlockCodecTest, BadAlpExponentIsDataLoss) {
  const std::string values =
      Byte(block::kDoubleAlp) + Byte(19) + IntArith(0, 1) + Varint(0);
  EXPECT_THAT(DecodeBytes(BlockWithValues(3, values)),
              DataLossWith("bad alp exponent 19"));
}

TEST(BlockCodecTest, RunsCoveringTooFewPointsAreDataLoss) {
  const std::string steps =
      Byte(block::kIntRuns) + Varint(1) + ZigZag(4) + Varint(2);
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, steps)),
              DataLossWith("runs cover fewer points than the block"));
}

TEST(BlockCodecTest, RunLongerThanTheBlockIsDataLoss) {
  const std::string values =
      Byte(block::kDoubleRuns) + Varint(1) + Fixed64(Bits(1.0)) + Varint(4);
  EXPECT_THAT(DecodeBytes(BlockWithValues(3, values)),
              DataLossWith("bad run length 4"));
}

TEST(BlockCodecTest, DeltaRunsCoveringTooFewPointsAreDataLoss) {
  const std::string steps = Byte(block::kIntDeltaRuns) + ZigZag(0) + Varint(1) +
                            ZigZag(1) + Varint(1);
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, steps)),
              DataLossWith("delta runs cover fewer points"));
}

TEST(BlockCodecTest, SplitRunsWithAZeroLengthAreDataLoss) {
  // Two runs of lengths 3 and 0.
  const std::string steps =
      Byte(block::kIntSplitRuns) + Varint(2) + IntArith(7, 1) + IntArith(3, -3);
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, steps)),
              DataLossWith("bad run length 0 of run 1"));
}

TEST(BlockCodecTest, NestedSplitRunsAreDataLoss) {
  const std::string inner =
      Byte(block::kIntSplitRuns) + Varint(1) + IntArith(7, 0) + IntArith(3, 0);
  const std::string steps =
      Byte(block::kIntSplitRuns) + Varint(1) + inner + IntArith(3, 0);
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, steps)),
              DataLossWith("nested splitruns stream"));
}

TEST(BlockCodecTest, ExceptionPastTheBlockIsDataLoss) {
  const std::string values = Byte(block::kDoubleAlp) + Byte(0) +
                             IntArith(0, 1) + Varint(1) + Varint(3) +
                             Fixed64(0);
  EXPECT_THAT(DecodeBytes(BlockWithValues(3, values)),
              DataLossWith("bad exception gap 3"));
}

TEST(BlockCodecTest, MoreExceptionsThanPointsAreDataLoss) {
  const std::string values =
      Byte(block::kDoubleF32) + IntArith(0, 1) + Varint(4);
  EXPECT_THAT(DecodeBytes(BlockWithValues(3, values)),
              DataLossWith("bad exception count 4"));
}

TEST(BlockCodecTest, ExceptionsRunningOffTheEndAreDataLoss) {
  // Three exceptions at 0, 1, 2, then a fourth would lie past the block.
  std::string values = Byte(block::kDoubleF32) + IntArith(0, 1) + Varint(3);
  for (int j = 0; j < 3; ++j) values += Varint(0) + Fixed64(0);
  ScalarColumns out;
  ASSERT_THAT(DecodeBytes(BlockWithValues(3, values), &out), IsOk());
  EXPECT_EQ(out.values, (std::vector<double>{0.0, 0.0, 0.0}));
}

TEST(BlockCodecTest, BadZstdFrameIsDataLoss) {
  const std::string steps = Byte(block::kIntZstd) + Varint(4) + "junk";
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, steps)),
              DataLossWith("bad zstd frame at byte 5"));
}

TEST(BlockCodecTest, ZstdFrameOverTheSizeLimitIsDataLoss) {
  const std::string content(block::MaxInnerStreamBytes(3) + 1, '\x06');
  const std::string frame = *storage::ZstdCompress(content);
  const std::string steps =
      Byte(block::kIntZstd) + Varint(frame.size()) + frame;
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, steps)),
              DataLossWith("bad zstd frame"));
}

TEST(BlockCodecTest, NestedZstdIsDataLoss) {
  const std::string inner_frame = *storage::ZstdCompress(IntArith(0, 1));
  const std::string inner =
      Byte(block::kIntZstd) + Varint(inner_frame.size()) + inner_frame;
  const std::string frame = *storage::ZstdCompress(inner);
  const std::string steps =
      Byte(block::kIntZstd) + Varint(frame.size()) + frame;
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, steps)),
              DataLossWith("nested zstd stream"));
}

TEST(BlockCodecTest, TrailingBytesInsideZstdContentAreDataLoss) {
  const std::string frame = *storage::ZstdCompress(DoubleRuns1(1, 3) + "z");
  const std::string values =
      Byte(block::kDoubleZstd) + Varint(frame.size()) + frame;
  EXPECT_THAT(DecodeBytes(BlockWithValues(3, values)),
              DataLossWith("trailing bytes at byte"));
}

TEST(BlockCodecTest, OverlongVarintIsDataLoss) {
  const std::string steps = Byte(block::kIntArith) + std::string(11, '\xff');
  EXPECT_THAT(DecodeBytes(BlockWithSteps(3, steps)),
              DataLossWith("truncated or overlong varint"));
}

TEST(BlockCodecTest, DescribeReportsDamage) {
  EXPECT_THAT(DescribeScalarBlock(ValidBlock(3) + "x").status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("trailing")));
}

// Random mutations of valid blocks of every kind: each decode must return
// (OK or DataLoss), stay in bounds (ExactBuffer, run under ASan) and never
// hand out more points than a block may hold.
TEST(BlockCodecTest, HostileBytesNeverCrash) {
  std::vector<std::string> seeds = {
      Encode(Points::From(bench::MakeCounter(300, 1))),
      Encode(Points::From(bench::MakeLrSchedule(300, 1))),
      Encode(Points::From(bench::MakeNoisyLoss(300, 1))),
  };
  {
    Points p = Points::Of(200);
    for (size_t i = 0; i < p.size(); ++i) {
      p.values[i] = static_cast<double>(i % 50) / 1000.0;
      p.epochs[i] = static_cast<double>(i + 1) / 1207.0;
      if (i % 17 == 0) p.values[i] = std::nan("");
    }
    seeds.push_back(Encode(p));
  }
  {
    std::mt19937_64 rng(5);
    Points p = Points::Of(2000);
    int64_t t = 0;
    for (int64_t& time : p.times_us) time = t += rng() % 2 == 0 ? 1000 : 2000;
    const double pool[3] = {1.25e-7, -3.5, 1e300};
    for (double& v : p.values) v = pool[rng() % 3];
    seeds.push_back(Encode(p));  // zstd streams
  }
  std::mt19937_64 rng(1234);
  int ok = 0;
  int data_loss = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string block = seeds[static_cast<size_t>(iteration) % seeds.size()];
    const int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations && !block.empty(); ++m) {
      const size_t at = rng() % block.size();
      switch (rng() % 5) {
        case 0:
          block[at] = static_cast<char>(block[at] ^ (1 << (rng() % 8)));
          break;
        case 1:
          block[at] = static_cast<char>(rng());
          break;
        case 2:
          block.resize(at);
          break;
        case 3:
          block.insert(at, 1, static_cast<char>(rng()));
          break;
        default:
          block.erase(at, 1 + rng() % 8);
          break;
      }
    }
    ScalarColumns out;
    const absl::Status status = DecodeBytes(block, &out);
    if (status.ok()) {
      ++ok;
      EXPECT_GE(out.size(), 1u);
      EXPECT_LE(out.size(), kMaxBlockPoints);
      EXPECT_EQ(out.values.size(), out.size());
    } else {
      ++data_loss;
      EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
      EXPECT_EQ(out.size(), 0u);
    }
    const absl::StatusOr<std::string> desc = DescribeScalarBlock(block);
    EXPECT_EQ(desc.ok(), status.ok());
  }
  EXPECT_GT(data_loss, 1000);  // the loop did reach the error paths
  EXPECT_GT(ok, 0);            // and some mutations left decodable blocks
}

}  // namespace
}  // namespace runlog
