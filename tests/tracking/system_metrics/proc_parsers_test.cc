#include "tracking/system_metrics/proc_parsers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace runlog::system_metrics {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseProcStat, SumsBusyAndTotalTicksOfTheAggregateLine) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  constexpr char kText[] =
      "cpu  100 5 50 1000 20 3 2 1 7 0\n"
      "cpu0 60 3 25 500 10 2 1 1 7 0\n"
      "intr 12345 0 0\n";
  auto t = ParseProcStat(kText);
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->busy, 100u + 5 + 50 + 3 + 2 + 1);
  EXPECT_EQ(t->total, 100u + 5 + 50 + 1000 + 20 + 3 + 2 + 1);
}

TEST(ParseProcStat, OldKernelsWithFourFieldsAreShortButSevenAreFine) {
  auto t = ParseProcStat("cpu  1 2 3 4 5 6 7\n");
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->busy, 1u + 2 + 3 + 6 + 7);
  EXPECT_EQ(t->total, 28u);
  EXPECT_THAT(
      ParseProcStat("cpu 1 2 3\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/proc/stat:1")));
}

TEST(ParseProcStat, ErrorsNameFileAndLine) {
  EXPECT_THAT(ParseProcStat("intr 1\ncpu  1 x 3 4 5\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/proc/stat:2: cpu field 2")));
  EXPECT_THAT(ParseProcStat(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("no aggregate cpu")));
  EXPECT_THAT(
      ParseProcStat("cpu  18446744073709551615 1 0 0 0\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/proc/")));
  EXPECT_THAT(
      ParseProcStat("cpu  -1 1 0 0 0\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/proc/")));
}

TEST(ParseProcessCpuTicks, CountsFieldsAfterTheLastParenthesis) {
  // A command name with spaces and ')' must not shift the fields.
  constexpr char kText[] =
      "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 1000 0 0 0 "
      "731 119 0 0 20 0 3 0 12345 100000 2000 18446744073709551615\n";
  auto t = ParseProcessCpuTicks(kText);
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(*t, 731u + 119);
}

TEST(ParseProcessCpuTicks, TruncatedIsAnError) {
  EXPECT_THAT(ParseProcessCpuTicks("4242 (p) S 1 2 3"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/proc/self/stat:1")));
  EXPECT_THAT(ParseProcessCpuTicks("4242 p S"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("')'")));
}

TEST(ParseMemInfo, ReadsTotalAndAvailableInBytes) {
  constexpr char kText[] =
      "MemTotal:        8000000 kB\n"
      "MemFree:          100000 kB\n"
      "MemAvailable:    3000000 kB\n"
      "Buffers:           20000 kB\n";
  auto m = ParseMemInfo(kText);
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(m->total_bytes, 8000000ull * 1024);
  EXPECT_EQ(m->available_bytes, 3000000ull * 1024);
}

TEST(ParseMemInfo, MissingOrMalformedLinesAreErrors) {
  EXPECT_THAT(
      ParseMemInfo("MemTotal: 10 kB\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("MemAvailable")));
  EXPECT_THAT(ParseMemInfo("MemTotal: 10 kB\nMemAvailable: lots kB\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/proc/meminfo:2")));
  EXPECT_THAT(
      ParseMemInfo("MemTotal: 18446744073709551615 kB\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/proc/")));
}

TEST(ParseVmRssBytes, ReadsVmRssAndIsZeroWithout) {
  auto rss =
      ParseVmRssBytes("Name:\tpython3\nVmRSS:\t  51200 kB\nThreads:\t1\n");
  ASSERT_THAT(rss, IsOk());
  EXPECT_EQ(*rss, 51200ull * 1024);
  auto none = ParseVmRssBytes("Name:\tkthreadd\nState:\tS\n");
  ASSERT_THAT(none, IsOk());
  EXPECT_EQ(*none, 0u);
  EXPECT_THAT(ParseVmRssBytes("VmRSS: 12 MB\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/proc/self/status:1")));
}

TEST(ParseDiskStats, SumsWholeDisksOnly) {
  // major minor name reads merged sectors_read ms writes merged
  // sectors_written ...
  constexpr char kText[] =
      "   8       0 sda 100 0 1000 0 50 0 2000 0 0 0 0\n"
      "   8       1 sda1 90 0 900 0 40 0 1800 0 0 0 0\n"
      " 259       0 nvme0n1 10 0 10 0 5 0 20 0 0 0 0\n"
      " 259       1 nvme0n1p1 10 0 10 0 5 0 20 0 0 0 0\n"
      " 179       0 mmcblk0 1 0 1 0 1 0 1 0 0 0 0\n"
      " 179       1 mmcblk0p1 1 0 1 0 1 0 1 0 0 0 0\n"
      "   7       0 loop0 7 0 7000 0 0 0 0 0 0 0 0\n"
      " 253       0 dm-0 9 0 9000 0 9 0 9000 0 0 0 0\n"
      " 202       0 xvda 1 0 4 0 1 0 8 0 0 0 0\n";
  auto d = ParseDiskStats(kText);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->read, (1000u + 10 + 1 + 4) * 512);
  EXPECT_EQ(d->written, (2000u + 20 + 1 + 8) * 512);
}

TEST(ParseDiskStats, AShortLineIsAnErrorNamingIt) {
  EXPECT_THAT(ParseDiskStats("   8 0 sda 1 0 1 0 1 0 1 0 0 0 0\n8 1 sdb 1 2\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/proc/diskstats:2")));
}

TEST(ParseNetDev, SumsInterfacesButLoopback) {
  constexpr char kText[] =
      "Inter-|   Receive                                                |  "
      "Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|"
      "bytes    packets errs drop fifo colls carrier compressed\n"
      "    lo: 5000 50 0 0 0 0 0 0 5000 50 0 0 0 0 0 0\n"
      "  eth0: 1200 10 0 0 0 0 0 0 3400 20 0 0 0 0 0 0\n"
      "wlan0:100 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n";
  auto n = ParseNetDev(kText);
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(n->received, 1300u);
  EXPECT_EQ(n->sent, 3600u);
}

TEST(ParseNetDev, MalformedLinesAreErrors) {
  EXPECT_THAT(ParseNetDev("eth0: 1 2 3\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/proc/net/dev:1")));
  EXPECT_THAT(
      ParseNetDev("garbage here\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no ':'")));
  auto empty = ParseNetDev("");
  ASSERT_THAT(empty, IsOk());
  EXPECT_EQ(empty->received, 0u);
}

}  // namespace
}  // namespace runlog::system_metrics
