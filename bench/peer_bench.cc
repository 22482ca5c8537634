// Side-by-side benchmark of runlog against the engines users would pick
// instead (issue 5): RocksDB as Aim uses it, SQLite as MLflow uses it, and
// TensorBoard event files (bench/peers/*.h describe each layout). One
// process, one machine, each engine doing the same work its own client's
// way. A plain main (not Google Benchmark): every workload runs once per
// engine, big enough to time directly, and the output is a markdown table
// with runlog's ratio to each peer, printed to stdout and written to
// $RUNLOG_BENCH_TABLE when set.
//
// Workloads (scales are flags; the defaults are scaled down from the issue's
// so the slow peers finish in minutes on a small machine, and the table says
// which scale ran):
//   W1  one run, --w1_series series (10) x --w1_steps steps (issue: 1M),
//       tracked point by point, series interleaved as a training loop does.
//   W2  --w2_runs runs (1000) x 20 params x 5 series x --w2_steps steps
//       (issue: 1000).
//   W3  reads after compaction: every point of W1's "loss"; a 1,000-point
//       view of it (runlog's ReadScalarsDownsampled; the peers read all and
//       keep evenly spaced points, as their UIs do); listing every W2 run
//       with its params and last "loss" (best of 3; the table also gives
//       the first listing, which for runlog builds its run catalog).
//   W4  every series of the real training logs (bench/real_curves.h), one
//       run per file, its points tracked in step order across its series,
//       with their own steps, values, epochs and wall times.
// Write time covers starting the runs, tracking every point and ending the
// runs (each engine's own end: commit, final transaction, file close), not
// compaction, which is timed on its own. Bytes are every file under the
// engine's directory after its own compaction (runlog CompactRun of every
// run, RocksDB CompactRange of every database, SQLite checkpoint + VACUUM,
// nothing for TensorBoard). Reads repeat until 0.3 s have passed and report
// the mean; listing reports the best of 3.
//
// runlog tracks through ScalarSeries::Track with a storage::ManualClock set
// to each point's time (so all engines store the same times) and
// max_buffer_age infinite, sync policy default (fsync at commit). The
// engine runlog-nosync writes the same with sync policy never (the peers as
// configured here never fsync, except SQLite's WAL at each transaction).
//
// Usage: peer_comparison [--w1_steps=N] [--w1_series=N] [--w2_runs=N]
//            [--w2_steps=N] [--skip_w4]
//            [--engines=runlog,runlog-nosync,aim,mlflow,tb]
// Temp data lives under $TMPDIR (or /tmp) and is removed at exit.
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_files.h"
#include "bench/peers/aim_rocksdb.h"
#include "bench/peers/engine.h"
#include "bench/peers/mlflow_sqlite.h"
#include "bench/peers/tensorboard_events.h"
#include "bench/real_curves.h"
#include "rocksdb/version.h"
#include "storage/clock.h"
#include "storage/file_system.h"
#include "storage/status_macros.h"
#include "storage/sync_policy.h"
#include "tracking/repo.h"
#include "tracking/run.h"

namespace runlog::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kStartTimeUs = 1'700'000'000'000'000;
constexpr size_t kViewPoints = 1000;
constexpr int kParams = 20;
constexpr const char* kW2Series[] = {"loss", "accuracy", "lr", "grad_norm",
                                     "val_loss"};

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "peer_comparison: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

template <typename T>
T Check(absl::StatusOr<T> s) {
  Check(s.status());
  return *std::move(s);
}

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

// ---- runlog behind the common interface ----

class RunlogEngine final : public Engine {
 public:
  static absl::StatusOr<std::unique_ptr<RunlogEngine>> Open(
      std::string dir, storage::SyncPolicy sync_policy) {
    std::unique_ptr<RunlogEngine> e(new RunlogEngine(std::move(dir)));
    e->sync_policy_ = sync_policy;
    RUNLOG_ASSIGN_OR_RETURN(e->repo_, Repo::Open(e->dir(), e->RepoOpts()));
    return e;
  }
  std::string name() const override { return "runlog"; }

