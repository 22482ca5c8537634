#include "tracking/downsample.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tracking/series.h"

namespace runlog {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

const double kNaN = std::nan("");

// Steps 10 * i, epochs i / 100, times 1000 + i, so every column says which
// input point an output point came from.
ScalarColumns Columns(const std::vector<double>& values) {
  ScalarColumns c;
  for (size_t i = 0; i < values.size(); ++i) {
    c.steps.push_back(static_cast<int64_t>(10 * i));
    c.values.push_back(values[i]);
    c.epochs.push_back(static_cast<double>(i) / 100);
    c.times_us.push_back(1000 + static_cast<int64_t>(i));
  }
  return c;
}

// The input indices the output points came from (checking all columns
// agree).
std::vector<size_t> Indices(const ScalarColumns& in, const ScalarColumns& out) {
  EXPECT_EQ(out.values.size(), out.size());
  EXPECT_EQ(out.epochs.size(), out.size());
  EXPECT_EQ(out.times_us.size(), out.size());
  std::vector<size_t> idx;
  for (size_t k = 0; k < out.size(); ++k) {
    const size_t i = static_cast<size_t>(out.steps[k] / 10);
    EXPECT_LT(i, in.size());
    if (i >= in.size()) break;
    EXPECT_EQ(out.times_us[k], in.times_us[i]);
    EXPECT_EQ(out.epochs[k], in.epochs[i]);
    if (std::isnan(in.values[i])) {
      EXPECT_TRUE(std::isnan(out.values[k]));
    } else {
      EXPECT_EQ(out.values[k], in.values[i]);
    }
    idx.push_back(i);
  }
  return idx;
}

std::vector<double> RandomValues(std::mt19937_64& rng, size_t n) {
  std::normal_distribution<double> dist(0, 1);
  std::vector<double> v(n);
  for (double& x : v) x = dist(rng);
  return v;
}

TEST(DownsampleTest, MaxPointsBelowTwoIsInvalidArgument) {
  for (size_t max_points : {size_t{0}, size_t{1}}) {
    EXPECT_THAT(
        Downsample(Columns({1, 2, 3}), max_points),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_points")));
    // Even when the input would fit.
    EXPECT_THAT(
        Downsample(Columns({}), max_points),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_points")));
  }
}

TEST(DownsampleTest, SmallInputIsReturnedUnchanged) {
  for (size_t n : {0, 1, 2, 5, 10}) {
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i)
      v[i] = (i % 2) ? kNaN : -static_cast<double>(i);
    const ScalarColumns in = Columns(v);
    auto out = Downsample(in, 10);
    ASSERT_THAT(out, IsOk());
    std::vector<size_t> all(n);
    for (size_t i = 0; i < n; ++i) all[i] = i;
    EXPECT_THAT(Indices(in, *out), ElementsAreArray(all)) << n;
  }
}

TEST(DownsampleTest, TwoOrThreePointsKeepFirstAndLast) {
  const ScalarColumns in = Columns({5, -100, 100, 7, 3});
  for (size_t max_points : {2, 3}) {
    auto out = Downsample(in, max_points);
    ASSERT_THAT(out, IsOk());
    EXPECT_THAT(Indices(in, *out), ElementsAre(0, 4)) << max_points;
  }
}

TEST(DownsampleTest, OutputFitsAndKeepsEndsAndOrder) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = 3 + rng() % 2000;
    const size_t max_points = 2 + rng() % (n - 1);  // < n + 1
    const ScalarColumns in = Columns(RandomValues(rng, n));
    auto out = Downsample(in, max_points);
    ASSERT_THAT(out, IsOk());
    SCOPED_TRACE(absl::StrCat("n=", n, " max_points=", max_points));
    ASSERT_LE(out->size(), max_points);
    const std::vector<size_t> idx = Indices(in, *out);
    ASSERT_GE(idx.size(), std::min<size_t>(n, 2));
    EXPECT_EQ(idx.front(), 0u);
    EXPECT_EQ(idx.back(), n - 1);
    EXPECT_TRUE(std::is_sorted(idx.begin(), idx.end()));
    EXPECT_TRUE(std::adjacent_find(idx.begin(), idx.end()) == idx.end())
        << "a point is repeated";
    if (n > max_points) {
      // Continuous random data has a distinct min and max in every bucket of
      // two or more points (buckets as documented in downsample.h).
      const size_t w = DownsampleBucketWidth(n, max_points);
      size_t expected = 2;
      for (size_t start = 0; w > 0 && start < n - 1; start += w) {
        const size_t lo = std::max<size_t>(start, 1);
        const size_t hi = std::min(start + w, n - 1);
        if (hi > lo) expected += std::min<size_t>(2, hi - lo);
      }
      EXPECT_EQ(out->size(), expected);
    }
  }
}

