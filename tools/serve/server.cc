#include "tools/serve/server.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "httplib.h"
#include "storage/checksum.h"
#include "tools/serve/api.h"
#include "tools/serve/assets.h"
#include "tools/serve/host_check.h"

namespace runlog::serve {
namespace {

// Same-origin everything; uPlot sets element styles from script, which
// needs 'unsafe-inline' for style attributes (never for scripts).
constexpr const char* kContentPolicy =
    "default-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'";

constexpr size_t kMaxBodyBytes = 4096;  // GET only: no body is read

void SetJsonError(httplib::Response& res, int status, absl::string_view msg) {
  Response r = ErrorResponse(absl::InvalidArgumentError(msg));
  res.status = status;
  res.set_content(r.body, r.content_type.c_str());
}

// Decoded query parameters; a name given twice is refused, since which of
// the two a handler would use is not the client's to guess.
bool CollectParams(const httplib::Request& req, Params* out,
                   std::string* duplicate) {
  for (const auto& [k, v] : req.params) {
    if (!out->emplace(k, v).second) {
      *duplicate = k;
      return false;
    }
  }
  return true;
}

bool ETagMatches(const httplib::Request& req, const std::string& etag) {
  if (!req.has_header("If-None-Match")) return false;
  const std::string given = req.get_header_value("If-None-Match");
  return given == "*" || absl::StrContains(given, etag);
}

void Send(const httplib::Request& req, httplib::Response& res,
          const Response& r) {
  if (!r.etag.empty()) {
    res.set_header("ETag", r.etag);
    // Cacheable, but revalidated: a committed run can still be deleted.
    res.set_header("Cache-Control", "no-cache");
    if (r.status == 200 && ETagMatches(req, r.etag)) {
      res.status = 304;
      return;
    }
  } else {
    res.set_header("Cache-Control", "no-store");
  }
  if (r.attachment) res.set_header("Content-Disposition", "attachment");
  res.status = r.status;
  res.set_content(r.body, r.content_type.c_str());
}

}  // namespace

struct Server::Impl {
  Impl(Repo* repo, ServerOptions options)
      : api(repo), options(std::move(options)) {}
  Api api;
  ServerOptions options;
  httplib::Server http;
  int port = 0;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> run_entered{false};
  std::atomic<bool> run_returned{false};

  void Route();
  void ApiRoute(const std::string& pattern,
                Response (Api::*handler)(const Params&));
};

void Server::Impl::ApiRoute(const std::string& pattern,
                            Response (Api::*handler)(const Params&)) {
  http.Get(pattern, [this, handler](const httplib::Request& req,
                                    httplib::Response& res) {
    Params params;
    std::string duplicate;
    if (!CollectParams(req, &params, &duplicate)) {
      SetJsonError(res, 400,
                   absl::StrCat(duplicate.substr(0, 64), ": given twice"));
      return;
    }
    Send(req, res, (api.*handler)(params));
  });
}

void Server::Impl::Route() {
  http.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) {
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_header("Content-Security-Policy", kContentPolicy);
        res.set_header("Referrer-Policy", "no-referrer");
        res.set_header("Cross-Origin-Resource-Policy", "same-origin");
        if (!HostAllowed(req.get_header_value("Host"), options.host, port)) {
          SetJsonError(res, 403,
                       "the Host header does not name this server (requests "
                       "through another name are refused: DNS rebinding)");
          return httplib::Server::HandlerResponse::Handled;
        }
        if (req.method != "GET" && req.method != "HEAD") {
          SetJsonError(res, 405, "the API is read-only: GET and HEAD only");
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });

