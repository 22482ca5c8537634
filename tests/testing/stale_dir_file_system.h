#ifndef RUNLOG_TESTS_TESTING_STALE_DIR_FILE_SYSTEM_H_
#define RUNLOG_TESTS_TESTING_STALE_DIR_FILE_SYSTEM_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "storage/fault_file_system.h"

namespace runlog::testing {

// A FaultInjectingFileSystem whose ListDir of one directory (`stale_dir`)
// answers what PosixFileSystem makes of a network file system's ESTALE
// (Unavailable) the next `failures` times. Not thread-safe.
class StaleDirFileSystem : public storage::FaultInjectingFileSystem {
 public:
  using storage::FaultInjectingFileSystem::FaultInjectingFileSystem;
  absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) override {
    if (path == stale_dir && failures > 0) {
      --failures;
      return absl::UnavailableError(
          absl::StrCat("opendir ", path, ": Stale file handle"));
    }
    return storage::FaultInjectingFileSystem::ListDir(path);
  }

  std::string stale_dir;
  int failures = 0;
};

}  // namespace runlog::testing

#endif  // RUNLOG_TESTS_TESTING_STALE_DIR_FILE_SYSTEM_H_
