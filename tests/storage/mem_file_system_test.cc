#include "storage/mem_file_system.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/file_system.h"
#include "tests/testing/status_matchers.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class MemFileSystemTest : public ::testing::Test {
 protected:
  MemFileSystemTest()
      : clock_(absl::FromUnixSeconds(1'700'000'000)), fs_(&clock_) {}

  // Creates `path` with `data`, syncing the file's bytes when `sync` is set
  // (its directory entry is durable only after SyncDir of the parent).
  void Write(const std::string& path, const std::string& data,
             bool sync = true) {
    auto file = fs_.NewWritableFile(path);
    ASSERT_THAT(file, IsOk());
    RUNLOG_ASSERT_OK((*file)->Append(data));
    if (sync) {
      RUNLOG_ASSERT_OK((*file)->Sync());
    }
    RUNLOG_ASSERT_OK((*file)->Close());
  }
  void Mkdir(const std::string& path) { RUNLOG_ASSERT_OK(fs_.CreateDir(path)); }
  void SyncDir(const std::string& path) { RUNLOG_ASSERT_OK(fs_.SyncDir(path)); }
  std::string Read(const std::string& path) {
    auto data = ReadFileToString(fs_, path, 1 << 20);
    EXPECT_THAT(data, IsOk());
    return data.ok() ? *data : "<error>";
  }
  bool Exists(const std::string& path) { return fs_.Stat(path).ok(); }
  std::vector<std::string> List(const std::string& path) {
    auto names = fs_.ListDir(path);
    EXPECT_THAT(names, IsOk());
    return names.ok() ? *names : std::vector<std::string>{"<error>"};
  }

  // /repo/runs/x/seg and /repo/trash, everything durable.
  void MakeDurableRepo() {
    Mkdir("/repo");
    Mkdir("/repo/runs");
    Mkdir("/repo/trash");
    Mkdir("/repo/runs/x");
    Write("/repo/runs/x/seg", "data");
    SyncDir("/repo/runs/x");
    SyncDir("/repo/runs");
    SyncDir("/repo");
    SyncDir("/");
  }

  ManualClock clock_;
  MemFileSystem fs_;
};

// --- Behaviour shared with the POSIX implementation -------------------------

TEST_F(MemFileSystemTest, AppendSyncCloseThenRead) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/a"));
  EXPECT_EQ(file->path(), "/a");
  RUNLOG_ASSERT_OK(file->Append("hello "));
  RUNLOG_ASSERT_OK(file->Append("world"));
  RUNLOG_ASSERT_OK(file->Sync());
  RUNLOG_ASSERT_OK(file->Close());
  EXPECT_EQ(Read("/a"), "hello world");
}

