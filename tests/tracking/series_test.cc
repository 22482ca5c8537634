#include "tracking/series.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/series_summary.h"

namespace runlog {
namespace {

using ::runlog::testing::ExpectSameSeries;

// AddAll must fold a buffer in exactly as Add does point by point: the
// first of equal values wins (0.0 before -0.0), NaN never becomes an
// extreme, and the extremes of earlier points win ties.
TEST(SeriesSummaryTest, AddAllIsAddPointByPoint) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const double specials[] = {0.0,   -0.0, std::nan(""), kInf,
                             -kInf, 1.0,  -1.0,         5e-324};
  const double zero_min[] = {0.0, -0.0, 2.0, std::nan(""), kInf};
  const double zero_max[] = {0.0, -0.0, -2.0, std::nan(""), -kInf};
  std::mt19937_64 rng(7);
  for (int round = 0; round < 3'000; ++round) {
    SeriesSummary one, all;
    // Some rounds start from a summary that already holds points.
    const int prior = static_cast<int>(rng() % 3);
    std::vector<int64_t> steps;
    std::vector<double> values;
    const size_t n = 1 + rng() % 40;
    for (int batch = 0; batch <= prior; ++batch) {
      steps.clear();
      values.clear();
      for (size_t i = 0; i < n; ++i) {
        steps.push_back(static_cast<int64_t>(round * 100 + batch * 50 + i));
        const uint64_t r = rng();
        switch (round % 3) {
          case 0:  // numbers and specials
            values.push_back(r % 3 == 0 ? specials[(r >> 8) % 8]
                                        : static_cast<double>(r % 200) - 100.0);
            break;
          case 1:  // zeros of both signs are the minimum
            values.push_back(zero_min[r % 5]);
            break;
          default:  // and the maximum
            values.push_back(zero_max[r % 5]);
            break;
        }
        one.Add(steps.back(), values.back());
      }
      all.AddAll(steps.data(), values.data(), n);
    }
    SCOPED_TRACE(absl::StrCat("round ", round));
    ExpectSameSeries(all, one);
  }
}

TEST(SeriesSummaryTest, AddAllOfOnlyNaNsHasNoExtremes) {
  const std::vector<int64_t> steps = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<double> values(9, std::nan(""));
  SeriesSummary s;
  s.AddAll(steps.data(), values.data(), values.size());
  EXPECT_EQ(s.count, 9);
  EXPECT_TRUE(std::isnan(s.min));
  EXPECT_TRUE(std::isnan(s.max));
  EXPECT_EQ(s.first_step, 0);
  EXPECT_EQ(s.last_step, 8);
}

}  // namespace
}  // namespace runlog
