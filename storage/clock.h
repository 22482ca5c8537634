// Injectable wall clock, so liveness and buffering deadlines are testable.
#ifndef RUNLOG_STORAGE_CLOCK_H_
#define RUNLOG_STORAGE_CLOCK_H_

#include <time.h>

#include <cstdint>

#include "absl/time/time.h"

namespace runlog::storage {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // A millisecond count that changes when Now() may have moved, far cheaper
  // to read than Now(): callers on a hot path read it on every call and
  // Now() only when it changed. The real clock reads the kernel's coarse
  // monotonic clock (a vDSO read of the last timer tick); the default
  // derives it from Now().
  virtual int64_t CoarseTickMs() { return absl::ToUnixMillis(Now()); }
  // The real clock (never null, never destroyed).
  static Clock* Default();
};

// What Clock::Default()->CoarseTickMs() returns, callable without the
// virtual dispatch by hot paths that know they use the default clock.
inline int64_t RealCoarseTickMs() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// A clock tests set by hand. Not thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(absl::Time start) : now_(start) {}
  absl::Time Now() override { return now_; }
  void Set(absl::Time t) { now_ = t; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_;
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_CLOCK_H_
