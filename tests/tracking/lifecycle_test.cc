// The lifecycle this project exists for, written as users write it, on the
// real file system and in real child processes: an exception inside a run,
// the run deleted from the handler, the process exiting at once; a writer
// killed with SIGKILL; destructor behaviour on normal exit and unwinding.
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/file_system.h"
#include "tests/testing/child_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tracking/repo.h"

namespace runlog {
namespace {

using ::runlog::testing::ChildResult;
using ::runlog::testing::IsOk;
using ::runlog::testing::RunInChild;
using ::runlog::testing::StatusIs;
using ::runlog::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::Duration kDeadline = absl::Seconds(30);

class LifecycleTest : public ::testing::Test {
 protected:
  LifecycleTest() : root_(storage::JoinPath(tmp_.path(), "repo")) {}

  std::unique_ptr<Repo> OpenRepo() {
    auto repo = Repo::Open(root_);
    EXPECT_THAT(repo, IsOk());
    return repo.ok() ? *std::move(repo) : nullptr;
  }
  std::vector<std::string> FilesUnder(const std::string& sub) {
    auto names =
        storage::FileSystem::Default()->ListDir(storage::JoinPath(root_, sub));
    return names.ok() ? *names : std::vector<std::string>{"<error>"};
  }

  TempDir tmp_;
  std::string root_;
};

// The scenario, exactly as a user writes it, in a child process that must
// exit normally and at once.
TEST_F(LifecycleTest, DeleteFromExceptionHandlerThenExitAtOnce) {
  const std::string root = root_;
  ChildResult child = RunInChild(
      [&]() -> int {
        auto repo = Repo::Open(root);
        if (!repo.ok()) return 10;
        std::string run_id;
        try {
          auto run = (*repo)->CreateRun({.experiment = "crashy"});
          if (!run.ok()) return 11;
          run_id = (*run)->id();
          for (int step = 0; step < 1000; ++step) {
            if (!(*run)->Track("loss", 1.0 / (step + 1)).ok()) return 12;
          }
          throw std::runtime_error("division by zero");
        } catch (const std::runtime_error&) {
          if (!(*repo)->DeleteRun(run_id).ok()) return 13;
        }
        auto runs = (*repo)->ListRuns();
        if (!runs.ok() || !runs->empty()) return 14;
        return 0;
      },
      kDeadline);
  EXPECT_FALSE(child.timed_out) << "the process hung";
  EXPECT_TRUE(child.exited);
  EXPECT_EQ(child.exit_code, 0);
  EXPECT_THAT(FilesUnder("runs"), IsEmpty());
  EXPECT_THAT(FilesUnder("trash"), IsEmpty());
}

// The naive variant: delete while the Run object is still alive, then let it
// go out of scope.
TEST_F(LifecycleTest, DeleteWhileRunObjectAliveThenScopeExit) {
  const std::string root = root_;
  ChildResult child = RunInChild(
      [&]() -> int {
        auto repo = Repo::Open(root);
        if (!repo.ok()) return 10;
        {
          auto run = (*repo)->CreateRun();
          if (!run.ok()) return 11;
          for (int i = 0; i < 100; ++i) (*run)->Track("loss", i).IgnoreError();
          if (!(*repo)->DeleteRun((*run)->id()).ok()) return 12;
          // Later calls on the deleted run fail cleanly.
          if ((*run)->Track("loss", 1.0).code() !=
              absl::StatusCode::kFailedPrecondition) {
            return 13;
          }
        }  // destructor: must not resurrect or commit the run
        auto runs = (*repo)->ListRuns();
        if (!runs.ok() || !runs->empty()) return 14;
        return 0;
      },
      kDeadline);
  EXPECT_FALSE(child.timed_out);
  EXPECT_EQ(child.exit_code, 0);
  EXPECT_THAT(FilesUnder("runs"), IsEmpty());
  EXPECT_THAT(FilesUnder("trash"), IsEmpty());
}

TEST_F(LifecycleTest, ScopeExitCommits) {
  auto repo = OpenRepo();
  std::string id;
  {
    auto run = *repo->CreateRun();
    id = run->id();
    ASSERT_THAT(run->Track("loss", 0.5), IsOk());
  }
  auto record = repo->GetRun(id);
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->status, RunStatus::kFinished);
}

RunStatus StatusAfterThrow(Repo& repo, OnException policy, std::string* id) {
  try {
    RunOptions o;
    o.on_exception = policy;
    auto run = *repo.CreateRun(o);
    *id = run->id();
    run->Track("loss", 0.5).IgnoreError();
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  auto record = repo.GetRun(*id);
  return record.ok() ? record->status : RunStatus::kAbandoned;
}

TEST_F(LifecycleTest, UnwindingLeavesUncommittedByDefault) {
  auto repo = OpenRepo();
  std::string id;
  EXPECT_EQ(StatusAfterThrow(*repo, OnException::kLeaveUncommitted, &id),
            RunStatus::kRunning);  // this process is alive: not abandoned
  auto view = repo->OpenRun(id);
  ASSERT_THAT(view, IsOk());
  auto cols = (*view)->ReadScalars({"loss", {}});
  ASSERT_THAT(cols, IsOk());
  EXPECT_EQ(cols->size(), 1u);
  EXPECT_THAT(repo->DeleteRun(id), IsOk());
}

TEST_F(LifecycleTest, UnwindingCanDiscard) {
  auto repo = OpenRepo();
  std::string id;
  StatusAfterThrow(*repo, OnException::kDiscard, &id);
  EXPECT_THAT(repo->GetRun(id),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(id)));
  EXPECT_THAT(FilesUnder("runs"), IsEmpty());
}

TEST_F(LifecycleTest, UnwindingCanCommitAsFailed) {
  auto repo = OpenRepo();
  std::string id;
  EXPECT_EQ(StatusAfterThrow(*repo, OnException::kCommitFailed, &id),
            RunStatus::kFailed);
}

// A writer killed with SIGKILL: its run is abandoned, readable up to its last
// flush (every point a prefix of what was written), and Recover removes it.
TEST_F(LifecycleTest, SigkilledWriterIsAbandonedReadableAndRecovered) {
  const std::string root = root_;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t pid = runlog::testing::StartChild([&]() -> int {
    ::close(pipe_fds[0]);
    auto repo = Repo::Open(root);
    if (!repo.ok()) return 10;
    auto run =
        (*repo)->CreateRun({.experiment = "killed", .buffer_points = 4096});
    if (!run.ok()) return 11;
    auto loss = *(*run)->Series("loss");
    for (int64_t step = 0; step < 20'000; ++step) {
      loss.Track(step, std::sqrt(static_cast<double>(step))).IgnoreError();
    }
    if (!(*run)->Flush().ok()) return 12;
    const std::string line = (*run)->id() + "\n";
    if (write(pipe_fds[1], line.data(), line.size()) < 0) return 13;
    // Keep writing until killed.
    for (int64_t step = 20'000;; ++step) {
      loss.Track(step, std::sqrt(static_cast<double>(step))).IgnoreError();
    }
  });
  ::close(pipe_fds[1]);
  const std::string id = runlog::testing::ReadLine(pipe_fds[0]);
  ::close(pipe_fds[0]);
  ASSERT_FALSE(id.empty());
  ::kill(pid, SIGKILL);
  ChildResult child = runlog::testing::WaitChild(pid, kDeadline);
  EXPECT_EQ(child.signal, SIGKILL);

  auto repo = OpenRepo();
  auto record = repo->GetRun(id);
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->status, RunStatus::kAbandoned) << record->detail;
  EXPECT_EQ(record->summary.experiment, "killed");
  auto view = repo->OpenRun(id);
  ASSERT_THAT(view, IsOk());
  auto cols = (*view)->ReadScalars({"loss", {}});
  ASSERT_THAT(cols, IsOk());
  ASSERT_GE(cols->size(), 20'000u);
  for (size_t i = 0; i < cols->size(); ++i) {
    ASSERT_EQ(cols->steps[i], static_cast<int64_t>(i));
    ASSERT_EQ(cols->values[i], std::sqrt(static_cast<double>(i)));
  }
  auto report = repo->Recover();
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->actions.size(), 1u);
  EXPECT_THAT(repo->GetRun(id),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(FilesUnder("runs"), IsEmpty());
}

TEST_F(LifecycleTest, DeletingARunLiveInAnotherProcessNeedsForce) {
  const std::string root = root_;
  int to_parent[2];
  int to_child[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  ASSERT_EQ(::pipe(to_child), 0);
  const pid_t pid = runlog::testing::StartChild([&]() -> int {
    ::close(to_parent[0]);
    ::close(to_child[1]);
    auto repo = Repo::Open(root);
    if (!repo.ok()) return 10;
    auto run = (*repo)->CreateRun();
    if (!run.ok()) return 11;
    const std::string line = (*run)->id() + "\n";
    if (write(to_parent[1], line.data(), line.size()) < 0) return 12;
    runlog::testing::ReadLine(to_child[0]);  // wait for the parent
    return 0;
  });
  ::close(to_parent[1]);
  ::close(to_child[0]);
  const std::string id = runlog::testing::ReadLine(to_parent[0]);
  ASSERT_FALSE(id.empty());
  auto repo = OpenRepo();
  EXPECT_THAT(repo->DeleteRun(id),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("live process")));
  EXPECT_THAT(repo->DeleteRun(id, {.force = true}), IsOk());
  ::close(to_child[1]);
  ::close(to_parent[0]);
  ChildResult child = runlog::testing::WaitChild(pid, kDeadline);
  EXPECT_FALSE(child.timed_out);
  EXPECT_THAT(FilesUnder("runs"), IsEmpty());
}

}  // namespace
}  // namespace runlog