TEST(DownsampleTest, KeepsTheExtremes) {
  std::mt19937_64 rng(12);
  for (int trial = 0; trial < 100; ++trial) {
    const size_t n = 100 + rng() % 5000;
    std::vector<double> v = RandomValues(rng, n);
    const size_t hi = 1 + rng() % (n - 2);
    const size_t lo = 1 + rng() % (n - 2);
    v[hi] = 1e9;
    if (lo != hi) v[lo] = -1e9;
    const ScalarColumns in = Columns(v);
    auto out = Downsample(in, 2 + rng() % 50);
    ASSERT_THAT(out, IsOk());
    const std::vector<size_t> idx = Indices(in, *out);
    if (out->size() > 2) {
      EXPECT_THAT(idx, ::testing::Contains(hi));
      if (lo != hi) {
        EXPECT_THAT(idx, ::testing::Contains(lo));
      }
    }
  }
}

TEST(DownsampleTest, EverySpikeSurvives) {
  // 10,002 points and 100 buckets of ceil(10002 / 100) = 101 points; one
  // spike in the middle of each bucket, so each bucket keeps its spike.
  std::vector<double> v(10'002, 0.0);
  for (size_t i = 0; i < 10'000; ++i) v[1 + i] = std::sin(i * 0.01);
  int planted = 0;
  for (size_t i = 50; i < 10'001; i += 101, ++planted) v[i] = 100.0;
  const ScalarColumns in = Columns(v);
  ASSERT_EQ(DownsampleBucketWidth(in.size(), 202), 101u);
  auto out = Downsample(in, 202);
  ASSERT_THAT(out, IsOk());
  int spikes = 0;
  for (double x : out->values) spikes += x == 100.0;
  EXPECT_EQ(spikes, planted);
}

TEST(DownsampleTest, ExactBucketBoundariesWithOddSizes) {
  // 11 points, max_points 6: 2 buckets of width ceil(11 / 2) = 6 over the
  // interior points: [1..5] and [6..9]. The first bucket's extremes sit on
  // its last points and the second's on its first, so a bucket off by one
  // would pick other points.
  //            0  1  2  3  4  5   6  7  8  9  10
  const std::vector<double> v = {0, 5, 1, 5, 9, -3, 2, 8, 2, 2, 4};
  const ScalarColumns in = Columns(v);
  auto out = Downsample(in, 6);
  ASSERT_THAT(out, IsOk());
  EXPECT_THAT(Indices(in, *out), ElementsAre(0, 4, 5, 6, 7, 10));
  // An odd max_points rounds the bucket count down: 7 -> 2 buckets.
  auto odd = Downsample(in, 7);
  ASSERT_THAT(odd, IsOk());
  EXPECT_THAT(Indices(in, *odd), ElementsAre(0, 4, 5, 6, 7, 10));
}

TEST(DownsampleTest, ExactBucketBoundariesThreeBuckets) {
  // 12 points, max_points 8: 3 buckets of width 4 over the interior:
  // [1..3], [4..7], [8..10]; of the two 9s in [4..7] the first is kept.
  //            0  1  2  3  4  5  6  7  8  9  10 11
  const std::vector<double> v = {0, 9, 5, 1, 1, 5, 9, 9, 5, 5, 1, 0};
  const ScalarColumns in = Columns(v);
  auto out = Downsample(in, 8);
  ASSERT_THAT(out, IsOk());
  EXPECT_THAT(Indices(in, *out), ElementsAre(0, 1, 3, 4, 6, 8, 10, 11));
}

TEST(DownsampleTest, WideBucketsAlignToCompactedBlocks) {
  EXPECT_EQ(DownsampleBucketWidth(10'000'000, 1000), 5 * kDownsampleAlign);
  EXPECT_EQ(DownsampleBucketWidth(100'000, 1000), 201u);
  EXPECT_EQ(DownsampleBucketWidth(5'000'000, 1000) % kDownsampleAlign, 0u);
  EXPECT_EQ(DownsampleBucketWidth(10, 3), 0u);
}

TEST(DownsampleTest, MiddleBucketsAlignToSubBlocks) {
  // 1,000,000 / 499 = 2,004.0... -> 2,048, four sub-blocks of 512.
  EXPECT_EQ(DownsampleBucketWidth(1'000'000, 1000), 4 * kDownsampleFineAlign);
  // Just above one sub-block: the next multiple.
  EXPECT_EQ(DownsampleBucketWidth(513 * 499, 1000), 2 * kDownsampleFineAlign);
  // Exactly one sub-block stays as it is; one point less is not aligned.
  EXPECT_EQ(DownsampleBucketWidth(512 * 499, 1000), kDownsampleFineAlign);
  EXPECT_EQ(DownsampleBucketWidth(511 * 499, 1000), 511u);
  // Exactly one block is still fine-aligned; above it, whole blocks.
  EXPECT_EQ(DownsampleBucketWidth(4096 * 499, 1000), kDownsampleAlign);
  EXPECT_EQ(DownsampleBucketWidth(4096 * 499 + 1, 1000), 2 * kDownsampleAlign);
}

TEST(DownsampleTest, MinAndMaxAreKeptInStepOrder) {
  // The max comes before the min in the bucket; output stays in step order.
  const std::vector<double> v = {0, 1, 9, 5, -9, 1, 0};
  const ScalarColumns in = Columns(v);
  auto out = Downsample(in, 4);  // one bucket over [1..5]
  ASSERT_THAT(out, IsOk());
  EXPECT_THAT(Indices(in, *out), ElementsAre(0, 2, 4, 6));
}

TEST(DownsampleTest, ConstantBucketKeepsOnePoint) {
  const ScalarColumns in = Columns({1, 2, 2, 2, 2, 3, 3, 3, 3, 1});
  auto out = Downsample(in, 6);  // buckets [1..4] and [5..8]
  ASSERT_THAT(out, IsOk());
  EXPECT_THAT(Indices(in, *out), ElementsAre(0, 1, 5, 9));
}

TEST(DownsampleTest, AllNaNBucketKeepsOnePointToShowTheGap) {
  const ScalarColumns in = Columns({0, kNaN, kNaN, kNaN, kNaN, 4, 1, 7, 2, 0});
  auto out = Downsample(in, 6);  // buckets [1..4] (all NaN) and [5..8]
  ASSERT_THAT(out, IsOk());
  const std::vector<size_t> idx = Indices(in, *out);
  EXPECT_THAT(idx, ElementsAre(0, 1, 6, 7, 9));
  EXPECT_TRUE(std::isnan(out->values[1]));
}

TEST(DownsampleTest, NaNIsDroppedWhereABucketHasValues) {
  const ScalarColumns in =
      Columns({0, kNaN, 3, kNaN, 1, kNaN, kNaN, 5, kNaN, 0});
  auto out = Downsample(in, 6);  // buckets [1..4] and [5..8]
  ASSERT_THAT(out, IsOk());
  EXPECT_THAT(Indices(in, *out), ElementsAre(0, 2, 4, 7, 9));
}

TEST(DownsampleTest, NaNAtTheEndsIsKept) {
  const ScalarColumns in = Columns({kNaN, 1, 2, 3, 4, 5, kNaN});
  auto out = Downsample(in, 4);
  ASSERT_THAT(out, IsOk());
  const std::vector<size_t> idx = Indices(in, *out);
  EXPECT_THAT(idx, ElementsAre(0, 1, 5, 6));
  EXPECT_TRUE(std::isnan(out->values.front()));
  EXPECT_TRUE(std::isnan(out->values.back()));
}

TEST(DownsampleTest, AllNaNSeries) {
  const ScalarColumns in = Columns(std::vector<double>(1000, kNaN));
  auto out = Downsample(in, 10);
  ASSERT_THAT(out, IsOk());
  EXPECT_LE(out->size(), 10u);
  for (double x : out->values) EXPECT_TRUE(std::isnan(x));
  EXPECT_EQ(Indices(in, *out).back(), 999u);
}

TEST(DownsampleTest, OneMoreThanTheBudget) {
  const ScalarColumns in = Columns({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  auto out = Downsample(in, 10);  // 4 buckets over 9 interior points
  ASSERT_THAT(out, IsOk());
  EXPECT_LE(out->size(), 10u);
  const std::vector<size_t> idx = Indices(in, *out);
  EXPECT_EQ(idx.front(), 0u);
  EXPECT_EQ(idx.back(), 10u);
  EXPECT_TRUE(std::is_sorted(idx.begin(), idx.end()));
}

}  // namespace
}  // namespace runlog
