#include "interop/import_report.h"

#include "absl/strings/str_cat.h"

namespace runlog::interop {

int64_t ImportReport::points() const {
  int64_t n = 0;
  for (const ImportedRun& r : runs) n += r.points;
  return n;
}

int64_t ImportReport::series() const {
  int64_t n = 0;
  for (const ImportedRun& r : runs) n += r.series;
  return n;
}

int64_t ImportReport::failed() const {
  int64_t n = 0;
  for (const ImportedRun& r : runs) n += r.action == "failed";
  return n;
}

std::string FormatImportReport(const ImportReport& report) {
  std::string out;
  for (const ImportedRun& r : report.runs) {
    absl::StrAppend(&out, r.action, " ", r.name.empty() ? r.source : r.name);
    if (!r.run_id.empty()) absl::StrAppend(&out, " as ", r.run_id);
    absl::StrAppend(&out, ": ", r.series, " series, ", r.points, " points\n");
    if (!r.error.empty()) absl::StrAppend(&out, "  error: ", r.error, "\n");
    for (const std::string& w : r.warnings) {
      absl::StrAppend(&out, "  warning: ", w, "\n");
    }
    for (const auto& [why, count] : r.skipped) {
      absl::StrAppend(&out, "  skipped ", count, " x ", why, "\n");
    }
  }
  for (const std::string& n : report.notes) {
    absl::StrAppend(&out, "note: ", n, "\n");
  }
  absl::StrAppend(&out, report.format, " ", report.source, ": ",
                  report.runs.size(), " runs, ", report.series(), " series, ",
                  report.points(), " points, ", report.bytes_read,
                  " bytes read");
  if (report.failed() > 0)
    absl::StrAppend(&out, ", ", report.failed(), " failed");
  out += "\n";
  return out;
}

}  // namespace runlog::interop
