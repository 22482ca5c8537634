#include "interop/csv/context_text.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace runlog::interop {
namespace {

using ::runlog::testing::IsOkAndHolds;
using ::runlog::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ContextTextTest, PlainEntriesJoinInKeyOrder) {
  const Context c{{"subset", "train"}, {"fold", "a"}};
  EXPECT_EQ(FormatContextText(c), "fold=a,subset=train");
  EXPECT_THAT(ParseContextText("fold=a,subset=train"), IsOkAndHolds(c));
}

TEST(ContextTextTest, EmptyContextIsEmptyText) {
  EXPECT_EQ(FormatContextText({}), "");
  EXPECT_THAT(ParseContextText(""), IsOkAndHolds(Context{}));
}

TEST(ContextTextTest, SeparatorsInsideKeysAndValuesRoundTrip) {
  const Context c{{"fold", "a,b=c"},
                  {"sub=set", "train"},
                  {"path", "C:\\data\\x"},
                  {"k,", "=,\\"},
                  {"empty", ""}};
  const std::string text = FormatContextText(c);
  EXPECT_EQ(text,
            "empty=,fold=a\\,b\\=c,k\\,=\\=\\,\\\\,path=C:\\\\data\\\\x,"
            "sub\\=set=train");
  EXPECT_THAT(ParseContextText(text), IsOkAndHolds(c));
}

TEST(ContextTextTest, UnescapedTextOfEarlierExportsStillParses) {
  // Before escaping, a value could hold '=' after the first one, and a
  // backslash before another character stood for itself.
  EXPECT_THAT(ParseContextText("expr=a=b,dir=C:\\x"),
              IsOkAndHolds(Context{{"expr", "a=b"}, {"dir", "C:\\x"}}));
}

TEST(ContextTextTest, EntryWithoutEqualsIsRejected) {
  EXPECT_THAT(ParseContextText("fold=a,subset"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("entry 'subset' has no '='")));
  EXPECT_THAT(
      ParseContextText("a\\=b"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has no '='")));
}

TEST(ContextTextTest, EmptyKeyIsRejected) {
  EXPECT_THAT(
      ParseContextText("=x"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty key")));
}

TEST(ContextTextTest, KeyTwiceIsRejected) {
  EXPECT_THAT(ParseContextText("a=1,a=2"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("a key appears twice")));
}

}  // namespace
}  // namespace runlog::interop
