#include "tools/serve/envelope.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tracking/downsample.h"

namespace runlog::serve {
namespace {

using ::testing::ElementsAre;

ScalarColumns Columns(std::vector<double> values) {
  ScalarColumns c;
  for (size_t i = 0; i < values.size(); ++i) {
    c.steps.push_back(static_cast<int64_t>(i) * 10);
    c.values.push_back(values[i]);
    c.epochs.push_back(static_cast<double>(i));
    c.times_us.push_back(1000 + static_cast<int64_t>(i));
  }
  return c;
}

TEST(EnvelopeTest, FirstPointAloneThenPairs) {
  const Envelope e = MakeEnvelope(Columns({5, 1, 9, 3, 4, 7}));
  EXPECT_THAT(e.steps, ElementsAre(0, 10, 30, 50));
  EXPECT_THAT(e.min, ElementsAre(5, 1, 3, 7));
  EXPECT_THAT(e.max, ElementsAre(5, 9, 4, 7));
  EXPECT_THAT(e.last, ElementsAre(5, 9, 4, 7));
  EXPECT_THAT(e.epochs, ElementsAre(0, 1, 3, 5));
  EXPECT_THAT(e.times_us, ElementsAre(1000, 1001, 1003, 1005));
}

TEST(EnvelopeTest, EmptyIsEmpty) { EXPECT_EQ(MakeEnvelope({}).size(), 0u); }

TEST(EnvelopeTest, NaNIsSkippedForExtremesAndPassesThroughAsLast) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const Envelope e = MakeEnvelope(Columns({nan, 2, nan, nan, nan, -inf, inf}));
  ASSERT_EQ(e.size(), 4u);
  EXPECT_TRUE(std::isnan(e.min[0]));
  EXPECT_EQ(e.min[1], 2);
  EXPECT_TRUE(std::isnan(e.last[1]));
  EXPECT_TRUE(std::isnan(e.min[2]) && std::isnan(e.max[2]));
  EXPECT_EQ(e.min[3], -inf);
  EXPECT_EQ(e.max[3], inf);
}

TEST(EnvelopeTest, EveryExtremeOfADownsampledReadIsInTheBand) {
  ScalarColumns c;
  for (int i = 0; i < 100'000; ++i) {
    c.steps.push_back(i);
    c.values.push_back(std::sin(i * 0.001) + (i == 77'777 ? 50 : 0) -
                       (i == 12'345 ? 50 : 0));
    c.epochs.push_back(0);
    c.times_us.push_back(i);
  }
  auto down = Downsample(c, 202);
  ASSERT_TRUE(down.ok());
  const Envelope e = MakeEnvelope(*down);
  EXPECT_LE(e.size(), 102u);
  double lo = 0, hi = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    lo = std::min(lo, e.min[i]);
    hi = std::max(hi, e.max[i]);
    EXPECT_LE(e.min[i], e.max[i]);
  }
  EXPECT_GT(hi, 50);
  EXPECT_LT(lo, -49);
}

}  // namespace
}  // namespace runlog::serve
