// Compaction targets of issue 4: bytes per point after Repo::CompactRun on
// synthetic and real series, and reads of a compacted 10M-point series.
//
// Every run is written through the public API on the POSIX file system, in
// repos under a temp dir removed at exit: ScalarSeries::Track(step, value,
// epoch) for each point, with the repo's clock (a storage::ManualClock) set
// to the point's wall time first. The Run samples its clock every 32 tracked
// points, so stored times are the time of the point at each sample: exact
// for the synthetic families (their times are constant over each group of
// 32), a sampling of the real MLflow timestamps. max_buffer_age is infinite,
// so the fake clock's hours do not force a flush every few points.
//
//   BM_CompactSynthetic/{counter,lr_schedule,noisy_loss}
//       1,000,000 points of bench/synthetic_series.h (seed 42); one
//       iteration = CompactRun of one freshly written, committed run (the
//       writing is not timed). items/s = points compacted per second.
//   BM_CompactRealCurves
//       every JSON, MLflow and CSV log of bench/real_curves.h
//       ($RUNLOG_REAL_CURVES, default /work/shared/data/real-curves), one run
//       per file with its series named as loaded, the points of a file
//       tracked in step order across its series (as a trainer logs them);
//       one iteration = CompactRun of each. Prints a per-file table to
//       stderr once, and writes it as markdown to $RUNLOG_BENCH_TABLE when
//       set.
//   BM_ReadFull / BM_ReadDownsampled
//       a compacted run of 10,000,000 noisy_loss points (seed 42), written
//       and compacted once; ReadScalars of the whole series (items/s =
//       points/s) and ReadScalarsDownsampled(key, 1000), through one
//       RunView opened outside the timing.
//
// Counters:
//   bytes_per_point         the run directory after compaction (segments,
//                           COMMIT and OWNER) / points
//   bytes_per_point_before  the same, committed but not yet compacted
//   segment_bytes_per_point after compaction, the segment files alone (the
//                           COMMIT's per-series summaries and the OWNER
//                           record are a fixed cost per run and series)
//   source_bytes_per_point  (real curves) the source files' bytes / points
//   raw_bytes_per_point     16: an int64 step and a float64 value
//   compacted               1 if CompactRun succeeded; 0 if it returned
//                           Unimplemented, in which case "after" is the
//                           uncompacted size (the label says so)
#include <stdlib.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bench/bench_files.h"
#include "bench/real_curves.h"
#include "bench/synthetic_series.h"
#include "benchmark/benchmark.h"
#include "storage/clock.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "tracking/repo.h"
#include "tracking/run.h"
#include "tracking/series.h"

namespace runlog::bench {
namespace {

constexpr size_t kSyntheticPoints = 1'000'000;
constexpr size_t kReadPoints = 10'000'000;
constexpr size_t kDownsampledPoints = 1000;
constexpr uint64_t kSeed = 42;
constexpr double kRawBytesPerPoint = 16;

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "compaction_bench: %s\n", s.ToString().c_str());
    std::abort();
  }
}

template <typename T>
T Check(absl::StatusOr<T> s) {
  Check(s.status());
  return *std::move(s);
}

// A repo with a hand-set clock; the clock outlives the repo and its runs.
struct ClockedRepo {
  storage::ManualClock clock{absl::FromUnixMicros(kStartTimeUs)};
  std::unique_ptr<Repo> repo;
};

std::unique_ptr<ClockedRepo> NewRepo() {
  static int next = 0;
  auto r = std::make_unique<ClockedRepo>();
  RepoOptions options;
  options.clock = &r->clock;
  r->repo = Check(Repo::Open(
      storage::JoinPath(TempRoot(), absl::StrCat("repo", next++)), options));
  return r;
}

// One series to write: views of columns owned by the caller.
struct SeriesInput {
  absl::string_view name;
  absl::Span<const int64_t> steps;
  absl::Span<const double> values;
  absl::Span<const double> epochs;     // NaN = no epoch
  absl::Span<const int64_t> times_us;  // 0 = no time: the clock stays put
};

