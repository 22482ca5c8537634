#include "tracking/system_metrics/proc_sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace runlog::system_metrics {
namespace {

// /proc files are a few KiB; anything longer is cut here (and then fails to
// parse or parses its head), never read without bound.
constexpr size_t kMaxProcFileBytes = 1u << 20;

std::string Name(absl::string_view metric) {
  return absl::StrCat(kSeriesPrefix, metric);
}

uint64_t Since(uint64_t now, uint64_t base) {
  return now >= base ? now - base : 0;
}

}  // namespace

Sampler::Sampler(const SamplerOptions& options, int64_t now_us)
    : proc_root_(options.proc_root),
      nvml_(options.nvml_library.empty() ? nullptr
                                         : Nvml::Open(options.nvml_library)),
      ticks_per_second_(::sysconf(_SC_CLK_TCK)),
      last_us_(now_us) {
  if (auto t = Read("self/stat")) {
    if (auto v = ParseProcessCpuTicks(*t); v.ok()) last_process_ticks_ = *v;
  }
  if (auto t = Read("stat")) {
    if (auto v = ParseProcStat(*t); v.ok()) last_machine_ticks_ = *v;
  }
  if (auto t = Read("diskstats")) {
    if (auto v = ParseDiskStats(*t); v.ok()) disk_base_ = *v;
  }
  if (auto t = Read("net/dev")) {
    if (auto v = ParseNetDev(*t); v.ok()) net_base_ = *v;
  }
}

Sampler::~Sampler() = default;

// /proc is not repository data: it is read with plain reads, not through
// storage::FileSystem, whose fault injection and paths are about the repo
// (as storage/owner_liveness.cc reads the boot id). Unlike that 4 KiB read,
// /proc/self/status and /proc/diskstats are longer, hence a bound of its own.
std::optional<std::string> Sampler::Read(const char* name) const {
  const std::string path = absl::StrCat(proc_root_, "/", name);
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  while (text.size() < kMaxProcFileBytes) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

std::vector<SystemSample> Sampler::Sample(int64_t now_us) {
  std::vector<SystemSample> out;
  const int64_t elapsed_us = now_us - last_us_;
  if (auto t = Read("self/stat")) {
    if (auto ticks = ParseProcessCpuTicks(*t); ticks.ok()) {
      if (last_process_ticks_ && elapsed_us > 0 && ticks_per_second_ > 0) {
        const double cpu_s =
            static_cast<double>(Since(*ticks, *last_process_ticks_)) /
            static_cast<double>(ticks_per_second_);
        out.push_back({Name("cpu_percent"), "process",
                       100.0 * cpu_s / (elapsed_us / 1e6)});
      }
      last_process_ticks_ = *ticks;
    }
  }
  if (auto t = Read("stat")) {
    if (auto ticks = ParseProcStat(*t); ticks.ok()) {
      if (last_machine_ticks_ && ticks->total > last_machine_ticks_->total) {
        const double busy =
            static_cast<double>(Since(ticks->busy, last_machine_ticks_->busy));
        const double total =
            static_cast<double>(ticks->total - last_machine_ticks_->total);
        out.push_back({Name("cpu_percent"), "machine", 100.0 * busy / total});
      }
      last_machine_ticks_ = *ticks;
    }
  }
  if (auto t = Read("self/status")) {
    if (auto rss = ParseVmRssBytes(*t); rss.ok()) {
      out.push_back({Name("rss_bytes"), "process", static_cast<double>(*rss)});
    }
  }
  if (auto t = Read("meminfo")) {
    if (auto m = ParseMemInfo(*t); m.ok() && m->total_bytes > 0) {
      const double used =
          static_cast<double>(Since(m->total_bytes, m->available_bytes));
      out.push_back({Name("memory_used_bytes"), "machine", used});
      out.push_back({Name("memory_percent"), "machine",
                     100.0 * used / static_cast<double>(m->total_bytes)});
    }
  }
  if (auto t = Read("diskstats")) {
    if (auto d = ParseDiskStats(*t); d.ok()) {
      if (!disk_base_) disk_base_ = *d;
      out.push_back({Name("disk_read_bytes"), "machine",
                     static_cast<double>(Since(d->read, disk_base_->read))});
      out.push_back(
          {Name("disk_write_bytes"), "machine",
           static_cast<double>(Since(d->written, disk_base_->written))});
    }
  }
  if (auto t = Read("net/dev")) {
    if (auto n = ParseNetDev(*t); n.ok()) {
      if (!net_base_) net_base_ = *n;
      out.push_back(
          {Name("net_rx_bytes"), "machine",
           static_cast<double>(Since(n->received, net_base_->received))});
      out.push_back({Name("net_tx_bytes"), "machine",
                     static_cast<double>(Since(n->sent, net_base_->sent))});
    }
  }
  if (nvml_ != nullptr) {
    for (const GpuReading& g : nvml_->Read()) {
      const std::string device = absl::StrCat("gpu", g.index);
      if (g.utilization_percent) {
        out.push_back({Name("gpu_percent"), device, *g.utilization_percent});
      }
      if (g.memory_used_bytes) {
        out.push_back(
            {Name("gpu_memory_used_bytes"), device, *g.memory_used_bytes});
        if (g.memory_total_bytes && *g.memory_total_bytes > 0) {
          out.push_back({Name("gpu_memory_percent"), device,
                         100.0 * *g.memory_used_bytes / *g.memory_total_bytes});
        }
      }
      if (g.temperature_celsius) {
        out.push_back(
            {Name("gpu_temperature_celsius"), device, *g.temperature_celsius});
      }
    }
  }
  last_us_ = now_us;
  return out;
}

}  // namespace runlog::system_metrics
