// Write path of the tracking API next to a plain in-memory append.
//
// Every Run benchmark writes real runs on the POSIX file system, in a repo
// created once per benchmark under a fresh temp dir. One iteration is one
// whole run: CreateRun, n points of one scalar series, Commit (with the
// run's sync policy: never:0 = the default kOnCommit, never:1 = kNever) and
// destruction. Deleting the run and measuring its files are outside the
// timing.
//
// The points are the same in every benchmark: consecutive steps 0..n-1 and a
// noisy decaying loss computed in float and stored as double (fixed seed), as
// a training loop produces them; n = 2^20.
//
//   BM_HandlePath     auto s = *run->Series("loss", ctx); s.Track(step, v)
//   BM_NamePath       run->Track("loss", v, step, ctx); ctx:1 with the
//                     context {subset: train}, ctx:0 without a context
//   BM_BatchPath      s.TrackBatch() with spans of 4096 steps/values
//   BM_ListRuns       Repo::ListRuns over a repo of n committed runs, each
//                     with 20 params and 5 series, as the peer benchmark's
//                     W2 (bench/peer_bench.cc); sizes:0 reads the run
//                     catalog, sizes:1 asks for disk usage (every run's
//                     directory and COMMIT). items/s are runs listed.
//   BM_ListRunTable   the same listing as a RunTable (summaries read in
//                     place), reading each run's 20 hparams and last loss;
//                     new_repo:1 opens a new Repo for each listing
//   BM_ShortRun       one whole short run per iteration: CreateRun, 10
//                     points of one series, Commit with the default
//                     kOnCommit policy (real fsyncs) — the cost of the
//                     commit protocol's flushes; run under TMPDIR, so
//                     TMPDIR=<a mount> times another file system. items/s
//                     are committed runs.
//   BM_CreateRun      Repo::CreateRun alone (20 params, default sync
//                     policy); commit and destruction are untimed. items/s
//                     are runs created.
//   BM_VectorAppend   push_back of (step, value) into a
//                     std::vector<std::pair<int64_t, double>>, no reserve:
//                     the naive in-memory baseline
//   BM_VectorAppendWarm  the same into a vector reserved once and reused:
//                     no allocation, no fresh memory (the strictest peer)
//
// Counters: items/s are points per second; bytes_per_point is the size of the
// run's segment files after commit (every file in the run directory except
// OWNER and COMMIT) divided by the points, or the element size for the
// vector.
//
// Both sides are sensitive to the cost of touching fresh memory (page
// faults), which varies a lot between machines and VMs: a run pays it for its
// buffers once, in its first flush window; the vector pays it for every
// iteration when its memory goes back to the OS, which depends on the
// allocator's state (e.g. BM_VectorAppend alone can be many times slower than
// after the other benchmarks in the same process). Compare runs of the whole
// binary.
#include <stdlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "bench/bench_files.h"
#include "benchmark/benchmark.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/run_store.h"
#include "storage/sync_policy.h"
#include "tracking/repo.h"
#include "tracking/run.h"
#include "tracking/run_table.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace runlog {
namespace {

constexpr int64_t kPoints = 1 << 20;
constexpr size_t kBatch = 4096;

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::abort();
  }
}

template <typename T>
T Check(absl::StatusOr<T> s) {
  Check(s.status());
  return *std::move(s);
}

struct Points {
  std::vector<int64_t> steps;
  std::vector<double> values;
};

const Points& GetPoints(size_t n) {
  static auto* cache = new std::map<size_t, Points>();
  Points& p = (*cache)[n];
  if (p.steps.size() == n) return p;
  std::mt19937 rng(42);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  p.steps.resize(n);
  p.values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float decay = 2.5f * std::exp(-static_cast<float>(i) / 200000.0f);
    const float loss = 0.05f + decay * (1.0f + 0.05f * noise(rng));
    p.steps[i] = static_cast<int64_t>(i);
    p.values[i] = static_cast<double>(loss);
  }
  return p;
}

