#include "interop/mlflow/metric_line.h"

#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace runlog::interop {

bool ParsePythonFloat(absl::string_view s, double* out) {
  if (s == "nan" || s == "NaN" || s == "-nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (s == "inf" || s == "Infinity" || s == "+inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-inf" || s == "-Infinity") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  // SimpleAtod also takes "nan(...)", hex and leading blanks; MLflow never
  // writes those, and a value that only they explain is not a metric line.
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c) && c != '.' && c != 'e' && c != 'E' &&
        c != '-' && c != '+') {
      return false;
    }
  }
  return absl::SimpleAtod(s, out);
}

bool ParseMetricLine(absl::string_view line, MetricLine* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  absl::string_view parts[4];
  int n = 0;
  size_t pos = 0;
  while (pos <= line.size() && n < 4) {
    const size_t sp = line.find(' ', pos);
    const size_t end = sp == absl::string_view::npos ? line.size() : sp;
    parts[n++] = line.substr(pos, end - pos);
    if (sp == absl::string_view::npos) break;
    pos = sp + 1;
  }
  if (n != 2 && n != 3) return false;
  if (!absl::SimpleAtoi(parts[0], &out->timestamp_ms)) return false;
  if (!ParsePythonFloat(parts[1], &out->value)) return false;
  out->step = 0;
  return n == 2 || absl::SimpleAtoi(parts[2], &out->step);
}

}  // namespace runlog::interop
