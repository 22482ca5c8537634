#include "bench/bench_files.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/file_system.h"
#include "storage/status_macros.h"

namespace runlog::bench {

absl::StatusOr<uint64_t> TreeBytes(const std::string& path) {
  storage::FileSystem* fs = storage::FileSystem::Default();
  RUNLOG_ASSIGN_OR_RETURN(storage::FileInfo info, fs->Stat(path));
  if (info.type == storage::FileType::kRegular) return info.size;
  if (info.type != storage::FileType::kDirectory) return 0;
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(path));
  uint64_t total = 0;
  for (const std::string& name : names) {
    RUNLOG_ASSIGN_OR_RETURN(uint64_t sub,
                            TreeBytes(storage::JoinPath(path, name)));
    total += sub;
  }
  return total;
}

absl::Status RemoveTree(const std::string& path) {
  storage::FileSystem* fs = storage::FileSystem::Default();
  RUNLOG_ASSIGN_OR_RETURN(storage::FileInfo info, fs->Stat(path));
  if (info.type != storage::FileType::kDirectory) return fs->RemoveFile(path);
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(path));
  for (const std::string& name : names) {
    RUNLOG_RETURN_IF_ERROR(RemoveTree(storage::JoinPath(path, name)));
  }
  return fs->RemoveDir(path);
}

const std::string& TempRoot() {
  static const std::string* root = [] {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = absl::StrCat(base != nullptr && *base ? base : "/tmp",
                                       "/runlog-bench-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("runlog benchmark: mkdtemp");
      std::abort();
    }
    std::atexit([] {
      absl::Status s = RemoveTree(TempRoot());
      if (!s.ok()) {
        std::fprintf(stderr, "runlog benchmark: removing %s: %s\n",
                     TempRoot().c_str(), s.ToString().c_str());
      }
    });
    return new std::string(std::move(pattern));
  }();
  return *root;
}

}  // namespace runlog::bench
