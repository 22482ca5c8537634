// A run being recorded: params, tags and metric series, written into the
// run's own append-only segments and committed at the end.
//
// Lifecycle (docs/design.md, "Run lifecycle"):
//   Commit()      ends the run as finished.
//   Fail(reason)  ends it as failed (committed, kept for the record).
//   Close()       stops writing and leaves it uncommitted.
//   destructor    without an explicit end: on a normal scope exit it
//                 commits; while an exception unwinds, RunOptions::on_exception
//                 decides (leave uncommitted, discard, or commit as failed).
//                 It never throws and blocks on nothing but its own writes.
//                 Errors are dropped; call Commit() to see them.
// After any of these (or Repo::DeleteRun() of this run) every writing call
// returns FailedPrecondition; id() stays readable.
//
// Writes are buffered in memory and handed to the OS when the buffer fills,
// when max_buffer_age has passed (checked inside the calls: the library
// starts no thread), and on Flush(), Commit(), Fail() and Close(). Durability
// follows RunOptions::sync_policy.
//
// A storage error (write, fsync, rename) poisons the run: that call and every
// later one return the first error, and the run is never committed.
// Invalid input (empty series name, oversize string, kind mismatch) is
// InvalidArgument and does not poison.
//
// Thread-safety: none. Use a Run (and its series handles) from one thread at
// a time; that includes deleting it through Repo::DeleteRun().
#ifndef RUNLOG_TRACKING_RUN_H_
#define RUNLOG_TRACKING_RUN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "storage/clock.h"
#include "storage/run_store.h"
#include "storage/run_writer.h"
#include "storage/sync_policy.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace runlog {
namespace system_metrics {
class Sampler;
}

enum class OnException {
  kLeaveUncommitted,  // default: readers see it abandoned once we exit
  kDiscard,           // delete the run's files now
  kCommitFailed,      // commit it with status failed
};

struct RunOptions {
  std::string experiment = "default";
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  Value params;  // null, or a map set as the initial params
  OnException on_exception = OnException::kLeaveUncommitted;
  storage::SyncPolicy sync_policy = storage::SyncPolicy::kOnCommit;
  // Encode and hand points to the storage layer after this many buffered
  // points or bytes (text, histograms), whichever comes first...
  size_t buffer_points = 1u << 16;
  size_t buffer_bytes = 4u << 20;
  // ...or once the oldest buffered point is this old (checked inside every
  // call: one read of the coarse monotonic clock on the fast path, a full
  // clock read when it has moved).
  absl::Duration max_buffer_age = absl::Seconds(5);
  // The run's sign of life for other hosts (owner_liveness.h): a call that
  // finds nothing written for this long refreshes OWNER's modification
  // time. Keep it far below the staleness period readers judge by (24 h by
  // default).
  absl::Duration heartbeat_interval = absl::Minutes(1);
  // Every reader of a log run holds one segment whole, so this also bounds
  // what reading (and compacting) the run costs in memory.
  uint64_t segment_roll_size = 16u << 20;
  // Sample CPU, memory, disk, network and (with NVML) GPU readings into
  // series under "__system__/" (tracking/system_metrics/proc_sampler.h)
  // when a call finds this interval elapsed, and once more at the end. No
  // thread: a program that stops calling the Run stops sampling. Off, it
  // costs nothing per point (the check rides on the clock check above).
  bool system_metrics = false;
  absl::Duration system_metrics_interval = absl::Seconds(10);
};

class Run;
namespace internal {
struct SeriesState;
class OpenRunRegistry;

// A series' identity as the lookup key of Run: views of strings owned by the
// SeriesState (in the map) or by the caller (while looking up), so resolving
// a series by name builds and allocates nothing.
struct SeriesKeyRef {
  absl::string_view name;
  const Context* context;

  template <typename H>
  friend H AbslHashValue(H h, const SeriesKeyRef& k) {
    h = H::combine(std::move(h), k.name, k.context->size());
    for (const auto& [key, value] : *k.context) {
      h = H::combine(std::move(h), key, value);
    }
    return h;
  }
  friend bool operator==(const SeriesKeyRef& a, const SeriesKeyRef& b) {
    return a.name == b.name && *a.context == *b.context;
  }
};

// The fast lane of a scalar series: room its Run granted for points that
// ScalarSeries::Track appends inline, without calling into the Run. Valid
// for its room while the coarse clock reads `*tick` (the Run's tick: a
// moved clock may make a flush or a heartbeat due). Only the Run opens and
// closes a lane (run.cc, "Run: fast lanes"); no room sends every call the
// slow way, which settles the lane's points into the series.
// The room is [steps, end): pointers, so that the stores through `steps`
// (int64_t, which may alias a size_t) do not make the compiler reload it.
struct ScalarLane {
  int64_t* steps = nullptr;  // where the next point's step goes
  int64_t* end = nullptr;
  double* values = nullptr;
  const int64_t* tick = nullptr;  // storage::RealCoarseTickNs() at opening

