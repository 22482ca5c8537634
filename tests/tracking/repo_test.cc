#include "tracking/repo.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/commit_manifest.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/recovery.h"
#include "storage/run_catalog.h"
#include "storage/segment.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/status_matchers.h"
#include "tracking/run.h"

namespace runlog {
namespace {

using ::runlog::testing::FakeSystemProbe;
using ::runlog::testing::IsOk;
using ::runlog::testing::IsOkAndHolds;
using ::runlog::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class RepoTest : public ::testing::Test {
 protected:
  RepoTest() : clock_(absl::FromUnixSeconds(1'700'000'000)), mem_(&clock_) {
    RepoOptions o;
    o.fs = &mem_;
    o.clock = &clock_;
    o.probe = &probe_;
    auto repo = Repo::Open("/repo", o);
    EXPECT_THAT(repo, IsOk());
    if (repo.ok()) repo_ = *std::move(repo);
  }

  // Creates a run one second after the previous one (run ids order by
  // creation time at millisecond granularity).
  std::unique_ptr<runlog::Run> NewRun(RunOptions o = {}) {
    clock_.Advance(absl::Seconds(1));
    auto run = repo_->CreateRun(o);
    EXPECT_THAT(run, IsOk());
    return run.ok() ? *std::move(run) : nullptr;
  }
  // A committed run with one scalar series; returns its id.
  std::string Committed(RunOptions o = {}) {
    auto run = NewRun(std::move(o));
    for (int i = 0; i < 100; ++i) EXPECT_THAT(run->Track("loss", i), IsOk());
    EXPECT_THAT(run->Commit(), IsOk());
    return run->id();
  }
  std::vector<std::string> ListIds(const RunFilter& filter = {}) {
    auto runs = repo_->ListRuns(filter);
    EXPECT_THAT(runs, IsOk());
    std::vector<std::string> ids;
    if (runs.ok()) {
      for (const RunRecord& r : *runs) ids.push_back(r.id);
    }
    return ids;
  }
  std::string Dir(const std::string& id) { return repo_->store().RunDir(id); }
  std::string SegmentPath(const std::string& id) {
    return storage::JoinPath(Dir(id), storage::SegmentFileName(1));
  }
  // Flips one bit of the file at `path`, `from_end` bytes before its end.
  void FlipBit(const std::string& path, size_t from_end) {
    auto bytes = mem_.Contents(path);
    ASSERT_THAT(bytes, IsOk());
    ASSERT_GT(bytes->size(), from_end);
    (*bytes)[bytes->size() - 1 - from_end] ^= 0x10;
    ASSERT_THAT(mem_.SetContents(path, *bytes), IsOk());
  }
  // Rewrites the COMMIT of `id` (valid as a manifest) with its summary cut
  // in half.
  void DamageSummary(const std::string& id) {
    auto m = storage::ReadCommitManifest(mem_, Dir(id));
    ASSERT_THAT(m, IsOk());
    m->summary.resize(m->summary.size() / 2);
    ASSERT_THAT(storage::WriteCommitManifest(mem_, Dir(id), *m), IsOk());
  }

  absl::StatusOr<std::unique_ptr<Repo>> OpenAt(const std::string& path) {
    RepoOptions o;
    o.fs = &mem_;
    o.clock = &clock_;
    o.probe = &probe_;
    return Repo::Open(path, o);
  }

  storage::ManualClock clock_;
  storage::MemFileSystem mem_;
  FakeSystemProbe probe_;
  std::unique_ptr<Repo> repo_;
};

// ---- opening and creating ---------------------------------------------------

TEST_F(RepoTest, OpenCreatesMissingDirectory) {
  ASSERT_THAT(OpenAt("/fresh"), IsOk());
  EXPECT_THAT(mem_.Stat("/fresh/RUNLOG"), IsOk());
}

TEST_F(RepoTest, OpenCreatesInEmptyDirectory) {
  ASSERT_THAT(mem_.CreateDir("/empty"), IsOk());
  ASSERT_THAT(OpenAt("/empty"), IsOk());
  EXPECT_THAT(mem_.Stat("/empty/RUNLOG"), IsOk());
}

TEST_F(RepoTest, OpenReopensExistingRepositoryWithItsRuns) {
  const std::string id = Committed();
  auto again = OpenAt("/repo");
  ASSERT_THAT(again, IsOk());
  EXPECT_THAT((*again)->GetRun(id), IsOk());
}

TEST_F(RepoTest, OpenRefusesDirectoryHoldingOtherFiles) {
  ASSERT_THAT(mem_.CreateDir("/data"), IsOk());
  ASSERT_THAT(mem_.SetContents("/data/foo.txt", "x"), IsOk());
  ASSERT_THAT(mem_.SetContents("/data/zeta.csv", "y"), IsOk());
  EXPECT_THAT(
      OpenAt("/data"),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("/data: is not a runlog repository: it holds 2 "
                               "entries (e.g. 'foo.txt')"),
                     HasSubstr("only in missing or empty directories"))));
  // Nothing of a repository was made beside the user's files.
  EXPECT_THAT(mem_.ListDir("/data"),
              IsOkAndHolds(ElementsAre("foo.txt", "zeta.csv")));
}

TEST_F(RepoTest, OpenRefusesDirectoryHoldingForeignEntryBesideRunsDir) {
  ASSERT_THAT(mem_.CreateDir("/half"), IsOk());
  ASSERT_THAT(mem_.CreateDir("/half/runs"), IsOk());
  ASSERT_THAT(mem_.CreateDir("/half/notes"), IsOk());
  EXPECT_THAT(OpenAt("/half"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("it holds 1 entry (e.g. 'notes')")));
}

TEST_F(RepoTest, OpenRefusesPathThatIsAFile) {
  ASSERT_THAT(mem_.SetContents("/file", "x"), IsOk());
  EXPECT_THAT(OpenAt("/file"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("/file: is not a runlog repository: it is a "
                                 "file")));
}

// Another process (maybe on another host) creating the same repository has
// made runs/ and trash/ and is writing its marker: opening then finishes the
// creation instead of refusing the half-made repository.
TEST_F(RepoTest, OpenFinishesCreationUnderWay) {
  ASSERT_THAT(mem_.CreateDir("/shared"), IsOk());
  ASSERT_THAT(mem_.CreateDir("/shared/runs"), IsOk());
  ASSERT_THAT(mem_.CreateDir("/shared/trash"), IsOk());
  ASSERT_THAT(mem_.SetContents("/shared/RUNLOG.tmp.123", ""), IsOk());
  auto repo = OpenAt("/shared");
  ASSERT_THAT(repo, IsOk());
  EXPECT_THAT((*repo)->ListRuns(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(mem_.Stat("/shared/RUNLOG"), IsOk());
}

// ---- listing ----------------------------------------------------------------

TEST_F(RepoTest, EmptyRepoListsNothing) { EXPECT_THAT(ListIds(), IsEmpty()); }

TEST_F(RepoTest, ListsRunsInCreationOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Committed());
  EXPECT_THAT(ListIds(), ElementsAreArray(ids));
}

TEST_F(RepoTest, ListingDescribesCommittedRunsFromCommit) {
  RunOptions o;
  o.experiment = "sweep";
  o.name = "a";
  o.tags = {"x"};
  const std::string id = Committed(o);
  auto runs = repo_->ListRuns();
  ASSERT_THAT(runs, IsOk());
  ASSERT_THAT(*runs, SizeIs(1));
  const RunRecord& r = (*runs)[0];
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.state, storage::RunState::kCommitted);
  EXPECT_EQ(r.status, RunStatus::kFinished);
  EXPECT_THAT(r.error, IsOk());
  EXPECT_EQ(r.summary.experiment, "sweep");
  EXPECT_EQ(r.summary.name, "a");
  EXPECT_THAT(r.summary.tags, ElementsAre("x"));
  ASSERT_THAT(r.summary.series, SizeIs(1));
  EXPECT_EQ(r.summary.series[0].count, 100);
  EXPECT_EQ(r.ended, clock_.Now());
  EXPECT_EQ(r.bytes_on_disk, std::nullopt);  // not asked for
  RunFilter sized;
  sized.disk_usage = true;
  auto measured = repo_->ListRuns(sized);
  ASSERT_THAT(measured, IsOk());
  ASSERT_THAT(*measured, SizeIs(1));
  EXPECT_GT((*measured)[0].bytes_on_disk.value_or(0), 0u);
}

TEST_F(RepoTest, CatalogListingSurvivesCompactionAndDeletion) {
  RunOptions o;
  o.experiment = "sweep";
  const std::string a = Committed(o);
  const std::string b = Committed(o);
  auto before = repo_->ListRuns();  // builds the catalog
  ASSERT_THAT(before, IsOk());
  ASSERT_THAT(repo_->CompactRun(a), IsOk());
  ASSERT_THAT(repo_->DeleteRun(b), IsOk());
  auto after = repo_->ListRuns();
  ASSERT_THAT(after, IsOk());
  ASSERT_THAT(*after, SizeIs(1));
  const RunRecord& r = (*after)[0];
  EXPECT_EQ(r.id, a);
  EXPECT_EQ(r.status, RunStatus::kFinished);
  EXPECT_EQ(r.ended, (*before)[0].ended);
  EXPECT_EQ(r.summary.experiment, "sweep");
  ASSERT_THAT(r.summary.series, SizeIs(1));
  EXPECT_EQ(r.summary.series[0].count, 100);
  EXPECT_EQ(r.summary.series[0].last, (*before)[0].summary.series[0].last);
  // The measured size is the compacted one, never a cached figure.
  RunFilter sized;
  sized.disk_usage = true;
  auto measured = repo_->ListRuns(sized);
  ASSERT_THAT(measured, IsOk());
  auto got = repo_->GetRun(a);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ((*measured)[0].bytes_on_disk, got->bytes_on_disk);
}

// The first listing after this process committed runs takes them from
// memory, not from their COMMIT files (which it would otherwise read one by
// one): a COMMIT damaged after the commit does not show, and the catalog the
// listing writes holds them for other processes. A deleted run is gone at
// once all the same.
TEST_F(RepoTest, FirstListingAfterCommitsTakesThemFromMemory) {
  const std::string a = Committed();
  const std::string b = Committed();
  DamageSummary(a);
  auto runs = repo_->ListRuns();
  ASSERT_THAT(runs, IsOk());
  ASSERT_THAT(*runs, SizeIs(2));
  EXPECT_EQ((*runs)[0].id, a);
  EXPECT_THAT((*runs)[0].error, IsOk());
  ASSERT_THAT((*runs)[0].summary.series, SizeIs(1));
  EXPECT_EQ((*runs)[0].summary.series[0].count, 100);
  EXPECT_EQ((*runs)[0].ended, clock_.Now() - absl::Seconds(1));

  auto other = OpenAt("/repo");  // another process: reads the catalog
  ASSERT_THAT(other, IsOk());
  auto theirs = (*other)->ListRuns();
  ASSERT_THAT(theirs, IsOk());
  ASSERT_THAT(*theirs, SizeIs(2));
  EXPECT_THAT((*theirs)[0].error, IsOk());
  EXPECT_EQ((*theirs)[0].summary.series[0].count, 100);

  ASSERT_THAT(repo_->DeleteRun(b), IsOk());
  EXPECT_THAT(ListIds(), ElementsAre(a));
}

// Commits keep the catalog nearly current (RunStore::NoteCommitted): a
// process that committed many runs and never listed leaves at most
// kCatalogRefreshMin (or an eighth of the catalog) out of it, so another
// process's first listing reads that many COMMIT files, not every one.
TEST_F(RepoTest, CommitsKeepTheCatalogNearlyCurrent) {
  constexpr size_t kRuns = 300;
  std::vector<std::string> ids;
  for (size_t i = 0; i < kRuns; ++i) ids.push_back(Committed());
  auto catalog = storage::ReadRunCatalog(mem_, "/repo");
  ASSERT_THAT(catalog, IsOk());
  EXPECT_GE(catalog->size() + storage::RunStore::kCatalogRefreshMin, kRuns);
  EXPECT_LE(catalog->size(), kRuns);
  for (const storage::CommitManifest& m : *catalog) {
    EXPECT_TRUE(std::find(ids.begin(), ids.end(), m.run_id) != ids.end());
  }
  auto other = OpenAt("/repo");
  ASSERT_THAT(other, IsOk());
  auto runs = (*other)->ListRuns();
  ASSERT_THAT(runs, IsOk());
  ASSERT_THAT(*runs, SizeIs(kRuns));
  for (size_t i = 0; i < kRuns; ++i) {
    EXPECT_EQ((*runs)[i].id, ids[i]);
    EXPECT_THAT((*runs)[i].error, IsOk());
  }
}

TEST_F(RepoTest, FilterByExperiment) {
  const std::string a1 = Committed({.experiment = "a"});
  Committed({.experiment = "b"});
  const std::string a2 = Committed({.experiment = "a"});
  EXPECT_THAT(ListIds({.experiment = "a"}), ElementsAre(a1, a2));
  EXPECT_THAT(ListIds({.experiment = "c"}), IsEmpty());
}

TEST_F(RepoTest, FilterByTag) {
  const std::string t = Committed({.tags = {"gpu", "baseline"}});
  Committed({.tags = {"cpu"}});
  // A tag added while running, and one removed, count as they end up.
  auto run = NewRun({.tags = {"gpu"}});
  ASSERT_THAT(run->RemoveTag("gpu"), IsOk());
  ASSERT_THAT(run->AddTag("baseline"), IsOk());
  ASSERT_THAT(run->Commit(), IsOk());
  EXPECT_THAT(ListIds({.tag = "gpu"}), ElementsAre(t));
  EXPECT_THAT(ListIds({.tag = "baseline"}), ElementsAre(t, run->id()));
}

TEST_F(RepoTest, FilterByStatus) {
  const std::string finished = Committed();
  auto failed = NewRun();
  ASSERT_THAT(failed->Fail("oom"), IsOk());
  auto running = NewRun();
  ASSERT_THAT(running->Track("loss", 1.0), IsOk());
  ASSERT_THAT(running->Flush(), IsOk());
  EXPECT_THAT(ListIds({.status = RunStatus::kFinished}), ElementsAre(finished));
  EXPECT_THAT(ListIds({.status = RunStatus::kFailed}),
              ElementsAre(failed->id()));
  EXPECT_THAT(ListIds({.status = RunStatus::kRunning}),
              ElementsAre(running->id()));
  EXPECT_THAT(ListIds({.status = RunStatus::kAbandoned}), IsEmpty());
  EXPECT_THAT(ListIds({.status = RunStatus::kCrashed}), IsEmpty());
}

TEST_F(RepoTest, FiltersCombine) {
  Committed({.experiment = "a", .tags = {"x"}});
  const std::string want = Committed({.experiment = "b", .tags = {"x"}});
  Committed({.experiment = "b", .tags = {"y"}});
  auto failed = NewRun({.experiment = "b", .tags = {"x"}});
  ASSERT_THAT(failed->Fail(""), IsOk());
  EXPECT_THAT(
      ListIds({.experiment = "b", .tag = "x", .status = RunStatus::kFinished}),
      ElementsAre(want));
}

// ---- queries (tracking/query/, docs/query.md)
// ---------------------------------

TEST_F(RepoTest, WhereSelectsCommittedAndLiveRunsBySummaries) {
  std::vector<std::string> ids;
  std::unique_ptr<runlog::Run> live;  // kept open: a dropped Run commits
  for (int i = 0; i < 4; ++i) {
    auto run = NewRun({.params = Value(Value::Map{{"lr", 0.001 * (i + 1)}})});
    for (int s = 0; s < 10; ++s) {
      ASSERT_THAT(run->Track("loss", 1.0 / (s + 1 + i)), IsOk());
    }
    if (i < 3) {
      ASSERT_THAT(run->Commit(), IsOk());
    } else {
      ASSERT_THAT(run->Flush(), IsOk());
    }
    ids.push_back(run->id());
    if (i == 3) live = std::move(run);
  }
  EXPECT_THAT(ListIds({.where = "params.lr >= 0.002 and metrics.loss < 0.1"}),
              ElementsAre(ids[1], ids[2], ids[3]));
  EXPECT_THAT(ListIds({.where = "state = 'live'"}), ElementsAre(ids[3]));
  EXPECT_THAT(ListIds({.where = "params.lr > 0.0015",
                       .order_by = {"metrics.loss.last DESC"}}),
              ElementsAre(ids[1], ids[2], ids[3]));
  EXPECT_THAT(
      ListIds({.order_by = {"params.lr DESC"}, .offset = 1, .limit = 2}),
      ElementsAre(ids[2], ids[1]));
  // The query composes with the older filters.
  EXPECT_THAT(
      ListIds({.status = RunStatus::kFinished, .where = "params.lr > 0.0025"}),
      ElementsAre(ids[2]));
}

TEST_F(RepoTest, MalformedQueryIsInvalidArgumentNamingThePlace) {
  Committed();
  EXPECT_THAT(repo_->ListRuns({.where = "metrics.loss > 1 and metrcs.x = 2"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("query:1:22: unknown field 'metrcs' (did you "
                                 "mean 'metrics'?)")));
  EXPECT_THAT(repo_->ListRuns({.order_by = {"name", "created up"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("order_by[1]:1:9:")));
}

TEST_F(RepoTest, ResolveRunIdTakesAUniquePrefix) {
  const std::string a = Committed();
  const std::string b = Committed();
  EXPECT_THAT(repo_->ResolveRunId(a), IsOkAndHolds(a));
  // Ids made a second apart share their first digits, then differ.
  size_t common = 0;
  while (a[common] == b[common]) ++common;
  EXPECT_THAT(repo_->ResolveRunId(a.substr(0, common + 1)), IsOkAndHolds(a));
  EXPECT_THAT(repo_->ResolveRunId(b.substr(0, common + 1)), IsOkAndHolds(b));
  EXPECT_THAT(repo_->ResolveRunId(a.substr(0, common)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is ambiguous: 2 runs begin with it")));
  EXPECT_THAT(
      repo_->ResolveRunId("zzzz"),
      StatusIs(
          absl::StatusCode::kNotFound,
          HasSubstr("run zzzz not found in /repo (no run id begins with it)")));
  EXPECT_THAT(repo_->ResolveRunId("../x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("../x")));
}

TEST_F(RepoTest, LiveRunIsDescribedFromItsRecords) {
  auto run = NewRun({.experiment = "live", .tags = {"t"}});
  for (int i = 0; i < 10; ++i) ASSERT_THAT(run->Track("acc", i * 0.1), IsOk());
  ASSERT_THAT(run->Flush(), IsOk());
  auto r = repo_->GetRun(run->id());
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, RunStatus::kRunning);
  EXPECT_EQ(r->state, storage::RunState::kLive);
  EXPECT_THAT(r->error, IsOk());
  EXPECT_EQ(r->summary.experiment, "live");
  EXPECT_THAT(r->summary.tags, ElementsAre("t"));
  ASSERT_THAT(r->summary.series, SizeIs(1));
  EXPECT_EQ(r->summary.series[0].count, 10);
}

// ---- id validation and NotFound ---------------------------------------------

TEST_F(RepoTest, MalformedIdsAreInvalidArgument) {
  Committed();
  for (const char* id : {"../x", "/etc", "A", "", "a/b", ".."}) {
    SCOPED_TRACE(id);
    EXPECT_THAT(repo_->GetRun(id),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
    EXPECT_THAT(repo_->OpenRun(id),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
    EXPECT_THAT(repo_->DeleteRun(id),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  }
  EXPECT_THAT(ListIds(), SizeIs(1));  // nothing was touched
}

TEST_F(RepoTest, UnknownIdIsNotFound) {
  const std::string id = "zzzzzzzzzzzzzzzzz";
  EXPECT_THAT(repo_->GetRun(id),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(id)));
  EXPECT_THAT(repo_->OpenRun(id),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(id)));
  EXPECT_THAT(repo_->DeleteRun(id),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(id)));
}

TEST_F(RepoTest, DeleteRunRemovesItOnce) {
  const std::string keep = Committed();
  const std::string gone = Committed();
  ASSERT_THAT(repo_->DeleteRun(gone), IsOk());
  EXPECT_THAT(ListIds(), ElementsAre(keep));
  EXPECT_THAT(repo_->GetRun(gone),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(gone)));
  EXPECT_THAT(repo_->DeleteRun(gone),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST_F(RepoTest, DeleteOpenRunOfThisProcess) {
  auto run = NewRun();
  ASSERT_THAT(run->Track("loss", 1.0), IsOk());
  ASSERT_THAT(repo_->DeleteRun(run->id()), IsOk());
  EXPECT_THAT(run->Track("loss", 2.0),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_THAT(ListIds(), IsEmpty());
}

// ---- damage -----------------------------------------------------------------

TEST_F(RepoTest, DamagedCommitSummaryIsListedWithError) {
  const std::string before = Committed();
  const std::string damaged = Committed({.experiment = "lost"});
  const std::string after = Committed();
  DamageSummary(damaged);
  // Listed by another process: this one lists the runs it committed from
  // memory (FirstListingAfterCommitsTakesThemFromMemory).
  auto lister = OpenAt("/repo");
  ASSERT_THAT(lister, IsOk());
  auto runs = (*lister)->ListRuns();
  ASSERT_THAT(runs, IsOk());
  ASSERT_THAT(*runs, SizeIs(3));
  EXPECT_THAT((*runs)[0].error, IsOk());
  EXPECT_THAT((*runs)[2].error, IsOk());
  const RunRecord& r = (*runs)[1];
  EXPECT_EQ(r.id, damaged);
  EXPECT_EQ(r.state, storage::RunState::kCommitted);
  EXPECT_EQ(r.status, RunStatus::kFinished);
  EXPECT_THAT(r.error, StatusIs(absl::StatusCode::kDataLoss,
                                AllOf(HasSubstr(Dir(damaged) + "/COMMIT"),
                                      HasSubstr("run summary"))));
  // GetRun says the same; reading it is refused with that error.
  auto got = repo_->GetRun(damaged);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->error, r.error);
  EXPECT_THAT(repo_->OpenRun(damaged),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(damaged)));
  // The other runs stay readable.
  EXPECT_THAT(repo_->OpenRun(before), IsOk());
  EXPECT_THAT(repo_->OpenRun(after), IsOk());
}

TEST_F(RepoTest, DamagedCommitFileIsListedWithError) {
  const std::string id = Committed();
  FlipBit(storage::JoinPath(Dir(id), "COMMIT"), 20);
  auto lister = OpenAt("/repo");  // another process, as above
  ASSERT_THAT(lister, IsOk());
  auto runs = (*lister)->ListRuns();
  ASSERT_THAT(runs, IsOk());
  ASSERT_THAT(*runs, SizeIs(1));
  EXPECT_EQ((*runs)[0].id, id);
  EXPECT_EQ((*runs)[0].state, storage::RunState::kCommitted);
  EXPECT_THAT((*runs)[0].error,
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("COMMIT")));
}

TEST_F(RepoTest, FlippedBitInACommittedSegmentIsDataLossNamingTheFile) {
  const std::string id = Committed();
  FlipBit(SegmentPath(id), 40);
  // The listing and the view come from COMMIT, which is intact...
  auto view = repo_->OpenRun(id);
  ASSERT_THAT(view, IsOk());
  ASSERT_THAT((*view)->series(), SizeIs(1));
  // ...but reading the points checks the segment.
  EXPECT_THAT(
      (*view)->ReadScalars({"loss", {}}),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr(SegmentPath(id))));
}

TEST_F(RepoTest, IntactCommittedRunReads) {
  const std::string id = Committed();
  auto view = repo_->OpenRun(id);
  ASSERT_THAT(view, IsOk());
  auto cols = (*view)->ReadScalars({"loss", {}}, StepRange{90, 1000});
  ASSERT_THAT(cols, IsOk());
  EXPECT_EQ(cols->size(), 10u);
  EXPECT_EQ(cols->values.back(), 99.0);
}

// ---- reading every series
// ----------------------------------------------------

// Writes a seeded mix of every kind, each name in three contexts, the points
// of the twelve series interleaved in the log as a training loop writes them;
// a third of the points have no epoch.
void TrackMix(runlog::Run& run, uint32_t seed) {
  std::mt19937 rng(seed);
  const char* const names[] = {"loss", "sample", "weights", "image"};
  const Context contexts[] = {
      {}, {{"subset", "train"}}, {{"fold", "2"}, {"subset", "val"}}};
  constexpr int kSeries = 12;
  int64_t next_step[kSeries] = {};
  for (int p = 0; p < 300; ++p) {
    const int i = std::uniform_int_distribution<int>(0, kSeries - 1)(rng);
    const std::string name = names[i % 4];
    const Context& context = contexts[i / 4];
    const int64_t step = next_step[i];
    next_step[i] += std::uniform_int_distribution<int64_t>(1, 3)(rng);
    const std::optional<double> epoch =
        p % 3 == 0 ? std::nullopt : std::optional<double>(p / 10.0);
    absl::Status s;
    switch (i % 4) {
      case 0:
        s = run.Track(name, std::uniform_real_distribution<double>(-1, 1)(rng),
                      step, context, epoch);
        break;
      case 1:
        s = run.TrackText(name, absl::StrCat("text ", p), step, context, epoch);
        break;
      case 2:
        s = run.TrackHistogram(
            name, Histogram{{0, 1, 2}, {static_cast<double>(p), 1}}, step,
            context, epoch);
        break;
      default:
        s = run.TrackBlob(name, Blob{"image/png", absl::StrCat("png ", p)},
                          step, context, epoch);
    }
    ASSERT_THAT(s, IsOk()) << p;
  }
}

// Epochs are NaN where a point has none; NaN equals NaN here.
template <typename T>
void ExpectSameColumns(const SeriesColumns<T>& got,
                       const SeriesColumns<T>& want, const std::string& what) {
  EXPECT_EQ(got.steps, want.steps) << what;
  EXPECT_EQ(got.values, want.values) << what;
  EXPECT_EQ(got.times_us, want.times_us) << what;
  ASSERT_EQ(got.epochs.size(), want.epochs.size()) << what;
  for (size_t i = 0; i < got.epochs.size(); ++i) {
    const bool both_nan =
        std::isnan(got.epochs[i]) && std::isnan(want.epochs[i]);
    EXPECT_TRUE(both_nan || got.epochs[i] == want.epochs[i])
        << what << " point " << i;
  }
}

struct ReadSeries {
  SeriesSummary series;
  SeriesPoints points;
};

std::vector<ReadSeries> ReadAllOf(RunView& view) {
  std::vector<ReadSeries> out;
  EXPECT_THAT(view.ReadAll([&](const SeriesSummary& s, SeriesPoints&& p) {
    out.push_back({s, std::move(p)});
    return absl::OkStatus();
  }),
              IsOk());
  return out;
}

// ReadAll hands over every series of view.series(), in that order, with the
// points the per-series read of its kind gives and the other columns empty.
void ExpectReadAllMatchesPerSeriesReads(RunView& view) {
  const std::vector<ReadSeries> got = ReadAllOf(view);
  ASSERT_EQ(got.size(), view.series().size());
  for (size_t i = 0; i < got.size(); ++i) {
    const SeriesSummary& want = view.series()[i];
    const std::string what = want.key.ToString();
    EXPECT_EQ(got[i].series.key, want.key) << i;
    ASSERT_EQ(got[i].series.kind, want.kind) << what;
    const SeriesPoints& p = got[i].points;
    const size_t held = p.scalars.size() + p.texts.size() +
                        p.histograms.size() + p.blobs.size();
    switch (want.kind) {
      case SeriesKind::kScalar: {
        auto c = view.ReadScalars(want.key);
        ASSERT_THAT(c, IsOk());
        ExpectSameColumns(p.scalars, *c, what);
        EXPECT_EQ(held, p.scalars.size()) << what;
        break;
      }
      case SeriesKind::kText: {
        auto c = view.ReadTexts(want.key);
        ASSERT_THAT(c, IsOk());
        ExpectSameColumns(p.texts, *c, what);
        EXPECT_EQ(held, p.texts.size()) << what;
        break;
      }
      case SeriesKind::kHistogram: {
        auto c = view.ReadHistograms(want.key);
        ASSERT_THAT(c, IsOk());
        ExpectSameColumns(p.histograms, *c, what);
        EXPECT_EQ(held, p.histograms.size()) << what;
        break;
      }
      case SeriesKind::kBlob: {
        auto c = view.ReadBlobs(want.key);
        ASSERT_THAT(c, IsOk());
        ExpectSameColumns(p.blobs, *c, what);
        EXPECT_EQ(held, p.blobs.size()) << what;
        break;
      }
    }
    EXPECT_EQ(static_cast<int64_t>(held), want.count) << what;
  }
}

bool IsCompactedRun(storage::FileSystem& fs, const std::string& dir) {
  auto m = storage::ReadCommitManifest(fs, dir);
  return m.ok() && !m->segments.empty() &&
         m->segments.front().kind == storage::format::SegmentKind::kColumn;
}

TEST_F(RepoTest, ReadAllOfALiveRunMatchesPerSeriesReads) {
  auto run = NewRun();
  TrackMix(*run, 1901);
  ASSERT_THAT(run->Flush(), IsOk());
  auto view = repo_->OpenRun(run->id());
  ASSERT_THAT(view, IsOk());
  ASSERT_THAT((*view)->series(), SizeIs(12));
  // A series begun after OpenRun is not among series(), so not read.
  ASSERT_THAT(run->Track("late", 1.0), IsOk());
  ASSERT_THAT(run->Flush(), IsOk());
  ExpectReadAllMatchesPerSeriesReads(**view);
}

TEST_F(RepoTest, ReadAllOfACommittedRunMatchesPerSeriesReads) {
  auto run = NewRun();
  TrackMix(*run, 1902);
  ASSERT_THAT(run->Commit(), IsOk());
  auto view = repo_->OpenRun(run->id());
  ASSERT_THAT(view, IsOk());
  ASSERT_THAT((*view)->series(), SizeIs(12));
  ExpectReadAllMatchesPerSeriesReads(**view);
}

TEST_F(RepoTest, ReadAllOfACompactedRunMatchesPerSeriesReads) {
  auto run = NewRun();
  TrackMix(*run, 1903);
  ASSERT_THAT(run->Commit(), IsOk());
  const std::string id = run->id();
  ASSERT_THAT(repo_->CompactRun(id), IsOk());
  ASSERT_TRUE(IsCompactedRun(mem_, Dir(id)));
  auto view = repo_->OpenRun(id);
  ASSERT_THAT(view, IsOk());
  ASSERT_THAT((*view)->series(), SizeIs(12));
  ExpectReadAllMatchesPerSeriesReads(**view);
}

TEST_F(RepoTest, ReadAllSeesACompactionThatHappenedAfterOpenRun) {
  auto run = NewRun();
  TrackMix(*run, 1904);
  ASSERT_THAT(run->Commit(), IsOk());
  const std::string id = run->id();
  auto view = repo_->OpenRun(id);
  ASSERT_THAT(view, IsOk());
  const std::vector<ReadSeries> before = ReadAllOf(**view);
  ASSERT_THAT(repo_->CompactRun(id), IsOk());
  const std::vector<ReadSeries> after = ReadAllOf(**view);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    const std::string what = before[i].series.key.ToString();
    ExpectSameColumns(after[i].points.scalars, before[i].points.scalars, what);
    ExpectSameColumns(after[i].points.texts, before[i].points.texts, what);
    ExpectSameColumns(after[i].points.histograms, before[i].points.histograms,
                      what);
    ExpectSameColumns(after[i].points.blobs, before[i].points.blobs, what);
  }
}

TEST_F(RepoTest, ReadAllStopsAtTheSinksErrorAndReturnsIt) {
  for (const bool compact : {false, true}) {
    auto run = NewRun();
    TrackMix(*run, 1905);
    ASSERT_THAT(run->Commit(), IsOk());
    if (compact) {
      ASSERT_THAT(repo_->CompactRun(run->id()), IsOk());
    }
    auto view = repo_->OpenRun(run->id());
    ASSERT_THAT(view, IsOk());
    int calls = 0;
    EXPECT_THAT((*view)->ReadAll([&](const SeriesSummary&, SeriesPoints&&) {
      return ++calls == 3 ? absl::CancelledError("enough") : absl::OkStatus();
    }),
                StatusIs(absl::StatusCode::kCancelled, "enough"));
    EXPECT_EQ(calls, 3) << "compacted: " << compact;
  }
}

TEST_F(RepoTest, ReadAllOrPiecesOfADamagedCommittedRunIsDataLossNamingTheFile) {
  const std::string id = Committed();
  FlipBit(SegmentPath(id), 40);
  auto view = repo_->OpenRun(id);
  ASSERT_THAT(view, IsOk());
  int calls = 0;
  EXPECT_THAT(
      (*view)->ReadAll([&](const SeriesSummary&, SeriesPoints&&) {
        ++calls;
        return absl::OkStatus();
      }),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr(SegmentPath(id))));
  EXPECT_THAT(
      (*view)->ReadAllPieces(
          [&](const SeriesSummary&, const SeriesPoints&, bool) {
            ++calls;
            return absl::OkStatus();
          }),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr(SegmentPath(id))));
  EXPECT_EQ(calls, 0);
}

// ---- ReadAllPieces
// ------------------------------------------------------------

template <typename T>
void AppendColumns(const SeriesColumns<T>& from, SeriesColumns<T>* to) {
  to->steps.insert(to->steps.end(), from.steps.begin(), from.steps.end());
  to->values.insert(to->values.end(), from.values.begin(), from.values.end());
  to->epochs.insert(to->epochs.end(), from.epochs.begin(), from.epochs.end());
  to->times_us.insert(to->times_us.end(), from.times_us.begin(),
                      from.times_us.end());
}

// Each series as the concatenation of its pieces; checks they come in
// series() order with `last` on exactly the final piece of each, and counts
// the pieces of every series.
std::vector<ReadSeries> ReadAllPiecesOf(RunView& view,
                                        std::vector<size_t>* pieces) {
  std::vector<ReadSeries> out;
  bool open = false;  // the last piece handed over was not a last one
  EXPECT_THAT(view.ReadAllPieces([&](const SeriesSummary& s,
                                     const SeriesPoints& p, bool last) {
    if (!open) {
      out.push_back({s, {}});
      pieces->push_back(0);
    }
    EXPECT_EQ(out.back().series.key, s.key) << "a series was cut short";
    ++pieces->back();
    AppendColumns(p.scalars, &out.back().points.scalars);
    AppendColumns(p.texts, &out.back().points.texts);
    AppendColumns(p.histograms, &out.back().points.histograms);
    AppendColumns(p.blobs, &out.back().points.blobs);
    open = !last;
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_FALSE(open) << "the final series had no last piece";
  return out;
}

// A TrackMix run plus "long", a scalar series of three blocks and a bit.
constexpr size_t kLongPoints = 3 * kCompactedBlockPoints + 5;
std::string CommittedMixWithLongSeries(Repo& repo, uint32_t seed,
                                       bool compact) {
  auto run = repo.CreateRun(RunOptions{});
  EXPECT_THAT(run, IsOk());
  TrackMix(**run, seed);
  for (size_t i = 0; i < kLongPoints; ++i) {
    EXPECT_THAT((*run)->Track("long", std::sin(static_cast<double>(i)),
                              static_cast<int64_t>(i)),
                IsOk());
  }
  EXPECT_THAT((*run)->Commit(), IsOk());
  const std::string id = (*run)->id();
  if (compact) {
    EXPECT_THAT(repo.CompactRun(id).status(), IsOk());
  }
  return id;
}

TEST_F(RepoTest, ReadAllPiecesMatchesReadAll) {
  for (const bool compact : {false, true}) {
    const std::string id = CommittedMixWithLongSeries(*repo_, 1906, compact);
    ASSERT_EQ(IsCompactedRun(mem_, Dir(id)), compact);
    auto view = repo_->OpenRun(id);
    ASSERT_THAT(view, IsOk());
    ASSERT_THAT((*view)->series(), SizeIs(13));
    const std::vector<ReadSeries> whole = ReadAllOf(**view);
    std::vector<size_t> pieces;
    const std::vector<ReadSeries> got = ReadAllPiecesOf(**view, &pieces);
    ASSERT_EQ(got.size(), whole.size()) << "compacted: " << compact;
    for (size_t i = 0; i < got.size(); ++i) {
      const std::string what = whole[i].series.key.ToString();
      EXPECT_EQ(got[i].series.key, whole[i].series.key);
      ExpectSameColumns(got[i].points.scalars, whole[i].points.scalars, what);
      ExpectSameColumns(got[i].points.texts, whole[i].points.texts, what);
      ExpectSameColumns(got[i].points.histograms, whole[i].points.histograms,
                        what);
      ExpectSameColumns(got[i].points.blobs, whole[i].points.blobs, what);
      // A compacted scalar series comes a block at a time; every other one
      // whole.
      const bool blocks =
          compact && whole[i].series.kind == SeriesKind::kScalar;
      const size_t n = whole[i].points.scalars.size();
      // Blocks of a series are full but for its last one.
      EXPECT_EQ(
          pieces[i],
          blocks ? (n + kCompactedBlockPoints - 1) / kCompactedBlockPoints : 1)
          << what << " compacted: " << compact;
    }
    EXPECT_EQ(got.back().points.scalars.size(), kLongPoints);
  }
}

TEST_F(RepoTest, ReadAllPiecesStopsAtTheSinksErrorAndReturnsIt) {
  for (const bool compact : {false, true}) {
    const std::string id = CommittedMixWithLongSeries(*repo_, 1907, compact);
    auto view = repo_->OpenRun(id);
    ASSERT_THAT(view, IsOk());
    int calls = 0;
    // The 14th call is the second piece of "long" when compacted.
    const int stop_at = compact ? 14 : 3;
    EXPECT_THAT((*view)->ReadAllPieces(
                    [&](const SeriesSummary&, const SeriesPoints&, bool) {
                      return ++calls == stop_at ? absl::CancelledError("enough")
                                                : absl::OkStatus();
                    }),
                StatusIs(absl::StatusCode::kCancelled, "enough"));
    EXPECT_EQ(calls, stop_at) << "compacted: " << compact;
  }
}

TEST_F(RepoTest, ReadAllPiecesOfADamagedBlockStopsAtItNamingTheFile) {
  const std::string id = CommittedMixWithLongSeries(*repo_, 1908, true);
  auto view = repo_->OpenRun(id);
  ASSERT_THAT(view, IsOk());
  // Damage a byte near the start of the column file: its first block.
  auto m = storage::ReadCommitManifest(mem_, Dir(id));
  ASSERT_THAT(m, IsOk());
  const std::string col = storage::JoinPath(
      Dir(id), storage::ColumnFileName(m->segments.front().number));
  auto bytes = mem_.Contents(col);
  ASSERT_THAT(bytes, IsOk());
  FlipBit(col, bytes->size() - 40);
  EXPECT_THAT(
      (*view)->ReadAllPieces([&](const SeriesSummary&, const SeriesPoints&,
                                 bool) { return absl::OkStatus(); }),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr(".col")));
}

// ---- abandoned runs and recovery --------------------------------------------

TEST_F(RepoTest, AbandonedRunIsListedAndRecovered) {
  const std::string kept = Committed();
  auto run = NewRun({.experiment = "crashed"});
  for (int i = 0; i < 10; ++i) ASSERT_THAT(run->Track("loss", i), IsOk());
  ASSERT_THAT(run->Close(), IsOk());
  const std::string id = run->id();

  // While this process lives, a closed, uncommitted run is still running.
  EXPECT_THAT(ListIds({.status = RunStatus::kRunning}), ElementsAre(id));

  probe_.KillProcess(probe_.self_pid());
  auto r = repo_->GetRun(id);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, RunStatus::kAbandoned);
  EXPECT_EQ(r->state, storage::RunState::kAbandoned);
  EXPECT_FALSE(r->detail.empty());
  // Its records are still readable.
  EXPECT_EQ(r->summary.experiment, "crashed");
  ASSERT_THAT(r->summary.series, SizeIs(1));
  EXPECT_EQ(r->summary.series[0].count, 10);
  EXPECT_THAT(ListIds({.status = RunStatus::kAbandoned}), ElementsAre(id));
  EXPECT_THAT(ListIds(), ElementsAre(kept, id));

  // A dry run changes nothing.
  auto dry = repo_->Recover(/*dry_run=*/true);
  ASSERT_THAT(dry, IsOk());
  EXPECT_THAT(ListIds(), ElementsAre(kept, id));

  auto report = repo_->Recover();
  ASSERT_THAT(report, IsOk());
  bool deleted = false;
  for (const storage::RecoveryAction& a : report->actions) {
    if (a.kind == storage::RecoveryAction::Kind::kDeleteAbandonedRun &&
        a.path.find(id) != std::string::npos) {
      deleted = a.done;
    }
  }
  EXPECT_TRUE(deleted);
  EXPECT_THAT(ListIds(), ElementsAre(kept));
  EXPECT_THAT(repo_->GetRun(id),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST_F(RepoTest, RecoverKeepsLiveRuns) {
  auto run = NewRun();
  ASSERT_THAT(run->Track("loss", 1.0), IsOk());
  ASSERT_THAT(run->Flush(), IsOk());
  auto report = repo_->Recover();
  ASSERT_THAT(report, IsOk());
  EXPECT_THAT(ListIds(), ElementsAre(run->id()));
  EXPECT_THAT(run->Commit(), IsOk());
}

// A run of another host (or of a writer that cannot be probed) is "unknown"
// until it is stale: deletion without force refuses it and says how to
// force it.
TEST_F(RepoTest, DeleteRefusesAnotherHostsUncommittedRunWithoutForce) {
  auto run = NewRun();
  ASSERT_THAT(run->Track("loss", 1.0), IsOk());
  // Closed and dropped, so this process holds no writer of it: from here
  // the run looks like another host's that may still be writing.
  ASSERT_THAT(run->Close(), IsOk());
  const std::string id = run->id();
  run.reset();
  probe_.identity().hostname = "host-b";
  probe_.identity().boot_id = "boot-b";
  EXPECT_THAT(repo_->DeleteRun(id),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(id), HasSubstr("--force"))));
  EXPECT_THAT(ListIds(), ElementsAre(id));
  EXPECT_THAT(repo_->DeleteRun(id, {.force = true}), IsOk());
  EXPECT_THAT(ListIds(), IsEmpty());
}

TEST_F(RepoTest, DeleteWithoutForceRemovesCommittedAndAbandonedRuns) {
  const std::string done = Committed();
  auto run = NewRun();
  ASSERT_THAT(run->Track("loss", 1.0), IsOk());
  ASSERT_THAT(run->Close(), IsOk());
  const std::string dead = run->id();
  probe_.KillProcess(probe_.self_pid());
  EXPECT_THAT(repo_->DeleteRun(done), IsOk());
  EXPECT_THAT(repo_->DeleteRun(dead), IsOk());
  EXPECT_THAT(ListIds(), IsEmpty());
  EXPECT_THAT(*mem_.ListDir("/repo/trash"), IsEmpty());
}

// A complete chunk that fails its checksum in an uncommitted run is damage,
// not a torn tail: verify names the file and offset.
TEST_F(RepoTest, VerifyReportsDamageInsideAnAbandonedRun) {
  auto run = NewRun();
  for (int i = 0; i < 2000; ++i) ASSERT_THAT(run->Track("loss", i), IsOk());
  ASSERT_THAT(run->Close(), IsOk());
  const std::string id = run->id();
  probe_.KillProcess(probe_.self_pid());
  auto size = mem_.Stat(SegmentPath(id));
  ASSERT_THAT(size, IsOk());
  FlipBit(SegmentPath(id),
          (size->size - storage::format::kSegmentHeaderSize) / 2);
  auto report = repo_->VerifyRun(id);
  ASSERT_THAT(report, IsOk());
  ASSERT_THAT(report->problems, SizeIs(1));
  EXPECT_EQ(report->problems[0].file, SegmentPath(id));
  EXPECT_THAT(
      report->problems[0].status,
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("offset"), HasSubstr("not a torn write"))));
  EXPECT_GT(report->dropped_bytes, 0u);
}

TEST_F(RepoTest, VerifyNotesATornTailWithoutCallingItAProblem) {
  auto run = NewRun();
  for (int i = 0; i < 100; ++i) ASSERT_THAT(run->Track("loss", i), IsOk());
  ASSERT_THAT(run->Flush(), IsOk());
  for (int i = 100; i < 200; ++i) ASSERT_THAT(run->Track("loss", i), IsOk());
  ASSERT_THAT(run->Close(), IsOk());
  const std::string id = run->id();
  probe_.KillProcess(probe_.self_pid());
  auto bytes = mem_.Contents(SegmentPath(id));
  ASSERT_THAT(bytes, IsOk());
  bytes->resize(bytes->size() - 5);  // the last append cut short
  ASSERT_THAT(mem_.SetContents(SegmentPath(id), *bytes), IsOk());
  auto report = repo_->VerifyRun(id);
  ASSERT_THAT(report, IsOk());
  EXPECT_THAT(report->problems, IsEmpty());
  ASSERT_THAT(report->notes, SizeIs(1));
  EXPECT_THAT(report->notes[0], HasSubstr("incomplete chunk"));
  EXPECT_EQ(report->points, 100);
}

// A writer that calls rarely still shows life: OWNER's mtime follows its
// calls once the heartbeat interval has passed.
TEST_F(RepoTest, RareCallsRefreshOwnersModificationTime) {
  // A long buffer age, so the calls below buffer their records instead of
  // flushing them (a flush is a sign of life of its own).
  auto run = NewRun({.max_buffer_age = absl::Hours(1),
                     .heartbeat_interval = absl::Minutes(1)});
  const std::string owner =
      storage::JoinPath(Dir(run->id()), storage::format::kOwnerFileName);
  const absl::Time created = mem_.Stat(owner)->modified;
  clock_.Advance(absl::Seconds(30));
  ASSERT_THAT(run->SetParam("a", Value(1)), IsOk());
  EXPECT_EQ(mem_.Stat(owner)->modified, created);
  clock_.Advance(absl::Seconds(31));
  ASSERT_THAT(run->SetParam("b", Value(2)), IsOk());
  EXPECT_EQ(mem_.Stat(owner)->modified, clock_.Now());
  EXPECT_THAT(run->Commit(), IsOk());
}

}  // namespace
}  // namespace runlog
