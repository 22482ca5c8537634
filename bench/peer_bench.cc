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
// Every timing is reported twice: wall time (steady clock) and the process's
// CPU time (CLOCK_PROCESS_CPUTIME_ID, every thread of the process, so
// RocksDB's background flushes and compactions count). Wall minus CPU is
// time spent waiting: for the device's flushes, or for the core when other
// processes share it.
//
// Each engine runs each workload in a fresh directory, removed afterwards.
// W1 runs engine after engine. W2 and W4 are many runs: every engine has
// its directory at once and they write interleaved, in --rounds (10)
// rounds of blocks of runs, the engines' order rotated each round, so all
// meet the same flush conditions (the flush latency of a virtual disk
// drifts by 10x within minutes; engine after engine, that drift decided
// the fsync-bound ratios). Before each engine's block, and before every
// engine is created, syncfs(2) writes back whatever was left dirty, so no
// engine pays for another's writeback.
//
// Device flushes: this binary defines fsync(2) and fdatasync(2) itself (see
// the bottom of this file), forwarding to the C library's and counting
// every call from any thread, from runlog, RocksDB and SQLite alike. The
// table reports the calls made while each engine writes, per run, and
// stderr the process's totals at exit (to check against strace -c).
// Flush latency of the filesystem the data is on: fdatasync of a 4 KiB
// append to a file in the data directory, --flush_probes (200) times right
// before each engine's W1, spread over the rounds of W2 and W4, and once
// after the last workload; median, p90 and max (the flush floor a commit
// pays). The table names that filesystem with its mount options
// (/proc/self/mounts).
//
// runlog tracks through ScalarSeries::Track with a storage::ManualClock set
// to each point's time (so all engines store the same times) and
// max_buffer_age infinite, sync policy default (fsync at commit). The
// engine runlog-nosync writes the same with sync policy never. The peers
// as configured here never sync a write themselves, except SQLite's WAL at
// each transaction; RocksDB still syncs its MANIFEST, CURRENT and new table
// files when a database is opened, flushed or closed (the flush counts show
// it).
//
// Usage: peer_comparison [--w1_steps=N] [--w1_series=N] [--w2_runs=N]
//            [--w2_steps=N] [--flush_probes=N] [--rounds=N] [--skip_w4]
//            [--engines=runlog,runlog-nosync,aim,mlflow,tb]
// Data lives under $TMPDIR (or /tmp) and is removed at exit;
// bench/peer_comparison.sh runs it on a journaled ext4 image of its own.
#include <dlfcn.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
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
#include "tracking/run_table.h"

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

// Calls of fsync(2) and fdatasync(2) made by this process so far, from any
// thread (counted by the definitions at the bottom of this file).
std::atomic<uint64_t> g_fsync_calls{0};
std::atomic<uint64_t> g_fdatasync_calls{0};

uint64_t FlushCalls() {
  return g_fsync_calls.load(std::memory_order_relaxed) +
         g_fdatasync_calls.load(std::memory_order_relaxed);
}

// CPU time of every thread of this process, in seconds.
double ProcessCpuSeconds() {
  timespec ts;
  if (::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) {
    std::perror("peer_comparison: clock_gettime");
    std::exit(1);
  }
  return static_cast<double>(ts.tv_sec) +
         1e-9 * static_cast<double>(ts.tv_nsec);
}

// What a piece of work cost: wall time, process CPU time, flush calls.
struct Cost {
  double wall_s = 0;
  double cpu_s = 0;
  uint64_t flushes = 0;
};

// Measures from its construction to each Elapsed().
class Meter {
 public:
  Meter()
      : wall_(SteadyClock::now()),
        cpu_s_(ProcessCpuSeconds()),
        flushes_(FlushCalls()) {}
  Cost Elapsed() const {
    return Cost{Seconds(wall_), ProcessCpuSeconds() - cpu_s_,
                FlushCalls() - flushes_};
  }

 private:
  SteadyClock::time_point wall_;
  double cpu_s_;
  uint64_t flushes_;
};

// Writes back everything dirty on the data directory's filesystem, so the
// next workload does not pay for the previous one's writeback.
void Settle() {
  const int fd = ::open(TempRoot().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::syncfs(fd) != 0) {
    std::perror(("peer_comparison: syncfs " + TempRoot()).c_str());
    std::exit(1);
  }
  ::close(fd);
}