  size_t room() const { return static_cast<size_t>(end - steps); }
  bool TryAppend(int64_t step, double value) {
    if (ABSL_PREDICT_FALSE(steps == end ||
                           storage::RealCoarseTickNs() != *tick)) {
      return false;
    }
    *steps++ = step;
    *values++ = value;
    return true;
  }
  // With the step after the series' latest: an open lane always follows a
  // buffered point.
  bool TryAppendNext(double value) {
    return steps != end && TryAppend(steps[-1] + 1, value);
  }
};
}  // namespace internal

// A pre-resolved scalar series of a Run: the fastest way to track points.
// A cheap value type; valid while its Run lives. Tracking a point without
// an epoch is an inline append into the series' buffer while the Run's
// fast lane has room; the first call after a clock tick, a full buffer or
// any other call on the Run goes through the Run.
class ScalarSeries {
 public:
  ScalarSeries() = default;
  // Step = last step of the series + 1 (0 for the first point).
  absl::Status Track(double value) {
    if (ABSL_PREDICT_TRUE(lane_ != nullptr && lane_->TryAppendNext(value))) {
      return absl::OkStatus();
    }
    return TrackSlow(nullptr, value, nullptr);
  }
  absl::Status Track(int64_t step, double value) {
    if (ABSL_PREDICT_TRUE(lane_ != nullptr && lane_->TryAppend(step, value))) {
      return absl::OkStatus();
    }
    return TrackSlow(&step, value, nullptr);
  }
  absl::Status Track(int64_t step, double value, double epoch) {
    return TrackSlow(&step, value, &epoch);
  }
  // Many points at once; steps and values must have the same length.
  absl::Status TrackBatch(absl::Span<const int64_t> steps,
                          absl::Span<const double> values);
  const SeriesKey& key() const;
  // Summary of the points tracked so far.
  const SeriesSummary& summary() const;

 private:
  friend class Run;
  ScalarSeries(Run* run, internal::SeriesState* state,
               internal::ScalarLane* lane)
      : run_(run), state_(state), lane_(lane) {}
  // Null step: the next; null epoch: none.
  absl::Status TrackSlow(const int64_t* step, double value,
                         const double* epoch);
  Run* run_ = nullptr;
  internal::SeriesState* state_ = nullptr;
  internal::ScalarLane* lane_ = nullptr;  // &state_->lane
};

class Run {
 public:
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  ~Run();

  // Unique, time-ordered, [0-9a-z]; readable at any time.
  const std::string& id() const { return id_; }
  const std::string& experiment() const { return experiment_; }

  // ---- metadata and params ----
  // Sets one param by dotted path ("hparams.lr"); InvalidArgument for a bad
  // path or value over the limits of value.h.
  absl::Status SetParam(absl::string_view path, Value value);
  // Deep-merges a map of params.
  absl::Status SetParams(const Value& params);
  const Value& params() const { return params_; }
  absl::Status AddTag(absl::string_view tag);
  absl::Status RemoveTag(absl::string_view tag);
  absl::Status SetName(absl::string_view name);
  absl::Status SetDescription(absl::string_view description);

  // ---- scalar series ----
  // Resolves (creating on first use) the scalar series name + context.
  absl::StatusOr<ScalarSeries> Series(absl::string_view name,
                                      const Context& context = {});
  // One point by name; step defaults to the series' last step + 1.
  absl::Status Track(absl::string_view name, double value,
                     std::optional<int64_t> step = std::nullopt,
                     const Context& context = {},
                     std::optional<double> epoch = std::nullopt);
  absl::Status TrackBatch(absl::string_view name, const Context& context,
                          absl::Span<const int64_t> steps,
                          absl::Span<const double> values);

  // ---- other kinds ----
  absl::Status TrackText(absl::string_view name, absl::string_view text,
                         std::optional<int64_t> step = std::nullopt,
                         const Context& context = {},
                         std::optional<double> epoch = std::nullopt);
  absl::Status TrackHistogram(absl::string_view name, Histogram histogram,
                              std::optional<int64_t> step = std::nullopt,
                              const Context& context = {},
                              std::optional<double> epoch = std::nullopt);
  // Blobs (images, audio...) go into chunks of their own, so they never slow
  // down reading the scalars.
  absl::Status TrackBlob(absl::string_view name, const Blob& blob,
                         std::optional<int64_t> step = std::nullopt,
                         const Context& context = {},
                         std::optional<double> epoch = std::nullopt);

