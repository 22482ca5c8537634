// What an import did, per source: the runs it made, the series and points
// they hold, and everything it left out, with why. Importers fill it; segtool
// prints it (FormatImportReport).
//
// Thread-safety: a plain value type.
#ifndef RUNLOG_INTEROP_IMPORT_REPORT_H_
#define RUNLOG_INTEROP_IMPORT_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace runlog::interop {

// One imported (or, in a dry run, importable) source run.
struct ImportedRun {
  std::string source;  // the source key (see import_registry.h)
  std::string name;    // the runlog run's name
  std::string run_id;  // empty in a dry run or when skipped
  std::string action;  // "imported", "updated", "unchanged", "changed",
                       // "would import", "would update", "failed"
  int64_t series = 0;
  int64_t points = 0;
  // Things left out of this run, by reason ("graph_def: not imported") with
  // how many times each happened.
  std::map<std::string, int64_t> skipped;
  std::vector<std::string> warnings;  // e.g. a torn last record
  std::string error;                  // set when action == "failed"
};

struct ImportReport {
  std::string format;  // "tensorboard", "mlflow", "wandb", "csv"
  std::string source;  // the path given
  std::vector<ImportedRun> runs;
  uint64_t bytes_read = 0;  // bytes of source files read
  // Source-level remarks: entries not followed while walking the source
  // (symlinks leaving it, loops), files not recognised.
  std::vector<std::string> notes;

  int64_t points() const;
  int64_t series() const;
  // Runs whose action is "failed".
  int64_t failed() const;
};

// A human-readable report: one line per run and its skips and warnings, then
// totals.
std::string FormatImportReport(const ImportReport& report);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_IMPORT_REPORT_H_