TEST_F(MemFileSystemTest, AppendAfterCloseIsFailedPrecondition) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/a"));
  RUNLOG_ASSERT_OK(file->Close());
  EXPECT_THAT(file->Append("x"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/a")));
  EXPECT_THAT(file->Sync(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/a")));
}

TEST_F(MemFileSystemTest, NewWritableFileRefusesExisting) {
  Write("/a", "first");
  EXPECT_THAT(fs_.NewWritableFile("/a"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("open /a")));
  EXPECT_EQ(Read("/a"), "first");
}

TEST_F(MemFileSystemTest, NewWritableFileInMissingDirIsNotFound) {
  EXPECT_THAT(fs_.NewWritableFile("/nope/a"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nope/a")));
}

TEST_F(MemFileSystemTest, PathThroughFileIsNotADirectory) {
  Write("/f", "x");
  EXPECT_THAT(
      fs_.NewWritableFile("/f/a"),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/f/a")));
}

TEST_F(MemFileSystemTest, RelativePathIsInvalidArgument) {
  EXPECT_THAT(fs_.CreateDir("repo"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("repo")));
}

TEST_F(MemFileSystemTest, RepeatedSlashesAndDotsAreNormalized) {
  Mkdir("/repo");
  Write("//repo///a", "x");
  EXPECT_EQ(Read("/repo/a"), "x");
  EXPECT_EQ(Read("/repo/./b/../a"), "x");
  EXPECT_THAT(List("/repo/"), ElementsAre("a"));
}

TEST_F(MemFileSystemTest, RandomAccessReadsAtOffsetsAndShortAtEnd) {
  Write("/a", "0123456789");
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewRandomAccessFile("/a"));
  EXPECT_EQ(file->path(), "/a");
  EXPECT_EQ(*file->Size(), 10u);
  char scratch[16];
  EXPECT_EQ(*file->Read(3, 4, scratch), "3456");
  EXPECT_EQ(*file->Read(8, 16, scratch), "89");
  EXPECT_EQ(*file->Read(10, 16, scratch), "");
  EXPECT_EQ(*file->Read(1000, 16, scratch), "");
}

TEST_F(MemFileSystemTest, ReaderSeesLiveAppends) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto writer, fs_.NewWritableFile("/a"));
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto reader, fs_.NewRandomAccessFile("/a"));
  RUNLOG_ASSERT_OK(writer->Append("abc"));
  EXPECT_EQ(*reader->Size(), 3u);
}

TEST_F(MemFileSystemTest, RemovedFileStaysReadableThroughOpenHandle) {
  Write("/a", "kept");
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto reader, fs_.NewRandomAccessFile("/a"));
  RUNLOG_ASSERT_OK(fs_.RemoveFile("/a"));
  char scratch[8];
  EXPECT_EQ(*reader->Read(0, 8, scratch), "kept");
}

TEST_F(MemFileSystemTest, NewRandomAccessFileMissingIsNotFound) {
  EXPECT_THAT(
      fs_.NewRandomAccessFile("/missing"),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("open /missing")));
}

