// The small fixed repository segtool's tests run against, and the helpers to
// run commands in-process and compare their output with golden files.
//
// The repository holds three runs, made with the library under a manual
// clock and a fake process probe so that every byte is reproducible:
//   RUN1  committed, finished: params, tags, loss under two contexts,
//         accuracy with epochs, a text, a histogram and a blob series
//   RUN2  committed, failed ("loss became NaN")
//   RUN3  never committed (Close()d): live while its writer's pid is in the
//         probe's process table, abandoned after KillWriter()
//
// Goldens live in tests/tools/golden/<name>.txt; each holds the command line,
// exit code, stdout and stderr, with run ids replaced by <RUN1>.. and the
// repository path by <REPO>. Regenerate them after an intended change with
//   RUNLOG_UPDATE_GOLDEN=1 ctest --test-dir build -R 'InspectTest|MaintainTest'
// and review the diff.
#ifndef RUNLOG_TESTS_TOOLS_SEGTOOL_FIXTURE_H_
#define RUNLOG_TESTS_TOOLS_SEGTOOL_FIXTURE_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/owner_liveness.h"
#include "tests/testing/child_process.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/segtool/cli.h"
#include "tools/segtool/commands.h"
#include "tracking/repo.h"

namespace runlog::segtool {

// Same machine and boot throughout; the test decides which pids are alive.
class TestProbe : public testing::FakeSystemProbe {
 public:
  static constexpr int64_t kWriterPid = 1001;
  static constexpr int64_t kToolPid = 2002;

  TestProbe() {
    SetProcess(kWriterPid, 500);
    SetProcess(kToolPid, 900);
    set_self_pid(kWriterPid);
  }
  void KillWriter() { KillProcess(kWriterPid); }
};

// One command's result.
struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// path -> (size, content) of every file under a directory, to prove that a
// command changed nothing.
using Snapshot = std::map<std::string, std::pair<uintmax_t, size_t>>;

inline Snapshot TakeSnapshot(const std::string& root) {
  Snapshot snap;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(root)) {
    const std::string rel =
        std::filesystem::relative(entry.path(), root).string();
    if (entry.is_directory()) {
      snap[rel + "/"] = {0, 0};
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
    snap[rel] = {entry.file_size(), std::hash<std::string>()(bytes)};
  }
  return snap;
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

inline std::string GoldenPath(const std::string& name) {
  const char* src = std::getenv("RUNLOG_TEST_SRCDIR");
  const std::string file = absl::StrCat("golden/", name, ".txt");
  if (src != nullptr) return absl::StrCat(src, "/tests/tools/", file);
  return file;  // ctest runs in tests/tools
}

// ---- real binaries ----------------------------------------------------------

struct BinaryResult {
  testing::ChildResult child;
  std::string out;
  std::string err;
};

// Runs the program `binary` with `args` in the working directory `dir`, its
// stdout and stderr sent to files there.
inline BinaryResult RunProgram(const std::string& binary,
                               const std::string& dir,
                               const std::vector<std::string>& args) {
  const std::string out_path = dir + "/stdout";
  const std::string err_path = dir + "/stderr";
  BinaryResult r;
  r.child = testing::RunInChild(
      [&]() -> int {
        const int out =
            open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int err =
            open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
            chdir(dir.c_str()) != 0) {
          return 120;
        }
        std::vector<char*> argv;
        std::string path = binary;
        argv.push_back(path.data());
        std::vector<std::string> copy = args;
        for (std::string& a : copy) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(path.c_str(), argv.data());
        return 121;  // exec failed
      },
      absl::Seconds(60));
  r.out = ReadWholeFile(out_path);
  r.err = ReadWholeFile(err_path);
  return r;
}

class SegtoolTest : public ::testing::Test {
 protected:
  SegtoolTest()
      : repo_path_(temp_.path() + "/repo"),
        clock_(absl::FromCivil(absl::CivilSecond(2024, 1, 2, 3, 4, 5),
                               absl::UTCTimeZone())) {
    env_.clock = &clock_;
    env_.probe = &probe_;
    // File times are pinned to the manual clock below (SetModifiedTimes),
    // so ages are judged against it rather than the real file system's.
    env_.file_system_clock = &clock_;
  }

