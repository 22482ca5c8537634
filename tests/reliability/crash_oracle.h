// The write-trace oracle of the crash harness: what a writer logs into its
// run number `run` is a pure function of (seed, run), so a reader can check
// every point of any run it finds, whatever happened to the writer.
//
// A RunPlan lists the run's options, its series and a sequence of operations
// (track a burst of points, track a batch, flush, set a param, add a tag)
// followed by how the run ends (commit, fail, close, delete, leave open).
// Point i of series s has step i * stride, value PointValue(seed, run, s, i)
// (an integer divided by a power of two, so exact in every encoding) and
// epoch i / 4 for series that carry epochs. The run records its own seed and
// number in its params (crash.seed, crash.run) and in its name ("r<run>").
//
// Header-only: used by the test file that forks the writers and checks.
#ifndef RUNLOG_TESTS_RELIABILITY_CRASH_ORACLE_H_
#define RUNLOG_TESTS_RELIABILITY_CRASH_ORACLE_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/sync_policy.h"
#include "tests/testing/double_bits.h"
#include "tracking/repo.h"
#include "tracking/run.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace runlog::crash {

// splitmix64's finalizer: a fixed, portable mixing function (unlike the
// distributions of <random>, whose output is implementation-defined).
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A small deterministic generator for plans and schedules.
class PlanRandom {
 public:
  explicit PlanRandom(uint64_t seed) : state_(Mix(seed)) {}
  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ull;
    return Mix(state_);
  }
  // Uniform in [lo, hi].
  int64_t Uniform(int64_t lo, int64_t hi) {
    return lo +
           static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }

 private:
  uint64_t state_;
};

struct SeriesPlan {
  SeriesKey key;
  SeriesKind kind = SeriesKind::kScalar;  // kScalar or kText
  int64_t stride = 1;
  bool epochs = false;
};

enum class OpKind { kTrack, kBatch, kFlush, kParam, kTag };

struct Op {
  OpKind kind = OpKind::kFlush;
  int series = 0;      // kTrack, kBatch
  int64_t points = 0;  // kTrack, kBatch
  std::string name;    // kParam (path), kTag
  int64_t value = 0;   // kParam
};

enum class Ending {
  kCommit,            // Commit(): finished
  kFail,              // Fail(): failed
  kClose,             // Close(): uncommitted, everything flushed
  kDiscard,           // Repo::DeleteRun() while open
  kCommitThenDelete,  // Commit(), then Repo::DeleteRun()
  kLeaveOpen,         // the writer keeps the Run open until it dies
};

inline double PointValue(uint64_t seed, int64_t run, int series, int64_t i) {
  const uint64_t h = Mix(
      seed ^
      Mix(static_cast<uint64_t>(run) * 0x100000001b3ull ^
          Mix(static_cast<uint64_t>(series) << 48 ^ static_cast<uint64_t>(i))));
  // A 40-bit signed integer over 1024: exact as a double.
  return static_cast<double>(static_cast<int64_t>(h >> 24) -
                             (int64_t{1} << 39)) /
         1024.0;
}

inline std::string PointText(int64_t run, int series, int64_t i) {
  return absl::StrCat("r", run, " s", series, " #", i);
}

struct RunPlan {
  uint64_t seed = 0;
  int64_t run = 0;
  storage::SyncPolicy sync_policy = storage::SyncPolicy::kOnCommit;
  size_t buffer_points = 0;
  uint64_t segment_roll_size = 0;
  std::vector<SeriesPlan> series;
  std::vector<Op> ops;
  Ending ending = Ending::kCommit;

  int64_t Step(int s, int64_t i) const { return i * series[s].stride; }
  double Epoch(int s, int64_t i) const {
    return series[s].epochs ? static_cast<double>(i) / 4.0
                            : std::numeric_limits<double>::quiet_NaN();
  }

  RunOptions Options() const {
    RunOptions o;
    o.experiment = "crash";
    o.name = absl::StrCat("r", run);
    o.tags = {"crash"};
    o.params = InitialParams();
    o.sync_policy = sync_policy;
    o.buffer_points = buffer_points;
    o.segment_roll_size = segment_roll_size;
    return o;
  }
  Value InitialParams() const {
    Value::Map crash;
    crash["seed"] = Value(static_cast<int64_t>(seed));
    crash["run"] = Value(run);
    Value::Map root;
    root["crash"] = Value(std::move(crash));
    return Value(std::move(root));
  }
  Value FinalParams() const {
    Value p = InitialParams();
    for (const Op& op : ops) {
      if (op.kind == OpKind::kParam)
        SetPath(p, op.name, op.value).IgnoreError();
    }
    return p;
  }
  std::set<std::string> FinalTags() const {
    std::set<std::string> tags = {"crash"};
    for (const Op& op : ops) {
      if (op.kind == OpKind::kTag) tags.insert(op.name);
    }
    return tags;
  }
  // Points per series once the first `ops_done` operations have run.
  std::vector<int64_t> CountsAfter(size_t ops_done) const {
    std::vector<int64_t> counts(series.size(), 0);
    for (size_t i = 0; i < ops_done && i < ops.size(); ++i) {
      if (ops[i].kind == OpKind::kTrack || ops[i].kind == OpKind::kBatch) {
        counts[ops[i].series] += ops[i].points;
      }
    }
    return counts;
  }
  std::vector<int64_t> FinalCounts() const { return CountsAfter(ops.size()); }
  bool Commits() const {
    return ending == Ending::kCommit || ending == Ending::kFail ||
           ending == Ending::kCommitThenDelete;
  }
};

