#include "tracking/query/datum.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace runlog::query {

Datum Datum::FromValue(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: {
      Datum x;
      x.kind = Kind::kNull;
      return x;
    }
    case Value::Kind::kBool:
      return Bool(v.as_bool());
    case Value::Kind::kInt:
      return Int(v.as_int());
    case Value::Kind::kDouble:
      return Double(v.as_double());
    case Value::Kind::kString:
      return String(v.as_string());
    case Value::Kind::kList: {
      Datum x;
      x.kind = Kind::kList;
      x.list = &v.as_list();
      return x;
    }
    case Value::Kind::kMap: {
      Datum x;
      x.kind = Kind::kMap;
      return x;
    }
  }
  return Missing();
}

std::optional<std::string> MatchText(const Datum& d) {
  switch (d.kind) {
    case Datum::Kind::kString:
      return std::string(d.s);
    case Datum::Kind::kInt:
      return absl::StrCat(d.i);
    case Datum::Kind::kDouble:
      // %.17g round-trips but prints 0.1 as 0.10000000000000001; the
      // shortest form that reads back the same is what users wrote.
      for (int precision = 1; precision <= 17; ++precision) {
        std::string s = absl::StrFormat("%.*g", precision, d.d);
        if (std::strtod(s.c_str(), nullptr) == d.d || std::isnan(d.d)) {
          return s;
        }
      }
      return absl::StrFormat("%.17g", d.d);
    case Datum::Kind::kBool:
      return d.b ? "true" : "false";
    default:
      return std::nullopt;
  }
}

std::optional<double> ParseNumber(absl::string_view s) {
  s = absl::StripAsciiWhitespace(s);
  if (s.empty()) return std::nullopt;
  // SimpleAtod also takes "nan", "inf" and hex; params that are such words
  // are strings, not numbers.
  for (char c : s) {
    if (!absl::ascii_isdigit(c) && c != '.' && c != '-' && c != '+' &&
        c != 'e' && c != 'E') {
      return std::nullopt;
    }
  }
  double v = 0;
  if (!absl::SimpleAtod(s, &v)) return std::nullopt;
  return v;
}

std::optional<absl::Time> ParseTimestamp(absl::string_view s) {
  static constexpr const char* kWithZone[] = {
      "%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M%Ez", "%Y-%m-%d %H:%M:%E*S%Ez",
      "%Y-%m-%d %H:%M%Ez"};
  static constexpr const char* kUtc[] = {
      "%Y-%m-%dT%H:%M:%E*S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%E*S",
      "%Y-%m-%d %H:%M", "%Y-%m-%d"};
  std::string text(absl::StripAsciiWhitespace(s));
  // absl's %Ez wants an offset; RFC 3339's "Z" is "+00:00".
  if (!text.empty() && (text.back() == 'Z' || text.back() == 'z')) {
    text.back() = '+';
    text += "00:00";
  }
  absl::Time t;
  std::string err;
  for (const char* f : kWithZone) {
    if (absl::ParseTime(f, text, &t, &err)) return t;
  }
  for (const char* f : kUtc) {
    if (absl::ParseTime(f, text, absl::UTCTimeZone(), &t, &err)) return t;
  }
  return std::nullopt;
}

std::optional<absl::Duration> ParseDurationLiteral(absl::string_view s) {
  absl::Duration total;
  size_t i = 0;
  if (s.empty()) return std::nullopt;
  while (i < s.size()) {
    const size_t start = i;
    while (i < s.size() && (absl::ascii_isdigit(s[i]) || s[i] == '.')) ++i;
    double n = 0;
    if (i == start || !absl::SimpleAtod(s.substr(start, i - start), &n)) {
      return std::nullopt;
    }
    const size_t ustart = i;
    while (i < s.size() && absl::ascii_isalpha(s[i])) ++i;
    const absl::string_view unit = s.substr(ustart, i - ustart);
    absl::Duration u;
    if (unit == "ns") {
      u = absl::Nanoseconds(1);
    } else if (unit == "us") {
      u = absl::Microseconds(1);
    } else if (unit == "ms") {
      u = absl::Milliseconds(1);
    } else if (unit == "s") {
      u = absl::Seconds(1);
    } else if (unit == "m") {
      u = absl::Minutes(1);
    } else if (unit == "h") {
      u = absl::Hours(1);
    } else if (unit == "d") {
      u = absl::Hours(24);
    } else {
      return std::nullopt;
    }
    total += n * u;
  }
  return total;
}

}  // namespace runlog::query
