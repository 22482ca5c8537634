#include "tracking/system_metrics/proc_sampler.h"

#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace runlog::system_metrics {
namespace {

using ::testing::DoubleNear;
using ::testing::IsEmpty;
using ::testing::Not;

// A canned /proc: the files the sampler reads, with numbers set per test.
class FakeProc {
 public:
  FakeProc() {
    Mkdir("/self");
    Mkdir("/net");
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.path() + "/" + name) << text;
  }
  void Set(uint64_t process_ticks, uint64_t busy, uint64_t idle,
           uint64_t disk_sectors, uint64_t net_bytes) {
    Write("self/stat", "1 (p) S 1 1 1 0 -1 0 0 0 0 0 " +
                           std::to_string(process_ticks) +
                           " 0 0 0 20 0 1 0 1 1 1\n");
    Write("stat", "cpu  " + std::to_string(busy) + " 0 0 " +
                      std::to_string(idle) + " 0 0 0 0 0 0\n");
    Write("self/status", "Name:\tp\nVmRSS:\t 2048 kB\n");
    Write("meminfo", "MemTotal: 1000 kB\nMemAvailable: 250 kB\n");
    Write("diskstats", "8 0 sda 1 0 " + std::to_string(disk_sectors) +
                           " 0 1 0 " + std::to_string(2 * disk_sectors) +
                           " 0 0 0 0\n");
    Write("net/dev", "eth0: " + std::to_string(net_bytes) + " 0 0 0 0 0 0 0 " +
                         std::to_string(3 * net_bytes) + " 0 0 0 0 0 0 0\n");
  }
  SamplerOptions Options() const {
    SamplerOptions o;
    o.proc_root = dir_.path();
    o.nvml_library = "";
    return o;
  }

 private:
  void Mkdir(const std::string& sub) {
    ASSERT_EQ(::mkdir((dir_.path() + sub).c_str(), 0755), 0);
  }
  testing::TempDir dir_;
};

std::map<std::pair<std::string, std::string>, double> ByKey(
    const std::vector<SystemSample>& samples) {
  std::map<std::pair<std::string, std::string>, double> out;
  for (const SystemSample& s : samples) out[{s.name, s.device}] = s.value;
  return out;
}

double At(const std::map<std::pair<std::string, std::string>, double>& m,
          const std::string& name, const std::string& device) {
  auto it = m.find({name, device});
  return it == m.end() ? -1 : it->second;
}

TEST(Sampler, RatesAndCountersAreAgainstThePreviousReading) {
  FakeProc proc;
  proc.Set(/*process_ticks=*/100, /*busy=*/1000, /*idle=*/1000,
           /*disk_sectors=*/10, /*net_bytes=*/100);
  const int64_t t0 = 1'700'000'000'000'000;
  Sampler sampler(proc.Options(), t0);
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  // 10 s later: the process used 5 s of CPU; the machine was busy 300 of
  // 400 ticks; 6 more sectors read, 12 written; 50 bytes in, 150 out.
  proc.Set(100 + static_cast<uint64_t>(5 * hz), 1300, 1100, 16, 150);
  auto m = ByKey(sampler.Sample(t0 + 10'000'000));
  EXPECT_THAT(At(m, "__system__/cpu_percent", "process"), DoubleNear(50, 1e-9));
  EXPECT_THAT(At(m, "__system__/cpu_percent", "machine"), DoubleNear(75, 1e-9));
  EXPECT_EQ(At(m, "__system__/rss_bytes", "process"), 2048.0 * 1024);
  EXPECT_EQ(At(m, "__system__/memory_used_bytes", "machine"), 750.0 * 1024);
  EXPECT_THAT(At(m, "__system__/memory_percent", "machine"),
              DoubleNear(75, 1e-9));
  EXPECT_EQ(At(m, "__system__/disk_read_bytes", "machine"), 6.0 * 512);
  EXPECT_EQ(At(m, "__system__/disk_write_bytes", "machine"), 12.0 * 512);
  EXPECT_EQ(At(m, "__system__/net_rx_bytes", "machine"), 50.0);
  EXPECT_EQ(At(m, "__system__/net_tx_bytes", "machine"), 150.0);
  EXPECT_EQ(m.size(), 9u);

  // The next interval: idle process and machine; disk and network counters
  // stay "since the run started".
  proc.Set(100 + static_cast<uint64_t>(5 * hz), 1300, 1500, 16, 150);
  m = ByKey(sampler.Sample(t0 + 20'000'000));
  EXPECT_EQ(At(m, "__system__/cpu_percent", "process"), 0.0);
  EXPECT_EQ(At(m, "__system__/cpu_percent", "machine"), 0.0);
  EXPECT_EQ(At(m, "__system__/disk_read_bytes", "machine"), 6.0 * 512);
}

TEST(Sampler, UnreadableOrDamagedFilesLeaveTheirSeriesOut) {
  FakeProc proc;
  proc.Set(1, 1, 1, 1, 1);
  Sampler sampler(proc.Options(), 0);
  proc.Write("meminfo", "garbage\n");
  proc.Write("self/status", "VmRSS: many\n");
  proc.Write("stat", "");
  auto m = ByKey(sampler.Sample(1'000'000));
  EXPECT_EQ(m.count({"__system__/memory_used_bytes", "machine"}), 0u);
  EXPECT_EQ(m.count({"__system__/rss_bytes", "process"}), 0u);
  EXPECT_EQ(m.count({"__system__/cpu_percent", "machine"}), 0u);
  EXPECT_EQ(m.count({"__system__/cpu_percent", "process"}), 1u);

  SamplerOptions nowhere;
  nowhere.proc_root = "/nonexistent/proc";
  nowhere.nvml_library = "";
  Sampler empty(nowhere, 0);
  EXPECT_THAT(empty.Sample(1'000'000), IsEmpty());
}

TEST(Sampler, NoTimePassedGivesNoProcessCpuShare) {
  FakeProc proc;
  proc.Set(1, 1, 1, 1, 1);
  Sampler sampler(proc.Options(), 5);
  auto m = ByKey(sampler.Sample(5));
  EXPECT_EQ(m.count({"__system__/cpu_percent", "process"}), 0u);
}

TEST(Sampler, AMissingNvmlLibraryMeansNoGpuSeriesAndNoError) {
  FakeProc proc;
  proc.Set(1, 1, 1, 1, 1);
  SamplerOptions o = proc.Options();
  o.nvml_library = "libnvidia-ml-not-here.so.1";
  Sampler sampler(o, 0);
  EXPECT_FALSE(sampler.has_gpu());
  for (const SystemSample& s : sampler.Sample(1'000'000)) {
    EXPECT_THAT(s.device, Not(::testing::StartsWith("gpu")));
  }
}

TEST(Sampler, TheRealProcGivesPlausibleReadings) {
  SamplerOptions o;
  o.nvml_library = "";
  Sampler sampler(o, 0);
  auto m = ByKey(sampler.Sample(1'000'000));
  ASSERT_EQ(m.count({"__system__/rss_bytes", "process"}), 1u);
  EXPECT_GT(At(m, "__system__/rss_bytes", "process"), 0.0);
  ASSERT_EQ(m.count({"__system__/memory_percent", "machine"}), 1u);
  EXPECT_GT(At(m, "__system__/memory_percent", "machine"), 0.0);
  EXPECT_LE(At(m, "__system__/memory_percent", "machine"), 100.0);
}

}  // namespace
}  // namespace runlog::system_metrics
