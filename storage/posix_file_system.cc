// The POSIX FileSystem behind FileSystem::Default().

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/file_system.h"

namespace runlog::storage {
namespace {

// True when `path` (or, if it is gone, its directory) is on a network or
// FUSE file system, where EIO usually means "server unreachable" rather than
// a bad disk block.
bool OnNetworkFileSystem(absl::string_view path) {
  std::string p(path);
  for (int i = 0; i < 2; ++i) {
    struct statfs fs;
    if (::statfs(p.c_str(), &fs) == 0) {
      switch (static_cast<uint64_t>(fs.f_type)) {
        case 0x6969:      // NFS
        case 0x65735546:  // FUSE (GlusterFS, CephFS-fuse, sshfs, ...)
        case 0x00c36400:  // CephFS
        case 0x0bd00bd0:  // Lustre
        case 0xfe534d42:  // SMB2
        case 0xff534d42:  // CIFS
          return true;
        default:
          return false;
      }
    }
    const size_t slash = p.find_last_of('/');
    if (slash == std::string::npos || slash == 0) return false;
    p.resize(slash);
  }
  return false;
}

absl::Status ErrnoError(int error_number, absl::string_view op,
                        absl::string_view path) {
  // A network file system's "try again" errors: a stale handle after another
  // client replaced or removed the file, a lost connection to the server, or
  // EIO from an unreachable server. Callers retry Unavailable (status
  // vocabulary in DESIGN.md); a stale handle is not a deletion.
  if (error_number == ESTALE || error_number == ENOTCONN ||
      error_number == ECONNABORTED || error_number == ETIMEDOUT ||
      (error_number == EIO && OnNetworkFileSystem(path))) {
    return absl::UnavailableError(
        absl::ErrnoToStatus(error_number, absl::StrCat(op, " ", path))
            .message());
  }
  return absl::ErrnoToStatus(error_number, absl::StrCat(op, " ", path));
}

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd)
      : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Append(absl::string_view data) override {
    if (fd_ < 0) return ClosedError("write");
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(errno, "write", path_);
      }
      // A short write is not an error (signal, pipe-like fs, near-full disk);
      // the next write() reports the real cause if there is one.
      p += n;
      left -= static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (fd_ < 0) return ClosedError("fdatasync");
    // Not retried on failure even for EINTR-like codes: after a failed
    // fdatasync the kernel may have dropped the dirty pages, so a later
    // success would prove nothing ("fsyncgate"). Callers poison the writer.
    if (::fdatasync(fd_) != 0) return ErrnoError(errno, "fdatasync", path_);
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    int fd = fd_;
    fd_ = -1;
    // Linux releases the descriptor even when close() fails, so retrying on
    // EINTR could close an unrelated, newly opened descriptor.
    if (::close(fd) != 0) return ErrnoError(errno, "close", path_);
    return absl::OkStatus();
  }

  const std::string& path() const override { return path_; }

 private:
  absl::Status ClosedError(absl::string_view op) const {
    return absl::FailedPreconditionError(
        absl::StrCat(op, " ", path_, ": file is closed"));
  }

  const std::string path_;
  int fd_;
};

class PosixRandomAccessFile : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd)
      : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n,
                                         char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t got = ::pread(fd_, scratch + done, n - done,
                            static_cast<off_t>(offset + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        return absl::ErrnoToStatus(
            errno, absl::StrCat("pread ", path_, " at offset ", offset + done));
      }
      if (got == 0) break;  // End of file.
      done += static_cast<size_t>(got);
    }
    return absl::string_view(scratch, done);
  }

  absl::StatusOr<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoError(errno, "fstat", path_);
    return static_cast<uint64_t>(st.st_size);
  }

  const std::string& path() const override { return path_; }

 private:
  const std::string path_;
  const int fd_;
};

