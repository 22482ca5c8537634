// The SIGKILL crash harness with a write-trace oracle (issue 6).
//
// Each iteration forks a writer process that logs deterministic runs through
// the public API (crash_oracle.h: every point is a function of seed, run,
// series and index) into one repository shared by all iterations: several
// runs open at once, flushes, params, tags, and runs ending by commit, fail,
// close, deletion, or left open, under every sync policy. After each call
// that returned OK the writer reports it on a pipe; the parent kills it with
// SIGKILL after a seeded number of reports plus a seeded busy-wait, so the
// kill lands anywhere in the write path (no sleeps), then checks:
//
//   * every commit acknowledged, in this or any earlier iteration, is
//     present, committed with the right status, verifies, and reads back
//     exactly (new runs fully at once, all runs every 50 iterations; the
//     listing's summaries of all runs at every iteration). A run committed
//     but killed before its report is checked the same way. Beyond 60
//     committed runs the parent checks and deletes the oldest, so an
//     iteration costs the same however long the run;
//   * every surviving uncommitted run, read live, is an exact prefix of what
//     was written (no hole, no wrong value) holding at least what the writer
//     flushed (Flush and Close hand the data to the OS, which keeps it when
//     the process dies);
//   * a run whose deletion was acknowledged is gone;
//   * recovery run twice gives the same state (second run does nothing, the
//     directory tree with sizes and times is identical), leaves no trash and
//     no temporary file; salvaging recovery (every 10th iteration) commits
//     exactly the prefix that was read live.
//
// RUNLOG_CRASH_KILLS (default 200) sets the number of kills and
// RUNLOG_CRASH_SEED (default 20261128) the seed, e.g. for a long run:
//   RUNLOG_CRASH_KILLS=5000 build/tests/reliability_crash_harness_test
// The seed fixes the data, the schedule and when the kill is sent; where it
// lands also depends on timing, so two runs with one seed differ (the
// failure message names the run, series and point).
//
// The writers use every sync policy, but only process death is simulated
// here: power loss is tested in memory by
// tests/storage/crash_consistency_test.cc.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/reliability/crash_oracle.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tracking/repo.h"

