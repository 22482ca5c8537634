// Real `segtool rm`, `segtool recover` and `segtool recover --salvage`
// processes killed with SIGKILL at the k-th file event they cause, with k
// drawn (seeded, stratified) over the whole range of events the uninterrupted
// operation makes (`segtool compact` is killed the same way by
// tests/tools/segtool_compact_kill_test.cc).
//
// Every iteration works on a fresh copy of one template repository holding
// committed runs, runs kept live by a helper process, abandoned runs (their
// writer exited), an interrupted deletion in trash/ and a committed run with
// the leftovers of a dead compaction (COMMIT.tmp, an unreferenced segment,
// COMPACTING). After each kill:
//   * runs the operation does not target are byte-identical;
//   * each target is whole (byte-identical, or for salvage: reads back the
//     same points committed or not) or gone from runs/;
//   * after the operation is finished (rm: not repeated; recover: run again
//     to its end) recovery in the test runs twice: the second does nothing
//     and changes nothing, no trash, temporary file or COMPACTING is left,
//     every run still there verifies and reads back exactly.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/status_macros.h"
#include "tests/reliability/inotify_kill.h"
#include "tests/testing/double_bits.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tracking/repo.h"

namespace runlog {
namespace {

namespace fs = std::filesystem;
using ::runlog::testing::Bits;
using ::runlog::testing::IsOk;

constexpr int kKillsPerOperation = 10;
constexpr uint64_t kSeed = 20261129;

// name -> bytes of each file of a (flat) run directory; empty if it is gone.
using Files = std::map<std::string, std::string>;

Files ReadFiles(const std::string& dir) {
  Files files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::ifstream in(e.path(), std::ios::binary);
    files[e.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), {});
  }
  return files;
}

// Every point of a run by series: step, value bits, epoch bits (NaN as one
// pattern), time.
using Points = std::map<std::string, std::vector<uint64_t>>;

Points ReadPoints(Repo& repo, const std::string& id) {
  Points out;
  auto view = repo.OpenRun(id);
  EXPECT_THAT(view, IsOk()) << id;
  if (!view.ok()) return out;
  for (const SeriesSummary& s : (*view)->series()) {
    auto p = (*view)->ReadScalars(s.key);
    EXPECT_THAT(p, IsOk()) << id << " " << s.key.ToString();
    if (!p.ok()) continue;
    std::vector<uint64_t>& v = out[s.key.ToString()];
    for (size_t i = 0; i < p->size(); ++i) {
      v.push_back(static_cast<uint64_t>(p->steps[i]));
      v.push_back(Bits(p->values[i]));
      v.push_back(std::isnan(p->epochs[i]) ? 0 : Bits(p->epochs[i]));
      v.push_back(static_cast<uint64_t>(p->times_us[i]));
    }
  }
  return out;
}

absl::Status Fill(Run& run, int points, int salt) {
  for (int i = 0; i < points; ++i) {
    const double v = std::sin(i * 0.01 + salt) / (1 + i);
    RUNLOG_RETURN_IF_ERROR(
        run.Track("loss", v, i, {{"subset", "train"}}, i / 4.0));
    if (i % 7 == 0) RUNLOG_RETURN_IF_ERROR(run.Track("acc", salt + i * 0.5, i));
  }
  return absl::OkStatus();
}

