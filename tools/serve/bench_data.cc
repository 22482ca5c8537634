// runlog-serve-benchdata REPO WORKLOAD: writes the repositories the web UI's
// benchmarks read (docs/benchmarks.md, "Web UI"), every run committed and
// compacted as a finished training run would be:
//   table    1,000 runs, each with 12 params, 3 tags and 6 scalar series
//   big      1 run with one 10,000,000-point series
//   many     50 runs with one 1,000,000-point series each
//   browser  10 runs with one 1,000,000-point series each
//   mlflow   10 runs x 10 metrics x 10,000 steps (MLflow's reported freeze)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tracking/repo.h"

namespace {

using runlog::Repo;
using runlog::RunOptions;
using runlog::Value;

[[noreturn]] void Die(const absl::Status& s) {
  std::fprintf(stderr, "runlog-serve-benchdata: %s\n", s.ToString().c_str());
  std::exit(1);
}

void Check(const absl::Status& s) {
  if (!s.ok()) Die(s);
}

RunOptions Options(int i) {
  RunOptions o;
  o.experiment = absl::StrCat("exp", i % 7);
  o.name = absl::StrCat("run-", i);
  o.tags = {"bench", i % 2 ? "odd" : "even", absl::StrCat("group", i % 10)};
  o.sync_policy = runlog::storage::SyncPolicy::kNever;
  o.params = Value::EmptyMap();
  Check(SetPath(o.params, "hparams.lr", 1e-4 * (1 + i % 50)));
  Check(SetPath(o.params, "hparams.batch_size", int64_t{32} << (i % 4)));
  Check(SetPath(o.params, "hparams.dropout", 0.1 * (i % 5)));
  Check(SetPath(o.params, "hparams.optimizer", i % 3 ? "adam" : "sgd"));
  Check(SetPath(o.params, "model.layers", int64_t{2 + i % 6}));
  Check(SetPath(o.params, "model.width", int64_t{128} * (1 + i % 4)));
  Check(SetPath(o.params, "model.activation", i % 2 ? "relu" : "gelu"));
  Check(SetPath(o.params, "data.name", "imagenet"));
  Check(SetPath(o.params, "data.augment", i % 2 == 0));
  Check(SetPath(o.params, "seed", int64_t{i}));
  Check(SetPath(o.params, "epochs", int64_t{90}));
  Check(SetPath(o.params, "warmup_steps", int64_t{500 * (i % 3)}));
  return o;
}

// A noisy decaying curve with a spike, `points` long, written in batches.
void Curve(runlog::Run& run, const std::string& name, int seed,
           int64_t points) {
  constexpr int64_t kBatch = 1 << 16;
  std::vector<int64_t> steps;
  std::vector<double> values;
  uint64_t x = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(seed + 1);
  for (int64_t start = 0; start < points; start += kBatch) {
    steps.clear();
    values.clear();
    for (int64_t s = start; s < std::min(points, start + kBatch); ++s) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const double noise = static_cast<double>(x >> 11) / 9007199254740992.0;
      steps.push_back(s);
      values.push_back(2.0 * std::exp(-3.0 * s / points) + 0.05 * noise +
                       (s == points / 3 ? 5.0 : 0.0));
    }
    Check(run.TrackBatch(name, {{"subset", "train"}}, steps, values));
  }
}

void Make(Repo& repo, int runs, int series, int64_t points) {
  for (int i = 0; i < runs; ++i) {
    auto run = repo.CreateRun(Options(i));
    if (!run.ok()) Die(run.status());
    for (int k = 0; k < series; ++k) {
      Curve(**run, k == 0 ? "loss" : absl::StrCat("metric", k), i * 31 + k,
            points);
    }
    Check((*run)->Commit());
    auto compacted = repo.CompactRun((*run)->id());
    if (!compacted.ok()) Die(compacted.status());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr,
                 "usage: runlog-serve-benchdata REPO "
                 "table|big|many|browser|mlflow\n");
    return 2;
  }
  auto repo = Repo::Open(argv[1]);
  if (!repo.ok()) Die(repo.status());
  const std::string w = argv[2];
  if (w == "table") {
    Make(**repo, 1000, 6, 100);
  } else if (w == "big") {
    Make(**repo, 1, 1, 10'000'000);
  } else if (w == "many") {
    Make(**repo, 50, 1, 1'000'000);
  } else if (w == "browser") {
    Make(**repo, 10, 1, 1'000'000);
  } else if (w == "mlflow") {
    Make(**repo, 10, 10, 10'000);
  } else {
    std::fprintf(stderr, "runlog-serve-benchdata: unknown workload %s\n",
                 w.c_str());
    return 2;
  }
  return 0;
}
