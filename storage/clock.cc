#include "storage/clock.h"

#include <time.h>

#include "absl/time/clock.h"

namespace runlog::storage {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  int64_t CoarseTickMs() override {
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }
};

}  // namespace

Clock* Clock::Default() {
  // Leaked on purpose: callers may use it during static destruction.
  static Clock* const clock = new RealClock();
  return clock;
}

}  // namespace runlog::storage
