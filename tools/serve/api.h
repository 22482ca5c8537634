// The web UI's read-only JSON API (docs/ui.md), independent of HTTP: each
// handler takes the request's decoded query parameters and returns the
// status, body and caching of the answer. tools/serve/server.h puts it on
// HTTP.
//
// The repository is read only through Repo and RunView. Every run id is
// validated (storage/run_id.h) before the repository is asked about it, and
// every parameter is bounded (tools/serve/params.h). Bad input is 400 with a
// JSON error {"error": message, "param": name}, an unknown run 404.
//
// Thread-safety: an Api may be used by many threads at once (Repo is
// thread-safe; each request opens its own RunViews).
#ifndef RUNLOG_TOOLS_SERVE_API_H_
#define RUNLOG_TOOLS_SERVE_API_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tracking/repo.h"

namespace runlog::serve {

// Query parameters, decoded; a parameter given twice is refused by the
// server before it gets here.
using Params = std::map<std::string, std::string, std::less<>>;

struct Response {
  int status = 200;
  // With a parameter, so that cpp-httplib (which compresses only the exact
  // type "application/json" and text/*, with Brotli when the browser accepts
  // it: seconds per megabyte) sends JSON as it is; on loopback compression
  // only costs time.
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  // Set only for answers that can never change (they read committed runs
  // only): a strong ETag, and the server lets clients cache them.
  std::string etag;
  // For blobs of a type that is not safe to show inline.
  bool attachment = false;
};

// 400 for InvalidArgument, 404 NotFound, 501 Unimplemented, 500 otherwise;
// the body is {"error": message}.
Response ErrorResponse(const absl::Status& status);

class Api {
 public:
  // `repo` is not owned and must outlive the Api.
  explicit Api(Repo* repo) : repo_(repo) {}

  // GET /api/runs?where=&order_by=&limit=&offset=
  Response ListRuns(const Params& params);
  // GET /api/runs/{id}
  Response GetRun(absl::string_view id);
  // GET /api/series?runs=&name=&context=&steps=&max_points=
  Response Series(const Params& params);
  // GET /api/texts?run=&name=&context=&steps=&limit=
  Response Texts(const Params& params);
  // GET /api/histograms?run=&name=&context=&steps=&max_steps=
  Response Histograms(const Params& params);
  // GET /api/blobs?run=&name=&context=&steps= (steps, types, sizes)
  Response Blobs(const Params& params);
  // GET /api/blob?run=&name=&context=&step= (the bytes)
  Response Blob(const Params& params);

 private:
  // The JSON row of a run, from the cache when the run is committed.
  std::string RowJson(const RunRecord& r);

  Repo* repo_;
  // Committed runs never change, so their rows are kept: the run list is
  // then mostly a copy of these strings, not a JSON tree built per request
  // (which was most of its time). Bounded by kMaxCachedRows.
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> rows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace runlog::serve

#endif  // RUNLOG_TOOLS_SERVE_API_H_
