#include "tools/segtool/run_table.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tools/segtool/format.h"
#include "tracking/query/parser.h"
#include "tracking/value_json.h"

namespace runlog::segtool {
namespace {

// Leaves of the params tree, by path, in the tree's order.
void Leaves(
    const Value& v, std::vector<std::string>& path,
    std::vector<std::pair<std::vector<std::string>, const Value*>>& out) {
  if (v.is_map() && !v.as_map().empty()) {
    for (const auto& [k, child] : v.as_map()) {
      path.push_back(k);
      Leaves(child, path, out);
      path.pop_back();
    }
    return;
  }
  if (!path.empty()) out.emplace_back(path, &v);
}

const Value* Find(const Value& root, const std::vector<std::string>& path) {
  const Value* v = &root;
  for (const std::string& p : path) {
    v = v->Find(p);
    if (v == nullptr) return nullptr;
  }
  return v;
}

}  // namespace

absl::StatusOr<std::vector<query::Field>> ParseColumns(absl::string_view list) {
  std::vector<query::Field> out;
  int depth = 0;
  char quote = 0;
  size_t start = 0;
  for (size_t i = 0; i <= list.size(); ++i) {
    const char c = i < list.size() ? list[i] : ',';
    if (quote) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      const absl::string_view item = list.substr(start, i - start);
      const std::string source =
          absl::StrCat("--columns item ", out.size() + 1);
      absl::StatusOr<query::Field> f = query::ParseField(item, source);
      if (!f.ok()) return f.status();
      out.push_back(*std::move(f));
      start = i + 1;
    }
  }
  return out;
}

std::vector<query::Field> DefaultColumns(const std::vector<RunRecord>& runs) {
  std::vector<query::Field> out;
  if (runs.empty()) return out;
  // Params: the union of leaves, first-seen order; kept when they differ.
  std::vector<std::vector<std::string>> paths;
  std::map<std::vector<std::string>, bool> seen;
  for (const RunRecord& r : runs) {
    std::vector<std::string> path;
    std::vector<std::pair<std::vector<std::string>, const Value*>> leaves;
    Leaves(r.summary.params, path, leaves);
    for (auto& [p, v] : leaves) {
      if (seen.emplace(p, true).second) paths.push_back(p);
    }
  }
  for (const std::vector<std::string>& p : paths) {
    bool differs = runs.size() == 1;
    const Value* first = Find(runs[0].summary.params, p);
    for (size_t i = 1; i < runs.size() && !differs; ++i) {
      const Value* v = Find(runs[i].summary.params, p);
      differs = (first == nullptr) != (v == nullptr) ||
                (first != nullptr && *first != *v);
    }
    if (!differs) continue;
    std::string text = "params";
    for (const std::string& part : p) {
      absl::StrAppend(&text, ".", part);
    }
    absl::StatusOr<query::Field> f = query::ParseField(text);
    if (!f.ok()) {
      // A key that needs quoting: build the field directly.
      query::Field direct;
      direct.kind = query::Field::Kind::kParam;
      direct.path = p;
      direct.text = text;
      out.push_back(std::move(direct));
    } else {
      out.push_back(*std::move(f));
    }
  }
  // Metrics every run has, as the first run orders them.
  for (const SeriesSummary& s : runs[0].summary.series) {
    if (s.kind != SeriesKind::kScalar) continue;
    bool shared = true;
    for (size_t i = 1; i < runs.size() && shared; ++i) {
      shared = false;
      for (const SeriesSummary& t : runs[i].summary.series) {
        if (t.key == s.key && t.kind == SeriesKind::kScalar) shared = true;
      }
    }
    if (!shared) continue;
    query::Field f;
    f.kind = query::Field::Kind::kMetric;
    f.metric = s.key.name;
    f.context = s.key.context;
    f.aggregate = query::Aggregate::kLast;
    f.text = absl::StrCat("metrics.", s.key.ToString());
    out.push_back(std::move(f));
  }
  return out;
}

std::string CellText(const std::optional<Value>& v) {
  if (!v) return "-";
  switch (v->kind()) {
    case Value::Kind::kDouble:
      return FormatShort(v->as_double());
    case Value::Kind::kInt:
      return absl::StrCat(v->as_int());
    case Value::Kind::kString:
      return SingleLine(v->as_string());
    case Value::Kind::kBool:
      return v->as_bool() ? "true" : "false";
    default:
      return SingleLine(ToJson(*v));
  }
}

std::string CsvCell(const std::optional<Value>& v) {
  if (!v) return "";
  switch (v->kind()) {
    case Value::Kind::kDouble:
      return FormatExact(v->as_double());
    case Value::Kind::kInt:
      return absl::StrCat(v->as_int());
    case Value::Kind::kString:
      return CsvField(v->as_string());
    case Value::Kind::kBool:
      return v->as_bool() ? "true" : "false";
    default:
      return CsvField(ToJson(*v));
  }
}

}  // namespace runlog::segtool
