// Real processes on the real file system, no locks: 8 writer processes create,
// append and commit runs while another process runs recovery and deletes the
// runs marked as failed, in a loop. Afterwards every run a writer reported as
// committed is present, committed and reads back exactly.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/recovery.h"
#include "storage/run_reader.h"
#include "storage/run_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::IsOk;

constexpr int kWriters = 8;
constexpr int kRunsPerWriter = 6;
constexpr int kChunks = 25;

std::string Payload(int writer, int run, int chunk) {
  return absl::StrCat("w", writer, "r", run, "c", chunk, ":",
                      std::string(static_cast<size_t>(chunk * 13 % 200), 'x'));
}

std::unique_ptr<RunStore> OpenOrDie(const std::string& root) {
  RunStoreOptions o;
  o.create_if_missing = true;
  auto store = RunStore::Open(root, o);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    _exit(3);
  }
  return *std::move(store);
}

// Runs in a child. Reports "K <id> <writer> <run>\n" for each committed keeper
// and "U <id> 0 0\n" for the run it leaves uncommitted.
[[noreturn]] void Writer(const std::string& root, int writer, int report_fd) {
  auto store = OpenOrDie(root);
  RunWriterOptions wo;
  wo.buffer_size = 512;
  wo.segment_roll_size = 4096;
  for (int run = 0; run < kRunsPerWriter; ++run) {
    auto w = store->CreateRun(wo);
    if (!w.ok()) _exit(4);
    for (int c = 0; c < kChunks; ++c) {
      if (!(*w)->AppendChunk(format::kChunkRecords, Payload(writer, run, c))
               .ok()) {
        _exit(5);
      }
    }
    if (run == kRunsPerWriter - 1) {  // left uncommitted
      if (!(*w)->Close().ok()) _exit(6);
      const std::string line = absl::StrCat("U ", (*w)->id(), " 0 0\n");
      if (write(report_fd, line.data(), line.size()) !=
          static_cast<ssize_t>(line.size())) {
        _exit(8);
      }
      continue;
    }
    const bool keeper = run % 2 == 0;
    absl::Status s = (*w)->Commit(
        keeper ? format::RunStatus::kFinished : format::RunStatus::kFailed,
        absl::Now(), keeper ? "" : "victim", "");
    if (!s.ok()) {
      std::fprintf(stderr, "commit: %s\n", s.ToString().c_str());
      _exit(7);
    }
    if (keeper) {
      const std::string line =
          absl::StrCat("K ", (*w)->id(), " ", writer, " ", run, "\n");
      if (write(report_fd, line.data(), line.size()) !=
          static_cast<ssize_t>(line.size())) {
        _exit(8);
      }
    }
  }
  _exit(0);
}

