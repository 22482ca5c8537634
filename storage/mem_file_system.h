// An in-memory FileSystem that can simulate power loss, for tests.
//
// Model. Every file and directory is an inode. A file keeps its bytes and its
// durable length: the length at its last successful WritableFile::Sync()
// (files are append-only, so the durable bytes are a prefix). A directory
// keeps its live entries and its durable entries, the entries as of its last
// SyncDir(). Entries map names to inodes, so renames of files and of
// directories move inodes; a rename is durable in each of its two directories
// only once that directory is synced. A newly created file or directory is
// durable only once its parent is synced (syncing the file itself is not
// enough), and a removal is durable only once the parent is synced.
//
// SimulatePowerLoss() makes every directory's entries its durable entries and
// truncates every file to its durable length, starting from "/" (which always
// exists). A directory that was never durably linked disappears with its
// contents. Each inode survives under at most one name: when a rename was made
// durable in the destination but not in the source, both directories durably
// name the inode, and the most recent durable link wins (the destination). An
// inode whose only durable links were lost is gone.
//
// Open handles across a power loss: a WritableFile opened before a
// SimulatePowerLoss() belongs to a process that has died, so its Append() and
// Sync() fail with FailedPrecondition and change nothing (Close() succeeds).
// RandomAccessFile handles keep reading their inode's current bytes.
//
// Errors follow file_system.h with the errno POSIX would give and the same
// "<op> <path>: <strerror>" messages as the POSIX implementation (ENOENT,
// EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL, ...). Paths must be absolute;
// repeated slashes and "." are ignored, ".." is resolved lexically. Symlinks
// exist only through CreateSymlink(): they are reported by Stat(), refused by
// NewRandomAccessFile() (ELOOP, as O_NOFOLLOW does) and never followed; a path
// whose directory part crosses a symlink fails with ELOOP.
//
// Thread-safe: one mutex guards the whole tree. Handles may outlive the
// MemFileSystem (they share its state).
#ifndef RUNLOG_STORAGE_MEM_FILE_SYSTEM_H_
#define RUNLOG_STORAGE_MEM_FILE_SYSTEM_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/clock.h"
#include "storage/file_system.h"

namespace runlog::storage {

namespace mem_fs_internal {
struct State;
}  // namespace mem_fs_internal

class MemFileSystem : public FileSystem {
 public:
  // `clock` (not owned, must outlive this object and its handles) supplies
  // modification times.
  explicit MemFileSystem(Clock* clock = Clock::Default());
  ~MemFileSystem() override;

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override;
  absl::Status CreateDir(const std::string& path) override;
  absl::Status SyncDir(const std::string& path) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RemoveDir(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) override;
  absl::StatusOr<FileInfo> Stat(const std::string& path) override;
  absl::Status Touch(const std::string& path) override;
  // A local disk of one machine.
  bool IsShared(const std::string&) override { return false; }

  // Drops everything not durable, as described above.
  void SimulatePowerLoss();

  // Test hooks.
  // The live bytes of the regular file at `path`.
  absl::StatusOr<std::string> Contents(const std::string& path);
  // Replaces the bytes of the regular file at `path` (creating it if absent,
  // with a durable directory entry) and counts them all as durable. For tests
  // that truncate or corrupt files.
  absl::Status SetContents(const std::string& path, std::string data);
  // Creates a symlink at `path` pointing to `target`, durably linked.
  absl::Status CreateSymlink(const std::string& path,
                             const std::string& target);

 private:
  std::shared_ptr<mem_fs_internal::State> state_;
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_MEM_FILE_SYSTEM_H_