// Retries open() on EINTR (possible on FIFOs and some network filesystems).
int OpenRetrying(const std::string& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

class PosixFileSystem : public FileSystem {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) override {
    // O_EXCL enforces invariant 1 (a file is written only by its creator);
    // O_NOFOLLOW refuses a dangling symlink planted at the new name.
    int fd = OpenRetrying(
        path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) return ErrnoError(errno, "open", path);
    return std::unique_ptr<WritableFile>(
        std::make_unique<PosixWritableFile>(path, fd));
  }

  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    // O_NONBLOCK: opening a FIFO planted in a repository must fail below,
    // not hang; it has no effect on reads of regular files.
    int fd =
        OpenRetrying(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
    if (fd < 0) return ErrnoError(errno, "open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int error_number = errno;
      ::close(fd);
      return ErrnoError(error_number, "fstat", path);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return ErrnoError(S_ISDIR(st.st_mode) ? EISDIR : EINVAL, "open", path);
    }
    return std::unique_ptr<RandomAccessFile>(
        std::make_unique<PosixRandomAccessFile>(path, fd));
  }

  absl::Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0777) != 0) {
      return ErrnoError(errno, "mkdir", path);
    }
    return absl::OkStatus();
  }

  absl::Status SyncDir(const std::string& path) override {
    int fd = OpenRetrying(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return ErrnoError(errno, "open", path);
    absl::Status status;
    if (::fsync(fd) != 0) status = ErrnoError(errno, "fsync", path);
    ::close(fd);
    return status;
  }

  absl::Status Rename(const std::string& from, const std::string& to) override {
    const std::string what = absl::StrCat(from, " to ", to);
    struct stat st;
    if (::lstat(from.c_str(), &st) != 0)
      return ErrnoError(errno, "rename", what);
    if (!S_ISDIR(st.st_mode)) {
      if (::rename(from.c_str(), to.c_str()) != 0) {
        return ErrnoError(errno, "rename", what);
      }
      return absl::OkStatus();
    }
    // Plain rename(2) would silently replace an empty directory at `to`
    // (e.g. a concurrent deleter's trash entry); the contract says a
    // directory only moves onto a free name.
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                    RENAME_NOREPLACE) == 0) {
      return absl::OkStatus();
    }
    if (errno != EINVAL && errno != ENOSYS) {
      return ErrnoError(errno, "rename", what);
    }
    // The filesystem lacks RENAME_NOREPLACE: check, then rename. The window
    // between the two only matters against another process racing for the
    // same fresh name, which unique names already rule out.
    if (::lstat(to.c_str(), &st) == 0)
      return ErrnoError(EEXIST, "rename", what);
    if (errno != ENOENT) return ErrnoError(errno, "rename", what);
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoError(errno, "rename", what);
    }
    return absl::OkStatus();
  }

  absl::Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoError(errno, "unlink", path);
    return absl::OkStatus();
  }

  absl::Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return ErrnoError(errno, "rmdir", path);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return ErrnoError(errno, "opendir", path);
    std::vector<std::string> names;
    while (true) {
      errno = 0;
      struct dirent* entry = ::readdir(dir);
      if (entry == nullptr) {
        int error_number = errno;
        ::closedir(dir);
        if (error_number != 0) return ErrnoError(error_number, "readdir", path);
        break;
      }
      absl::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  bool IsShared(const std::string& path) override {
    return OnNetworkFileSystem(path);
  }

  absl::Status Touch(const std::string& path) override {
    // AT_SYMLINK_NOFOLLOW: a symlink planted at `path` is not followed out
    // of the repository.
    const struct timespec now[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
    if (::utimensat(AT_FDCWD, path.c_str(), now, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoError(errno, "utimensat", path);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0)
      return ErrnoError(errno, "lstat", path);
    FileInfo info;
    if (S_ISREG(st.st_mode)) {
      info.type = FileType::kRegular;
    } else if (S_ISDIR(st.st_mode)) {
      info.type = FileType::kDirectory;
    } else if (S_ISLNK(st.st_mode)) {
      info.type = FileType::kSymlink;
    } else {
      info.type = FileType::kOther;
    }
    info.size = static_cast<uint64_t>(st.st_size);
    info.modified = absl::TimeFromTimespec(st.st_mtim);
    return info;
  }
};

}  // namespace

FileSystem* FileSystem::Default() {
  // Leaked on purpose: usable from other static destructors.
  static FileSystem* const fs = new PosixFileSystem();
  return fs;
}

}  // namespace runlog::storage