  absl::Status StartRun(const std::string& run_id,
                        const std::vector<Param>& params) override {
    RunOptions options;
    options.experiment = "bench";
    options.name = run_id;
    options.max_buffer_age = absl::InfiniteDuration();
    options.sync_policy = sync_policy_;
    Value::Map hparams;
    for (const auto& [key, value] : params) hparams[key] = Value(value);
    if (!hparams.empty()) {
      options.params = Value(Value::Map{{"hparams", Value(hparams)}});
    }
    RUNLOG_ASSIGN_OR_RETURN(run_, repo_->CreateRun(options));
    ids_[run_id] = run_->id();
    handles_.clear();
    names_.clear();
    return absl::OkStatus();
  }
  absl::StatusOr<int> Series(absl::string_view name) override {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return static_cast<int>(i);
    }
    RUNLOG_ASSIGN_OR_RETURN(ScalarSeries s, run_->Series(name));
    handles_.push_back(s);
    names_.emplace_back(name);
    return static_cast<int>(handles_.size() - 1);
  }
  absl::Status WritePoint(int series, int64_t step, double value, double epoch,
                          int64_t time_us) override {
    clock_.Set(absl::FromUnixMicros(time_us));
    ScalarSeries& s = handles_[static_cast<size_t>(series)];
    return std::isnan(epoch) ? s.Track(step, value)
                             : s.Track(step, value, epoch);
  }
  absl::Status EndRun() override {
    RUNLOG_RETURN_IF_ERROR(run_->Commit());
    run_.reset();
    return absl::OkStatus();
  }
  absl::Status Compact() override {
    views_.clear();
    for (const auto& [name, id] : ids_) {
      RUNLOG_RETURN_IF_ERROR(repo_->CompactRun(id).status());
    }
    return absl::OkStatus();
  }
  absl::Status ReadSeries(const std::string& run_id, absl::string_view name,
                          SeriesPoints* out) override {
    return Read(run_id, name, 0, out);
  }
  absl::Status ReadSeriesDownsampled(const std::string& run_id,
                                     absl::string_view name, size_t max_points,
                                     SeriesPoints* out) override {
    return Read(run_id, name, max_points, out);
  }
  absl::Status ListRuns(absl::string_view metric,
                        std::vector<RunListing>* out) override {
    out->clear();
    // A cold start: a new Repo, as a new process would open.
    RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<Repo> repo,
                            Repo::Open(dir(), RepoOpts()));
    RUNLOG_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, repo->ListRuns());
    for (const RunRecord& r : runs) {
      RunListing listing{r.summary.name};
      if (const Value* h = r.summary.params.Find("hparams");
          h != nullptr && h->is_map()) {
        for (const auto& [key, value] : h->as_map()) {
          listing.params.emplace_back(key, value.as_double());
        }
      }
      for (const SeriesSummary& s : r.summary.series) {
        if (s.key.name == metric && s.key.context.empty()) {
          listing.last = s.last;
          listing.has_last = true;
        }
      }
      out->push_back(std::move(listing));
    }
    return absl::OkStatus();
  }

 private:
  explicit RunlogEngine(std::string dir) : Engine(std::move(dir)) {}
  RepoOptions RepoOpts() {
    RepoOptions options;
    options.clock = &clock_;
    return options;
  }
  absl::Status Read(const std::string& run_id, absl::string_view name,
                    size_t max_points, SeriesPoints* out) {
    std::unique_ptr<RunView>& view = views_[run_id];
    if (view == nullptr) {
      RUNLOG_ASSIGN_OR_RETURN(view, repo_->OpenRun(ids_[run_id]));
    }
    const SeriesKey key{std::string(name), {}};
    RUNLOG_ASSIGN_OR_RETURN(
        ScalarColumns columns,
        max_points == 0 ? view->ReadScalars(key)
                        : view->ReadScalarsDownsampled(key, max_points));
    out->steps = std::move(columns.steps);
    out->values = std::move(columns.values);
    return absl::OkStatus();
  }

  storage::SyncPolicy sync_policy_ = storage::SyncPolicy::kOnCommit;
  storage::ManualClock clock_{absl::FromUnixMicros(kStartTimeUs)};
  std::unique_ptr<Repo> repo_;
  std::unique_ptr<Run> run_;
  std::vector<ScalarSeries> handles_;
  std::vector<std::string> names_;
  std::map<std::string, std::string> ids_;  // bench run id -> runlog id
  std::map<std::string, std::unique_ptr<RunView>> views_;
};

