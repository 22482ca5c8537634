#include "tools/serve/serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <thread>

#include "tools/serve/assets.h"
#include "tools/serve/host_check.h"
#include "tracking/repo.h"

namespace runlog::serve {

int RunServe(const ServeArgs& args, std::ostream& out, std::ostream& err) {
  RepoOptions repo_options;
  repo_options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<Repo>> repo =
      Repo::Open(args.repo, repo_options);
  if (!repo.ok()) {
    err << "segtool: " << repo.status().message() << '\n';
    return 1;
  }
  if (!IsLoopbackName(args.host)) {
    err << "segtool: warning: serving on " << args.host
        << ", not loopback: anyone who can reach this address can read "
           "every run of "
        << args.repo << '\n';
  }

  // Blocked before the server's threads exist, so they inherit the mask and
  // the signals wait for sigwait below.
  sigset_t signals, old_mask;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &old_mask);

  ServerOptions options;
  options.host = args.host;
  options.port = args.port;
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(repo->get(), options);
  if (!server.ok()) {
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    err << "segtool: " << server.status().message() << '\n';
    return 1;
  }
  out << "runlog UI for " << args.repo << ": " << (*server)->url()
      << "  (Ctrl-C to stop)\n";
  if (!HaveAssets()) {
    out << "note: this segtool was built without the web UI (no node); only "
           "the JSON API under "
        << (*server)->url() << "api/ is served\n";
  }
  out.flush();

  absl::Status served;
  const pthread_t main_thread = pthread_self();
  std::thread listener([&] {
    served = (*server)->Run();
    // Wakes sigwait when serving ended without a signal (a failed listen).
    pthread_kill(main_thread, SIGTERM);
  });
  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->Stop();
  listener.join();
  // The listener's own SIGTERM may still be pending; take it before the
  // mask is restored, or it would kill the process.
  for (int i = 0; i < 4; ++i) {
    sigset_t pending;
    sigpending(&pending);
    if (!sigismember(&pending, SIGTERM) && !sigismember(&pending, SIGINT)) {
      break;
    }
    sigwait(&signals, &sig);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (!served.ok()) {
    err << "segtool: " << served.message() << '\n';
    return 1;
  }
  out << "stopped\n";
  return 0;
}

}  // namespace runlog::serve
