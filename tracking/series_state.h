// Internal: the in-memory state of one series of a Run being written.
#ifndef RUNLOG_TRACKING_SERIES_STATE_H_
#define RUNLOG_TRACKING_SERIES_STATE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/optimization.h"
#include "tracking/codec/column_codec.h"
#include "tracking/run.h"
#include "tracking/series.h"

namespace runlog::internal {

// An allocator whose resize() leaves new trivial elements uninitialised:
// a fast lane (run.h, ScalarLane) sizes a series' columns to the room it
// grants and shrinks them to what was written when it closes, so zero-filling
// the room first would write every point twice.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// The epoch of a point tracked without one.
inline constexpr double kNoEpoch = std::numeric_limits<double>::quiet_NaN();

struct SeriesState {
  uint32_t id = 0;
  SeriesKey key;
  SeriesKind kind = SeriesKind::kScalar;
  // Of every point tracked, except for a scalar series the buffered points
  // from `summarized` on: the per-point path only buffers, and
  // SettleSummary() folds them in, in one pass, when the buffers are
  // cleared or the summary is read.
  SeriesSummary summary;
  size_t summarized = 0;
  // Buffered points, not yet encoded: one entry per point in `steps` and in
  // the column of the series' kind (values, texts or histograms).
  std::vector<int64_t, DefaultInitAllocator<int64_t>> steps;
  std::vector<double, DefaultInitAllocator<double>> values;
  std::vector<std::string> texts;
  std::vector<Histogram> histograms;
  // One entry per point once any buffered point has an epoch; empty while
  // none has, the usual case, so those points cost no store here.
  std::vector<double> epochs;
  // Point times as runs: the run reads its clock only every few points, so
  // neighbours nearly always share a time.
  std::vector<record::ValueRun> times;

  // While `lane_open`, steps and values are sized to lane_base plus the
  // lane's room; the points in it are [lane_base, lane.steps) and all take
  // the time lane_time (the coarse clock has not moved since it opened).
  ScalarLane lane;
  bool lane_open = false;
  size_t lane_base = 0;
  int64_t lane_time = 0;

  int64_t NextStep() const {
    if (!steps.empty()) return steps.back() + 1;  // the latest, settled or not
    return summary.count == 0 ? 0 : summary.last_step + 1;
  }

  // Folds buffered scalar points [summarized, end) into `summary`.
  void SettleSummary() {
    if (summarized >= values.size()) return;
    summary.AddAll(steps.data() + summarized, values.data() + summarized,
                   values.size() - summarized);
    summarized = values.size();
  }

  // Record the epoch and time of the point(s) just appended to `steps`.
  void AddEpoch(double epoch) {
    if (ABSL_PREDICT_TRUE(epochs.empty() && IsNoEpoch(epoch))) return;
    epochs.resize(steps.size() - 1, kNoEpoch);
    epochs.push_back(epoch);
  }
  void AddNoEpochs(size_t n) {
    if (!epochs.empty()) epochs.insert(epochs.end(), n, kNoEpoch);
  }
  void AddTime(int64_t time_us, size_t n = 1) {
    if (ABSL_PREDICT_TRUE(!times.empty() && times.back().value == time_us)) {
      times.back().count += n;
    } else {
      times.push_back(record::ValueRun{time_us, n});
    }
  }

  void ClearPoints() {
    SettleSummary();
    summarized = 0;
    steps.clear();
    values.clear();
    texts.clear();
    histograms.clear();
    epochs.clear();
    times.clear();
  }

 private:
  // By bits, not isnan(): a NaN epoch with another payload is kept as given.
  static bool IsNoEpoch(double e) {
    uint64_t a, b;
    std::memcpy(&a, &e, sizeof a);
    const double none = kNoEpoch;
    std::memcpy(&b, &none, sizeof b);
    return a == b;
  }
};

}  // namespace runlog::internal

#endif  // RUNLOG_TRACKING_SERIES_STATE_H_
