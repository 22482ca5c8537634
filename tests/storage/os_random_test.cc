#include "storage/os_random.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>

#include "absl/random/distributions.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/run_id.h"

namespace runlog::storage {
namespace {

// Children forked from a parent that already drew random numbers must not
// draw the parent's sequence again (they did with absl::BitGen: 320 runs of
// 16 forked children had 4 distinct suffixes).
TEST(OsRandomTest, ForkedChildrenDrawDistinctValues) {
  // The parent draws first, as a program that used runlog before forking.
  absl::BitGen warm = OsSeededBitGen();
  (void)absl::Uniform<uint64_t>(warm);
  (void)OsRandom64();
  constexpr int kChildren = 16;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  for (int i = 0; i < kChildren; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      absl::BitGen gen = OsSeededBitGen();
      const std::string id =
          NewRunId(absl::FromUnixSeconds(1'700'000'000), gen);
      uint64_t raw = OsRandom64();
      char line[64] = {};
      std::memcpy(line, id.data(), id.size());
      std::memcpy(line + 32, &raw, sizeof(raw));
      const ssize_t n = ::write(fds[1], line, sizeof(line));
      ::_exit(n == static_cast<ssize_t>(sizeof(line)) ? 0 : 1);
    }
  }
  ::close(fds[1]);
  std::set<std::string> ids;
  std::set<uint64_t> raws;
  char line[64];
  while (::read(fds[0], line, sizeof(line)) ==
         static_cast<ssize_t>(sizeof(line))) {
    ids.insert(std::string(line, std::strlen(line)));
    uint64_t raw;
    std::memcpy(&raw, line + 32, sizeof(raw));
    raws.insert(raw);
  }
  ::close(fds[0]);
  for (int i = 0; i < kChildren; ++i) {
    int status = 0;
    ASSERT_GT(::wait(&status), 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  // 16 draws of 41 bits (ids) or 64 bits: a repeat means shared state.
  EXPECT_EQ(ids.size(), static_cast<size_t>(kChildren));
  EXPECT_EQ(raws.size(), static_cast<size_t>(kChildren));
}

TEST(OsRandomTest, SuccessiveValuesDiffer) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(OsRandom64());
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace runlog::storage
