// Many processes, no locks (issue 6): 16 writer processes record runs through
// the tracking API into one repository while, at the same time, two reader
// processes list and read every run (live ones too), one process recovers,
// one compacts committed runs and one deletes the runs marked deletable, each
// in a loop until the writers are done. Every value is a function of writer,
// run, series and step, so every point anyone reads is checked.
//
// Pass: no committed keeper is lost (present, committed, verified, every
// point right, after compaction too); readers saw no error but NotFound for
// runs deleted meanwhile; the loops saw only the benign errors allowed below;
// a final recovery leaves nothing behind.
//
// The test runs twice: in a temporary directory, and under
// $RUNLOG_STRESS_DIR (point it at a network file system) or, when that is
// unset, /dev/shm, so a second file system is always exercised.
// $RUNLOG_STRESS_SCALE (default 1) multiplies runs per writer and points per
// series for a long run; docs/reliability.md has the command.
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/commit_manifest.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/recovery.h"
#include "storage/run_reader.h"
#include "storage/segment.h"
#include "tests/testing/child_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tracking/repo.h"

namespace runlog {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::TempDir;

constexpr int kWriters = 16;
constexpr int kReaders = 2;
constexpr int kSeries = 3;
// With scale 1: 160 runs of 3 x 250 points; about 15 s per instance under
// ASan on two idle cores.
constexpr int kBaseRunsPerWriter = 10;
constexpr int kBasePoints = 250;
// A hang fails the test instead of hanging it.
constexpr absl::Duration kDeadline = absl::Minutes(10);

int Scale() {
  const char* env = std::getenv("RUNLOG_STRESS_SCALE");
  int scale = 1;
  if (env != nullptr && !absl::SimpleAtoi(env, &scale)) scale = 1;
  return std::clamp(scale, 1, 1000);
}

struct Plan {
  int runs_per_writer;
  int points;  // per series
};

// ---- the data every process agrees on -----------------------------------

enum class Role { kKeeper, kFailedKeeper, kDeletable, kAbandoned };

// Each writer has every role once in each five runs, in a different order.
Role RoleOf(int writer, int run) {
  switch ((writer + run) % 5) {
    case 1:
      return Role::kDeletable;
    case 2:
      return Role::kFailedKeeper;
    case 4:
      return Role::kAbandoned;
    default:
      return Role::kKeeper;
  }
}

SeriesKey KeyOf(int series) {
  switch (series) {
    case 0:
      return {"loss", {}};
    case 1:
      return {"acc", {{"subset", "train"}}};
    default:
      return {"acc", {{"subset", "val"}}};
  }
}

std::optional<int> SeriesIndex(const SeriesKey& key) {
  for (int s = 0; s < kSeries; ++s) {
    if (KeyOf(s) == key) return s;
  }
  return std::nullopt;
}

// Series s steps by s + 1, so steps are not just indices.
int64_t StepOf(int series, int64_t index) { return index * (series + 1); }

// Exact in a double (below 2^53, divided by a power of two) and different
// for every (writer, run, series, step).
double ValueOf(int writer, int run, int series, int64_t step) {
  const int64_t key = (int64_t{writer} * 10000 + run) * kSeries + series;
  return static_cast<double>((key << 22) + step) / 4.0;
}

// Which writer and run made a run, from its params; nullopt when the params
// are not there (a run whose first records are not written yet).
std::optional<std::pair<int, int>> OriginOf(const RunSummary& summary) {
  const Value* writer = summary.params.Find("writer");
  const Value* run = summary.params.Find("run");
  if (writer == nullptr || run == nullptr || !writer->is_int() ||
      !run->is_int()) {
    return std::nullopt;
  }
  return std::make_pair(static_cast<int>(writer->as_int()),
                        static_cast<int>(run->as_int()));
}

bool IsDeletable(const RunSummary& summary) {
  const Value* d = summary.params.Find("deletable");
  return d != nullptr && d->is_bool() && d->as_bool();
}

// OK when `cols` holds exactly the points of series `series` of (writer,
// run) whose steps lie in `range`, in order, from the first on: a prefix of
// what was written, no holes, no wrong values. `at_least` points must be
// there (what an earlier look promised); `exactly`, when set, is the count.
absl::Status CheckColumns(int writer, int run, int series,
                          const ScalarColumns& cols, StepRange range,
                          int64_t at_least, std::optional<int64_t> exactly) {
  const std::string where =
      absl::StrCat("w", writer, " r", run, " ", KeyOf(series).ToString());
  if (cols.values.size() != cols.size()) {
    return absl::InternalError(absl::StrCat(where, ": ragged columns"));
  }
  const int64_t n = static_cast<int64_t>(cols.size());
  if (n < at_least || (exactly && n != *exactly)) {
    return absl::InternalError(
        absl::StrCat(where, ": ", n, " points, expected ",
                     exactly ? *exactly : at_least, exactly ? "" : " or more"));
  }
  // The first index whose step is in range.
  int64_t index = 0;
  if (range.first > 0) index = (range.first + series) / (series + 1);
  for (int64_t i = 0; i < n; ++i, ++index) {
    const int64_t step = StepOf(series, index);
    if (cols.steps[i] != step || !range.Contains(step)) {
      return absl::InternalError(absl::StrCat(
          where, ": point ", i, " has step ", cols.steps[i], ", expected ",
          step, " (range ", range.first, "..", range.last, ")"));
    }
    if (cols.values[i] != ValueOf(writer, run, series, step)) {
      return absl::InternalError(
          absl::StrCat(where, ": step ", step, " holds ", cols.values[i]));
    }
  }
  return absl::OkStatus();
}

// ---- reporting through pipes ---------------------------------------------

// Writes whole lines to a pipe shared by many processes: one write() of at
// most PIPE_BUF bytes is atomic, so lines never interleave.
class LineSink {
 public:
  explicit LineSink(int fd) : fd_(fd) {}
  void Send(std::string line) {
    if (line.size() > 2000) line.resize(2000);
    std::replace(line.begin(), line.end(), '\n', ' ');
    line.push_back('\n');
    for (size_t done = 0; done < line.size();) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) std::_Exit(90);  // the parent is gone
      done += static_cast<size_t>(n);
    }
  }
  // "E <who> <code> <run id or -> <message>"
  void Error(absl::string_view who, absl::string_view id,
             const absl::Status& s) {
    Send(absl::StrCat("E ", who, " ", absl::StatusCodeToString(s.code()), " ",
                      id.empty() ? "-" : id, " ", s.message()));
  }
  // A wrong value or state: never allowed.
  void Mismatch(absl::string_view who, absl::string_view id,
                absl::string_view what) {
    Send(absl::StrCat("E ", who, " MISMATCH ", id, " ", what));
  }

 private:
  int fd_;
};

