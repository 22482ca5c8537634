#include "storage/run_id.h"

#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/format.h"
#include "tests/testing/status_matchers.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

TEST(RunIdTest, AcceptsLowercaseAlphanumericUpTo32) {
  EXPECT_TRUE(IsValidRunId("a"));
  EXPECT_TRUE(IsValidRunId("0"));
  EXPECT_TRUE(IsValidRunId("0123456789abcdefghijklmnopqrstuv"));  // 32
  EXPECT_THAT(ValidateRunId("abc123"), IsOk());
}

TEST(RunIdTest, RejectsUnsafeOrMalformedIds) {
  for (const std::string& id :
       {std::string(""), std::string("../x"), std::string("/etc"),
        std::string("."), std::string(".."), std::string("ABC"),
        std::string("aBc"), std::string("a-b"), std::string("a b"),
        std::string("a\nb"), std::string("a\0b", 3), std::string(33, 'a')}) {
    EXPECT_FALSE(IsValidRunId(id)) << id;
    EXPECT_THAT(ValidateRunId(id), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("invalid run id")))
        << id;
  }
}

TEST(RunIdTest, ErrorNamesTheEscapedId) {
  EXPECT_THAT(ValidateRunId("../x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("../x")));
  EXPECT_THAT(ValidateRunId("a\nb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("a\\nb"), Not(HasSubstr("\n")))));
}

TEST(RunIdTest, ErrorCapsAHugeId) {
  const std::string huge(100000, '/');
  absl::Status s = ValidateRunId(huge);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("////"), HasSubstr("..."),
                                HasSubstr("100000 bytes"))));
  EXPECT_LT(s.message().size(), 200u);
}

TEST(RunIdTest, NewIdHasTimeDigitsThenRandomDigits) {
  std::mt19937_64 gen(42);
  const absl::Time t = absl::FromUnixMillis(1700000000123);
  const std::string id = NewRunId(t, gen);
  ASSERT_THAT(id,
              SizeIs(format::kRunIdTimeDigits + format::kRunIdRandomDigits));
  EXPECT_TRUE(IsValidRunId(id));
  // 1700000000123 in base 36, zero-padded to 9 digits.
  EXPECT_EQ(id.substr(0, 9), "0loyw3v5n");
  EXPECT_EQ(std::stoll(id.substr(0, 9), nullptr, 36), 1700000000123);
}

TEST(RunIdTest, EpochAndFarFutureAreClamped) {
  std::mt19937_64 gen(1);
  EXPECT_EQ(NewRunId(absl::UnixEpoch(), gen).substr(0, 9), "000000000");
  EXPECT_EQ(NewRunId(absl::FromUnixMillis(-5), gen).substr(0, 9), "000000000");
  EXPECT_EQ(NewRunId(absl::InfiniteFuture(), gen).substr(0, 9), "zzzzzzzzz");
}

TEST(RunIdTest, RandomPartDependsOnTheGenerator) {
  std::mt19937_64 a(1), b(2);
  const absl::Time t = absl::FromUnixMillis(1700000000000);
  EXPECT_NE(NewRunId(t, a), NewRunId(t, b));
  std::mt19937_64 c(7), d(7);
  EXPECT_EQ(NewRunId(t, c), NewRunId(t, d));
}

TEST(RunIdTest, IdsMadeAtIncreasingTimesSortInTimeOrder) {
  std::mt19937_64 gen(99);
  std::vector<std::string> ids;
  int64_t ms = 1;
  // Spans single-digit to nine-digit base-36 values.
  while (ms < 100000000000000) {
    ids.push_back(NewRunId(absl::FromUnixMillis(ms), gen));
    ids.push_back(NewRunId(absl::FromUnixMillis(ms + 1), gen));
    ms = ms * 7 + 3;
  }
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_LT(ids[i - 1], ids[i]) << "at " << i;
  }
}

}  // namespace
}  // namespace runlog::storage
