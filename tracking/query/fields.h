// What a field of the query language is in one run: the names of
// attributes and metric summaries, and the lookup of a parsed Field in a
// RunRecord. Reads only the record (its summary); never a point.
//
// Thread-safety: pure functions.
#ifndef RUNLOG_TRACKING_QUERY_FIELDS_H_
#define RUNLOG_TRACKING_QUERY_FIELDS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracking/query/ast.h"
#include "tracking/query/datum.h"
#include "tracking/repo.h"
#include "tracking/value.h"

namespace runlog::query {

// "id", "experiment", ...; also MLflow's names (run_id, run_name,
// start_time, end_time, experiment_id). nullopt for any other name.
std::optional<Attribute> AttributeByName(absl::string_view name);
absl::string_view AttributeName(Attribute a);
// The canonical names, for suggestions and documentation.
const std::vector<std::string>& AttributeNames();

// "last", "first", "min", "max", "count", "first_step", "last_step".
std::optional<Aggregate> AggregateByName(absl::string_view name);
absl::string_view AggregateName(Aggregate a);
const std::vector<std::string>& AggregateNames();

// The status and state words of records, as queries and listings spell
// them (RunStatusName, storage::RunStateName).
absl::string_view StatusWord(const RunRecord& r);

// The field in `r`. `now` is the end of a run that has not ended, for
// attributes.duration. Strings point into `r` (or static storage).
Datum FieldDatum(const Field& f, const RunRecord& r, absl::Time now);

// The series summary a metric field picks in `r`, and which aggregate of
// it; nullptr when the run has none (or, with no context given, several
// series of that name and none without context).
const SeriesSummary* FindMetric(const Field& f, const RunRecord& r,
                                Aggregate* aggregate);

// The field as a Value for tables and DataFrames: times as RFC 3339 text,
// durations as seconds (double), the tag set as a list; nullopt when the
// run has no such field.
std::optional<Value> FieldValue(const Field& f, const RunRecord& r,
                                absl::Time now);

}  // namespace runlog::query

#endif  // RUNLOG_TRACKING_QUERY_FIELDS_H_