// Writes and commits one run holding `series`, tracking their points in
// step order across series (each series' own order kept; ties go to the
// earlier series). Returns the run id.
std::string WriteRun(ClockedRepo& r, absl::Span<const SeriesInput> series) {
  RunOptions options;
  options.experiment = "compaction";
  options.max_buffer_age = absl::InfiniteDuration();
  r.clock.Set(absl::FromUnixMicros(kStartTimeUs));
  for (const SeriesInput& s : series) {
    if (!s.times_us.empty() && s.times_us[0] != 0) {
      r.clock.Set(absl::FromUnixMicros(s.times_us[0]));
      break;
    }
  }
  std::unique_ptr<Run> run = Check(r.repo->CreateRun(options));
  std::vector<ScalarSeries> handles;
  for (const SeriesInput& s : series) {
    handles.push_back(Check(run->Series(s.name)));
  }
  auto track = [&](size_t k, size_t i) {
    const SeriesInput& s = series[k];
    if (s.times_us[i] != 0) r.clock.Set(absl::FromUnixMicros(s.times_us[i]));
    Check(handles[k].Track(s.steps[i], s.values[i], s.epochs[i]));
  };
  if (series.size() == 1) {
    for (size_t i = 0; i < series[0].steps.size(); ++i) track(0, i);
  } else {
    // (step, series) of each series' next point, smallest first.
    using Head = std::pair<int64_t, size_t>;
    std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
    std::vector<size_t> next(series.size(), 0);
    for (size_t k = 0; k < series.size(); ++k) {
      if (!series[k].steps.empty()) heads.push({series[k].steps[0], k});
    }
    while (!heads.empty()) {
      const size_t k = heads.top().second;
      heads.pop();
      track(k, next[k]++);
      if (next[k] < series[k].steps.size()) {
        heads.push({series[k].steps[next[k]], k});
      }
    }
  }
  Check(run->Commit());
  return run->id();
}

struct Compaction {
  uint64_t before = 0;  // bytes of the run directory
  uint64_t after = 0;
  uint64_t after_segments = 0;  // `after` less COMMIT and OWNER
  double seconds = 0;           // CompactRun alone
  bool compacted = false;
  std::string note;  // why not, when not
};

// Compacts run `id`; an Unimplemented CompactRun (not landed yet) leaves
// the run as it was and says so in `note`; any other error aborts.
Compaction Compact(Repo& repo, const std::string& id) {
  const std::string dir = repo.store().RunDir(id);
  Compaction c;
  c.before = Check(TreeBytes(dir));
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<CompactionReport> report = repo.CompactRun(id);
  c.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (report.ok()) {
    c.compacted = true;
  } else if (absl::IsUnimplemented(report.status())) {
    c.note =
        absl::StrCat("NOT COMPACTED (CompactRun: ", report.status().message(),
                     "): sizes are uncompacted");
  } else {
    Check(report.status());
  }
  c.after = Check(TreeBytes(dir));
  c.after_segments = c.after;
  for (const char* name :
       {storage::format::kCommitFileName, storage::format::kOwnerFileName}) {
    const std::string path = storage::JoinPath(dir, name);
    if (storage::FileSystem::Default()->Stat(path).ok()) {
      c.after_segments -= Check(TreeBytes(path));
    }
  }
  return c;
}

SeriesInput Input(const SyntheticSeries& s) {
  return {s.family, s.steps, s.values, s.epochs, s.times_us};
}

SeriesInput Input(const CurveSeries& s) {
  return {s.name, s.steps, s.values, s.epochs, s.times_us};
}

// ---- synthetic families ----

const SyntheticSeries& Synthetic(int family) {
  static const auto* all =
      new std::vector<SyntheticSeries>{MakeCounter(kSyntheticPoints, kSeed),
                                       MakeLrSchedule(kSyntheticPoints, kSeed),
                                       MakeNoisyLoss(kSyntheticPoints, kSeed)};
  return (*all)[family];
}

