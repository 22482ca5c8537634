#include "bench/peers/engine.h"

#include "bench/bench_files.h"
#include "storage/file_system.h"
#include "storage/status_macros.h"

namespace runlog::bench {

absl::StatusOr<uint64_t> Engine::BytesOnDisk() { return TreeBytes(dir_); }

absl::Status Engine::ReadSeriesDownsampled(const std::string& run_id,
                                           absl::string_view name,
                                           size_t max_points,
                                           SeriesPoints* out) {
  SeriesPoints all;
  RUNLOG_RETURN_IF_ERROR(ReadSeries(run_id, name, &all));
  StridedDownsample(all, max_points, out);
  return absl::OkStatus();
}

void StridedDownsample(const SeriesPoints& all, size_t max_points,
                       SeriesPoints* out) {
  out->steps.clear();
  out->values.clear();
  const size_t n = all.steps.size();
  if (n <= max_points || max_points < 2) {
    *out = all;
    return;
  }
  out->steps.reserve(max_points);
  out->values.reserve(max_points);
  for (size_t i = 0; i < max_points; ++i) {
    const size_t at = i * (n - 1) / (max_points - 1);
    out->steps.push_back(all.steps[at]);
    out->values.push_back(all.values[at]);
  }
}

}  // namespace runlog::bench
