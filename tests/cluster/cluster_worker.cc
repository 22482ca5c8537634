// The worker of the multi-host GlusterFS test (tests/cluster/run.sh). Every
// "host" of that test runs it inside its own UTS, mount and pid namespaces on
// its own FUSE mount of one volume:
//
//   init  REPO                      create the repository
//   write REPO --host H --oracle F  create runs, commit them, log each step
//   quiet REPO --host H --oracle F --ready FILE --resume FIFO
//                                   create a run, write, go quiet until the
//                                   runner writes to FIFO, write more, commit
//   read  REPO --stop FILE --log F  read every run in a loop until FILE exists
//   check REPO --oracle F...        every acknowledged commit is there, whole
//
// Every value is a function of (host, run index, series, step), so any point
// anyone reads is checked. The oracle is a file on LOCAL disk (not on the
// volume), appended one fsynced line at a time:
//
//   started   <run-id> <host> <run-index>
//   committed <run-id> <host> <run-index> <points-per-series> <series>
//   error     <run-id> <host> <run-index> <status>    (not committed)
//   vanished  <run-id> <host> <run-index> <status>    (removed while we wrote)
//   killed    <pid>                          (appended by the runner)
//
// A "committed" line is written only after Commit() returned OK, so it is an
// acknowledged commit: losing or damaging it is the worst failure there is.
// "vanished" means the run directory disappeared under a live writer that
// never asked for it to go: someone removed a live run.
//
// Exit codes: 0 fine, 1 a violation (check, read), 2 usage or setup error.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tracking/repo.h"
#include "tracking/run.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace runlog::cluster {
namespace {

constexpr int kMaxSeries = 4;

// ---- the data every process agrees on -----------------------------------

uint32_t HostKey(absl::string_view host) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (char c : host) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h & 0xfff;
}

SeriesKey KeyOf(int series) {
  switch (series) {
    case 0:
      return {"loss", {{"subset", "train"}}};
    case 1:
      return {"loss", {{"subset", "val"}}};
    case 2:
      return {"acc", {}};
    default:
      return {"lr", {}};
  }
}

int64_t StepOf(int series, int64_t index) { return index * (series + 1); }

// 12 bits of host, 12 of run, 3 of series, 20 of step, over 4: exact in a
// double and different for every (host, run, series, step).
double ValueOf(absl::string_view host, int64_t run, int series, int64_t step) {
  const int64_t key =
      ((int64_t{HostKey(host)} << 12 | (run & 0xfff)) << 3 | series) << 20 |
      (step & 0xfffff);
  return static_cast<double>(key) / 4.0;
}

// ---- the oracle ------------------------------------------------------------

class Oracle {
 public:
  explicit Oracle(const std::string& path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      std::fprintf(stderr, "cannot open oracle %s: %s\n", path.c_str(),
                   std::strerror(errno));
      std::exit(2);
    }
  }
  ~Oracle() { ::close(fd_); }
  // One write() per line, then fsync: a line is either there whole or not.
  void Log(std::string line) {
    for (char& c : line) {
      if (c == '\n') c = ' ';
    }
    line.push_back('\n');
    size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) std::exit(2);
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd_) != 0) std::exit(2);
  }

 private:
  int fd_ = -1;
};

std::string OneLine(const absl::Status& s) {
  std::string t = s.ToString();
  for (char& c : t) {
    if (c == '\n') c = ' ';
  }
  return t;
}

// ---- argument parsing -----------------------------------------------------