namespace runlog::crash {
namespace {

using ::runlog::testing::IsOk;

constexpr uint64_t kDefaultSeed = 20261128;
constexpr int kDefaultKills = 200;
// Run numbers of iteration i are i * kRunsPerIteration + 0, 1, ...
constexpr int64_t kRunsPerIteration = 1000;
// The kill comes after 1..kMaxReports reports plus 0..kMaxSpin busy loops.
constexpr int64_t kMaxReports = 10;
constexpr int64_t kMaxSpin = 1 << 19;
constexpr int kFullCheckEvery = 50;
// Beyond this many committed runs the oldest are checked a last time and
// deleted, so that each iteration costs the same however long the run.
constexpr size_t kMaxCommitted = 60;
constexpr int kSalvageEvery = 10;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  uint64_t value;
  if (text == nullptr || !absl::SimpleAtoi(text, &value)) return fallback;
  return value;
}

// ---- the writer (runs in the forked child) ----------------------------------

// Child exit codes, for a writer that ends by itself instead of being killed.
enum WriterExit { kOpenFailed = 20, kCallFailed, kPipeFailed, kRanOut };

[[noreturn]] void Die(WriterExit code, absl::string_view what,
                      const absl::Status& s) {
  std::fprintf(stderr, "crash writer: %.*s: %s\n",
               static_cast<int>(what.size()), what.data(),
               s.ToString().c_str());
  _exit(code);
}

// One line per acknowledged call, written with one write() (atomic on a
// pipe, so a kill never leaves half a line):
//   N <run> <id>     CreateRun returned
//   F <run> <ops>    Flush returned after the plan's first <ops> operations
//   C <run> <id>     Close returned
//   K <run> <id>     Commit returned OK
//   X <run> <id>     Fail returned OK
//   d <run> <id>     DeleteRun is about to be called
//   D <run> <id>     DeleteRun returned OK
//   L <run> <id>     the run is left open until the writer dies
void Report(int fd, char kind, int64_t run, absl::string_view arg) {
  const std::string line =
      absl::StrCat(std::string(1, kind), " ", run, " ", arg, "\n");
  if (write(fd, line.data(), line.size()) !=
      static_cast<ssize_t>(line.size())) {
    _exit(kPipeFailed);
  }
}

void Check(const absl::Status& s, absl::string_view what) {
  if (!s.ok()) Die(kCallFailed, what, s);
}

struct Slot {
  RunPlan plan;
  std::unique_ptr<Run> run;
  size_t next_op = 0;
  std::vector<int64_t> counts;
};

void ApplyOp(Slot& slot, int fd) {
  const RunPlan& plan = slot.plan;
  const Op& op = plan.ops[slot.next_op++];
  Run& run = *slot.run;
  switch (op.kind) {
    case OpKind::kTrack: {
      const SeriesPlan& s = plan.series[op.series];
      for (int64_t n = 0; n < op.points; ++n) {
        const int64_t i = slot.counts[op.series]++;
        const std::optional<double> epoch =
            s.epochs ? std::optional<double>(plan.Epoch(op.series, i))
                     : std::nullopt;
        if (s.kind == SeriesKind::kScalar) {
          Check(run.Track(s.key.name,
                          PointValue(plan.seed, plan.run, op.series, i),
                          plan.Step(op.series, i), s.key.context, epoch),
                "Track");
        } else {
          Check(run.TrackText(s.key.name, PointText(plan.run, op.series, i),
                              plan.Step(op.series, i), s.key.context, epoch),
                "TrackText");
        }
      }
      break;
    }
    case OpKind::kBatch: {
      const SeriesPlan& s = plan.series[op.series];
      std::vector<int64_t> steps;
      std::vector<double> values;
      for (int64_t n = 0; n < op.points; ++n) {
        const int64_t i = slot.counts[op.series]++;
        steps.push_back(plan.Step(op.series, i));
        values.push_back(PointValue(plan.seed, plan.run, op.series, i));
      }
      Check(run.TrackBatch(s.key.name, s.key.context, steps, values),
            "TrackBatch");
      break;
    }
    case OpKind::kFlush:
      Check(run.Flush(), "Flush");
      Report(fd, 'F', plan.run, absl::StrCat(slot.next_op));
      break;
    case OpKind::kParam:
      Check(run.SetParam(op.name, op.value), "SetParam");
      break;
    case OpKind::kTag:
      Check(run.AddTag(op.name), "AddTag");
      break;
  }
}

void EndRun(Repo& repo, Slot& slot, int fd,
            std::vector<std::unique_ptr<Run>>& left_open) {
  const int64_t r = slot.plan.run;
  const std::string id = slot.run->id();
  switch (slot.plan.ending) {
    case Ending::kCommit:
    case Ending::kCommitThenDelete:
      Check(slot.run->Commit(), "Commit");
      Report(fd, 'K', r, id);
      if (slot.plan.ending == Ending::kCommitThenDelete) {
        Report(fd, 'd', r, id);
        Check(repo.DeleteRun(id), "DeleteRun");
        Report(fd, 'D', r, id);
      }
      break;
    case Ending::kFail:
      Check(slot.run->Fail("planned failure"), "Fail");
      Report(fd, 'X', r, id);
      break;
    case Ending::kClose:
      Check(slot.run->Close(), "Close");
      Report(fd, 'C', r, id);
      break;
    case Ending::kDiscard:
      Report(fd, 'd', r, id);
      Check(repo.DeleteRun(id), "DeleteRun");
      Report(fd, 'D', r, id);
      break;
    case Ending::kLeaveOpen:
      left_open.push_back(std::move(slot.run));
      Report(fd, 'L', r, id);
      break;
  }
  slot.run.reset();
}

// Interleaves two open runs, in an order drawn from (seed,
// iteration), until it is killed.
[[noreturn]] void Writer(const std::string& root, uint64_t seed, int iteration,
                         int fd) {
  RepoOptions options;
  options.create_if_missing = false;
  auto repo = Repo::Open(root, options);
  if (!repo.ok()) Die(kOpenFailed, "Open", repo.status());
  PlanRandom schedule(seed ^
                      Mix(0x5c4ed01e + static_cast<uint64_t>(iteration)));
  std::vector<Slot> slots(2);
  std::vector<std::unique_ptr<Run>> left_open;
  int64_t next_run = iteration * kRunsPerIteration;
  for (;;) {
    Slot& slot = slots[static_cast<size_t>(schedule.Uniform(0, 1))];
    if (slot.run == nullptr) {
      if (next_run == (iteration + 1) * kRunsPerIteration) {
        _exit(kRanOut);
      }
      slot.plan = MakePlan(seed, next_run++);
      slot.next_op = 0;
      slot.counts.assign(slot.plan.series.size(), 0);
      auto run = (*repo)->CreateRun(slot.plan.Options());
      if (!run.ok()) Die(kCallFailed, "CreateRun", run.status());
      slot.run = *std::move(run);
      Report(fd, 'N', slot.plan.run, slot.run->id());
    } else if (slot.next_op < slot.plan.ops.size()) {
      ApplyOp(slot, fd);
    } else {
      EndRun(**repo, slot, fd, left_open);
    }
  }
}

// ---- the parent's view of one writer ----------------------------------------

// What the reports of one iteration say about one run.
struct RunTrace {
  std::string id;
  size_t flushed_ops = 0;  // operations covered by an acknowledged Flush
  bool closed = false;
  bool committed = false;  // K or X
  bool delete_started = false;
  bool deleted = false;
};

struct Trace {
  std::map<int64_t, RunTrace> runs;
  std::map<std::string, int64_t> run_of_id;
  int reports = 0;
};

absl::Status ParseReports(const std::string& text, Trace* trace) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    char kind;
    int64_t run;
    std::string arg;
    if (!(fields >> kind >> run >> arg)) {
      return absl::InternalError(absl::StrCat("bad report '", line, "'"));
    }
    ++trace->reports;
    RunTrace& t = trace->runs[run];
    if (kind == 'F') {
      size_t ops;
      if (!absl::SimpleAtoi(arg, &ops)) {
        return absl::InternalError(absl::StrCat("bad report '", line, "'"));
      }
      t.flushed_ops = std::max(t.flushed_ops, ops);
      continue;
    }
    t.id = arg;
    trace->run_of_id[arg] = run;
    switch (kind) {
      case 'N':
      case 'L':
        break;
      case 'C':
        t.closed = true;
        break;
      case 'K':
      case 'X':
        t.committed = true;
        break;
      case 'd':
        t.delete_started = true;
        break;
      case 'D':
        t.deleted = true;
        break;
      default:
        return absl::InternalError(absl::StrCat("bad report '", line, "'"));
    }
  }
  return absl::OkStatus();
}

