// The Host header check that keeps DNS rebinding out: a page on another
// site whose name an attacker re-points at 127.0.0.1 sends its own name as
// Host, which this check refuses. Pure functions; thread-safe.
#ifndef RUNLOG_TOOLS_SERVE_HOST_CHECK_H_
#define RUNLOG_TOOLS_SERVE_HOST_CHECK_H_

#include "absl/strings/string_view.h"

namespace runlog::serve {

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackName(absl::string_view host);

// Whether a request's Host header (`name` or `name:port`; IPv6 names in
// brackets) names the server bound to `bound_host`:`port`:
//   - the port must be `port` (no port means 80);
//   - bound to a loopback name: localhost, 127.0.0.1, [::1] or the bound name;
//   - bound to a wildcard (0.0.0.0, ::): any IP literal or localhost, never a
//     DNS name;
//   - otherwise the bound name itself (ASCII case ignored).
bool HostAllowed(absl::string_view host_header, absl::string_view bound_host,
                 int port);

}  // namespace runlog::serve

#endif  // RUNLOG_TOOLS_SERVE_HOST_CHECK_H_
