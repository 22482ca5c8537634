// What a run is, apart from its points: metadata, params, tags and per-series
// summaries. Written into COMMIT (as the manifest's opaque summary), so
// listing and filtering committed runs never decodes a segment; rebuilt from
// the records when a run is read live.
#ifndef RUNLOG_TRACKING_RUN_SUMMARY_H_
#define RUNLOG_TRACKING_RUN_SUMMARY_H_

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace runlog {

struct RunSummary {
  std::string experiment;
  std::string name;
  std::string description;
  absl::Time created = absl::UnixEpoch();
  std::set<std::string> tags;
  Value params = Value::EmptyMap();
  std::vector<SeriesSummary> series;  // in definition order
};

// A run summary read in place: strings and the params' encoding point into
// the bytes given to ParseRunSummaryView, which must outlive the view.
// Listing evaluates queries on it without building a RunSummary.
struct RunSummaryView {
  struct Series {
    SeriesKind kind = SeriesKind::kScalar;
    absl::string_view name;
    // In key order, as in SeriesKey::context.
    absl::InlinedVector<std::pair<absl::string_view, absl::string_view>, 2>
        context;
    int64_t count = 0;
    int64_t first_step = 0;
    int64_t last_step = 0;
    double first = 0, last = 0, min = 0, max = 0;
  };
  absl::Time created = absl::UnixEpoch();
  absl::string_view experiment, name, description;
  absl::InlinedVector<absl::string_view, 8> tags;  // ascending
  // One encoded Value (value_codec.h); without series, the params and
  // everything after them.
  absl::string_view params;
  size_t params_offset = 0;  // of `params` within the summary
  std::vector<Series> series;
  bool has_series = false;  // `series` parsed (see ParseRunSummaryView)
  absl::string_view location;
};

std::string EncodeRunSummary(const RunSummary& summary);
// Parses `bytes` into `*view` (its vectors are reused). Errors as
// DecodeRunSummary's, except that the params are only delimited: their
// canonical form is checked by DecodeRunSummary.
//
// Without `with_series` it stops at the params (a query that rejects a run
// on its params never reads further); ParseRunSummaryViewSeries then
// finishes the view.
absl::Status ParseRunSummaryView(absl::string_view bytes,
                                 absl::string_view location,
                                 RunSummaryView* view, bool with_series = true);
absl::Status ParseRunSummaryViewSeries(RunSummaryView* view);
// DataLoss naming `location` for damaged or truncated bytes.
absl::StatusOr<RunSummary> DecodeRunSummary(absl::string_view bytes,
                                            absl::string_view location);

}  // namespace runlog

#endif  // RUNLOG_TRACKING_RUN_SUMMARY_H_