// kRunlogNoSync is runlog without the fsyncs of each commit (sync policy
// never), as the Aim and TensorBoard models write; it only writes.
enum class Kind { kRunlog, kRunlogNoSync, kAim, kMlflow, kTensorBoard };
constexpr Kind kAllKinds[] = {Kind::kRunlog, Kind::kRunlogNoSync, Kind::kAim,
                              Kind::kMlflow, Kind::kTensorBoard};

const char* KindFlag(Kind k) {
  switch (k) {
    case Kind::kRunlog:
      return "runlog";
    case Kind::kRunlogNoSync:
      return "runlog-nosync";
    case Kind::kAim:
      return "aim";
    case Kind::kMlflow:
      return "mlflow";
    case Kind::kTensorBoard:
      return "tb";
  }
  return "?";
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kRunlog:
      return "runlog";
    case Kind::kRunlogNoSync:
      return "runlog, sync never";
    case Kind::kAim:
      return "RocksDB as Aim";
    case Kind::kMlflow:
      return "SQLite as MLflow";
    case Kind::kTensorBoard:
      return "TensorBoard events";
  }
  return "?";
}

// A fresh engine in a fresh directory.
std::unique_ptr<Engine> NewEngine(Kind kind, const std::string& workload,
                                  std::string* dir) {
  *dir = storage::JoinPath(TempRoot(),
                           absl::StrCat(workload, "-", KindFlag(kind)));
  Check(storage::FileSystem::Default()->CreateDir(*dir));
  switch (kind) {
    case Kind::kRunlog:
      return Check(RunlogEngine::Open(storage::JoinPath(*dir, "repo"),
                                      storage::SyncPolicy::kOnCommit));
    case Kind::kRunlogNoSync:
      return Check(RunlogEngine::Open(storage::JoinPath(*dir, "repo"),
                                      storage::SyncPolicy::kNever));
    case Kind::kAim:
      return Check(AimRocksDb::Open(*dir));
    case Kind::kMlflow:
      return Check(MlflowSqlite::Open(*dir));
    case Kind::kTensorBoard:
      return Check(TensorBoardEvents::Open(*dir));
  }
  return nullptr;
}

// ---- data ----

// A noisy decaying loss (fixed seed per series), computed in float and
// stored as double, as a training loop produces it.
std::vector<double> LossCurve(size_t n, uint32_t seed, double scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<double> v(n);
  const float tau = static_cast<float>(n) / 5.0f;
  for (size_t i = 0; i < n; ++i) {
    const float decay = 2.5f * std::exp(-static_cast<float>(i) / tau);
    v[i] = static_cast<double>(static_cast<float>(scale) *
                               (0.05f + decay * (1.0f + 0.05f * noise(rng))));
  }
  return v;
}

// ---- results ----

struct WriteResult {
  bool ran = false;
  uint64_t points = 0;
  double write_s = 0;
  double compact_s = 0;
  uint64_t bytes = 0;
  double points_per_s() const { return points / write_s; }
  double bytes_per_point() const {
    return static_cast<double>(bytes) / static_cast<double>(points);
  }
};

struct ReadResult {
  bool ran = false;
  double full_points_per_s = 0;
  double view_ms = 0;
  double list_ms = 0;        // best of 3
  double list_first_ms = 0;  // the first listing after the writes
  std::string list_note;
};

struct Options {
  int64_t w1_steps = 100'000;
  int w1_series = 10;
  int w2_runs = 1000;
  int64_t w2_steps = 100;
  bool w4 = true;
  std::vector<Kind> engines{std::begin(kAllKinds), std::end(kAllKinds)};
};