  void SetUp() override { BuildRepo(); }

  void BuildRepo() {
    probe_.set_self_pid(TestProbe::kWriterPid);
    RepoOptions options;
    options.clock = &clock_;
    options.probe = &probe_;
    RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Repo> repo,
                                Repo::Open(repo_path_, options));
    ASSERT_NO_FATAL_FAILURE(MakeFinishedRun(*repo));
    clock_.Advance(absl::Minutes(1));
    ASSERT_NO_FATAL_FAILURE(MakeFailedRun(*repo));
    clock_.Advance(absl::Minutes(1));
    ASSERT_NO_FATAL_FAILURE(MakeUncommittedRun(*repo));
    clock_.Advance(absl::Minutes(1));
    // Liveness reports how long ago a run was last written, from file
    // modification times; pin them to the manual clock so reports are exact.
    for (const std::string& id : run_ids_) {
      ASSERT_NO_FATAL_FAILURE(
          SetModifiedTimes(absl::StrCat(repo_path_, "/runs/", id),
                           clock_.Now() - absl::Seconds(10)));
    }
    // From here on the commands run as another process of the same machine.
    probe_.set_self_pid(TestProbe::kToolPid);
  }

  static void SetModifiedTimes(const std::string& dir, absl::Time t) {
    const timespec ts = absl::ToTimespec(t);
    const timespec times[2] = {ts, ts};
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      ASSERT_EQ(utimensat(AT_FDCWD, entry.path().c_str(), times, 0), 0)
          << entry.path();
    }
    ASSERT_EQ(utimensat(AT_FDCWD, dir.c_str(), times, 0), 0) << dir;
  }

  void MakeFinishedRun(Repo& repo) {
    RunOptions o;
    o.experiment = "mnist";
    o.name = "baseline";
    o.description = "first try";
    o.tags = {"gpu", "baseline"};
    Value params = Value::EmptyMap();
    RUNLOG_ASSERT_OK(SetPath(params, "hparams.lr", 0.001));
    RUNLOG_ASSERT_OK(SetPath(params, "hparams.layers", Value::List{64, 32}));
    RUNLOG_ASSERT_OK(SetPath(params, "hparams.optimizer", "adam"));
    RUNLOG_ASSERT_OK(SetPath(params, "seed", 7));
    o.params = params;
    RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<runlog::Run> run,
                                repo.CreateRun(o));
    const Context train{{"subset", "train"}};
    const Context val{{"subset", "val"}};
    for (int step = 0; step < 10; ++step) {
      clock_.Advance(absl::Seconds(1));
      RUNLOG_ASSERT_OK(run->Track("loss", 2.0 / (step + 1), step, train,
                                  /*epoch=*/step / 5));
      RUNLOG_ASSERT_OK(
          run->Track("accuracy", 0.5 + step * 0.05, step, {}, step / 5));
      if (step % 3 == 0) {
        RUNLOG_ASSERT_OK(run->Track("loss", 2.5 / (step + 1), step, val));
      }
    }
    RUNLOG_ASSERT_OK(run->TrackText("notes", "warmup done", 2));
    RUNLOG_ASSERT_OK(run->TrackText("notes", "lr drop,\nthen \"plateau\"", 8));
    RUNLOG_ASSERT_OK(
        run->TrackHistogram("weights", Histogram{{-1, 0, 1}, {3, 5}}, 0));
    RUNLOG_ASSERT_OK(
        run->TrackHistogram("weights", Histogram{{-2, 0, 2}, {1, 9}}, 9));
    RUNLOG_ASSERT_OK(
        run->TrackBlob("sample", Blob{"image/png", std::string(300, 'x')}, 9));
    run_ids_.push_back(run->id());
    RUNLOG_ASSERT_OK(run->Commit());
  }

  void MakeFailedRun(Repo& repo) {
    RunOptions o;
    o.experiment = "mnist";
    o.name = "diverged";
    o.tags = {"gpu"};
    Value params = Value::EmptyMap();
    RUNLOG_ASSERT_OK(SetPath(params, "hparams.lr", 0.5));
    o.params = params;
    RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<runlog::Run> run,
                                repo.CreateRun(o));
    for (int step = 0; step < 4; ++step) {
      clock_.Advance(absl::Seconds(1));
      RUNLOG_ASSERT_OK(run->Track("loss", step * 10.0, step));
    }
    run_ids_.push_back(run->id());
    RUNLOG_ASSERT_OK(run->Fail("loss became NaN"));
  }

  void MakeUncommittedRun(Repo& repo) {
    RunOptions o;
    o.experiment = "cifar";
    o.name = "interrupted";
    RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<runlog::Run> run,
                                repo.CreateRun(o));
    for (int step = 0; step < 5; ++step) {
      clock_.Advance(absl::Seconds(1));
      RUNLOG_ASSERT_OK(run->Track("loss", 1.0 - step * 0.125, step));
    }
    run_ids_.push_back(run->id());
    RUNLOG_ASSERT_OK(run->Close());  // as if the writer died here
  }

  // Runs `segtool <args>` in-process; "<REPO>" and "<RUNn>" in `args` are
  // replaced by the real path and ids.
  CliResult Segtool(std::vector<std::string> args) {
    for (std::string& a : args) a = Expand(a);
    std::ostringstream out, err;
    CliResult r;
    r.code = RunCli(args, env_, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  std::string Expand(const std::string& s) const {
    std::vector<std::pair<std::string, std::string>> subs;
    subs.emplace_back("<REPO>", repo_path_);
    for (size_t i = 0; i < run_ids_.size(); ++i) {
      subs.emplace_back(absl::StrCat("<RUN", i + 1, ">"), run_ids_[i]);
    }
    return absl::StrReplaceAll(s, subs);
  }

  // Inverse of Expand, for outputs. The temp dir goes too, for paths
  // outside the repository (such as --output files).
  std::string Normalize(const std::string& s) const {
    std::vector<std::pair<std::string, std::string>> subs;
    subs.emplace_back(repo_path_, "<REPO>");
    subs.emplace_back(temp_.path(), "<TMP>");
    for (size_t i = 0; i < run_ids_.size(); ++i) {
      subs.emplace_back(run_ids_[i], absl::StrCat("<RUN", i + 1, ">"));
    }
    return absl::StrReplaceAll(s, subs);
  }

  // Runs the command and compares its normalized result with
  // golden/<name>.txt (or rewrites that file under RUNLOG_UPDATE_GOLDEN).
  CliResult ExpectGolden(const std::string& name,
                         const std::vector<std::string>& args) {
    CliResult r = Segtool(args);
    const std::string actual = absl::StrCat(
        "$ segtool ", absl::StrJoin(args, " "), "\nexit: ", r.code,
        "\n--- stdout\n", Normalize(r.out), "--- stderr\n", Normalize(r.err));
    const std::string path = GoldenPath(name);
    if (std::getenv("RUNLOG_UPDATE_GOLDEN") != nullptr) {
      std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
      return r;
    }
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "missing golden file " << path
                           << "; create it with RUNLOG_UPDATE_GOLDEN=1";
    const std::string golden((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    EXPECT_EQ(golden, actual)
        << "segtool output differs from " << path
        << "; if the change is intended, rerun with RUNLOG_UPDATE_GOLDEN=1";
    return r;
  }

  std::string RunDir(int n) const {
    return absl::StrCat(repo_path_, "/runs/", run_ids_[n - 1]);
  }

  testing::TempDir temp_;
  std::string repo_path_;
  storage::ManualClock clock_;
  TestProbe probe_;
  Env env_;
  std::vector<std::string> run_ids_;
};

}  // namespace runlog::segtool

#endif  // RUNLOG_TESTS_TOOLS_SEGTOOL_FIXTURE_H_
