// The injectable file-system boundary. Every byte runlog reads or writes goes
// through a FileSystem, so tests can swap in the in-memory implementation
// (mem_file_system.h) or the fault-injecting wrapper (fault_file_system.h).
//
// Paths are plain '/'-separated strings; the repository layer builds them with
// JoinPath() and never passes user-supplied names unvalidated.
//
// Error vocabulary (every implementation must follow it):
//   ENOENT            -> NotFound
//   EEXIST            -> AlreadyExists
//   other errno       -> absl::ErrnoToStatus code, message "<op> <path>:
//   <strerror>"
// Messages always name the path.
//
// Thread-safety: implementations are safe to call from several threads, but
// runlog itself never starts one. File objects are not thread-safe.
#ifndef RUNLOG_STORAGE_FILE_SYSTEM_H_
#define RUNLOG_STORAGE_FILE_SYSTEM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace runlog::storage {

// A file opened for appending. Data handed to Append() reaches the OS (the
// page cache) at once; it is durable only after Sync() returns OK.
// Files are append-only: runlog never overwrites bytes in place.
class WritableFile {
 public:
  WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;
  // Closes the file if Close() was not called; errors are dropped, so callers
  // that care must call Close().
  virtual ~WritableFile() = default;

  // Writes all of `data` at the end of the file (short writes are retried).
  virtual absl::Status Append(absl::string_view data) = 0;
  // fdatasync(2): makes the file's contents and size durable.
  virtual absl::Status Sync() = 0;
  virtual absl::Status Close() = 0;
  virtual const std::string& path() const = 0;
};

// A file opened for positional reads.
class RandomAccessFile {
 public:
  RandomAccessFile() = default;
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;
  virtual ~RandomAccessFile() = default;

  // Reads up to `n` bytes at `offset` into `scratch` (which must hold `n`
  // bytes) and returns a view of what was read; fewer than `n` bytes only at
  // end of file.
  virtual absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n,
                                                 char* scratch) const = 0;
  virtual absl::StatusOr<uint64_t> Size() const = 0;
  virtual const std::string& path() const = 0;
};

enum class FileType { kRegular, kDirectory, kSymlink, kOther };

struct FileInfo {
  FileType type = FileType::kOther;
  uint64_t size = 0;
  absl::Time modified = absl::InfinitePast();
};

class FileSystem {
 public:
  FileSystem() = default;
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;
  virtual ~FileSystem() = default;

  // The process-wide POSIX file system (never null, never destroyed).
  static FileSystem* Default();

  // Creates a new file for appending; fails with AlreadyExists if `path`
  // exists (invariant 1: a file is written only by the process that created
  // it). New files get mode 0666 & ~umask.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;
  // Opens an existing regular file; symlinks are not followed (the open
  // fails), so a repository cannot be made to read outside itself.
  virtual absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;

  // mkdir(2) with mode 0777 & ~umask; AlreadyExists if present.
  virtual absl::Status CreateDir(const std::string& path) = 0;
  // fsync(2) on a directory: makes entries created, renamed or removed in it
  // durable.
  virtual absl::Status SyncDir(const std::string& path) = 0;
  // rename(2). Replaces an existing file at `to`; a directory can be renamed
  // only onto a name that does not exist.
  virtual absl::Status Rename(const std::string& from,
                              const std::string& to) = 0;
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory.
  virtual absl::Status RemoveDir(const std::string& path) = 0;
  // Names in `path` (not "." or ".."), sorted.
  virtual absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) = 0;
  // lstat(2): symlinks are reported as kSymlink, never followed.
  virtual absl::StatusOr<FileInfo> Stat(const std::string& path) = 0;
  // Sets the modification time of the existing regular file `path` to the
  // file system's own "now" (utimensat(2) with UTIME_NOW: on NFS and
  // GlusterFS the server's clock, not this host's), without changing its
  // contents. A writer's sign of life (owner_liveness.h); NotFound if absent.
  virtual absl::Status Touch(const std::string& path) = 0;
  // Whether processes on other machines may reach `path` (NFS, FUSE such as
  // GlusterFS, CephFS, Lustre, SMB). Liveness rules that only hold when the
  // disk and the writer share one machine check it; when unsure, true.
  virtual bool IsShared(const std::string& path) {
    (void)path;
    return true;
  }
};

// Joins path components with '/'.
std::string JoinPath(absl::string_view a, absl::string_view b);
std::string JoinPath(absl::string_view a, absl::string_view b,
                     absl::string_view c);

// Reads a whole file. Fails with InvalidArgument (naming the file and size)
// when the file is larger than `max_size`, before allocating.
absl::StatusOr<std::string> ReadFileToString(FileSystem& fs,
                                             const std::string& path,
                                             uint64_t max_size);

// The directory holding `path`: "." for a bare name, "/" for a name
// directly under the root.
std::string ParentDir(absl::string_view path);

// Unlinks the files directly in `dir`, then `dir` itself. Files a racing
// peer removed first are fine; NotFound if `dir` itself is absent (when it
// is listed or removed). Subdirectories are not descended into (rmdir then
// fails).
absl::Status RemoveDirectoryTree(FileSystem& fs, const std::string& dir);

// Creates `path` with `contents`, syncs it, and closes it.
absl::Status WriteNewFileSynced(FileSystem& fs, const std::string& path,
                                absl::string_view contents);

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_FILE_SYSTEM_H_
