// The common shape of the engines bench/peer_bench.cc compares (issue 5):
// runlog and the stores users would pick instead, each doing the work the way
// its own client does it. One engine object owns one directory and writes one
// run at a time.
//
// Thread-safety: none; one thread per engine object.
// Failure: every call returns the engine's error as an absl::Status naming
// the path or run; the benchmark aborts on the first one.
#ifndef RUNLOG_BENCH_PEERS_ENGINE_H_
#define RUNLOG_BENCH_PEERS_ENGINE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runlog::bench {

// A param as the workloads set them: a name and a number.
using Param = std::pair<std::string, double>;

// One run as a listing shows it.
struct RunListing {
  std::string run_id;
  std::vector<Param> params;
  double last = 0;        // last value of the listed metric
  bool has_last = false;  // the run has that metric
};

struct SeriesPoints {
  std::vector<int64_t> steps;
  std::vector<double> values;
};

class Engine {
 public:
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  virtual ~Engine() = default;

  virtual std::string name() const = 0;

  // Starts run `run_id` ([0-9a-z]) with its params, as the client does when
  // a training script starts. FailedPrecondition if a run is open.
  virtual absl::Status StartRun(const std::string& run_id,
                                const std::vector<Param>& params) = 0;
  // Resolves the series `name` of the open run to a handle for WritePoint
  // (the cheapest path each client offers: Aim and MLflow take the name on
  // every call, so their handle is only an index into the names).
  virtual absl::StatusOr<int> Series(absl::string_view name) = 0;
  // Tracks one point. `epoch` is NaN when the point has none; `time_us` is
  // the wall time in µs since the Unix epoch.
  virtual absl::Status WritePoint(int series, int64_t step, double value,
                                  double epoch, int64_t time_us) = 0;
  // Ends the run as the client does at the end of training (everything
  // handed to the OS, nothing fsynced unless the client does).
  virtual absl::Status EndRun() = 0;

  // The engine's own space reclamation over everything written so far.
  virtual absl::Status Compact() = 0;
  // Bytes of every file under the engine's directory (the same walk for
  // every engine: bench_files' TreeBytes).
  absl::StatusOr<uint64_t> BytesOnDisk();

  // Every point of series `name` of run `run_id`, in step order.
  virtual absl::Status ReadSeries(const std::string& run_id,
                                  absl::string_view name,
                                  SeriesPoints* out) = 0;
  // At most `max_points` points for a chart. The default reads everything
  // and keeps evenly spaced points, as the peers' UIs do.
  virtual absl::Status ReadSeriesDownsampled(const std::string& run_id,
                                             absl::string_view name,
                                             size_t max_points,
                                             SeriesPoints* out);
  // Every run with its params and the last value of `metric`, from a cold
  // start (opening whatever the client opens).
  virtual absl::Status ListRuns(absl::string_view metric,
                                std::vector<RunListing>* out) = 0;

 protected:
  // `dir`: the directory every file of the engine is under.
  explicit Engine(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

 private:
  const std::string dir_;
};

// Keeps at most `max_points` evenly spaced points of `all` (first and last
// kept).
void StridedDownsample(const SeriesPoints& all, size_t max_points,
                       SeriesPoints* out);

}  // namespace runlog::bench

#endif  // RUNLOG_BENCH_PEERS_ENGINE_H_