// The flush latency of the filesystem under `dir`: `n` times, append 4 KiB
// to a file there and time the fdatasync that follows (Settle() first).
struct FlushLatency {
  int n = 0;
  double median_ms = 0;
  double p90_ms = 0;
  double max_ms = 0;
};

// `n` flush latencies in ms, in the order measured.
std::vector<double> FlushSamples(const std::string& dir, int n) {
  Settle();
  const std::string path = storage::JoinPath(dir, "flush-probe");
  const int fd = ::open(
      path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(("peer_comparison: open " + path).c_str());
    std::exit(1);
  }
  const std::string block(4096, 'f');
  std::vector<double> ms;
  // The first append also makes the new file durable: not counted.
  for (int i = -1; i < n; ++i) {
    if (::write(fd, block.data(), block.size()) !=
        static_cast<ssize_t>(block.size())) {
      std::perror(("peer_comparison: write " + path).c_str());
      std::exit(1);
    }
    const auto start = SteadyClock::now();
    if (::fdatasync(fd) != 0) {
      std::perror(("peer_comparison: fdatasync " + path).c_str());
      std::exit(1);
    }
    if (i >= 0) ms.push_back(1000 * Seconds(start));
  }
  ::close(fd);
  ::unlink(path.c_str());
  return ms;
}

FlushLatency Summarize(std::vector<double> ms) {
  FlushLatency r;
  if (ms.empty()) return r;
  std::sort(ms.begin(), ms.end());
  r.n = static_cast<int>(ms.size());
  r.median_ms = ms[ms.size() / 2];
  r.p90_ms = ms[std::min(ms.size() - 1, ms.size() * 9 / 10)];
  r.max_ms = ms.back();
  return r;
}

FlushLatency MeasureFlushLatency(const std::string& dir, int n) {
  return Summarize(FlushSamples(dir, n));
}

std::string FlushLatencyText(const FlushLatency& f) {
  return absl::StrFormat("median %.3f ms, p90 %.3f ms, max %.3f ms",
                         f.median_ms, f.p90_ms, f.max_ms);
}