void BM_CompactSynthetic(benchmark::State& state) {
  const SyntheticSeries& series = Synthetic(static_cast<int>(state.range(0)));
  const SeriesInput input = Input(series);
  std::unique_ptr<ClockedRepo> r = NewRepo();
  Compaction total;
  std::string note;
  for (auto _ : state) {
    const std::string id = WriteRun(*r, {&input, 1});
    const Compaction c = Compact(*r->repo, id);
    state.SetIterationTime(c.seconds);
    total.before += c.before;
    total.after += c.after;
    total.after_segments += c.after_segments;
    note = c.note;
    Check(r->repo->DeleteRun(id));
  }
  const double points = static_cast<double>(state.iterations()) * series.size();
  state.SetItemsProcessed(static_cast<int64_t>(points));
  state.counters["bytes_per_point"] = total.after / points;
  state.counters["bytes_per_point_before"] = total.before / points;
  state.counters["segment_bytes_per_point"] = total.after_segments / points;
  state.counters["compacted"] = note.empty() ? 1 : 0;
  state.SetLabel(note.empty() ? series.family
                              : absl::StrCat(series.family, " ", note));
}
BENCHMARK(BM_CompactSynthetic)
    ->ArgName("family")
    ->Arg(0)  // counter
    ->Arg(1)  // lr_schedule
    ->Arg(2)  // noisy_loss
    ->UseManualTime()
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

// ---- real training logs ----

const std::vector<CurveFile>& RealCurves() {
  static const auto* files = [] {
    const std::string dir = RealCurvesDir();
    absl::StatusOr<std::vector<CurveFile>> loaded = LoadRealCurves(dir);
    if (!loaded.ok()) {
      std::fprintf(stderr,
                   "compaction_bench: cannot load the real training logs "
                   "from %s (set %s): %s\n",
                   dir.c_str(), kRealCurvesEnvVar,
                   loaded.status().ToString().c_str());
      std::abort();
    }
    return new std::vector<CurveFile>(*std::move(loaded));
  }();
  return *files;
}

struct FileRow {
  const CurveFile* file;
  Compaction compaction;
};

std::string BytesPerPoint(uint64_t bytes, size_t points) {
  return absl::StrFormat("%.2f", static_cast<double>(bytes) / points);
}

// The per-file table as markdown, with the overall row last.
std::string Table(const std::vector<FileRow>& rows) {
  std::string out = absl::StrCat(
      "| file | format | series | points | source bytes | source B/pt | "
      "runlog B/pt before | runlog B/pt after | of which segments |\n",
      "|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  size_t points = 0;
  uint64_t source = 0, before = 0, after = 0, segments = 0;
  for (const FileRow& row : rows) {
    const CurveFile& f = *row.file;
    const size_t n = f.points();
    absl::StrAppend(&out, "| ", f.relative_path, " | ", f.format, " | ",
                    f.series.size(), " | ", n, " | ", f.file_bytes, " | ",
                    BytesPerPoint(f.file_bytes, n), " | ",
                    BytesPerPoint(row.compaction.before, n), " | ",
                    BytesPerPoint(row.compaction.after, n), " | ",
                    BytesPerPoint(row.compaction.after_segments, n), " |\n");
    points += n;
    source += f.file_bytes;
    before += row.compaction.before;
    after += row.compaction.after;
    segments += row.compaction.after_segments;
  }
  absl::StrAppend(&out, "| **all ", rows.size(), " files** | | | ", points,
                  " | ", source, " | ", BytesPerPoint(source, points), " | ",
                  BytesPerPoint(before, points), " | ",
                  BytesPerPoint(after, points), " | ",
                  BytesPerPoint(segments, points), " |\n");
  absl::StrAppend(&out,
                  "\nRaw (int64 step + float64 value): ", kRawBytesPerPoint,
                  " B/point. runlog sizes are whole run directories "
                  "(segments, COMMIT, OWNER); the last column counts the "
                  "segments alone.\n");
  return out;
}

void PublishTable(const std::vector<FileRow>& rows) {
  static bool done = false;
  if (done) return;
  done = true;
  const std::string table = Table(rows);
  std::fprintf(stderr, "\n%s\n", table.c_str());
  const char* path = std::getenv("RUNLOG_BENCH_TABLE");
  if (path == nullptr || *path == '\0') return;
  storage::FileSystem* fs = storage::FileSystem::Default();
  if (fs->Stat(path).ok()) Check(fs->RemoveFile(path));
  Check(storage::WriteNewFileSynced(*fs, path, table));
}

void BM_CompactRealCurves(benchmark::State& state) {
  const std::vector<CurveFile>& files = RealCurves();
  std::unique_ptr<ClockedRepo> r = NewRepo();
  std::vector<FileRow> rows;
  std::string note;
  for (auto _ : state) {
    rows.clear();
    double seconds = 0;
    for (const CurveFile& f : files) {
      std::vector<SeriesInput> inputs;
      for (const CurveSeries& s : f.series) inputs.push_back(Input(s));
      const std::string id = WriteRun(*r, inputs);
      rows.push_back({&f, Compact(*r->repo, id)});
      seconds += rows.back().compaction.seconds;
      note = rows.back().compaction.note;
      Check(r->repo->DeleteRun(id));
    }
    state.SetIterationTime(seconds);
  }
  size_t points = 0;
  uint64_t source = 0, before = 0, after = 0, segments = 0;
  for (const FileRow& row : rows) {
    points += row.file->points();
    source += row.file->file_bytes;
    before += row.compaction.before;
    after += row.compaction.after;
    segments += row.compaction.after_segments;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * points));
  const double n = static_cast<double>(points);
  state.counters["files"] = static_cast<double>(rows.size());
  state.counters["points"] = n;
  state.counters["bytes_per_point"] = after / n;
  state.counters["bytes_per_point_before"] = before / n;
  state.counters["segment_bytes_per_point"] = segments / n;
  state.counters["source_bytes_per_point"] = source / n;
  state.counters["raw_bytes_per_point"] = kRawBytesPerPoint;
  state.counters["compacted"] = note.empty() ? 1 : 0;
  if (!note.empty()) state.SetLabel(note);
  PublishTable(rows);
}
BENCHMARK(BM_CompactRealCurves)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// ---- reads of a compacted 10M-point series ----

