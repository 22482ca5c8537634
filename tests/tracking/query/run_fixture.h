// Small verbs that build RunRecords for the query tests.
#ifndef RUNLOG_TESTS_TRACKING_QUERY_RUN_FIXTURE_H_
#define RUNLOG_TESTS_TRACKING_QUERY_RUN_FIXTURE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracking/query/query.h"
#include "tracking/repo.h"
#include "tracking/value_json.h"

namespace runlog::query::testing {

inline RunRecord MakeRun(std::string id, absl::string_view params_json = "{}") {
  RunRecord r;
  r.id = std::move(id);
  r.state = storage::RunState::kCommitted;
  r.status = RunStatus::kFinished;
  r.summary.created = absl::FromUnixSeconds(1'780'000'000);
  r.ended = r.summary.created + absl::Minutes(30);
  absl::StatusOr<Value> p = ParseJson(params_json);
  if (p.ok()) r.summary.params = *std::move(p);
  return r;
}

inline SeriesSummary& AddScalar(RunRecord& r, std::string name,
                                std::vector<double> values,
                                Context context = {}) {
  SeriesSummary s;
  s.key = SeriesKey{std::move(name), std::move(context)};
  for (size_t i = 0; i < values.size(); ++i) {
    s.Add(static_cast<int64_t>(i * 10), values[i]);
  }
  r.summary.series.push_back(std::move(s));
  return r.summary.series.back();
}

// The ids of `runs` that `where` (with `order_by`) selects, in order; the
// compile error's message when it does not compile.
inline std::vector<std::string> Select(
    const std::vector<RunRecord>& runs, absl::string_view where,
    const std::vector<std::string>& order_by = {},
    absl::Time now = absl::FromUnixSeconds(1'790'000'000)) {
  absl::StatusOr<RunQuery> q = RunQuery::Compile(where, order_by);
  if (!q.ok())
    return {std::string("error: ") + std::string(q.status().message())};
  std::vector<RunRecord> picked;
  for (const RunRecord& r : runs) {
    if (q->Matches(r, now)) picked.push_back(r);
  }
  q->SortAndPage(&picked, 0, std::nullopt, now);
  std::vector<std::string> ids;
  for (const RunRecord& r : picked) ids.push_back(r.id);
  return ids;
}

}  // namespace runlog::query::testing

#endif  // RUNLOG_TESTS_TRACKING_QUERY_RUN_FIXTURE_H_