// The filesystem `path` is on, from /proc/self/mounts: device, type and
// mount options of the longest mount point containing it.
std::string FilesystemOf(const std::string& path) {
  char resolved[PATH_MAX];
  const std::string real =
      ::realpath(path.c_str(), resolved) != nullptr ? resolved : path;
  std::ifstream in("/proc/self/mounts");
  std::string best_mount, best;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.size() < 4) continue;
    const std::string& mount = f[1];
    const bool contains = real.rfind(mount, 0) == 0 &&
                          (mount == "/" || real.size() == mount.size() ||
                           real[mount.size()] == '/');
    if (contains && mount.size() >= best_mount.size()) {
      best_mount = mount;
      best = absl::StrFormat("%s on %s, %s (%s)", f[0], mount, f[2], f[3]);
    }
  }
  return best.empty() ? "unknown filesystem" : best;
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
    // A RunTable: summaries are read in place, params included.
    RUNLOG_ASSIGN_OR_RETURN(RunTable runs, repo->ListRunTable());
    for (const RunTable::Row& r : runs) {
      RunListing listing{std::string(r.summary.name)};
      RUNLOG_ASSIGN_OR_RETURN(std::optional<EncodedNode> h,
                              RunTable::Param(r, "hparams"));
      if (h.has_value() && h->kind == Value::Kind::kMap) {
        RUNLOG_RETURN_IF_ERROR(ForEachEncodedEntry(
            h->bytes, [&](absl::string_view key, const EncodedNode& value) {
              listing.params.emplace_back(std::string(key),
                                          value.kind == Value::Kind::kInt
                                              ? static_cast<double>(value.i)
                                              : value.d);
            }));
      }
      if (const RunSummaryView::Series* s = RunTable::FindSeries(r, metric)) {
        listing.last = s->last;
        listing.has_last = true;
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

// A fresh engine in a fresh directory, on a filesystem with nothing dirty.
std::unique_ptr<Engine> NewEngine(Kind kind, const std::string& workload,
                                  std::string* dir) {
  Settle();
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
  uint64_t runs = 0;
  Cost write;    // starting, tracking and ending every run
  Cost compact;  // the engine's own compaction
  uint64_t bytes = 0;
  // W1: measured right before this engine's run; W2, W4: sampled before
  // each round of the interleaved writes, the same for every engine.
  FlushLatency flush;
  double points_per_s() const { return points / write.wall_s; }
  double cpu_s_per_point() const { return write.cpu_s / points; }
  double flushes_per_run() const {
    return static_cast<double>(write.flushes) / static_cast<double>(runs);
  }
  double bytes_per_point() const {
    return static_cast<double>(bytes) / static_cast<double>(points);
  }
};

struct ReadResult {
  bool ran = false;
  uint64_t full_points = 0;
  Cost full;        // one full read of W1's "loss" (mean)
  Cost view;        // one 1,000-point view of it (mean)
  Cost list;        // listing W2, the best of 3 by wall time
  Cost list_first;  // the first listing after the writes
  std::string list_note;
};

struct Options {
  int64_t w1_steps = 100'000;
  int w1_series = 10;
  int w2_runs = 1000;
  int64_t w2_steps = 100;
  int flush_probes = 200;
  int rounds = 10;
  bool w4 = true;
  std::vector<Kind> engines{std::begin(kAllKinds), std::end(kAllKinds)};
};

// Repeats `fn` until 0.3 s of wall time have passed (at least twice); the
// mean cost of one call.
Cost TimeRepeated(const std::function<void()>& fn) {
  int n = 0;
  const Meter meter;
  Cost c;
  do {
    fn();
    ++n;
    c = meter.Elapsed();
  } while (n < 2 || c.wall_s < 0.3);
  c.wall_s /= n;
  c.cpu_s /= n;
  c.flushes /= n;
  return c;
}

void CompactAndMeasure(Engine& engine, WriteResult* r) {
  const Meter meter;
  Check(engine.Compact());
  r->compact = meter.Elapsed();
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
  const Meter meter;
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
  w->write = meter.Elapsed();
  w->points = static_cast<uint64_t>(o.w1_steps) * o.w1_series;
  w->runs = 1;
  CompactAndMeasure(*engine, w);
  w->ran = true;

  // W3: full read and a 1,000-point view of "loss".
  SeriesPoints points;
  rd->full =
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
  rd->full_points = points.steps.size();
  rd->view = TimeRepeated([&] {
    Check(engine->ReadSeriesDownsampled("w1", "loss", kViewPoints, &points));
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

// One engine writing one workload of many runs, in its own fresh directory.
struct Writer {
  Kind kind;
  std::string dir;
  std::unique_ptr<Engine> engine;
  WriteResult* result;
};

std::vector<Writer> NewWriters(const std::vector<Kind>& kinds,
                               const std::string& workload,
                               std::map<Kind, WriteResult>* results) {
  std::vector<Writer> writers;
  for (Kind kind : kinds) {
    Writer w{kind, "", nullptr, &(*results)[kind]};
    w.engine = NewEngine(kind, workload, &w.dir);
    writers.push_back(std::move(w));
  }
  return writers;
}

// Writes runs 0 .. runs-1 into every writer's engine with `write_run`,
// interleaved so that every engine meets the same flush conditions (the
// device's flush latency drifts over minutes): in --rounds rounds, each
// engine in turn (the order rotated by one each round) writes its next
// block of runs, timed alone after a Settle(). Before each round the flush
// latency is sampled (--flush_probes spread over the rounds, at least 20
// each); every engine's row reports the summary of all the samples.
void WriteInterleaved(std::vector<Writer>& writers, size_t runs,
                      const Options& o,
                      const std::function<void(Engine&, size_t)>& write_run) {
  const size_t rounds = std::clamp<size_t>(static_cast<size_t>(o.rounds), 1,
                                           std::max<size_t>(runs, 1));
  const int probes = std::max(20, o.flush_probes / static_cast<int>(rounds));
  std::vector<double> samples;
  for (size_t round = 0; round < rounds; ++round) {
    const std::vector<double> s = FlushSamples(TempRoot(), probes);
    samples.insert(samples.end(), s.begin(), s.end());
    const size_t begin = runs * round / rounds;
    const size_t end = runs * (round + 1) / rounds;
    for (size_t i = 0; i < writers.size(); ++i) {
      Writer& w = writers[(i + round) % writers.size()];
      Settle();
      const Meter meter;
      for (size_t r = begin; r < end; ++r) write_run(*w.engine, r);
      const Cost c = meter.Elapsed();
      w.result->write.wall_s += c.wall_s;
      w.result->write.cpu_s += c.cpu_s;
      w.result->write.flushes += c.flushes;
    }
  }
  const FlushLatency flush = Summarize(std::move(samples));
  for (Writer& w : writers) {
    w.result->flush = flush;
    w.result->runs = runs;
  }
}

// W2 and W3's listing, every engine of `kinds` interleaved.
void RunW2(const std::vector<Kind>& kinds, const Options& o,
           std::map<Kind, WriteResult>* results,
           std::map<Kind, ReadResult>* reads) {
  std::vector<Writer> writers = NewWriters(kinds, "w2", results);
  const size_t n = static_cast<size_t>(o.w2_steps);
  std::vector<std::vector<double>> curves;
  for (size_t s = 0; s < std::size(kW2Series); ++s) {
    curves.push_back(LossCurve(n, 7 + s, 1.0));
  }
  std::vector<double> last_loss(o.w2_runs);
  const double nan = std::nan("");
  WriteInterleaved(
      writers, static_cast<size_t>(o.w2_runs), o,
      [&](Engine& engine, size_t r) {
        std::vector<Param> params;
        for (int p = 0; p < kParams; ++p) {
          params.emplace_back(absl::StrFormat("p%02d", p), r * 0.001 + p);
        }
        Check(engine.StartRun(absl::StrFormat("w2r%05d", r), params));
        std::vector<int> handles;
        for (const char* name : kW2Series) {
          handles.push_back(Check(engine.Series(name)));
        }
        // Runs differ by an offset so their last losses are distinct.
        const double offset = r * 1e-4;
        for (size_t step = 0; step < n; ++step) {
          const int64_t time_us = kStartTimeUs +
                                  static_cast<int64_t>(r) * 3'600'000'000LL +
                                  static_cast<int64_t>(step) * 100'000;
          for (size_t s = 0; s < handles.size(); ++s) {
            Check(engine.WritePoint(handles[s], static_cast<int64_t>(step),
                                    curves[s][step] + offset, nan, time_us));
          }
        }
        last_loss[r] = curves[0][n - 1] + offset;
        Check(engine.EndRun());
      });
  for (Writer& wr : writers) {
    std::fprintf(stderr, "== %s: W2 compaction and listing...\n",
                 KindName(wr.kind));
    WriteResult* w = wr.result;
    w->points = static_cast<uint64_t>(o.w2_runs) * std::size(kW2Series) * n;
    CompactAndMeasure(*wr.engine, w);
    w->ran = true;

    ReadResult* rd = &(*reads)[wr.kind];
    std::vector<RunListing> listing;
    for (int i = 0; i < 3; ++i) {
      const Meter meter;
      Check(wr.engine->ListRuns("loss", &listing));
      const Cost c = meter.Elapsed();
      if (i == 0) rd->list_first = c;
      if (i == 0 || c.wall_s < rd->list.wall_s) rd->list = c;
    }
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
                   KindName(wr.kind));
      std::exit(1);
    }
    if (!params_ok) rd->list_note = "no params";
    wr.engine.reset();
    Check(RemoveTree(wr.dir));
  }
}

// W4, every engine of `kinds` interleaved.
void RunW4(const std::vector<Kind>& kinds, const std::vector<CurveRun>& runs,
           const Options& o, std::map<Kind, WriteResult>* results) {
  std::vector<Writer> writers = NewWriters(kinds, "w4", results);
  WriteInterleaved(writers, runs.size(), o, [&](Engine& engine, size_t i) {
    const CurveFile& f = *runs[i].file;
    Check(engine.StartRun(absl::StrFormat("w4r%05d", i), {}));
    std::vector<int> handles;
    for (const CurveSeries& s : f.series) {
      handles.push_back(Check(engine.Series(s.name)));
    }
    int64_t last_time = kStartTimeUs;
    for (const auto& [k, p] : runs[i].order) {
      const CurveSeries& s = f.series[k];
      // Points without a time keep the last one seen (a clock that did not
      // move), so every engine stores the same times.
      if (s.times_us[p] != 0) last_time = s.times_us[p];
      Check(engine.WritePoint(handles[k], s.steps[p], s.values[p], s.epochs[p],
                              last_time));
    }
    Check(engine.EndRun());
  });
  uint64_t points = 0;
  for (const CurveRun& run : runs) points += run.order.size();
  for (Writer& wr : writers) {
    std::fprintf(stderr, "== %s: W4 compaction...\n", KindName(wr.kind));
    wr.result->points = points;
    CompactAndMeasure(*wr.engine, wr.result);
    wr.result->ran = true;
    wr.engine.reset();
    Check(RemoveTree(wr.dir));
  }
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
      "%s, %ld online cores, %s; RocksDB %d.%d.%d, SQLite %s", cpu,
      sysconf(_SC_NPROCESSORS_ONLN),
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone()),
      ROCKSDB_MAJOR, ROCKSDB_MINOR, ROCKSDB_PATCH, sqlite3_libversion());
}

std::string Table(
    const Options& o, const FlushLatency& flush_after,
    const std::map<std::string, std::map<Kind, WriteResult>>& writes,
    const std::map<Kind, ReadResult>& reads) {
  uint64_t w4_runs = 0;
  if (auto w4 = writes.find("W4"); w4 != writes.end() && !w4->second.empty()) {
    w4_runs = w4->second.begin()->second.runs;
  }
  std::string t;
  absl::StrAppend(&t, "Machine: ", MachineLine(), "\n\n");
  absl::StrAppend(&t, "Data directory: ", TempRoot(), " on ",
                  FilesystemOf(TempRoot()), "\n\n");
  absl::StrAppend(
      &t, absl::StrFormat(
              "Flush latency there: fdatasync of a 4 KiB append (column "
              "\"Flush ms\": median / p90), %d times right before each "
              "engine's W1; for W2 and W4, whose runs every engine writes "
              "interleaved in %d rounds, sampled before each round and the "
              "same for every engine; after the last workload: %s\n\n",
              flush_after.n, o.rounds, FlushLatencyText(flush_after)));
  absl::StrAppend(
      &t,
      absl::StrFormat(
          "Scale: W1 = 1 run × %d series × %d steps (issue: 10 × 1,000,000); "
          "W2 = %d runs × %d params × %zu series × %d steps (issue: 1,000 × "
          "20 × 5 × 1,000); W4 = every series of the real curves (%d runs). "
          "\"runlog\" "
          "fsyncs at each commit (the default); ratios in parentheses are "
          "runlog with sync never. CPU is the process's CPU time (all "
          "threads); flushes are fsync + fdatasync calls while writing.\n\n",
          o.w1_series, o.w1_steps, o.w2_runs, kParams, std::size(kW2Series),
          o.w2_steps, w4_runs));
  absl::StrAppend(
      &t,
      "| Workload | Engine | Points | Write s wall | Write s CPU | Write "
      "points/s (wall) | runlog × wall | runlog × CPU | Flushes per run | "
      "Flush ms | "
      "Bytes/point after compaction | runlog bytes / peer bytes | Compaction "
      "s wall / CPU |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& [workload, by_kind] : writes) {
    auto rl = by_kind.find(Kind::kRunlog);
    auto nosync = by_kind.find(Kind::kRunlogNoSync);
    for (const auto& [kind, r] : by_kind) {
      if (!r.ran) continue;
      std::string speed = "—", cpu = "—", size = "—";
      const bool peer = kind != Kind::kRunlog && kind != Kind::kRunlogNoSync;
      if (peer && rl != by_kind.end() && rl->second.ran) {
        speed = Ratio(rl->second.points_per_s() / r.points_per_s());
        cpu = Ratio(r.cpu_s_per_point() / rl->second.cpu_s_per_point());
        size = absl::StrFormat(
            "%.3f", rl->second.bytes_per_point() / r.bytes_per_point());
      }
      if (peer && nosync != by_kind.end() && nosync->second.ran) {
        absl::StrAppend(&speed, " (",
                        Ratio(nosync->second.points_per_s() / r.points_per_s()),
                        ")");
        absl::StrAppend(
            &cpu, " (",
            Ratio(r.cpu_s_per_point() / nosync->second.cpu_s_per_point()), ")");
      }
      absl::StrAppend(
          &t,
          absl::StrFormat(
              "| %s | %s | %d | %.3f | %.3f | %s | %s | %s | %.1f | "
              "%.2f / %.2f | %.2f | %s | %.2f / %.2f |\n",
              workload, KindName(kind), r.points, r.write.wall_s, r.write.cpu_s,
              Rate(r.points_per_s()), speed, cpu, r.flushes_per_run(),
              r.flush.median_ms, r.flush.p90_ms, r.bytes_per_point(), size,
              r.compact.wall_s, r.compact.cpu_s));
    }
  }
  absl::StrAppend(
      &t,
      "\n| W3 reads | Full read of one W1 series, points/s wall (CPU) | "
      "runlog × wall | 1,000-point view, ms wall (CPU) | runlog × wall | List "
      "W2 runs + params + last loss, ms wall (CPU), best of 3 | first "
      "listing, ms wall (CPU) | runlog × wall, best |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|\n");
  auto rl = reads.find(Kind::kRunlog);
  const bool have_rl = rl != reads.end() && rl->second.ran;
  for (const auto& [kind, r] : reads) {
    if (!r.ran || kind == Kind::kRunlogNoSync) continue;
    std::string full = "—", view = "—", list = "—";
    if (kind != Kind::kRunlog && have_rl) {
      full = Ratio(r.full.wall_s / rl->second.full.wall_s);
      view = Ratio(r.view.wall_s / rl->second.view.wall_s);
      if (r.list.wall_s > 0 && rl->second.list.wall_s > 0) {
        list = Ratio(r.list.wall_s / rl->second.list.wall_s);
      }
    }
    const double n = static_cast<double>(r.full_points);
    const std::string list_ms =
        r.list.wall_s > 0
            ? absl::StrFormat(
                  "%.2f (%.2f)%s", 1000 * r.list.wall_s, 1000 * r.list.cpu_s,
                  r.list_note.empty() ? ""
                                      : absl::StrCat(" (", r.list_note, ")"))
            : "—";
    const std::string first_ms =
        r.list_first.wall_s > 0
            ? absl::StrFormat("%.1f (%.1f)", 1000 * r.list_first.wall_s,
                              1000 * r.list_first.cpu_s)
            : "—";
    absl::StrAppend(
        &t,
        absl::StrFormat("| %s | %s (%s) | %s | %.2f (%.2f) | %s | %s | %s "
                        "| %s |\n",
                        KindName(kind), Rate(n / r.full.wall_s),
                        Rate(n / r.full.cpu_s), full, 1000 * r.view.wall_s,
                        1000 * r.view.cpu_s, view, list_ms, first_ms, list));
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
        value("--w2_runs=", &o.w2_runs) || value("--w2_steps=", &o.w2_steps) ||
        value("--flush_probes=", &o.flush_probes) ||
        value("--rounds=", &o.rounds)) {
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
                   "[--w2_runs=N] [--w2_steps=N] [--flush_probes=N] "
                   "[--rounds=N] [--skip_w4] "
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
  auto probe = [&](Kind kind, const char* workload) {
    const FlushLatency f = MeasureFlushLatency(TempRoot(), o.flush_probes);
    std::fprintf(stderr, "== %s: %s (flush latency %s)...\n", KindName(kind),
                 workload, FlushLatencyText(f).c_str());
    return f;
  };
  for (Kind kind : o.engines) {
    writes["W1"][kind].flush = probe(kind, "W1");
    RunW1(kind, o, &writes["W1"][kind], &reads[kind]);
  }
  std::fprintf(stderr, "== W2, the engines interleaved in %d rounds...\n",
               o.rounds);
  RunW2(o.engines, o, &writes["W2"], &reads);
  if (o.w4) {
    std::fprintf(stderr, "== W4, the engines interleaved in %d rounds...\n",
                 o.rounds);
    RunW4(o.engines, curve_runs, o, &writes["W4"]);
  }
  const FlushLatency flush_after =
      MeasureFlushLatency(TempRoot(), o.flush_probes);
  std::fprintf(stderr,
               "== flush latency after the last engine: %s\n"
               "== this process called fsync %llu times, fdatasync %llu "
               "times\n",
               FlushLatencyText(flush_after).c_str(),
               static_cast<unsigned long long>(g_fsync_calls.load()),
               static_cast<unsigned long long>(g_fdatasync_calls.load()));
  const std::string table = Table(o, flush_after, writes, reads);
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

// fsync(2) and fdatasync(2) for the whole process: runlog's calls link here
// directly, and the executable's definitions interpose on librocksdb's and
// libsqlite3's calls too. Each forwards to the C library's function (found
// once with dlsym(RTLD_NEXT)) and counts the call; errno and the result
// are the C library's. Thread-safe (RocksDB syncs from its own threads).
namespace {

template <typename Fn>
Fn NextSymbol(const char* name) {
  void* f = ::dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "peer_comparison: dlsym(%s) failed\n", name);
    std::abort();
  }
  return reinterpret_cast<Fn>(f);
}

}  // namespace

extern "C" int fsync(int fd) {
  using Fn = int (*)(int);
  static const Fn real = NextSymbol<Fn>("fsync");
  runlog::bench::g_fsync_calls.fetch_add(1, std::memory_order_relaxed);
  return real(fd);
}

extern "C" int fdatasync(int fd) {
  using Fn = int (*)(int);
  static const Fn real = NextSymbol<Fn>("fdatasync");
  runlog::bench::g_fdatasync_calls.fetch_add(1, std::memory_order_relaxed);
  return real(fd);
}
