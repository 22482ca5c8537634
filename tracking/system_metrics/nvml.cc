#include "tracking/system_metrics/nvml.h"

#include <dlfcn.h>

#include <utility>

namespace runlog::system_metrics {
namespace {

// The few declarations of NVIDIA's nvml.h used here (its ABI is stable:
// the _v2 entry points have existed since driver 325).
using nvmlReturn_t = int;
using nvmlDevice_t = void*;
constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr int kNvmlTemperatureGpu = 0;
struct NvmlUtilization {
  unsigned int gpu;
  unsigned int memory;
};
struct NvmlMemory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

template <typename F>
bool Load(void* handle, const char* name, F** out) {
  *out = reinterpret_cast<F*>(::dlsym(handle, name));
  return *out != nullptr;
}

}  // namespace

struct Nvml::Api {
  nvmlReturn_t (*init)();
  nvmlReturn_t (*shutdown)();
  nvmlReturn_t (*count)(unsigned int*);
  nvmlReturn_t (*handle_by_index)(unsigned int, nvmlDevice_t*);
  nvmlReturn_t (*utilization)(nvmlDevice_t, NvmlUtilization*);
  nvmlReturn_t (*memory)(nvmlDevice_t, NvmlMemory*);
  nvmlReturn_t (*temperature)(nvmlDevice_t, int, unsigned int*);
};

std::unique_ptr<Nvml> Nvml::Open(const std::string& library) {
  void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return nullptr;
  auto api = std::make_unique<Api>();
  const bool loaded =
      Load(handle, "nvmlInit_v2", &api->init) &&
      Load(handle, "nvmlShutdown", &api->shutdown) &&
      Load(handle, "nvmlDeviceGetCount_v2", &api->count) &&
      Load(handle, "nvmlDeviceGetHandleByIndex_v2", &api->handle_by_index) &&
      Load(handle, "nvmlDeviceGetUtilizationRates", &api->utilization) &&
      Load(handle, "nvmlDeviceGetMemoryInfo", &api->memory) &&
      Load(handle, "nvmlDeviceGetTemperature", &api->temperature);
  if (!loaded || api->init() != kNvmlSuccess) {
    ::dlclose(handle);
    return nullptr;
  }
  return std::unique_ptr<Nvml>(new Nvml(handle, std::move(api)));
}

Nvml::Nvml(void* handle, std::unique_ptr<Api> api)
    : handle_(handle), api_(std::move(api)) {}

Nvml::~Nvml() {
  api_->shutdown();
  ::dlclose(handle_);
}

std::vector<GpuReading> Nvml::Read() {
  std::vector<GpuReading> out;
  unsigned int count = 0;
  if (api_->count(&count) != kNvmlSuccess) return out;
  for (unsigned int i = 0; i < count; ++i) {
    nvmlDevice_t device = nullptr;
    if (api_->handle_by_index(i, &device) != kNvmlSuccess) continue;
    GpuReading r;
    r.index = static_cast<int>(i);
    NvmlUtilization u{};
    if (api_->utilization(device, &u) == kNvmlSuccess) {
      r.utilization_percent = u.gpu;
    }
    NvmlMemory m{};
    if (api_->memory(device, &m) == kNvmlSuccess) {
      r.memory_used_bytes = static_cast<double>(m.used);
      r.memory_total_bytes = static_cast<double>(m.total);
    }
    unsigned int celsius = 0;
    if (api_->temperature(device, kNvmlTemperatureGpu, &celsius) ==
        kNvmlSuccess) {
      r.temperature_celsius = celsius;
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace runlog::system_metrics
