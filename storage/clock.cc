#include "storage/clock.h"

#include <dlfcn.h>
#include <time.h>

#include "absl/time/clock.h"

namespace runlog::storage {
namespace internal {

std::atomic<ClockGettimeFn> coarse_clock_gettime{&::clock_gettime};

namespace {

// The vDSO is always mapped (RTLD_NOLOAD only finds it); without it, or
// without the symbol, the C library's call stays.
ClockGettimeFn FindVdsoClockGettime() {
  void* vdso =
      ::dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
  if (vdso == nullptr) return nullptr;
  auto fn =
      reinterpret_cast<ClockGettimeFn>(::dlsym(vdso, "__vdso_clock_gettime"));
  struct timespec ts;
  // Only a call that works replaces the C library's.
  if (fn != nullptr && fn(CLOCK_MONOTONIC_COARSE, &ts) != 0) fn = nullptr;
  return fn;
}

const bool vdso_clock_found = [] {
  if (ClockGettimeFn fn = FindVdsoClockGettime()) {
    coarse_clock_gettime.store(fn, std::memory_order_relaxed);
    return true;
  }
  return false;
}();

}  // namespace
}  // namespace internal

namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  int64_t CoarseTickMs() override { return RealCoarseTickMs(); }
};

}  // namespace

Clock* Clock::Default() {
  // Leaked on purpose: callers may use it during static destruction.
  static Clock* const clock = new RealClock();
  return clock;
}

}  // namespace runlog::storage
