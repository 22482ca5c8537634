// `segtool serve REPO [--host H] [--port P]`: opens an existing repository
// read-only, starts the web UI's server (tools/serve/server.h), prints its
// URL on `out` and serves until SIGINT or SIGTERM, then stops cleanly (no
// file is left behind; the repository is never written).
//
// Call from the main thread of a process that has started no other thread:
// SIGINT and SIGTERM are blocked in every thread for the call's duration so
// that it alone receives them (sigwait), and unblocked again at the end.
#ifndef RUNLOG_TOOLS_SERVE_SERVE_COMMAND_H_
#define RUNLOG_TOOLS_SERVE_SERVE_COMMAND_H_

#include <ostream>
#include <string>

#include "tools/serve/server.h"

namespace runlog::serve {

struct ServeArgs {
  std::string repo;
  std::string host = "127.0.0.1";
  int port = kDefaultPort;  // 0: any free port (the URL printed tells which)
};

// Exit code as segtool's commands: 0 after a clean stop, 1 when the
// repository cannot be opened or the address bound; messages on `err`.
int RunServe(const ServeArgs& args, std::ostream& out, std::ostream& err);

}  // namespace runlog::serve

#endif  // RUNLOG_TOOLS_SERVE_SERVE_COMMAND_H_
