// A fresh directory under $TMPDIR (or /tmp) removed with its contents when the
// object dies. For tests that need the real POSIX file system or child
// processes.
#ifndef RUNLOG_TESTS_TESTING_TEMP_DIR_H_
#define RUNLOG_TESTS_TESTING_TEMP_DIR_H_

#include <string>

namespace runlog::testing {

class TempDir {
 public:
  TempDir();
  // A fresh directory under `base` instead (e.g. another file system).
  explicit TempDir(const std::string& base);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Number of threads in this process (entries of /proc/self/task).
int CountThreads();

}  // namespace runlog::testing

#endif  // RUNLOG_TESTS_TESTING_TEMP_DIR_H_
