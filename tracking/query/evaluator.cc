#include "tracking/query/evaluator.h"

#include <cmath>

#include "absl/strings/match.h"
#include "tracking/query/fields.h"

namespace runlog::query {
namespace {

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Numbers compare exactly between ints, as doubles otherwise; nullopt when
// either is NaN.
std::optional<int> CompareNumbers(const Datum& a, const Datum& b) {
  if (a.kind == Datum::Kind::kInt && b.kind == Datum::Kind::kInt) {
    return Cmp(a.i, b.i);
  }
  const double x = a.as_double();
  const double y = b.as_double();
  if (std::isnan(x) || std::isnan(y)) return std::nullopt;
  return Cmp(x, y);
}

std::optional<bool> BoolWord(absl::string_view s) {
  if (absl::EqualsIgnoreCase(s, "true")) return true;
  if (absl::EqualsIgnoreCase(s, "false")) return false;
  return std::nullopt;
}

Datum Resolve(const Operand& op, const RunRecord& r, absl::Time now) {
  return op.field ? FieldDatum(*op.field, r, now) : LiteralDatum(op.literal);
}

Truth Of(bool b) { return b ? Truth::kTrue : Truth::kFalse; }

Truth Negate(Truth t) {
  switch (t) {
    case Truth::kTrue:
      return Truth::kFalse;
    case Truth::kFalse:
      return Truth::kTrue;
    case Truth::kUnknown:
      return Truth::kUnknown;
  }
  return Truth::kUnknown;
}

Truth ApplyOp(CompareOp op, const Datum& a, const Datum& b) {
  if (a.missing() || b.missing()) return Truth::kUnknown;
  const bool numbers = (a.numeric() || a.kind == Datum::Kind::kString) &&
                       (b.numeric() || b.kind == Datum::Kind::kString) &&
                       (a.numeric() || b.numeric());
  std::optional<int> c = Compare(a, b);
  if (!c) {
    // IEEE: NaN is unequal to every number, itself included.
    const bool nan =
        numbers && (std::isnan(a.as_double()) || std::isnan(b.as_double()));
    if (nan && a.numeric() && b.numeric()) {
      return Of(op == CompareOp::kNe);
    }
    return Truth::kUnknown;
  }
  switch (op) {
    case CompareOp::kEq:
      return Of(*c == 0);
    case CompareOp::kNe:
      return Of(*c != 0);
    case CompareOp::kLt:
      return Of(*c < 0);
    case CompareOp::kLe:
      return Of(*c <= 0);
    case CompareOp::kGt:
      return Of(*c > 0);
    case CompareOp::kGe:
      return Of(*c >= 0);
  }
  return Truth::kUnknown;
}

// Whether `d` equals `item` for IN.
Truth ItemEquals(const Datum& d, const Literal& item) {
  return ApplyOp(CompareOp::kEq, d, LiteralDatum(item));
}

// IN is true when the left side equals an item, false when it equals none
// (items of other kinds are simply unequal), unknown when it is missing.
Truth EvaluateIn(const Expr& e, const RunRecord& r, absl::Time now) {
  const Datum d = Resolve(e.lhs, r, now);
  if (d.missing()) return Truth::kUnknown;
  if (!e.in_list) {
    // x IN tags / x IN params.list
    const Datum set = Resolve(e.rhs, r, now);
    if (set.missing()) return Truth::kUnknown;
    if (set.kind == Datum::Kind::kTags) {
      return Of(d.kind == Datum::Kind::kString &&
                set.tags->count(std::string(d.s)) > 0);
    }
    if (set.kind == Datum::Kind::kList) {
      for (const Value& v : *set.list) {
        if (ApplyOp(CompareOp::kEq, d, Datum::FromValue(v)) == Truth::kTrue) {
          return Truth::kTrue;
        }
      }
      return Truth::kFalse;
    }
    return Truth::kUnknown;
  }
  const bool hashed =
      e.items.size() > 8 && (d.kind == Datum::Kind::kString || d.numeric());
  if (hashed) {
    if (d.kind == Datum::Kind::kString) {
      if (e.string_items.contains(d.s)) return Truth::kTrue;
      if (std::optional<double> n = ParseNumber(d.s)) {
        if (e.number_items.contains(*n)) return Truth::kTrue;
      }
    } else if (e.number_items.contains(d.as_double())) {
      return Truth::kTrue;
    }
  }
  for (const Literal& item : e.items) {
    if (hashed && (item.kind == Literal::Kind::kString ||
                   item.kind == Literal::Kind::kInt ||
                   item.kind == Literal::Kind::kDouble)) {
      continue;  // looked up above
    }
    if (ItemEquals(d, item) == Truth::kTrue) return Truth::kTrue;
  }
  return Truth::kFalse;
}

}  // namespace

Datum LiteralDatum(const Literal& l) {
  switch (l.kind) {
    case Literal::Kind::kNull: {
      Datum d;
      d.kind = Datum::Kind::kNull;
      return d;
    }
    case Literal::Kind::kBool:
      return Datum::Bool(l.b);
    case Literal::Kind::kInt:
      return Datum::Int(l.i);
    case Literal::Kind::kDouble:
      return Datum::Double(l.d);
    case Literal::Kind::kString:
      return Datum::String(l.s);
    case Literal::Kind::kDuration:
      return Datum::Duration(l.duration);
    case Literal::Kind::kTime:
      return Datum::Time(l.time);
  }
  return Datum::Missing();
}

std::optional<int> Compare(const Datum& a, const Datum& b) {
  using K = Datum::Kind;
  if (a.missing() || b.missing()) return std::nullopt;
  if (a.numeric() && b.numeric()) return CompareNumbers(a, b);
  // A string that is a number in full compares as that number with a
  // number: MLflow keeps every param as a string, and its users write
  // params.lr = '0.001'.
  if (a.numeric() && b.kind == K::kString) {
    std::optional<double> n = ParseNumber(b.s);
    if (!n) return std::nullopt;
    return CompareNumbers(a, Datum::Double(*n));
  }
  if (a.kind == K::kString && b.numeric()) {
    std::optional<double> n = ParseNumber(a.s);
    if (!n) return std::nullopt;
    return CompareNumbers(Datum::Double(*n), b);
  }
  if (a.kind == K::kString && b.kind == K::kString) {
    return Cmp(a.s, b.s);
  }
  if (a.kind == K::kBool && b.kind == K::kBool) return Cmp(a.b, b.b);
  // Python writes True; MLflow stores it as 'True'.
  if (a.kind == K::kBool && b.kind == K::kString) {
    std::optional<bool> w = BoolWord(b.s);
    if (!w) return std::nullopt;
    return Cmp(a.b, *w);
  }
  if (a.kind == K::kString && b.kind == K::kBool) {
    std::optional<bool> w = BoolWord(a.s);
    if (!w) return std::nullopt;
    return Cmp(*w, b.b);
  }
  if (a.kind == K::kNull && b.kind == K::kNull) return 0;
  if (a.kind == K::kTime && b.kind == K::kTime) return Cmp(a.time, b.time);
  // MLflow's start_time and end_time are milliseconds since the epoch.
  if (a.kind == K::kTime && b.numeric()) {
    return CompareNumbers(
        Datum::Double(absl::ToDoubleMilliseconds(a.time - absl::UnixEpoch())),
        b);
  }
  if (a.numeric() && b.kind == K::kTime) {
    return CompareNumbers(
        a,
        Datum::Double(absl::ToDoubleMilliseconds(b.time - absl::UnixEpoch())));
  }
  if (a.kind == K::kDuration && b.kind == K::kDuration) {
    return Cmp(a.duration, b.duration);
  }
  // A bare number against a duration is seconds.
  if (a.kind == K::kDuration && b.numeric()) {
    return CompareNumbers(Datum::Double(absl::ToDoubleSeconds(a.duration)), b);
  }
  if (a.numeric() && b.kind == K::kDuration) {
    return CompareNumbers(a, Datum::Double(absl::ToDoubleSeconds(b.duration)));
  }
  return std::nullopt;
}

int SortCompare(const Datum& a, const Datum& b) {
  using K = Datum::Kind;
  auto rank = [](const Datum& d) {
    switch (d.kind) {
      case K::kMissing:
        return 9;
      case K::kNull:
        return 0;
      case K::kBool:
        return 1;
      case K::kInt:
      case K::kDouble:
        return std::isnan(d.as_double()) ? 8 : 2;
      case K::kString:
        return 3;
      case K::kTime:
        return 4;
      case K::kDuration:
        return 5;
      default:
        return 7;
    }
  };
  const int ra = rank(a);
  const int rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra >= 7) return 0;
  std::optional<int> c = Compare(a, b);
  return c.value_or(0);
}