TEST_F(MemFileSystemTest, NewRandomAccessFileRefusesDirectory) {
  Mkdir("/d");
  EXPECT_THAT(fs_.NewRandomAccessFile("/d"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/d")));
}

TEST_F(MemFileSystemTest, SymlinkIsNotFollowed) {
  Write("/target", "secret");
  RUNLOG_ASSERT_OK(fs_.CreateSymlink("/link", "/target"));
  auto file = fs_.NewRandomAccessFile("/link");
  EXPECT_FALSE(file.ok());
  EXPECT_THAT(file.status().message(), HasSubstr("/link"));
  RUNLOG_ASSERT_OK_AND_ASSIGN(FileInfo info, fs_.Stat("/link"));
  EXPECT_EQ(info.type, FileType::kSymlink);
  EXPECT_THAT(fs_.NewWritableFile("/link"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("/link")));
}

TEST_F(MemFileSystemTest, PathThroughSymlinkFails) {
  Mkdir("/d");
  RUNLOG_ASSERT_OK(fs_.CreateSymlink("/link", "/d"));
  auto file = fs_.NewWritableFile("/link/a");
  EXPECT_FALSE(file.ok());
  EXPECT_THAT(file.status().message(), HasSubstr("/link/a"));
  EXPECT_THAT(List("/d"), IsEmpty());
}

TEST_F(MemFileSystemTest, StatReportsTypeSizeAndClockMtime) {
  Write("/a", "12345");
  clock_.Advance(absl::Seconds(10));
  Mkdir("/d");
  RUNLOG_ASSERT_OK_AND_ASSIGN(FileInfo file, fs_.Stat("/a"));
  EXPECT_EQ(file.type, FileType::kRegular);
  EXPECT_EQ(file.size, 5u);
  EXPECT_EQ(file.modified, absl::FromUnixSeconds(1'700'000'000));
  RUNLOG_ASSERT_OK_AND_ASSIGN(FileInfo dir, fs_.Stat("/d"));
  EXPECT_EQ(dir.type, FileType::kDirectory);
  EXPECT_EQ(dir.modified, absl::FromUnixSeconds(1'700'000'010));
}

TEST_F(MemFileSystemTest, AppendUpdatesMtime) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/a"));
  clock_.Advance(absl::Seconds(3));
  RUNLOG_ASSERT_OK(file->Append("x"));
  EXPECT_EQ(fs_.Stat("/a")->modified, absl::FromUnixSeconds(1'700'000'003));
}

TEST_F(MemFileSystemTest, StatMissingIsNotFound) {
  EXPECT_THAT(fs_.Stat("/missing"), StatusIs(absl::StatusCode::kNotFound,
                                             HasSubstr("lstat /missing")));
}

TEST_F(MemFileSystemTest, CreateDirTwiceIsAlreadyExists) {
  Mkdir("/d");
  EXPECT_THAT(fs_.CreateDir("/d"), StatusIs(absl::StatusCode::kAlreadyExists,
                                            HasSubstr("mkdir /d")));
  EXPECT_THAT(fs_.CreateDir("/"),
              StatusIs(absl::StatusCode::kAlreadyExists, _));
}

TEST_F(MemFileSystemTest, CreateDirWithMissingParentIsNotFound) {
  EXPECT_THAT(fs_.CreateDir("/x/y"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/x/y")));
}

TEST_F(MemFileSystemTest, SyncDirErrors) {
  Write("/a", "x");
  EXPECT_THAT(fs_.SyncDir("/missing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/missing")));
  EXPECT_THAT(fs_.SyncDir("/a"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/a")));
}

TEST_F(MemFileSystemTest, ListDirIsSorted) {
  Write("/b", "");
  Write("/a", "");
  Mkdir("/c");
  EXPECT_THAT(List("/"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(List("/c"), IsEmpty());
}

TEST_F(MemFileSystemTest, ListDirErrors) {
  Write("/a", "");
  EXPECT_THAT(fs_.ListDir("/missing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/missing")));
  EXPECT_THAT(fs_.ListDir("/a"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/a")));
}

TEST_F(MemFileSystemTest, RenameReplacesFile) {
  Write("/a", "new");
  Write("/b", "old");
  RUNLOG_ASSERT_OK(fs_.Rename("/a", "/b"));
  EXPECT_EQ(Read("/b"), "new");
  EXPECT_FALSE(Exists("/a"));
}

TEST_F(MemFileSystemTest, RenameOntoItselfIsNoOp) {
  Write("/a", "x");
  RUNLOG_ASSERT_OK(fs_.Rename("/a", "/a"));
  EXPECT_EQ(Read("/a"), "x");
}

TEST_F(MemFileSystemTest, RenameMovesDirectoryWithContents) {
  MakeDurableRepo();
  RUNLOG_ASSERT_OK(fs_.Rename("/repo/runs/x", "/repo/trash/x"));
  EXPECT_EQ(Read("/repo/trash/x/seg"), "data");
  EXPECT_THAT(List("/repo/runs"), IsEmpty());
}

TEST_F(MemFileSystemTest, RenameDirectoryOntoExistingIsAlreadyExists) {
  Mkdir("/a");
  Mkdir("/b");
  EXPECT_THAT(fs_.Rename("/a", "/b"), StatusIs(absl::StatusCode::kAlreadyExists,
                                               HasSubstr("/a to /b")));
  EXPECT_TRUE(Exists("/a"));
}

TEST_F(MemFileSystemTest, RenameFileOntoDirectoryIsFailedPrecondition) {
  Write("/a", "x");
  Mkdir("/b");
  EXPECT_THAT(fs_.Rename("/a", "/b"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/b")));
}

TEST_F(MemFileSystemTest, RenameDirectoryIntoItselfIsInvalidArgument) {
  Mkdir("/a");
  EXPECT_THAT(fs_.Rename("/a", "/a/b"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/a/b")));
  EXPECT_THAT(List("/a"), IsEmpty());
}

TEST_F(MemFileSystemTest, RenameMissingIsNotFound) {
  EXPECT_THAT(fs_.Rename("/missing", "/b"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/missing")));
}

TEST_F(MemFileSystemTest, RemoveFile) {
  Write("/a", "x");
  RUNLOG_ASSERT_OK(fs_.RemoveFile("/a"));
  EXPECT_THAT(fs_.RemoveFile("/a"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("unlink /a")));
}

TEST_F(MemFileSystemTest, RemoveFileOnDirectoryIsFailedPrecondition) {
  Mkdir("/d");
  EXPECT_THAT(fs_.RemoveFile("/d"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/d")));
}

TEST_F(MemFileSystemTest, RemoveDirRequiresEmptyDirectory) {
  Mkdir("/d");
  Write("/d/a", "x");
  EXPECT_THAT(
      fs_.RemoveDir("/d"),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("rmdir /d")));
  EXPECT_THAT(
      fs_.RemoveDir("/d/a"),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/d/a")));
  RUNLOG_ASSERT_OK(fs_.RemoveFile("/d/a"));
  RUNLOG_ASSERT_OK(fs_.RemoveDir("/d"));
  EXPECT_THAT(fs_.RemoveDir("/d"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/d")));
}

TEST_F(MemFileSystemTest, ReadFileToStringRejectsOversizedFile) {
  Write("/a", "0123456789");
  EXPECT_THAT(ReadFileToString(fs_, "/a", 9),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("/a"), HasSubstr("10"))));
}

TEST_F(MemFileSystemTest, ContentsAndSetContents) {
  Write("/a", "hello");
  EXPECT_THAT(fs_.Contents("/a"), IsOk());
  EXPECT_EQ(*fs_.Contents("/a"), "hello");
  RUNLOG_ASSERT_OK(fs_.SetContents("/a", "he"));
  EXPECT_EQ(Read("/a"), "he");
  EXPECT_THAT(fs_.Contents("/missing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/missing")));
  Mkdir("/d");
  EXPECT_THAT(fs_.SetContents("/d", "x"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/d")));
}

// --- Power loss -------------------------------------------------------------

TEST_F(MemFileSystemTest, PowerLossOnEmptyFileSystemKeepsRoot) {
  fs_.SimulatePowerLoss();
  EXPECT_THAT(List("/"), IsEmpty());
  RUNLOG_EXPECT_OK(fs_.CreateDir("/d"));
}

TEST_F(MemFileSystemTest, PowerLossDropsUnsyncedAppendsKeepsSynced) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/a"));
  SyncDir("/");
  RUNLOG_ASSERT_OK(file->Append("durable"));
  RUNLOG_ASSERT_OK(file->Sync());
  RUNLOG_ASSERT_OK(file->Append("-lost"));
  fs_.SimulatePowerLoss();
  EXPECT_EQ(Read("/a"), "durable");
}

TEST_F(MemFileSystemTest, PowerLossDropsFileWhoseDirectoryWasNotSynced) {
  Write("/a", "synced bytes");
  fs_.SimulatePowerLoss();
  EXPECT_FALSE(Exists("/a"));
}

TEST_F(MemFileSystemTest, PowerLossKeepsFileWhoseDirectoryWasSynced) {
  Write("/a", "x", /*sync=*/false);
  SyncDir("/");
  fs_.SimulatePowerLoss();
  EXPECT_EQ(Read("/a"), "");  // Linked, but its bytes never synced.
}

TEST_F(MemFileSystemTest, PowerLossRevertsUnsyncedRename) {
  Write("/tmp", "new");
  Write("/target", "old");
  SyncDir("/");
  RUNLOG_ASSERT_OK(fs_.Rename("/tmp", "/target"));
  fs_.SimulatePowerLoss();
  EXPECT_EQ(Read("/tmp"), "new");
  EXPECT_EQ(Read("/target"), "old");
}

TEST_F(MemFileSystemTest, PowerLossKeepsSyncedRename) {
  Write("/tmp", "new");
  Write("/target", "old");
  SyncDir("/");
  RUNLOG_ASSERT_OK(fs_.Rename("/tmp", "/target"));
  SyncDir("/");
  fs_.SimulatePowerLoss();
  EXPECT_EQ(Read("/target"), "new");
  EXPECT_FALSE(Exists("/tmp"));
}

TEST_F(MemFileSystemTest, PowerLossRevertsUnsyncedRemove) {
  Write("/a", "x");
  SyncDir("/");
  RUNLOG_ASSERT_OK(fs_.RemoveFile("/a"));
  fs_.SimulatePowerLoss();
  EXPECT_EQ(Read("/a"), "x");
}

TEST_F(MemFileSystemTest, PowerLossKeepsSyncedRemove) {
  Write("/a", "x");
  SyncDir("/");
  RUNLOG_ASSERT_OK(fs_.RemoveFile("/a"));
  SyncDir("/");
  fs_.SimulatePowerLoss();
  EXPECT_FALSE(Exists("/a"));
}

TEST_F(MemFileSystemTest, PowerLossRevertsUnsyncedRemoveDir) {
  Mkdir("/d");
  SyncDir("/");
  RUNLOG_ASSERT_OK(fs_.RemoveDir("/d"));
  fs_.SimulatePowerLoss();
  EXPECT_TRUE(Exists("/d"));
}

TEST_F(MemFileSystemTest, PowerLossDropsNeverLinkedDirectoryWithContents) {
  Mkdir("/a");
  SyncDir("/");
  Mkdir("/a/b");
  Write("/a/b/f", "x");
  SyncDir("/a/b");  // b's entries are durable, but b itself is not in a.
  fs_.SimulatePowerLoss();
  EXPECT_TRUE(Exists("/a"));
  EXPECT_THAT(List("/a"), IsEmpty());
}

TEST_F(MemFileSystemTest, PowerLossKeepsFullyDurableTree) {
  MakeDurableRepo();
  fs_.SimulatePowerLoss();
  EXPECT_EQ(Read("/repo/runs/x/seg"), "data");
  EXPECT_THAT(List("/repo"), ElementsAre("runs", "trash"));
}

TEST_F(MemFileSystemTest, DirectoryRenameWithoutSyncIsReverted) {
  MakeDurableRepo();
  RUNLOG_ASSERT_OK(fs_.Rename("/repo/runs/x", "/repo/trash/x"));
  fs_.SimulatePowerLoss();
  EXPECT_EQ(Read("/repo/runs/x/seg"), "data");
  EXPECT_THAT(List("/repo/trash"), IsEmpty());
}

TEST_F(MemFileSystemTest, DirectoryRenameSyncedInBothIsKept) {
  MakeDurableRepo();
  RUNLOG_ASSERT_OK(fs_.Rename("/repo/runs/x", "/repo/trash/x"));
  SyncDir("/repo/trash");
  SyncDir("/repo/runs");
  fs_.SimulatePowerLoss();
  EXPECT_EQ(Read("/repo/trash/x/seg"), "data");
  EXPECT_THAT(List("/repo/runs"), IsEmpty());
}

TEST_F(MemFileSystemTest, DirectoryRenameSyncedOnlyInDestinationMoves) {
  MakeDurableRepo();
  RUNLOG_ASSERT_OK(fs_.Rename("/repo/runs/x", "/repo/trash/x"));
  SyncDir("/repo/trash");
  fs_.SimulatePowerLoss();
  // Both directories durably name x; the newer link wins, no hard link.
  EXPECT_EQ(Read("/repo/trash/x/seg"), "data");
  EXPECT_THAT(List("/repo/runs"), IsEmpty());
}

TEST_F(MemFileSystemTest, DirectoryRenameSyncedOnlyInSourceLosesIt) {
  MakeDurableRepo();
  RUNLOG_ASSERT_OK(fs_.Rename("/repo/runs/x", "/repo/trash/x"));
  SyncDir("/repo/runs");
  fs_.SimulatePowerLoss();
  EXPECT_THAT(List("/repo/runs"), IsEmpty());
  EXPECT_THAT(List("/repo/trash"), IsEmpty());
}

TEST_F(MemFileSystemTest, StaleDurableEntriesCannotFormACycle) {
  // a/b moved to /b (durable in / only), then a moved into b (durable in b):
  // durably, / -> a -> b and b -> a. Newest links win: / -> b -> a.
  Mkdir("/a");
  Mkdir("/a/b");
  SyncDir("/a");
  SyncDir("/");
  RUNLOG_ASSERT_OK(fs_.Rename("/a/b", "/b"));
  SyncDir("/");
  RUNLOG_ASSERT_OK(fs_.Rename("/a", "/b/a"));
  SyncDir("/b");
  fs_.SimulatePowerLoss();
  EXPECT_THAT(List("/"), ElementsAre("b"));
  EXPECT_THAT(List("/b"), ElementsAre("a"));
  EXPECT_THAT(List("/b/a"), IsEmpty());
}

TEST_F(MemFileSystemTest, StaleDurableCycleIsFreed) {
  // Same durable cycle, never resolved by a power loss: destroying the file
  // system must still free both directories (LeakSanitizer checks).
  auto fs = std::make_unique<MemFileSystem>(&clock_);
  RUNLOG_ASSERT_OK(fs->CreateDir("/a"));
  RUNLOG_ASSERT_OK(fs->CreateDir("/a/b"));
  RUNLOG_ASSERT_OK(fs->SyncDir("/a"));
  RUNLOG_ASSERT_OK(fs->Rename("/a/b", "/b"));
  RUNLOG_ASSERT_OK(fs->Rename("/a", "/b/a"));
  RUNLOG_ASSERT_OK(fs->SyncDir("/b"));
  fs.reset();
}

TEST_F(MemFileSystemTest, WritableHandleFromBeforePowerLossIsDead) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_.NewWritableFile("/a"));
  RUNLOG_ASSERT_OK(file->Append("x"));
  RUNLOG_ASSERT_OK(file->Sync());
  SyncDir("/");
  fs_.SimulatePowerLoss();
  EXPECT_THAT(file->Append("y"), StatusIs(absl::StatusCode::kFailedPrecondition,
                                          HasSubstr("power loss")));
  EXPECT_THAT(file->Sync(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/a")));
  RUNLOG_EXPECT_OK(file->Close());
  EXPECT_EQ(Read("/a"), "x");
}

TEST_F(MemFileSystemTest, ReadHandleFromBeforePowerLossSeesDurableBytes) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto writer, fs_.NewWritableFile("/a"));
  SyncDir("/");
  RUNLOG_ASSERT_OK(writer->Append("ab"));
  RUNLOG_ASSERT_OK(writer->Sync());
  RUNLOG_ASSERT_OK(writer->Append("cd"));
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto reader, fs_.NewRandomAccessFile("/a"));
  fs_.SimulatePowerLoss();
  EXPECT_EQ(*reader->Size(), 2u);
}

TEST_F(MemFileSystemTest, SetContentsCountsAsDurable) {
  RUNLOG_ASSERT_OK(fs_.SetContents("/planted", "garbage"));
  Write("/a", "x");
  SyncDir("/");
  RUNLOG_ASSERT_OK(fs_.SetContents("/a", "corrupt"));
  fs_.SimulatePowerLoss();
  EXPECT_EQ(Read("/planted"), "garbage");
  EXPECT_EQ(Read("/a"), "corrupt");
}

TEST_F(MemFileSystemTest, RepeatedPowerLossesAndNewWork) {
  MakeDurableRepo();
  fs_.SimulatePowerLoss();
  Write("/repo/runs/x/seg2", "more");
  SyncDir("/repo/runs/x");
  fs_.SimulatePowerLoss();
  Write("/repo/runs/x/seg3", "lost");
  fs_.SimulatePowerLoss();
  EXPECT_THAT(List("/repo/runs/x"), ElementsAre("seg", "seg2"));
  EXPECT_EQ(Read("/repo/runs/x/seg2"), "more");
}

TEST_F(MemFileSystemTest, HandlesMayOutliveTheFileSystem) {
  std::unique_ptr<WritableFile> writer;
  std::unique_ptr<RandomAccessFile> reader;
  {
    MemFileSystem fs(&clock_);
    RUNLOG_ASSERT_OK_AND_ASSIGN(writer, fs.NewWritableFile("/a"));
    RUNLOG_ASSERT_OK_AND_ASSIGN(reader, fs.NewRandomAccessFile("/a"));
  }
  RUNLOG_EXPECT_OK(writer->Append("x"));
  EXPECT_EQ(*reader->Size(), 1u);
}

}  // namespace
}  // namespace runlog::storage
