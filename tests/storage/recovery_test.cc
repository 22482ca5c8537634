#include "storage/recovery.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/fault_file_system.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/run_store.h"
#include "tests/testing/fake_system_probe.h"
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

}  // namespace
}  // namespace runlog::storage
