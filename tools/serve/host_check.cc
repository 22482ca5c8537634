#include "tools/serve/host_check.h"

#include <arpa/inet.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace runlog::serve {
namespace {

bool IsIpv4(absl::string_view s) {
  in_addr a;
  return inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}

bool IsIpv6(absl::string_view s) {
  in6_addr a;
  return inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

absl::string_view Unbracket(absl::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

}  // namespace

bool IsLoopbackName(absl::string_view host) {
  host = Unbracket(host);
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  if (IsIpv4(host)) return absl::StartsWith(host, "127.");
  in6_addr a;
  if (inet_pton(AF_INET6, std::string(host).c_str(), &a) != 1) return false;
  static const in6_addr kLoopback = IN6ADDR_LOOPBACK_INIT;
  return IN6_ARE_ADDR_EQUAL(&a, &kLoopback);
}

bool HostAllowed(absl::string_view header, absl::string_view bound_host,
                 int port) {
  if (header.empty() || header.size() > 300) return false;
  absl::string_view name = header;
  int given_port = 80;
  // "[v6]:port", "[v6]", "name:port" or "name".
  const size_t close = header.rfind(']');
  const size_t colon = header.rfind(':');
  if (colon != absl::string_view::npos &&
      (close == absl::string_view::npos || colon > close)) {
    name = header.substr(0, colon);
    if (!absl::SimpleAtoi(header.substr(colon + 1), &given_port)) return false;
  }
  if (given_port != port) return false;
  if (name.empty()) return false;
  const absl::string_view bare = Unbracket(name);
  // A bracket is only allowed around an IPv6 literal.
  if (bare.size() != name.size() && !IsIpv6(bare)) return false;
  if (name.size() == bare.size() && IsIpv6(bare)) return false;

  const absl::string_view bound = Unbracket(bound_host);
  if (bound == "0.0.0.0" || bound == "::") {
    return IsIpv4(bare) || IsIpv6(bare) ||
           absl::EqualsIgnoreCase(bare, "localhost");
  }
  if (IsLoopbackName(bound)) {
    if (absl::EqualsIgnoreCase(bare, "localhost") || bare == "127.0.0.1" ||
        bare == "::1") {
      return true;
    }
  }
  return absl::EqualsIgnoreCase(bare, bound);
}

}  // namespace runlog::serve
