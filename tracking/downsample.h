// Downsampling for plots: at most `max_points` points that keep the shape a
// plot needs — the first and last point, and in each bucket between them the
// points with the minimum and maximum value (the first of equal ones), in
// order. NaN values are kept only where a bucket has nothing else (its first
// point is kept).
//
// Buckets: with n points and B = (max_points - 2) / 2, the width is
// w = ceil(n / B), rounded up to a multiple of kDownsampleAlign when larger
// than it, and to a multiple of kDownsampleFineAlign when larger than that;
// bucket b holds the points with indices [b*w, (b+1)*w) that lie in
// [1, n-1). Aligning wide buckets to kDownsampleAlign (the block size of
// compacted runs) lets a compacted run answer whole buckets from its block
// summaries, and narrower ones to kDownsampleFineAlign from its sub-block
// summaries (its view chunks); every reader uses this one definition, so
// live and compacted runs give identical results.
#ifndef RUNLOG_TRACKING_DOWNSAMPLE_H_
#define RUNLOG_TRACKING_DOWNSAMPLE_H_

#include <cstddef>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tracking/series.h"

namespace runlog {

inline constexpr size_t kDownsampleAlign = 4096;
inline constexpr size_t kDownsampleFineAlign = 512;
static_assert(kDownsampleAlign % kDownsampleFineAlign == 0);

// The bucket width above; 0 when max_points < 4 leaves no bucket.
// n > max_points >= 2.
size_t DownsampleBucketWidth(size_t n, size_t max_points);

// The non-empty buckets as index ranges [first, second), in order.
// n > max_points >= 2.
std::vector<std::pair<size_t, size_t>> DownsampleBuckets(size_t n,
                                                         size_t max_points);

// InvalidArgument if max_points < 2. Returns `in` unchanged when it already
// has at most max_points points.
absl::StatusOr<ScalarColumns> Downsample(ScalarColumns in, size_t max_points);

}  // namespace runlog

#endif  // RUNLOG_TRACKING_DOWNSAMPLE_H_
