// Kills a real program with SIGKILL right after the k-th file event it
// causes, without sleeps: the parent watches directories with inotify while
// the program runs and kills it as soon as it has read k events, so the kill
// lands wherever the program then is. Run with k = 0 (never kill) first to
// count the events an operation makes, then draw k over that whole range.
//
// Events are delivered asynchronously: the program may get a little further
// than the k-th event before the signal arrives, which only spreads the kill
// points further. The kernel merges identical consecutive unread events, so
// the count of an uninterrupted run may vary slightly between runs.
#ifndef RUNLOG_TESTS_RELIABILITY_INOTIFY_KILL_H_
#define RUNLOG_TESTS_RELIABILITY_INOTIFY_KILL_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace runlog::testing {

// Every change, and opens and reads too: the reading phases of an operation
// are kill points as well.
inline constexpr uint32_t kAllFileEvents =
    IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE |
    IN_OPEN | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE |
    IN_DELETE_SELF | IN_MOVE_SELF;

// Forks and execs `binary` with `args`, its output discarded. Returns the
// pid, or -1 if fork failed; a failed exec exits with 127.
inline pid_t StartProgram(const std::string& binary,
                          const std::vector<std::string>& args) {
  std::vector<std::string> argv_storage;
  argv_storage.push_back(binary);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

struct KillResult {
  bool setup_failed = false;  // inotify or fork failed; `error` says why
  std::string error;
  int events = 0;          // events read before the kill (or the exit)
  bool killed = false;     // false: the program ended first
  bool timed_out = false;  // still running after the deadline (killed)
  int exit_code = -1;      // when it ended by itself
};

// Watches `dirs` (those that exist) for `mask`, runs `binary args`, and
// kills it right after it has caused `k` events; with k <= 0 it runs to the
// end and every event is counted. `deadline` only guards against a hang.
inline KillResult RunAndKillAfterEvents(
    const std::string& binary, const std::vector<std::string>& args,
    const std::vector<std::string>& dirs, int k, uint32_t mask = kAllFileEvents,
    absl::Duration deadline = absl::Seconds(120)) {
  KillResult result;
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    result.setup_failed = true;
    result.error = std::string("inotify_init1: ") + std::strerror(errno);
    return result;
  }
  for (const std::string& dir : dirs) {
    // A directory that is already gone has nothing to report.
    inotify_add_watch(fd, dir.c_str(), mask);
  }
  const pid_t pid = StartProgram(binary, args);
  if (pid < 0) {
    close(fd);
    result.setup_failed = true;
    result.error = std::string("fork: ") + std::strerror(errno);
    return result;
  }
  const absl::Time give_up = absl::Now() + deadline;
  alignas(struct inotify_event) char buf[16384];
  auto drain = [&] {
    bool any = false;
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
      any = true;
      for (ssize_t at = 0; at < n;) {
        const auto* e = reinterpret_cast<const struct inotify_event*>(buf + at);
        ++result.events;
        at += static_cast<ssize_t>(sizeof(struct inotify_event) + e->len);
      }
    }
    return any;
  };
  int status = 0;
  bool ended = false;
  while (k <= 0 || result.events < k) {
    pollfd p{fd, POLLIN, 0};
    // A bounded wait: a program that ended stops producing events, and its
    // exit is noticed here. Its events are all queued by then (inotify
    // queues them inside the system calls that cause them).
    if (poll(&p, 1, 20) > 0 && drain()) continue;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      ended = true;
      if (k <= 0) drain();
      break;
    }
    if (absl::Now() > give_up) {
      result.timed_out = true;
      break;
    }
  }
  if (!ended) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  // The program may have ended by itself just before the signal.
  result.killed =
      !result.timed_out && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  close(fd);
  return result;
}

}  // namespace runlog::testing

#endif  // RUNLOG_TESTS_RELIABILITY_INOTIFY_KILL_H_
