#include "tracking/downsample.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace runlog {

size_t DownsampleBucketWidth(size_t n, size_t max_points) {
  const size_t buckets = (max_points - 2) / 2;
  if (buckets == 0) return 0;
  size_t w = (n + buckets - 1) / buckets;
  const size_t align = w > kDownsampleAlign       ? kDownsampleAlign
                       : w > kDownsampleFineAlign ? kDownsampleFineAlign
                                                  : 1;
  return (w + align - 1) / align * align;
}

std::vector<std::pair<size_t, size_t>> DownsampleBuckets(size_t n,
                                                         size_t max_points) {
  std::vector<std::pair<size_t, size_t>> out;
  const size_t w = DownsampleBucketWidth(n, max_points);
  for (size_t start = 0; w > 0 && start < n - 1; start += w) {
    const size_t lo = std::max<size_t>(start, 1);
    const size_t hi = std::min(start + w, n - 1);
    if (lo < hi) out.emplace_back(lo, hi);
  }
  return out;
}

absl::StatusOr<ScalarColumns> Downsample(ScalarColumns in, size_t max_points) {
  if (max_points < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_points must be at least 2 (first and last point); got ",
        max_points));
  }
  const size_t n = in.size();
  if (n <= max_points) return in;
  ScalarColumns out;
  auto take = [&](size_t i) {
    out.steps.push_back(in.steps[i]);
    out.values.push_back(in.values[i]);
    out.epochs.push_back(in.epochs[i]);
    out.times_us.push_back(in.times_us[i]);
  };
  take(0);
  for (const auto& [lo, hi] : DownsampleBuckets(n, max_points)) {
    size_t min_i = hi;
    size_t max_i = hi;
    for (size_t i = lo; i < hi; ++i) {
      const double v = in.values[i];
      if (std::isnan(v)) continue;
      if (min_i == hi || v < in.values[min_i]) min_i = i;
      if (max_i == hi || v > in.values[max_i]) max_i = i;
    }
    if (min_i == hi) {  // all NaN: keep one to show the gap
      take(lo);
      continue;
    }
    if (min_i == max_i) {
      take(min_i);
    } else {
      take(std::min(min_i, max_i));
      take(std::max(min_i, max_i));
    }
  }
  take(n - 1);
  return out;
}

}  // namespace runlog
