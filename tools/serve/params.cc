#include "tools/serve/params.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "storage/run_id.h"

namespace runlog::serve {
namespace {

// Echoed values are cut so a hostile parameter cannot flood an error.
std::string Shown(absl::string_view text) {
  constexpr size_t kShown = 64;
  std::string s(text.substr(0, kShown));
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > kShown) s += "...";
  return s;
}

absl::Status TooLong(absl::string_view name, size_t size, size_t limit) {
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": ", size, " bytes, more than the limit of ", limit));
}

}  // namespace

absl::StatusOr<int64_t> ParseBoundedInt(absl::string_view name,
                                        absl::string_view text, int64_t min,
                                        int64_t max) {
  int64_t v = 0;
  if (text.size() > 20 || !absl::SimpleAtoi(text, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": '", Shown(text), "' is not an integer"));
  }
  if (v < min || v > max) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": ", v, " is outside the allowed range [", min, ", ", max, "]"));
  }
  return v;
}

absl::StatusOr<StepRange> ParseStepRange(absl::string_view text) {
  StepRange range;
  if (text.empty()) return range;
  auto step = [&](absl::string_view part) -> absl::StatusOr<int64_t> {
    int64_t v = 0;
    if (part.size() > 20 || !absl::SimpleAtoi(part, &v)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "steps: '", Shown(text), "' is not a step range (A:B, A:, :B or A)"));
    }
    return v;
  };
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos) {
    absl::StatusOr<int64_t> s = step(text);
    if (!s.ok()) return s.status();
    range.first = range.last = *s;
    return range;
  }
  const absl::string_view a = text.substr(0, colon);
  const absl::string_view b = text.substr(colon + 1);
  if (a.empty() && b.empty()) {
    return absl::InvalidArgumentError("steps: ':' gives neither end");
  }
  if (!a.empty()) {
    absl::StatusOr<int64_t> s = step(a);
    if (!s.ok()) return s.status();
    range.first = *s;
  }
  if (!b.empty()) {
    absl::StatusOr<int64_t> s = step(b);
    if (!s.ok()) return s.status();
    range.last = *s;
  }
  if (range.first > range.last) {
    return absl::InvalidArgumentError(absl::StrCat(
        "steps: '", Shown(text), "': the first step is after the last"));
  }
  return range;
}

absl::StatusOr<std::vector<std::string>> ParseRunIds(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("runs: no run id given");
  // 33 bytes per id (32 and a comma) bound the text before it is split.
  if (text.size() > kMaxRunsPerRequest * 33) {
    return TooLong("runs", text.size(), kMaxRunsPerRequest * 33);
  }
  std::vector<std::string> ids;
  absl::flat_hash_set<absl::string_view> seen;
  for (absl::string_view id : absl::StrSplit(text, ',')) {
    if (!storage::IsValidRunId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("runs: '", Shown(id), "' is not a valid run id"));
    }
    if (!seen.insert(id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("runs: run ", id, " is given twice"));
    }
    ids.emplace_back(id);
  }
  if (ids.size() > kMaxRunsPerRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat("runs: ", ids.size(), " runs, more than the limit of ",
                     kMaxRunsPerRequest));
  }
  return ids;
}

absl::StatusOr<Context> ParseContext(absl::string_view text) {
  Context context;
  if (text.empty()) return context;
  if (text.size() > kMaxQueryBytes) {
    return TooLong("context", text.size(), kMaxQueryBytes);
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr,
                                                 /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "context: '", Shown(text),
        "' is not a JSON object of strings, e.g. {\"subset\":\"train\"}"));
  }
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "context: the value of '", Shown(k), "' is not a string"));
    }
    context.emplace(k, v.get<std::string>());
  }
  return context;
}

absl::StatusOr<std::vector<std::string>> ParseOrderBy(absl::string_view text) {
  std::vector<std::string> keys;
  if (text.size() > kMaxQueryBytes) {
    return TooLong("order_by", text.size(), kMaxQueryBytes);
  }
  if (absl::StripAsciiWhitespace(text).empty()) return keys;
  // Keys such as metrics["loss", subset="train"].min hold commas of their
  // own: only a comma outside brackets and quotes separates two keys.
  int depth = 0;
  char quote = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ',';
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '(') {
      ++depth;
    } else if ((c == ']' || c == ')') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      absl::string_view key =
          absl::StripAsciiWhitespace(text.substr(start, i - start));
      if (key.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("order_by: empty sort key in '", Shown(text), "'"));
      }
      keys.emplace_back(key);
      start = i + 1;
    }
  }
  // An open quote swallowed the end: the rest is one key, and the query
  // parser reports where it is malformed.
  if (start <= text.size() && quote != 0) {
    keys.emplace_back(absl::StripAsciiWhitespace(text.substr(start)));
  }
  return keys;
}

absl::StatusOr<std::string> ParseWhere(absl::string_view text) {
  if (text.size() > kMaxQueryBytes) {
    return TooLong("where", text.size(), kMaxQueryBytes);
  }
  return std::string(text);
}

absl::StatusOr<std::string> ParseSeriesName(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("name: missing");
  if (text.size() > kMaxNameBytes) {
    return TooLong("name", text.size(), kMaxNameBytes);
  }
  return std::string(text);
}

}  // namespace runlog::serve
