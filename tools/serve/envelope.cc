#include "tools/serve/envelope.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace runlog::serve {
namespace {

void AddBucket(const ScalarColumns& in, size_t lo, size_t hi, Envelope* out) {
  double mn = std::numeric_limits<double>::quiet_NaN();
  double mx = mn;
  for (size_t i = lo; i < hi; ++i) {
    const double v = in.values[i];
    if (std::isnan(v)) continue;
    if (std::isnan(mn) || v < mn) mn = v;
    if (std::isnan(mx) || v > mx) mx = v;
  }
  out->steps.push_back(in.steps[lo]);
  out->epochs.push_back(in.epochs[lo]);
  out->times_us.push_back(in.times_us[lo]);
  out->min.push_back(mn);
  out->max.push_back(mx);
  out->last.push_back(in.values[hi - 1]);
}

}  // namespace

Envelope MakeEnvelope(const ScalarColumns& in) {
  Envelope out;
  const size_t n = in.size();
  if (n == 0) return out;
  // Downsample keeps the first point outside every bucket; the pairs after
  // it are then the buckets' (min, max) points whenever a bucket kept two.
  AddBucket(in, 0, 1, &out);
  for (size_t lo = 1; lo < n; lo += 2) {
    AddBucket(in, lo, std::min(lo + 2, n), &out);
  }
  return out;
}

}  // namespace runlog::serve