std::unique_ptr<Repo> NewRepo() {
  static int next = 0;
  return Check(Repo::Open(
      storage::JoinPath(bench::TempRoot(), absl::StrCat("repo", next++))));
}

uint64_t SegmentBytes(Repo& repo, const std::string& id) {
  storage::FileSystem* fs = storage::FileSystem::Default();
  const std::string dir = repo.store().RunDir(id);
  uint64_t total = 0;
  for (const std::string& name : Check(fs->ListDir(dir))) {
    if (name == storage::format::kOwnerFileName ||
        name == storage::format::kCommitFileName) {
      continue;
    }
    total += Check(fs->Stat(storage::JoinPath(dir, name))).size;
  }
  return total;
}

RunOptions Options(const benchmark::State& state) {
  RunOptions options;
  options.experiment = "bench";
  if (state.range(1) != 0) options.sync_policy = storage::SyncPolicy::kNever;
  return options;
}

// Runs `track(run, points)` on a fresh run per iteration, then commits it.
template <typename TrackFn>
void RunWritePath(benchmark::State& state, TrackFn track) {
  const Points& points = GetPoints(static_cast<size_t>(state.range(0)));
  const RunOptions options = Options(state);
  std::unique_ptr<Repo> repo = NewRepo();
  uint64_t bytes = 0;
  for (auto _ : state) {
    std::string id;
    {
      std::unique_ptr<Run> run = Check(repo->CreateRun(options));
      id = run->id();
      track(*run, points);
      Check(run->Commit());
    }
    state.PauseTiming();
    bytes += SegmentBytes(*repo, id);
    Check(repo->DeleteRun(id));
    state.ResumeTiming();
  }
  const double points_done =
      static_cast<double>(state.iterations()) * points.steps.size();
  state.SetItemsProcessed(static_cast<int64_t>(points_done));
  state.counters["bytes_per_point"] =
      points_done > 0 ? static_cast<double>(bytes) / points_done : 0;
}

const Context& TrainContext() {
  static const auto* ctx = new Context{{"subset", "train"}};
  return *ctx;
}

void BM_HandlePath(benchmark::State& state) {
  RunWritePath(state, [](Run& run, const Points& p) {
    ScalarSeries s = Check(run.Series("loss", TrainContext()));
    for (size_t i = 0; i < p.steps.size(); ++i) {
      Check(s.Track(p.steps[i], p.values[i]));
    }
  });
}

void BM_NamePath(benchmark::State& state) {
  if (state.range(2) != 0) {
    RunWritePath(state, [](Run& run, const Points& p) {
      const Context& ctx = TrainContext();
      for (size_t i = 0; i < p.steps.size(); ++i) {
        Check(run.Track("loss", p.values[i], p.steps[i], ctx));
      }
    });
  } else {
    RunWritePath(state, [](Run& run, const Points& p) {
      for (size_t i = 0; i < p.steps.size(); ++i) {
        Check(run.Track("loss", p.values[i], p.steps[i]));
      }
    });
  }
}

void BM_BatchPath(benchmark::State& state) {
  RunWritePath(state, [](Run& run, const Points& p) {
    ScalarSeries s = Check(run.Series("loss", TrainContext()));
    const auto steps = absl::MakeConstSpan(p.steps);
    const auto values = absl::MakeConstSpan(p.values);
    for (size_t i = 0; i < steps.size(); i += kBatch) {
      Check(s.TrackBatch(steps.subspan(i, kBatch), values.subspan(i, kBatch)));
    }
  });
}

// The vector peers' loop: every point pushed back.
void AppendAll(const Points& p, std::vector<std::pair<int64_t, double>>* v) {
  for (size_t i = 0; i < p.steps.size(); ++i) {
    v->push_back({p.steps[i], p.values[i]});
  }
  benchmark::DoNotOptimize(v->data());
  benchmark::ClobberMemory();
}

void VectorCounters(benchmark::State& state, const Points& p) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(p.steps.size()));
  state.counters["bytes_per_point"] =
      static_cast<double>(sizeof(std::pair<int64_t, double>));
}

