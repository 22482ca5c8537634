// Reading every series of a run (issue 19, item 3): one Read call per series
// next to one RunView::ReadAll.
//
// The run is written once per benchmark on the POSIX file system, under a
// fresh temp dir: `series` scalar series of one point each (names s0, s1, …;
// every other one with the context {subset: train}), committed, and with
// compacted:1 rewritten by Repo::CompactRun. One iteration is OpenRun and a
// read of every series of the view:
//
//   BM_ReadEverySeries/all:0  view->ReadScalars(key) for each series
//   BM_ReadEverySeries/all:1  view->ReadAll(sink)
//
// items/s are series read. Per-series reads of a log run scan the whole run
// each time and those of a compacted run decode its whole footer each time,
// so all:0 is quadratic in the series and is run at 2,000 series only.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_files.h"
#include "benchmark/benchmark.h"
#include "storage/file_system.h"
#include "storage/sync_policy.h"
#include "tracking/repo.h"
#include "tracking/run.h"
#include "tracking/series.h"

namespace runlog {
namespace {

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

// A repo holding one committed run of `series` one-point scalar series.
struct ManySeriesRun {
  std::unique_ptr<Repo> repo;
  std::string id;
};

ManySeriesRun MakeRun(int64_t series, bool compacted) {
  static int next = 0;
  ManySeriesRun r;
  r.repo = Check(Repo::Open(
      storage::JoinPath(bench::TempRoot(), absl::StrCat("repo", next++))));
  RunOptions options;
  options.experiment = "bench";
  options.sync_policy = storage::SyncPolicy::kNever;
  std::unique_ptr<Run> run = Check(r.repo->CreateRun(options));
  const Context train = {{"subset", "train"}};
  for (int64_t i = 0; i < series; ++i) {
    Check(run->Track(absl::StrCat("s", i), 0.5 + static_cast<double>(i), 0,
                     i % 2 == 0 ? Context{} : train));
  }
  Check(run->Commit());
  r.id = run->id();
  run.reset();
  if (compacted) Check(r.repo->CompactRun(r.id).status());
  return r;
}

void BM_ReadEverySeries(benchmark::State& state) {
  const int64_t series = state.range(0);
  const bool compacted = state.range(1) != 0;
  const bool all = state.range(2) != 0;
  ManySeriesRun r = MakeRun(series, compacted);
  int64_t points = 0;
  for (auto _ : state) {
    std::unique_ptr<RunView> view = Check(r.repo->OpenRun(r.id));
    if (all) {
      Check(view->ReadAll([&](const SeriesSummary&, SeriesPoints&& p) {
        points += static_cast<int64_t>(p.scalars.size());
        return absl::OkStatus();
      }));
    } else {
      for (const SeriesSummary& s : view->series()) {
        points += static_cast<int64_t>(Check(view->ReadScalars(s.key)).size());
      }
    }
    benchmark::DoNotOptimize(points);
  }
  if (points != series * static_cast<int64_t>(state.iterations())) {
    std::fprintf(stderr, "read %lld points, expected %lld\n",
                 static_cast<long long>(points),
                 static_cast<long long>(series * state.iterations()));
    std::abort();
  }
  state.SetItemsProcessed(series * static_cast<int64_t>(state.iterations()));
}

// Args: series, compacted (0 = committed log, 1 = compacted), all (0 = one
// ReadScalars per series, 1 = ReadAll).
BENCHMARK(BM_ReadEverySeries)
    ->ArgNames({"series", "compacted", "all"})
    ->Args({2000, 0, 0})
    ->Args({2000, 0, 1})
    ->Args({2000, 1, 0})
    ->Args({2000, 1, 1})
    ->Args({100000, 0, 1})
    ->Args({100000, 1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace runlog

BENCHMARK_MAIN();
