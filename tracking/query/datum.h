// Datum: the value of a field in one run, or of a literal, as the evaluator
// compares it. Borrowed: strings, lists and maps point into the RunRecord
// (or the Literal) they came from, so evaluating a query copies nothing.
#ifndef RUNLOG_TRACKING_QUERY_DATUM_H_
#define RUNLOG_TRACKING_QUERY_DATUM_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracking/value.h"

namespace runlog::query {

struct Datum {
  enum class Kind {
    kMissing,  // the run has no such field
    kNull,
    kBool,
    kInt,
    kDouble,
    kString,
    kTime,
    kDuration,
    kList,  // a list param: `x IN params.list`
    kMap,   // a subtree of params: compares with nothing
    kTags,  // the run's tag set: `'x' IN tags`
  };
  Kind kind = Kind::kMissing;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  absl::string_view s;
  absl::Time time;
  absl::Duration duration;
  const Value::List* list = nullptr;
  const std::set<std::string>* tags = nullptr;

  bool missing() const { return kind == Kind::kMissing; }
  bool numeric() const { return kind == Kind::kInt || kind == Kind::kDouble; }
  double as_double() const {
    return kind == Kind::kInt ? static_cast<double>(i) : d;
  }

  static Datum Missing() { return Datum(); }
  static Datum Bool(bool v) {
    Datum x;
    x.kind = Kind::kBool;
    x.b = v;
    return x;
  }
  static Datum Int(int64_t v) {
    Datum x;
    x.kind = Kind::kInt;
    x.i = v;
    return x;
  }
  static Datum Double(double v) {
    Datum x;
    x.kind = Kind::kDouble;
    x.d = v;
    return x;
  }
  static Datum String(absl::string_view v) {
    Datum x;
    x.kind = Kind::kString;
    x.s = v;
    return x;
  }
  static Datum Time(absl::Time v) {
    Datum x;
    x.kind = Kind::kTime;
    x.time = v;
    return x;
  }
  static Datum Duration(absl::Duration v) {
    Datum x;
    x.kind = Kind::kDuration;
    x.duration = v;
    return x;
  }
  // A param value (a scalar, list or map of the tree).
  static Datum FromValue(const Value& v);
};

// The text LIKE and ~ match against: strings as they are, numbers and bools
// as they print (1e-05, 3, true); nullopt for the other kinds.
std::optional<std::string> MatchText(const Datum& d);

// A number written in full in `s` ("0.001", "-3", "1e5"); nullopt otherwise.
std::optional<double> ParseNumber(absl::string_view s);

// '2026-11-01T12:00Z', '2026-11-01 12:00:05.5+02:00', '2026-11-01' (UTC
// when no offset is given); nullopt when `s` is no timestamp.
std::optional<absl::Time> ParseTimestamp(absl::string_view s);

// "90s", "1.5h", "2h30m", "100ms", "3d"; nullopt otherwise.
std::optional<absl::Duration> ParseDurationLiteral(absl::string_view s);

}  // namespace runlog::query

#endif  // RUNLOG_TRACKING_QUERY_DATUM_H_