inline RunPlan MakePlan(uint64_t seed, int64_t run) {
  PlanRandom g(seed ^ Mix(static_cast<uint64_t>(run)));
  RunPlan p;
  p.seed = seed;
  p.run = run;
  // Every policy keeps the same promise under SIGKILL; fsyncs only cost
  // time (a few ms each), so tiny buffers go with the policies that do not
  // fsync at each flush.
  const int64_t policy = g.Uniform(0, 9);
  p.sync_policy = policy < 3   ? storage::SyncPolicy::kOnCommit
                  : policy < 8 ? storage::SyncPolicy::kNever
                               : storage::SyncPolicy::kEveryFlush;
  constexpr size_t kBufferPoints[] = {8, 50, 300, size_t{1} << 16};
  p.buffer_points =
      kBufferPoints[p.sync_policy == storage::SyncPolicy::kEveryFlush
                        ? g.Uniform(2, 3)
                        : g.Uniform(0, 3)];
  constexpr uint64_t kRollSizes[] = {1024, 8192, 1u << 20, 64u << 20};
  p.segment_roll_size = kRollSizes[g.Uniform(0, 3)];

  const SeriesPlan pool[] = {
      {{"loss", {{"subset", "train"}}}, SeriesKind::kScalar, 1, true},
      {{"loss", {{"subset", "val"}}}, SeriesKind::kScalar, 10, false},
      {{"acc", {}}, SeriesKind::kScalar, 1, false},
      {{"lr", {}}, SeriesKind::kScalar, 5, true},
      {{"grad", {{"layer", "0"}, {"subset", "train"}}},
       SeriesKind::kScalar,
       2,
       false},
      {{"sample", {{"subset", "val"}}}, SeriesKind::kText, 3, false},
  };
  constexpr int kPool = sizeof(pool) / sizeof(pool[0]);
  std::vector<int> order(kPool);
  for (int i = 0; i < kPool; ++i) order[i] = i;
  for (int i = kPool - 1; i > 0; --i) {
    std::swap(order[i], order[g.Uniform(0, i)]);
  }
  const int n = static_cast<int>(g.Uniform(1, 4));
  for (int i = 0; i < n; ++i) p.series.push_back(pool[order[i]]);

  const int ops = static_cast<int>(g.Uniform(3, 14));
  for (int i = 0; i < ops; ++i) {
    Op op;
    const int64_t r = g.Uniform(0, 99);
    op.series = static_cast<int>(g.Uniform(0, n - 1));
    if (r < 60) {
      op.kind = OpKind::kTrack;
      op.points = g.Uniform(1, 40);
    } else if (r < 80) {
      // Batches carry no epochs.
      const SeriesPlan& s = p.series[op.series];
      op.kind = s.kind == SeriesKind::kScalar && !s.epochs ? OpKind::kBatch
                                                           : OpKind::kTrack;
      op.points = g.Uniform(1, 120);
    } else if (r < 92) {
      op.kind = OpKind::kFlush;
    } else if (r < 97) {
      op.kind = OpKind::kParam;
      op.name = absl::StrCat("hp.k", g.Uniform(0, 5));
      op.value = g.Uniform(-1000, 1000);
    } else {
      op.kind = OpKind::kTag;
      op.name = absl::StrCat("t", g.Uniform(0, 3));
    }
    p.ops.push_back(std::move(op));
  }
  const int64_t e = g.Uniform(0, 99);
  p.ending = e < 40   ? Ending::kCommit
             : e < 50 ? Ending::kFail
             : e < 65 ? Ending::kClose
             : e < 75 ? Ending::kDiscard
             : e < 85 ? Ending::kCommitThenDelete
                      : Ending::kLeaveOpen;
  return p;
}

// The run number a run records in its params, if it is there and was made
// with `seed`.
inline std::optional<int64_t> RunNumberOf(const RunSummary& summary,
                                          uint64_t seed) {
  const Value* crash = summary.params.Find("crash");
  if (crash == nullptr) return std::nullopt;
  const Value* s = crash->Find("seed");
  const Value* r = crash->Find("run");
  if (s == nullptr || r == nullptr || !s->is_int() || !r->is_int() ||
      s->as_int() != static_cast<int64_t>(seed)) {
    return std::nullopt;
  }
  return r->as_int();
}

