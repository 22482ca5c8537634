#include "storage/recovery.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/commit_manifest.h"
#include "storage/fault_file_system.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/run_store.h"
#include "storage/run_writer.h"
#include "storage/segment.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/stale_dir_file_system.h"
#include "tests/testing/status_matchers.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::FakeSystemProbe;
using ::runlog::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Kind = RecoveryAction::Kind;

class RecoveryTest : public ::testing::Test {
 protected:
  RecoveryTest()
      : clock_(absl::FromUnixSeconds(1'700'000'000)),
        mem_(&clock_),
        fs_(&mem_) {
    RunStoreOptions o;
    o.create_if_missing = true;
    o.fs = &fs_;
    o.clock = &clock_;
    o.probe = &probe_;
    o.staleness = absl::Minutes(10);
    store_ = *RunStore::Open("/repo", o);
  }

  // Each run is created 1 ms after the previous one, so ids sort in
  // creation order.
  std::string Committed() {
    clock_.Advance(absl::Milliseconds(1));
    auto w = *store_->CreateRun();
    EXPECT_THAT(w->AppendChunk(format::kChunkRecords, "data"), IsOk());
    EXPECT_THAT(w->Commit(format::RunStatus::kFinished, clock_.Now(), "", ""),
                IsOk());
    return w->id();
  }
  std::string Uncommitted() {
    clock_.Advance(absl::Milliseconds(1));
    auto w = *store_->CreateRun();
    EXPECT_THAT(w->AppendChunk(format::kChunkRecords, "data"), IsOk());
    EXPECT_THAT(w->Close(), IsOk());
    return w->id();
  }
  std::vector<std::string> Runs() { return *mem_.ListDir("/repo/runs"); }
  RecoveryReport RecoverOk(bool dry_run = false) {
    auto report = Recover(*store_, dry_run);
    EXPECT_THAT(report, IsOk());
    return report.ok() ? *std::move(report) : RecoveryReport{};
  }

  ManualClock clock_;
  MemFileSystem mem_;
  FaultInjectingFileSystem fs_;
  FakeSystemProbe probe_;
  std::unique_ptr<RunStore> store_;
};

TEST_F(RecoveryTest, KeepsLiveRunsAndCommittedRuns) {
  const std::string done = Committed();
  const std::string live = Uncommitted();
  RecoveryReport report = RecoverOk();
  EXPECT_THAT(report.actions, IsEmpty());
  ASSERT_THAT(report.kept, SizeIs(1));
  EXPECT_EQ(report.kept[0].first, live);
  EXPECT_THAT(Runs(), ElementsAre(done, live));
}

TEST_F(RecoveryTest, DeletesRunOfDeadProcess) {
  const std::string done = Committed();
  const std::string dead = Uncommitted();
  probe_.KillProcess(probe_.self_pid());
  RecoveryReport report = RecoverOk();
  ASSERT_THAT(report.actions, SizeIs(1));
  EXPECT_EQ(report.actions[0].kind, Kind::kDeleteAbandonedRun);
  EXPECT_TRUE(report.actions[0].done);
  EXPECT_THAT(Runs(), ElementsAre(done));
  EXPECT_THAT(*mem_.ListDir("/repo/trash"), IsEmpty());
}

TEST_F(RecoveryTest, KeepsARunWhoseDirectoryCannotBeReadNow) {
  const std::string unreadable = Uncommitted();
  const std::string dead = Uncommitted();
  probe_.KillProcess(probe_.self_pid());
  clock_.Advance(absl::Hours(1));
  ::runlog::testing::StaleDirFileSystem stale(&mem_);
  RunStoreOptions o = store_->options();
  o.fs = &stale;
  auto store = RunStore::Open("/repo", o);
  ASSERT_THAT(store, IsOk());
  stale.stale_dir = (*store)->RunDir(unreadable);
  stale.failures = 1'000;
  auto report = Recover(**store, false);
  ASSERT_THAT(report, IsOk());
  ASSERT_THAT(report->actions, SizeIs(1));
  EXPECT_EQ(report->actions[0].path, (*store)->RunDir(dead));
  ASSERT_THAT(report->kept, SizeIs(1));
  EXPECT_EQ(report->kept[0].first, unreadable);
  EXPECT_THAT(report->kept[0].second,
              ::testing::HasSubstr("Stale file handle"));
  EXPECT_THAT(Runs(), ElementsAre(unreadable));
}

TEST_F(RecoveryTest, DeletesRunsLeftBeforeAReboot) {
  Uncommitted();
  probe_.Reboot();
  RecoverOk();
  EXPECT_THAT(Runs(), IsEmpty());
}

TEST_F(RecoveryTest, DryRunChangesNothing) {
  const std::string dead = Uncommitted();
  ASSERT_THAT(mem_.CreateDir("/repo/trash/0zz"), IsOk());
  probe_.KillProcess(probe_.self_pid());
  RecoveryReport report = RecoverOk(/*dry_run=*/true);
  ASSERT_THAT(report.actions, SizeIs(2));
  EXPECT_EQ(report.actions[0].kind, Kind::kPurgeTrash);
  EXPECT_EQ(report.actions[1].kind, Kind::kDeleteAbandonedRun);
  EXPECT_FALSE(report.actions[0].done);
  EXPECT_FALSE(report.actions[1].done);
  EXPECT_THAT(Runs(), ElementsAre(dead));
  EXPECT_THAT(*mem_.ListDir("/repo/trash"), ElementsAre("0zz"));
}

TEST_F(RecoveryTest, EmptiesTrashLeftByInterruptedDelete) {
  const std::string id = Committed();
  // A crash right after the rename of a deletion.
  ASSERT_THAT(mem_.Rename(store_->RunDir(id), "/repo/trash/" + id), IsOk());
  RecoveryReport report = RecoverOk();
  ASSERT_THAT(report.actions, SizeIs(1));
  EXPECT_EQ(report.actions[0].kind, Kind::kPurgeTrash);
  EXPECT_THAT(*mem_.ListDir("/repo/trash"), IsEmpty());
}

TEST_F(RecoveryTest, RemovesStaleCommitTempInCommittedRun) {
  const std::string id = Committed();
  const std::string tmp = JoinPath(store_->RunDir(id), "COMMIT.tmp");
  ASSERT_THAT(WriteNewFileSynced(mem_, tmp, "partial"), IsOk());
  RecoveryReport report = RecoverOk();
  ASSERT_THAT(report.actions, SizeIs(1));
  EXPECT_EQ(report.actions[0].kind, Kind::kRemoveTempFile);
  EXPECT_THAT(mem_.Stat(tmp), runlog::testing::StatusIs(
                                  absl::StatusCode::kNotFound, ::testing::_));
}

TEST_F(RecoveryTest, RemovesOnlyOldUnreferencedSegments) {
  const std::string id = Committed();
  const std::string stray = JoinPath(store_->RunDir(id), "000007.seg");
  ASSERT_THAT(WriteNewFileSynced(mem_, stray, "leftover"), IsOk());
  // Fresh: a compaction may be writing it right now.
  EXPECT_THAT(RecoverOk().actions, IsEmpty());
  EXPECT_THAT(mem_.Stat(stray), IsOk());
  clock_.Advance(absl::Minutes(11));
  RecoveryReport report = RecoverOk();
  ASSERT_THAT(report.actions, SizeIs(1));
  EXPECT_EQ(report.actions[0].kind, Kind::kRemoveUnreferencedSegment);
  EXPECT_FALSE(mem_.Stat(stray).ok());
  EXPECT_THAT(mem_.Stat(JoinPath(store_->RunDir(id), "000001.seg")), IsOk());
}

TEST_F(RecoveryTest, IsIdempotent) {
  Committed();
  Uncommitted();
  probe_.KillProcess(probe_.self_pid());
  RecoverOk();
  const std::vector<std::string> after_first = Runs();
  EXPECT_THAT(RecoverOk().actions, IsEmpty());
  EXPECT_EQ(Runs(), after_first);
}

// A racing recovery in another process removes a file just before this one
// does: the resulting NotFound is not an error.
TEST_F(RecoveryTest, RacingPeerRemovalIsNotAnError) {
  const std::string id = Committed();
  const std::string dead = Uncommitted();
  ASSERT_THAT(WriteNewFileSynced(mem_, "/repo/trash/0zz-a", ""), IsOk());
  ASSERT_THAT(mem_.CreateDir("/repo/trash/0zz"), IsOk());
  ASSERT_THAT(WriteNewFileSynced(mem_, "/repo/trash/0zz/000001.seg", "x"),
              IsOk());
  probe_.KillProcess(probe_.self_pid());
  bool raced = false;
  fs_.set_observer([&](FsOp op, const std::string& path) {
    if (op == FsOp::kUnlink && !raced) {
      raced = true;
      mem_.RemoveFile(path).IgnoreError();  // the peer wins
    }
  });
  RecoverOk();
  fs_.set_observer(nullptr);
  EXPECT_TRUE(raced);
  EXPECT_THAT(Runs(), ElementsAre(id));
}

// ---- Removal judged again from trash/ (issue: acknowledged commits) -------

class RecheckTest : public RecoveryTest {
 protected:
  // An uncommitted run that, seen from this host, belongs to another host
  // and has been quiet for longer than the staleness period.
  std::unique_ptr<RunWriter> QuietRunOfAnotherHost() {
    auto w = *store_->CreateRun();
    EXPECT_THAT(w->AppendChunk(format::kChunkRecords, "data"), IsOk());
    EXPECT_THAT(w->Flush(), IsOk());
    probe_.identity().hostname = "host-b";
    probe_.identity().machine_id = "machine-b";
    probe_.identity().boot_id = "boot-b";
    clock_.Advance(absl::Minutes(11));
    return w;
  }
  // Runs `action` just before the first rename of runs/<id> is attempted:
  // the moment between recovery's judgement and its move to trash.
  void BeforeMoveOf(const std::string& id, std::function<void()> action) {
    auto fired = std::make_shared<bool>(false);
    const std::string dir = store_->RunDir(id);
    fs_.set_observer([=](FsOp op, const std::string& path) {
      if (op == FsOp::kRename && path == dir && !*fired) {
        *fired = true;
        action();
      }
    });
  }
};

TEST_F(RecheckTest, RemovesRunThatStaysQuiet) {
  auto w = QuietRunOfAnotherHost();
  const std::string id = w->id();
  RecoveryReport report = RecoverOk();
  ASSERT_THAT(report.actions, SizeIs(1));
  EXPECT_EQ(report.actions[0].kind, Kind::kDeleteAbandonedRun);
  EXPECT_TRUE(report.actions[0].done);
  EXPECT_THAT(Runs(), IsEmpty());
  EXPECT_THAT(*mem_.ListDir("/repo/trash"), IsEmpty());
}

TEST_F(RecheckTest, RestoresRunThatCommittedAfterItWasJudged) {
  auto w = QuietRunOfAnotherHost();
  const std::string id = w->id();
  BeforeMoveOf(id, [&] {
    EXPECT_THAT(w->Commit(format::RunStatus::kFinished, clock_.Now(), "", ""),
                IsOk());
  });
  RecoveryReport report = RecoverOk();
  fs_.set_observer(nullptr);
  ASSERT_TRUE(w->committed());
  EXPECT_THAT(Runs(), ElementsAre(id));
  ASSERT_THAT(report.kept, SizeIs(1));
  EXPECT_EQ(report.kept[0].first, id);
  EXPECT_THAT(report.kept[0].second, ::testing::HasSubstr("committed"));
  absl::StatusOr<RunEntry> entry = store_->GetRun(id);
  ASSERT_THAT(entry, IsOk());
  EXPECT_EQ(entry->state, RunState::kCommitted);
  EXPECT_THAT(*mem_.ListDir("/repo/trash"), IsEmpty());
}

TEST_F(RecheckTest, RestoresRunThatShowedLifeAfterItWasJudged) {
  auto w = QuietRunOfAnotherHost();
  const std::string id = w->id();
  BeforeMoveOf(id, [&] { EXPECT_THAT(w->Heartbeat(), IsOk()); });
  RecoveryReport report = RecoverOk();
  fs_.set_observer(nullptr);
  EXPECT_THAT(Runs(), ElementsAre(id));
  ASSERT_THAT(report.kept, SizeIs(1));
  EXPECT_THAT(report.kept[0].second, ::testing::HasSubstr("written to"));
  // The writer goes on and commits: nothing was lost.
  EXPECT_THAT(w->Commit(format::RunStatus::kFinished, clock_.Now(), "", ""),
              IsOk());
}

TEST_F(RecheckTest, InterruptedRemovalIsFinishedOrUndoneByRecovery) {
  auto quiet = QuietRunOfAnotherHost();
  const std::string gone = quiet->id();
  quiet.reset();
  // A remover died between its move and its second look, twice: once on a
  // run that is still dead, once on one that committed meanwhile.
  ASSERT_THAT(mem_.Rename(store_->RunDir(gone),
                          absl::StrCat("/repo/trash/", gone, ".recheck")),
              IsOk());
  probe_.identity().hostname = "host-a";
  probe_.identity().machine_id = "machine-a";
  probe_.identity().boot_id = "boot-1";
  const std::string kept = Committed();
  ASSERT_THAT(mem_.Rename(store_->RunDir(kept),
                          absl::StrCat("/repo/trash/", kept, ".recheck")),
              IsOk());
  probe_.KillProcess(probe_.self_pid());  // the quiet run's writer is gone
  RecoveryReport report = RecoverOk();
  int rechecks = 0;
  for (const RecoveryAction& a : report.actions) {
    if (a.kind == Kind::kRecheckRemoval) ++rechecks;
  }
  EXPECT_EQ(rechecks, 2);
  EXPECT_THAT(Runs(), ElementsAre(kept));
  EXPECT_THAT(*mem_.ListDir("/repo/trash"), IsEmpty());
}

// ---- Creation leftovers ----------------------------------------------------

TEST_F(RecoveryTest, RemovesUnfinishedCreationOfDeadCreator) {
  OwnerRecord owner = CurrentOwner(probe_, clock_.Now());
  owner.pid = 999;  // not running
  ASSERT_THAT(mem_.CreateDir("/repo/runs/.creating.0abc"), IsOk());
  ASSERT_THAT(WriteNewFileSynced(mem_, "/repo/runs/.creating.0abc/OWNER",
                                 EncodeOwner(owner)),
              IsOk());
  RecoveryReport report = RecoverOk();
  ASSERT_THAT(report.actions, SizeIs(1));
  EXPECT_EQ(report.actions[0].kind, Kind::kRemoveUnfinishedCreation);
  EXPECT_THAT(Runs(), IsEmpty());
}

TEST_F(RecoveryTest, KeepsCreationOfLiveCreatorUntilFarTooOld) {
  ASSERT_THAT(mem_.CreateDir("/repo/runs/.creating.0abc"), IsOk());
  ASSERT_THAT(
      WriteNewFileSynced(mem_, "/repo/runs/.creating.0abc/OWNER",
                         EncodeOwner(CurrentOwner(probe_, clock_.Now()))),
      IsOk());
  EXPECT_THAT(RecoverOk().actions, IsEmpty());
  EXPECT_THAT(Runs(), ElementsAre(".creating.0abc"));
  clock_.Advance(absl::Minutes(11));
  EXPECT_THAT(RecoverOk().actions, SizeIs(1));
  EXPECT_THAT(Runs(), IsEmpty());
}

// On a disk only this machine reaches, a run directory without OWNER can
// only be what a power loss (or a runlog before 0.2 killed inside CreateRun)
// left: its writer ran here and is gone.
TEST_F(RecoveryTest, RunWithoutOwnerOnALocalDiskIsAbandoned) {
  const std::string id = "0abc123";
  ASSERT_THAT(mem_.CreateDir(store_->RunDir(id)), IsOk());
  ASSERT_THAT(WriteNewFileSynced(mem_, store_->RunDir(id) + "/000001.seg",
                                 EncodeSegmentHeader(id, 1)),
              IsOk());
  const std::string empty_owner = "0abc124";
  ASSERT_THAT(mem_.CreateDir(store_->RunDir(empty_owner)), IsOk());
  ASSERT_THAT(
      WriteNewFileSynced(mem_, store_->RunDir(empty_owner) + "/OWNER", ""),
      IsOk());
  RecoveryReport report = RecoverOk();
  ASSERT_THAT(report.actions, SizeIs(2));
  for (const RecoveryAction& a : report.actions) {
    EXPECT_EQ(a.kind, Kind::kDeleteAbandonedRun);
    EXPECT_THAT(a.reason, ::testing::HasSubstr("power loss"));
  }
  EXPECT_THAT(Runs(), IsEmpty());
}

// A file system other machines reach, where a missing OWNER proves nothing.
class SharedFileSystem : public FaultInjectingFileSystem {
 public:
  using FaultInjectingFileSystem::FaultInjectingFileSystem;
  bool IsShared(const std::string&) override { return true; }
};

TEST_F(RecoveryTest, RemovesEmptyRunWithoutOwnerOnASharedFileSystem) {
  SharedFileSystem shared(&mem_);
  RunStoreOptions o;
  o.fs = &shared;
  o.clock = &clock_;
  o.probe = &probe_;
  // Far longer than the creation grace, so it is the empty-run rule that
  // removes the run, not the staleness rule.
  o.staleness = absl::Hours(24);
  auto store = *RunStore::Open("/repo", o);
  const std::string id = "0abc123";
  ASSERT_THAT(mem_.CreateDir(store->RunDir(id)), IsOk());
  ASSERT_THAT(WriteNewFileSynced(mem_, store->RunDir(id) + "/000001.seg",
                                 EncodeSegmentHeader(id, 1)),
              IsOk());
  absl::StatusOr<RecoveryReport> young = Recover(*store, false);
  ASSERT_THAT(young, IsOk());
  EXPECT_THAT(young->actions, IsEmpty());  // too young to tell
  clock_.Advance(absl::Minutes(11));
  // With data but no OWNER (and fresh): kept, only time can tell.
  const std::string with_data = "0abc124";
  ASSERT_THAT(mem_.CreateDir(store->RunDir(with_data)), IsOk());
  ASSERT_THAT(WriteNewFileSynced(
                  mem_, store->RunDir(with_data) + "/000001.seg",
                  EncodeSegmentHeader(with_data, 1) + "0123456789abcdef"),
              IsOk());
  absl::StatusOr<RecoveryReport> report = Recover(*store, false);
  ASSERT_THAT(report, IsOk());
  ASSERT_THAT(report->actions, SizeIs(1));
  EXPECT_EQ(report->actions[0].kind, Kind::kRemoveUnfinishedCreation);
  EXPECT_THAT(Runs(), ElementsAre(with_data));
}

// ---- Manifest generations --------------------------------------------------

TEST_F(RecoveryTest, RemovesSupersededManifestOnlyOnceStale) {
  const std::string id = Committed();
  absl::StatusOr<CommitManifest> m =
      ReadCommitManifest(mem_, store_->RunDir(id));
  ASSERT_THAT(m, IsOk());
  ASSERT_THAT(WriteCommitManifest(mem_, store_->RunDir(id), *m, true, 2),
              IsOk());
  EXPECT_THAT(RecoverOk().actions, IsEmpty());
  clock_.Advance(absl::Minutes(11));
  RecoveryReport report = RecoverOk();
  ASSERT_THAT(report.actions, SizeIs(1));
  EXPECT_EQ(report.actions[0].kind, Kind::kRemoveOldManifest);
  EXPECT_THAT(*mem_.ListDir(store_->RunDir(id)),
              ElementsAre("000001.seg", "COMMIT.2", "OWNER"));
  absl::StatusOr<RunEntry> entry = store_->GetRun(id);
  ASSERT_THAT(entry, IsOk());
  EXPECT_EQ(entry->state, RunState::kCommitted);
  EXPECT_EQ(entry->manifest_generation, 2u);
}

// Ages are measured on the file system's clock: a recovering host whose own
// clock runs a day ahead does not see a quiet run of another host as stale.
TEST_F(RecoveryTest, JudgesAgesByTheFileSystemClockNotTheLocalOne) {
  auto w = *store_->CreateRun();
  ASSERT_THAT(w->AppendChunk(format::kChunkRecords, "data"), IsOk());
  ASSERT_THAT(w->Flush(), IsOk());
  probe_.identity().hostname = "host-b";
  probe_.identity().boot_id = "boot-b";
  ManualClock skewed(clock_.Now() + absl::Hours(24));
  RunStoreOptions o;
  o.fs = &fs_;
  o.clock = &skewed;  // this host's clock; the file system keeps clock_
  o.probe = &probe_;
  o.staleness = absl::Minutes(10);
  auto skewed_store = *RunStore::Open("/repo", o);
  absl::StatusOr<RecoveryReport> report = Recover(*skewed_store, false);
  ASSERT_THAT(report, IsOk());
  EXPECT_THAT(report->actions, IsEmpty());
  EXPECT_THAT(Runs(), ElementsAre(w->id()));
}

}  // namespace
}  // namespace runlog::storage
