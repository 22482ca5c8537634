// The min/max envelope the web UI draws a downsampled series with.
//
// Input is a downsampled read (tracking/downsample.h): the first point, then
// each bucket's minimum and maximum points in step order, then the last
// point. The envelope groups those points back into buckets: the first point
// alone, then consecutive pairs, then what remains. Every bucket extreme of
// the read is in exactly one envelope bucket, so a spike always shows in the
// band. Pure function; thread-safe.
#ifndef RUNLOG_TOOLS_SERVE_ENVELOPE_H_
#define RUNLOG_TOOLS_SERVE_ENVELOPE_H_

#include <cstdint>
#include <vector>

#include "tracking/series.h"

namespace runlog::serve {

struct Envelope {
  // Per bucket: the step, epoch and time (µs) of its first point; the
  // minimum and maximum of its non-NaN values (NaN when all are NaN;
  // infinities count); the value of its last point (NaN passes through).
  std::vector<int64_t> steps;
  std::vector<double> epochs;
  std::vector<int64_t> times_us;
  std::vector<double> min;
  std::vector<double> max;
  std::vector<double> last;
  size_t size() const { return steps.size(); }
};

Envelope MakeEnvelope(const ScalarColumns& downsampled);

}  // namespace runlog::serve

#endif  // RUNLOG_TOOLS_SERVE_ENVELOPE_H_
