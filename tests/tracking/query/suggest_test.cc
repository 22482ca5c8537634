#include "tracking/query/suggest.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace runlog::query {
namespace {

TEST(EditDistanceTest, CountsEditsIgnoringCase) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("Metrics", "metrics"), 0u);
  EXPECT_EQ(EditDistance("versoin", "version"), 2u);
}

TEST(ClosestMatchTest, PicksTheNearestTypo) {
  const std::vector<std::string> commands = {"ls", "show",   "cat",
                                             "rm", "verify", "export"};
  EXPECT_EQ(ClosestMatch("shwo", commands), "show");
  EXPECT_EQ(ClosestMatch("exprot", commands), "export");
  EXPECT_EQ(ClosestMatch("--versoin", {"--help", "--version"}), "--version");
}

TEST(ClosestMatchTest, NothingWhenTooFar) {
  EXPECT_EQ(ClosestMatch("frobnicate", {"ls", "show", "cat"}), "");
  EXPECT_EQ(ClosestMatch("x", {}), "");
}

TEST(ClosestMatchTest, FirstOfEquallyCloseWins) {
  EXPECT_EQ(ClosestMatch("ab", {"ac", "ad"}), "ac");
}

}  // namespace
}  // namespace runlog::query
