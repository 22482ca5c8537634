// Recovery of many abandoned runs (issue 19: 1,000 in under a second).
//
//   BM_RecoverAbandoned/N
//       N uncommitted runs, each holding one flushed chunk, left by a child
//       process that created them on the POSIX file system and exited
//       without closing them (its pid is then dead: the runs are abandoned
//       on this host). One iteration = storage::Recover() of the repository
//       (the child's writing is not timed). Recovery removes them in one
//       batch: every run moved to trash/ and judged again, two directory
//       syncs for them all, then the unlinks.
//   BM_RemoveAbandonedOneByOne/N
//       the same runs removed by RunStore::RemoveIfAbandoned(id) one run at
//       a time, as recovery did before the batch: two directory syncs per
//       run. The ratio of the two is the batch's gain.
//
// The repositories live under $TMPDIR (default /tmp): directory syncs cost
// what that file system's flush costs, so run both on the same one.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_files.h"
#include "benchmark/benchmark.h"
#include "storage/format.h"
#include "storage/recovery.h"
#include "storage/run_store.h"

namespace runlog::bench {
namespace {

std::unique_ptr<storage::RunStore> OpenStore(const std::string& root) {
  storage::RunStoreOptions o;
  o.create_if_missing = true;
  absl::StatusOr<std::unique_ptr<storage::RunStore>> store =
      storage::RunStore::Open(root, o);
  if (!store.ok()) {
    std::fprintf(stderr, "open %s: %s\n", root.c_str(),
                 store.status().ToString().c_str());
    std::abort();
  }
  return *std::move(store);
}

// A fresh repository holding `runs` abandoned runs; returns its root.
std::string MakeAbandonedRuns(int runs) {
  static int counter = 0;
  const std::string root = absl::StrCat(TempRoot(), "/recover-", ++counter);
  OpenStore(root);
  const pid_t child = ::fork();
  if (child < 0) std::abort();
  if (child == 0) {
    std::unique_ptr<storage::RunStore> store = OpenStore(root);
    std::vector<std::unique_ptr<storage::RunWriter>> open;
    for (int i = 0; i < runs; ++i) {
      auto w = store->CreateRun();
      if (!w.ok() ||
          !(*w)->AppendChunk(storage::format::kChunkRecords, "data").ok() ||
          !(*w)->Flush().ok()) {
        ::_exit(1);
      }
      open.push_back(*std::move(w));
    }
    ::_exit(0);  // killed as far as the runs can tell: never closed
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "the child making %d runs failed\n", runs);
    std::abort();
  }
  return root;
}

void BM_RecoverAbandoned(benchmark::State& state) {
  const int runs = static_cast<int>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    const std::string root = MakeAbandonedRuns(runs);
    std::unique_ptr<storage::RunStore> store = OpenStore(root);
    state.ResumeTiming();
    absl::StatusOr<storage::RecoveryReport> report =
        storage::Recover(*store, /*dry_run=*/false);
    state.PauseTiming();
    if (!report.ok() || static_cast<int>(report->actions.size()) != runs) {
      state.SkipWithError("recovery did not remove every run");
      break;
    }
    (void)RemoveTree(root);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * runs);
}
BENCHMARK(BM_RecoverAbandoned)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void BM_RemoveAbandonedOneByOne(benchmark::State& state) {
  const int runs = static_cast<int>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    const std::string root = MakeAbandonedRuns(runs);
    std::unique_ptr<storage::RunStore> store = OpenStore(root);
    absl::StatusOr<std::vector<storage::RunEntry>> listed = store->ListRuns();
    if (!listed.ok()) {
      state.SkipWithError("listing failed");
      break;
    }
    absl::StatusOr<absl::Time> now = store->FileSystemNow();
    state.ResumeTiming();
    int removed = 0;
    for (const storage::RunEntry& run : *listed) {
      absl::StatusOr<storage::RemovalOutcome> outcome =
          store->RemoveIfAbandoned(run.id, *now);
      removed += outcome.ok() && outcome->removed;
    }
    state.PauseTiming();
    if (removed != runs) {
      state.SkipWithError("not every run was removed");
      break;
    }
    (void)RemoveTree(root);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * runs);
}
BENCHMARK(BM_RemoveAbandonedOneByOne)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace
}  // namespace runlog::bench

BENCHMARK_MAIN();
