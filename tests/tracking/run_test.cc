#include "tracking/run.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/fault_file_system.h"
#include "storage/mem_file_system.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/series_summary.h"
#include "tests/testing/status_matchers.h"
#include "tracking/repo.h"

namespace runlog {
namespace {

using ::runlog::testing::ExpectSameSeries;
using ::runlog::testing::FakeSystemProbe;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class RunTest : public ::testing::Test {
 protected:
  RunTest()
      : clock_(absl::FromUnixSeconds(1'700'000'000)),
        mem_(&clock_),
        fs_(&mem_) {
    RepoOptions o;
    o.fs = &fs_;
    o.clock = &clock_;
    o.probe = &probe_;
    repo_ = *Repo::Open("/repo", o);
  }

  std::unique_ptr<runlog::Run> NewRun(RunOptions o = {}) {
    auto run = repo_->CreateRun(o);
    EXPECT_THAT(run, IsOk());
    return run.ok() ? *std::move(run) : nullptr;
  }
  std::unique_ptr<RunView> View(const std::string& id) {
    auto view = repo_->OpenRun(id);
    EXPECT_THAT(view, IsOk());
    return view.ok() ? *std::move(view) : nullptr;
  }

  storage::ManualClock clock_;
  storage::MemFileSystem mem_;
  storage::FaultInjectingFileSystem fs_;
  FakeSystemProbe probe_;
  std::unique_ptr<Repo> repo_;
};

TEST_F(RunTest, HandlePathRoundTripsEveryPoint) {
  auto run = NewRun();
  auto loss = run->Series("loss", {{"subset", "train"}});
  ASSERT_THAT(loss, IsOk());
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_THAT(loss->Track(i, 1.0 / (1 + i)), IsOk());
  }
  const std::string id = run->id();
  ASSERT_THAT(run->Commit(), IsOk());
  auto view = View(id);
  auto cols = view->ReadScalars({"loss", {{"subset", "train"}}});
  ASSERT_THAT(cols, IsOk());
  ASSERT_EQ(cols->size(), 10'000u);
  for (int i = 0; i < 10'000; ++i) {
    EXPECT_EQ(cols->steps[i], i);
    EXPECT_EQ(cols->values[i], 1.0 / (1 + i));
    EXPECT_TRUE(std::isnan(cols->epochs[i]));
  }
}

TEST_F(RunTest, StepsDefaultToLastPlusOne) {
  auto run = NewRun();
  ASSERT_THAT(run->Track("acc", 0.1), IsOk());
  ASSERT_THAT(run->Track("acc", 0.2), IsOk());
  ASSERT_THAT(run->Track("acc", 0.3, 10), IsOk());
  ASSERT_THAT(run->Track("acc", 0.4), IsOk());
  const std::string id = run->id();
  ASSERT_THAT(run->Commit(), IsOk());
  auto cols = View(id)->ReadScalars({"acc", {}});
  ASSERT_THAT(cols, IsOk());
  EXPECT_THAT(cols->steps, ElementsAre(0, 1, 10, 11));
}

TEST_F(RunTest, NamePathContextsAreSeparateSeries) {
  auto run = NewRun();
  for (int i = 0; i < 100; ++i) {
    ASSERT_THAT(run->Track("loss", i, i, {{"subset", "train"}}, 0.5), IsOk());
    ASSERT_THAT(run->Track("loss", -i, i, {{"subset", "val"}}), IsOk());
  }
  const std::string id = run->id();
  ASSERT_THAT(run->Commit(), IsOk());
  auto view = View(id);
  ASSERT_THAT(view->series(), SizeIs(2));
  auto train = view->ReadScalars({"loss", {{"subset", "train"}}});
  auto val = view->ReadScalars({"loss", {{"subset", "val"}}});
  ASSERT_THAT(train, IsOk());
  ASSERT_THAT(val, IsOk());
  EXPECT_EQ(train->values[99], 99);
  EXPECT_EQ(val->values[99], -99);
  EXPECT_EQ(train->epochs[3], 0.5);
}

TEST_F(RunTest, BatchPathMatchesSinglePoints) {
  auto run = NewRun({.buffer_points = 1000});
  std::vector<int64_t> steps(25'000);
  std::vector<double> values(25'000);
  for (size_t i = 0; i < steps.size(); ++i) {
    steps[i] = static_cast<int64_t>(i * 2);
    values[i] = std::sin(static_cast<double>(i));
  }
  ASSERT_THAT(run->TrackBatch("wave", {}, steps, values), IsOk());
  EXPECT_THAT(
      run->TrackBatch("wave", {}, steps, absl::MakeSpan(values).subspan(1)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("wave")));
  const std::string id = run->id();
  ASSERT_THAT(run->Commit(), IsOk());
  auto cols = View(id)->ReadScalars({"wave", {}});
  ASSERT_THAT(cols, IsOk());
  EXPECT_EQ(cols->steps, steps);
  EXPECT_EQ(cols->values, values);
}

TEST_F(RunTest, SummariesAreKeptInCommit) {
  auto run = NewRun();
  for (double v : {3.0, 1.0, std::nan(""), 7.0, 2.0}) {
    ASSERT_THAT(run->Track("m", v), IsOk());
  }
  const std::string id = run->id();
  ASSERT_THAT(run->Commit(), IsOk());
  auto record = repo_->GetRun(id);
  ASSERT_THAT(record, IsOk());
  ASSERT_THAT(record->summary.series, SizeIs(1));
  const SeriesSummary& s = record->summary.series[0];
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.first, 3.0);
  EXPECT_EQ(s.last, 2.0);
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 7.0);
  EXPECT_EQ(s.last_step, 4);
}

TEST_F(RunTest, LiveSummaryMatchesPointByPointAcrossFlushesAndBatches) {
  // The handle path only buffers; the summary is folded in when the buffer
  // is flushed or the summary read. Whatever the mix, it must equal
  // SeriesSummary::Add of every point in order.
  auto run = NewRun({.buffer_points = 64});
  auto series = run->Series("m");
  ASSERT_THAT(series, IsOk());
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> value(-5.0, 5.0);
  SeriesSummary expected;
  expected.key = SeriesKey{"m", {}};
  int64_t step = 0;
  for (int round = 0; round < 40; ++round) {
    const int points = static_cast<int>(rng() % 150);
    for (int i = 0; i < points; ++i) {
      double v = value(rng);
      if (rng() % 13 == 0) v = std::nan("");
      if (rng() % 17 == 0) v = round % 2 == 0 ? 0.0 : -0.0;
      ASSERT_THAT(series->Track(step, v), IsOk());
      expected.Add(step, v);
      step += 1 + static_cast<int64_t>(rng() % 3);
    }
    if (round % 3 == 0) {
      std::vector<int64_t> steps;
      std::vector<double> values;
      for (int i = 0; i < 100; ++i) {
        steps.push_back(step);
        values.push_back(value(rng));
        expected.Add(step, values.back());
        ++step;
      }
      ASSERT_THAT(series->TrackBatch(steps, values), IsOk());
    }
    if (round % 5 == 0 && expected.count > 0) {  // default step: last + 1
      ASSERT_THAT(run->Track("m", 1.5), IsOk());
      expected.Add(expected.last_step + 1, 1.5);
      step = expected.last_step + 1;
    }
    SCOPED_TRACE(absl::StrCat("round ", round));
    ExpectSameSeries(series->summary(), expected);
  }
  const std::string id = run->id();
  ASSERT_THAT(run->Commit(), IsOk());
  auto record = repo_->GetRun(id);
  ASSERT_THAT(record, IsOk());
  ASSERT_THAT(record->summary.series, SizeIs(1));
  ExpectSameSeries(record->summary.series[0], expected);
}

TEST_F(RunTest, ParamsTagsAndMetadataRoundTrip) {
  RunOptions o;
  o.experiment = "sweep";
  o.name = "lr-1e-3";
  o.tags = {"baseline"};
  Value::Map init;
  init["seed"] = Value(int64_t{42});
  o.params = Value(init);
  auto run = NewRun(o);
  ASSERT_THAT(run->SetParam("hparams.lr", Value(0.001)), IsOk());
  ASSERT_THAT(
      run->SetParam("hparams.layers", Value(Value::List{Value(64), Value(64)})),
      IsOk());
  ASSERT_THAT(run->AddTag("gpu"), IsOk());
  ASSERT_THAT(run->SetDescription("first try"), IsOk());
  const std::string id = run->id();
  ASSERT_THAT(run->Commit(), IsOk());
  auto record = repo_->GetRun(id);
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->summary.experiment, "sweep");
  EXPECT_EQ(record->summary.name, "lr-1e-3");
  EXPECT_EQ(record->summary.description, "first try");
  EXPECT_THAT(record->summary.tags, ElementsAre("baseline", "gpu"));
  auto lr = GetPath(record->summary.params, "hparams.lr");
  ASSERT_THAT(lr, IsOk());
  EXPECT_EQ((*lr)->as_double(), 0.001);
  auto seed = GetPath(record->summary.params, "seed");
  ASSERT_THAT(seed, IsOk());
  EXPECT_EQ((*seed)->as_int(), 42);
  EXPECT_EQ(record->status, RunStatus::kFinished);
}

TEST_F(RunTest, LiveRunIsReadableWithTheSameModel) {
  auto run = NewRun({.experiment = "live"});
  ASSERT_THAT(run->SetParam("lr", Value(0.1)), IsOk());
  for (int i = 0; i < 500; ++i)
    ASSERT_THAT(run->Track("loss", i * 0.5), IsOk());
  ASSERT_THAT(run->Flush(), IsOk());
  auto record = repo_->GetRun(run->id());
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->status, RunStatus::kRunning);
  EXPECT_EQ(record->summary.experiment, "live");
  ASSERT_THAT(record->summary.series, SizeIs(1));
  EXPECT_EQ(record->summary.series[0].count, 500);
  EXPECT_EQ(record->summary.series[0].max, 249.5);
  auto cols = View(run->id())->ReadScalars({"loss", {}});
  ASSERT_THAT(cols, IsOk());
  EXPECT_EQ(cols->size(), 500u);
}

TEST_F(RunTest, TextHistogramAndBlobSeries) {
  auto run = NewRun();
  ASSERT_THAT(run->TrackText("sample", "hello", 1), IsOk());
  ASSERT_THAT(run->TrackText("sample", "world", 2), IsOk());
  Histogram h{{0, 1, 2}, {5, 7}};
  ASSERT_THAT(run->TrackHistogram("weights", h, 3), IsOk());
  Blob img{"image/png", std::string("\x89PNG\r\n\x1a\n\0\1", 10)};
  ASSERT_THAT(run->TrackBlob("images", img, 4, {{"subset", "val"}}), IsOk());
  EXPECT_THAT(run->TrackHistogram("bad", Histogram{{0, 1}, {1, 2}}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(run->Track("sample", 1.0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("text")));
  const std::string id = run->id();
  ASSERT_THAT(run->Commit(), IsOk());
  auto view = View(id);
  auto texts = view->ReadTexts({"sample", {}});
  ASSERT_THAT(texts, IsOk());
  EXPECT_THAT(texts->values, ElementsAre("hello", "world"));
  auto hists = view->ReadHistograms({"weights", {}});
  ASSERT_THAT(hists, IsOk());
  ASSERT_THAT(hists->values, SizeIs(1));
  EXPECT_EQ(hists->values[0], h);
  auto blobs = view->ReadBlobs({"images", {{"subset", "val"}}});
  ASSERT_THAT(blobs, IsOk());
  ASSERT_THAT(blobs->values, SizeIs(1));
  EXPECT_EQ(blobs->values[0], img);
  EXPECT_EQ(blobs->steps[0], 4);
  EXPECT_THAT(view->ReadScalars({"sample", {}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("text")));
  EXPECT_THAT(view->ReadScalars({"nope", {}}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
}

TEST_F(RunTest, StepRangeAndDownsampledRead) {
  auto run = NewRun();
  auto s = *run->Series("x");
  for (int i = 0; i < 100'000; ++i) {
    ASSERT_THAT(s.Track(i, (i % 1000 == 500) ? 1e6 : std::sin(i * 0.001)),
                IsOk());
  }
  const std::string id = run->id();
  ASSERT_THAT(run->Commit(), IsOk());
  auto view = View(id);
  auto range = view->ReadScalars({"x", {}}, StepRange{10, 19});
  ASSERT_THAT(range, IsOk());
  ASSERT_EQ(range->size(), 10u);
  EXPECT_EQ(range->steps.front(), 10);
  EXPECT_EQ(range->steps.back(), 19);
  auto small = view->ReadScalarsDownsampled({"x", {}}, 1000);
  ASSERT_THAT(small, IsOk());
  EXPECT_LE(small->size(), 1000u);
  EXPECT_EQ(small->steps.front(), 0);
  EXPECT_EQ(small->steps.back(), 99'999);
  // Every spike survives downsampling.
  int spikes = 0;
  for (double v : small->values) spikes += v == 1e6;
  EXPECT_EQ(spikes, 100);
  EXPECT_THAT(view->ReadScalarsDownsampled({"x", {}}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST_F(RunTest, InvalidInputDoesNotPoison) {
  auto run = NewRun();
  EXPECT_THAT(run->Track("", 1.0),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(run->SetParam("a..b", Value(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(run->Track(std::string(2000, 'n'), 1.0),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(run->Track("ok", 1.0), IsOk());
  EXPECT_THAT(run->Commit(), IsOk());
}

TEST_F(RunTest, StorageErrorPoisonsTheRun) {
  auto run = NewRun();
  ASSERT_THAT(run->Track("loss", 1.0), IsOk());
  fs_.FailNth(storage::FsOp::kWrite, 1, EIO, /*persistent=*/false);
  const absl::Status first = run->Flush();
  ASSERT_FALSE(first.ok());
  EXPECT_THAT(first.message(), HasSubstr(run->id()));
  EXPECT_EQ(run->Track("loss", 2.0), first);
  EXPECT_EQ(run->Commit(), first);
  EXPECT_FALSE(mem_.Stat(repo_->store().RunDir(run->id()) + "/COMMIT").ok());
}

TEST_F(RunTest, BufferAgeFlushesWithoutAThread) {
  auto run = NewRun({.max_buffer_age = absl::Seconds(1)});
  ASSERT_THAT(run->Track("loss", 1.0), IsOk());
  auto before = repo_->GetRun(run->id());
  ASSERT_THAT(before, IsOk());
  ASSERT_THAT(before->summary.series, SizeIs(0));  // definition not flushed
  clock_.Advance(absl::Seconds(2));
  // The next call sees the clock's tick moved, finds the buffered point
  // older than the limit and flushes it, inside the call.
  ASSERT_THAT(run->Track("loss", 1.0), IsOk());
  auto after = repo_->GetRun(run->id());
  ASSERT_THAT(after, IsOk());
  ASSERT_THAT(after->summary.series, SizeIs(1));
  EXPECT_EQ(after->summary.series[0].count, 1);
}

// A point tracked long after the previous one is stamped with the time of
// its own call, not the time the clock was last read (the clock used to be
// read only every 32 points: a point every 30 s got a wall time up to 15
// minutes old, and the buffer age went unchecked as long).
TEST_F(RunTest, RarePointsGetTheTimeOfTheirOwnCall) {
  auto run = NewRun({.max_buffer_age = absl::Seconds(5)});
  auto series = *run->Series("loss");
  ASSERT_THAT(series.Track(0, 1.0), IsOk());
  const absl::Time first = clock_.Now();
  clock_.Advance(absl::Seconds(30));
  ASSERT_THAT(series.Track(1, 2.0), IsOk());
  // The 5 s buffer age passed: the call flushed the point buffered 30 s
  // ago before taking its own.
  auto live = repo_->GetRun(run->id());
  ASSERT_THAT(live, IsOk());
  ASSERT_THAT(live->summary.series, SizeIs(1));
  EXPECT_EQ(live->summary.series[0].count, 1);
  ASSERT_THAT(run->Commit(), IsOk());
  auto cols = View(run->id())->ReadScalars({"loss", {}});
  ASSERT_THAT(cols, IsOk());
  ASSERT_THAT(cols->times_us, SizeIs(2));
  EXPECT_EQ(cols->times_us[0], absl::ToUnixMicros(first));
  EXPECT_EQ(cols->times_us[1], absl::ToUnixMicros(clock_.Now()));
}

TEST_F(RunTest, CallsAfterEndAreFailedPreconditionAndIdStays) {
  auto run = NewRun();
  const std::string id = run->id();
  ASSERT_THAT(run->Close(), IsOk());
  EXPECT_EQ(run->id(), id);
  EXPECT_THAT(run->Track("x", 1),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(id)));
  EXPECT_THAT(run->Commit(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(id)));
}

TEST_F(RunTest, FailCommitsWithReason) {
  auto run = NewRun();
  const std::string id = run->id();
  ASSERT_THAT(run->Fail("CUDA out of memory"), IsOk());
  auto record = repo_->GetRun(id);
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->status, RunStatus::kFailed);
  EXPECT_EQ(record->failure_reason, "CUDA out of memory");
}

}  // namespace
}  // namespace runlog