// The stop pipe becomes readable (EOF) when the parent closes its end.
bool StopRequested(int stop_fd) {
  struct pollfd p = {stop_fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

std::unique_ptr<Repo> OpenOrExit(const std::string& root, LineSink& sink) {
  absl::StatusOr<std::unique_ptr<Repo>> repo = Repo::Open(root);
  if (!repo.ok()) {
    sink.Error("open", "", repo.status());
    std::_Exit(3);
  }
  return *std::move(repo);
}

// Runs `pass(last)` until the writers are done, then once more with `last`
// set, so every loop also works on the final state (all runs written).
// Returns the number of passes made while writers were still running.
template <typename Pass>
int64_t LoopUntilStopped(int stop_fd, Pass pass) {
  int64_t rounds = 0;
  for (bool last = false; !last; ++rounds) {
    last = StopRequested(stop_fd);
    pass(last);
  }
  return rounds - 1;
}

// ---- the processes -------------------------------------------------------

// "K|F|D|U <id> <writer> <run>" for each run: committed keeper (finished or
// failed), committed deletable, left uncommitted. "d <id> ..." for a
// deletable run deleted by the rm loop while its commit was finishing.
int WriterMain(const std::string& root, int writer, const Plan& plan,
               LineSink& sink) {
  // Sixteen writers would otherwise take most of the CPU and the loops
  // would pass over the repository only a few times while it is written.
  ::nice(5);
  std::unique_ptr<Repo> repo = OpenOrExit(root, sink);
  for (int r = 0; r < plan.runs_per_writer; ++r) {
    const Role role = RoleOf(writer, r);
    RunOptions o;
    o.experiment = "stress";
    o.name = absl::StrCat("w", writer, "-r", r);
    Value::Map params;
    params["writer"] = writer;
    params["run"] = r;
    params["deletable"] = role == Role::kDeletable;
    params["hparams"] = Value::Map{{"lr", 0.001 * (r + 1)}};
    o.params = Value(std::move(params));
    // Small buffers and segments: many flushes for live readers to race
    // with, and segment rolls.
    o.buffer_points = 64;
    o.segment_roll_size = 16 << 10;
    absl::StatusOr<std::unique_ptr<Run>> run = repo->CreateRun(o);
    if (!run.ok()) {
      sink.Error("writer", "", run.status());
      return 1;
    }
    const std::string id = (*run)->id();
    std::vector<ScalarSeries> series;
    for (int s = 0; s < kSeries; ++s) {
      const SeriesKey key = KeyOf(s);
      absl::StatusOr<ScalarSeries> h = (*run)->Series(key.name, key.context);
      if (!h.ok()) {
        sink.Error("writer", id, h.status());
        return 1;
      }
      series.push_back(*h);
    }
    for (int i = 0; i < plan.points; ++i) {
      for (int s = 0; s < kSeries; ++s) {
        const int64_t step = StepOf(s, i);
        absl::Status st = series[s].Track(step, ValueOf(writer, r, s, step));
        if (!st.ok()) {
          sink.Error("writer", id, st);
          return 1;
        }
      }
      if (i % 50 == 49) {
        absl::Status st = (*run)->Flush();
        if (!st.ok()) {
          sink.Error("writer", id, st);
          return 1;
        }
      }
    }
    absl::Status st;
    const char* tag = "K";
    switch (role) {
      case Role::kKeeper:
        st = (*run)->Commit();
        break;
      case Role::kFailedKeeper:
        tag = "F";
        st = (*run)->Fail(absl::StrCat("writer ", writer, " failed run ", r));
        break;
      case Role::kDeletable:
        tag = "D";
        st = (*run)->Commit();
        // COMMIT is visible once renamed; the rm loop may delete the run
        // before Commit() has fsynced the directory, which then is gone.
        if (absl::IsNotFound(st)) {
          tag = "d";
          st = absl::OkStatus();
        }
        break;
      case Role::kAbandoned:
        tag = "U";
        st = (*run)->Close();
        break;
    }
    if (!st.ok()) {
      sink.Error("writer", id, st);
      return 1;
    }
    sink.Send(absl::StrCat(tag, " ", id, " ", writer, " ", r));
  }
  return 0;
}

struct ReaderCounts {
  int64_t lists = 0;
  int64_t runs_read = 0;
  int64_t reads = 0;
  int64_t points = 0;
};

// Reads every series of one listed run and checks every point.
void ReadRun(Repo& repo, const RunRecord& listed, const Plan& plan,
             LineSink& sink, ReaderCounts& counts) {
  const std::string& id = listed.id;
  if (!listed.error.ok()) {
    sink.Error("reader-list", id, listed.error);
    return;
  }
  const bool committed = listed.state == storage::RunState::kCommitted;
  const std::optional<std::pair<int, int>> origin = OriginOf(listed.summary);
  if (!origin) {
    // A run whose first records are not written yet has no params; a
    // committed one always has them.
    if (committed) sink.Mismatch("reader", id, "committed run without params");
    return;
  }
  const auto [writer, run] = *origin;
  const Role role = RoleOf(writer, run);
  if (committed) {
    const RunStatus want =
        role == Role::kFailedKeeper ? RunStatus::kFailed : RunStatus::kFinished;
    if (role == Role::kAbandoned || listed.status != want) {
      sink.Mismatch("reader", id,
                    absl::StrCat("status ", RunStatusName(listed.status)));
    }
  }
  absl::StatusOr<std::unique_ptr<RunView>> view = repo.OpenRun(id);
  if (!view.ok()) {
    sink.Error("reader-open", id, view.status());
    return;
  }
  ++counts.runs_read;
  const bool view_committed =
      (*view)->record().state == storage::RunState::kCommitted;
  if (view_committed && (*view)->series().size() != kSeries) {
    sink.Mismatch("reader", id,
                  absl::StrCat((*view)->series().size(), " series"));
  }
  for (const SeriesSummary& summary : (*view)->series()) {
    const std::optional<int> s = SeriesIndex(summary.key);
    if (!s) {
      sink.Mismatch("reader", id, "unknown series " + summary.key.ToString());
      continue;
    }
    const std::optional<int64_t> exactly =
        view_committed ? std::optional<int64_t>(plan.points) : std::nullopt;
    // Everything, then a middle slice (compacted runs read only the blocks
    // it touches).
    const int64_t last = StepOf(*s, plan.points - 1);
    for (const StepRange range :
         {StepRange{}, StepRange{last / 3, 2 * last / 3}}) {
      absl::StatusOr<ScalarColumns> cols =
          (*view)->ReadScalars(summary.key, range);
      ++counts.reads;
      if (!cols.ok()) {
        sink.Error("reader-read", id, cols.status());
        return;
      }
      counts.points += static_cast<int64_t>(cols->size());
      const bool whole = range.first == StepRange{}.first;
      // The summary was taken when the run was opened: data only grows.
      absl::Status check =
          CheckColumns(writer, run, *s, *cols, range, whole ? summary.count : 0,
                       whole ? exactly : std::nullopt);
      if (!check.ok()) sink.Mismatch("reader", id, check.message());
    }
  }
}

int ReaderMain(const std::string& root, const Plan& plan, int stop_fd,
               LineSink& sink) {
  std::unique_ptr<Repo> repo = OpenOrExit(root, sink);
  ReaderCounts counts;
  ReaderCounts during;  // while writers were running
  // Live runs, where the races are, are read in every pass; a committed run
  // in the first two passes that list it committed (usually before and
  // after its compaction) and in the last, so passes stay short and many.
  std::map<std::string, int> committed_reads;
  LoopUntilStopped(stop_fd, [&](bool last) {
    if (last) during = counts;
    absl::StatusOr<std::vector<RunRecord>> runs = repo->ListRuns();
    ++counts.lists;
    if (!runs.ok()) {
      sink.Error("reader", "", runs.status());
      return;
    }
    for (const RunRecord& r : *runs) {
      if (r.state == storage::RunState::kCommitted &&
          ++committed_reads[r.id] > 2 && !last) {
        continue;
      }
      ReadRun(*repo, r, plan, sink, counts);
    }
  });
  sink.Send(absl::StrCat("S reader ", counts.lists, " ", counts.runs_read, " ",
                         counts.reads, " ", counts.points, " ", during.lists,
                         " ", during.reads, " ", during.points));
  return 0;
}

// "A <id>" for each abandoned run it deleted; every other clean-up action is
// an error here, since no process of this test crashes.
int RecoverMain(const std::string& root, int stop_fd, LineSink& sink) {
  std::unique_ptr<Repo> repo = OpenOrExit(root, sink);
  const int64_t rounds = LoopUntilStopped(stop_fd, [&](bool) {
    absl::StatusOr<storage::RecoveryReport> report = repo->Recover();
    if (!report.ok()) {
      sink.Error("recover", "", report.status());
      return;
    }
    for (const storage::RecoveryAction& a : report->actions) {
      const std::string id = a.path.substr(a.path.rfind('/') + 1);
      switch (a.kind) {
        case storage::RecoveryAction::Kind::kDeleteAbandonedRun:
          if (a.done) sink.Send(absl::StrCat("A ", id));
          break;
        case storage::RecoveryAction::Kind::kPurgeTrash:
          // A deletion by the rm loop between its rename and its unlinks.
          break;
        default:
          sink.Mismatch(
              "recover", id,
              absl::StrCat("unexpected action on ", a.path, ": ", a.reason));
      }
    }
  });
  sink.Send(absl::StrCat("S recover ", rounds));
  return 0;
}

// "C <id>" for each run it compacted.
int CompactMain(const std::string& root, int stop_fd, LineSink& sink) {
  std::unique_ptr<Repo> repo = OpenOrExit(root, sink);
  int64_t during = 0;  // compactions while writers were running
  const int64_t rounds = LoopUntilStopped(stop_fd, [&](bool last) {
    absl::StatusOr<std::vector<storage::RunEntry>> runs =
        repo->store().ListRuns();
    if (!runs.ok()) {
      sink.Error("compact", "", runs.status());
      return;
    }
    for (const storage::RunEntry& e : *runs) {
      if (e.state != storage::RunState::kCommitted || !e.manifest) continue;
      if (std::any_of(e.manifest->segments.begin(), e.manifest->segments.end(),
                      [](const storage::SegmentInfo& s) {
                        return s.kind == storage::format::SegmentKind::kColumn;
                      })) {
        continue;
      }
      absl::StatusOr<CompactionReport> report = repo->CompactRun(e.id);
      if (!report.ok()) {
        sink.Error("compact", e.id, report.status());
      } else if (!report->already_compacted) {
        sink.Send(absl::StrCat("C ", e.id));
        during += !last;
      }
    }
  });
  sink.Send(absl::StrCat("S compact ", rounds, " ", during));
  return 0;
}

// "R <id>" for each deletable run it deleted.
int RmMain(const std::string& root, int stop_fd, LineSink& sink) {
  std::unique_ptr<Repo> repo = OpenOrExit(root, sink);
  int64_t refused = 0;
  int64_t during = 0;  // deletions while writers were running
  const int64_t rounds = LoopUntilStopped(stop_fd, [&](bool last) {
    absl::StatusOr<std::vector<RunRecord>> runs = repo->ListRuns();
    if (!runs.ok()) {
      sink.Error("rm", "", runs.status());
      return;
    }
    for (const RunRecord& r : *runs) {
      if (!IsDeletable(r.summary)) continue;
      absl::Status s = repo->DeleteRun(r.id);
      if (s.ok()) {
        sink.Send(absl::StrCat("R ", r.id));
        during += !last;
      } else if (absl::IsFailedPrecondition(s)) {
        // repo.h: a run whose writer is alive in another process is
        // refused. Deletable runs are listed while still being written.
        ++refused;
      } else {
        sink.Error("rm", r.id, s);
      }
    }
  });
  sink.Send(absl::StrCat("S rm ", rounds, " ", refused, " ", during));
  return 0;
}

// ---- the parent ----------------------------------------------------------

// What the children reported.
struct Reports {
  std::map<std::string, std::pair<int, int>> keepers;  // K and F
  std::set<std::string> failed_keepers;                // F
  std::set<std::string> deletable;                     // D and d
  std::set<std::string> uncommitted;                   // U
  std::set<std::string> abandoned_deleted;             // A
  std::set<std::string> removed;                       // R
  std::set<std::string> compacted;                     // C
  std::vector<std::vector<std::string>> errors;        // E
  std::map<std::string, std::vector<int64_t>> stats;   // S, summed
  int64_t reader_processes = 0;
};

Reports Parse(const std::string& text) {
  Reports r;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits(' ', 4));
    const std::string& kind = f[0];
    if (kind == "E") {
      r.errors.push_back(f);
    } else if (kind == "S") {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      std::vector<int64_t>& sum = r.stats[parts[1]];
      sum.resize(std::max(sum.size(), parts.size() - 2));
      for (size_t i = 2; i < parts.size(); ++i) {
        int64_t v = 0;
        if (absl::SimpleAtoi(parts[i], &v)) sum[i - 2] += v;
      }
      if (parts[1] == "reader") ++r.reader_processes;
    } else if (f.size() >= 2) {
      const std::string& id = f[1];
      if (kind == "K" || kind == "F") {
        int w = 0;
        int run = 0;
        if (f.size() >= 4 && absl::SimpleAtoi(f[2], &w) &&
            absl::SimpleAtoi(f[3], &run)) {
          r.keepers[id] = {w, run};
        }
        if (kind == "F") r.failed_keepers.insert(id);
      } else if (kind == "D" || kind == "d") {
        r.deletable.insert(id);
      } else if (kind == "U") {
        r.uncommitted.insert(id);
      } else if (kind == "A") {
        r.abandoned_deleted.insert(id);
      } else if (kind == "R") {
        r.removed.insert(id);
      } else if (kind == "C") {
        r.compacted.insert(id);
      }
    }
  }
  return r;
}

