#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/file_system.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PosixFileSystemTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const {
    return JoinPath(dir_.path(), name);
  }

  void Write(const std::string& name, const std::string& data) {
    RUNLOG_ASSERT_OK(WriteNewFileSynced(*fs_, Path(name), data));
  }

  std::string Read(const std::string& name) {
    absl::StatusOr<std::string> data =
        ReadFileToString(*fs_, Path(name), 1 << 20);
    EXPECT_THAT(data, IsOk());
    return data.ok() ? *data : "";
  }

  mode_t Mode(const std::string& name) {
    struct stat st;
    EXPECT_EQ(::lstat(Path(name).c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  FileSystem* fs_ = FileSystem::Default();
  runlog::testing::TempDir dir_;
};

TEST_F(PosixFileSystemTest, DefaultIsASingleton) {
  EXPECT_NE(FileSystem::Default(), nullptr);
  EXPECT_EQ(FileSystem::Default(), FileSystem::Default());
}

TEST_F(PosixFileSystemTest, AppendSyncCloseThenRead) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_->NewWritableFile(Path("a")));
  EXPECT_EQ(file->path(), Path("a"));
  RUNLOG_ASSERT_OK(file->Append("hello "));
  RUNLOG_ASSERT_OK(file->Append(""));
  RUNLOG_ASSERT_OK(file->Append("world"));
  RUNLOG_ASSERT_OK(file->Sync());
  RUNLOG_ASSERT_OK(file->Close());
  EXPECT_EQ(Read("a"), "hello world");
}

TEST_F(PosixFileSystemTest, AppendedBytesAreVisibleBeforeSync) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_->NewWritableFile(Path("a")));
  RUNLOG_ASSERT_OK(file->Append("live"));
  EXPECT_EQ(Read("a"), "live");
}

TEST_F(PosixFileSystemTest, LargeAppendIsWrittenWhole) {
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4093) big[i] = static_cast<char>(i);
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_->NewWritableFile(Path("big")));
  RUNLOG_ASSERT_OK(file->Append(big));
  RUNLOG_ASSERT_OK(file->Close());
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::string got,
                              ReadFileToString(*fs_, Path("big"), big.size()));
  EXPECT_EQ(got, big);
}

TEST_F(PosixFileSystemTest, AppendAfterCloseIsFailedPrecondition) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_->NewWritableFile(Path("a")));
  RUNLOG_ASSERT_OK(file->Close());
  RUNLOG_EXPECT_OK(file->Close());
  EXPECT_THAT(file->Append("x"), StatusIs(absl::StatusCode::kFailedPrecondition,
                                          HasSubstr(Path("a"))));
  EXPECT_THAT(file->Sync(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                     HasSubstr(Path("a"))));
}

TEST_F(PosixFileSystemTest, NewWritableFileRefusesExistingFile) {
  Write("a", "first");
  EXPECT_THAT(fs_->NewWritableFile(Path("a")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(Path("a"))));
  EXPECT_EQ(Read("a"), "first");
}

TEST_F(PosixFileSystemTest, NewWritableFileRefusesDanglingSymlink) {
  ASSERT_EQ(::symlink(Path("target").c_str(), Path("link").c_str()), 0);
  EXPECT_THAT(fs_->NewWritableFile(Path("link")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("link")));
  EXPECT_EQ(::access(Path("target").c_str(), F_OK), -1);
}

TEST_F(PosixFileSystemTest, NewWritableFileInMissingDirIsNotFound) {
  EXPECT_THAT(fs_->NewWritableFile(Path("nope/a")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(Path("nope/a"))));
}

TEST_F(PosixFileSystemTest, RandomAccessReadsAtOffsetsAndShortAtEnd) {
  Write("a", "0123456789");
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto file, fs_->NewRandomAccessFile(Path("a")));
  EXPECT_EQ(file->path(), Path("a"));
  EXPECT_THAT(file->Size(), IsOk());
  EXPECT_EQ(*file->Size(), 10u);
  char scratch[16];
  RUNLOG_ASSERT_OK_AND_ASSIGN(absl::string_view got, file->Read(3, 4, scratch));
  EXPECT_EQ(got, "3456");
  RUNLOG_ASSERT_OK_AND_ASSIGN(got, file->Read(8, 16, scratch));
  EXPECT_EQ(got, "89");
  RUNLOG_ASSERT_OK_AND_ASSIGN(got, file->Read(10, 16, scratch));
  EXPECT_EQ(got, "");
  RUNLOG_ASSERT_OK_AND_ASSIGN(got, file->Read(100, 16, scratch));
  EXPECT_EQ(got, "");
}

TEST_F(PosixFileSystemTest, RandomAccessSizeFollowsAppends) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto writer, fs_->NewWritableFile(Path("a")));
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto reader, fs_->NewRandomAccessFile(Path("a")));
  EXPECT_EQ(*reader->Size(), 0u);
  RUNLOG_ASSERT_OK(writer->Append("abc"));
  EXPECT_EQ(*reader->Size(), 3u);
}