// Repeats `fn` until 0.3 s have passed (at least twice); mean seconds.
double TimeRepeated(const std::function<void()>& fn) {
  int n = 0;
  const auto start = SteadyClock::now();
  do {
    fn();
    ++n;
  } while (n < 2 || Seconds(start) < 0.3);
  return Seconds(start) / n;
}

void CompactAndMeasure(Engine& engine, WriteResult* r) {
  const auto start = SteadyClock::now();
  Check(engine.Compact());
  r->compact_s = Seconds(start);
  r->bytes = Check(engine.BytesOnDisk());
}

// W1 and W3's series reads.
void RunW1(Kind kind, const Options& o, WriteResult* w, ReadResult* rd) {
  std::string dir;
  std::unique_ptr<Engine> engine = NewEngine(kind, "w1", &dir);
  std::vector<std::vector<double>> curves;
  std::vector<std::string> names;
  for (int s = 0; s < o.w1_series; ++s) {
    curves.push_back(
        LossCurve(static_cast<size_t>(o.w1_steps), 42 + s, 1.0 + 0.1 * s));
    names.push_back(s == 0 ? "loss" : absl::StrCat("metric_", s));
  }
  const double nan = std::nan("");
  const auto start = SteadyClock::now();
  Check(engine->StartRun("w1", {}));
  std::vector<int> handles;
  for (const std::string& name : names) {
    handles.push_back(Check(engine->Series(name)));
  }
  for (int64_t step = 0; step < o.w1_steps; ++step) {
    const int64_t time_us = kStartTimeUs + step * 1000;
    for (int s = 0; s < o.w1_series; ++s) {
      Check(engine->WritePoint(handles[s], step,
                               curves[s][static_cast<size_t>(step)], nan,
                               time_us));
    }
  }
  Check(engine->EndRun());
  w->write_s = Seconds(start);
  w->points = static_cast<uint64_t>(o.w1_steps) * o.w1_series;
  CompactAndMeasure(*engine, w);
  w->ran = true;

  // W3: full read and a 1,000-point view of "loss".
  SeriesPoints points;
  const double full_s =
      TimeRepeated([&] { Check(engine->ReadSeries("w1", "loss", &points)); });
  const std::vector<double>& loss = curves[0];
  bool ok = points.steps.size() == loss.size();
  for (size_t i = 0; ok && i < loss.size(); i += 997) {
    ok = points.steps[i] == static_cast<int64_t>(i) &&
         static_cast<float>(points.values[i]) == static_cast<float>(loss[i]);
  }
  if (!ok) {
    std::fprintf(stderr, "peer_comparison: %s read back wrong W1 points\n",
                 KindName(kind));
    std::exit(1);
  }
  rd->full_points_per_s = static_cast<double>(points.steps.size()) / full_s;
  rd->view_ms = 1000 * TimeRepeated([&] {
                  Check(engine->ReadSeriesDownsampled("w1", "loss", kViewPoints,
                                                      &points));
                });
  if (points.steps.empty() || points.steps.size() > kViewPoints) {
    std::fprintf(stderr, "peer_comparison: %s view has %zu points\n",
                 KindName(kind), points.steps.size());
    std::exit(1);
  }
  rd->ran = true;
  engine.reset();
  Check(RemoveTree(dir));
}

