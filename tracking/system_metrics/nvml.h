// NVIDIA GPU readings through NVML, loaded at run time with dlopen: runlog
// neither links against nor needs the NVIDIA driver. Where the library
// cannot be loaded or initialised (no GPU, no driver) Open() gives null and
// there are simply no GPU series.
//
// NVML is the driver's library; what it does inside (it may keep state of
// its own) is outside runlog's no-thread rule, which covers runlog's code.
#ifndef RUNLOG_TRACKING_SYSTEM_METRICS_NVML_H_
#define RUNLOG_TRACKING_SYSTEM_METRICS_NVML_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace runlog::system_metrics {

struct GpuReading {
  int index = 0;
  // Each is absent when the device does not report it.
  std::optional<double> utilization_percent;
  std::optional<double> memory_used_bytes;
  std::optional<double> memory_total_bytes;
  std::optional<double> temperature_celsius;
};

class Nvml {
 public:
  // Loads `library` (by default the driver's "libnvidia-ml.so.1") and
  // initialises it; null when either fails.
  static std::unique_ptr<Nvml> Open(
      const std::string& library = "libnvidia-ml.so.1");
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  // One reading per device, in index order.
  std::vector<GpuReading> Read();

 private:
  struct Api;
  Nvml(void* handle, std::unique_ptr<Api> api);
  void* handle_;
  std::unique_ptr<Api> api_;
};

}  // namespace runlog::system_metrics

#endif  // RUNLOG_TRACKING_SYSTEM_METRICS_NVML_H_