TEST_F(PosixFileSystemTest, NewRandomAccessFileMissingIsNotFound) {
  EXPECT_THAT(fs_->NewRandomAccessFile(Path("missing")),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("open " + Path("missing"))));
}

TEST_F(PosixFileSystemTest, NewRandomAccessFileDoesNotFollowSymlink) {
  Write("target", "secret");
  ASSERT_EQ(::symlink(Path("target").c_str(), Path("link").c_str()), 0);
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> file =
      fs_->NewRandomAccessFile(Path("link"));
  EXPECT_FALSE(file.ok());
  EXPECT_THAT(file.status().message(), HasSubstr(Path("link")));
}

TEST_F(PosixFileSystemTest, NewRandomAccessFileRefusesDirectory) {
  RUNLOG_ASSERT_OK(fs_->CreateDir(Path("d")));
  EXPECT_THAT(
      fs_->NewRandomAccessFile(Path("d")),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(Path("d"))));
}

TEST_F(PosixFileSystemTest, NewRandomAccessFileRefusesFifoWithoutBlocking) {
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0600), 0);
  EXPECT_THAT(
      fs_->NewRandomAccessFile(Path("fifo")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(Path("fifo"))));
  RUNLOG_ASSERT_OK_AND_ASSIGN(FileInfo info, fs_->Stat(Path("fifo")));
  EXPECT_EQ(info.type, FileType::kOther);
}

TEST_F(PosixFileSystemTest, StatReportsSymlinkWithoutFollowing) {
  Write("target", "secret");
  ASSERT_EQ(::symlink(Path("target").c_str(), Path("link").c_str()), 0);
  RUNLOG_ASSERT_OK_AND_ASSIGN(FileInfo info, fs_->Stat(Path("link")));
  EXPECT_EQ(info.type, FileType::kSymlink);
}

TEST_F(PosixFileSystemTest, StatReportsTypeSizeAndMtime) {
  absl::Time before = absl::Now() - absl::Seconds(2);
  Write("a", "12345");
  RUNLOG_ASSERT_OK(fs_->CreateDir(Path("d")));
  RUNLOG_ASSERT_OK_AND_ASSIGN(FileInfo file, fs_->Stat(Path("a")));
  EXPECT_EQ(file.type, FileType::kRegular);
  EXPECT_EQ(file.size, 5u);
  EXPECT_GE(file.modified, before);
  EXPECT_LE(file.modified, absl::Now() + absl::Seconds(2));
  RUNLOG_ASSERT_OK_AND_ASSIGN(FileInfo dir, fs_->Stat(Path("d")));
  EXPECT_EQ(dir.type, FileType::kDirectory);
}

TEST_F(PosixFileSystemTest, StatKeepsNanoseconds) {
  Write("a", "x");
  struct timespec times[2] = {{0, UTIME_OMIT}, {1700000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, Path("a").c_str(), times, 0), 0);
  RUNLOG_ASSERT_OK_AND_ASSIGN(FileInfo info, fs_->Stat(Path("a")));
  EXPECT_EQ(info.modified,
            absl::FromUnixSeconds(1700000000) + absl::Nanoseconds(123456789));
}

TEST_F(PosixFileSystemTest, StatMissingIsNotFound) {
  EXPECT_THAT(fs_->Stat(Path("missing")), StatusIs(absl::StatusCode::kNotFound,
                                                   HasSubstr(Path("missing"))));
}

TEST_F(PosixFileSystemTest, UmaskIsRespected) {
  mode_t old = ::umask(022);
  absl::Status file = WriteNewFileSynced(*fs_, Path("a"), "x");
  absl::Status dir = fs_->CreateDir(Path("d"));
  ::umask(old);
  RUNLOG_ASSERT_OK(file);
  RUNLOG_ASSERT_OK(dir);
  EXPECT_EQ(Mode("a"), 0644u);
  EXPECT_EQ(Mode("d"), 0755u);
}

TEST_F(PosixFileSystemTest, CreateDirTwiceIsAlreadyExists) {
  RUNLOG_ASSERT_OK(fs_->CreateDir(Path("d")));
  EXPECT_THAT(fs_->CreateDir(Path("d")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(Path("d"))));
}

TEST_F(PosixFileSystemTest, CreateDirWithMissingParentIsNotFound) {
  EXPECT_THAT(fs_->CreateDir(Path("x/y")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(Path("x/y"))));
}

TEST_F(PosixFileSystemTest, SyncDir) {
  RUNLOG_ASSERT_OK(fs_->CreateDir(Path("d")));
  RUNLOG_EXPECT_OK(fs_->SyncDir(Path("d")));
  EXPECT_THAT(
      fs_->SyncDir(Path("missing")),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr(Path("missing"))));
}

