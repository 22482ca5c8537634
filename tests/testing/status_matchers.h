// gMock matchers for absl::Status and absl::StatusOr.
//   EXPECT_THAT(s, IsOk());
//   EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss,
//   HasSubstr("000001.seg")));
#ifndef RUNLOG_TESTS_TESTING_STATUS_MATCHERS_H_
#define RUNLOG_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace runlog::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status: " << s;
  return s.ok();
}

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status: " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(
             message_matcher, std::string(s.message()), result_listener);
}

// A StatusOr that is OK and holds a value matching `value_matcher`.
MATCHER_P(IsOkAndHolds, value_matcher, "") {
  if (!arg.ok()) {
    *result_listener << "status: " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

#define RUNLOG_ASSERT_OK(expr) ASSERT_THAT((expr), ::runlog::testing::IsOk())
#define RUNLOG_EXPECT_OK(expr) EXPECT_THAT((expr), ::runlog::testing::IsOk())

// ASSERT that a StatusOr is OK and move its value into `lhs`.
#define RUNLOG_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  RUNLOG_ASSERT_OK_AND_ASSIGN_IMPL_(           \
      RUNLOG_TESTING_CONCAT_(runlog_test_statusor_, __LINE__), lhs, expr)
#define RUNLOG_TESTING_CONCAT_INNER_(a, b) a##b
#define RUNLOG_TESTING_CONCAT_(a, b) RUNLOG_TESTING_CONCAT_INNER_(a, b)
#define RUNLOG_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                      \
  ASSERT_TRUE(statusor.ok()) << statusor.status();             \
  lhs = std::move(statusor).value()

}  // namespace runlog::testing

#endif  // RUNLOG_TESTS_TESTING_STATUS_MATCHERS_H_
