#include <cstdio>
#include <stdexcept>
#include <string>

#include "tracking/repo.h"

int main() {
  auto repo = runlog::Repo::Open("/tmp/runlog-quickstart");
  if (!repo.ok()) return 1;

  std::string run_id;
  try {
    auto run = (*repo)->CreateRun({.experiment = "mnist", .name = "baseline"});
    if (!run.ok()) return 1;
    run_id = (*run)->id();
    (*run)->SetParam("hparams.lr", runlog::Value(0.001)).IgnoreError();
    auto loss = *(*run)->Series("loss", {{"subset", "train"}});
    for (int step = 0; step < 1000; ++step) {
      loss.Track(step, 1.0 / (step + 1)).IgnoreError();  // fast path
      if (step == 500) throw std::runtime_error("loss became NaN");
    }
    (*run)->Commit().IgnoreError();  // or let the scope end: it commits
  } catch (const std::exception& e) {
    // The run was left uncommitted by the exception. Throw it away: this
    // returns OK, leaves no file behind, and the program exits at once.
    absl::Status deleted = (*repo)->DeleteRun(run_id);
    std::printf("%s: deleted run %s: %s\n", e.what(), run_id.c_str(),
                deleted.ToString().c_str());
  }

  auto runs = (*repo)->ListRuns({.experiment = "mnist"});
  std::printf("%zu mnist runs\n", runs.ok() ? runs->size() : 0);
  return 0;
}