// W2 and W3's listing.
void RunW2(Kind kind, const Options& o, WriteResult* w, ReadResult* rd) {
  std::string dir;
  std::unique_ptr<Engine> engine = NewEngine(kind, "w2", &dir);
  const size_t n = static_cast<size_t>(o.w2_steps);
  std::vector<std::vector<double>> curves;
  for (size_t s = 0; s < std::size(kW2Series); ++s) {
    curves.push_back(LossCurve(n, 7 + s, 1.0));
  }
  std::vector<double> last_loss(o.w2_runs);
  const double nan = std::nan("");
  const auto start = SteadyClock::now();
  for (int r = 0; r < o.w2_runs; ++r) {
    std::vector<Param> params;
    for (int p = 0; p < kParams; ++p) {
      params.emplace_back(absl::StrFormat("p%02d", p), r * 0.001 + p);
    }
    Check(engine->StartRun(absl::StrFormat("w2r%05d", r), params));
    std::vector<int> handles;
    for (const char* name : kW2Series) {
      handles.push_back(Check(engine->Series(name)));
    }
    // Runs differ by an offset so their last losses are distinct.
    const double offset = r * 1e-4;
    for (size_t step = 0; step < n; ++step) {
      const int64_t time_us = kStartTimeUs + r * 3'600'000'000LL +
                              static_cast<int64_t>(step) * 100'000;
      for (size_t s = 0; s < handles.size(); ++s) {
        Check(engine->WritePoint(handles[s], static_cast<int64_t>(step),
                                 curves[s][step] + offset, nan, time_us));
      }
    }
    last_loss[r] = curves[0][n - 1] + offset;
    Check(engine->EndRun());
  }
  w->write_s = Seconds(start);
  w->points = static_cast<uint64_t>(o.w2_runs) * std::size(kW2Series) * n;
  CompactAndMeasure(*engine, w);
  w->ran = true;

  std::vector<RunListing> listing;
  double best = 1e30;
  for (int i = 0; i < 3; ++i) {
    const auto t = SteadyClock::now();
    Check(engine->ListRuns("loss", &listing));
    best = std::min(best, Seconds(t));
    if (i == 0) rd->list_first_ms = 1000 * Seconds(t);
  }
  rd->list_ms = 1000 * best;
  // Check the listing: every run, its params (where the engine keeps
  // them) and its last loss.
  bool ok = listing.size() == static_cast<size_t>(o.w2_runs);
  bool params_ok = true;
  for (const RunListing& l : listing) {
    int r = -1;
    ok = ok && absl::SimpleAtoi(l.run_id.substr(3), &r) && r >= 0 &&
         r < o.w2_runs && l.has_last &&
         static_cast<float>(l.last) == static_cast<float>(last_loss[r]);
    params_ok = params_ok && l.params.size() == kParams;
  }
  if (!ok) {
    std::fprintf(stderr, "peer_comparison: %s listed W2 wrongly\n",
                 KindName(kind));
    std::exit(1);
  }
  if (!params_ok) rd->list_note = "no params";
  engine.reset();
  Check(RemoveTree(dir));
}

// A file of the real curves as the order its points are tracked in.
struct CurveRun {
  const CurveFile* file;
  std::vector<std::pair<uint32_t, uint32_t>> order;  // (series, point)
};

