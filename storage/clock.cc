#include "storage/clock.h"

#include "absl/time/clock.h"

namespace runlog::storage {
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
