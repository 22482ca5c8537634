// The fast lane of scalar series (tracking/run.h, ScalarLane): points that
// ScalarSeries::Track appends inline on the real clock. Every other test of
// Run sets its clock by hand, which keeps lanes closed, so these use the
// real clock and check that whatever the mix of calls, the run holds exactly
// the points tracked, with their times, within the buffer limit.
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/fault_file_system.h"
#include "storage/mem_file_system.h"
#include "tests/testing/double_bits.h"
#include "tests/testing/series_summary.h"
#include "tests/testing/status_matchers.h"
#include "tracking/repo.h"
#include "tracking/run.h"

namespace runlog {
namespace {

using ::runlog::testing::Bits;
using ::runlog::testing::ExpectSameSeries;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;

// What a series should hold: its points in order, and their summary.
struct Expected {
  std::vector<int64_t> steps;
  std::vector<double> values;
  std::vector<double> epochs;  // NaN where none was given
  SeriesSummary summary;

  void Add(int64_t step, double value, double epoch = std::nan("")) {
    steps.push_back(step);
    values.push_back(value);
    epochs.push_back(epoch);
    summary.Add(step, value);
  }
  int64_t NextStep() const { return steps.empty() ? 0 : steps.back() + 1; }
};

class ScalarLaneTest : public ::testing::Test {
 protected:
  ScalarLaneTest() : mem_(storage::Clock::Default()), fs_(&mem_) {
    RepoOptions o;
    o.fs = &fs_;
    repo_ = *Repo::Open("/repo", o);
  }

  std::unique_ptr<runlog::Run> NewRun(RunOptions o = {}) {
    auto run = repo_->CreateRun(o);
    EXPECT_THAT(run, IsOk());
    return run.ok() ? *std::move(run) : nullptr;
  }

  // Reads `key` of run `id` (committed or live) and compares it with `want`.
  void ExpectHolds(const std::string& id, const SeriesKey& key,
                   const Expected& want) {
    auto view = repo_->OpenRun(id);
    ASSERT_THAT(view, IsOk());
    auto cols = (*view)->ReadScalars(key);
    ASSERT_THAT(cols, IsOk());
    ASSERT_EQ(cols->size(), want.steps.size()) << key.ToString();
    for (size_t i = 0; i < want.steps.size(); ++i) {
      ASSERT_EQ(cols->steps[i], want.steps[i]) << key.ToString() << " #" << i;
      ASSERT_EQ(Bits(cols->values[i]), Bits(want.values[i]))
          << key.ToString() << " #" << i;
      ASSERT_EQ(std::isnan(cols->epochs[i]), std::isnan(want.epochs[i]))
          << key.ToString() << " #" << i;
      if (!std::isnan(want.epochs[i])) {
        ASSERT_EQ(cols->epochs[i], want.epochs[i]);
      }
    }
  }

