#include "interop/csv/csv_reader.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace runlog::interop {
namespace {

using ::testing::ElementsAre;
using Rows = std::vector<std::vector<std::string>>;

absl::Status Read(absl::string_view text, char delim, Rows* rows) {
  return ReadCsv(text, delim,
                 [&](const std::vector<absl::string_view>& f, int64_t) {
                   rows->emplace_back(f.begin(), f.end());
                   return absl::OkStatus();
                 });
}

TEST(CsvReaderTest, Rfc4180) {
  Rows rows;
  ASSERT_TRUE(
      Read("a,b,c\n1,\"x,y\",\"say \"\"hi\"\"\"\r\n\n2,,\"multi\nline\"", ',',
           &rows)
          .ok());
  EXPECT_THAT(rows, ElementsAre(ElementsAre("a", "b", "c"),
                                ElementsAre("1", "x,y", "say \"hi\""),
                                ElementsAre("2", "", "multi\nline")));
}

TEST(CsvReaderTest, WindowsLineEndsAndTabs) {
  Rows rows;
  ASSERT_TRUE(Read("step\tloss\r\r\n0\t0.5\r\r\n", '\t', &rows).ok());
  EXPECT_THAT(
      rows, ElementsAre(ElementsAre("step", "loss"), ElementsAre("0", "0.5")));
}

TEST(CsvReaderTest, MalformedQuotesNameTheLine) {
  Rows rows;
  absl::Status s = Read("a\n\"open\n", ',', &rows);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "line 2: a quote never closes");
  s = Read("\"a\"b\n", ',', &rows);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
}

}  // namespace
}  // namespace runlog::interop
