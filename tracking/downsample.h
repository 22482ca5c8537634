// Downsampling for plots: at most `max_points` points that keep the shape a
// plot needs — the first and last point, and in each of (max_points - 2) / 2
// equal-count buckets between them the points with the minimum and maximum
// value, in step order. NaN values are kept only where a bucket has nothing
// else.
#ifndef RUNLOG_TRACKING_DOWNSAMPLE_H_
#define RUNLOG_TRACKING_DOWNSAMPLE_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "tracking/series.h"

namespace runlog {

// InvalidArgument if max_points < 2. Returns `in` unchanged when it already
// has at most max_points points.
absl::StatusOr<ScalarColumns> Downsample(ScalarColumns in, size_t max_points);

}  // namespace runlog

#endif  // RUNLOG_TRACKING_DOWNSAMPLE_H_
