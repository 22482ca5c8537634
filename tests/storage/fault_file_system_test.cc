#include "storage/fault_file_system.h"

#include <errno.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/file_system.h"
#include "storage/mem_file_system.h"
#include "storage/status_macros.h"
#include "tests/testing/status_matchers.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

class FaultFileSystemTest : public ::testing::Test {
 protected:
  FaultFileSystemTest()
      : clock_(absl::FromUnixSeconds(1'700'000'000)),
        mem_(&clock_),
        fs_(&mem_) {}

  void SetUp() override {
    RUNLOG_ASSERT_OK(mem_.CreateDir("/d"));
    auto file = mem_.NewWritableFile("/d/log");
    ASSERT_THAT(file, IsOk());
    log_ = std::move(file).value();
  }

  // Performs the next operation of kind `op` through the fault-injecting
  // file system, on a fresh target, and returns its status. `*path` gets the
  // path the operation names.
  absl::Status Perform(FsOp op, std::string* path) {
    const int i = next_++;
    switch (op) {
      case FsOp::kOpen: {
        *path = absl::StrCat("/d/new", i);
        return fs_.NewWritableFile(*path).status();
      }
      case FsOp::kWrite:
        *path = "/d/writer";
        return Writer().Append(absl::StrCat("w", i, ";"));
      case FsOp::kSync:
        *path = "/d/writer";
        return Writer().Sync();
      case FsOp::kRename: {
        *path = absl::StrCat("/d/from", i);
        EXPECT_THAT(mem_.SetContents(*path, "x"), IsOk());
        return fs_.Rename(*path, absl::StrCat("/d/to", i));
      }
      case FsOp::kUnlink: {
        *path = absl::StrCat("/d/victim", i);
        EXPECT_THAT(mem_.SetContents(*path, "x"), IsOk());
        return fs_.RemoveFile(*path);
      }
      case FsOp::kMkdir:
        *path = absl::StrCat("/d/dir", i);
        return fs_.CreateDir(*path);
    }
    return absl::InternalError("unreachable");
  }
  absl::Status Perform(FsOp op) {
    std::string path;
    return Perform(op, &path);
  }

  WritableFile& Writer() {
    if (writer_ == nullptr) {
      auto file = fs_.NewWritableFile("/d/writer");
      EXPECT_THAT(file, IsOk());
      writer_ = std::move(file).value();
    }
    return *writer_;
  }

  std::string Contents(const std::string& path) {
    auto data = mem_.Contents(path);
    return data.ok() ? *data : "<missing>";
  }

  ManualClock clock_;
  MemFileSystem mem_;
  FaultInjectingFileSystem fs_;
  std::unique_ptr<WritableFile> log_;
  std::unique_ptr<WritableFile> writer_;
  int next_ = 0;
};

// --- One parameterized suite over every operation kind ----------------------

class FaultPerOpTest : public FaultFileSystemTest,
                       public ::testing::WithParamInterface<FsOp> {
 protected:
  void SetUp() override {
    FaultFileSystemTest::SetUp();
    // Opened up front so kWrite/kSync runs don't count an open.
    if (GetParam() == FsOp::kWrite || GetParam() == FsOp::kSync) Writer();
  }
};

TEST_P(FaultPerOpTest, FailsExactlyTheNthOnce) {
  fs_.FailNth(GetParam(), 3, EIO, /*persistent=*/false);
  std::vector<bool> ok;
  for (int i = 0; i < 5; ++i) ok.push_back(Perform(GetParam()).ok());
  EXPECT_THAT(ok, ElementsAre(true, true, false, true, true));
}

TEST_P(FaultPerOpTest, PersistentFailsFromTheNthOn) {
  fs_.FailNth(GetParam(), 2, ENOSPC, /*persistent=*/true);
  std::vector<bool> ok;
  for (int i = 0; i < 5; ++i) ok.push_back(Perform(GetParam()).ok());
  EXPECT_THAT(ok, ElementsAre(true, false, false, false, false));
}

TEST_P(FaultPerOpTest, NthIsCountedFromTheCall) {
  for (int i = 0; i < 3; ++i) RUNLOG_ASSERT_OK(Perform(GetParam()));
  fs_.FailNth(GetParam(), 1, EIO, /*persistent=*/false);
  EXPECT_FALSE(Perform(GetParam()).ok());
  RUNLOG_EXPECT_OK(Perform(GetParam()));
}

TEST_P(FaultPerOpTest, EioCodeAndMessageNameThePath) {
  fs_.FailNth(GetParam(), 1, EIO, /*persistent=*/false);
  std::string path;
  EXPECT_THAT(Perform(GetParam(), &path),
              StatusIs(absl::ErrnoToStatusCode(EIO),
                       AllOf(HasSubstr(path),
                             HasSubstr("injected Input/output error"))));
}

TEST_P(FaultPerOpTest, EnospcIsResourceExhausted) {
  fs_.FailNth(GetParam(), 1, ENOSPC, /*persistent=*/false);
  std::string path;
  EXPECT_THAT(Perform(GetParam(), &path),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr(path), HasSubstr("injected No space"))));
}

