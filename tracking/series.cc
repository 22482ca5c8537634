#include "tracking/series.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tracking/codec/record_format.h"

namespace runlog {
namespace {

// Min and max of the non-NaN values[0, n), NaN when there is none, the
// first of equal values winning (so 0.0 before -0.0 stays 0.0): Add()'s
// rules, one point at a time.
void MinMaxInOrder(const double* values, size_t n, double* lo, double* hi) {
  for (size_t i = 0; i < n; ++i) {
    const double v = values[i];
    if (!std::isnan(v)) {
      if (std::isnan(*lo) || v < *lo) *lo = v;
      if (std::isnan(*hi) || v > *hi) *hi = v;
    }
  }
}

}  // namespace

void SeriesSummary::AddAll(const int64_t* steps, const double* values,
                           size_t n) {
  if (count == 0) {
    first = values[0];
    first_step = steps[0];
  }
  last = values[n - 1];
  last_step = steps[n - 1];
  count += static_cast<int64_t>(n);
#if defined(__SSE2__)
  // Four lanes of strict compares against +-inf: minpd/maxpd keep the
  // accumulator when the value is NaN, and each lane keeps the first of
  // equal values. Across lanes "first" is lost, which matters only for
  // zeros of both signs: a zero result is settled again in order.
  constexpr double kInf = std::numeric_limits<double>::infinity();
  __m128d lo0 = _mm_set1_pd(kInf), lo1 = lo0;
  __m128d hi0 = _mm_set1_pd(-kInf), hi1 = hi0;
  __m128d seen = _mm_setzero_pd();  // all ones in a lane that saw a number
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128d a = _mm_loadu_pd(values + i);
    const __m128d b = _mm_loadu_pd(values + i + 2);
    lo0 = _mm_min_pd(a, lo0);
    lo1 = _mm_min_pd(b, lo1);
    hi0 = _mm_max_pd(a, hi0);
    hi1 = _mm_max_pd(b, hi1);
    seen = _mm_or_pd(seen, _mm_or_pd(_mm_cmpord_pd(a, a), _mm_cmpord_pd(b, b)));
  }
  double l[4], h[4];
  _mm_storeu_pd(l, lo0);
  _mm_storeu_pd(l + 2, lo1);
  _mm_storeu_pd(h, hi0);
  _mm_storeu_pd(h + 2, hi1);
  double lo = std::numeric_limits<double>::quiet_NaN(), hi = lo;
  if (_mm_movemask_pd(seen) != 0) {
    lo = l[0];
    hi = h[0];
    for (int k = 1; k < 4; ++k) {
      if (l[k] < lo) lo = l[k];
      if (h[k] > hi) hi = h[k];
    }
  }
  MinMaxInOrder(values + i, n - i, &lo, &hi);
  if (lo == 0 || hi == 0) {
    lo = hi = std::numeric_limits<double>::quiet_NaN();
    MinMaxInOrder(values, n, &lo, &hi);
  }
#else
  double lo = std::numeric_limits<double>::quiet_NaN(), hi = lo;
  MinMaxInOrder(values, n, &lo, &hi);
#endif
  // The earlier points' extremes win ties, as in Add().
  if (!std::isnan(lo) && (std::isnan(min) || lo < min)) min = lo;
  if (!std::isnan(hi) && (std::isnan(max) || hi > max)) max = hi;
}

absl::string_view SeriesKindName(SeriesKind kind) {
  switch (kind) {
    case SeriesKind::kScalar:
      return "scalar";
    case SeriesKind::kText:
      return "text";
    case SeriesKind::kHistogram:
      return "histogram";
    case SeriesKind::kBlob:
      return "blob";
  }
  return "unknown";
}

std::string SeriesKey::ToString() const {
  if (context.empty()) return name;
  return absl::StrCat(
      name, "{", absl::StrJoin(context, ",", absl::PairFormatter("=")), "}");
}

absl::Status ValidateSeriesKey(const SeriesKey& key) {
  if (key.name.empty()) {
    return absl::InvalidArgumentError("series name is empty");
  }
  if (key.name.size() > record::kMaxSeriesNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "series name of ", key.name.size(), " bytes is over the limit of ",
        record::kMaxSeriesNameLength));
  }
  if (key.context.size() > record::kMaxContextEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "series ", key.name, ": ", key.context.size(),
        " context entries, over the limit of ", record::kMaxContextEntries));
  }
  for (const auto& [k, v] : key.context) {
    if (k.empty() || k.size() > record::kMaxContextStringLength ||
        v.size() > record::kMaxContextStringLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("series ", key.name, ": context key must be 1..",
                       record::kMaxContextStringLength,
                       " bytes and its value at most as long"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHistogram(const Histogram& h) {
  if (h.counts.empty() || h.edges.size() != h.counts.size() + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "histogram needs bins + 1 edges and at least one bin; got ",
        h.edges.size(), " edges and ", h.counts.size(), " counts"));
  }
  if (h.counts.size() > record::kMaxHistogramBins) {
    return absl::InvalidArgumentError(
        absl::StrCat("histogram of ", h.counts.size(),
                     " bins is over the limit of ", record::kMaxHistogramBins));
  }
  return absl::OkStatus();
}

}  // namespace runlog
