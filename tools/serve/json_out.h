// JSON for the web UI's API: runs, series summaries and params, in the
// shapes docs/ui.md documents. The non-finite doubles, which JSON lacks,
// are the strings "NaN", "Infinity" and "-Infinity" (the UI reads them back
// as numbers). Pure functions; thread-safe.
#ifndef RUNLOG_TOOLS_SERVE_JSON_OUT_H_
#define RUNLOG_TOOLS_SERVE_JSON_OUT_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tracking/repo.h"
#include "tracking/value.h"

namespace runlog::serve {

// A double as a JSON number, or one of the three strings above.
nlohmann::json Number(double v);
nlohmann::json Numbers(const std::vector<double>& v);
nlohmann::json ValueJson(const Value& v);
nlohmann::json ContextJson(const Context& context);
nlohmann::json SummaryJson(const SeriesSummary& s);
// A run's row: id, state, status, experiment, name, description, created_us,
// ended_us (null while uncommitted), failure_reason, detail, error, tags,
// params, series (summaries).
nlohmann::json RecordJson(const RunRecord& r);

}  // namespace runlog::serve

#endif  // RUNLOG_TOOLS_SERVE_JSON_OUT_H_
