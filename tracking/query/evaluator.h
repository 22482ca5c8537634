// Evaluation of a parsed query over one run's record, in three-valued
// logic (docs/query.md, "Missing fields"): a comparison with a field the
// run lacks, or between values of kinds that do not compare, is unknown;
// NOT unknown is unknown; a run is selected only when the whole query is
// true.
//
// Thread-safety: pure functions over immutable inputs.
#ifndef RUNLOG_TRACKING_QUERY_EVALUATOR_H_
#define RUNLOG_TRACKING_QUERY_EVALUATOR_H_

#include <optional>

#include "absl/time/time.h"
#include "tracking/query/ast.h"
#include "tracking/query/datum.h"
#include "tracking/repo.h"

namespace runlog::query {

enum class Truth { kFalse, kTrue, kUnknown };

// `now` stands for the end of runs that have not ended (duration).
Truth Evaluate(const Expr& e, const RunRecord& r, absl::Time now);

// The order of two data for a comparison: <0, 0, >0, or nullopt when they
// do not compare (a missing side, kinds that do not mix, NaN).
std::optional<int> Compare(const Datum& a, const Datum& b);

// Total order for sorting (order_by): missing after everything, then NaN;
// otherwise by kind (null, bool, number, string, time, duration, others)
// and value.
int SortCompare(const Datum& a, const Datum& b);

// The Datum of a literal (strings point into it).
Datum LiteralDatum(const Literal& l);

}  // namespace runlog::query

#endif  // RUNLOG_TRACKING_QUERY_EVALUATOR_H_