  ApiRoute("/api/runs", &Api::ListRuns);
  ApiRoute("/api/series", &Api::Series);
  ApiRoute("/api/texts", &Api::Texts);
  ApiRoute("/api/histograms", &Api::Histograms);
  ApiRoute("/api/blobs", &Api::Blobs);
  ApiRoute("/api/blob", &Api::Blob);
  http.Get(R"(/api/runs/(.*))",
           [this](const httplib::Request& req, httplib::Response& res) {
             Send(req, res, api.GetRun(req.matches[1].str()));
           });
  http.Get(R"(/api/.*)", [](const httplib::Request&, httplib::Response& res) {
    SetJsonError(res, 404, "no such API endpoint");
  });
  http.Get(R"(/.*)", [](const httplib::Request& req, httplib::Response& res) {
    if (!HaveAssets()) {
      res.status = 503;
      res.set_content(
          "The runlog web UI was not built into this segtool (node and the "
          "web/ packages were missing when it was built); the JSON API "
          "under /api/ is served.\n",
          "text/plain; charset=utf-8");
      return;
    }
    const std::string path = req.path == "/" ? "/index.html" : req.path;
    const Asset* asset = FindAsset(path);
    if (asset == nullptr) {
      res.status = 404;
      res.set_content("not found\n", "text/plain; charset=utf-8");
      return;
    }
    Response r;
    r.content_type = std::string(asset->content_type);
    r.body = std::string(asset->data);
    r.etag = absl::StrCat(
        "\"", absl::Hex(storage::Checksum64(asset->data), absl::kZeroPad16),
        "\"");
    Send(req, res, r);
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SetJsonError(res, 500, "internal error");
      });
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Stop(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(Repo* repo,
                                                      ServerOptions options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--port ", options.port, ": not in [0, 65535]"));
  }
  if (options.threads < 1) {
    return absl::InvalidArgumentError("threads: at least 1");
  }
  auto impl = std::make_unique<Impl>(repo, options);
  httplib::Server& http = impl->http;
  const int threads = options.threads;
  http.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  const auto timeout =
      std::chrono::microseconds(absl::ToInt64Microseconds(options.timeout));
  http.set_read_timeout(timeout);
  http.set_write_timeout(timeout);
  http.set_keep_alive_timeout(
      std::max<time_t>(1, absl::ToInt64Seconds(options.keep_alive)));
  http.set_payload_max_length(kMaxBodyBytes);
  // Headers and body go out in separate writes; without this, Nagle holds
  // the second until the client's delayed ACK (~40 ms a request).
  http.set_tcp_nodelay(true);
  impl->Route();
  const std::string host =
      absl::StrContains(options.host, ':') &&
              !absl::StartsWith(options.host, "[")
          ? options.host
          : std::string(
                absl::StripPrefix(absl::StripSuffix(options.host, "]"), "["));
  if (options.port == 0) {
    impl->port = http.bind_to_any_port(host);
    if (impl->port < 0) impl->port = 0;
  } else if (http.bind_to_port(host, options.port)) {
    impl->port = options.port;
  }
  if (impl->port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.port,
                     " (address in use, or not an address of this machine)"));
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port; }

std::string Server::url() const {
  const std::string& h = impl_->options.host;
  const bool v6 = absl::StrContains(h, ':') && !absl::StartsWith(h, "[");
  return absl::StrCat("http://", v6 ? "[" : "", h, v6 ? "]" : "", ":",
                      impl_->port, "/");
}

absl::Status Server::Run() {
  Impl& impl = *impl_;
  impl.run_entered.store(true);
  bool listened = false;
  if (impl.stop_requested.load()) {
    // Stop came first; listening and stopping at once closes the bound
    // socket, which only the listen loop can do.
    std::thread stopper([&impl] {
      while (!impl.run_returned.load() && !impl.http.is_running()) {
        std::this_thread::yield();
      }
      impl.http.stop();
    });
    impl.http.listen_after_bind();
    impl.run_returned.store(true);
    stopper.join();
    return absl::OkStatus();
  }
  listened = impl.http.listen_after_bind();
  impl.run_returned.store(true);
  if (!listened && !impl.stop_requested.load()) {
    return absl::UnavailableError(
        absl::StrCat("serving on ", url(), " failed"));
  }
  return absl::OkStatus();
}

void Server::Stop() {
  Impl& impl = *impl_;
  impl.stop_requested.store(true);
  // Run may have been entered without listening yet; a stop() then would be
  // lost, so wait (a few instructions) until its loop runs.
  while (impl.run_entered.load() && !impl.run_returned.load() &&
         !impl.http.is_running()) {
    std::this_thread::yield();
  }
  impl.http.stop();
}

}  // namespace runlog::serve
