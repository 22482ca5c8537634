#include "tools/segtool/output_buffer.h"

#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace runlog::segtool {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A buffer whose flushes are recorded.
class OutputBufferTest : public ::testing::Test {
 protected:
  OutputBuffer Buffer(size_t chunk) {
    return OutputBuffer(chunk, [this](absl::string_view bytes) {
      flushed_.emplace_back(bytes);
      return fail_ ? absl::UnavailableError("disk full") : absl::OkStatus();
    });
  }
  // Writes `text` through Room and Commit.
  static absl::Status Write(OutputBuffer& buf, absl::string_view text) {
    absl::StatusOr<char*> p = buf.Room(text.size());
    if (!p.ok()) return p.status();
    std::memcpy(*p, text.data(), text.size());
    buf.Commit(*p + text.size());
    return absl::OkStatus();
  }

  std::vector<std::string> flushed_;
  bool fail_ = false;
};

TEST_F(OutputBufferTest, HoldsBytesUntilTheChunkSizeIsReached) {
  OutputBuffer buf = Buffer(8);
  ASSERT_THAT(Write(buf, "abc"), IsOk());
  ASSERT_THAT(Write(buf, "defgh"), IsOk());
  EXPECT_THAT(flushed_, IsEmpty());
  EXPECT_EQ(buf.size(), 8u);
  // The next room flushes what is held first.
  ASSERT_THAT(Write(buf, "i"), IsOk());
  EXPECT_THAT(flushed_, ElementsAre("abcdefgh"));
  ASSERT_THAT(buf.FlushAll(), IsOk());
  EXPECT_THAT(flushed_, ElementsAre("abcdefgh", "i"));
}

TEST_F(OutputBufferTest, RoomLargerThanTheChunkGrowsAndKeepsHeldBytes) {
  OutputBuffer buf = Buffer(4);
  ASSERT_THAT(Write(buf, "ab"), IsOk());
  const std::string big(100, 'x');
  ASSERT_THAT(Write(buf, big), IsOk());
  ASSERT_THAT(buf.FlushAll(), IsOk());
  EXPECT_THAT(flushed_, ElementsAre("ab" + big));
}

TEST_F(OutputBufferTest, CommitKeepsOnlyTheBytesUpToItsEnd) {
  OutputBuffer buf = Buffer(64);
  absl::StatusOr<char*> p = buf.Room(32);
  ASSERT_THAT(p, IsOk());
  std::memcpy(*p, "row,1\nunused", 12);
  buf.Commit(*p + 6);
  ASSERT_THAT(Write(buf, "row,2\n"), IsOk());
  ASSERT_THAT(buf.FlushAll(), IsOk());
  EXPECT_THAT(flushed_, ElementsAre("row,1\nrow,2\n"));
}

TEST_F(OutputBufferTest, AppendFlushesOnceTheChunkSizeIsReached) {
  OutputBuffer buf = Buffer(4);
  ASSERT_THAT(buf.Append("ab"), IsOk());
  EXPECT_THAT(flushed_, IsEmpty());
  ASSERT_THAT(buf.Append("cdef"), IsOk());
  EXPECT_THAT(flushed_, ElementsAre("abcdef"));
  EXPECT_EQ(buf.size(), 0u);
}

TEST_F(OutputBufferTest, FlushAllOfNothingCallsNothing) {
  OutputBuffer buf = Buffer(4);
  ASSERT_THAT(buf.FlushAll(), IsOk());
  ASSERT_THAT(buf.Append(""), IsOk());
  ASSERT_THAT(buf.FlushAll(), IsOk());
  EXPECT_THAT(flushed_, IsEmpty());
}

TEST_F(OutputBufferTest, AFlushErrorIsKeptAndReturnedByEveryLaterCall) {
  OutputBuffer buf = Buffer(4);
  fail_ = true;
  EXPECT_THAT(buf.Append("abcd"),
              StatusIs(absl::StatusCode::kUnavailable, "disk full"));
  // The bytes were not taken, and nothing more is flushed.
  EXPECT_EQ(buf.size(), 4u);
  EXPECT_THAT(buf.Room(1).status(),
              StatusIs(absl::StatusCode::kUnavailable, "disk full"));
  EXPECT_THAT(buf.Append("e"),
              StatusIs(absl::StatusCode::kUnavailable, "disk full"));
  EXPECT_THAT(buf.FlushAll(),
              StatusIs(absl::StatusCode::kUnavailable, "disk full"));
  EXPECT_THAT(flushed_, ElementsAre("abcd"));
}

}  // namespace
}  // namespace runlog::segtool