TEST_P(FaultPerOpTest, CountsIncludeFailures) {
  const int64_t before = fs_.count(GetParam());
  fs_.FailNth(GetParam(), 2, EIO, /*persistent=*/false);
  for (int i = 0; i < 3; ++i) (void)Perform(GetParam());
  EXPECT_EQ(fs_.count(GetParam()), before + 3);
}

TEST_P(FaultPerOpTest, ClearFaultsDisarms) {
  fs_.FailNth(GetParam(), 1, EIO, /*persistent=*/true);
  fs_.ClearFaults();
  RUNLOG_EXPECT_OK(Perform(GetParam()));
}

TEST_P(FaultPerOpTest, FailsAfterCrash) {
  fs_.CrashAfterSyncs(0);
  std::string path;
  EXPECT_THAT(Perform(GetParam(), &path),
              StatusIs(absl::ErrnoToStatusCode(EIO),
                       AllOf(HasSubstr(path), HasSubstr("crash"))));
}

INSTANTIATE_TEST_SUITE_P(AllOps, FaultPerOpTest,
                         ::testing::Values(FsOp::kOpen, FsOp::kWrite,
                                           FsOp::kSync, FsOp::kRename,
                                           FsOp::kUnlink, FsOp::kMkdir),
                         [](const ::testing::TestParamInfo<FsOp>& info) {
                           return std::string(FsOpName(info.param));
                         });

// --- A failed operation has no effect ---------------------------------------

TEST_F(FaultFileSystemTest, FailedOpenCreatesNothing) {
  fs_.FailNth(FsOp::kOpen, 1, EIO, false);
  EXPECT_FALSE(fs_.NewWritableFile("/d/a").ok());
  EXPECT_FALSE(mem_.Stat("/d/a").ok());
}

TEST_F(FaultFileSystemTest, FailedWriteAppendsNothing) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/d/a"));
  fs_.FailNth(FsOp::kWrite, 2, ENOSPC, false);
  RUNLOG_ASSERT_OK(file->Append("one;"));
  EXPECT_FALSE(file->Append("two;").ok());
  RUNLOG_ASSERT_OK(file->Append("three;"));
  EXPECT_EQ(Contents("/d/a"), "one;three;");
}

TEST_F(FaultFileSystemTest, FailedSyncMakesNothingDurable) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/d/a"));
  RUNLOG_ASSERT_OK(fs_.SyncDir("/d"));
  RUNLOG_ASSERT_OK(mem_.SyncDir("/"));
  RUNLOG_ASSERT_OK(file->Append("data"));
  fs_.FailNth(FsOp::kSync, 1, EIO, false);
  EXPECT_FALSE(file->Sync().ok());
  fs_.SimulatePowerLoss();
  EXPECT_EQ(Contents("/d/a"), "");
}

TEST_F(FaultFileSystemTest, FailedSyncDirMakesNothingDurable) {
  RUNLOG_ASSERT_OK(mem_.SyncDir("/"));
  RUNLOG_ASSERT_OK(mem_.SetContents("/d/a", "x"));  // Durably linked.
  RUNLOG_ASSERT_OK(fs_.Rename("/d/a", "/d/b"));
  fs_.FailNth(FsOp::kSync, 1, EIO, false);
  EXPECT_FALSE(fs_.SyncDir("/d").ok());
  fs_.SimulatePowerLoss();
  EXPECT_EQ(Contents("/d/a"), "x");
  EXPECT_EQ(Contents("/d/b"), "<missing>");
}

TEST_F(FaultFileSystemTest, FailedRenameMovesNothing) {
  RUNLOG_ASSERT_OK(mem_.SetContents("/d/a", "x"));
  fs_.FailNth(FsOp::kRename, 1, EIO, false);
  EXPECT_THAT(fs_.Rename("/d/a", "/d/b"), StatusIs(absl::ErrnoToStatusCode(EIO),
                                                   HasSubstr("/d/a to /d/b")));
  EXPECT_EQ(Contents("/d/a"), "x");
  EXPECT_EQ(Contents("/d/b"), "<missing>");
}

