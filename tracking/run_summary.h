// What a run is, apart from its points: metadata, params, tags and per-series
// summaries. Written into COMMIT (as the manifest's opaque summary), so
// listing and filtering committed runs never decodes a segment; rebuilt from
// the records when a run is read live.
#ifndef RUNLOG_TRACKING_RUN_SUMMARY_H_
#define RUNLOG_TRACKING_RUN_SUMMARY_H_

#include <set>
#include <string>
#include <vector>

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

std::string EncodeRunSummary(const RunSummary& summary);
// DataLoss naming `location` for damaged or truncated bytes.
absl::StatusOr<RunSummary> DecodeRunSummary(absl::string_view bytes,
                                            absl::string_view location);

}  // namespace runlog

#endif  // RUNLOG_TRACKING_RUN_SUMMARY_H_