struct ReadFixture {
  std::unique_ptr<ClockedRepo> repo;
  std::unique_ptr<RunView> view;
  SeriesKey key;
  Compaction compaction;
};

// One compacted noisy-loss series of `points` points, written once per
// length.
ReadFixture& ReadOfLength(size_t points) {
  static auto* fixtures = new std::map<size_t, ReadFixture*>;
  ReadFixture*& f = (*fixtures)[points];
  if (f == nullptr) {
    f = new ReadFixture;
    f->repo = NewRepo();
    std::string id;
    {
      const SyntheticSeries series = MakeNoisyLoss(points, kSeed);
      const SeriesInput input = Input(series);
      id = WriteRun(*f->repo, {&input, 1});
      f->key.name = series.family;
    }
    f->compaction = Compact(*f->repo->repo, id);
    f->view = Check(f->repo->repo->OpenRun(id));
  }
  return *f;
}

ReadFixture& Read10M() { return ReadOfLength(kReadPoints); }

// Times ReadScalarsDownsampled(key, kDownsampledPoints) of `f`.
void TimeView(benchmark::State& state, ReadFixture& f) {
  for (auto _ : state) {
    ScalarColumns columns =
        Check(f.view->ReadScalarsDownsampled(f.key, kDownsampledPoints));
    if (columns.size() == 0 || columns.size() > kDownsampledPoints) {
      std::fprintf(stderr, "compaction_bench: downsampled read gave %zu\n",
                   columns.size());
      std::abort();
    }
    benchmark::DoNotOptimize(columns.values.data());
  }
}

void ReadCounters(benchmark::State& state, const ReadFixture& f) {
  state.counters["bytes_per_point"] =
      static_cast<double>(f.compaction.after) / kReadPoints;
  state.counters["compacted"] = f.compaction.note.empty() ? 1 : 0;
  if (!f.compaction.note.empty()) state.SetLabel(f.compaction.note);
}

void BM_ReadFull(benchmark::State& state) {
  ReadFixture& f = Read10M();
  for (auto _ : state) {
    ScalarColumns columns = Check(f.view->ReadScalars(f.key));
    if (columns.size() != kReadPoints) {
      std::fprintf(stderr, "compaction_bench: read %zu points, wrote %zu\n",
                   columns.size(), kReadPoints);
      std::abort();
    }
    benchmark::DoNotOptimize(columns.values.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kReadPoints));
  ReadCounters(state, f);
}
BENCHMARK(BM_ReadFull)->Unit(benchmark::kMillisecond);

// The same read into columns reused across iterations, as a plot that
// refreshes would: no fresh memory to fault in.
void BM_ReadFullInto(benchmark::State& state) {
  ReadFixture& f = Read10M();
  ScalarColumns columns;
  Check(f.view->ReadScalarsInto(f.key, {}, &columns));  // warm: allocate once
  for (auto _ : state) {
    Check(f.view->ReadScalarsInto(f.key, {}, &columns));
    if (columns.size() != kReadPoints) {
      std::fprintf(stderr, "compaction_bench: read %zu points, wrote %zu\n",
                   columns.size(), kReadPoints);
      std::abort();
    }
    benchmark::DoNotOptimize(columns.values.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kReadPoints));
  ReadCounters(state, f);
}
BENCHMARK(BM_ReadFullInto)->Unit(benchmark::kMillisecond);