TEST_F(FaultFileSystemTest, FailedUnlinkRemovesNothing) {
  RUNLOG_ASSERT_OK(mem_.SetContents("/d/a", "x"));
  RUNLOG_ASSERT_OK(mem_.CreateDir("/d/e"));
  fs_.FailNth(FsOp::kUnlink, 1, EIO, /*persistent=*/true);
  EXPECT_THAT(fs_.RemoveFile("/d/a"),
              StatusIs(absl::ErrnoToStatusCode(EIO), HasSubstr("unlink /d/a")));
  EXPECT_THAT(fs_.RemoveDir("/d/e"),
              StatusIs(absl::ErrnoToStatusCode(EIO), HasSubstr("rmdir /d/e")));
  EXPECT_EQ(Contents("/d/a"), "x");
  RUNLOG_EXPECT_OK(mem_.Stat("/d/e"));
}

TEST_F(FaultFileSystemTest, FailedMkdirCreatesNothing) {
  fs_.FailNth(FsOp::kMkdir, 1, ENOSPC, false);
  EXPECT_FALSE(fs_.CreateDir("/d/e").ok());
  EXPECT_FALSE(mem_.Stat("/d/e").ok());
}

// --- Counting and rules
// -------------------------------------------------------

TEST_F(FaultFileSystemTest, CountsEachKindSeparately) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/d/a"));
  RUNLOG_ASSERT_OK(file->Append("x"));
  RUNLOG_ASSERT_OK(file->Append("y"));
  RUNLOG_ASSERT_OK(file->Sync());
  RUNLOG_ASSERT_OK(fs_.SyncDir("/d"));
  RUNLOG_ASSERT_OK(fs_.NewRandomAccessFile("/d/a").status());
  RUNLOG_ASSERT_OK(fs_.Rename("/d/a", "/d/b"));
  RUNLOG_ASSERT_OK(fs_.CreateDir("/d/e"));
  RUNLOG_ASSERT_OK(fs_.RemoveDir("/d/e"));
  RUNLOG_ASSERT_OK(fs_.RemoveFile("/d/b"));
  RUNLOG_ASSERT_OK(fs_.ListDir("/d").status());
  RUNLOG_ASSERT_OK(fs_.Stat("/d").status());
  RUNLOG_ASSERT_OK(file->Close());
  EXPECT_EQ(fs_.count(FsOp::kOpen), 2);
  EXPECT_EQ(fs_.count(FsOp::kWrite), 2);
  EXPECT_EQ(fs_.count(FsOp::kSync), 2);
  EXPECT_EQ(fs_.count(FsOp::kRename), 1);
  EXPECT_EQ(fs_.count(FsOp::kUnlink), 2);
  EXPECT_EQ(fs_.count(FsOp::kMkdir), 1);
}

TEST_F(FaultFileSystemTest, RulesForDifferentKindsAreIndependent) {
  fs_.FailNth(FsOp::kMkdir, 2, EIO, false);
  fs_.FailNth(FsOp::kRename, 1, ENOSPC, false);
  RUNLOG_EXPECT_OK(fs_.CreateDir("/d/e1"));
  RUNLOG_ASSERT_OK(mem_.SetContents("/d/a", "x"));
  EXPECT_THAT(
      fs_.Rename("/d/a", "/d/b"),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("/d/a")));
  EXPECT_THAT(fs_.CreateDir("/d/e2"),
              StatusIs(absl::ErrnoToStatusCode(EIO), HasSubstr("/d/e2")));
  RUNLOG_EXPECT_OK(fs_.Rename("/d/a", "/d/b"));
}

TEST_F(FaultFileSystemTest, RearmingAKindReplacesItsRule) {
  fs_.FailNth(FsOp::kMkdir, 1, EIO, /*persistent=*/true);
  fs_.FailNth(FsOp::kMkdir, 2, ENOSPC, /*persistent=*/false);
  RUNLOG_EXPECT_OK(fs_.CreateDir("/d/e1"));
  EXPECT_THAT(
      fs_.CreateDir("/d/e2"),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("/d/e2")));
  RUNLOG_EXPECT_OK(fs_.CreateDir("/d/e3"));
}

