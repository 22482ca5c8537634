#include "bench/peers/engine.h"

#include "storage/file_system.h"
#include "storage/status_macros.h"

namespace runlog::bench {

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

absl::StatusOr<uint64_t> DirectoryBytes(const std::string& dir) {
  storage::FileSystem* fs = storage::FileSystem::Default();
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  uint64_t total = 0;
  for (const std::string& name : names) {
    const std::string path = storage::JoinPath(dir, name);
    RUNLOG_ASSIGN_OR_RETURN(storage::FileInfo info, fs->Stat(path));
    if (info.type == storage::FileType::kDirectory) {
      RUNLOG_ASSIGN_OR_RETURN(uint64_t sub, DirectoryBytes(path));
      total += sub;
    } else if (info.type == storage::FileType::kRegular) {
      total += info.size;
    }
  }
  return total;
}

}  // namespace runlog::bench
