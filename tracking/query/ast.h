// The parsed form of a query (docs/query.md): fields, literals and the
// expression tree the parser builds and the evaluator walks.
//
// Plain value types; an Expr owns its children. Thread-safety: immutable
// after parsing, so one tree may be evaluated by many threads at once (RE2
// objects are thread-safe for matching).
#ifndef RUNLOG_TRACKING_QUERY_AST_H_
#define RUNLOG_TRACKING_QUERY_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "re2/re2.h"
#include "tracking/series.h"

namespace runlog::query {

// Run attributes (attributes.<name>, run.<name>, or the bare name).
enum class Attribute {
  kId,
  kExperiment,
  kName,
  kDescription,
  kStatus,  // finished, failed, crashed, running, abandoned
  kState,   // committed, live, abandoned, unknown
  kCreated,
  kEnded,
  kDuration,
  kPoints,  // points of every series
  kSeries,  // number of series
  kSize,    // bytes on disk; only when the listing measured them
};

// A metric summary picked by metrics.<name>.<aggregate>.
enum class Aggregate {
  kLast,
  kFirst,
  kMin,
  kMax,
  kCount,
  kFirstStep,
  kLastStep
};

struct Position {
  int line = 1;
  int column = 1;
};

struct Field {
  enum class Kind {
    kParam,      // params.<path>
    kTag,        // tags.<name>: true when the run has the tag, the value
                 // of a tag "<name>=value", else false
    kTags,       // tags (the set; only as the right side of IN)
    kAttribute,  // attributes.<name>
    kMetric,     // metrics.<name>...
  };
  Kind kind = Kind::kAttribute;
  Position pos;
  // As a column name: "params.optimizer.lr", "metrics.loss{subset=train}.min".
  std::string text;

  // kParam: the path components; `run.<name>` of a name that is no
  // attribute is a param too.
  std::vector<std::string> path;
  // kTag: the tag.
  std::string tag;
  // kAttribute.
  Attribute attribute = Attribute::kId;
  // kMetric: the series name, its context when one was given, and the
  // summary. `alt_name`, when set, is the other reading of a dotted name
  // whose last part names an aggregate: "metrics.a.min" is series "a.min"
  // (last value) when the run has it, otherwise series "a" and its min.
  std::string metric;
  std::optional<Context> context;
  Aggregate aggregate = Aggregate::kLast;
  std::optional<std::string> alt_name;
  Aggregate alt_aggregate = Aggregate::kLast;
};

struct Literal {
  // kTime only where the parser converted a string compared with a time
  // attribute ("created > '2026-11-01'").
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kDuration, kTime };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  absl::Duration duration;
  absl::Time time;
  Position pos;
};

// One side of a comparison.
struct Operand {
  std::optional<Field> field;  // a field, or else `literal`
  Literal literal;
  Position pos() const { return field ? field->pos : literal.pos; }
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

struct Expr {
  enum class Kind {
    kAnd,      // children
    kOr,       // children
    kNot,      // children[0]
    kCompare,  // lhs op rhs
    kLike,     // lhs [NOT] LIKE|ILIKE pattern, compiled into `regex`
    kMatch,    // lhs ~ pattern / lhs !~ pattern
    kIn,       // lhs [NOT] IN (list) / lhs [NOT] IN field
    kExists,   // exists(lhs.field)
    kTruth,    // a bare operand: true when it is the boolean true
  };
  Kind kind = Kind::kTruth;
  Position pos;
  std::vector<std::unique_ptr<Expr>> children;
  Operand lhs;
  Operand rhs;  // kCompare; kIn with a field on the right
  CompareOp op = CompareOp::kEq;
  bool negated = false;  // NOT LIKE, NOT IN, !~
  std::shared_ptr<const RE2> regex;
  // kIn with a list: the items, plus sets for fast lookup of string and
  // numeric items (most IN lists are one or the other).
  std::vector<Literal> items;
  absl::flat_hash_set<std::string> string_items;
  absl::flat_hash_set<double> number_items;
  bool in_list = false;  // kIn: items (true) or rhs field (false)
};

struct OrderKey {
  Field field;
  bool descending = false;
};

}  // namespace runlog::query

#endif  // RUNLOG_TRACKING_QUERY_AST_H_
