// The cost of RunOptions::system_metrics on the tracking path: the same runs
// with system metrics off and on (interval 10 s, so nothing falls due during
// a run and only the sample at Commit() is taken), and on with a 1 ms
// interval (a sample of /proc in about every millisecond of tracking) to
// show what one sample costs.
//
// One iteration is one whole run on the POSIX file system under a temp dir:
// CreateRun, n points of one scalar series through a series handle
// (path:0) or by name with the context {subset: train} (path:1); n:0 is an
// empty run, the fixed cost of a run (with system metrics: the baseline
// readings, the dlopen attempt of NVML, the sample at commit). Commit with
// SyncPolicy::kNever (no fsync, so the tracking path dominates), delete
// (outside the timing). items/s are points per second; samples is the
// number of points the run's __system__ series got.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/bench_files.h"
#include "benchmark/benchmark.h"
#include "storage/file_system.h"
#include "storage/sync_policy.h"
#include "tracking/repo.h"
#include "tracking/run.h"

namespace runlog {
namespace {

void OrDie(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::abort();
  }
}

// Args: path (0 handle, 1 name), interval in ms (0 = system metrics off),
// points per run.
void BM_TrackSystemMetrics(benchmark::State& state) {
  const bool by_name = state.range(0) != 0;
  const int64_t interval_ms = state.range(1);
  const int64_t points = state.range(2);
  RunOptions options;
  options.experiment = "bench";
  options.sync_policy = storage::SyncPolicy::kNever;
  options.system_metrics = interval_ms > 0;
  if (interval_ms > 0) {
    options.system_metrics_interval = absl::Milliseconds(interval_ms);
  }
  auto repo = Repo::Open(storage::JoinPath(
      bench::TempRoot(), absl::StrCat("sysmetrics", by_name, interval_ms)));
  OrDie(repo.status());
  const Context ctx{{"subset", "train"}};
  int64_t samples = 0;
  for (auto _ : state) {
    std::string id;
    {
      auto run = (*repo)->CreateRun(options);
      OrDie(run.status());
      id = (*run)->id();
      if (by_name) {
        for (int64_t i = 0; i < points; ++i) {
          OrDie((*run)->Track("loss", 1.0 / (i + 1), i, ctx));
        }
      } else {
        auto series = (*run)->Series("loss", ctx);
        OrDie(series.status());
        for (int64_t i = 0; i < points; ++i) {
          OrDie(series->Track(i, 1.0 / (i + 1)));
        }
      }
      OrDie((*run)->Commit());
    }
    state.PauseTiming();
    auto view = (*repo)->OpenRun(id);
    OrDie(view.status());
    for (const SeriesSummary& s : (*view)->series()) {
      if (s.key.name != "loss") samples += s.count;
    }
    view->reset();
    OrDie((*repo)->DeleteRun(id));
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * points);
  state.counters["samples"] = benchmark::Counter(
      static_cast<double>(samples), benchmark::Counter::kAvgIterations);
}

BENCHMARK(BM_TrackSystemMetrics)
    ->ArgNames({"path", "interval_ms", "n"})
    ->Args({0, 0, 0})
    ->Args({0, 10000, 0})
    ->Args({0, 0, 1 << 20})
    ->Args({0, 10000, 1 << 20})
    ->Args({0, 1, 1 << 20})
    ->Args({1, 0, 1 << 20})
    ->Args({1, 10000, 1 << 20})
    ->Args({1, 1, 1 << 20})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace runlog

BENCHMARK_MAIN();