// Steps and values only, into reused columns: 16 B a point written, the
// epoch and time streams skipped undecoded.
void BM_ReadStepsValuesInto(benchmark::State& state) {
  ReadFixture& f = Read10M();
  ScalarColumns columns;
  Check(f.view->ReadScalarsInto(f.key, {}, &columns, ColumnSet::kStepsValues));
  for (auto _ : state) {
    Check(
        f.view->ReadScalarsInto(f.key, {}, &columns, ColumnSet::kStepsValues));
    if (columns.values.size() != kReadPoints ||
        columns.steps.size() != kReadPoints || !columns.epochs.empty()) {
      std::fprintf(stderr, "compaction_bench: read %zu values, wrote %zu\n",
                   columns.values.size(), kReadPoints);
      std::abort();
    }
    benchmark::DoNotOptimize(columns.values.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kReadPoints));
  ReadCounters(state, f);
}
BENCHMARK(BM_ReadStepsValuesInto)->Unit(benchmark::kMillisecond);

// The floor of a read into reused columns on this machine: copying 10M
// points' four columns (32 B a point) from one buffer into another.
void BM_CopyColumnsOnly(benchmark::State& state) {
  ScalarColumns from, to;
  for (auto* c : {&from.steps, &to.steps, &from.times_us, &to.times_us}) {
    c->assign(kReadPoints, 1);
  }
  for (auto* c : {&from.values, &to.values, &from.epochs, &to.epochs}) {
    c->assign(kReadPoints, 1.0);
  }
  for (auto _ : state) {
    std::memcpy(to.steps.data(), from.steps.data(), kReadPoints * 8);
    std::memcpy(to.values.data(), from.values.data(), kReadPoints * 8);
    std::memcpy(to.epochs.data(), from.epochs.data(), kReadPoints * 8);
    std::memcpy(to.times_us.data(), from.times_us.data(), kReadPoints * 8);
    benchmark::DoNotOptimize(to.values.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kReadPoints));
}
BENCHMARK(BM_CopyColumnsOnly)->Unit(benchmark::kMillisecond);

// The peer of BM_ReadFull on this machine: only allocating and zero-filling
// four fresh 10M-element columns, the least any read returning new vectors
// must do. Page faults dominate it in a VM.
void BM_AllocateResultOnly(benchmark::State& state) {
  for (auto _ : state) {
    ScalarColumns columns;
    columns.steps.resize(kReadPoints);
    columns.values.resize(kReadPoints);
    columns.epochs.resize(kReadPoints);
    columns.times_us.resize(kReadPoints);
    benchmark::DoNotOptimize(columns.values.data());
    benchmark::DoNotOptimize(columns.steps.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kReadPoints));
}
BENCHMARK(BM_AllocateResultOnly)->Unit(benchmark::kMillisecond);

void BM_ReadDownsampled(benchmark::State& state) {
  ReadFixture& f = Read10M();
  TimeView(state, f);
  ReadCounters(state, f);
}
BENCHMARK(BM_ReadDownsampled)->Unit(benchmark::kMillisecond);

// A 1,000-point view of one compacted series of state.range(0) points, as
// the UI asks for it: from the footer where buckets hold whole blocks, from
// the view chunk where they hold whole sub-blocks, by decoding otherwise.
void BM_ViewOfLength(benchmark::State& state) {
  const auto points = static_cast<size_t>(state.range(0));
  ReadFixture& f = ReadOfLength(points);
  TimeView(state, f);
  state.counters["bytes_per_point"] =
      static_cast<double>(f.compaction.after) / static_cast<double>(points);
}
BENCHMARK(BM_ViewOfLength)
    ->ArgName("points")
    ->Arg(100'000)
    ->Arg(255'000)
    ->Arg(256'000)
    ->Arg(1'000'000)
    ->Arg(2'000'000)
    ->Arg(4'000'000)
    ->Arg(30'000'000)
    ->Arg(100'000'000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace runlog::bench

BENCHMARK_MAIN();