void BM_VectorAppend(benchmark::State& state) {
  const Points& p = GetPoints(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    std::vector<std::pair<int64_t, double>> v;
    AppendAll(p, &v);
  }
  VectorCounters(state, p);
}

// The strictest in-memory peer: the same appends into a vector reserved once
// and reused, so no iteration allocates or touches fresh memory.
void BM_VectorAppendWarm(benchmark::State& state) {
  const Points& p = GetPoints(static_cast<size_t>(state.range(0)));
  std::vector<std::pair<int64_t, double>> v;
  v.reserve(p.steps.size());
  for (auto _ : state) {
    v.clear();
    AppendAll(p, &v);
  }
  VectorCounters(state, p);
}

void BM_ShortRun(benchmark::State& state) {
  std::unique_ptr<Repo> repo = NewRepo();
  for (auto _ : state) {
    std::unique_ptr<Run> run = Check(repo->CreateRun({.experiment = "short"}));
    auto s = Check(run->Series("loss"));
    for (int step = 0; step < 10; ++step)
      Check(s.Track(step, 1.0 / (step + 1)));
    Check(run->Commit());
  }
  state.SetItemsProcessed(state.iterations());
}

// CreateRun alone, with the default sync policy and the W2 run's 20
// params: the commit, the close and the destruction happen outside the
// timing. Creation makes the run directory, OWNER and the first segment and
// flushes none of them (docs/design.md, "Flushes per run").
void BM_CreateRun(benchmark::State& state) {
  std::unique_ptr<Repo> repo = NewRepo();
  RunOptions o;
  o.experiment = "create";
  Value::Map hparams;
  for (int p = 0; p < 20; ++p) hparams[absl::StrFormat("p%02d", p)] = Value(p);
  o.params = Value(Value::Map{{"hparams", Value(std::move(hparams))}});
  for (auto _ : state) {
    std::unique_ptr<Run> run = Check(repo->CreateRun(o));
    state.PauseTiming();
    Check(run->Commit());
    run.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
}

// `runs` committed runs of 20 params and 5 ten-point series each (no
// fsync), for the listing benchmarks.
void WriteListingRuns(Repo& repo, int runs) {
  const char* series[] = {"loss", "accuracy", "lr", "grad_norm", "val_loss"};
  for (int r = 0; r < runs; ++r) {
    RunOptions o;
    o.name = absl::StrCat("run", r);
    o.sync_policy = storage::SyncPolicy::kNever;
    Value::Map hparams;
    for (int p = 0; p < 20; ++p) {
      hparams[absl::StrFormat("p%02d", p)] = Value(r * 0.001 + p);
    }
    o.params = Value(Value::Map{{"hparams", Value(std::move(hparams))}});
    std::unique_ptr<Run> run = Check(repo.CreateRun(o));
    for (const char* name : series) {
      auto s = Check(run->Series(name));
      for (int step = 0; step < 10; ++step) Check(s.Track(step, 1.0 / step));
    }
    Check(run->Commit());
  }
}

// A repository of `runs` listing runs, written once per size and kept for
// every listing benchmark.
Repo& ListingRepo(int runs) {
  static std::unique_ptr<Repo> repo;
  static int repo_runs = 0;
  if (repo_runs != runs) {
    repo = NewRepo();
    repo_runs = runs;
    WriteListingRuns(*repo, runs);
  }
  return *repo;
}

void BM_ListRuns(benchmark::State& state) {
  const int runs = static_cast<int>(state.range(0));
  RunFilter filter;
  filter.disk_usage = state.range(1) != 0;
  Repo* repo = &ListingRepo(runs);
  size_t listed = 0;
  for (auto _ : state) {
    std::vector<RunRecord> records = Check(repo->ListRuns(filter));
    listed = records.size();
    benchmark::DoNotOptimize(records.data());
  }
  if (listed != static_cast<size_t>(runs)) {
    state.SkipWithError("listing lost runs");
  }
  state.SetItemsProcessed(state.iterations() * runs);
}

// The same listing as a RunTable, reading what the peer comparison reads of
// each run: every hparams entry (in place) and the last loss.
void BM_ListRunTable(benchmark::State& state) {
  const int runs = static_cast<int>(state.range(0));
  RunFilter filter;
  filter.disk_usage = state.range(1) != 0;
  Repo* repo = &ListingRepo(runs);
  const bool new_repo = state.range(2) != 0;
  size_t listed = 0;
  double sum = 0;
  for (auto _ : state) {
    // new_repo:1 opens the repository again each time, as another process
    // (and the peer comparison) does.
    std::unique_ptr<Repo> fresh;
    if (new_repo) fresh = Check(Repo::Open(repo->store().root()));
    RunTable table =
        Check((new_repo ? fresh.get() : repo)->ListRunTable(filter));
    for (const RunTable::Row& row : table) {
      const std::optional<EncodedNode> h =
          Check(RunTable::Param(row, "hparams"));
      if (!h.has_value()) continue;
      Check(ForEachEncodedEntry(
          h->bytes,
          [&](absl::string_view, const EncodedNode& v) { sum += v.d; }));
      if (const auto* loss = RunTable::FindSeries(row, "loss")) {
        sum += loss->last;
      }
    }
    listed = table.size();
    benchmark::DoNotOptimize(sum);
  }
  if (listed != static_cast<size_t>(runs)) {
    state.SkipWithError("listing lost runs");
  }
  state.SetItemsProcessed(state.iterations() * runs);
}

// The first listing after a program committed `runs` runs (20 params and 5
// series each, as BM_ListRuns): by the Repo that committed them
// (same_process:1, which remembers their manifests) or by another Repo
// (same_process:0, which reads every COMMIT, as another process would). The
// runs are written outside the timing, into a fresh repository each time.
void BM_FirstListing(benchmark::State& state) {
  const int runs = static_cast<int>(state.range(0));
  const bool same_process = state.range(1) != 0;
  size_t listed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<Repo> repo = NewRepo();
    WriteListingRuns(*repo, runs);
    std::unique_ptr<Repo> other;
    if (!same_process) other = Check(Repo::Open(repo->path()));
    state.ResumeTiming();
    std::vector<RunRecord> records =
        Check((same_process ? repo : other)->ListRuns());
    listed = records.size();
    benchmark::DoNotOptimize(records.data());
  }
  if (listed != static_cast<size_t>(runs)) {
    state.SkipWithError("listing lost runs");
  }
}
BENCHMARK(BM_FirstListing)
    ->ArgNames({"runs", "same_process"})
    ->Args({1000, 1})
    ->Args({1000, 0})
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond);

