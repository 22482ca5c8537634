// The web UI's HTTP server: the JSON API of tools/serve/api.h and the
// embedded front end (tools/serve/assets.h), on cpp-httplib.
//
// Security (docs/ui.md): binds 127.0.0.1 unless told otherwise; answers
// only requests whose Host header names the bound address (HostAllowed), so
// DNS rebinding cannot reach it; GET and HEAD only; a query parameter given
// twice is 400; read and write timeouts so a slow client cannot hold a
// worker; every answer carries nosniff and a same-origin content policy.
//
// Threads: the server runs a small pool of worker threads of its own while
// Run() is serving (the runlog library itself starts none). Start, port and
// url are for the thread that made the Server; Stop may be called from any
// thread, also before Run.
#ifndef RUNLOG_TOOLS_SERVE_SERVER_H_
#define RUNLOG_TOOLS_SERVE_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tracking/repo.h"

namespace runlog::serve {

inline constexpr int kDefaultPort = 43800;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = kDefaultPort;  // 0: an ephemeral port (see Server::port)
  absl::Duration timeout = absl::Seconds(5);  // per read and per write
  // An idle keep-alive connection holds a worker until it times out;
  // browsers keep 6 connections per host open, so there must be more
  // workers than that, and idle ones must be let go soon.
  absl::Duration keep_alive = absl::Seconds(1);
  int threads = 16;
};

class Server {
 public:
  // Binds the listening socket. `repo` is not owned and must outlive the
  // server. Unavailable when the address cannot be bound (naming it);
  // InvalidArgument for a port outside [0, 65535] or threads < 1.
  static absl::StatusOr<std::unique_ptr<Server>> Start(Repo* repo,
                                                       ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  // "http://127.0.0.1:43800/" (IPv6 hosts in brackets).
  std::string url() const;

  // Serves until Stop(); OK when stopped, an error if listening failed.
  absl::Status Run();
  void Stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace runlog::serve

#endif  // RUNLOG_TOOLS_SERVE_SERVER_H_
