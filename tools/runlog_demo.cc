// runlog-demo REPO: a small hyper-parameter sweep that shows what runlog is
// for. Several runs log params and train/validation metrics; one raises an
// exception and is deleted in its handler; one child process is killed with
// SIGKILL mid-run and left abandoned. Then the repository's runs are listed
// with their state and last metric values.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "tracking/repo.h"

namespace {

using runlog::Context;
using runlog::Repo;
using runlog::Run;
using runlog::RunOptions;
using runlog::Value;

constexpr int kSteps = 5000;
constexpr int kStepsPerEpoch = 1000;

[[noreturn]] void Die(const absl::Status& s) {
  std::fprintf(stderr, "runlog-demo: %s\n", s.ToString().c_str());
  std::exit(1);
}

void Check(const absl::Status& s) {
  if (!s.ok()) Die(s);
}

RunOptions SweepOptions(double lr, int index) {
  RunOptions o;
  o.experiment = "sweep";
  o.name = absl::StrFormat("lr=%g", lr);
  o.tags = {"demo", index % 2 ? "wide" : "narrow"};
  Value::Map hparams;
  hparams["lr"] = Value(lr);
  hparams["batch_size"] = Value(int64_t{64});
  hparams["layers"] = Value(
      Value::List{Value(int64_t{256}), Value(int64_t{index % 2 ? 512 : 256})});
  Value::Map params;
  params["hparams"] = Value(hparams);
  params["seed"] = Value(int64_t{index});
  o.params = Value(params);
  return o;
}

// Simulated training: a noisy decaying loss stored from float32, as
// frameworks produce it. Throws when `explode_at` is reached.
void Train(Run& run, double lr, int seed, int explode_at) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.02f);
  const Context train{{"subset", "train"}};
  const Context val{{"subset", "val"}};
  auto loss = run.Series("loss", train);
  auto acc = run.Series("accuracy", train);
  if (!loss.ok()) Die(loss.status());
  if (!acc.ok()) Die(acc.status());
  for (int step = 0; step < kSteps; ++step) {
    if (step == explode_at) throw std::runtime_error("loss became NaN");
    const double epoch = static_cast<double>(step / kStepsPerEpoch);
    const float l = static_cast<float>(
        2.3 * std::exp(-lr * 40 * step / kSteps) + 0.1 + noise(rng));
    Check(loss->Track(step, l, epoch));
    Check(acc->Track(step, static_cast<float>(1.0 - l / 2.5), epoch));
    if (step % 250 == 249) {
      Check(run.Track("loss", l * 1.1, step, val, epoch));
    }
  }
}

// A child process that trains and is killed with SIGKILL mid-run.
void KilledRun(Repo& repo) {
  int fds[2];
  if (pipe(fds) != 0) Die(absl::InternalError("pipe failed"));
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    RunOptions o = SweepOptions(0.05, 9);
    o.name = "killed mid-run";
    auto run = repo.CreateRun(o);
    if (!run.ok()) _exit(2);
    auto loss = (*run)->Series("loss", {{"subset", "train"}});
    for (int step = 0; step < 2000; ++step) {
      (void)loss->Track(step, 2.0 / (1 + step * 0.01));
    }
    (void)(*run)->Flush();
    const char ready = '\n';
    (void)!write(fds[1], &ready, 1);
    for (int step = 2000;; ++step) (void)loss->Track(step, 0.5);
  }
  close(fds[1]);
  char c;
  (void)!read(fds[0], &c, 1);  // the child has flushed 2000 points
  close(fds[0]);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  std::printf("  killed writer pid %d with SIGKILL mid-run\n", pid);
}

double LastValue(const runlog::RunRecord& r, const std::string& name,
                 const std::string& subset) {
  for (const runlog::SeriesSummary& s : r.summary.series) {
    auto it = s.key.context.find("subset");
    if (s.key.name == name && it != s.key.context.end() &&
        it->second == subset) {
      return s.last;
    }
  }
  return std::nan("");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: runlog-demo REPO_DIR\n");
    return 2;
  }
  auto repo_or = Repo::Open(argv[1]);
  if (!repo_or.ok()) Die(repo_or.status());
  Repo& repo = **repo_or;
  std::printf("runlog demo: repository %s\n\n", repo.path().c_str());

  std::printf("sweep: 4 runs x %d steps (train loss, accuracy, val loss)\n",
              kSteps);
  const double lrs[] = {1e-3, 3e-3, 1e-2, 3e-2};
  for (int i = 0; i < 4; ++i) {
    auto run = repo.CreateRun(SweepOptions(lrs[i], i));
    if (!run.ok()) Die(run.status());
    Train(**run, lrs[i], i, /*explode_at=*/-1);
    Check((*run)->Commit());
    std::printf("  committed run %s (lr=%g)\n", (*run)->id().c_str(), lrs[i]);
  }

  std::printf("\na run that raises an exception, deleted in its handler:\n");
  std::string failed_id;
  try {
    RunOptions o = SweepOptions(0.3, 7);
    o.name = "diverged";
    auto run = repo.CreateRun(o);
    if (!run.ok()) Die(run.status());
    failed_id = (*run)->id();
    Train(**run, 0.3, 7, /*explode_at=*/1234);
  } catch (const std::exception& e) {
    const absl::Status deleted = repo.DeleteRun(failed_id);
    std::printf("  caught \"%s\"; DeleteRun(%s): %s\n", e.what(),
                failed_id.c_str(), deleted.ToString().c_str());
  }

  std::printf("\na child process killed while training:\n");
  KilledRun(repo);

  runlog::RunFilter all;
  all.disk_usage = true;
  auto runs = repo.ListRuns(all);
  if (!runs.ok()) Die(runs.status());
  std::printf("\n%-18s %-10s %-16s %-8s %10s %10s %8s %9s\n", "RUN", "STATUS",
              "NAME", "LR", "TRAIN LOSS", "VAL LOSS", "POINTS", "BYTES");
  for (const runlog::RunRecord& r : *runs) {
    auto lr = runlog::GetPath(r.summary.params, "hparams.lr");
    int64_t points = 0;
    for (const auto& s : r.summary.series) points += s.count;
    std::printf(
        "%-18s %-10s %-16s %-8s %10.4f %10.4f %8lld %9llu\n", r.id.c_str(),
        std::string(RunStatusName(r.status)).c_str(), r.summary.name.c_str(),
        lr.ok() ? absl::StrFormat("%g", (*lr)->as_double()).c_str() : "-",
        LastValue(r, "loss", "train"), LastValue(r, "loss", "val"),
        static_cast<long long>(points),
        static_cast<unsigned long long>(r.bytes_on_disk.value_or(0)));
  }

  auto report = repo.Recover(/*dry_run=*/true);
  if (!report.ok()) Die(report.status());
  std::printf("\nrecovery (dry run) would:\n");
  for (const auto& a : report->actions) {
    std::printf("  remove %s (%s)\n", a.path.c_str(), a.reason.c_str());
  }
  if (report->actions.empty()) std::printf("  nothing\n");
  return 0;
}
