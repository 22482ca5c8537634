// Internal: the in-memory state of one series of a Run being written.
#ifndef RUNLOG_TRACKING_SERIES_STATE_H_
#define RUNLOG_TRACKING_SERIES_STATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tracking/series.h"

namespace runlog::internal {

struct SeriesState {
  uint32_t id = 0;
  SeriesKey key;
  SeriesKind kind = SeriesKind::kScalar;
  SeriesSummary summary;
  // Buffered points, not yet encoded.
  std::vector<int64_t> steps;
  std::vector<double> values;
  std::vector<double> epochs;
  std::vector<int64_t> times_us;
  std::vector<std::string> texts;
  std::vector<Histogram> histograms;

  int64_t NextStep() const {
    return summary.count == 0 ? 0 : summary.last_step + 1;
  }
};

}  // namespace runlog::internal

#endif  // RUNLOG_TRACKING_SERIES_STATE_H_
