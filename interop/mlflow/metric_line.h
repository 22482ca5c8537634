// One line of an MLflow file-store metric file (mlruns/<exp>/<run>/metrics/
// <key>): "timestamp value step", timestamp in ms since the Unix epoch, the
// value as Python writes a float ("0.5", "nan", "inf", "-inf", "1e-05"),
// the step an integer; old MLflow versions wrote "timestamp value" (step 0).
//
// Thread-safety: pure functions.
#ifndef RUNLOG_INTEROP_MLFLOW_METRIC_LINE_H_
#define RUNLOG_INTEROP_MLFLOW_METRIC_LINE_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace runlog::interop {

struct MetricLine {
  int64_t timestamp_ms = 0;
  double value = 0;
  int64_t step = 0;
};

// False (leaving `out` unspecified) for a line of another shape.
bool ParseMetricLine(absl::string_view line, MetricLine* out);

// Python's float text to a double, exactly: what absl::SimpleAtod takes plus
// "nan", "inf", "-inf", "NaN", "Infinity" and "-Infinity".
bool ParsePythonFloat(absl::string_view s, double* out);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_MLFLOW_METRIC_LINE_H_