// Checks the points of series `s` of `plan` as read back: point i must be
// exactly the plan's i-th point (no hole, no wrong value), and the count
// within [min_count, max_count].
template <typename Columns>
::testing::AssertionResult CheckPoints(const RunPlan& plan, int s,
                                       const Columns& cols, int64_t min_count,
                                       int64_t max_count) {
  const std::string where = absl::StrCat("run r", plan.run, " series ",
                                         plan.series[s].key.ToString());
  const int64_t n = static_cast<int64_t>(cols.size());
  if (n < min_count || n > max_count) {
    return ::testing::AssertionFailure()
           << where << ": " << n << " points, expected between " << min_count
           << " and " << max_count;
  }
  for (int64_t i = 0; i < n; ++i) {
    const size_t at = static_cast<size_t>(i);
    bool value_ok;
    if constexpr (std::is_same_v<Columns, ScalarColumns>) {
      value_ok = testing::Bits(cols.values[at]) ==
                 testing::Bits(PointValue(plan.seed, plan.run, s, i));
    } else {
      value_ok = cols.values[at] == PointText(plan.run, s, i);
    }
    const double epoch = plan.Epoch(s, i);
    const bool epoch_ok =
        std::isnan(epoch)
            ? std::isnan(cols.epochs[at])
            : testing::Bits(epoch) == testing::Bits(cols.epochs[at]);
    if (cols.steps[at] != plan.Step(s, i) || !value_ok || !epoch_ok) {
      return ::testing::AssertionFailure()
             << where << ": point " << i << " of " << n << " is step "
             << cols.steps[at] << " epoch " << cols.epochs[at]
             << ", expected step " << plan.Step(s, i) << " epoch " << epoch
             << (value_ok ? "" : " (and the value differs)");
    }
  }
  return ::testing::AssertionSuccess();
}

// Reads every series of run `id` and checks it against `plan` (nullptr: the
// run must hold no series at all). counts[s] must lie in [min[s], max[s]];
// the counts read are stored in `observed`.
inline ::testing::AssertionResult CheckRun(Repo& repo, const std::string& id,
                                           const RunPlan* plan,
                                           const std::vector<int64_t>& min,
                                           const std::vector<int64_t>& max,
                                           std::vector<int64_t>* observed) {
  auto view = repo.OpenRun(id);
  if (!view.ok()) {
    return ::testing::AssertionFailure()
           << "run " << id << ": " << view.status();
  }
  const std::vector<SeriesSummary>& listed = (*view)->series();
  if (plan == nullptr) {
    if (!listed.empty()) {
      return ::testing::AssertionFailure()
             << "run " << id << " has no run number but has series "
             << listed[0].key.ToString();
    }
    return ::testing::AssertionSuccess();
  }
  for (const SeriesSummary& summary : listed) {
    bool planned = false;
    for (const SeriesPlan& s : plan->series) planned |= s.key == summary.key;
    if (!planned) {
      return ::testing::AssertionFailure()
             << "run " << id << " has unplanned series "
             << summary.key.ToString();
    }
  }
  observed->assign(plan->series.size(), 0);
  for (size_t s = 0; s < plan->series.size(); ++s) {
    const SeriesPlan& sp = plan->series[s];
    const SeriesSummary* summary = nullptr;
    for (const SeriesSummary& l : listed) {
      if (l.key == sp.key) summary = &l;
    }
    const int si = static_cast<int>(s);
    ::testing::AssertionResult ok = ::testing::AssertionSuccess();
    int64_t n = 0;
    if (summary == nullptr) {
      if (min[s] > 0) {
        return ::testing::AssertionFailure()
               << "run " << id << " (r" << plan->run << ") lacks series "
               << sp.key.ToString() << ", expected at least " << min[s]
               << " points";
      }
    } else if (sp.kind == SeriesKind::kScalar) {
      auto cols = (*view)->ReadScalars(sp.key);
      if (!cols.ok()) {
        return ::testing::AssertionFailure()
               << "run " << id << " " << sp.key.ToString() << ": "
               << cols.status();
      }
      ok = CheckPoints(*plan, si, *cols, min[s], max[s]);
      n = static_cast<int64_t>(cols->size());
    } else {
      auto cols = (*view)->ReadTexts(sp.key);
      if (!cols.ok()) {
        return ::testing::AssertionFailure()
               << "run " << id << " " << sp.key.ToString() << ": "
               << cols.status();
      }
      ok = CheckPoints(*plan, si, *cols, min[s], max[s]);
      n = static_cast<int64_t>(cols->size());
    }
    if (!ok) return ok << " (run " << id << ")";
    if (summary != nullptr && summary->count != n) {
      return ::testing::AssertionFailure()
             << "run " << id << " " << sp.key.ToString() << ": summary counts "
             << summary->count << " points, " << n << " read";
    }
    (*observed)[s] = n;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace runlog::crash

#endif  // RUNLOG_TESTS_RELIABILITY_CRASH_ORACLE_H_