  storage::MemFileSystem mem_;
  storage::FaultInjectingFileSystem fs_;
  std::unique_ptr<Repo> repo_;
};

TEST_F(ScalarLaneTest, AnyMixOfCallsKeepsEveryPointInOrder) {
  // A small buffer, so lanes open, fill, share the buffer and close at
  // flushes many times over.
  auto run = NewRun({.buffer_points = 500});
  const SeriesKey keys[] = {{"loss", {{"subset", "train"}}},
                            {"loss", {{"subset", "val"}}},
                            {"lr", {}}};
  std::vector<ScalarSeries> handles;
  std::map<SeriesKey, Expected> want;
  for (const SeriesKey& k : keys) {
    auto h = run->Series(k.name, k.context);
    ASSERT_THAT(h, IsOk());
    handles.push_back(*h);
    want[k].summary.key = k;
  }
  std::mt19937_64 rng(19);
  std::uniform_real_distribution<double> value(-3.0, 3.0);
  for (int i = 0; i < 60'000; ++i) {
    const size_t which = rng() % 3;
    const SeriesKey& k = keys[which];
    Expected& e = want[k];
    ScalarSeries& h = handles[which];
    const double v = rng() % 29 == 0 ? std::nan("") : value(rng);
    switch (rng() % 16) {
      case 0:  // by name, next step
        ASSERT_THAT(run->Track(k.name, v, std::nullopt, k.context), IsOk());
        e.Add(e.NextStep(), v);
        break;
      case 1: {  // by name, own step
        const int64_t step = e.NextStep() + 2;
        ASSERT_THAT(run->Track(k.name, v, step, k.context), IsOk());
        e.Add(step, v);
        break;
      }
      case 2: {  // with an epoch: the slow way
        const int64_t step = e.NextStep();
        ASSERT_THAT(h.Track(step, v, 1.0 * i), IsOk());
        e.Add(step, v, 1.0 * i);
        break;
      }
      case 3: {  // a batch
        std::vector<int64_t> steps;
        std::vector<double> values;
        for (int j = 0; j < 7; ++j) {
          steps.push_back(e.NextStep() + j);
          values.push_back(value(rng));
        }
        ASSERT_THAT(h.TrackBatch(steps, values), IsOk());
        for (int j = 0; j < 7; ++j) e.Add(steps[j], values[j]);
        break;
      }
      case 4:  // the summary read mid-lane settles it
        ExpectSameSeries(h.summary(), e.summary);
        break;
      case 5:  // another kind of call on the run
        ASSERT_THAT(run->TrackText("note", absl::StrCat(i)), IsOk());
        break;
      case 6:
      case 7:
      case 8:  // the handle, next step
        ASSERT_THAT(h.Track(v), IsOk());
        e.Add(e.NextStep(), v);
        break;
      default: {  // the handle, own step (gaps too)
        const int64_t step = e.NextStep() + static_cast<int64_t>(rng() % 2);
        ASSERT_THAT(h.Track(step, v), IsOk());
        e.Add(step, v);
        break;
      }
    }
    if (i % 20'000 == 19'999) {
      ASSERT_THAT(run->Flush(), IsOk());
    }
  }
  const std::string id = run->id();
  // Live, then committed.
  for (const SeriesKey& k : keys) {
    SCOPED_TRACE(k.ToString());
    ExpectSameSeries(handles[&k - keys].summary(), want[k].summary);
  }
  ASSERT_THAT(run->Flush(), IsOk());
  for (const SeriesKey& k : keys) ExpectHolds(id, k, want[k]);
  ASSERT_THAT(run->Commit(), IsOk());
  for (const SeriesKey& k : keys) ExpectHolds(id, k, want[k]);
  auto record = repo_->GetRun(id);
  ASSERT_THAT(record, IsOk());
  for (const SeriesSummary& s : record->summary.series) {
    if (s.kind != SeriesKind::kScalar) continue;
    SCOPED_TRACE(s.key.ToString());
    ExpectSameSeries(s, want[s.key].summary);
  }
}

TEST_F(ScalarLaneTest, PointsTakeTheTimeOfTheirCall) {
  auto run = NewRun();
  auto h = *run->Series("loss");
  const int64_t before = absl::ToUnixMicros(absl::Now());
  std::vector<std::pair<int64_t, int64_t>> windows;  // per point
  for (int i = 0; i < 20'000; ++i) {
    const int64_t lo = absl::ToUnixMicros(absl::Now());
    ASSERT_THAT(h.Track(i, 0.5 * i), IsOk());
    windows.emplace_back(lo, absl::ToUnixMicros(absl::Now()));
  }
  const std::string id = run->id();
  ASSERT_THAT(run->Commit(), IsOk());
  auto cols = (*repo_->OpenRun(id))->ReadScalars({"loss", {}});
  ASSERT_THAT(cols, IsOk());
  ASSERT_EQ(cols->size(), windows.size());
  // A point's time is read when the coarse clock moves, so it may be up to
  // one tick older than its call, never newer; 10 ms covers any tick.
  constexpr int64_t kTickUs = 10'000;
  for (size_t i = 0; i < windows.size(); ++i) {
    ASSERT_GE(cols->times_us[i], before - kTickUs) << i;
    ASSERT_GE(cols->times_us[i], windows[i].first - kTickUs) << i;
    ASSERT_LE(cols->times_us[i], windows[i].second) << i;
    if (i > 0) {
      ASSERT_GE(cols->times_us[i], cols->times_us[i - 1]) << i;
    }
  }
}

TEST_F(ScalarLaneTest, BufferLimitHoldsWhateverTheLanesTake) {
  constexpr size_t kBuffer = 256;
  auto run = NewRun({.buffer_points = kBuffer});
  // "a" reserves its columns while it is the only series (room for the
  // whole buffer), "b" joins later: the lanes of both must still share one
  // buffer's worth.
  auto a = *run->Series("a");
  ScalarSeries b;
  const std::string id = run->id();
  size_t tracked = 0;
  for (int i = 0; i < 3'000; ++i) {
    ASSERT_THAT(a.Track(i, 1.0), IsOk());
    ++tracked;
    if (i == 100) b = *run->Series("b");
    if (i >= 100) {
      ASSERT_THAT(b.Track(i, 2.0), IsOk());
      ++tracked;
    }
    if (i % 37 != 36) continue;
    // What a live reader sees: all but at most one buffer's worth.
    auto view = repo_->OpenRun(id);
    ASSERT_THAT(view, IsOk());
    size_t seen = 0;
    for (const char* name : {"a", "b"}) {
      auto cols = (*view)->ReadScalars({name, {}});
      if (cols.ok()) seen += cols->size();
    }
    ASSERT_GE(seen + kBuffer, tracked) << "after point " << i;
  }
}

TEST_F(ScalarLaneTest, HandlesStopAtTheEndOfTheRun) {
  auto run = NewRun();
  auto h = *run->Series("loss");
  for (int i = 0; i < 100; ++i) ASSERT_THAT(h.Track(i, 1.0), IsOk());
  ASSERT_THAT(run->Commit(), IsOk());
  EXPECT_THAT(h.Track(100, 1.0),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_THAT(h.Track(1.0),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_EQ(h.summary().count, 100);

  auto closed = NewRun();
  auto c = *closed->Series("loss");
  ASSERT_THAT(c.Track(0, 1.0), IsOk());
  ASSERT_THAT(c.Track(1, 1.0), IsOk());
  ASSERT_THAT(closed->Close(), IsOk());
  EXPECT_THAT(c.Track(2, 1.0),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));

  auto deleted = NewRun();
  auto d = *deleted->Series("loss");
  ASSERT_THAT(d.Track(0, 1.0), IsOk());
  ASSERT_THAT(d.Track(1, 1.0), IsOk());
  ASSERT_THAT(repo_->DeleteRun(deleted->id()), IsOk());
  EXPECT_THAT(d.Track(2, 1.0),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
}

TEST_F(ScalarLaneTest, AStorageErrorStopsTheHandles) {
  auto run = NewRun({.buffer_points = 64});
  auto h = *run->Series("loss");
  ASSERT_THAT(h.Track(0, 1.0), IsOk());
  ASSERT_THAT(h.Track(1, 1.0), IsOk());
  fs_.FailNth(storage::FsOp::kWrite, 1, EIO, /*persistent=*/true);
  absl::Status first;
  int64_t step = 2;
  for (; step < 10'000 && first.ok(); ++step) first = h.Track(step, 1.0);
  ASSERT_FALSE(first.ok()) << "no write failed in 10,000 points";
  for (int i = 0; i < 100; ++i) EXPECT_EQ(h.Track(step + i, 1.0), first);
  EXPECT_EQ(run->Commit(), first);
}

}  // namespace
}  // namespace runlog
