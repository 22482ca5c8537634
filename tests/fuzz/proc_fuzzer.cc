// Fuzz target: the /proc parsers of the system-metrics sampler
// (tracking/system_metrics/proc_parsers.h), every one on each input.
// Properties: no crash; the only error is InvalidArgument naming a /proc
// file; busy CPU ticks never exceed the total; byte figures are whole
// kilobytes (meminfo, VmRSS) or whole sectors (diskstats).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "tracking/system_metrics/proc_parsers.h"

namespace {

void Check(const absl::Status& s) {
  if (s.ok()) return;
  if (!absl::IsInvalidArgument(s) || !absl::StartsWith(s.message(), "/proc/")) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace runlog::system_metrics;  // NOLINT: a fuzz entry point
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto t = ParseProcStat(text); t.ok()) {
    if (t->busy > t->total) std::abort();
  } else {
    Check(t.status());
  }
  Check(ParseProcessCpuTicks(text).status());
  if (auto m = ParseMemInfo(text); m.ok()) {
    if (m->total_bytes % 1024 != 0 || m->available_bytes % 1024 != 0) {
      std::abort();
    }
  } else {
    Check(m.status());
  }
  if (auto r = ParseVmRssBytes(text); r.ok()) {
    if (*r % 1024 != 0) std::abort();
  } else {
    Check(r.status());
  }
  if (auto d = ParseDiskStats(text); d.ok()) {
    if (d->read % 512 != 0 || d->written % 512 != 0) std::abort();
  } else {
    Check(d.status());
  }
  Check(ParseNetDev(text).status());
  return 0;
}
