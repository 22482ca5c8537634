// TensorBoard import speed and the size of what it makes (issue 15):
//   BM_ImportRealTensorBoard   the 13 event files of the real-curve corpus
//                              (bench/real_curves.h's directory, tfevents/),
//                              each in a run directory of its own
//   BM_ImportGeneratedLogdir   a generated logdir of RUNLOG_INTEROP_BENCH_MB
//                              MiB (default 1024) of PyTorch-style scalar
//                              events: 8 runs, 16 tags each, simple_value
//                              floats at increasing steps and wall times
// Each iteration imports the logdir into a fresh repository (CRC checks,
// decoding, tracking, commit), so bytes/s is the import rate of event-file
// bytes on one core (scripts/bench.sh pins it). After the timed loop the
// runs are compacted and the counters report the repository's size against
// the logdir's (repo_to_logdir) and bytes per point.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/real_curves.h"
#include "interop/import_session.h"
#include "interop/tensorboard/importer.h"
#include "interop/tensorboard/tfrecord_reader.h"
#include "tracking/repo.h"

namespace runlog::bench {
namespace {

namespace fs = std::filesystem;

uint64_t TreeBytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

std::string TempDir(const char* what) {
  std::string t =
      (fs::temp_directory_path() / absl::StrCat("runlog-", what, "-XXXXXX"))
          .string();
  if (mkdtemp(t.data()) == nullptr) std::abort();
  return t;
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Event{wall_time, step, summary{value{tag, simple_value}}}.
std::string ScalarEvent(double wall, int64_t step, const std::string& tag,
                        float v) {
  std::string value;
  value.push_back(0x0a);
  PutVarint(&value, tag.size());
  value += tag;
  value.push_back(0x15);
  value.append(reinterpret_cast<const char*>(&v), 4);
  std::string summary;
  summary.push_back(0x0a);
  PutVarint(&summary, value.size());
  summary += value;
  std::string e;
  e.push_back(0x09);
  e.append(reinterpret_cast<const char*>(&wall), 8);
  e.push_back(0x10);
  PutVarint(&e, static_cast<uint64_t>(step));
  e.push_back(0x2a);
  PutVarint(&e, summary.size());
  e += summary;
  return e;
}

void GenerateLogdir(const std::string& dir, uint64_t bytes) {
  constexpr int kRuns = 8, kTags = 16;
  std::mt19937_64 rng(42);
  std::normal_distribution<float> noise(0, 0.01f);
  const uint64_t per_run = bytes / kRuns;
  for (int r = 0; r < kRuns; ++r) {
    const std::string run = absl::StrCat(dir, "/version_", r);
    fs::create_directories(run);
    std::ofstream out(run + "/events.out.tfevents.1700000000.bench.0",
                      std::ios::binary);
    std::string buf;
    uint64_t written = 0;
    double wall = 1700000000.0;
    for (int64_t step = 0; written < per_run; ++step) {
      wall += 0.137;
      for (int t = 0; t < kTags; ++t) {
        const float v =
            std::exp(-static_cast<float>(step) * 1e-5f * (t + 1)) + noise(rng);
        interop::AppendTFRecord(
            ScalarEvent(wall, step, absl::StrCat("train/metric_", t), v), &buf);
      }
      if (buf.size() > (1 << 20)) {
        out << buf;
        written += buf.size();
        buf.clear();
      }
    }
    out << buf;
  }
}

void ImportLoop(benchmark::State& state, const std::string& logdir) {
  const uint64_t logdir_bytes = TreeBytes(logdir);
  int64_t points = 0;
  std::string repo;
  for (auto _ : state) {
    state.PauseTiming();
    if (!repo.empty()) fs::remove_all(repo);
    repo = TempDir("interop-bench-repo");
    state.ResumeTiming();
    auto session = interop::ImportSession::Open(repo, {}, "tensorboard", {});
    if (!session.ok()) {
      state.SkipWithError(std::string(session.status().message()).c_str());
      return;
    }
    absl::Status s = interop::ImportTensorBoard(logdir, session->get());
    if (!s.ok() || (*session)->report().failed() > 0) {
      state.SkipWithError("import failed");
      return;
    }
    points = (*session)->report().points();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(logdir_bytes));
  // Size after compaction, once, outside the timing.
  auto r = Repo::Open(repo);
  auto runs = (*r)->ListRuns();
  if (!runs.ok()) {
    state.SkipWithError("cannot list the imported runs");
    return;
  }
  for (const RunRecord& run : *runs) (*r)->CompactRun(run.id).IgnoreError();
  const uint64_t repo_bytes = TreeBytes(repo);
  state.counters["logdir_MB"] = static_cast<double>(logdir_bytes) / 1e6;
  state.counters["points"] = static_cast<double>(points);
  state.counters["repo_to_logdir"] =
      static_cast<double>(repo_bytes) / static_cast<double>(logdir_bytes);
  state.counters["repo_bytes_per_point"] =
      static_cast<double>(repo_bytes) / static_cast<double>(points);
  fs::remove_all(repo);
}

void BM_ImportRealTensorBoard(benchmark::State& state) {
  const std::string src = RealCurvesDir() + "/tfevents";
  const std::string logdir = TempDir("interop-bench-real");
  int i = 0;
  for (const auto& e : fs::directory_iterator(src)) {
    const std::string run = absl::StrCat(logdir, "/run", i++);
    fs::create_directories(run);
    fs::copy_file(e.path(), run + "/" + e.path().filename().string());
  }
  ImportLoop(state, logdir);
  fs::remove_all(logdir);
}
BENCHMARK(BM_ImportRealTensorBoard)->Unit(benchmark::kMillisecond);

void BM_ImportGeneratedLogdir(benchmark::State& state) {
  const char* env = std::getenv("RUNLOG_INTEROP_BENCH_MB");
  const uint64_t mb = env && *env ? std::strtoull(env, nullptr, 10) : 1024;
  const std::string logdir = TempDir("interop-bench-gen");
  GenerateLogdir(logdir, mb << 20);
  ImportLoop(state, logdir);
  fs::remove_all(logdir);
}
BENCHMARK(BM_ImportGeneratedLogdir)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

}  // namespace
}  // namespace runlog::bench

BENCHMARK_MAIN();