TEST_F(FaultFileSystemTest, RandomAccessOpenCountsAndCanFail) {
  RUNLOG_ASSERT_OK(mem_.SetContents("/d/a", "x"));
  fs_.FailNth(FsOp::kOpen, 1, EIO, false);
  EXPECT_THAT(fs_.NewRandomAccessFile("/d/a"),
              StatusIs(absl::ErrnoToStatusCode(EIO), HasSubstr("open /d/a")));
  EXPECT_EQ(fs_.count(FsOp::kOpen), 1);
}

TEST_F(FaultFileSystemTest, RealErrorsPassThrough) {
  EXPECT_THAT(fs_.NewRandomAccessFile("/d/missing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/d/missing")));
  EXPECT_THAT(fs_.CreateDir("/d"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("/d")));
}

// --- CrashAfterSyncs
// ------------------------------------------------------------

TEST_F(FaultFileSystemTest, CrashAfterSyncsLetsNSyncsSucceed) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/d/a"));
  fs_.CrashAfterSyncs(2);
  RUNLOG_ASSERT_OK(file->Append("one;"));
  RUNLOG_ASSERT_OK(file->Sync());
  EXPECT_FALSE(fs_.crashed());
  RUNLOG_ASSERT_OK(fs_.SyncDir("/d"));
  EXPECT_TRUE(fs_.crashed());
  EXPECT_THAT(file->Append("two;"),
              StatusIs(absl::ErrnoToStatusCode(EIO), HasSubstr("/d/a")));
  EXPECT_EQ(Contents("/d/a"), "one;");
}

TEST_F(FaultFileSystemTest, CrashBlocksEveryMutationAndHasNoEffect) {
  RUNLOG_ASSERT_OK(mem_.SetContents("/d/a", "x"));
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/d/w"));
  fs_.CrashAfterSyncs(0);
  EXPECT_TRUE(fs_.crashed());
  EXPECT_FALSE(fs_.NewWritableFile("/d/new").ok());
  EXPECT_FALSE(file->Append("x").ok());
  EXPECT_FALSE(file->Sync().ok());
  EXPECT_FALSE(fs_.SyncDir("/d").ok());
  EXPECT_FALSE(fs_.Rename("/d/a", "/d/b").ok());
  EXPECT_FALSE(fs_.RemoveFile("/d/a").ok());
  EXPECT_FALSE(fs_.RemoveDir("/d").ok());
  EXPECT_FALSE(fs_.CreateDir("/d/e").ok());
  EXPECT_THAT(*mem_.ListDir("/d"), ElementsAre("a", "log", "w"));
  EXPECT_EQ(Contents("/d/w"), "");
}

TEST_F(FaultFileSystemTest, ReadsStillWorkAfterCrash) {
  RUNLOG_ASSERT_OK(mem_.SetContents("/d/a", "x"));
  fs_.CrashAfterSyncs(0);
  RUNLOG_EXPECT_OK(fs_.NewRandomAccessFile("/d/a"));
  RUNLOG_EXPECT_OK(fs_.Stat("/d/a"));
  RUNLOG_EXPECT_OK(fs_.ListDir("/d"));
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::string data,
                              ReadFileToString(fs_, "/d/a", 10));
  EXPECT_EQ(data, "x");
}

TEST_F(FaultFileSystemTest, FailedSyncDoesNotCountTowardCrash) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/d/a"));
  fs_.CrashAfterSyncs(1);
  fs_.FailNth(FsOp::kSync, 1, EIO, false);
  EXPECT_FALSE(file->Sync().ok());
  EXPECT_FALSE(fs_.crashed());
  RUNLOG_ASSERT_OK(file->Sync());
  EXPECT_TRUE(fs_.crashed());
}

TEST_F(FaultFileSystemTest, PowerLossAfterCrashKeepsWhatWasSynced) {
  RUNLOG_ASSERT_OK(mem_.SyncDir("/"));
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/d/a"));
  fs_.CrashAfterSyncs(2);
  RUNLOG_ASSERT_OK(file->Append("durable;"));
  RUNLOG_ASSERT_OK(file->Sync());
  RUNLOG_ASSERT_OK(fs_.SyncDir("/d"));
  EXPECT_FALSE(file->Append("lost;").ok());
  fs_.SimulatePowerLoss();
  EXPECT_FALSE(fs_.crashed());
  EXPECT_EQ(Contents("/d/a"), "durable;");
  // The old handle belongs to the dead process; new work succeeds.
  EXPECT_THAT(file->Append("x"), StatusIs(absl::StatusCode::kFailedPrecondition,
                                          HasSubstr("/d/a")));
  RUNLOG_EXPECT_OK(fs_.CreateDir("/d/e"));
}

