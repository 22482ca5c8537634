// Real child processes for crash and lifecycle tests: run a function in a
// forked child, wait for it with a deadline (a hang fails the test instead of
// hanging it), or kill it with SIGKILL.
#ifndef RUNLOG_TESTS_TESTING_CHILD_PROCESS_H_
#define RUNLOG_TESTS_TESTING_CHILD_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <string>

#include "absl/time/time.h"

namespace runlog::testing {

struct ChildResult {
  bool timed_out = false;  // killed after the deadline
  bool exited = false;     // ended by exit()/return, with `exit_code`
  int exit_code = -1;
  int signal = 0;  // the signal that ended it, if any
};

// Forks; the child runs `body` and then exit()s with its return value (a
// normal exit, running atexit handlers and static destructors). The parent
// waits at most `deadline`, then SIGKILLs the child and reports timed_out.
ChildResult RunInChild(const std::function<int()>& body,
                       absl::Duration deadline);

// Forks a child running `body` (exit code its return value); returns its pid.
pid_t StartChild(const std::function<int()>& body);

// Waits for `pid` at most `deadline` (SIGKILL after it).
ChildResult WaitChild(pid_t pid, absl::Duration deadline);

// Reads one '\n'-terminated line from `fd` (without the newline); empty at
// EOF.
std::string ReadLine(int fd);

}  // namespace runlog::testing

#endif  // RUNLOG_TESTS_TESTING_CHILD_PROCESS_H_