std::string ReadLineFrom(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

// The roles of the template's runs.
enum class Role {
  kKeep,          // committed, never targeted
  kGarbage,       // committed, with a dead compaction's leftovers
  kRmTarget,      // committed, removed by `segtool rm`
  kLiveRmTarget,  // live (helper process), removed by `segtool rm --force`
  kLive,          // live, never targeted
  kAbandoned,     // writer exited: recover deletes or salvages it
};

struct TemplateRun {
  Role role;
  Files files;
  Points points;
};

class SegtoolKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    template_ = dir_.path() + "/template";
    RepoOptions o;
    auto repo = Repo::Open(template_, o);
    ASSERT_THAT(repo, IsOk());
    ASSERT_NO_FATAL_FAILURE(StartHolder());
    ASSERT_NO_FATAL_FAILURE(Committed(**repo, Role::kKeep, 1500, 1 << 16));
    ASSERT_NO_FATAL_FAILURE(Committed(**repo, Role::kKeep, 500, 1 << 20));
    ASSERT_NO_FATAL_FAILURE(Committed(**repo, Role::kRmTarget, 2000, 2048));
    ASSERT_NO_FATAL_FAILURE(Committed(**repo, Role::kRmTarget, 800, 1 << 20));
    ASSERT_NO_FATAL_FAILURE(Abandoned(2000, 2048));
    ASSERT_NO_FATAL_FAILURE(Abandoned(300, 1 << 20));
    ASSERT_NO_FATAL_FAILURE(Abandoned(0, 1 << 20));
    // A dead compaction's leftovers: its claim (an OWNER record of a process
    // that is gone), the next manifest and an old unreferenced segment.
    ASSERT_NO_FATAL_FAILURE(
        Committed(**repo, Role::kGarbage, 1000, 1 << 20, &garbage_));
    const std::string g = RunDir(template_, garbage_);
    Files abandoned =
        ReadFiles(RunDir(template_, RunsWith(Role::kAbandoned)[0]));
    WriteFile(g + "/COMPACTING", abandoned["OWNER"]);
    WriteFile(g + "/COMMIT.tmp", ReadFiles(g)["COMMIT"]);
    WriteFile(g + "/000099.seg", "not a segment");
    // An interrupted deletion: a run renamed into trash/.
    ASSERT_NO_FATAL_FAILURE(
        Committed(**repo, Role::kKeep, 200, 1 << 20, &trashed_));
    runs_.erase(trashed_);
    fs::rename(RunDir(template_, trashed_), template_ + "/trash/" + trashed_);
    for (auto& [id, run] : runs_) {
      run.files = ReadFiles(RunDir(template_, id));
      run.points = ReadPoints(**repo, id);
    }
  }

  void TearDown() override {
    if (holder_ > 0) {
      close(holder_stop_);
      int status;
      waitpid(holder_, &status, 0);
    }
  }

  static std::string RunDir(const std::string& root, const std::string& id) {
    return root + "/runs/" + id;
  }
  static void WriteFile(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  std::vector<std::string> RunsWith(Role role) const {
    std::vector<std::string> ids;
    for (const auto& [id, run] : runs_) {
      if (run.role == role) ids.push_back(id);
    }
    return ids;
  }

  void Committed(Repo& repo, Role role, int points, uint64_t roll,
                 std::string* id = nullptr) {
    RunOptions o;
    o.segment_roll_size = roll;
    o.buffer_points = 256;
    auto run = repo.CreateRun(o);
    ASSERT_THAT(run, IsOk());
    ASSERT_THAT(Fill(**run, points, static_cast<int>(runs_.size())), IsOk());
    ASSERT_THAT((*run)->Commit(), IsOk());
    runs_[(*run)->id()].role = role;
    if (id != nullptr) *id = (*run)->id();
  }

  // A run whose writer, a child process, closes it and exits.
  void Abandoned(int points, uint64_t roll) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    const int salt = static_cast<int>(runs_.size());
    std::fflush(nullptr);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto repo = Repo::Open(template_);
      if (!repo.ok()) _exit(2);
      RunOptions o;
      o.segment_roll_size = roll;
      o.buffer_points = 256;
      auto run = (*repo)->CreateRun(o);
      if (!run.ok()) _exit(3);
      if (!Fill(**run, points, salt).ok()) _exit(6);
      if (!(*run)->Close().ok()) _exit(4);
      const std::string line = (*run)->id() + "\n";
      if (write(fds[1], line.data(), line.size()) < 0) _exit(5);
      _exit(0);
    }
    close(fds[1]);
    const std::string id = ReadLineFrom(fds[0]);
    close(fds[0]);
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    runs_[id].role = Role::kAbandoned;
  }

  // A helper process that writes two runs, closes them and stays alive
  // until TearDown, so that both are live in every copy of the template.
  void StartHolder() {
    int ready[2];
    int stop[2];
    ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(stop, O_CLOEXEC), 0);
    std::fflush(nullptr);
    holder_ = fork();
    ASSERT_GE(holder_, 0);
    if (holder_ == 0) {
      close(stop[1]);
      auto repo = Repo::Open(template_);
      if (!repo.ok()) _exit(2);
      std::string ids;
      for (int i = 0; i < 2; ++i) {
        RunOptions o;
        o.segment_roll_size = 4096;
        auto run = (*repo)->CreateRun(o);
        if (!run.ok()) _exit(3);
        if (!Fill(**run, 800, 100 + i).ok()) _exit(6);
        if (!(*run)->Close().ok()) _exit(4);
        absl::StrAppend(&ids, (*run)->id(), " ");
      }
      ids += "\n";
      if (write(ready[1], ids.data(), ids.size()) < 0) _exit(5);
      char c;
      while (read(stop[0], &c, 1) > 0) {
      }
      _exit(0);
    }
    close(ready[1]);
    close(stop[0]);
    holder_stop_ = stop[1];
    const std::vector<std::string> ids =
        absl::StrSplit(ReadLineFrom(ready[0]), ' ', absl::SkipEmpty());
    close(ready[0]);
    ASSERT_EQ(ids.size(), 2u);
    runs_[ids[0]].role = Role::kLiveRmTarget;
    runs_[ids[1]].role = Role::kLive;
  }

  // A fresh copy of the template; the leftover segment is made old enough
  // for segtool's recovery (15 minutes) to count it as garbage.
  std::string Copy(const std::string& name) {
    const std::string root = dir_.path() + "/" + name;
    fs::remove_all(root);
    fs::copy(template_, root, fs::copy_options::recursive);
    const timespec old = absl::ToTimespec(absl::Now() - absl::Hours(1));
    const timespec times[2] = {old, old};
    EXPECT_EQ(
        utimensat(AT_FDCWD, (RunDir(root, garbage_) + "/000099.seg").c_str(),
                  times, 0),
        0);
    return root;
  }

  static std::vector<std::string> WatchedDirs(const std::string& root) {
    std::vector<std::string> dirs = {root, root + "/runs", root + "/trash"};
    for (const char* sub : {"/runs", "/trash"}) {
      for (const auto& e : fs::directory_iterator(root + sub)) {
        dirs.push_back(e.path().string());
      }
    }
    return dirs;
  }

  // Runs segtool on a copy, killed after `k` events (0: never). Returns the
  // copy's path.
  std::string RunKilled(const std::vector<std::string>& args, int k,
                        testing::KillResult* result) {
    const std::string root = Copy("work");
    std::vector<std::string> full = {args[0], root};
    full.insert(full.end(), args.begin() + 1, args.end());
    *result = testing::RunAndKillAfterEvents(SEGTOOL_BINARY, full,
                                             WatchedDirs(root), k);
    EXPECT_FALSE(result->setup_failed) << result->error;
    EXPECT_FALSE(result->timed_out);
    if (!result->killed) {
      EXPECT_EQ(result->exit_code, 0);
    }
    return root;
  }

  // Recovery in the test, twice: the second does nothing and changes
  // nothing; nothing temporary is left. Returns the repository.
  std::unique_ptr<Repo> RecoverTwice(const std::string& root, bool salvage) {
    RepoOptions o;
    o.create_if_missing = false;
    // Only the holder is alive: leftovers are garbage at once.
    o.staleness = absl::ZeroDuration();
    auto repo = Repo::Open(root, o);
    EXPECT_THAT(repo, IsOk());
    if (!repo.ok()) return nullptr;
    RecoverOptions ro;
    ro.salvage = salvage;
    auto first = (*repo)->Recover(ro);
    EXPECT_THAT(first, IsOk());
    const Snapshot before = TakeSnapshot(root);
    auto second = (*repo)->Recover(ro);
    EXPECT_THAT(second, IsOk());
    if (second.ok()) {
      EXPECT_TRUE(second->actions.empty())
          << "second recovery: " << second->actions[0].path << ": "
          << second->actions[0].reason;
    }
    EXPECT_TRUE(TakeSnapshot(root) == before)
        << "the second recovery changed the repository";
    for (const auto& [path, unused] : before) {
      EXPECT_FALSE(absl::StartsWith(path, "trash/")) << path;
      EXPECT_FALSE(absl::StrContains(path, ".tmp")) << path;
      EXPECT_FALSE(absl::EndsWith(path, "COMPACTING")) << path;
    }
    return *std::move(repo);
  }

  // Path below root -> bytes, of every file.
  using Snapshot = std::map<std::string, std::string>;
  static Snapshot TakeSnapshot(const std::string& root) {
    Snapshot snap;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      std::string bytes;
      if (e.is_regular_file()) {
        std::ifstream in(e.path(), std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
      }
      snap[e.path().string().substr(root.size() + 1)] = std::move(bytes);
    }
    return snap;
  }

  // A committed run still there after recovery: it verifies and reads back
  // exactly; `files` (if not null) must be its exact files.
  void ExpectWhole(Repo& repo, const std::string& id, const Files* files,
                   const std::string& label) {
    auto verify = repo.VerifyRun(id);
    ASSERT_THAT(verify, IsOk()) << label << " " << id;
    for (const VerifyProblem& p : verify->problems) {
      ADD_FAILURE() << label << ": " << p.file << " at " << p.offset << ": "
                    << p.status;
    }
    EXPECT_TRUE(ReadPoints(repo, id) == runs_[id].points)
        << label << ": run " << id << " reads back differently";
    if (files != nullptr) {
      EXPECT_TRUE(ReadFiles(RunDir(repo.path(), id)) == *files)
          << label << ": run " << id << " has changed files";
    }
  }

  // The files of the garbage run without its leftovers.
  Files CleanGarbageFiles() {
    Files f = runs_[garbage_].files;
    f.erase("COMPACTING");
    f.erase("COMMIT.tmp");
    f.erase("000099.seg");
    return f;
  }

  // Stratified kill points over [1, events].
  static std::vector<int> KillPoints(int events, uint64_t salt) {
    std::mt19937_64 gen(kSeed ^ salt);
    std::vector<int> ks;
    for (int i = 0; i < kKillsPerOperation; ++i) {
      const uint64_t span = static_cast<uint64_t>(events);
      ks.push_back(1 + static_cast<int>(
                           (span * static_cast<uint64_t>(i) + gen() % span) /
                           kKillsPerOperation));
    }
    return ks;
  }

  testing::TempDir dir_;
  std::string template_;
  std::map<std::string, TemplateRun> runs_;
  std::string garbage_;
  std::string trashed_;
  pid_t holder_ = -1;
  int holder_stop_ = -1;
};

