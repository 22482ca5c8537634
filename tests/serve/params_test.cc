#include "tools/serve/params.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace runlog::serve {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

TEST(ParamsTest, BoundedInt) {
  EXPECT_EQ(*ParseBoundedInt("n", "42", 2, 100), 42);
  EXPECT_THAT(ParseBoundedInt("n", "-1", 2, 100),
              StatusIs(kInvalid, HasSubstr("n: -1 is outside")));
  EXPECT_THAT(ParseBoundedInt("n", "101", 2, 100),
              StatusIs(kInvalid, HasSubstr("[2, 100]")));
  EXPECT_THAT(ParseBoundedInt("n", "99999999999999999999999", 2, 100),
              StatusIs(kInvalid, HasSubstr("not an integer")));
  EXPECT_THAT(ParseBoundedInt("n", "", 2, 100),
              StatusIs(kInvalid, HasSubstr("n:")));
  EXPECT_THAT(ParseBoundedInt("n", "1.5", 0, 100),
              StatusIs(kInvalid, HasSubstr("n:")));
}

TEST(ParamsTest, StepRange) {
  StepRange all = *ParseStepRange("");
  EXPECT_EQ(all.first, StepRange().first);
  EXPECT_EQ(all.last, StepRange().last);
  StepRange r = *ParseStepRange("10:20");
  EXPECT_EQ(r.first, 10);
  EXPECT_EQ(r.last, 20);
  EXPECT_EQ(ParseStepRange("5:")->first, 5);
  EXPECT_EQ(ParseStepRange(":5")->last, 5);
  EXPECT_EQ(ParseStepRange("-3")->first, -3);
  EXPECT_THAT(ParseStepRange(":"), StatusIs(kInvalid, HasSubstr("steps")));
  EXPECT_THAT(ParseStepRange("9:1"), StatusIs(kInvalid, HasSubstr("after")));
  EXPECT_THAT(ParseStepRange("a:1"), StatusIs(kInvalid, HasSubstr("steps")));
}

TEST(ParamsTest, RunIds) {
  EXPECT_THAT(*ParseRunIds("abc,def"), ElementsAre("abc", "def"));
  EXPECT_THAT(ParseRunIds(""), StatusIs(kInvalid, HasSubstr("runs")));
  EXPECT_THAT(ParseRunIds("abc,,def"), StatusIs(kInvalid, HasSubstr("valid")));
  EXPECT_THAT(ParseRunIds("../etc"), StatusIs(kInvalid, HasSubstr("valid")));
  EXPECT_THAT(ParseRunIds("abc,abc"), StatusIs(kInvalid, HasSubstr("twice")));
  std::string many = "a0";
  for (int i = 1; i < 1001; ++i) many += ",a" + std::to_string(i);
  EXPECT_THAT(ParseRunIds(many), StatusIs(kInvalid, HasSubstr("limit")));
}

TEST(ParamsTest, Context) {
  EXPECT_TRUE(ParseContext("")->empty());
  Context c = *ParseContext(R"({"subset":"train","k":"v"})");
  EXPECT_EQ(c.at("subset"), "train");
  EXPECT_EQ(c.size(), 2u);
  EXPECT_THAT(ParseContext("[1]"), StatusIs(kInvalid, HasSubstr("context")));
  EXPECT_THAT(ParseContext("{"), StatusIs(kInvalid, HasSubstr("context")));
  EXPECT_THAT(ParseContext(R"({"a":1})"), StatusIs(kInvalid, HasSubstr("'a'")));
}

TEST(ParamsTest, OrderBySplitsOnlyOutsideBracketsAndQuotes) {
  EXPECT_TRUE(ParseOrderBy("")->empty());
  EXPECT_THAT(*ParseOrderBy("metrics.acc DESC, run.name"),
              ElementsAre("metrics.acc DESC", "run.name"));
  EXPECT_THAT(
      *ParseOrderBy(R"(metrics["loss", subset="a,b"].min ASC,params.lr)"),
      ElementsAre(R"(metrics["loss", subset="a,b"].min ASC)", "params.lr"));
  EXPECT_THAT(*ParseOrderBy(R"(tags."x,y)"), ElementsAre(R"(tags."x,y)"));
  EXPECT_THAT(ParseOrderBy("a,,b"), StatusIs(kInvalid, HasSubstr("empty")));
  EXPECT_THAT(ParseOrderBy(std::string(kMaxQueryBytes + 1, 'a')),
              StatusIs(kInvalid, HasSubstr("limit")));
}

TEST(ParamsTest, WhereAndName) {
  EXPECT_THAT(ParseWhere("metrics.acc > 1"), IsOk());
  EXPECT_THAT(ParseWhere(std::string(kMaxQueryBytes + 1, 'a')),
              StatusIs(kInvalid, HasSubstr("where")));
  EXPECT_THAT(ParseSeriesName(""), StatusIs(kInvalid, HasSubstr("name")));
  EXPECT_THAT(ParseSeriesName(std::string(kMaxNameBytes + 1, 'a')),
              StatusIs(kInvalid, HasSubstr("name")));
}

}  // namespace
}  // namespace runlog::serve