// Reads `fds` until each is at EOF; calls `on_eof(i)` when fds[i] is. False
// on `deadline`.
template <typename OnEof>
bool DrainAll(const std::vector<int>& fds, std::vector<std::string>& out,
              absl::Time deadline, OnEof on_eof) {
  std::vector<bool> open(fds.size(), true);
  out.assign(fds.size(), "");
  while (std::count(open.begin(), open.end(), true) > 0) {
    std::vector<struct pollfd> p;
    std::vector<size_t> which;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (open[i]) {
        p.push_back({fds[i], POLLIN, 0});
        which.push_back(i);
      }
    }
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) return false;
    const int ready = ::poll(
        p.data(), p.size(), static_cast<int>(std::min<int64_t>(left, 1 << 30)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    for (size_t k = 0; k < p.size(); ++k) {
      if (p[k].revents == 0) continue;
      char buf[8192];
      const ssize_t n = ::read(p[k].fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        open[which[k]] = false;
        on_eof(which[k]);
      } else {
        out[which[k]].append(buf, static_cast<size_t>(n));
      }
    }
  }
  return true;
}

// Files in a run directory that nothing references: leftovers.
std::vector<std::string> Leftovers(storage::FileSystem& fs,
                                   const std::string& dir,
                                   const storage::CommitManifest& m) {
  std::set<std::string> expected = {storage::format::kOwnerFileName,
                                    storage::format::kCommitFileName};
  for (const storage::SegmentInfo& s : m.segments) {
    expected.insert(storage::FileNameOf(s));
  }
  std::vector<std::string> extra;
  absl::StatusOr<std::vector<std::string>> names = fs.ListDir(dir);
  if (!names.ok()) return {"<" + names.status().ToString() + ">"};
  // Manifests: a compacted run holds COMMIT.<n> and, until they are older
  // than the staleness period, the generations it superseded.
  for (const std::string& n : *names) {
    if (expected.count(n) == 0 && !storage::ParseCommitFileName(n)) {
      extra.push_back(n);
    }
  }
  return extra;
}