bool StopRequested(int stop_fd) {
  struct pollfd p = {stop_fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;  // readable = EOF: the parent closed it
}

// Runs in a child: recovery and deletion of failed runs until told to stop.
// Reports "A <id> 0 0\n" for each run recovery deleted as abandoned.
[[noreturn]] void Janitor(const std::string& root, int stop_fd, int report_fd) {
  auto store = OpenOrDie(root);
  for (int round = 0; round < 1'000'000 && !StopRequested(stop_fd); ++round) {
    auto report = Recover(*store, false);
    if (!report.ok()) {
      std::fprintf(stderr, "recover: %s\n", report.status().ToString().c_str());
      _exit(10);
    }
    for (const auto& action : report->actions) {
      // A writer that has exited leaves its last run abandoned; the parent
      // checks that only such runs were deleted.
      if (action.kind == RecoveryAction::Kind::kDeleteAbandonedRun &&
          action.done) {
        const std::string line = absl::StrCat(
            "A ", action.path.substr(action.path.rfind('/') + 1), " 0 0\n");
        if (write(report_fd, line.data(), line.size()) !=
            static_cast<ssize_t>(line.size())) {
          _exit(11);
        }
      }
    }
    auto runs = store->ListRuns();
    if (!runs.ok()) {
      std::fprintf(stderr, "list: %s\n", runs.status().ToString().c_str());
      _exit(12);
    }
    for (const RunEntry& run : *runs) {
      if (run.state == RunState::kCommitted && run.manifest &&
          run.manifest->status == format::RunStatus::kFailed) {
        absl::Status s = store->DeleteRun(run.id);
        if (!s.ok() && !absl::IsNotFound(s)) {
          std::fprintf(stderr, "delete: %s\n", s.ToString().c_str());
          _exit(13);
        }
      }
    }
  }
  _exit(0);
}

int WaitExitCode(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(MultiProcessTest, WritersAndJanitorNeverLoseACommittedRun) {
  runlog::testing::TempDir tmp;
  const std::string root = JoinPath(tmp.path(), "repo");
  OpenOrDie(root);

  int report[2];
  int stop[2];
  ASSERT_EQ(::pipe(report), 0);
  ASSERT_EQ(::pipe(stop), 0);
  std::fflush(nullptr);

  const pid_t janitor = ::fork();
  ASSERT_GE(janitor, 0);
  if (janitor == 0) {
    ::close(stop[1]);
    ::close(report[0]);
    Janitor(root, stop[0], report[1]);
  }
  ::close(stop[0]);
  std::vector<pid_t> writers;
  for (int i = 0; i < kWriters; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(report[0]);
      ::close(stop[1]);
      Writer(root, i, report[1]);
    }
    writers.push_back(pid);
  }
  ::close(report[1]);
  for (pid_t pid : writers) EXPECT_EQ(WaitExitCode(pid), 0);
  ::close(stop[1]);
  EXPECT_EQ(WaitExitCode(janitor), 0);

  std::string lines;
  char buf[4096];
  for (ssize_t n; (n = ::read(report[0], buf, sizeof(buf))) > 0;) {
    lines.append(buf, static_cast<size_t>(n));
  }
  ::close(report[0]);
  std::map<std::string, std::pair<int, int>> keepers;
  std::set<std::string> uncommitted;
  std::set<std::string> abandoned;
  std::istringstream in(lines);
  std::string kind;
  std::string id;
  int writer = 0;
  int run = 0;
  while (in >> kind >> id >> writer >> run) {
    if (kind == "K") keepers[id] = {writer, run};
    if (kind == "U") uncommitted.insert(id);
    if (kind == "A") abandoned.insert(id);
  }
  EXPECT_EQ(keepers.size(),
            static_cast<size_t>(kWriters * ((kRunsPerWriter) / 2)));
  EXPECT_EQ(uncommitted.size(), static_cast<size_t>(kWriters));
  // Recovery deleted only runs whose writer had left them and exited.
  for (const std::string& a : abandoned) {
    EXPECT_EQ(uncommitted.count(a), 1u) << "recovery deleted run " << a;
  }

  RunStoreOptions o;
  auto store = RunStore::Open(root, o);
  ASSERT_THAT(store, IsOk());
  for (const auto& [run_id, origin] : keepers) {
    auto entry = (*store)->GetRun(run_id);
    ASSERT_THAT(entry, IsOk()) << run_id;
    EXPECT_EQ(entry->state, RunState::kCommitted);
    auto reader =
        RunReader::Open((*store)->fs(), (*store)->RunDir(run_id), run_id);
    ASSERT_THAT(reader, IsOk());
    Chunk chunk;
    int c = 0;
    for (;; ++c) {
      auto more = (*reader)->Next(&chunk);
      ASSERT_THAT(more, IsOk()) << run_id;
      if (!*more) break;
      EXPECT_EQ(chunk.payload, Payload(origin.first, origin.second, c));
    }
    EXPECT_EQ(c, kChunks) << run_id;
  }
  // The writers are gone now: their uncommitted runs are abandoned and the
  // final recovery removes exactly those.
  auto report_final = Recover(**store, false);
  ASSERT_THAT(report_final, IsOk());
  for (const auto& action : report_final->actions) {
    if (action.kind == RecoveryAction::Kind::kDeleteAbandonedRun) {
      abandoned.insert(action.path.substr(action.path.rfind('/') + 1));
    }
  }
  EXPECT_EQ(abandoned, uncommitted);
  auto runs = (*store)->ListRuns();
  ASSERT_THAT(runs, IsOk());
  size_t finished = 0;
  for (const RunEntry& r : *runs) {
    EXPECT_EQ(r.state, RunState::kCommitted) << r.id;
    if (r.manifest && r.manifest->status == format::RunStatus::kFinished) {
      ++finished;
    }
  }
  EXPECT_EQ(finished, keepers.size());
}

}  // namespace
}  // namespace runlog::storage