Truth Evaluate(const Expr& e, const RunRecord& r, absl::Time now) {
  switch (e.kind) {
    case Expr::Kind::kAnd: {
      Truth out = Truth::kTrue;
      for (const auto& c : e.children) {
        const Truth t = Evaluate(*c, r, now);
        if (t == Truth::kFalse) return Truth::kFalse;
        if (t == Truth::kUnknown) out = Truth::kUnknown;
      }
      return out;
    }
    case Expr::Kind::kOr: {
      Truth out = Truth::kFalse;
      for (const auto& c : e.children) {
        const Truth t = Evaluate(*c, r, now);
        if (t == Truth::kTrue) return Truth::kTrue;
        if (t == Truth::kUnknown) out = Truth::kUnknown;
      }
      return out;
    }
    case Expr::Kind::kNot:
      return Negate(Evaluate(*e.children[0], r, now));
    case Expr::Kind::kCompare:
      return ApplyOp(e.op, Resolve(e.lhs, r, now), Resolve(e.rhs, r, now));
    case Expr::Kind::kLike:
    case Expr::Kind::kMatch: {
      const Datum d = Resolve(e.lhs, r, now);
      Truth t;
      std::optional<std::string> text;
      absl::string_view subject = d.s;
      if (d.kind != Datum::Kind::kString) {
        text = MatchText(d);
        if (!text) return Truth::kUnknown;
        subject = *text;
      }
      // Debian's RE2 takes its own StringPiece.
      const re2::StringPiece piece(subject.data(), subject.size());
      t = Of(e.kind == Expr::Kind::kLike ? RE2::FullMatch(piece, *e.regex)
                                         : RE2::PartialMatch(piece, *e.regex));
      return e.negated ? Negate(t) : t;
    }
    case Expr::Kind::kIn: {
      const Truth t = EvaluateIn(e, r, now);
      return e.negated ? Negate(t) : t;
    }
    case Expr::Kind::kExists: {
      const Datum d = Resolve(e.lhs, r, now);
      if (e.lhs.field && e.lhs.field->kind == Field::Kind::kTag) {
        return Of(!(d.kind == Datum::Kind::kBool && !d.b));
      }
      return Of(!d.missing());
    }
    case Expr::Kind::kTruth: {
      const Datum d = Resolve(e.lhs, r, now);
      // A bare tags.x asks whether the run has the tag (valued or not).
      if (e.lhs.field && e.lhs.field->kind == Field::Kind::kTag) {
        return Of(!(d.kind == Datum::Kind::kBool && !d.b));
      }
      if (d.kind == Datum::Kind::kBool) return Of(d.b);
      return Truth::kUnknown;
    }
  }
  return Truth::kUnknown;
}

}  // namespace runlog::query