class ManyProcessTest : public ::testing::TestWithParam<bool> {
 protected:
  // The base directory: a temp dir, or $RUNLOG_STRESS_DIR / /dev/shm.
  static std::string Base() {
    if (!GetParam()) {
      const char* tmp = std::getenv("TMPDIR");
      return tmp && *tmp ? tmp : "/tmp";
    }
    const char* env = std::getenv("RUNLOG_STRESS_DIR");
    return env && *env ? env : "/dev/shm";
  }
};

TEST_P(ManyProcessTest, WritersReadersAndMaintenanceLoseNothing) {
  const std::string base = Base();
  struct stat st;
  ASSERT_TRUE(::stat(base.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      << base << " is not a directory (RUNLOG_STRESS_DIR?)";
  TempDir tmp(base);
  const std::string root = storage::JoinPath(tmp.path(), "repo");
  ASSERT_THAT(Repo::Open(root), IsOk());
  const Plan plan{kBaseRunsPerWriter * Scale(), kBasePoints * Scale()};
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + kDeadline * Scale();

  // Writers report on one pipe, the loops on another; the loops stop when
  // the parent closes `stop`, which it does when every writer has closed
  // its end of the writers' pipe.
  int writers_pipe[2];
  int loops_pipe[2];
  int stop[2];
  ASSERT_EQ(::pipe(writers_pipe), 0);
  ASSERT_EQ(::pipe(loops_pipe), 0);
  ASSERT_EQ(::pipe(stop), 0);
  const std::vector<int> all_fds = {writers_pipe[0], writers_pipe[1],
                                    loops_pipe[0],   loops_pipe[1],
                                    stop[0],         stop[1]};
  // In a child: close every pipe end but `keep`, then run `body`.
  auto child = [&](std::vector<int> keep, auto body) {
    return runlog::testing::StartChild([all_fds, keep, body] {
      for (int fd : all_fds) {
        if (std::find(keep.begin(), keep.end(), fd) == keep.end()) {
          ::close(fd);
        }
      }
      return body();
    });
  };
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) {
    pids.push_back(
        child({writers_pipe[1]}, [&root, w, plan, fd = writers_pipe[1]] {
          LineSink sink(fd);
          return WriterMain(root, w, plan, sink);
        }));
  }
  const int loop_fd = loops_pipe[1];
  const int stop_fd = stop[0];
  for (int i = 0; i < kReaders; ++i) {
    pids.push_back(child({loop_fd, stop_fd}, [&root, plan, loop_fd, stop_fd] {
      LineSink sink(loop_fd);
      return ReaderMain(root, plan, stop_fd, sink);
    }));
  }
  for (auto loop_main : {&RecoverMain, &CompactMain, &RmMain}) {
    pids.push_back(
        child({loop_fd, stop_fd}, [&root, loop_main, loop_fd, stop_fd] {
          LineSink sink(loop_fd);
          return loop_main(root, stop_fd, sink);
        }));
  }
  for (pid_t pid : pids) ASSERT_GT(pid, 0);
  ::close(writers_pipe[1]);
  ::close(loops_pipe[1]);
  ::close(stop[0]);
  std::vector<std::string> text;
  bool stopped = false;
  auto stop_loops = [&] {
    if (!stopped) ::close(stop[1]);
    stopped = true;
  };
  const bool drained =
      DrainAll({writers_pipe[0], loops_pipe[0]}, text, deadline, [&](size_t i) {
        // Every writer is done: stop the loops.
        if (i == 0) stop_loops();
      });
  EXPECT_TRUE(drained) << "children still running after " << kDeadline;
  if (!drained) {
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
  }
  stop_loops();
  ::close(writers_pipe[0]);
  ::close(loops_pipe[0]);
  for (pid_t pid : pids) {
    const runlog::testing::ChildResult r =
        runlog::testing::WaitChild(pid, absl::Seconds(30));
    EXPECT_TRUE(r.exited && r.exit_code == 0)
        << "child " << pid << ": exit " << r.exit_code << " signal "
        << r.signal;
  }
  const absl::Duration loops_time = absl::Now() - start;
  const Reports rep = Parse(text[0] + text[1]);

  // ---- what the writers did ----
  int keepers = 0;
  int deletable = 0;
  int uncommitted = 0;
  for (int w = 0; w < kWriters; ++w) {
    for (int r = 0; r < plan.runs_per_writer; ++r) {
      const Role role = RoleOf(w, r);
      keepers += role == Role::kKeeper || role == Role::kFailedKeeper;
      deletable += role == Role::kDeletable;
      uncommitted += role == Role::kAbandoned;
    }
  }
  EXPECT_EQ(rep.keepers.size(), static_cast<size_t>(keepers));
  EXPECT_EQ(rep.deletable.size(), static_cast<size_t>(deletable));
  EXPECT_EQ(rep.uncommitted.size(), static_cast<size_t>(uncommitted));

  // ---- every error anyone saw ----
  std::set<std::string> deleted = rep.removed;
  deleted.insert(rep.abandoned_deleted.begin(), rep.abandoned_deleted.end());
  int64_t benign = 0;
  for (const std::vector<std::string>& e : rep.errors) {
    const std::string who = e.size() > 1 ? e[1] : "";
    const std::string code = e.size() > 2 ? e[2] : "";
    const std::string id = e.size() > 3 ? e[3] : "";
    // Readers and the compactor: NotFound only for a run deleted meanwhile
    // (repo.h: OpenRun, reads and CompactRun return NotFound for an absent
    // run; design.md: deletion is one rename, the run is whole or gone).
    // Writers: none (deletable runs deleted mid-commit are reported as "d").
    // Recovery: none (recovery.h: "a file or run that a racing peer removed
    // first is not an error"). rm: FailedPrecondition for a live writer is
    // counted in the child, never reported; nothing else is allowed.
    const bool allowed =
        (absl::StartsWith(who, "reader") || who == "compact") &&
        code == "NOT_FOUND" && deleted.count(id) > 0;
    if (allowed) {
      ++benign;
      continue;
    }
    ADD_FAILURE() << absl::StrJoin(e, " ")
                  << (rep.keepers.count(id) ? " [a keeper]"
                      : deleted.count(id)   ? " [a deleted run]"
                                            : "");
  }

  // Recovery deleted only runs their writers had left uncommitted.
  for (const std::string& id : rep.abandoned_deleted) {
    EXPECT_EQ(rep.uncommitted.count(id), 1u) << "recovery deleted " << id;
  }
  // The rm loop deleted only deletable runs, and (its last pass coming after
  // the writers were done) all of them.
  EXPECT_EQ(rep.removed, rep.deletable);
  // The compactor's last pass compacted every keeper.
  for (const auto& [id, origin] : rep.keepers) {
    EXPECT_EQ(rep.compacted.count(id), 1u)
        << "keeper " << id << " never compacted";
  }

  // ---- the final state ----
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Repo> repo, Repo::Open(root));
  RUNLOG_ASSERT_OK_AND_ASSIGN(storage::RecoveryReport final_report,
                              repo->Recover());
  std::set<std::string> abandoned = rep.abandoned_deleted;
  for (const storage::RecoveryAction& a : final_report.actions) {
    EXPECT_EQ(a.kind, storage::RecoveryAction::Kind::kDeleteAbandonedRun)
        << a.path << ": " << a.reason;
    abandoned.insert(a.path.substr(a.path.rfind('/') + 1));
  }
  EXPECT_EQ(abandoned, rep.uncommitted);
  EXPECT_TRUE(final_report.kept.empty());
  RUNLOG_ASSERT_OK_AND_ASSIGN(storage::RecoveryReport again, repo->Recover());
  EXPECT_TRUE(again.actions.empty()) << "recovery is not idempotent";

  storage::FileSystem& fs = *repo->store().fs();
  auto trash = fs.ListDir(storage::JoinPath(root, "trash"));
  ASSERT_THAT(trash, IsOk());
  EXPECT_THAT(*trash, ::testing::IsEmpty());
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::vector<storage::RunEntry> entries,
                              repo->store().ListRuns());
  std::set<std::string> present;
  for (const storage::RunEntry& e : entries) {
    present.insert(e.id);
    EXPECT_EQ(e.state, storage::RunState::kCommitted) << e.id;
    EXPECT_EQ(rep.keepers.count(e.id), 1u) << "unexpected run " << e.id;
    if (e.manifest) {
      EXPECT_THAT(Leftovers(fs, repo->store().RunDir(e.id), *e.manifest),
                  ::testing::IsEmpty())
          << e.id;
    }
  }
  int64_t points_checked = 0;
  for (const auto& [id, origin] : rep.keepers) {
    SCOPED_TRACE(id);
    ASSERT_EQ(present.count(id), 1u) << "committed keeper lost";
    RUNLOG_ASSERT_OK_AND_ASSIGN(VerifyReport verify, repo->VerifyRun(id));
    EXPECT_THAT(verify.problems, ::testing::IsEmpty());
    EXPECT_EQ(verify.points, int64_t{kSeries} * plan.points);
    RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RunView> view,
                                repo->OpenRun(id));
    EXPECT_EQ(view->record().status, rep.failed_keepers.count(id)
                                         ? RunStatus::kFailed
                                         : RunStatus::kFinished);
    ASSERT_EQ(view->series().size(), static_cast<size_t>(kSeries));
    for (int s = 0; s < kSeries; ++s) {
      RUNLOG_ASSERT_OK_AND_ASSIGN(ScalarColumns cols,
                                  view->ReadScalars(KeyOf(s)));
      EXPECT_THAT(CheckColumns(origin.first, origin.second, s, cols, {},
                               plan.points, plan.points),
                  IsOk());
      points_checked += static_cast<int64_t>(cols.size());
    }
  }

  // ---- figures for docs/reliability.md ----
  auto stat = [&](const std::string& who, size_t i) -> int64_t {
    auto it = rep.stats.find(who);
    return it != rep.stats.end() && i < it->second.size() ? it->second[i] : 0;
  };
  EXPECT_EQ(rep.reader_processes, kReaders);
  EXPECT_GT(stat("reader", 2), 0);
  const int64_t points_written =
      int64_t{kWriters} * plan.runs_per_writer * kSeries * plan.points;
  const std::string summary = absl::StrCat(
      "many-process stress on ", base, ", scale ", Scale(), ": ",
      kWriters + kReaders + 3, " processes (", kWriters, " writers, ", kReaders,
      " readers, recover, compact and rm loops)\n  written: ",
      kWriters * plan.runs_per_writer, " runs, ", points_written, " points; ",
      keepers, " keepers, ", deletable, " deletable, ", uncommitted,
      " left uncommitted\n  during the writes (all): ", stat("compact", 1),
      " (", rep.compacted.size(), ") compactions, ", stat("rm", 2), " (",
      rep.removed.size(), ") deletions, ", stat("reader", 4), " (",
      stat("reader", 0), ") listings, ", stat("reader", 5), " (",
      stat("reader", 2), ") series reads checking ", stat("reader", 6), " (",
      stat("reader", 3), ") points; ", rep.abandoned_deleted.size(),
      " abandoned runs deleted by the ", stat("recover", 0),
      " recovery rounds; rm refused ", stat("rm", 1), " live runs; ", benign,
      " NotFound for deleted runs\n  final check: ", rep.keepers.size(),
      " keepers, ", points_checked, " points; wall ",
      absl::FormatDuration(absl::Now() - start), " (processes ",
      absl::FormatDuration(loops_time), ")\n");
  std::fputs(summary.c_str(), stdout);
}

