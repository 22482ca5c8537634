#include "tools/serve/api.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/checksum.h"
#include "storage/run_id.h"
#include "tools/serve/envelope.h"
#include "tools/serve/json_out.h"
#include "tools/serve/params.h"
#include "tracking/downsample.h"

namespace runlog::serve {
namespace {

// Part of every ETag, so answers cached from an older server whose JSON
// had another shape are not reused.
constexpr absl::string_view kApiVersion = "runlog-ui-1";

constexpr size_t kDefaultTextLimit = 1'000;
constexpr size_t kMaxTextLimit = 10'000;
constexpr size_t kDefaultHistogramSteps = 200;
constexpr size_t kMaxHistogramSteps = 2'000;
// About 2 KB each, so at most some 40 MB.
constexpr size_t kMaxCachedRows = 20'000;

Response Json(std::string body, int status = 200) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string ETagFor(absl::string_view what) {
  return absl::StrCat(
      "\"",
      absl::Hex(storage::Checksum64(absl::StrCat(kApiVersion, "\n", what)),
                absl::kZeroPad16),
      "\"");
}

absl::string_view Get(const Params& params, absl::string_view name) {
  auto it = params.find(name);
  return it == params.end() ? absl::string_view()
                            : absl::string_view(it->second);
}

bool Has(const Params& params, absl::string_view name) {
  return params.find(name) != params.end();
}

// The run a per-run endpoint reads: `run` validated, then opened.
absl::StatusOr<std::unique_ptr<RunView>> OpenValidRun(Repo& repo,
                                                      absl::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("run: no run id given");
  if (absl::Status s = storage::ValidateRunId(id); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("run: ", s.message()));
  }
  return repo.OpenRun(id);
}

absl::StatusOr<SeriesKey> KeyFrom(const Params& params) {
  absl::StatusOr<std::string> name = ParseSeriesName(Get(params, "name"));
  if (!name.ok()) return name.status();
  absl::StatusOr<Context> context = ParseContext(Get(params, "context"));
  if (!context.ok()) return context.status();
  return SeriesKey{*std::move(name), *std::move(context)};
}

const SeriesSummary* FindSeries(const RunView& view, const SeriesKey& key) {
  for (const SeriesSummary& s : view.series()) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

absl::Status NoSeries(const RunView& view, const SeriesKey& key) {
  return absl::NotFoundError(
      absl::StrCat("run ", view.id(), " has no series ", key.ToString()));
}

absl::Status WrongKind(const RunView& view, const SeriesSummary& s,
                       SeriesKind want) {
  return absl::InvalidArgumentError(absl::StrCat(
      "series ", s.key.ToString(), " of run ", view.id(), " holds ",
      SeriesKindName(s.kind), " points, not ", SeriesKindName(want)));
}

bool Committed(const RunView& view) {
  return view.record().state == storage::RunState::kCommitted;
}

// One series of one run as the per-run endpoints address it: `run`, `name`,
// `context` and (with `with_steps`) `steps`, each validated; the series must
// exist and hold `kind` points.
struct SeriesAt {
  std::unique_ptr<RunView> view;
  SeriesKey key;
  StepRange range;

  // The ETag of an answer that depends on this series and `extra`, when the
  // run is committed; empty otherwise.
  std::string ETag(absl::string_view endpoint, absl::string_view extra) const {
    if (!Committed(*view)) return "";
    return ETagFor(absl::StrCat(endpoint, "\n", view->id(), "\n",
                                key.ToString(), "\n", range.first, ":",
                                range.last, "\n", extra));
  }
};

absl::StatusOr<SeriesAt> OpenSeries(Repo& repo, const Params& params,
                                    SeriesKind kind, bool with_steps) {
  SeriesAt at;
  absl::StatusOr<std::unique_ptr<RunView>> view =
      OpenValidRun(repo, Get(params, "run"));
  if (!view.ok()) return view.status();
  at.view = *std::move(view);
  absl::StatusOr<SeriesKey> key = KeyFrom(params);
  if (!key.ok()) return key.status();
  at.key = *std::move(key);
  if (with_steps) {
    absl::StatusOr<StepRange> range = ParseStepRange(Get(params, "steps"));
    if (!range.ok()) return range.status();
    at.range = *range;
  }
  const SeriesSummary* s = FindSeries(*at.view, at.key);
  if (s == nullptr) return NoSeries(*at.view, at.key);
  if (s->kind != kind) return WrongKind(*at.view, *s, kind);
  return at;
}

// How many points of `s` lie in `range`, when the summary tells: the whole
// series is in range, or its steps are dense (every step from first to last,
// as "steps default to last + 1" makes them).
std::optional<int64_t> PointsInRange(const SeriesSummary& s, StepRange range) {
  if (s.count == 0) return 0;
  if (range.first <= s.first_step && range.last >= s.last_step) return s.count;
  if (s.last_step - s.first_step + 1 == s.count) {
    const int64_t lo = std::max(range.first, s.first_step);
    const int64_t hi = std::min(range.last, s.last_step);
    return hi < lo ? 0 : hi - lo + 1;
  }
  return std::nullopt;
}

// One run's series for /api/series.
absl::StatusOr<SeriesAnswer> ReadSeries(RunView& view, const SeriesKey& key,
                                        StepRange range, size_t max_points) {
  SeriesAnswer out;
  const SeriesSummary* s = FindSeries(view, key);
  if (s == nullptr) {
    out.missing = true;
    return out;
  }
  if (s->kind != SeriesKind::kScalar) {
    return WrongKind(view, *s, SeriesKind::kScalar);
  }
  out.count = s->count;
  const std::optional<int64_t> in_range = PointsInRange(*s, range);
  const size_t budget = 2 * max_points + 2;  // max_points buckets
  if (in_range && *in_range <= static_cast<int64_t>(max_points)) {
    absl::StatusOr<ScalarColumns> cols = view.ReadScalars(key, range);
    if (!cols.ok()) return cols.status();
    // A live run may have grown since it was opened.
    if (cols->size() <= max_points) {
      out.exact = true;
      out.points = *std::move(cols);
      return out;
    }
    absl::StatusOr<ScalarColumns> down = Downsample(*std::move(cols), budget);
    if (!down.ok()) return down.status();
    out.envelope = MakeEnvelope(*down);
    return out;
  }
  absl::StatusOr<ScalarColumns> down =
      view.ReadScalarsDownsampled(key, budget, range);
  if (!down.ok()) return down.status();
  out.envelope = MakeEnvelope(*down);
  return out;
}

// The steps of `count` items to show when at most `limit` fit: evenly
// spread indices, always the first and the last.
std::vector<size_t> Spread(size_t count, size_t limit) {
  std::vector<size_t> out;
  if (count <= limit) {
    for (size_t i = 0; i < count; ++i) out.push_back(i);
    return out;
  }
  for (size_t k = 0; k < limit; ++k) {
    out.push_back(limit == 1 ? count - 1 : k * (count - 1) / (limit - 1));
  }
  return out;
}

// The content types a browser may be given inline: media that cannot run
// script in the UI's origin (SVG and HTML can, so they are downloads).
bool SafeInline(absl::string_view type) {
  static constexpr absl::string_view kSafe[] = {
      "image/png", "image/jpeg", "image/gif",  "image/webp",      "image/bmp",
      "audio/wav", "audio/mpeg", "audio/ogg",  "audio/webm",      "audio/flac",
      "video/mp4", "video/webm", "text/plain", "application/json"};
  return std::find(std::begin(kSafe), std::end(kSafe), type) != std::end(kSafe);
}

}  // namespace

Response ErrorResponse(const absl::Status& status) {
  int code = 500;
  if (absl::IsInvalidArgument(status)) code = 400;
  if (absl::IsNotFound(status)) code = 404;
  if (absl::IsUnimplemented(status)) code = 501;
  return Json(ErrorJson(status.message()), code);
}

Response Api::ListRuns(const Params& params) {
  RunFilter filter;
  absl::StatusOr<std::string> where = ParseWhere(Get(params, "where"));
  if (!where.ok()) return ErrorResponse(where.status());
  filter.where = *std::move(where);
  absl::StatusOr<std::vector<std::string>> order =
      ParseOrderBy(Get(params, "order_by"));
  if (!order.ok()) return ErrorResponse(order.status());
  filter.order_by = *std::move(order);
  if (Has(params, "limit")) {
    absl::StatusOr<int64_t> limit =
        ParseBoundedInt("limit", Get(params, "limit"), 0, kMaxListLimit);
    if (!limit.ok()) return ErrorResponse(limit.status());
    filter.limit = static_cast<size_t>(*limit);
  }
  if (Has(params, "offset")) {
    absl::StatusOr<int64_t> offset =
        ParseBoundedInt("offset", Get(params, "offset"), 0, int64_t{1} << 40);
    if (!offset.ok()) return ErrorResponse(offset.status());
    filter.offset = static_cast<size_t>(*offset);
  }
  absl::StatusOr<std::vector<RunRecord>> runs = repo_->ListRuns(filter);
  if (!runs.ok()) return ErrorResponse(runs.status());
  Response r;
  r.body = absl::StrCat("{\"offset\":", filter.offset, ",\"runs\":[");
  for (size_t i = 0; i < runs->size(); ++i) {
    if (i > 0) r.body += ',';
    r.body += RowJson((*runs)[i]);
  }
  r.body += "]}";
  return r;
}

std::string Api::RowJson(const RunRecord& record) {
  const bool immutable =
      record.state == storage::RunState::kCommitted && record.error.ok();
  if (immutable) {
    absl::MutexLock lock(&mu_);
    auto it = rows_.find(record.id);
    if (it != rows_.end()) return it->second;
  }
  std::string row = RunJson(record);
  if (immutable) {
    absl::MutexLock lock(&mu_);
    if (rows_.size() >= kMaxCachedRows) rows_.clear();
    rows_.emplace(record.id, row);
  }
  return row;
}

Response Api::GetRun(absl::string_view id) {
  if (absl::Status s = storage::ValidateRunId(id); !s.ok()) {
    return ErrorResponse(s);
  }
  absl::StatusOr<RunRecord> record = repo_->GetRun(id);
  if (!record.ok()) return ErrorResponse(record.status());
  Response r = Json(RunJson(*record, record->bytes_on_disk));
  // bytes_on_disk changes when a committed run is compacted.
  if (record->state == storage::RunState::kCommitted) {
    r.etag = ETagFor(
        absl::StrCat("run\n", id, "\n", record->bytes_on_disk.value_or(0)));
  }
  return r;
}

Response Api::Series(const Params& params) {
  absl::StatusOr<std::vector<std::string>> ids =
      ParseRunIds(Get(params, "runs"));
  if (!ids.ok()) return ErrorResponse(ids.status());
  absl::StatusOr<SeriesKey> key = KeyFrom(params);
  if (!key.ok()) return ErrorResponse(key.status());
  absl::StatusOr<StepRange> range = ParseStepRange(Get(params, "steps"));
  if (!range.ok()) return ErrorResponse(range.status());
  size_t max_points = kDefaultMaxPoints;
  if (Has(params, "max_points")) {
    absl::StatusOr<int64_t> n =
        ParseBoundedInt("max_points", Get(params, "max_points"), kMinMaxPoints,
                        kMaxPointsLimit);
    if (!n.ok()) return ErrorResponse(n.status());
    max_points = static_cast<size_t>(*n);
  }
  std::vector<std::string> series;
  bool all_committed = true;
  for (const std::string& id : *ids) {
    absl::StatusOr<std::unique_ptr<RunView>> view = repo_->OpenRun(id);
    if (!view.ok()) return ErrorResponse(view.status());
    all_committed = all_committed && Committed(**view);
    absl::StatusOr<SeriesAnswer> one =
        ReadSeries(**view, *key, *range, max_points);
    if (!one.ok()) return ErrorResponse(one.status());
    series.push_back(SeriesAnswerJson(id, *key, *one));
  }
  Response r = Json(SeriesListJson(series));
  if (all_committed) {
    r.etag = ETagFor(absl::StrCat("series\n", absl::StrJoin(*ids, ","), "\n",
                                  key->ToString(), "\n", range->first, ":",
                                  range->last, "\n", max_points));
  }
  return r;
}

Response Api::Texts(const Params& params) {
  absl::StatusOr<SeriesAt> at =
      OpenSeries(*repo_, params, SeriesKind::kText, /*with_steps=*/true);
  if (!at.ok()) return ErrorResponse(at.status());
  size_t limit = kDefaultTextLimit;
  if (Has(params, "limit")) {
    absl::StatusOr<int64_t> n =
        ParseBoundedInt("limit", Get(params, "limit"), 1, kMaxTextLimit);
    if (!n.ok()) return ErrorResponse(n.status());
    limit = static_cast<size_t>(*n);
  }
  absl::StatusOr<TextColumns> cols = at->view->ReadTexts(at->key, at->range);
  if (!cols.ok()) return ErrorResponse(cols.status());
  Response r = Json(TextsJson(at->view->id(), *cols, limit));
  r.etag = at->ETag("texts", absl::StrCat(limit));
  return r;
}

Response Api::Histograms(const Params& params) {
  absl::StatusOr<SeriesAt> at =
      OpenSeries(*repo_, params, SeriesKind::kHistogram, /*with_steps=*/true);
  if (!at.ok()) return ErrorResponse(at.status());
  size_t max_steps = kDefaultHistogramSteps;
  if (Has(params, "max_steps")) {
    absl::StatusOr<int64_t> n = ParseBoundedInt(
        "max_steps", Get(params, "max_steps"), 1, kMaxHistogramSteps);
    if (!n.ok()) return ErrorResponse(n.status());
    max_steps = static_cast<size_t>(*n);
  }
  absl::StatusOr<HistogramColumns> cols =
      at->view->ReadHistograms(at->key, at->range);
  if (!cols.ok()) return ErrorResponse(cols.status());
  Response r = Json(
      HistogramsJson(at->view->id(), *cols, Spread(cols->size(), max_steps)));
  r.etag = at->ETag("histograms", absl::StrCat(max_steps));
  return r;
}

Response Api::Blobs(const Params& params) {
  absl::StatusOr<SeriesAt> at =
      OpenSeries(*repo_, params, SeriesKind::kBlob, /*with_steps=*/true);
  if (!at.ok()) return ErrorResponse(at.status());
  absl::StatusOr<BlobColumns> cols = at->view->ReadBlobs(at->key, at->range);
  if (!cols.ok()) return ErrorResponse(cols.status());
  Response r = Json(BlobsJson(at->view->id(), *cols));
  r.etag = at->ETag("blobs", "");
  return r;
}

Response Api::Blob(const Params& params) {
  absl::StatusOr<SeriesAt> at =
      OpenSeries(*repo_, params, SeriesKind::kBlob, /*with_steps=*/false);
  if (!at.ok()) return ErrorResponse(at.status());
  absl::StatusOr<int64_t> step = ParseBoundedInt(
      "step", Get(params, "step"), std::numeric_limits<int64_t>::min(),
      std::numeric_limits<int64_t>::max());
  if (!step.ok()) return ErrorResponse(step.status());
  at->range = StepRange{*step, *step};
  absl::StatusOr<BlobColumns> cols = at->view->ReadBlobs(at->key, at->range);
  if (!cols.ok()) return ErrorResponse(cols.status());
  if (cols->size() == 0) {
    return ErrorResponse(absl::NotFoundError(
        absl::StrCat("run ", at->view->id(), " has no blob of ",
                     at->key.ToString(), " at step ", *step)));
  }
  Response r;
  const runlog::Blob& blob = cols->values.front();
  r.attachment = !SafeInline(blob.content_type);
  r.content_type =
      r.attachment ? "application/octet-stream" : blob.content_type;
  r.body = blob.data;
  r.etag = at->ETag("blob", "");
  return r;
}

}  // namespace runlog::serve
