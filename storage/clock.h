// Injectable wall clock, so liveness and buffering deadlines are testable.
#ifndef RUNLOG_STORAGE_CLOCK_H_
#define RUNLOG_STORAGE_CLOCK_H_

#include <time.h>

#include <atomic>
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

// The kernel's coarse monotonic clock in ns: it moves once per timer tick
// (1-10 ms), and reading it is a vDSO load of the last tick. Hot paths that
// know they use the default clock compare it instead of CoarseTickMs(),
// which spares a division per read.
namespace internal {
using ClockGettimeFn = int (*)(clockid_t, struct timespec*);
// ::clock_gettime until clock.cc's initialiser finds the vDSO's own entry
// point, which spares the C library's wrapper (about 2 of 6 ns a read here).
// Written once, while the library loads.
extern std::atomic<ClockGettimeFn> coarse_clock_gettime;
}  // namespace internal

inline int64_t RealCoarseTickNs() {
  struct timespec ts;
  internal::coarse_clock_gettime.load(std::memory_order_relaxed)(
      CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// What Clock::Default()->CoarseTickMs() returns.
inline int64_t RealCoarseTickMs() { return RealCoarseTickNs() / 1000000; }

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
