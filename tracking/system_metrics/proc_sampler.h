// System metrics of a run (RunOptions::system_metrics), read when a tracking
// call finds the sampling interval elapsed: the library starts no thread, so
// a program that stops calling track stops sampling.
//
// Series (all under "__system__/", context {device: ...}):
//   cpu_percent          process: CPU time of this process over the interval,
//                        in % of one core (above 100 with several threads);
//                        machine: busy share of all cores, 0..100
//   rss_bytes            process: resident set size
//   memory_used_bytes    machine: MemTotal - MemAvailable
//   memory_percent       machine: the same, in % of MemTotal
//   disk_read_bytes, disk_write_bytes
//                        machine: bytes of the whole disks since the run
//                        started
//   net_rx_bytes, net_tx_bytes
//                        machine: bytes of all interfaces but lo since the
//                        run started
//   gpu_percent, gpu_memory_used_bytes, gpu_memory_percent,
//   gpu_temperature_celsius
//                        gpu0, gpu1...: through NVML when it loads (nvml.h)
// A file that cannot be read or parsed leaves its series out of that sample;
// sampling never fails the call it rides on.
#ifndef RUNLOG_TRACKING_SYSTEM_METRICS_PROC_SAMPLER_H_
#define RUNLOG_TRACKING_SYSTEM_METRICS_PROC_SAMPLER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tracking/system_metrics/nvml.h"
#include "tracking/system_metrics/proc_parsers.h"

namespace runlog::system_metrics {

inline constexpr char kSeriesPrefix[] = "__system__/";

struct SystemSample {
  std::string name;    // with kSeriesPrefix
  std::string device;  // the context's "device" value
  double value = 0;
};

struct SamplerOptions {
  // Where the /proc files are read from (tests point it at canned files).
  std::string proc_root = "/proc";
  // The NVML library to dlopen; empty: no GPU readings.
  std::string nvml_library = "libnvidia-ml.so.1";
};

class Sampler {
 public:
  // Takes the baseline readings (CPU ticks, disk and network bytes) at
  // `now_us`, a wall time in µs.
  Sampler(const SamplerOptions& options, int64_t now_us);
  ~Sampler();

  // The readings at `now_us`; CPU shares are over the time since the
  // previous call (or construction), left out when no time has passed.
  std::vector<SystemSample> Sample(int64_t now_us);

  bool has_gpu() const { return nvml_ != nullptr; }

 private:
  // The text of proc_root/`name`, or nullopt when it cannot be read.
  std::optional<std::string> Read(const char* name) const;

  std::string proc_root_;
  std::unique_ptr<Nvml> nvml_;
  long ticks_per_second_;
  int64_t last_us_;
  std::optional<uint64_t> last_process_ticks_;
  std::optional<MachineCpuTicks> last_machine_ticks_;
  std::optional<DiskBytes> disk_base_;
  std::optional<NetBytes> net_base_;
};

}  // namespace runlog::system_metrics

#endif  // RUNLOG_TRACKING_SYSTEM_METRICS_PROC_SAMPLER_H_
