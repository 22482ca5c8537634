// RunOptions::system_metrics: samples taken inside the run's own calls.
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/mem_file_system.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/status_matchers.h"
#include "tracking/repo.h"
#include "tracking/run.h"

namespace runlog {
namespace {

using ::runlog::testing::FakeSystemProbe;
using ::runlog::testing::IsOk;

class RunSystemMetricsTest : public ::testing::Test {
 protected:
  RunSystemMetricsTest()
      : clock_(absl::FromUnixSeconds(1'700'000'000)), mem_(&clock_) {
    RepoOptions o;
    o.fs = &mem_;
    o.clock = &clock_;
    o.probe = &probe_;
    repo_ = *Repo::Open("/repo", o);
  }

  // The number of points of `name` {device: `device`} in committed run `id`
  // (0 when the run has no such series).
  int64_t Count(const std::string& id, const std::string& name,
                const std::string& device) {
    auto view = repo_->OpenRun(id);
    EXPECT_THAT(view, IsOk());
    if (!view.ok()) return -1;
    for (const SeriesSummary& s : (*view)->series()) {
      if (s.key.name == name && s.key.context == Context{{"device", device}}) {
        return s.count;
      }
    }
    return 0;
  }

  int SystemSeries(const std::string& id) {
    auto view = repo_->OpenRun(id);
    EXPECT_THAT(view, IsOk());
    int n = 0;
    for (const SeriesSummary& s : (*view)->series()) {
      n += s.key.name.rfind("__system__/", 0) == 0;
    }
    return n;
  }

  storage::ManualClock clock_;
  storage::MemFileSystem mem_;
  FakeSystemProbe probe_;
  std::unique_ptr<Repo> repo_;
};

TEST_F(RunSystemMetricsTest, ACallFindingTheIntervalElapsedSamples) {
  RunOptions o;
  o.system_metrics = true;
  o.system_metrics_interval = absl::Seconds(10);
  auto run = repo_->CreateRun(o);
  ASSERT_THAT(run, IsOk());
  // 25 s of tracking, one point a second: samples at 10 s and 20 s, and one
  // at the commit.
  for (int i = 0; i < 25; ++i) {
    clock_.Advance(absl::Seconds(1));
    ASSERT_THAT((*run)->Track("loss", 1.0 / (i + 1)), IsOk());
  }
  const std::string id = (*run)->id();
  ASSERT_THAT((*run)->Commit(), IsOk());
  EXPECT_EQ(Count(id, "__system__/rss_bytes", "process"), 3);
  EXPECT_EQ(Count(id, "__system__/memory_percent", "machine"), 3);
  // (CPU shares need real ticks to pass between samples; a manual clock
  // does not move /proc/stat.)
  auto view = repo_->OpenRun(id);
  ASSERT_THAT(view, IsOk());
  auto rss = (*view)->ReadScalars(
      SeriesKey{"__system__/rss_bytes", {{"device", "process"}}});
  ASSERT_THAT(rss, IsOk());
  ASSERT_EQ(rss->steps.size(), 3u);
  EXPECT_EQ(rss->steps[0], 0);
  EXPECT_GT(rss->values[0], 0.0);
  EXPECT_EQ(rss->times_us[0],
            absl::ToUnixMicros(absl::FromUnixSeconds(1'700'000'000 + 10)));
  EXPECT_EQ(rss->times_us[1],
            absl::ToUnixMicros(absl::FromUnixSeconds(1'700'000'000 + 20)));
}

TEST_F(RunSystemMetricsTest, NoCallsNoSamples) {
  RunOptions o;
  o.system_metrics = true;
  auto run = repo_->CreateRun(o);
  ASSERT_THAT(run, IsOk());
  ASSERT_THAT((*run)->Track("loss", 1.0), IsOk());
  // An hour passes without a call: nothing is sampled until the end.
  clock_.Advance(absl::Hours(1));
  const std::string id = (*run)->id();
  ASSERT_THAT((*run)->Commit(), IsOk());
  EXPECT_EQ(Count(id, "__system__/rss_bytes", "process"), 1);
}

TEST_F(RunSystemMetricsTest, OffByDefault) {
  auto run = repo_->CreateRun(RunOptions{});
  ASSERT_THAT(run, IsOk());
  for (int i = 0; i < 30; ++i) {
    clock_.Advance(absl::Seconds(1));
    ASSERT_THAT((*run)->Track("loss", i), IsOk());
  }
  const std::string id = (*run)->id();
  ASSERT_THAT((*run)->Commit(), IsOk());
  EXPECT_EQ(SystemSeries(id), 0);
}

TEST_F(RunSystemMetricsTest, AUserSeriesOfAnotherKindIsLeftAlone) {
  RunOptions o;
  o.system_metrics = true;
  auto run = repo_->CreateRun(o);
  ASSERT_THAT(run, IsOk());
  ASSERT_THAT((*run)->TrackText("__system__/rss_bytes", "mine", std::nullopt,
                                Context{{"device", "process"}}),
              IsOk());
  clock_.Advance(absl::Seconds(11));
  EXPECT_THAT((*run)->Track("loss", 1.0), IsOk());
  const std::string id = (*run)->id();
  ASSERT_THAT((*run)->Commit(), IsOk());
  EXPECT_EQ(Count(id, "__system__/rss_bytes", "process"), 1);  // the text
  EXPECT_EQ(Count(id, "__system__/memory_percent", "machine"), 2);
}

}  // namespace
}  // namespace runlog
