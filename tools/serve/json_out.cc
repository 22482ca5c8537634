#include "tools/serve/json_out.h"

#include <cmath>
#include <utility>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace runlog::serve {
namespace {

using json = nlohmann::json;

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

json Numbers(const std::vector<double>& v) {
  json out = json::array();
  out.get_ref<json::array_t&>().reserve(v.size());
  for (double d : v) out.push_back(Number(d));
  return out;
}

json Ints(const std::vector<int64_t>& v) {
  json out = json::array();
  out.get_ref<json::array_t&>().reserve(v.size());
  for (int64_t i : v) out.push_back(i);
  return out;
}

json ValueJson(const Value& v) {
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
      json out = json::array();
      for (const Value& e : v.as_list()) out.push_back(ValueJson(e));
      return out;
    }
    case Value::Kind::kMap: {
      json out = json::object();
      for (const auto& [k, e] : v.as_map()) out[k] = ValueJson(e);
      return out;
    }
  }
  return nullptr;
}

json ContextJson(const Context& context) {
  json out = json::object();
  for (const auto& [k, v] : context) out[k] = v;
  return out;
}

json SummaryJson(const SeriesSummary& s) {
  json out = {{"name", s.key.name},
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

}  // namespace

std::string ErrorJson(absl::string_view message) {
  return Dump({{"error", std::string(message)}});
}

std::string RunJson(const RunRecord& r, std::optional<uint64_t> bytes) {
  json tags = json::array();
  for (const std::string& t : r.summary.tags) tags.push_back(t);
  json series = json::array();
  for (const SeriesSummary& s : r.summary.series) {
    series.push_back(SummaryJson(s));
  }
  json ended = nullptr;
  if (r.ended != absl::InfinitePast()) ended = absl::ToUnixMicros(r.ended);
  json out = {{"id", r.id},
              {"state", std::string(storage::RunStateName(r.state))},
              {"status", r.error.ok() ? std::string(RunStatusName(r.status))
                                      : std::string("damaged")},
              {"experiment", r.summary.experiment},
              {"name", r.summary.name},
              {"description", r.summary.description},
              {"created_us", absl::ToUnixMicros(r.summary.created)},
              {"ended_us", std::move(ended)},
              {"failure_reason", r.failure_reason},
              {"detail", r.detail},
              {"error", r.error.ok() ? "" : std::string(r.error.message())},
              {"tags", std::move(tags)},
              {"params", ValueJson(r.summary.params)},
              {"series", std::move(series)}};
  if (bytes) out["bytes_on_disk"] = *bytes;
  return Dump(out);
}

std::string SeriesAnswerJson(absl::string_view run, const SeriesKey& key,
                             const SeriesAnswer& a) {
  json out = {{"run", std::string(run)},
              {"name", key.name},
              {"context", ContextJson(key.context)},
              {"missing", a.missing}};
  if (a.missing) return Dump(out);
  out["count"] = a.count;
  out["exact"] = a.exact;
  if (a.exact) {
    const ScalarColumns& p = a.points;
    out["points"] = {{"step", Ints(p.steps)},
                     {"value", Numbers(p.values)},
                     {"epoch", Numbers(p.epochs)},
                     {"time_us", Ints(p.times_us)}};
  } else {
    const Envelope& e = a.envelope;
    out["envelope"] = {
        {"step", Ints(e.steps)},       {"epoch", Numbers(e.epochs)},
        {"time_us", Ints(e.times_us)}, {"min", Numbers(e.min)},
        {"max", Numbers(e.max)},       {"last", Numbers(e.last)}};
  }
  return Dump(out);
}

std::string SeriesListJson(const std::vector<std::string>& parts) {
  std::string out = "{\"series\":[";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ',';
    out += parts[i];
  }
  out += "]}";
  return out;
}

std::string TextsJson(absl::string_view run, const TextColumns& c, size_t n) {
  json steps = json::array(), values = json::array();
  for (size_t i = 0; i < n && i < c.size(); ++i) {
    steps.push_back(c.steps[i]);
    values.push_back(c.values[i]);
  }
  return Dump({{"run", std::string(run)},
               {"step", std::move(steps)},
               {"value", std::move(values)},
               {"truncated", c.size() > n}});
}

std::string HistogramsJson(absl::string_view run, const HistogramColumns& c,
                           const std::vector<size_t>& picks) {
  json steps = json::array(), edges = json::array(), counts = json::array();
  for (size_t i : picks) {
    steps.push_back(c.steps[i]);
    edges.push_back(Numbers(c.values[i].edges));
    counts.push_back(Numbers(c.values[i].counts));
  }
  return Dump({{"run", std::string(run)},
               {"step", std::move(steps)},
               {"edges", std::move(edges)},
               {"counts", std::move(counts)}});
}

std::string BlobsJson(absl::string_view run, const BlobColumns& c) {
  json steps = json::array(), types = json::array(), sizes = json::array();
  for (size_t i = 0; i < c.size(); ++i) {
    steps.push_back(c.steps[i]);
    types.push_back(c.values[i].content_type);
    sizes.push_back(c.values[i].data.size());
  }
  return Dump({{"run", std::string(run)},
               {"step", std::move(steps)},
               {"content_type", std::move(types)},
               {"bytes", std::move(sizes)}});
}

}  // namespace runlog::serve