TEST_F(SegtoolKillTest, RmLeavesEachRunWholeOrGone) {
  std::vector<std::string> args = {"rm", "--force"};
  for (Role r : {Role::kRmTarget, Role::kLiveRmTarget}) {
    for (const std::string& id : RunsWith(r)) args.push_back(id);
  }
  testing::KillResult full;
  RunKilled(args, 0, &full);
  ASSERT_FALSE(HasFailure());
  ASSERT_GT(full.events, 0);
  int whole = 0, gone = 0, killed = 0;
  for (int k : KillPoints(full.events, 1)) {
    const std::string label =
        absl::StrCat("rm killed after event ", k, " of ", full.events);
    SCOPED_TRACE(label);
    testing::KillResult result;
    const std::string root = RunKilled(args, k, &result);
    killed += result.killed;
    for (const auto& [id, run] : runs_) {
      const Files now = ReadFiles(RunDir(root, id));
      const bool target =
          run.role == Role::kRmTarget || run.role == Role::kLiveRmTarget;
      if (target && now.empty()) continue;  // renamed away: gone
      EXPECT_TRUE(now == run.files) << "run " << id << " changed";
    }
    EXPECT_TRUE(ReadFiles(root + "/trash/" + trashed_) ==
                ReadFiles(template_ + "/trash/" + trashed_));
    std::unique_ptr<Repo> repo = RecoverTwice(root, false);
    ASSERT_NE(repo, nullptr);
    for (const auto& [id, run] : runs_) {
      auto record = repo->GetRun(id);
      switch (run.role) {
        case Role::kKeep:
          ExpectWhole(*repo, id, &run.files, label);
          break;
        case Role::kGarbage: {
          const Files clean = CleanGarbageFiles();
          ExpectWhole(*repo, id, &clean, label);
          break;
        }
        case Role::kLive:
          EXPECT_TRUE(ReadFiles(RunDir(root, id)) == run.files) << id;
          break;
        case Role::kAbandoned:
          EXPECT_TRUE(absl::IsNotFound(record.status())) << id;
          break;
        case Role::kRmTarget:
        case Role::kLiveRmTarget:
          if (absl::IsNotFound(record.status())) {
            ++gone;
            break;
          }
          ++whole;
          ASSERT_THAT(record, IsOk()) << id;
          EXPECT_TRUE(ReadFiles(RunDir(root, id)) == run.files) << id;
          EXPECT_TRUE(ReadPoints(*repo, id) == run.points) << id;
          break;
      }
    }
    if (HasFailure()) return;
  }
  // The kills landed both before and after deletions.
  EXPECT_GT(killed, 0);
  EXPECT_GT(whole, 0);
  EXPECT_GT(gone, 0);
}

