// A listing of runs that keeps their summaries encoded: each row's name,
// tags, series summaries and params are read in place from the bytes the
// table holds (the run catalog's, or COMMIT's), so listing N runs builds no
// params tree and allocates a few times per run instead of dozens.
// Repo::ListRunTable makes one; Repo::ListRuns gives the same runs as
// decoded RunRecords.
//
//   RUNLOG_ASSIGN_OR_RETURN(RunTable t, repo->ListRunTable());
//   for (const RunTable::Row& row : t) {
//     auto lr = RunTable::Param(row, "hparams.lr");   // in place
//     for (const RunSummaryView::Series& s : row.summary.series) ...
//   }
//
// Lifetime: every view in a row points into the table, valid while it
// lives (moving the table keeps them valid). Not copyable.
// Thread-safety: a table may be read from several threads at once.
#ifndef RUNLOG_TRACKING_RUN_TABLE_H_
#define RUNLOG_TRACKING_RUN_TABLE_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/run_store.h"
#include "tracking/codec/value_codec.h"
#include "tracking/repo.h"
#include "tracking/run_summary.h"

namespace runlog {

class RunTable {
 public:
  // What RunRecord holds, as views.
  struct Row {
    absl::string_view id;
    storage::RunState state = storage::RunState::kUnknown;
    RunStatus status = RunStatus::kRunning;
    absl::Time ended = absl::InfinitePast();  // committed runs only
    absl::string_view failure_reason;
    absl::string_view detail;
    // Not OK when the run's COMMIT or records are damaged; the rest of the
    // row is then as much as could be read.
    absl::Status error;
    std::optional<uint64_t> bytes_on_disk;  // as RunRecord's
    // Series included; params stay encoded (summary.params).
    RunSummaryView summary;
    absl::string_view summary_bytes;  // what `summary` was parsed from
  };

  RunTable() = default;
  RunTable(RunTable&&) = default;
  RunTable& operator=(RunTable&&) = default;
  RunTable(const RunTable&) = delete;
  RunTable& operator=(const RunTable&) = delete;

  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const Row& operator[](size_t i) const { return rows_[i]; }
  std::vector<Row>::const_iterator begin() const { return rows_.begin(); }
  std::vector<Row>::const_iterator end() const { return rows_.end(); }

  // The param at a dotted path ("hparams.lr") of a row, read in place:
  // nullopt when a component is missing or not a map. DataLoss naming the
  // run for damaged params.
  static absl::StatusOr<std::optional<EncodedNode>> Param(
      const Row& row, absl::string_view path);
  // The scalar series of a row named `name` with exactly `context`, or
  // nullptr.
  static const RunSummaryView::Series* FindSeries(const Row& row,
                                                  absl::string_view name,
                                                  const Context& context = {});
  // The whole record of a row, params decoded: what Repo::ListRuns gives
  // for it.
  static absl::StatusOr<RunRecord> Record(const Row& row);

 private:
  friend class Repo;
  // Rows view these: entries as storage listed them (the committed runs'
  // summaries are their manifests' bytes), and for the rest the records
  // described from their logs with their summaries encoded anew.
  struct Described {
    RunRecord record;
    std::string encoded;
  };
  // Keeps `record` and appends its row.
  void AddDescribed(RunRecord record);

  std::vector<storage::RunEntry> entries_;
  std::deque<Described> described_;
  std::vector<Row> rows_;
};

}  // namespace runlog

#endif  // RUNLOG_TRACKING_RUN_TABLE_H_
