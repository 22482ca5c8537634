#include "interop/source_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/checksum.h"

namespace runlog::interop {
namespace {

absl::Status ErrnoStatus(int err, absl::string_view what,
                         absl::string_view path) {
  const std::string msg = absl::StrCat(path, ": ", what, ": ", strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
      return absl::FailedPreconditionError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

std::string Join(absl::string_view a, absl::string_view b) {
  if (a.empty()) return std::string(b);
  return absl::StrCat(a, "/", b);
}

bool Inside(absl::string_view path, absl::string_view root) {
  return path == root || (absl::StartsWith(path, root) &&
                          (root == "/" || path.substr(root.size(), 1) == "/"));
}

struct Walker {
  std::string root_real;
  std::set<std::pair<dev_t, ino_t>> visited;
  SourceWalk* out;

  // `dir` is the path to open, `rel` its path under the root.
  absl::Status Walk(const std::string& dir, const std::string& rel, int depth) {
    if (depth > 256) {
      out->skipped.push_back(absl::StrCat(rel, ": nested over 256 levels"));
      return absl::OkStatus();
    }
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus(errno, "cannot list", dir);
    std::vector<std::string> names;
    while (struct dirent* e = readdir(d)) {
      const absl::string_view n = e->d_name;
      if (n == "." || n == "..") continue;
      names.emplace_back(n);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const std::string path = absl::StrCat(dir, "/", name);
      const std::string r = Join(rel, name);
      struct stat st;
      if (lstat(path.c_str(), &st) != 0) {
        out->skipped.push_back(absl::StrCat(r, ": ", strerror(errno)));
        continue;
      }
      if (S_ISLNK(st.st_mode)) {
        char buf[PATH_MAX];
        if (realpath(path.c_str(), buf) == nullptr) {
          out->skipped.push_back(
              absl::StrCat(r, ": symlink not followed: ", strerror(errno)));
          continue;
        }
        if (!Inside(buf, root_real)) {
          out->skipped.push_back(
              absl::StrCat(r, ": symlink not followed: it leaves the source"));
          continue;
        }
        if (stat(path.c_str(), &st) != 0) {
          out->skipped.push_back(absl::StrCat(r, ": ", strerror(errno)));
          continue;
        }
      }
      if (S_ISDIR(st.st_mode)) {
        if (!visited.insert({st.st_dev, st.st_ino}).second) {
          out->skipped.push_back(
              absl::StrCat(r, ": directory already visited (symlink loop)"));
          continue;
        }
        absl::Status s = Walk(path, r, depth + 1);
        if (!s.ok()) return s;
      } else if (S_ISREG(st.st_mode)) {
        out->files.push_back(
            {path, r, static_cast<uint64_t>(st.st_size),
             static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                 st.st_mtim.tv_nsec});
      }
    }
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::string> CanonicalPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) {
    return ErrnoStatus(errno, "cannot resolve", path);
  }
  return std::string(buf);
}

absl::StatusOr<SourceWalk> WalkSource(const std::string& root) {
  SourceWalk walk;
  struct stat st;
  if (stat(root.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", root);
  if (S_ISREG(st.st_mode)) {
    walk.files.push_back({root, "", static_cast<uint64_t>(st.st_size),
                          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                              st.st_mtim.tv_nsec});
    return walk;
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(root, ": neither a file nor a directory"));
  }
  absl::StatusOr<std::string> real = CanonicalPath(root);
  if (!real.ok()) return real.status();
  Walker w{*real, {}, &walk};
  w.visited.insert({st.st_dev, st.st_ino});
  absl::Status s = w.Walk(root, "", 0);
  if (!s.ok()) return s;
  std::sort(walk.files.begin(), walk.files.end(),
            [](const SourceFile& a, const SourceFile& b) {
              return a.relative < b.relative;
            });
  return walk;
}

absl::StatusOr<SourceFile> StatSourceFile(const std::string& root,
                                          const std::string& relative) {
  const std::string path = relative.empty() ? root : Join(root, relative);
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (S_ISLNK(st.st_mode)) {
    absl::StatusOr<std::string> real = CanonicalPath(path);
    if (!real.ok()) return real.status();
    absl::StatusOr<std::string> root_real = CanonicalPath(root);
    if (!root_real.ok()) return root_real.status();
    if (!Inside(*real, *root_real)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": symlink leaves the source ", root));
    }
    if (stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  }
  return SourceFile{path, relative, static_cast<uint64_t>(st.st_size),
                    static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                        st.st_mtim.tv_nsec};
}

absl::StatusOr<std::string> ReadSourceFile(const std::string& path,
                                           uint64_t max_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoStatus(err, "fstat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a regular file"));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", size, " bytes, over the limit of ", max_bytes));
  }
  std::string data(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd, data.data() + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      return ErrnoStatus(err, "read", path);
    }
    if (n == 0) break;  // the file shrank meanwhile: what is there
    done += static_cast<size_t>(n);
  }
  close(fd);
  data.resize(done);
  return data;
}

std::string FingerprintFiles(const std::vector<SourceFile>& files) {
  std::string text;
  for (const SourceFile& f : files) {
    absl::StrAppend(&text, f.relative, absl::string_view("\0", 1), f.size, " ",
                    f.mtime_ns, "\n");
  }
  return FingerprintBytes(text);
}

std::string FingerprintBytes(absl::string_view bytes) {
  return absl::StrFormat("%016x", storage::Checksum64(bytes));
}

}  // namespace runlog::interop