TEST_F(PosixFileSystemTest, SyncDirOnFileIsFailedPrecondition) {
  Write("a", "x");
  EXPECT_THAT(
      fs_->SyncDir(Path("a")),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(Path("a"))));
}

TEST_F(PosixFileSystemTest, ListDirIsSortedWithoutDots) {
  Write("b", "");
  Write("a", "");
  RUNLOG_ASSERT_OK(fs_->CreateDir(Path("c")));
  EXPECT_THAT(fs_->ListDir(dir_.path()), IsOk());
  EXPECT_THAT(*fs_->ListDir(dir_.path()), ElementsAre("a", "b", "c"));
  EXPECT_THAT(*fs_->ListDir(Path("c")), IsEmpty());
}

TEST_F(PosixFileSystemTest, ListDirMissingIsNotFound) {
  EXPECT_THAT(
      fs_->ListDir(Path("missing")),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr(Path("missing"))));
}

TEST_F(PosixFileSystemTest, RenameReplacesFile) {
  Write("a", "new");
  Write("b", "old");
  RUNLOG_ASSERT_OK(fs_->Rename(Path("a"), Path("b")));
  EXPECT_EQ(Read("b"), "new");
  EXPECT_THAT(fs_->Stat(Path("a")), StatusIs(absl::StatusCode::kNotFound, _));
}

TEST_F(PosixFileSystemTest, RenameMovesDirectoryWithContents) {
  RUNLOG_ASSERT_OK(fs_->CreateDir(Path("runs")));
  RUNLOG_ASSERT_OK(fs_->CreateDir(Path("trash")));
  RUNLOG_ASSERT_OK(fs_->CreateDir(Path("runs/x")));
  Write("runs/x/seg", "data");
  RUNLOG_ASSERT_OK(fs_->Rename(Path("runs/x"), Path("trash/x")));
  EXPECT_EQ(Read("trash/x/seg"), "data");
  EXPECT_THAT(*fs_->ListDir(Path("runs")), IsEmpty());
}

TEST_F(PosixFileSystemTest, RenameDirectoryOntoEmptyDirectoryIsAlreadyExists) {
  RUNLOG_ASSERT_OK(fs_->CreateDir(Path("a")));
  RUNLOG_ASSERT_OK(fs_->CreateDir(Path("b")));
  EXPECT_THAT(fs_->Rename(Path("a"), Path("b")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(Path("b"))));
  RUNLOG_EXPECT_OK(fs_->Stat(Path("a")));
}

TEST_F(PosixFileSystemTest, RenameMissingIsNotFound) {
  EXPECT_THAT(
      fs_->Rename(Path("missing"), Path("b")),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr(Path("missing"))));
}

TEST_F(PosixFileSystemTest, RemoveFile) {
  Write("a", "x");
  RUNLOG_ASSERT_OK(fs_->RemoveFile(Path("a")));
  EXPECT_THAT(fs_->RemoveFile(Path("a")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(Path("a"))));
}

TEST_F(PosixFileSystemTest, RemoveDirRequiresEmpty) {
  RUNLOG_ASSERT_OK(fs_->CreateDir(Path("d")));
  Write("d/a", "x");
  EXPECT_THAT(
      fs_->RemoveDir(Path("d")),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(Path("d"))));
  RUNLOG_ASSERT_OK(fs_->RemoveFile(Path("d/a")));
  RUNLOG_ASSERT_OK(fs_->RemoveDir(Path("d")));
  EXPECT_THAT(fs_->RemoveDir(Path("d")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(Path("d"))));
}

TEST_F(PosixFileSystemTest, ReadFileToStringRejectsOversizedFile) {
  Write("a", "0123456789");
  EXPECT_THAT(
      ReadFileToString(*fs_, Path("a"), 9),
      StatusIs(absl::StatusCode::kInvalidArgument,
               ::testing::AllOf(HasSubstr(Path("a")), HasSubstr("10"))));
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::string exact,
                              ReadFileToString(*fs_, Path("a"), 10));
  EXPECT_EQ(exact, "0123456789");
}

TEST_F(PosixFileSystemTest, ReadFileToStringEmptyFile) {
  Write("a", "");
  EXPECT_EQ(Read("a"), "");
}

TEST_F(PosixFileSystemTest, WriteNewFileSyncedRefusesExisting) {
  Write("a", "x");
  EXPECT_THAT(WriteNewFileSynced(*fs_, Path("a"), "y"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(Path("a"))));
}

TEST(JoinPathTest, JoinsWithOneSlash) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("a", "/b"), "a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("a", ""), "a");
  EXPECT_EQ(JoinPath("/repo", "runs", "x"), "/repo/runs/x");
}

}  // namespace
}  // namespace runlog::storage