TEST_F(FaultFileSystemTest, PowerLossDisarmsFaultsButKeepsCounts) {
  fs_.FailNth(FsOp::kMkdir, 1, EIO, /*persistent=*/true);
  EXPECT_FALSE(fs_.CreateDir("/e").ok());
  fs_.SimulatePowerLoss();
  RUNLOG_EXPECT_OK(fs_.CreateDir("/e"));
  EXPECT_EQ(fs_.count(FsOp::kMkdir), 2);
}

// An atomic-replace protocol crashed at every sync point leaves either the
// old or the new contents, never a mix or nothing.
TEST_F(FaultFileSystemTest, CrashAtEverySyncPointOfAtomicReplace) {
  RUNLOG_ASSERT_OK(mem_.SetContents("/d/CURRENT", "old"));
  RUNLOG_ASSERT_OK(mem_.SyncDir("/"));
  for (int crash_after = 0; crash_after <= 3; ++crash_after) {
    SCOPED_TRACE(absl::StrCat("crash after ", crash_after, " syncs"));
    fs_.CrashAfterSyncs(crash_after);
    absl::Status s = [&]() -> absl::Status {
      RUNLOG_RETURN_IF_ERROR(WriteNewFileSynced(fs_, "/d/CURRENT.tmp", "new"));
      RUNLOG_RETURN_IF_ERROR(fs_.Rename("/d/CURRENT.tmp", "/d/CURRENT"));
      return fs_.SyncDir("/d");
    }();
    EXPECT_EQ(s.ok(), crash_after >= 2);
    fs_.SimulatePowerLoss();
    std::string current = Contents("/d/CURRENT");
    EXPECT_EQ(current, crash_after >= 2 ? "new" : "old");
    // Reset for the next round.
    (void)mem_.RemoveFile("/d/CURRENT.tmp");
    RUNLOG_ASSERT_OK(mem_.SetContents("/d/CURRENT", "old"));
    RUNLOG_ASSERT_OK(mem_.SyncDir("/d"));
  }
}

// --- Observer
// -----------------------------------------------------------------

TEST_F(FaultFileSystemTest, ObserverSeesOperationsInOrder) {
  std::vector<std::pair<FsOp, std::string>> seen;
  fs_.set_observer(
      [&](FsOp op, const std::string& path) { seen.emplace_back(op, path); });
  RUNLOG_ASSERT_OK(WriteNewFileSynced(fs_, "/d/COMMIT.tmp", "m"));
  RUNLOG_ASSERT_OK(fs_.Rename("/d/COMMIT.tmp", "/d/COMMIT"));
  RUNLOG_ASSERT_OK(fs_.SyncDir("/d"));
  EXPECT_THAT(seen, ElementsAre(Pair(FsOp::kOpen, "/d/COMMIT.tmp"),
                                Pair(FsOp::kWrite, "/d/COMMIT.tmp"),
                                Pair(FsOp::kSync, "/d/COMMIT.tmp"),
                                Pair(FsOp::kRename, "/d/COMMIT.tmp"),
                                Pair(FsOp::kSync, "/d")));
}

TEST_F(FaultFileSystemTest, ObserverSeesFailedOperationsAndMayQueryCounts) {
  std::vector<int64_t> counts;
  fs_.set_observer(
      [&](FsOp op, const std::string&) { counts.push_back(fs_.count(op)); });
  fs_.FailNth(FsOp::kMkdir, 1, EIO, false);
  EXPECT_FALSE(fs_.CreateDir("/d/e").ok());
  RUNLOG_EXPECT_OK(fs_.CreateDir("/d/e"));
  EXPECT_THAT(counts, ElementsAre(1, 2));
  fs_.set_observer(nullptr);
  RUNLOG_EXPECT_OK(fs_.CreateDir("/d/f"));
  EXPECT_THAT(counts, ElementsAre(1, 2));
}

TEST(FsOpNameTest, Names) {
  EXPECT_STREQ(FsOpName(FsOp::kOpen), "open");
  EXPECT_STREQ(FsOpName(FsOp::kUnlink), "unlink");
  EXPECT_STREQ(FsOpName(FsOp::kMkdir), "mkdir");
}

}  // namespace
}  // namespace runlog::storage