// Args: points, sync policy (0 = default kOnCommit, 1 = kNever)[, context].
BENCHMARK(BM_HandlePath)
    ->ArgNames({"n", "never"})
    ->Args({kPoints, 0})
    ->Args({kPoints, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NamePath)
    ->ArgNames({"n", "never", "ctx"})
    ->Args({kPoints, 0, 1})
    ->Args({kPoints, 0, 0})
    ->Args({kPoints, 1, 1})
    ->Args({kPoints, 1, 0})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BatchPath)
    ->ArgNames({"n", "never"})
    ->Args({kPoints, 0})
    ->Args({kPoints, 1})
    ->Unit(benchmark::kMillisecond);
// Args: runs, sizes (0 = catalog, 1 = disk usage).
BENCHMARK(BM_ListRuns)
    ->ArgNames({"runs", "sizes"})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ListRunTable)
    ->ArgNames({"runs", "sizes", "new_repo"})
    ->Args({1000, 0, 0})
    ->Args({1000, 1, 0})
    ->Args({1000, 0, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ShortRun)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CreateRun)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_VectorAppend)
    ->ArgNames({"n"})
    ->Arg(kPoints)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_VectorAppendWarm)
    ->ArgNames({"n"})
    ->Arg(kPoints)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace runlog

BENCHMARK_MAIN();
