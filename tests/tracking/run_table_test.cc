#include "tracking/run_table.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/commit_manifest.h"
#include "storage/mem_file_system.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/series_summary.h"
#include "tests/testing/status_matchers.h"
#include "tracking/repo.h"
#include "tracking/run.h"

namespace runlog {
namespace {

using ::runlog::testing::ExpectSameSeries;
using ::runlog::testing::FakeSystemProbe;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class RunTableTest : public ::testing::Test {
 protected:
  RunTableTest() : clock_(absl::FromUnixSeconds(1'700'000'000)), mem_(&clock_) {
    repo_ = Open();
  }

  std::unique_ptr<Repo> Open() {
    RepoOptions o;
    o.fs = &mem_;
    o.clock = &clock_;
    o.probe = &probe_;
    auto repo = Repo::Open("/repo", o);
    EXPECT_THAT(repo, IsOk());
    return repo.ok() ? *std::move(repo) : nullptr;
  }

  // A run one second after the previous one with params, tags and series.
  std::unique_ptr<runlog::Run> NewRun(int i, const std::string& experiment) {
    clock_.Advance(absl::Seconds(1));
    RunOptions o;
    o.experiment = experiment;
    o.name = absl::StrCat("run-", i);
    o.tags = {i % 2 == 0 ? "even" : "odd", "all"};
    o.params = Value::EmptyMap();
    auto run = repo_->CreateRun(o);
    EXPECT_THAT(run, IsOk());
    if (!run.ok()) return nullptr;
    EXPECT_THAT((*run)->SetParam("hparams.lr", Value(0.001 * (i + 1))), IsOk());
    EXPECT_THAT((*run)->SetParam("hparams.layers", Value(int64_t{i})), IsOk());
    EXPECT_THAT((*run)->SetParam("model", Value(i < 3 ? "small" : "large")),
                IsOk());
    for (int s = 0; s < 10; ++s) {
      EXPECT_THAT((*run)->Track("loss", 1.0 / (s + 1 + i)), IsOk());
      EXPECT_THAT(
          (*run)->Track("acc", 0.1 * s, std::nullopt, {{"subset", "val"}}),
          IsOk());
    }
    return *std::move(run);
  }

  // Six committed runs (one failed), one still open.
  void Fill() {
    for (int i = 0; i < 6; ++i) {
      auto run = NewRun(i, i < 4 ? "sweep" : "other");
      ids_.push_back(run->id());
      if (i == 2) {
        ASSERT_THAT(run->Fail("diverged"), IsOk());
      } else {
        ASSERT_THAT(run->Commit(), IsOk());
      }
    }
    open_ = NewRun(6, "sweep");
    ASSERT_THAT(open_->Flush(), IsOk());
    ids_.push_back(open_->id());
  }

  // The table's rows, as records, are what ListRuns gives.
  void ExpectSameAsListRuns(Repo& repo, const RunFilter& filter) {
    auto table = repo.ListRunTable(filter);
    ASSERT_THAT(table, IsOk());
    auto records = repo.ListRuns(filter);
    ASSERT_THAT(records, IsOk());
    ASSERT_EQ(table->size(), records->size()) << filter.where;
    for (size_t i = 0; i < records->size(); ++i) {
      const RunRecord& want = (*records)[i];
      const RunTable::Row& row = (*table)[i];
      SCOPED_TRACE(absl::StrCat("row ", i, " ", want.id));
      EXPECT_EQ(row.id, want.id);
      EXPECT_EQ(row.state, want.state);
      EXPECT_EQ(row.status, want.status);
      EXPECT_EQ(row.ended, want.ended);
      EXPECT_EQ(row.failure_reason, want.failure_reason);
      EXPECT_EQ(row.error, want.error);
      EXPECT_EQ(row.summary.experiment, want.summary.experiment);
      EXPECT_EQ(row.summary.name, want.summary.name);
      EXPECT_EQ(row.summary.created, want.summary.created);
      EXPECT_EQ(row.summary.series.size(), want.summary.series.size());
      auto got = RunTable::Record(row);
      ASSERT_THAT(got, IsOk());
      EXPECT_EQ(got->summary.tags, want.summary.tags);
      EXPECT_EQ(got->summary.params, want.summary.params);
      ASSERT_EQ(got->summary.series.size(), want.summary.series.size());
      for (size_t s = 0; s < want.summary.series.size(); ++s) {
        ExpectSameSeries(got->summary.series[s], want.summary.series[s]);
      }
    }
  }

  storage::ManualClock clock_;
  storage::MemFileSystem mem_;
  FakeSystemProbe probe_;
  std::unique_ptr<Repo> repo_;
  std::vector<std::string> ids_;
  std::unique_ptr<runlog::Run> open_;
};

TEST_F(RunTableTest, RowsAreWhatListRunsGivesForEveryFilter) {
  Fill();
  std::vector<RunFilter> filters(12);
  filters[1].experiment = "sweep";
  filters[2].tag = "even";
  filters[3].status = RunStatus::kFailed;
  filters[4].state = storage::RunState::kLive;
  filters[5].where = "params.hparams.lr > 0.0025";
  filters[6].where = "metrics.loss.last < 0.1 and params.model = 'large'";
  filters[7].where = "run.name = 'run-6'";  // the open run, from its log
  filters[8].order_by = {"params.hparams.lr DESC"};
  filters[8].limit = 3;
  filters[9].offset = 2;
  filters[9].limit = 3;
  filters[10].where = "params.model = 'small'";
  filters[10].offset = 1;
  filters[11].disk_usage = true;
  const size_t sizes[] = {7, 5, 4, 1, 1, 5, 4, 1, 3, 3, 2, 7};
  for (size_t i = 0; i < filters.size(); ++i) {
    auto table = repo_->ListRunTable(filters[i]);
    ASSERT_THAT(table, IsOk());
    EXPECT_THAT(*table, SizeIs(sizes[i])) << "filter " << i;
    ExpectSameAsListRuns(*repo_, filters[i]);
  }
  // Another process lists from the catalog it writes, then again.
  auto other = Open();
  for (int round = 0; round < 2; ++round) {
    for (const RunFilter& f : filters) ExpectSameAsListRuns(*other, f);
  }
}

TEST_F(RunTableTest, ParamsAndSeriesAreReadInPlace) {
  Fill();
  auto table = repo_->ListRunTable();
  ASSERT_THAT(table, IsOk());
  ASSERT_THAT(*table, SizeIs(7));
  for (size_t i = 0; i < table->size(); ++i) {
    const RunTable::Row& row = (*table)[i];
    auto lr = RunTable::Param(row, "hparams.lr");
    ASSERT_THAT(lr, IsOk());
    ASSERT_TRUE(lr->has_value());
    EXPECT_EQ((*lr)->kind, Value::Kind::kDouble);
    EXPECT_EQ((*lr)->d, 0.001 * (i + 1));
    auto missing = RunTable::Param(row, "hparams.momentum");
    ASSERT_THAT(missing, IsOk());
    EXPECT_FALSE(missing->has_value());
    auto through_leaf = RunTable::Param(row, "model.size");
    ASSERT_THAT(through_leaf, IsOk());
    EXPECT_FALSE(through_leaf->has_value());
    auto hparams = RunTable::Param(row, "hparams");
    ASSERT_THAT(hparams, IsOk());
    std::vector<std::string> keys;
    ASSERT_THAT(
        ForEachEncodedEntry((*hparams)->bytes,
                            [&](absl::string_view k, const EncodedNode&) {
                              keys.emplace_back(k);
                            }),
        IsOk());
    EXPECT_THAT(keys, ::testing::ElementsAre("layers", "lr"));

    const RunSummaryView::Series* loss = RunTable::FindSeries(row, "loss");
    ASSERT_NE(loss, nullptr);
    EXPECT_EQ(loss->count, 10);
    EXPECT_EQ(loss->last, 1.0 / (10 + i));
    const RunSummaryView::Series* acc =
        RunTable::FindSeries(row, "acc", {{"subset", "val"}});
    ASSERT_NE(acc, nullptr);
    EXPECT_EQ(acc->max, 0.1 * 9);
    EXPECT_EQ(RunTable::FindSeries(row, "acc"), nullptr);  // has a context
  }
}

TEST_F(RunTableTest, TheTableOutlivesTheRepoAndMoves) {
  Fill();
  auto table = repo_->ListRunTable();
  ASSERT_THAT(table, IsOk());
  open_.reset();
  repo_.reset();
  RunTable moved = *std::move(table);
  ASSERT_THAT(moved, SizeIs(7));
  for (size_t i = 0; i < moved.size(); ++i) {
    EXPECT_EQ(moved[i].id, ids_[i]);
    EXPECT_EQ(moved[i].summary.name, absl::StrCat("run-", i));
  }
}

TEST_F(RunTableTest, DamagedCommitIsARowWithItsError) {
  Fill();
  const std::string& id = ids_[1];
  const std::string dir = repo_->store().RunDir(id);
  auto m = storage::ReadCommitManifest(mem_, dir);
  ASSERT_THAT(m, IsOk());
  m->summary.resize(m->summary.size() / 2);
  ASSERT_THAT(storage::WriteCommitManifest(mem_, dir, *m), IsOk());
  auto other = Open();  // lists from the files, not this process's memory
  ExpectSameAsListRuns(*other, {});
  auto table = other->ListRunTable();
  ASSERT_THAT(table, IsOk());
  ASSERT_THAT(*table, SizeIs(7));
  EXPECT_THAT((*table)[1].error,
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("run summary")));
  EXPECT_THAT((*table)[0].error, IsOk());
}

TEST_F(RunTableTest, DamagedParamsAreDataLossNamingTheRun) {
  RunTable::Row row;
  row.id = "0abc";
  const std::string bad = "\x08\x05";  // a map of 5 entries, cut short
  row.summary.params = bad;
  EXPECT_THAT(RunTable::Param(row, "a.b"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("run 0abc")));
}

TEST_F(RunTableTest, MalformedQueryIsInvalidArgumentNamingThePlace) {
  RunFilter f;
  f.where = "metrcs.loss < 1";
  EXPECT_THAT(
      repo_->ListRunTable(f),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("query:1:1")));
}

}  // namespace
}  // namespace runlog