// Kills `segtool recover [--salvage]`, then runs it again to its end and
// recovers twice in the test.
class SegtoolRecoverKillTest : public SegtoolKillTest,
                               public ::testing::WithParamInterface<bool> {};

TEST_P(SegtoolRecoverKillTest, RecoverFinishesWhateverTheKillLeft) {
  const bool salvage = GetParam();
  std::vector<std::string> args = {"recover"};
  if (salvage) args.push_back("--salvage");
  testing::KillResult full;
  RunKilled(args, 0, &full);
  ASSERT_FALSE(HasFailure());
  ASSERT_GT(full.events, 0);
  int killed = 0, abandoned_left = 0, abandoned_done = 0;
  for (int k : KillPoints(full.events, salvage ? 3 : 2)) {
    const std::string label =
        absl::StrCat(args[0], salvage ? " --salvage" : "",
                     " killed after event ", k, " of ", full.events);
    SCOPED_TRACE(label);
    testing::KillResult result;
    const std::string root = RunKilled(args, k, &result);
    killed += result.killed;
    {
      // Right after the kill: nothing but the targets has changed; an
      // abandoned run is whole, or (salvage) reads the same in either form,
      // or (delete) is gone.
      RepoOptions o;
      o.create_if_missing = false;
      auto repo = Repo::Open(root, o);
      ASSERT_THAT(repo, IsOk());
      for (const auto& [id, run] : runs_) {
        const Files now = ReadFiles(RunDir(root, id));
        switch (run.role) {
          case Role::kGarbage:
            for (const auto& [name, bytes] : CleanGarbageFiles()) {
              EXPECT_EQ(now.count(name) ? now.at(name) : "<gone>", bytes)
                  << id << "/" << name;
            }
            break;
          case Role::kAbandoned:
            if (now == run.files) {
              ++abandoned_left;
            } else if (salvage) {
              ++abandoned_done;
              EXPECT_TRUE(ReadPoints(**repo, id) == run.points)
                  << "half-salvaged run " << id << " reads differently";
            } else {
              ++abandoned_done;
              EXPECT_TRUE(now.empty()) << "run " << id << " is half deleted";
            }
            break;
          default:
            EXPECT_TRUE(now == run.files) << "run " << id << " changed";
        }
      }
    }
    // As an operator would: run it again, to its end.
    std::vector<std::string> rerun = {args[0], root};
    rerun.insert(rerun.end(), args.begin() + 1, args.end());
    const testing::KillResult again =
        testing::RunAndKillAfterEvents(SEGTOOL_BINARY, rerun, {}, 0);
    EXPECT_FALSE(again.killed || again.timed_out);
    EXPECT_EQ(again.exit_code, 0);
    std::unique_ptr<Repo> repo = RecoverTwice(root, salvage);
    ASSERT_NE(repo, nullptr);
    for (const auto& [id, run] : runs_) {
      auto record = repo->GetRun(id);
      switch (run.role) {
        case Role::kKeep:
        case Role::kRmTarget:
          ExpectWhole(*repo, id, &run.files, label);
          break;
        case Role::kGarbage: {
          const Files clean = CleanGarbageFiles();
          ExpectWhole(*repo, id, &clean, label);
          break;
        }
        case Role::kLive:
        case Role::kLiveRmTarget:
          EXPECT_TRUE(ReadFiles(RunDir(root, id)) == run.files) << id;
          break;
        case Role::kAbandoned:
          if (!salvage) {
            EXPECT_TRUE(absl::IsNotFound(record.status())) << id;
            break;
          }
          ASSERT_THAT(record, IsOk()) << id;
          EXPECT_EQ(record->status, RunStatus::kCrashed) << id;
          ExpectWhole(*repo, id, nullptr, label);
          break;
      }
    }
    if (HasFailure()) return;
  }
  EXPECT_GT(killed, 0);
  EXPECT_GT(abandoned_left, 0);
  EXPECT_GT(abandoned_done, 0);
}

INSTANTIATE_TEST_SUITE_P(DeleteOrSalvage, SegtoolRecoverKillTest,
                         ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Salvage" : "Delete";
                         });

}  // namespace
}  // namespace runlog
