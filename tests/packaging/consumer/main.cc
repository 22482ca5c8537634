// A program outside runlog, built against an installed runlog (find_package
// or pkg-config) or its source tree (FetchContent): it creates a repository
// under the directory given, records one run, reads it back and prints OK
// when every point and param came back as written.
#include <runlog/runlog.h>
#include <runlog/tracking/repo.h>  // the per-header spelling resolves too

#include <cstdio>
#include <string>

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "consumer: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return Fail("usage: consumer EMPTY_DIR");
  const std::string path = std::string(argv[1]) + "/repo";
  auto repo = runlog::Repo::Open(path);
  if (!repo.ok()) return Fail(repo.status().ToString());

  auto run = (*repo)->CreateRun({.experiment = "packaging", .name = "outside"});
  if (!run.ok()) return Fail(run.status().ToString());
  const std::string id = (*run)->id();
  if (absl::Status s = (*run)->SetParam("lr", runlog::Value(0.25)); !s.ok()) {
    return Fail(s.ToString());
  }
  auto loss = (*run)->Series("loss", {{"subset", "train"}});
  if (!loss.ok()) return Fail(loss.status().ToString());
  constexpr int kPoints = 5;
  for (int step = 0; step < kPoints; ++step) {
    if (absl::Status s = loss->Track(step, 1.0 / (step + 1)); !s.ok()) {
      return Fail(s.ToString());
    }
  }
  if (absl::Status s = (*run)->Commit(); !s.ok()) return Fail(s.ToString());
  run->reset();

  auto reopened = runlog::Repo::Open(path, {.create_if_missing = false});
  if (!reopened.ok()) return Fail(reopened.status().ToString());
  auto runs = (*reopened)->ListRuns({.experiment = "packaging"});
  if (!runs.ok()) return Fail(runs.status().ToString());
  if (runs->size() != 1 || (*runs)[0].id != id) {
    return Fail("ListRuns did not return the one run written");
  }
  const runlog::Value* lr = (*runs)[0].summary.params.Find("lr");
  if (lr == nullptr || !lr->is_double() || lr->as_double() != 0.25) {
    return Fail("param lr did not come back as 0.25");
  }
  auto view = (*reopened)->OpenRun(id);
  if (!view.ok()) return Fail(view.status().ToString());
  auto points =
      (*view)->ReadScalars({.name = "loss", .context = {{"subset", "train"}}});
  if (!points.ok()) return Fail(points.status().ToString());
  if (points->size() != kPoints) {
    return Fail("read " + std::to_string(points->size()) + " points, wrote " +
                std::to_string(kPoints));
  }
  for (int i = 0; i < kPoints; ++i) {
    if (points->steps[i] != i || points->values[i] != 1.0 / (i + 1)) {
      return Fail("point " + std::to_string(i) + " differs");
    }
  }
  std::printf("OK %s %d points\n", id.c_str(), kPoints);
  return 0;
}