// Every file and directory under `root` with its size and modification time:
// two equal listings mean nothing was created, removed, written or renamed.
// trash/'s own mtime is left out: every recovery reads the file system's
// clock by creating and removing a file there.
std::map<std::string, std::pair<uintmax_t, int64_t>> Listing(
    const std::string& root) {
  namespace fs = std::filesystem;
  std::map<std::string, std::pair<uintmax_t, int64_t>> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const bool trash = e.path() == fs::path(root) / "trash";
    const int64_t mtime =
        trash ? 0
              : static_cast<int64_t>(
                    e.last_write_time().time_since_epoch().count());
    const uintmax_t size = e.is_regular_file() ? e.file_size() : 0;
    // The path below root, without fs::relative (which stats every prefix).
    out[e.path().string().substr(root.size() + 1)] = {size, mtime};
  }
  return out;
}

RunStatus StatusOf(const RunPlan& plan) {
  return plan.ending == Ending::kFail ? RunStatus::kFailed
                                      : RunStatus::kFinished;
}

class CrashHarnessTest : public ::testing::Test {
 protected:
  // A run that must stay present and committed: its plan (none for a
  // salvaged run that never recorded its number) and exact point counts.
  struct Expected {
    std::optional<RunPlan> plan;
    std::vector<int64_t> counts;
    RunStatus status = RunStatus::kFinished;
  };