// The race the readers above hit, made deterministic: a committed run
// deleted after its COMMIT was read but before its segments were opened is
// gone (NotFound), not damaged (DataLoss).
TEST(DeletedWhileReadingTest, CommittedRunDeletedMidReadIsNotFound) {
  TempDir tmp;
  RUNLOG_ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<storage::RunStore> store,
      storage::RunStore::Open(storage::JoinPath(tmp.path(), "repo"),
                              {.create_if_missing = true}));
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<storage::RunWriter> w,
                              store->CreateRun());
  const std::string id = w->id();
  RUNLOG_ASSERT_OK(w->AppendChunk(storage::format::kChunkRecords, "x"));
  RUNLOG_ASSERT_OK(
      w->Commit(storage::format::RunStatus::kFinished, absl::Now(), "", ""));
  RUNLOG_ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<storage::RunReader> reader,
      storage::RunReader::Open(store->fs(), store->RunDir(id), id));
  ASSERT_TRUE(reader->committed());
  RUNLOG_ASSERT_OK(store->DeleteRun(id));
  storage::Chunk chunk;
  EXPECT_THAT(reader->Next(&chunk),
              ::runlog::testing::StatusIs(absl::StatusCode::kNotFound,
                                          ::testing::HasSubstr(id)));
}

INSTANTIATE_TEST_SUITE_P(Locations, ManyProcessTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "StressDirOrDevShm" : "TempDir";
                         });

}  // namespace
}  // namespace runlog
