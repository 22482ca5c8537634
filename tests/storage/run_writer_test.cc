#include "storage/run_writer.h"

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

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
using ::runlog::testing::StatusIs;
using ::testing::HasSubstr;

class RunWriterTest : public ::testing::Test {
 protected:
  RunWriterTest()
      : clock_(absl::FromUnixSeconds(1'700'000'000)),
        mem_(&clock_),
        fs_(&mem_) {
    RunStoreOptions o;
    o.create_if_missing = true;
    o.fs = &fs_;
    o.clock = &clock_;
    o.probe = &probe_;
    store_ = *RunStore::Open("/repo", o);
  }

  std::unique_ptr<RunWriter> Create(SyncPolicy policy = SyncPolicy::kOnCommit) {
    RunWriterOptions o;
    o.sync_policy = policy;
    o.buffer_size = 64;
    auto w = store_->CreateRun(o);
    EXPECT_THAT(w, IsOk());
    return w.ok() ? *std::move(w) : nullptr;
  }
  absl::Status Append(RunWriter& w, const std::string& payload = "payload") {
    return w.AppendChunk(format::kChunkRecords, payload);
  }
  absl::Status Commit(RunWriter& w) {
    return w.Commit(format::RunStatus::kFinished, clock_.Now(), "", "");
  }
  bool HasCommit(const RunWriter& w) {
    return mem_.Stat(JoinPath(w.dir(), "COMMIT")).ok();
  }

  ManualClock clock_;
  MemFileSystem mem_;
  FaultInjectingFileSystem fs_;
  FakeSystemProbe probe_;
  std::unique_ptr<RunStore> store_;
};

TEST_F(RunWriterTest, CommitFollowsTheDurableProtocolInOrder) {
  auto w = Create();
  ASSERT_THAT(Append(*w), IsOk());
  std::vector<std::string> ops;
  fs_.set_observer([&](FsOp op, const std::string& path) {
    // Whether buffered segment bytes are written now or were written at
    // append time depends on the buffer; the protocol is about the rest.
    if (op == FsOp::kWrite && path.find(".seg") != std::string::npos) return;
    const char* name = op == FsOp::kSync     ? "sync"
                       : op == FsOp::kRename ? "rename"
                       : op == FsOp::kOpen   ? "open"
                       : op == FsOp::kWrite  ? "write"
                                             : "other";
    ops.push_back(std::string(name) + " " + path.substr(path.rfind('/') + 1));
  });
  ASSERT_THAT(Commit(*w), IsOk());
  fs_.set_observer(nullptr);
  const std::string id = w->id();
  // docs/design.md, "Flushes per run": the segment (ending in the commit
  // record) is synced first; COMMIT's bytes are not; one fsync of the run
  // directory names segment and COMMIT durably; then runs/ (creation synced
  // nothing).
  EXPECT_THAT(ops, ::testing::ElementsAre(
                       "sync 000001.seg", "open COMMIT.tmp", "write COMMIT.tmp",
                       "rename COMMIT.tmp", "sync " + id, "sync runs"));
}

TEST_F(RunWriterTest, NeverSyncPolicyNeverSyncs) {
  const int64_t before = fs_.count(FsOp::kSync);
  auto w = Create(SyncPolicy::kNever);
  for (int i = 0; i < 20; ++i) ASSERT_THAT(Append(*w), IsOk());
  ASSERT_THAT(w->Flush(), IsOk());
  ASSERT_THAT(w->Sync(), IsOk());
  ASSERT_THAT(Commit(*w), IsOk());
  EXPECT_EQ(fs_.count(FsOp::kSync), before);
  EXPECT_TRUE(HasCommit(*w));
}

TEST_F(RunWriterTest, EveryFlushPolicySyncsOnFlush) {
  auto w = Create(SyncPolicy::kEveryFlush);
  ASSERT_THAT(Append(*w), IsOk());
  const int64_t before = fs_.count(FsOp::kSync);
  ASSERT_THAT(w->Flush(), IsOk());
  EXPECT_EQ(fs_.count(FsOp::kSync), before + 1);
}

TEST_F(RunWriterTest, OnCommitPolicyDoesNotSyncOnFlush) {
  auto w = Create(SyncPolicy::kOnCommit);
  ASSERT_THAT(Append(*w), IsOk());
  const int64_t before = fs_.count(FsOp::kSync);
  ASSERT_THAT(w->Flush(), IsOk());
  EXPECT_EQ(fs_.count(FsOp::kSync), before);
}

TEST_F(RunWriterTest, FailedWritePoisonsAndBlocksCommit) {
  auto w = Create();
  fs_.FailNth(FsOp::kWrite, 1, ENOSPC, /*persistent=*/false);
  // The 200-byte chunk overflows the 64-byte buffer, so it is written now.
  const absl::Status first = Append(*w, std::string(200, 'x'));
  ASSERT_FALSE(first.ok());
  EXPECT_THAT(first, StatusIs(absl::StatusCode::kResourceExhausted,
                              HasSubstr("000001.seg")));
  // The fault was one-shot, but the writer stays poisoned with the first
  // error.
  EXPECT_EQ(Append(*w), first);
  EXPECT_EQ(w->Flush(), first);
  EXPECT_EQ(Commit(*w), first);
  EXPECT_FALSE(w->committed());
  EXPECT_FALSE(HasCommit(*w));
}

TEST_F(RunWriterTest, FailedFsyncIsNeverRetried) {
  auto w = Create();
  ASSERT_THAT(Append(*w), IsOk());
  fs_.FailNth(FsOp::kSync, 1, EIO, /*persistent=*/false);
  const absl::Status first = w->Sync();
  ASSERT_FALSE(first.ok());
  EXPECT_THAT(first.message(), HasSubstr("000001.seg"));
  const int64_t syncs = fs_.count(FsOp::kSync);
  EXPECT_EQ(w->Sync(), first);
  EXPECT_EQ(Commit(*w), first);
  EXPECT_EQ(fs_.count(FsOp::kSync), syncs);
  EXPECT_FALSE(HasCommit(*w));
}

TEST_F(RunWriterTest, FailedDirectorySyncAfterRenameLeavesNoCommit) {
  // Syncs during commit: segment, run dir (after the rename), runs/. A
  // failure of either directory fsync leaves no COMMIT behind.
  for (int nth : {2, 3}) {
    auto w = Create();
    ASSERT_THAT(Append(*w), IsOk());
    fs_.FailNth(FsOp::kSync, nth, EIO, false);
    EXPECT_FALSE(Commit(*w).ok()) << nth;
    EXPECT_FALSE(w->committed()) << nth;
    EXPECT_FALSE(HasCommit(*w)) << nth;
  }
}

TEST_F(RunWriterTest, OversizeReasonIsInvalidArgumentAndDoesNotPoison) {
  auto w = Create();
  ASSERT_THAT(Append(*w), IsOk());
  EXPECT_THAT(w->Commit(format::RunStatus::kFailed, clock_.Now(),
                        std::string(format::kMaxFailureReason + 1, 'r'), ""),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(w->status(), IsOk());
  EXPECT_THAT(Commit(*w), IsOk());
}

TEST_F(RunWriterTest, CallsAfterCommitAreFailedPrecondition) {
  auto w = Create();
  ASSERT_THAT(Commit(*w), IsOk());
  EXPECT_THAT(Append(*w), StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr(w->id())));
  EXPECT_THAT(Commit(*w), StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr("committed")));
  EXPECT_THAT(w->Close(), IsOk());
}

TEST_F(RunWriterTest, CallsAfterCloseAreFailedPrecondition) {
  auto w = Create();
  ASSERT_THAT(Append(*w), IsOk());
  ASSERT_THAT(w->Close(), IsOk());
  EXPECT_FALSE(w->is_open());
  EXPECT_THAT(Append(*w), StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr("closed")));
  EXPECT_THAT(Commit(*w), StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr("closed")));
  EXPECT_FALSE(HasCommit(*w));
}

TEST_F(RunWriterTest, DestructorFlushesButDoesNotCommit) {
  std::string dir;
  {
    auto w = Create();
    ASSERT_THAT(Append(*w, "kept"), IsOk());
    dir = w->dir();
  }
  auto seg = mem_.Contents(JoinPath(dir, "000001.seg"));
  ASSERT_THAT(seg, IsOk());
  EXPECT_THAT(*seg, HasSubstr("kept"));
  EXPECT_FALSE(mem_.Stat(JoinPath(dir, "COMMIT")).ok());
}

}  // namespace
}  // namespace runlog::storage