  // ---- durability and the end ----
  absl::Status Flush();
  absl::Status Commit();
  // Commits with status failed; `reason` is cut to the format limit.
  absl::Status Fail(absl::string_view reason);
  absl::Status Close();

  bool is_open() const { return state_ == State::kOpen; }
  // OK, or the error that poisoned the run.
  absl::Status status() const { return status_; }

 private:
  friend class Repo;
  friend class ScalarSeries;
  friend class internal::OpenRunRegistry;
  enum class State { kOpen, kCommitted, kClosed, kDeleted };

  Run(std::shared_ptr<storage::RunStore> store,
      std::unique_ptr<storage::RunWriter> writer, const RunOptions& options);
  absl::Status Init(const RunOptions& options);

  absl::Status CheckOpen() const;
  absl::Status Poison(absl::Status s);
  absl::StatusOr<internal::SeriesState*> Resolve(absl::string_view name,
                                                 const Context& context,
                                                 SeriesKind kind);
  // The slow way of every scalar point: null step is the next one.
  absl::Status TrackScalar(internal::SeriesState* s, const int64_t* step,
                           double value, double epoch);
  // Fast lanes (ScalarLane): OpenLane grants `s` room after a buffered
  // point when it may; CloseLane settles a lane's points into its series
  // (sizes, times, pending_points_) so its buffers are exact again, and
  // every call that reads buffers, flushes or ends the run closes them all.
  void OpenLane(internal::SeriesState* s);
  void CloseLane(internal::SeriesState* s);
  void CloseLanes();
  // Appends a point to `s`'s buffers (no clock, flush or liveness check).
  void BufferScalar(internal::SeriesState* s, int64_t step, double value,
                    double epoch);
  // Tracks the system metrics due at now_us_ (RunOptions::system_metrics).
  void SampleSystem();
  // Lists `s`, which just got its first buffered point, in dirty_.
  void MarkDirty(internal::SeriesState* s);
  absl::Status AfterPoints(size_t points, size_t bytes);
  absl::Status MaybeFlushForAge();
  absl::Status EncodePending();
  absl::Status EmitChunk();
  absl::Status Finish(storage::format::RunStatus status,
                      absl::string_view reason);
  // Called by Repo::DeleteRun() before it removes the run's files.
  void CloseForDeletion();

  std::shared_ptr<storage::RunStore> store_;
  std::unique_ptr<storage::RunWriter> writer_;
  storage::Clock* clock_;
  std::string id_;
  std::string experiment_;
  std::string name_;
  std::string description_;
  absl::Time created_;
  std::set<std::string> tags_;
  Value params_;
  OnException on_exception_;
  size_t buffer_points_;
  size_t buffer_bytes_;
  absl::Duration max_buffer_age_;
  int uncaught_at_creation_;

  State state_ = State::kOpen;
  absl::Status status_;

  // Series, by id (= index) and by key (viewing each SeriesState's own key,
  // which never changes and lives as long as series_); `dirty_` lists the
  // series with buffered points.
  std::vector<std::unique_ptr<internal::SeriesState>> series_;
  std::vector<internal::SeriesState*> dirty_;
  std::vector<internal::SeriesState*> open_lanes_;
  absl::flat_hash_map<internal::SeriesKeyRef, internal::SeriesState*> by_key_;

  // Records not yet handed to the storage layer (metadata, definitions).
  std::string pending_records_;
  std::string chunk_;
  std::string scratch_;
  size_t pending_points_ = 0;
  size_t pending_bytes_ = 0;
  // Wall time in µs, refreshed when the coarse monotonic clock (a few ns
  // to read, millisecond ticks) has moved, and at least every 32 points
  // tracked the slow way: reading the full clock for every point would cost
  // more than tracking it. Fast lanes open only on the real clock, whose
  // tick they read inline.
  int64_t now_us_ = 0;
  uint32_t clock_countdown_ = 1;
  // RealCoarseTickNs() on the real clock, else clock_->CoarseTickMs().
  int64_t tick_ = 0;
  bool real_clock_ = false;  // clock_ is storage::Clock::Default()
  int64_t last_flush_us_ = 0;
  // When this run last showed life on disk (bytes written, or OWNER
  // touched), and how often it must.
  int64_t last_life_us_ = 0;
  uint64_t bytes_at_last_life_ = 0;
  absl::Duration heartbeat_interval_;
  // System metrics: null when off; next_sample_us_ stays at INT64_MAX then,
  // so the check in AfterPoints() never passes.
  std::unique_ptr<system_metrics::Sampler> sampler_;
  int64_t next_sample_us_ = INT64_MAX;
  int64_t sample_interval_us_ = 0;
};

}  // namespace runlog

#endif  // RUNLOG_TRACKING_RUN_H_