  void SetUp() override {
    RepoOptions o;
    // Every writer is dead when the parent looks, so any uncommitted run is
    // abandoned at once, also one killed before its OWNER was written.
    o.staleness = absl::ZeroDuration();
    RUNLOG_ASSERT_OK_AND_ASSIGN(repo_, Repo::Open(dir_.path() + "/repo", o));
    ASSERT_NO_FATAL_FAILURE(StartZygote());
  }

  void TearDown() override {
    if (zygote_ > 0) {
      close(request_fd_);
      close(report_fd_);
      int status;
      waitpid(zygote_, &status, 0);
    }
  }

  // The writers are forked by a small process forked here, before this
  // one's heap grows: forking a process costs in proportion to its memory
  // (page tables, copy-on-write faults), which under ASan is large. On each
  // iteration number read from the request pipe the zygote forks a writer
  // and reports "P <pid>" on the report pipe, the writer's own reports
  // follow, and once the zygote has reaped the writer it reports "Z <wait
  // status>": every report of the writer precedes that line.
  void StartZygote() {
    int request[2];
    int report[2];
    ASSERT_EQ(pipe2(request, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
    std::fflush(nullptr);
    zygote_ = fork();
    ASSERT_GE(zygote_, 0);
    if (zygote_ == 0) {
      close(request[1]);
      close(report[0]);
      int iteration;
      while (read(request[0], &iteration, sizeof iteration) ==
             sizeof iteration) {
        const pid_t writer = fork();
        if (writer == 0) {
          close(request[0]);
          Writer(repo_->path(), seed_, iteration, report[1]);
        }
        Report(report[1], 'P', writer, "-");
        int status = 0;
        if (writer < 0 || waitpid(writer, &status, 0) != writer) _exit(30);
        Report(report[1], 'Z', status, "-");
      }
      _exit(0);
    }
    close(request[0]);
    close(report[1]);
    request_fd_ = request[1];
    report_fd_ = report[0];
  }

  // Has the zygote fork a writer for `iteration` and SIGKILLs it at a
  // seeded moment; returns what it reported.
  void KillWriter(int iteration, Trace* trace) {
    PlanRandom g(seed_ ^ Mix(0x6b111 + static_cast<uint64_t>(iteration)));
    const int64_t after = g.Uniform(1, kMaxReports);
    const int64_t spin = g.Uniform(0, kMaxSpin);
    ASSERT_EQ(write(request_fd_, &iteration, sizeof iteration),
              static_cast<ssize_t>(sizeof iteration));
    std::string text;     // the writer's reports
    std::string partial;  // an incomplete last line
    pid_t pid = -1;
    int64_t reports = 0;
    std::optional<int> status;
    char buf[4096];
    bool killed = false;
    while (!status) {
      if (!killed && pid > 0 && reports >= after) {
        volatile uint64_t sink = 0;
        for (int64_t i = 0; i < spin; ++i) {
          sink = sink + static_cast<uint64_t>(i);
        }
        kill(pid, SIGKILL);
        killed = true;
      }
      const ssize_t n = read(report_fd_, buf, sizeof buf);
      ASSERT_GT(n, 0) << "the zygote is gone";
      partial.append(buf, static_cast<size_t>(n));
      for (size_t eol; (eol = partial.find('\n')) != std::string::npos;) {
        const std::string line = partial.substr(0, eol + 1);
        partial.erase(0, eol + 1);
        int64_t value = 0;
        if (line[0] == 'P' || line[0] == 'Z') {
          // "P <pid> -" or "Z <status> -".
          ASSERT_TRUE(
              absl::SimpleAtoi(line.substr(2, line.find(' ', 2) - 2), &value))
              << line;
          if (line[0] == 'P') pid = static_cast<pid_t>(value);
          if (line[0] == 'Z') status = static_cast<int>(value);
          continue;
        }
        text += line;
        ++reports;
      }
    }
    ASSERT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL)
        << "the writer ended by itself with exit code "
        << (WIFEXITED(*status) ? WEXITSTATUS(*status) : -1);
    ASSERT_THAT(ParseReports(text, trace), IsOk());
    reports_ += trace->reports;
  }

  // The series summaries of a committed run's listing against its counts.
  void CheckSummary(const RunRecord& record, const Expected& e) {
    size_t nonempty = 0;
    for (size_t s = 0; e.plan && s < e.plan->series.size(); ++s) {
      if (e.counts[s] == 0) continue;
      ++nonempty;
      bool found = false;
      for (const SeriesSummary& summary : record.summary.series) {
        if (summary.key == e.plan->series[s].key) {
          found = true;
          EXPECT_EQ(summary.count, e.counts[s])
              << record.id << " " << summary.key.ToString();
        }
      }
      EXPECT_TRUE(found) << record.id << " lacks "
                         << e.plan->series[s].key.ToString();
    }
    EXPECT_EQ(record.summary.series.size(), nonempty) << record.id;
  }

  void CheckCommittedExactly(const std::string& id, const Expected& e) {
    std::vector<int64_t> observed;
    EXPECT_TRUE(CheckRun(*repo_, id, e.plan ? &*e.plan : nullptr, e.counts,
                         e.counts, &observed));
    auto verify = repo_->VerifyRun(id);
    ASSERT_THAT(verify, IsOk()) << id;
    EXPECT_EQ(verify->state, storage::RunState::kCommitted) << id;
    for (const VerifyProblem& p : verify->problems) {
      ADD_FAILURE() << id << ": " << p.file << " at " << p.offset << ": "
                    << p.status;
    }
    for (int64_t n : observed) points_checked_ += n;
  }

  // A committed run this harness has not seen before: it must be one whose
  // plan commits, complete, with its params and tags.
  void CheckNewCommitted(const RunRecord& record,
                         const std::optional<RunPlan>& plan) {
    ASSERT_TRUE(plan.has_value())
        << "committed run " << record.id << " has no run number";
    ASSERT_TRUE(plan->Commits()) << "run " << record.id << " (r" << plan->run
                                 << ") is committed but its plan never commits";
    EXPECT_EQ(record.status, StatusOf(*plan)) << record.id;
    EXPECT_EQ(record.summary.name, absl::StrCat("r", plan->run));
    EXPECT_EQ(record.summary.experiment, "crash");
    EXPECT_EQ(record.summary.params, plan->FinalParams()) << record.id;
    EXPECT_EQ(record.summary.tags, plan->FinalTags()) << record.id;
    Expected e{plan, plan->FinalCounts(), StatusOf(*plan)};
    CheckCommittedExactly(record.id, e);
    committed_[record.id] = std::move(e);
    ++new_commits_;
  }

  // An uncommitted run left by the dead writer, read live.
  void CheckLive(const RunRecord& record, const std::optional<RunPlan>& plan,
                 const RunTrace* t) {
    EXPECT_EQ(record.state, storage::RunState::kAbandoned)
        << record.id << ": " << record.detail;
    EXPECT_THAT(record.error, IsOk()) << record.id;
    std::vector<int64_t> min, max, observed;
    if (plan) {
      max = plan->FinalCounts();
      min = t == nullptr ? std::vector<int64_t>(max.size(), 0)
            : t->closed  ? max
                         : plan->CountsAfter(t->flushed_ops);
    }
    EXPECT_TRUE(CheckRun(*repo_, record.id, plan ? &*plan : nullptr, min, max,
                         &observed));
    for (int64_t n : observed) points_checked_ += n;
    live_[record.id] = Expected{plan, observed, RunStatus::kCrashed};
    ++live_checked_;
  }

  void CheckAfterKill(const Trace& trace) {
    auto runs = repo_->ListRuns();
    ASSERT_THAT(runs, IsOk());
    std::map<std::string, const RunRecord*> by_id;
    for (const RunRecord& r : *runs) by_id[r.id] = &r;

    // Nothing committed before is lost or changed.
    for (const auto& [id, e] : committed_) {
      auto it = by_id.find(id);
      if (it == by_id.end()) {
        ADD_FAILURE() << "committed run " << id << " is gone";
        continue;
      }
      EXPECT_EQ(it->second->state, storage::RunState::kCommitted) << id;
      EXPECT_EQ(it->second->status, e.status) << id;
      CheckSummary(*it->second, e);
    }
    for (const RunRecord& r : *runs) {
      EXPECT_EQ(deleted_.count(r.id), 0u)
          << "deleted run " << r.id << " is back";
    }
    // What this writer acknowledged.
    for (const auto& [run, t] : trace.runs) {
      const bool present = by_id.count(t.id) > 0;
      if (t.deleted) {
        EXPECT_FALSE(present)
            << "deleted run " << t.id << " (r" << run << ") is back";
        deleted_.insert(t.id);
      } else if (t.committed && !t.delete_started) {
        EXPECT_TRUE(present &&
                    by_id[t.id]->state == storage::RunState::kCommitted)
            << "acknowledged commit of " << t.id << " (r" << run << ") is lost";
      }
    }
    // Everything else is new: check every point.
    for (const RunRecord& record : *runs) {
      if (committed_.count(record.id) > 0) continue;
      std::optional<int64_t> number = RunNumberOf(record.summary, seed_);
      auto by_report = trace.run_of_id.find(record.id);
      if (!number && by_report != trace.run_of_id.end()) {
        number = by_report->second;
      }
      std::optional<RunPlan> plan;
      const RunTrace* t = nullptr;
      if (number) {
        plan = MakePlan(seed_, *number);
        auto it = trace.runs.find(*number);
        if (it != trace.runs.end()) t = &it->second;
      }
      if (record.state == storage::RunState::kCommitted) {
        CheckNewCommitted(record, plan);
      } else {
        CheckLive(record, plan, t);
      }
    }
  }

  // Recovery twice: the second does nothing and changes nothing; no trash,
  // no temporary file and no uncommitted run is left.
  void RecoverTwice(int iteration) {
    RecoverOptions options;
    options.salvage = iteration % kSalvageEvery == kSalvageEvery - 1;
    auto first = repo_->Recover(options);
    ASSERT_THAT(first, IsOk());
    for (const storage::RecoveryAction& a : first->actions) {
      EXPECT_TRUE(a.done) << a.path << ": " << a.reason;
      using Kind = storage::RecoveryAction::Kind;
      EXPECT_TRUE(a.kind == Kind::kPurgeTrash ||
                  a.kind == Kind::kDeleteAbandonedRun ||
                  a.kind == Kind::kSalvageAbandonedRun ||
                  a.kind == Kind::kRemoveUnfinishedCreation ||
                  a.kind == Kind::kRecheckRemoval)
          << "unexpected recovery action on " << a.path << ": " << a.reason;
      trash_purged_ += a.kind == Kind::kPurgeTrash;
    }
    EXPECT_TRUE(first->kept.empty())
        << "kept " << first->kept[0].first << ": " << first->kept[0].second;
    const auto after_first = Listing(repo_->path());
    auto second = repo_->Recover(options);
    ASSERT_THAT(second, IsOk());
    EXPECT_TRUE(second->actions.empty())
        << "second recovery: " << second->actions[0].path << ": "
        << second->actions[0].reason;
    EXPECT_TRUE(second->kept.empty());
    EXPECT_TRUE(Listing(repo_->path()) == after_first)
        << "the second recovery changed the repository";
    for (const auto& [path, size_time] : after_first) {
      EXPECT_FALSE(absl::StartsWith(path, "trash/")) << path;
      EXPECT_FALSE(absl::StrContains(path, ".tmp")) << path;
    }

    for (auto& [id, e] : live_) {
      auto record = repo_->GetRun(id);
      if (!options.salvage) {
        EXPECT_TRUE(absl::IsNotFound(record.status()))
            << "abandoned run " << id << " survived recovery";
        continue;
      }
      // Salvage commits exactly the prefix that was read live.
      ASSERT_THAT(record, IsOk()) << id;
      EXPECT_EQ(record->state, storage::RunState::kCommitted) << id;
      EXPECT_EQ(record->status, RunStatus::kCrashed) << id;
      CheckCommittedExactly(id, e);
      committed_[id] = std::move(e);
      ++salvaged_;
    }
    live_.clear();
  }

  // Keeps the repository at kMaxCommitted runs: the oldest are checked one
  // last time and deleted.
  void DeleteOldest() {
    while (committed_.size() > kMaxCommitted) {
      auto oldest = committed_.begin();  // ids sort by creation time
      CheckCommittedExactly(oldest->first, oldest->second);
      EXPECT_THAT(repo_->DeleteRun(oldest->first), IsOk());
      deleted_.insert(oldest->first);
      committed_.erase(oldest);
    }
  }

  void CheckAllCommitted() {
    for (const auto& [id, e] : committed_) CheckCommittedExactly(id, e);
  }

  const uint64_t seed_ = EnvOr("RUNLOG_CRASH_SEED", kDefaultSeed);
  const int kills_ =
      static_cast<int>(EnvOr("RUNLOG_CRASH_KILLS", kDefaultKills));
  testing::TempDir dir_;
  std::unique_ptr<Repo> repo_;
  pid_t zygote_ = -1;
  int request_fd_ = -1;
  int report_fd_ = -1;
  std::map<std::string, Expected> committed_;
  std::map<std::string, Expected> live_;
  std::set<std::string> deleted_;  // by the parent, to bound the repository
  // Tallies printed at the end.
  int64_t reports_ = 0;
  int64_t new_commits_ = 0;
  int64_t live_checked_ = 0;
  int64_t salvaged_ = 0;
  int64_t trash_purged_ = 0;
  int64_t points_checked_ = 0;
};

TEST_F(CrashHarnessTest, NothingAcknowledgedIsLostWhereverTheKillLands) {
  SCOPED_TRACE(absl::StrCat("RUNLOG_CRASH_SEED=", seed_,
                            " RUNLOG_CRASH_KILLS=", kills_));
  for (int i = 0; i < kills_; ++i) {
    SCOPED_TRACE(absl::StrCat("kill ", i));
    Trace trace;
    ASSERT_NO_FATAL_FAILURE(KillWriter(i, &trace));
    ASSERT_NO_FATAL_FAILURE(CheckAfterKill(trace));
    ASSERT_NO_FATAL_FAILURE(RecoverTwice(i));
    if ((i + 1) % kFullCheckEvery == 0) CheckAllCommitted();
    DeleteOldest();
    if (HasFailure()) return;
  }
  CheckAllCommitted();
  std::printf(
      "%d kills (seed %llu): %lld reports, %lld commits checked, %lld "
      "uncommitted runs read live, %lld salvaged, %lld interrupted deletions "
      "purged, %lld points checked\n",
      kills_, static_cast<unsigned long long>(seed_),
      static_cast<long long>(reports_), static_cast<long long>(new_commits_),
      static_cast<long long>(live_checked_), static_cast<long long>(salvaged_),
      static_cast<long long>(trash_purged_),
      static_cast<long long>(points_checked_));
  // The schedule reached every kind of state (salvage needs a few
  // iterations).
  if (kills_ < 2 * kSalvageEvery) return;
  EXPECT_GT(new_commits_, 0);
  EXPECT_GT(live_checked_, 0);
  EXPECT_GT(salvaged_, 0);
}

}  // namespace
}  // namespace runlog::crash
