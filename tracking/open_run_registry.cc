#include "tracking/open_run_registry.h"

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "tracking/run.h"

namespace runlog::internal {
namespace {

struct Registry {
  absl::Mutex mu;
  absl::flat_hash_map<std::string, Run*> runs ABSL_GUARDED_BY(mu);
};

// Never destroyed: a Run living in a static object may be destroyed after
// this registry would be.
Registry& Get() {
  static Registry* const registry = new Registry;
  return *registry;
}

}  // namespace

void OpenRunRegistry::Add(const std::string& run_dir, Run* run) {
  Registry& r = Get();
  absl::MutexLock lock(&r.mu);
  r.runs[run_dir] = run;
}

void OpenRunRegistry::Remove(const std::string& run_dir, Run* run) {
  Registry& r = Get();
  absl::MutexLock lock(&r.mu);
  auto it = r.runs.find(run_dir);
  if (it != r.runs.end() && it->second == run) r.runs.erase(it);
}

bool OpenRunRegistry::CloseForDeletion(const std::string& run_dir) {
  Registry& r = Get();
  Run* run = nullptr;
  {
    absl::MutexLock lock(&r.mu);
    auto it = r.runs.find(run_dir);
    if (it == r.runs.end()) return false;
    run = it->second;
    r.runs.erase(it);
  }
  run->CloseForDeletion();
  return true;
}

}  // namespace runlog::internal
