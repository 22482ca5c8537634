// A clock that replays the wall times of imported points.
//
// runlog stamps every point with its Run's clock (tracking/run.h). An
// importer keeps a source's own wall times by opening the repository with a
// ReplayClock and setting it to each point's time just before tracking the
// point; between points (creating, committing, listing) it is unset and
// reads the base clock, so run ids, OWNER and end times stay real.
//
// CoarseTickMs changes whenever Set() moves the time, which is the contract
// of storage::Clock ("changes when Now() may have moved"): the Run then
// reads Now() for the very next point.
//
// Thread-safety: none; one importer uses it from one thread.
#ifndef RUNLOG_INTEROP_REPLAY_CLOCK_H_
#define RUNLOG_INTEROP_REPLAY_CLOCK_H_

#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "storage/clock.h"

namespace runlog::interop {

class ReplayClock : public storage::Clock {
 public:
  // `base` is not owned and must outlive the clock; null: the real clock.
  explicit ReplayClock(storage::Clock* base = nullptr)
      : base_(base ? base : storage::Clock::Default()) {}

  absl::Time Now() override {
    return replaying_ ? absl::FromUnixMicros(now_us_) : base_->Now();
  }
  int64_t CoarseTickMs() override {
    return replaying_ ? kReplayTicks + generation_ : base_->CoarseTickMs();
  }

  void Set(int64_t unix_us) {
    if (!replaying_ || unix_us != now_us_) ++generation_;
    replaying_ = true;
    now_us_ = unix_us;
  }
  void Unset() { replaying_ = false; }

 private:
  // Far above any millisecond count of the real clock, so switching between
  // replayed and real time always changes the tick.
  static constexpr int64_t kReplayTicks = int64_t{1} << 60;

  storage::Clock* base_;
  bool replaying_ = false;
  int64_t now_us_ = 0;
  int64_t generation_ = 0;
};

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_REPLAY_CLOCK_H_
