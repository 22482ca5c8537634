// The JSON text of the web UI's API answers, in the shapes docs/ui.md
// documents; the one place that builds JSON (with nlohmann-json). The
// non-finite doubles, which JSON lacks, are the strings "NaN", "Infinity"
// and "-Infinity" (the UI reads them back as numbers); strings that are not
// valid UTF-8 get U+FFFD for their bad bytes. Pure functions; thread-safe.
#ifndef RUNLOG_TOOLS_SERVE_JSON_OUT_H_
#define RUNLOG_TOOLS_SERVE_JSON_OUT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tools/serve/envelope.h"
#include "tracking/repo.h"

namespace runlog::serve {

// {"error": message}
std::string ErrorJson(absl::string_view message);

// A run's row: id, state, status, experiment, name, description, created_us,
// ended_us (null while uncommitted), failure_reason, detail, error, tags,
// params, series (summaries), and bytes_on_disk when given.
std::string RunJson(const RunRecord& r,
                    std::optional<uint64_t> bytes_on_disk = std::nullopt);

// One run's answer in /api/series.
struct SeriesAnswer {
  bool missing = false;  // the run has no such series
  int64_t count = 0;     // points in the whole series
  bool exact = false;    // `points` holds every point of the range
  ScalarColumns points;  // when exact
  Envelope envelope;     // otherwise
};
std::string SeriesAnswerJson(absl::string_view run, const SeriesKey& key,
                             const SeriesAnswer& answer);
// {"series": [parts...]}, each part from SeriesAnswerJson.
std::string SeriesListJson(const std::vector<std::string>& parts);

// /api/texts: the first `n` texts.
std::string TextsJson(absl::string_view run, const TextColumns& c, size_t n);
// /api/histograms: the histograms at `picks` (indices into `c`).
std::string HistogramsJson(absl::string_view run, const HistogramColumns& c,
                           const std::vector<size_t>& picks);
// /api/blobs: steps, content types and sizes.
std::string BlobsJson(absl::string_view run, const BlobColumns& c);

}  // namespace runlog::serve

#endif  // RUNLOG_TOOLS_SERVE_JSON_OUT_H_