struct Args {
  std::string cmd;
  std::string repo;
  std::string host;
  std::vector<std::string> oracles;
  std::string ready, resume, stop, log;
  int64_t runs = 1000000;
  int64_t first_run = 0;
  int64_t points = 200;
  int64_t series = 3;
  int64_t flush_every = 50;
  int64_t resume_timeout_s = 240;
  bool sync_every_flush = false;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "cluster_worker: %s\n"
               "usage: cluster_worker init|write|quiet|read|check REPO "
               "[--host H] [--oracle F]... [--runs N] [--first-run K] "
               "[--points P] [--series S] [--flush-every F] [--ready FILE] "
               "[--resume FIFO] [--resume-timeout SEC] [--stop FILE] "
               "[--sync on-commit|every-flush] "
               "[--log FILE]\n",
               why.c_str());
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  if (argc < 3) Usage("missing command or repository");
  Args a;
  a.cmd = argv[1];
  a.repo = argv[2];
  for (int i = 3; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage("missing value for " + flag);
    const std::string v = argv[++i];
    auto num = [&](int64_t* out) {
      if (!absl::SimpleAtoi(v, out)) Usage("bad number for " + flag);
    };
    if (flag == "--host") {
      a.host = v;
    } else if (flag == "--oracle") {
      a.oracles.push_back(v);
    } else if (flag == "--ready") {
      a.ready = v;
    } else if (flag == "--resume") {
      a.resume = v;
    } else if (flag == "--stop") {
      a.stop = v;
    } else if (flag == "--log") {
      a.log = v;
    } else if (flag == "--runs") {
      num(&a.runs);
    } else if (flag == "--first-run") {
      num(&a.first_run);
    } else if (flag == "--points") {
      num(&a.points);
    } else if (flag == "--series") {
      num(&a.series);
    } else if (flag == "--flush-every") {
      num(&a.flush_every);
    } else if (flag == "--sync") {
      if (v != "every-flush" && v != "on-commit") Usage("bad --sync " + v);
      a.sync_every_flush = v == "every-flush";
    } else if (flag == "--resume-timeout") {
      num(&a.resume_timeout_s);
    } else {
      Usage("unknown flag " + flag);
    }
  }
  if (a.series < 1 || a.series > kMaxSeries) Usage("--series must be 1..4");
  if (a.points < 1 || a.points > 100000) Usage("--points must be 1..100000");
  if (a.flush_every < 1) a.flush_every = 1;
  return a;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::unique_ptr<Repo> OpenRepoOrDie(const std::string& path, bool create) {
  RepoOptions o;
  o.create_if_missing = create;
  auto repo = Repo::Open(path, o);
  if (!repo.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(),
                 OneLine(repo.status()).c_str());
    std::exit(2);
  }
  return std::move(*repo);
}

// ---- writing ----------------------------------------------------------------

RunOptions OptionsFor(const std::string& host, int64_t run,
                      bool sync_every_flush) {
  RunOptions o;
  o.experiment = "cluster";
  o.name = absl::StrCat(host, "-r", run);
  o.tags = {"cluster", host};
  Value::Map p;
  p["host"] = Value(host);
  p["run"] = Value(run);
  o.params = Value(std::move(p));
  o.buffer_points = 64;
  if (sync_every_flush) o.sync_policy = storage::SyncPolicy::kEveryFlush;
  return o;
}

