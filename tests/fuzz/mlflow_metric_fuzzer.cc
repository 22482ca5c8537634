// Fuzz target: the MLflow metric-line parser over every line of the input.
// Properties: no crash; a parsed line prints back ("%lld %.17g %lld") to a
// line that parses to the same point.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "interop/mlflow/metric_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace runlog;  // NOLINT: a fuzz entry point outside the namespace
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    interop::MetricLine m;
    if (!interop::ParseMetricLine(line, &m)) continue;
    const std::string again = absl::StrFormat(
        "%d %s %d", m.timestamp_ms,
        std::isnan(m.value)   ? "nan"
        : std::isinf(m.value) ? (m.value > 0 ? "inf" : "-inf")
                              : absl::StrFormat("%.17g", m.value),
        m.step);
    interop::MetricLine n;
    if (!interop::ParseMetricLine(again, &n) ||
        n.timestamp_ms != m.timestamp_ms || n.step != m.step ||
        (std::isnan(m.value) != std::isnan(n.value)) ||
        (!std::isnan(m.value) && n.value != m.value)) {
      std::fprintf(stderr, "metric line does not round-trip: %s\n",
                   again.c_str());
      std::abort();
    }
  }
  return 0;
}
