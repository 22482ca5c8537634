#include "tracking/run_table.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "storage/format.h"
#include "storage/status_macros.h"

namespace runlog {

absl::StatusOr<std::optional<EncodedNode>> RunTable::Param(
    const Row& row, absl::string_view path) {
  const std::vector<std::string> parts = absl::StrSplit(path, '.');
  absl::StatusOr<std::optional<EncodedNode>> node =
      FindEncodedPath(row.summary.params, parts);
  if (!node.ok()) {
    return absl::Status(
        node.status().code(),
        absl::StrCat("run ", row.id, " params: ", node.status().message()));
  }
  return node;
}

const RunSummaryView::Series* RunTable::FindSeries(const Row& row,
                                                   absl::string_view name,
                                                   const Context& context) {
  for (const RunSummaryView::Series& s : row.summary.series) {
    if (s.kind != SeriesKind::kScalar || s.name != name ||
        s.context.size() != context.size()) {
      continue;
    }
    bool same = true;
    size_t i = 0;
    for (const auto& [k, v] : context) {  // both in key order
      same = same && s.context[i].first == k && s.context[i].second == v;
      ++i;
    }
    if (same) return &s;
  }
  return nullptr;
}

absl::StatusOr<RunRecord> RunTable::Record(const Row& row) {
  RunRecord r;
  r.id = std::string(row.id);
  r.state = row.state;
  r.status = row.status;
  r.ended = row.ended;
  r.failure_reason = std::string(row.failure_reason);
  r.detail = std::string(row.detail);
  r.error = row.error;
  r.bytes_on_disk = row.bytes_on_disk;
  if (!row.summary_bytes.empty()) {
    RUNLOG_ASSIGN_OR_RETURN(
        r.summary,
        DecodeRunSummary(row.summary_bytes, absl::StrCat("run ", row.id)));
  }
  return r;
}

void RunTable::AddDescribed(RunRecord record) {
  Described& d = described_.emplace_back();
  d.record = std::move(record);
  d.encoded = EncodeRunSummary(d.record.summary);
  Row& row = rows_.emplace_back();
  const RunRecord& r = d.record;
  row.id = r.id;
  row.state = r.state;
  row.status = r.status;
  row.ended = r.ended;
  row.failure_reason = r.failure_reason;
  row.detail = r.detail;
  row.error = r.error;
  row.bytes_on_disk = r.bytes_on_disk;
  row.summary_bytes = d.encoded;
  // Encoded by this process a moment ago: it parses.
  ParseRunSummaryView(d.encoded, storage::format::kCommitFileName, &row.summary)
      .IgnoreError();
}

}  // namespace runlog
