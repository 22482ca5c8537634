// Series identity, kinds, summaries and point columns: the vocabulary shared
// by writers, readers and tools.
#ifndef RUNLOG_TRACKING_SERIES_H_
#define RUNLOG_TRACKING_SERIES_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace runlog {

// A small string map that qualifies a series name, e.g. {subset: train}.
using Context = std::map<std::string, std::string, std::less<>>;

enum class SeriesKind { kScalar, kText, kHistogram, kBlob };
absl::string_view SeriesKindName(SeriesKind kind);

// A series is identified by its name and context.
struct SeriesKey {
  std::string name;
  Context context;

  // "loss" or "loss{subset=train}" (context keys in order).
  std::string ToString() const;
  friend bool operator==(const SeriesKey& a, const SeriesKey& b) {
    return a.name == b.name && a.context == b.context;
  }
  friend bool operator<(const SeriesKey& a, const SeriesKey& b) {
    return a.name != b.name ? a.name < b.name : a.context < b.context;
  }
};

// InvalidArgument naming the series when the name or context break the
// limits of record_format.h (empty name, too long, too many entries).
absl::Status ValidateSeriesKey(const SeriesKey& key);

// Kept while writing and stored in COMMIT, so listing and filtering runs
// never decodes points. For non-scalar kinds only count and steps are set.
struct SeriesSummary {
  SeriesKey key;
  SeriesKind kind = SeriesKind::kScalar;
  int64_t count = 0;
  int64_t first_step = 0;
  int64_t last_step = 0;
  double first = std::numeric_limits<double>::quiet_NaN();
  double last = std::numeric_limits<double>::quiet_NaN();
  // NaN values are counted but never become min or max.
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();

  // Inline: called for every tracked point.
  void Add(int64_t step, double value) {
    if (count == 0) first = value;
    last = value;
    AddStep(step);
    if (!std::isnan(value)) {
      if (std::isnan(min) || value < min) min = value;
      if (std::isnan(max) || value > max) max = value;
    }
  }
  // The same as Add(steps[i], values[i]) for each i in turn (n >= 1), in
  // one vectorised pass: the writer folds a buffer of points in at once.
  void AddAll(const int64_t* steps, const double* values, size_t n);
  void AddStep(int64_t step) {
    if (count == 0) first_step = step;
    last_step = step;
    ++count;
  }
};

struct Histogram {
  std::vector<double> edges;   // bins + 1 ascending bin edges
  std::vector<double> counts;  // one per bin
  friend bool operator==(const Histogram& a, const Histogram& b) {
    return a.edges == b.edges && a.counts == b.counts;
  }
};
// InvalidArgument unless edges.size() == counts.size() + 1, there is at least
// one bin, within kMaxHistogramBins.
absl::Status ValidateHistogram(const Histogram& h);

struct Blob {
  std::string content_type;  // e.g. "image/png"
  std::string data;
  friend bool operator==(const Blob& a, const Blob& b) {
    return a.content_type == b.content_type && a.data == b.data;
  }
};

// The points of one series as parallel columns. epochs[i] is NaN when the
// point had no epoch; times are µs since the Unix epoch.
template <typename T>
struct SeriesColumns {
  std::vector<int64_t> steps;
  std::vector<T> values;
  std::vector<double> epochs;
  std::vector<int64_t> times_us;
  size_t size() const { return steps.size(); }
};
// Drops the first n points of every column of c (all of a column's points
// if it has fewer).
template <typename T>
void DropFrontPoints(size_t n, SeriesColumns<T>* c) {
  auto drop = [n](auto& column) {
    column.erase(column.begin(),
                 column.begin() + static_cast<std::ptrdiff_t>(
                                      n < column.size() ? n : column.size()));
  };
  drop(c->steps);
  drop(c->values);
  drop(c->epochs);
  drop(c->times_us);
}
using ScalarColumns = SeriesColumns<double>;
using TextColumns = SeriesColumns<std::string>;
using HistogramColumns = SeriesColumns<Histogram>;
using BlobColumns = SeriesColumns<Blob>;

// Which columns of a scalar read to fill; a read leaves the others empty.
// Steps and values alone are half the memory of all four (16 B a point).
enum class ColumnSet : unsigned {
  kSteps = 1,
  kValues = 2,
  kEpochs = 4,
  kTimes = 8,
  kStepsValues = 3,
  kAll = 15,
};
constexpr bool Has(ColumnSet set, ColumnSet column) {
  return (static_cast<unsigned>(set) & static_cast<unsigned>(column)) != 0;
}

// An inclusive step range; the default covers every step.
struct StepRange {
  int64_t first = std::numeric_limits<int64_t>::min();
  int64_t last = std::numeric_limits<int64_t>::max();
  bool Contains(int64_t step) const { return step >= first && step <= last; }
};

}  // namespace runlog

#endif  // RUNLOG_TRACKING_SERIES_H_
