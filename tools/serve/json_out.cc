#include "tools/serve/json_out.h"

#include <cmath>

#include "absl/time/time.h"

namespace runlog::serve {

nlohmann::json Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

nlohmann::json Numbers(const std::vector<double>& v) {
  nlohmann::json out = nlohmann::json::array();
  out.get_ref<nlohmann::json::array_t&>().reserve(v.size());
  for (double d : v) out.push_back(Number(d));
  return out;
}

nlohmann::json ValueJson(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      return nullptr;
    case Value::Kind::kBool:
      return v.as_bool();
    case Value::Kind::kInt:
      return v.as_int();
    case Value::Kind::kDouble:
      return Number(v.as_double());
    case Value::Kind::kString:
      return v.as_string();
    case Value::Kind::kList: {
      nlohmann::json out = nlohmann::json::array();
      for (const Value& e : v.as_list()) out.push_back(ValueJson(e));
      return out;
    }
    case Value::Kind::kMap: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [k, e] : v.as_map()) out[k] = ValueJson(e);
      return out;
    }
  }
  return nullptr;
}

nlohmann::json ContextJson(const Context& context) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : context) out[k] = v;
  return out;
}

nlohmann::json SummaryJson(const SeriesSummary& s) {
  nlohmann::json out = {{"name", s.key.name},
                        {"context", ContextJson(s.key.context)},
                        {"kind", std::string(SeriesKindName(s.kind))},
                        {"count", s.count},
                        {"first_step", s.first_step},
                        {"last_step", s.last_step}};
  if (s.kind == SeriesKind::kScalar) {
    out["first"] = Number(s.first);
    out["last"] = Number(s.last);
    out["min"] = Number(s.min);
    out["max"] = Number(s.max);
  }
  return out;
}

nlohmann::json RecordJson(const RunRecord& r) {
  nlohmann::json tags = nlohmann::json::array();
  for (const std::string& t : r.summary.tags) tags.push_back(t);
  nlohmann::json series = nlohmann::json::array();
  for (const SeriesSummary& s : r.summary.series) {
    series.push_back(SummaryJson(s));
  }
  nlohmann::json ended = nullptr;
  if (r.ended != absl::InfinitePast()) ended = absl::ToUnixMicros(r.ended);
  return {{"id", r.id},
          {"state", std::string(storage::RunStateName(r.state))},
          {"status", r.error.ok() ? std::string(RunStatusName(r.status))
                                  : std::string("damaged")},
          {"experiment", r.summary.experiment},
          {"name", r.summary.name},
          {"description", r.summary.description},
          {"created_us", absl::ToUnixMicros(r.summary.created)},
          {"ended_us", ended},
          {"failure_reason", r.failure_reason},
          {"detail", r.detail},
          {"error", r.error.ok() ? "" : std::string(r.error.message())},
          {"tags", std::move(tags)},
          {"params", ValueJson(r.summary.params)},
          {"series", std::move(series)}};
}

}  // namespace runlog::serve
