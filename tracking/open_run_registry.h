// Internal: the Run objects open in this process, so Repo::DeleteRun() can
// close a run's writer before removing its files, whichever Repo object
// created it. Thread-safe.
#ifndef RUNLOG_TRACKING_OPEN_RUN_REGISTRY_H_
#define RUNLOG_TRACKING_OPEN_RUN_REGISTRY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace runlog {
class Run;
namespace internal {

class OpenRunRegistry {
 public:
  // Keyed by the run's directory path.
  static void Add(const std::string& run_dir, Run* run);
  static void Remove(const std::string& run_dir, Run* run);
  // Closes the writer of the run at `run_dir` if one is open here; later
  // calls on that Run return FailedPrecondition. Returns whether one was.
  static bool CloseForDeletion(const std::string& run_dir);
};

}  // namespace internal
}  // namespace runlog

#endif  // RUNLOG_TRACKING_OPEN_RUN_REGISTRY_H_