std::vector<CurveRun> OrderCurves(const std::vector<CurveFile>& files) {
  std::vector<CurveRun> runs;
  for (const CurveFile& f : files) {
    CurveRun run{&f, {}};
    using Head = std::pair<int64_t, uint32_t>;  // (step, series)
    std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
    std::vector<uint32_t> next(f.series.size(), 0);
    for (uint32_t k = 0; k < f.series.size(); ++k) {
      if (!f.series[k].steps.empty()) heads.push({f.series[k].steps[0], k});
    }
    while (!heads.empty()) {
      const uint32_t k = heads.top().second;
      heads.pop();
      run.order.emplace_back(k, next[k]++);
      if (next[k] < f.series[k].steps.size()) {
        heads.push({f.series[k].steps[next[k]], k});
      }
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

void RunW4(Kind kind, const std::vector<CurveRun>& runs, WriteResult* w) {
  std::string dir;
  std::unique_ptr<Engine> engine = NewEngine(kind, "w4", &dir);
  const auto start = SteadyClock::now();
  uint64_t points = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const CurveFile& f = *runs[i].file;
    Check(engine->StartRun(absl::StrFormat("w4r%05d", i), {}));
    std::vector<int> handles;
    for (const CurveSeries& s : f.series) {
      handles.push_back(Check(engine->Series(s.name)));
    }
    int64_t last_time = kStartTimeUs;
    for (const auto& [k, p] : runs[i].order) {
      const CurveSeries& s = f.series[k];
      // Points without a time keep the last one seen (a clock that did not
      // move), so every engine stores the same times.
      if (s.times_us[p] != 0) last_time = s.times_us[p];
      Check(engine->WritePoint(handles[k], s.steps[p], s.values[p], s.epochs[p],
                               last_time));
    }
    points += runs[i].order.size();
    Check(engine->EndRun());
  }
  w->write_s = Seconds(start);
  w->points = points;
  CompactAndMeasure(*engine, w);
  w->ran = true;
  engine.reset();
  Check(RemoveTree(dir));
}

// ---- the table ----

std::string Rate(double per_s) {
  if (per_s >= 1e6) return absl::StrFormat("%.2fM", per_s / 1e6);
  if (per_s >= 1e3) return absl::StrFormat("%.1fk", per_s / 1e3);
  return absl::StrFormat("%.0f", per_s);
}

std::string Ratio(double x) {
  if (x >= 100) return absl::StrFormat("%.0f×", x);
  if (x >= 10) return absl::StrFormat("%.1f×", x);
  return absl::StrFormat("%.2f×", x);
}

std::string MachineLine() {
  std::string cpu = "unknown CPU";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  return absl::StrFormat(
      "%s, %ld online cores (run pinned with taskset), %s; RocksDB %d.%d.%d, "
      "SQLite %s",
      cpu, sysconf(_SC_NPROCESSORS_ONLN),
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone()),
      ROCKSDB_MAJOR, ROCKSDB_MINOR, ROCKSDB_PATCH, sqlite3_libversion());
}

std::string Table(
    const Options& o,
    const std::map<std::string, std::map<Kind, WriteResult>>& writes,
    const std::map<Kind, ReadResult>& reads) {
  std::string t;
  absl::StrAppend(&t, "Machine: ", MachineLine(), "\n\n");
  absl::StrAppend(
      &t,
      absl::StrFormat(
          "Scale: W1 = 1 run × %d series × %d steps (issue: 10 × 1,000,000); "
          "W2 = %d runs × %d params × %zu series × %d steps (issue: 1,000 × "
          "20 × 5 × 1,000); W4 = every series of the real curves. \"runlog\" "
          "fsyncs at each commit (the default); ratios in parentheses are "
          "runlog with sync never.\n\n",
          o.w1_series, o.w1_steps, o.w2_runs, kParams, std::size(kW2Series),
          o.w2_steps));
  absl::StrAppend(&t,
                  "| Workload | Engine | Points | Write points/s | runlog "
                  "write speed × | Bytes/point after compaction | runlog "
                  "bytes / peer bytes | Compaction s |\n"
                  "|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& [workload, by_kind] : writes) {
    auto rl = by_kind.find(Kind::kRunlog);
    auto nosync = by_kind.find(Kind::kRunlogNoSync);
    for (const auto& [kind, r] : by_kind) {
      if (!r.ran) continue;
      std::string speed = "—", size = "—";
      const bool peer = kind != Kind::kRunlog && kind != Kind::kRunlogNoSync;
      if (peer && rl != by_kind.end() && rl->second.ran) {
        speed = Ratio(rl->second.points_per_s() / r.points_per_s());
        size = absl::StrFormat(
            "%.3f", rl->second.bytes_per_point() / r.bytes_per_point());
      }
      if (peer && nosync != by_kind.end() && nosync->second.ran) {
        absl::StrAppend(&speed, " (",
                        Ratio(nosync->second.points_per_s() / r.points_per_s()),
                        ")");
      }
      absl::StrAppend(
          &t, absl::StrFormat("| %s | %s | %d | %s | %s | %.2f | %s | %.2f |\n",
                              workload, KindName(kind), r.points,
                              Rate(r.points_per_s()), speed,
                              r.bytes_per_point(), size, r.compact_s));
    }
  }
  absl::StrAppend(&t,
                  "\n| W3 reads | Full read of one W1 series, points/s | "
                  "runlog × | 1,000-point view, ms | runlog × | List W2 runs "
                  "+ params + last loss, ms | runlog × |\n"
                  "|---|---:|---:|---:|---:|---:|---:|\n");
  auto rl = reads.find(Kind::kRunlog);
  const bool have_rl = rl != reads.end() && rl->second.ran;
  for (const auto& [kind, r] : reads) {
    if (!r.ran || kind == Kind::kRunlogNoSync) continue;
    std::string full = "—", view = "—", list = "—";
    if (kind != Kind::kRunlog && have_rl) {
      full = Ratio(rl->second.full_points_per_s / r.full_points_per_s);
      view = Ratio(r.view_ms / rl->second.view_ms);
      if (r.list_ms > 0 && rl->second.list_ms > 0) {
        list = Ratio(r.list_ms / rl->second.list_ms);
      }
    }
    const std::string list_ms =
        r.list_ms > 0
            ? absl::StrFormat("%.2f (first %.1f)%s", r.list_ms, r.list_first_ms,
                              r.list_note.empty()
                                  ? ""
                                  : absl::StrCat(" (", r.list_note, ")"))
            : "—";
    absl::StrAppend(
        &t, absl::StrFormat("| %s | %s | %s | %.2f | %s | %s | %s "
                            "|\n",
                            KindName(kind), Rate(r.full_points_per_s), full,
                            r.view_ms, view, list_ms, list));
  }
  return t;
}

Options ParseFlags(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    auto value = [&](absl::string_view flag, auto* out) {
      absl::string_view number = arg;
      if (!absl::ConsumePrefix(&number, flag)) return false;
      if (!absl::SimpleAtoi(number, out) || *out <= 0) {
        std::fprintf(stderr, "peer_comparison: bad value in %s\n", argv[i]);
        std::exit(2);
      }
      return true;
    };
    absl::string_view rest = arg;
    if (value("--w1_steps=", &o.w1_steps) ||
        value("--w1_series=", &o.w1_series) ||
        value("--w2_runs=", &o.w2_runs) || value("--w2_steps=", &o.w2_steps)) {
      continue;
    }
    if (arg == "--skip_w4") {
      o.w4 = false;
    } else if (absl::ConsumePrefix(&rest, "--engines=")) {
      o.engines.clear();
      for (absl::string_view name : absl::StrSplit(rest, ',')) {
        bool found = false;
        for (Kind k : kAllKinds) {
          if (name == KindFlag(k)) {
            o.engines.push_back(k);
            found = true;
          }
        }
        if (!found) {
          std::fprintf(stderr, "peer_comparison: unknown engine %s\n",
                       std::string(name).c_str());
          std::exit(2);
        }
      }
    } else {
      std::fprintf(stderr,
                   "usage: peer_comparison [--w1_steps=N] [--w1_series=N] "
                   "[--w2_runs=N] [--w2_steps=N] [--skip_w4] "
                   "[--engines=runlog,runlog-nosync,aim,mlflow,tb]\n");
      std::exit(2);
    }
  }
  return o;
}

