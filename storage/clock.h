// Injectable wall clock, so liveness and buffering deadlines are testable.
#ifndef RUNLOG_STORAGE_CLOCK_H_
#define RUNLOG_STORAGE_CLOCK_H_

#include "absl/time/time.h"

namespace runlog::storage {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // The real clock (never null, never destroyed).
  static Clock* Default();
};

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