// Tracks points [from, to) of every series, flushing every `flush_every`.
absl::Status WritePoints(Run& run, const std::string& host, int64_t index,
                         int series, int64_t from, int64_t to,
                         int64_t flush_every) {
  std::vector<ScalarSeries> handles;
  for (int s = 0; s < series; ++s) {
    const SeriesKey key = KeyOf(s);
    auto h = run.Series(key.name, key.context);
    if (!h.ok()) return h.status();
    handles.push_back(*h);
  }
  for (int64_t i = from; i < to; ++i) {
    for (int s = 0; s < series; ++s) {
      const int64_t step = StepOf(s, i);
      absl::Status st = handles[s].Track(step, ValueOf(host, index, s, step));
      if (!st.ok()) return st;
    }
    if ((i + 1) % flush_every == 0) {
      absl::Status st = run.Flush();
      if (!st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

// After an error: is the run still there? A run that is gone (NotFound)
// although this live writer never asked for that was removed under it.
void LogFailure(Repo& repo, Oracle& oracle, const std::string& id,
                const std::string& host, int64_t index,
                const absl::Status& error) {
  absl::StatusOr<RunRecord> rec = repo.GetRun(id);
  const bool gone = !rec.ok() && absl::IsNotFound(rec.status());
  oracle.Log(absl::StrCat(gone ? "vanished " : "error ", id, " ", host, " ",
                          index, " ", OneLine(error),
                          gone ? "" : " (run still present)"));
}

int Write(const Args& a) {
  if (a.host.empty() || a.oracles.size() != 1)
    Usage("write needs --host and one --oracle");
  Oracle oracle(a.oracles[0]);
  std::unique_ptr<Repo> repo = OpenRepoOrDie(a.repo, false);
  int64_t committed = 0, failed = 0;
  for (int64_t index = a.first_run; index < a.first_run + a.runs; ++index) {
    if (!a.stop.empty() && Exists(a.stop)) break;
    // A kill between CreateRun and the "started" line leaves a run no
    // oracle names; this line tells the test the writer was creating one.
    oracle.Log(absl::StrCat("creating - ", a.host, " ", index));
    auto run = repo->CreateRun(OptionsFor(a.host, index, a.sync_every_flush));
    if (!run.ok()) {
      // Nothing was acknowledged; the storage may be down. Back off a
      // little so an outage does not burn through every run index.
      oracle.Log(absl::StrCat("error - ", a.host, " ", index,
                              " CreateRun: ", OneLine(run.status())));
      ++failed;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    const std::string id = (*run)->id();
    oracle.Log(absl::StrCat("started ", id, " ", a.host, " ", index));
    absl::Status st =
        WritePoints(**run, a.host, index, static_cast<int>(a.series), 0,
                    a.points, a.flush_every);
    if (st.ok()) st = (*run)->Commit();
    if (st.ok()) {
      oracle.Log(absl::StrCat("committed ", id, " ", a.host, " ", index, " ",
                              a.points, " ", a.series));
      ++committed;
    } else {
      (*run)->Close().IgnoreError();
      LogFailure(*repo, oracle, id, a.host, index, st);
      ++failed;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  std::printf("%s: %lld committed, %lld failed\n", a.host.c_str(),
              static_cast<long long>(committed),
              static_cast<long long>(failed));
  return 0;
}

// Blocks until the runner writes a line into the FIFO (or the timeout).
bool WaitForResume(const std::string& fifo, int64_t timeout_s) {
  // O_RDWR keeps open() from blocking on a FIFO with no writer yet.
  const int fd = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  const absl::Time deadline = absl::Now() + absl::Seconds(timeout_s);
  bool ok = false;
  while (true) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) break;
    const int r =
        ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (r > 0) {
      ok = true;
      break;
    }
    if (r < 0 && errno != EINTR) break;
  }
  ::close(fd);
  return ok;
}

int Quiet(const Args& a) {
  if (a.host.empty() || a.oracles.size() != 1 || a.ready.empty() ||
      a.resume.empty()) {
    Usage("quiet needs --host, one --oracle, --ready and --resume");
  }
  Oracle oracle(a.oracles[0]);
  std::unique_ptr<Repo> repo = OpenRepoOrDie(a.repo, false);
  const int64_t index = a.first_run;
  auto run = repo->CreateRun(OptionsFor(a.host, index, a.sync_every_flush));
  if (!run.ok()) {
    oracle.Log(absl::StrCat("error - ", a.host, " ", index,
                            " CreateRun: ", OneLine(run.status())));
    return 0;
  }
  const std::string id = (*run)->id();
  oracle.Log(absl::StrCat("started ", id, " ", a.host, " ", index));
  const int series = static_cast<int>(a.series);
  absl::Status st =
      WritePoints(**run, a.host, index, series, 0, a.points / 2, a.flush_every);
  if (st.ok()) st = (*run)->Flush();
  if (!st.ok()) {
    LogFailure(*repo, oracle, id, a.host, index, st);
    return 0;
  }
  {
    std::ofstream ready(a.ready);
    ready << id << "\n";
  }
  if (!WaitForResume(a.resume, a.resume_timeout_s)) {
    oracle.Log(absl::StrCat("error ", id, " ", a.host, " ", index,
                            " quiet writer was never resumed"));
    return 0;
  }
  st = WritePoints(**run, a.host, index, series, a.points / 2, a.points,
                   a.flush_every);
  if (st.ok()) st = (*run)->Commit();
  if (st.ok()) {
    oracle.Log(absl::StrCat("committed ", id, " ", a.host, " ", index, " ",
                            a.points, " ", a.series));
  } else {
    (*run)->Close().IgnoreError();
    LogFailure(*repo, oracle, id, a.host, index, st);
  }
  return 0;
}

// ---- reading and checking ---------------------------------------------------

// Checks every point of a run as read back. `exact`: the run is committed,
// so each series must hold exactly `points` (or its summary count).
absl::Status CheckRunPoints(RunView& view, const std::string& host,
                            int64_t index, std::optional<int64_t> points,
                            std::optional<int64_t> series_count) {
  if (series_count &&
      static_cast<int64_t>(view.series().size()) != *series_count) {
    return absl::InternalError(absl::StrCat(
        "has ", view.series().size(), " series, expected ", *series_count));
  }
  for (const SeriesSummary& summary : view.series()) {
    int s = -1;
    for (int k = 0; k < kMaxSeries; ++k) {
      if (KeyOf(k) == summary.key) s = k;
    }
    if (s < 0) {
      return absl::InternalError(
          absl::StrCat("unexpected series ", summary.key.ToString()));
    }
    absl::StatusOr<ScalarColumns> cols = view.ReadScalars(summary.key);
    if (!cols.ok()) return cols.status();
    const int64_t n = static_cast<int64_t>(cols->size());
    if (points && n != *points) {
      return absl::InternalError(absl::StrCat(summary.key.ToString(), ": ", n,
                                              " points, expected ", *points));
    }
    if (view.record().state == storage::RunState::kCommitted &&
        n != summary.count) {
      return absl::InternalError(absl::StrCat(summary.key.ToString(), ": ", n,
                                              " points read, summary says ",
                                              summary.count));
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t step = StepOf(s, i);
      if (cols->steps[i] != step ||
          cols->values[i] != ValueOf(host, index, s, step)) {
        return absl::InternalError(
            absl::StrCat(summary.key.ToString(), ": point ", i, " is (",
                         cols->steps[i], ", ", cols->values[i], "), expected (",
                         step, ", ", ValueOf(host, index, s, step), ")"));
      }
    }
  }
  return absl::OkStatus();
}

std::optional<std::pair<std::string, int64_t>> OriginOf(const RunRecord& r) {
  const Value* h = r.summary.params.Find("host");
  const Value* i = r.summary.params.Find("run");
  if (h == nullptr || i == nullptr || !h->is_string() || !i->is_int()) {
    return std::nullopt;
  }
  return std::make_pair(h->as_string(), i->as_int());
}

// "No such file", "Stale file handle", NotFound: the run looked missing.
bool LooksMissing(const absl::Status& s) {
  return absl::IsNotFound(s) ||
         absl::StrContains(s.message(), "No such file") ||
         absl::StrContains(s.message(), "Stale file handle");
}

// A reader loop: every run it lists is opened and read. A committed run must
// read back whole and right, or fail with a retryable error; it must never
// look missing or damaged. Uncommitted runs must read back a correct prefix
// (they may vanish: recovery removes dead writers' runs).
int Read(const Args& a) {
  if (a.stop.empty() || a.log.empty()) Usage("read needs --stop and --log");
  std::unique_ptr<Repo> repo = OpenRepoOrDie(a.repo, false);
  std::ofstream log(a.log, std::ios::app);
  int64_t rounds = 0, whole = 0, retryable = 0, violations = 0;
  std::set<std::string> seen_committed;
  auto violation = [&](const std::string& what) {
    ++violations;
    log << "VIOLATION " << what << std::endl;
  };
  while (!Exists(a.stop)) {
    ++rounds;
    absl::StatusOr<std::vector<RunRecord>> runs = repo->ListRuns();
    if (!runs.ok()) {
      ++retryable;
      log << "retryable list: " << OneLine(runs.status()) << std::endl;
      // Not timing: only keeps an outage from spinning the loop.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    std::set<std::string> listed;
    for (const RunRecord& r : *runs) {
      if (Exists(a.stop)) break;
      listed.insert(r.id);
      const bool committed = r.state == storage::RunState::kCommitted;
      if (committed && !r.error.ok()) {
        if (LooksMissing(r.error) || absl::IsDataLoss(r.error)) {
          violation(absl::StrCat("list: committed run ", r.id,
                                 " unreadable: ", OneLine(r.error)));
        } else {
          ++retryable;
          log << "retryable list " << r.id << ": " << OneLine(r.error)
              << std::endl;
        }
        continue;
      }
      std::optional<std::pair<std::string, int64_t>> origin = OriginOf(r);
      if (!origin) continue;  // params not written yet
      if (committed) seen_committed.insert(r.id);
      absl::StatusOr<std::unique_ptr<RunView>> view = repo->OpenRun(r.id);
      absl::Status st =
          view.ok() ? CheckRunPoints(**view, origin->first, origin->second,
                                     std::nullopt, std::nullopt)
                    : view.status();
      if (st.ok()) {
        if (committed) ++whole;
        continue;
      }
      const std::string what = absl::StrCat(
          "run ", r.id, " (host ", origin->first, " run ", origin->second,
          committed ? ", committed" : ", live", "): ", OneLine(st));
      if (absl::IsInternal(st) && !LooksMissing(st) &&
          absl::StrContains(st.message(), "expected")) {
        violation(absl::StrCat("wrong data in ", what));
      } else if (committed && (LooksMissing(st) || absl::IsDataLoss(st))) {
        violation(
            absl::StrCat("committed run read as missing or damaged: ", what));
      } else {
        ++retryable;
        log << "retryable " << what << std::endl;
      }
    }
    if (Exists(a.stop)) break;
    // A committed run seen before must still be listed (nobody in this test
    // deletes committed runs).
    for (const std::string& id : seen_committed) {
      if (listed.count(id) == 0) {
        violation(absl::StrCat("committed run ", id,
                               " was listed before and is missing now"));
      }
    }
    seen_committed.clear();
    for (const RunRecord& r : *runs) {
      if (r.state == storage::RunState::kCommitted) seen_committed.insert(r.id);
    }
  }
  log << "reader: " << rounds << " rounds, " << whole
      << " whole committed reads, " << retryable << " retryable errors, "
      << violations << " violations" << std::endl;
  std::printf(
      "reader: %lld rounds, %lld whole committed reads, %lld "
      "retryable errors, %lld violations\n",
      static_cast<long long>(rounds), static_cast<long long>(whole),
      static_cast<long long>(retryable), static_cast<long long>(violations));
  return violations == 0 ? 0 : 1;
}

struct Committed {
  std::string host;
  int64_t index = 0, points = 0, series = 0;
  std::string oracle;
};

int Check(const Args& a) {
  if (a.oracles.empty()) Usage("check needs --oracle");
  std::unique_ptr<Repo> repo = OpenRepoOrDie(a.repo, false);
  std::map<std::string, Committed> committed;
  std::vector<std::string> violations;
  int64_t started = 0, errors = 0;
  for (const std::string& path : a.oracles) {
    std::ifstream in(path);
    if (!in) {
      violations.push_back(absl::StrCat("cannot read oracle ", path));
      continue;
    }
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> f = absl::StrSplit(line, ' ');
      if (f.empty()) continue;
      if (f[0] == "started") ++started;
      if (f[0] == "error") ++errors;
      if (f[0] == "committed" && f.size() >= 6) {
        Committed c;
        c.host = f[2];
        c.oracle = path;
        if (!absl::SimpleAtoi(f[3], &c.index) ||
            !absl::SimpleAtoi(f[4], &c.points) ||
            !absl::SimpleAtoi(f[5], &c.series)) {
          violations.push_back(absl::StrCat(path, ": bad line: ", line));
          continue;
        }
        committed[f[1]] = c;
      }
      if (f[0] == "vanished" && f.size() >= 4) {
        violations.push_back(absl::StrCat(
            "LIVE RUN REMOVED: run ", f[1], " of host ", f[2], " (run ", f[3],
            ") disappeared while its writer was alive and writing: ",
            line.substr(std::min(
                line.size(),
                f[0].size() + f[1].size() + f[2].size() + f[3].size() + 4))));
      }
    }
  }
  int64_t ok = 0, points = 0;
  for (const auto& [id, c] : committed) {
    const std::string who =
        absl::StrCat("run ", id, " (host ", c.host, ", run ", c.index, ")");
    absl::StatusOr<RunRecord> rec = repo->GetRun(id);
    if (!rec.ok()) {
      violations.push_back(
          absl::StrCat("ACKNOWLEDGED COMMIT LOST: ", who,
                       " was committed (Commit() returned OK) and is now: ",
                       OneLine(rec.status())));
      continue;
    }
    if (rec->state != storage::RunState::kCommitted || !rec->error.ok()) {
      violations.push_back(absl::StrCat(
          "ACKNOWLEDGED COMMIT DAMAGED: ", who, " is in state ",
          storage::RunStateName(rec->state), ": ", OneLine(rec->error)));
      continue;
    }
    absl::StatusOr<VerifyReport> v = repo->VerifyRun(id);
    if (!v.ok() || !v->problems.empty()) {
      violations.push_back(absl::StrCat(
          "ACKNOWLEDGED COMMIT DAMAGED: ", who, " fails VerifyRun: ",
          v.ok() ? OneLine(v->problems[0].status) : OneLine(v.status())));
      continue;
    }
    absl::StatusOr<std::unique_ptr<RunView>> view = repo->OpenRun(id);
    absl::Status st =
        view.ok() ? CheckRunPoints(**view, c.host, c.index, c.points, c.series)
                  : view.status();
    if (!st.ok()) {
      violations.push_back(absl::StrCat("ACKNOWLEDGED COMMIT DAMAGED: ", who,
                                        ": ", OneLine(st)));
      continue;
    }
    ++ok;
    points += c.points * c.series;
  }
  for (const std::string& v : violations) std::printf("FAIL: %s\n", v.c_str());
  std::printf(
      "check: %zu oracles, %lld runs started, %zu acknowledged commits, "
      "%lld whole and right (%lld points), %lld writer errors, "
      "%zu violations\n",
      a.oracles.size(), static_cast<long long>(started), committed.size(),
      static_cast<long long>(ok), static_cast<long long>(points),
      static_cast<long long>(errors), violations.size());
  return violations.empty() ? 0 : 1;
}

int Init(const Args& a) {
  OpenRepoOrDie(a.repo, true);
  return 0;
}

}  // namespace
}  // namespace runlog::cluster

int main(int argc, char** argv) {
  using namespace runlog::cluster;
  const Args a = Parse(argc, argv);
  if (a.cmd == "init") return Init(a);
  if (a.cmd == "write") return Write(a);
  if (a.cmd == "quiet") return Quiet(a);
  if (a.cmd == "read") return Read(a);
  if (a.cmd == "check") return Check(a);
  Usage("unknown command " + a.cmd);
}