int Main(int argc, char** argv) {
  const Options o = ParseFlags(argc, argv);
  std::vector<CurveFile> files;
  std::vector<CurveRun> curve_runs;
  if (o.w4) {
    files = Check(LoadRealCurves(RealCurvesDir()));
    curve_runs = OrderCurves(files);
  }
  std::map<std::string, std::map<Kind, WriteResult>> writes;
  std::map<Kind, ReadResult> reads;
  for (Kind kind : o.engines) {
    ReadResult& rd = reads[kind];
    std::fprintf(stderr, "== %s: W1...\n", KindName(kind));
    RunW1(kind, o, &writes["W1"][kind], &rd);
    std::fprintf(stderr, "== %s: W2...\n", KindName(kind));
    RunW2(kind, o, &writes["W2"][kind], &rd);
    if (o.w4) {
      std::fprintf(stderr, "== %s: W4...\n", KindName(kind));
      RunW4(kind, curve_runs, &writes["W4"][kind]);
    }
  }
  const std::string table = Table(o, writes, reads);
  std::fputs(table.c_str(), stdout);
  if (const char* path = std::getenv("RUNLOG_BENCH_TABLE");
      path != nullptr && *path) {
    std::ofstream out(path);
    out << table;
    if (!out) {
      std::fprintf(stderr, "peer_comparison: cannot write %s\n", path);
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace runlog::bench

int main(int argc, char** argv) { return runlog::bench::Main(argc, argv); }
