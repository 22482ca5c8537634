#include "tracking/query/parser.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tracking/query/datum.h"
#include "tracking/query/fields.h"
#include "tracking/query/lexer.h"
#include "tracking/query/suggest.h"

namespace runlog::query {
namespace {

constexpr const char* kPrefixes[] = {"metrics",    "params", "tags",
                                     "attributes", "run",    "exists"};

// " (did you mean 'x'?)" for the closest candidate, or "".
std::string Suggest(absl::string_view word,
                    const std::vector<std::string>& candidates) {
  const std::string pick = ClosestMatch(word, candidates);
  return pick.empty() ? "" : absl::StrCat(" (did you mean '", pick, "'?)");
}

bool IsPlainName(absl::string_view s) {
  if (!s.empty() &&
      s.find_first_not_of("0123456789") == absl::string_view::npos) {
    return true;  // "params.layers.0"
  }
  if (s.empty() || !(absl::ascii_isalpha(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '/') return false;
  }
  return true;
}

std::string QuoteName(absl::string_view s) {
  if (IsPlainName(s)) return std::string(s);
  std::string out = "`";
  for (char c : s) {
    if (c == '`' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('`');
  return out;
}

// A name that takes the rest of a dotted field (tags, metrics): its dots
// need no quoting.
std::string QuoteDotted(absl::string_view s) {
  for (absl::string_view part : absl::StrSplit(s, '.')) {
    if (!IsPlainName(part)) return QuoteName(s);
  }
  return std::string(s);
}

std::string ContextText(const Context& c) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : c) {
    parts.push_back(absl::StrCat(QuoteName(k), "=", QuoteName(v)));
  }
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, absl::string_view source)
      : tokens_(std::move(tokens)), source_(source) {}

  absl::StatusOr<std::unique_ptr<Expr>> Where() {
    if (Peek().kind == TokenKind::kEnd) return nullptr;
    auto e = Or(0);
    if (!e.ok()) return e.status();
    if (Peek().kind != TokenKind::kEnd) {
      return Unexpected(Peek(), "'and', 'or' or the end of the query");
    }
    return e;
  }

  absl::StatusOr<Field> OnlyField() {
    auto f = ParseFieldHere();
    if (!f.ok()) return f.status();
    if (Peek().kind != TokenKind::kEnd) {
      return Unexpected(Peek(), "the end of the field");
    }
    return f;
  }

  absl::StatusOr<OrderKey> OnlyOrderKey() {
    OrderKey key;
    auto f = ParseFieldHere();
    if (!f.ok()) return f.status();
    key.field = *std::move(f);
    if (IsKeyword(Peek(), "desc")) {
      key.descending = true;
      Next();
    } else if (IsKeyword(Peek(), "asc")) {
      Next();
    }
    if (Peek().kind != TokenKind::kEnd) {
      return Unexpected(Peek(), "ASC, DESC or the end of the sort key");
    }
    return key;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  static bool IsKeyword(const Token& t, absl::string_view word) {
    return t.kind == TokenKind::kWord && absl::EqualsIgnoreCase(t.text, word);
  }

  absl::Status ErrorAt(const Token& t, absl::string_view what) const {
    return ErrorAt(Position{t.line, t.column}, what);
  }
  absl::Status ErrorAt(Position p, absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":", p.line, ":", p.column, ": ", what));
  }
  absl::Status Unexpected(const Token& t, absl::string_view expected) const {
    std::string found = t.kind == TokenKind::kEnd
                            ? "the end of the query"
                            : absl::StrCat("'", t.text, "'");
    if (t.kind == TokenKind::kString) found = absl::StrCat("'", t.text, "'");
    return ErrorAt(t, absl::StrCat("expected ", expected, ", found ", found));
  }

  absl::Status Enter(const Token& at, int depth) const {
    if (depth >= kMaxNesting) {
      return ErrorAt(
          at, absl::StrCat("nesting deeper than ", kMaxNesting, " levels"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Expr>> Or(int depth) {
    return Chain(Expr::Kind::kOr, "or", &Parser::And, depth);
  }

  absl::StatusOr<std::unique_ptr<Expr>> And(int depth) {
    return Chain(Expr::Kind::kAnd, "and", &Parser::Not, depth);
  }

  // operand { keyword operand }, operands parsed by `next`; a single one is
  // returned as it is.
  absl::StatusOr<std::unique_ptr<Expr>> Chain(
      Expr::Kind kind, absl::string_view keyword,
      absl::StatusOr<std::unique_ptr<Expr>> (Parser::*next)(int), int depth) {
    auto first = (this->*next)(depth);
    if (!first.ok()) return first;
    if (!IsKeyword(Peek(), keyword)) return first;
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = (*first)->pos;
    e->children.push_back(*std::move(first));
    while (IsKeyword(Peek(), keyword)) {
      Next();
      auto operand = (this->*next)(depth);
      if (!operand.ok()) return operand;
      e->children.push_back(*std::move(operand));
    }
    return e;
  }

  absl::StatusOr<std::unique_ptr<Expr>> Not(int depth) {
    if (!IsKeyword(Peek(), "not")) return Primary(depth);
    const Token& t = Next();
    if (absl::Status s = Enter(t, depth); !s.ok()) return s;
    auto inner = Not(depth + 1);
    if (!inner.ok()) return inner;
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kNot;
    e->pos = {t.line, t.column};
    e->children.push_back(*std::move(inner));
    return e;
  }

  absl::StatusOr<std::unique_ptr<Expr>> Primary(int depth) {
    const Token& t = Peek();
    if (t.kind == TokenKind::kLParen) {
      Next();
      if (absl::Status s = Enter(t, depth); !s.ok()) return s;
      auto inner = Or(depth + 1);
      if (!inner.ok()) return inner;
      if (Peek().kind != TokenKind::kRParen) {
        return Unexpected(Peek(), "')' to close the '(' at column " +
                                      std::to_string(t.column));
      }
      Next();
      return inner;
    }
    if (IsKeyword(t, "exists") && Peek(1).kind == TokenKind::kLParen) {
      Next();
      Next();
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kExists;
      e->pos = {t.line, t.column};
      auto f = ParseFieldHere();
      if (!f.ok()) return f.status();
      e->lhs.field = *std::move(f);
      if (Peek().kind != TokenKind::kRParen) {
        return Unexpected(Peek(), "')' after the field of exists(");
      }
      Next();
      return e;
    }
    return Predicate();
  }

  absl::StatusOr<std::unique_ptr<Expr>> Predicate() {
    auto e = std::make_unique<Expr>();
    auto lhs = ParseOperand("a field or a value");
    if (!lhs.ok()) return lhs.status();
    e->lhs = *std::move(lhs);
    e->pos = e->lhs.pos();
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kEq:
      case TokenKind::kNe:
      case TokenKind::kLt:
      case TokenKind::kLe:
      case TokenKind::kGt:
      case TokenKind::kGe: {
        Next();
        e->kind = Expr::Kind::kCompare;
        e->op = OpOf(t.kind);
        auto rhs = ParseOperand(absl::StrCat("a value after '", t.text, "'"));
        if (!rhs.ok()) return rhs.status();
        e->rhs = *std::move(rhs);
        if (absl::Status s = Convert(e->lhs, &e->rhs.literal, e->rhs); !s.ok())
          return s;
        if (absl::Status s = Convert(e->rhs, &e->lhs.literal, e->lhs); !s.ok())
          return s;
        return e;
      }
      case TokenKind::kMatch:
      case TokenKind::kNotMatch: {
        Next();
        e->kind = Expr::Kind::kMatch;
        e->negated = t.kind == TokenKind::kNotMatch;
        const Token& p = Peek();
        if (p.kind != TokenKind::kString) {
          return Unexpected(p, "a quoted regular expression after '~'");
        }
        Next();
        RE2::Options options;
        options.set_log_errors(false);
        options.set_dot_nl(true);
        auto re = std::make_shared<RE2>(p.text, options);
        if (!re->ok()) {
          return ErrorAt(p,
                         absl::StrCat("bad regular expression: ", re->error()));
        }
        e->regex = std::move(re);
        return e;
      }
      default:
        break;
    }
    bool negated = false;
    if (IsKeyword(t, "not") && !IsKeyword(Peek(1), "like") &&
        !IsKeyword(Peek(1), "ilike") && !IsKeyword(Peek(1), "in")) {
      return Unexpected(Peek(1), "LIKE, ILIKE or IN after NOT");
    }
    if (IsKeyword(t, "not") &&
        (IsKeyword(Peek(1), "like") || IsKeyword(Peek(1), "ilike") ||
         IsKeyword(Peek(1), "in"))) {
      Next();
      negated = true;
    }
    const Token& k = Peek();
    if (IsKeyword(k, "like") || IsKeyword(k, "ilike")) {
      Next();
      e->kind = Expr::Kind::kLike;
      e->negated = negated;
      const Token& p = Peek();
      if (p.kind != TokenKind::kString) {
        return Unexpected(p, absl::StrCat("a quoted pattern after ",
                                          absl::AsciiStrToUpper(k.text)));
      }
      Next();
      RE2::Options options;
      options.set_log_errors(false);
      options.set_dot_nl(true);
      options.set_case_sensitive(!IsKeyword(k, "ilike"));
      auto re = std::make_shared<RE2>(LikeToRegex(p.text), options);
      if (!re->ok()) {
        return ErrorAt(p, absl::StrCat("bad pattern: ", re->error()));
      }
      e->regex = std::move(re);
      return e;
    }
    if (IsKeyword(k, "in")) {
      Next();
      e->kind = Expr::Kind::kIn;
      e->negated = negated;
      if (Peek().kind == TokenKind::kLParen) {
        return InList(std::move(e));
      }
      auto f = ParseFieldHere();
      if (!f.ok()) return f.status();
      e->rhs.field = *std::move(f);
      return e;
    }
    if (negated) return Unexpected(Peek(), "LIKE, ILIKE or IN after NOT");
    // A bare operand is a condition of its own: true when it is true.
    if (e->lhs.field && e->lhs.field->kind == Field::Kind::kTags) {
      return ErrorAt(e->pos,
                     "'tags' alone is a set: write 'x' IN tags or "
                     "tags.x");
    }
    e->kind = Expr::Kind::kTruth;
    return e;
  }

  absl::StatusOr<std::unique_ptr<Expr>> InList(std::unique_ptr<Expr> e) {
    const Token& open = Next();
    e->in_list = true;
    if (Peek().kind == TokenKind::kRParen) {
      Next();
      return e;  // IN (): matches nothing
    }
    while (true) {
      if (e->items.size() >= kMaxInItems) {
        return ErrorAt(Peek(), absl::StrCat("IN list has more than ",
                                            kMaxInItems, " items"));
      }
      auto lit = ParseLiteral("a value in the IN list");
      if (!lit.ok()) return lit.status();
      Literal l = *std::move(lit);
      if (absl::Status s = Convert(e->lhs, &l, Operand{}); !s.ok()) return s;
      e->items.push_back(std::move(l));
      const Token& sep = Peek();
      if (sep.kind == TokenKind::kComma) {
        Next();
        continue;
      }
      if (sep.kind == TokenKind::kRParen) {
        Next();
        break;
      }
      return Unexpected(sep, absl::StrCat("',' or ')' in the IN list opened "
                                          "at column ",
                                          open.column));
    }
    for (const Literal& l : e->items) {
      switch (l.kind) {
        case Literal::Kind::kString: {
          e->string_items.insert(l.s);
          if (std::optional<double> n = ParseNumber(l.s)) {
            e->number_items.insert(*n);
          }
          break;
        }
        case Literal::Kind::kInt:
          e->number_items.insert(static_cast<double>(l.i));
          break;
        case Literal::Kind::kDouble:
          e->number_items.insert(l.d);
          break;
        default:
          break;
      }
    }
    return e;
  }

  static CompareOp OpOf(TokenKind k) {
    switch (k) {
      case TokenKind::kNe:
        return CompareOp::kNe;
      case TokenKind::kLt:
        return CompareOp::kLt;
      case TokenKind::kLe:
        return CompareOp::kLe;
      case TokenKind::kGt:
        return CompareOp::kGt;
      case TokenKind::kGe:
        return CompareOp::kGe;
      default:
        return CompareOp::kEq;
    }
  }

  // SQL LIKE: % any run of characters, _ one character, \ escapes; the
  // whole subject must match.
  static std::string LikeToRegex(absl::string_view pattern) {
    std::string re = "^";
    for (size_t i = 0; i < pattern.size(); ++i) {
      const char c = pattern[i];
      if (c == '%') {
        re += ".*";
      } else if (c == '_') {
        re += ".";
      } else if (c == '\\' && i + 1 < pattern.size()) {
        re += RE2::QuoteMeta(re2::StringPiece(&pattern[++i], 1));
      } else {
        re += RE2::QuoteMeta(re2::StringPiece(&c, 1));
      }
    }
    re += "$";
    return re;
  }

  // Where the other side is an attribute with a vocabulary of its own,
  // converts the literal `lit`: a string compared with created/ended
  // becomes a time, a status word is lower-cased (MLflow writes FINISHED;
  // its KILLED is our crashed). `lit_side` is the operand holding `lit`
  // (a literal) or empty for IN items.
  absl::Status Convert(const Operand& field_side, Literal* lit,
                       const Operand& lit_side) const {
    if (!field_side.field || (lit_side.field)) return absl::OkStatus();
    const Field& f = *field_side.field;
    if (f.kind != Field::Kind::kAttribute) return absl::OkStatus();
    if (lit->kind != Literal::Kind::kString) return absl::OkStatus();
    switch (f.attribute) {
      case Attribute::kCreated:
      case Attribute::kEnded: {
        std::optional<absl::Time> t = ParseTimestamp(lit->s);
        if (!t) {
          return ErrorAt(lit->pos,
                         absl::StrCat("'", lit->s,
                                      "' is not a timestamp (write "
                                      "'2026-11-01T12:00Z' or '2026-11-01')"));
        }
        lit->kind = Literal::Kind::kTime;
        lit->time = *t;
        return absl::OkStatus();
      }
      case Attribute::kStatus:
      case Attribute::kState:
        lit->s = absl::AsciiStrToLower(lit->s);
        if (f.attribute == Attribute::kStatus && lit->s == "killed") {
          lit->s = "crashed";
        }
        return absl::OkStatus();
      case Attribute::kDuration: {
        std::optional<absl::Duration> d = ParseDurationLiteral(lit->s);
        if (!d) {
          return ErrorAt(lit->pos, absl::StrCat("'", lit->s,
                                                "' is not a duration (write "
                                                "90s, 2h or 1h30m)"));
        }
        lit->kind = Literal::Kind::kDuration;
        lit->duration = *d;
        return absl::OkStatus();
      }
      default:
        return absl::OkStatus();
    }
  }

  absl::StatusOr<Operand> ParseOperand(absl::string_view expected) {
    const Token& t = Peek();
    Operand op;
    if (t.kind == TokenKind::kWord && !IsLiteralWord(t)) {
      if (IsReserved(t)) return Unexpected(t, expected);
      auto f = ParseFieldHere();
      if (!f.ok()) return f.status();
      op.field = *std::move(f);
      return op;
    }
    if (t.kind == TokenKind::kQuoted) {
      return ErrorAt(t, absl::StrCat("a back-quoted name must follow a "
                                     "prefix: params.`",
                                     t.text, "`"));
    }
    auto lit = ParseLiteral(expected);
    if (!lit.ok()) return lit.status();
    op.literal = *std::move(lit);
    return op;
  }

  static bool IsLiteralWord(const Token& t) {
    return IsKeyword(t, "true") || IsKeyword(t, "false") ||
           IsKeyword(t, "null");
  }
  static bool IsReserved(const Token& t) {
    for (const char* w : {"and", "or", "not", "in", "like", "ilike"}) {
      if (IsKeyword(t, w)) return true;
    }
    return false;
  }

  absl::StatusOr<Literal> ParseLiteral(absl::string_view expected) {
    const Token& t = Peek();
    Literal l;
    l.pos = {t.line, t.column};
    switch (t.kind) {
      case TokenKind::kString:
        l.kind = Literal::Kind::kString;
        l.s = t.text;
        Next();
        return l;
      case TokenKind::kNumber: {
        int64_t i = 0;
        const bool integral = t.text.find_first_of(".eE") == std::string::npos;
        absl::string_view digits = t.text;
        if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
        if (integral && absl::SimpleAtoi(digits, &i)) {
          l.kind = Literal::Kind::kInt;
          l.i = i;
        } else if (absl::SimpleAtod(digits, &l.d)) {
          l.kind = Literal::Kind::kDouble;
        } else {
          return ErrorAt(t, absl::StrCat("malformed number '", t.text, "'"));
        }
        Next();
        return l;
      }
      case TokenKind::kDuration: {
        std::optional<absl::Duration> d = ParseDurationLiteral(t.text);
        if (!d) {
          return ErrorAt(t, absl::StrCat("malformed duration '", t.text,
                                         "' (units: ns us ms s m h d)"));
        }
        l.kind = Literal::Kind::kDuration;
        l.duration = *d;
        Next();
        return l;
      }
      case TokenKind::kWord:
        if (IsKeyword(t, "true") || IsKeyword(t, "false")) {
          l.kind = Literal::Kind::kBool;
          l.b = IsKeyword(t, "true");
          Next();
          return l;
        }
        if (IsKeyword(t, "null")) {
          l.kind = Literal::Kind::kNull;
          Next();
          return l;
        }
        break;
      default:
        break;
    }
    return Unexpected(t, expected);
  }

  // One part of a dotted name: a word, a back-quoted or quoted name, or a
  // number ("params.layers.0").
  absl::StatusOr<std::string> NamePart(absl::string_view after) {
    const Token& t = Peek();
    if (t.kind == TokenKind::kWord || t.kind == TokenKind::kQuoted ||
        t.kind == TokenKind::kString ||
        (t.kind == TokenKind::kNumber &&
         t.text.find_first_not_of("0123456789") == std::string::npos)) {
      if (t.text.empty()) return ErrorAt(t, "empty name");
      Next();
      return t.text;
    }
    return Unexpected(t, absl::StrCat("a name after '", after, ".'"));
  }

  absl::StatusOr<std::vector<std::string>> DottedParts(absl::string_view head) {
    std::vector<std::string> parts;
    if (Peek().kind != TokenKind::kDot) {
      return Unexpected(Peek(), absl::StrCat("'.' after '", head, "'"));
    }
    while (Peek().kind == TokenKind::kDot) {
      Next();
      auto part = NamePart(parts.empty() ? head : parts.back());
      if (!part.ok()) return part.status();
      parts.push_back(*std::move(part));
    }
    return parts;
  }

  absl::StatusOr<Context> ContextBlock(TokenKind close) {
    Context c;
    while (Peek().kind == TokenKind::kComma || c.empty()) {
      if (Peek().kind == TokenKind::kComma) Next();
      if (Peek().kind == close) break;
      const Token& k = Peek();
      if (k.kind != TokenKind::kWord && k.kind != TokenKind::kQuoted &&
          k.kind != TokenKind::kString) {
        return Unexpected(k, "a context key");
      }
      Next();
      if (Peek().kind != TokenKind::kEq) {
        return Unexpected(Peek(),
                          absl::StrCat("'=' after context key '", k.text, "'"));
      }
      Next();
      const Token& v = Peek();
      if (v.kind != TokenKind::kWord && v.kind != TokenKind::kQuoted &&
          v.kind != TokenKind::kString && v.kind != TokenKind::kNumber) {
        return Unexpected(
            v, absl::StrCat("a value for context key '", k.text, "'"));
      }
      Next();
      c[k.text] = v.text;
      if (Peek().kind != TokenKind::kComma) break;
    }
    if (Peek().kind != close) {
      return Unexpected(Peek(), close == TokenKind::kRBrace
                                    ? "',' or '}' in the context"
                                    : "',' or ']' in the metric selector");
    }
    Next();
    return c;
  }

  absl::StatusOr<Aggregate> AggregateSuffix(Aggregate dflt, bool* given) {
    *given = false;
    if (Peek().kind != TokenKind::kDot) return dflt;
    Next();
    const Token& t = Peek();
    std::optional<Aggregate> a;
    if (t.kind == TokenKind::kWord) a = AggregateByName(t.text);
    if (!a) {
      return ErrorAt(
          t, absl::StrCat("unknown metric summary '", t.text, "'",
                          Suggest(t.text, AggregateNames()), "; summaries: ",
                          absl::StrJoin(AggregateNames(), ", ")));
    }
    Next();
    *given = true;
    return *a;
  }

  absl::StatusOr<Field> Metric(Field f) {
    f.kind = Field::Kind::kMetric;
    bool agg_given = false;
    if (Peek().kind == TokenKind::kLBracket) {
      // metrics["loss", subset="train"].min
      Next();
      const Token& name = Peek();
      if (name.kind != TokenKind::kString && name.kind != TokenKind::kQuoted) {
        return Unexpected(name, "a quoted series name after 'metrics['");
      }
      Next();
      f.metric = name.text;
      if (Peek().kind == TokenKind::kComma) {
        auto c = ContextBlock(TokenKind::kRBracket);
        if (!c.ok()) return c.status();
        f.context = *std::move(c);
      } else if (Peek().kind == TokenKind::kRBracket) {
        Next();
      } else {
        return Unexpected(Peek(), "',' or ']' after the series name");
      }
      auto agg = AggregateSuffix(Aggregate::kLast, &agg_given);
      if (!agg.ok()) return agg.status();
      f.aggregate = *agg;
    } else {
      if (Peek().kind != TokenKind::kDot) {
        return Unexpected(Peek(), "'.' or '[' after 'metrics'");
      }
      std::vector<std::string> parts;
      while (Peek().kind == TokenKind::kDot &&
             Peek(1).kind != TokenKind::kEnd) {
        Next();
        auto part = NamePart(parts.empty() ? "metrics" : parts.back());
        if (!part.ok()) return part.status();
        parts.push_back(*std::move(part));
        if (Peek().kind == TokenKind::kLBrace) break;
      }
      if (parts.empty()) {
        return Unexpected(Peek(1), "a series name after 'metrics.'");
      }
      if (Peek().kind == TokenKind::kLBrace) {
        Next();
        auto c = ContextBlock(TokenKind::kRBrace);
        if (!c.ok()) return c.status();
        f.context = *std::move(c);
        f.metric = absl::StrJoin(parts, ".");
        auto agg = AggregateSuffix(Aggregate::kLast, &agg_given);
        if (!agg.ok()) return agg.status();
        f.aggregate = *agg;
      } else {
        f.metric = absl::StrJoin(parts, ".");
        if (parts.size() > 1) {
          if (std::optional<Aggregate> a = AggregateByName(parts.back())) {
            parts.pop_back();
            f.alt_name = absl::StrJoin(parts, ".");
            f.alt_aggregate = *a;
          }
        }
      }
    }
    f.text = absl::StrCat("metrics.", QuoteDotted(f.metric));
    if (f.alt_name) {
      f.text = absl::StrCat("metrics.", QuoteDotted(*f.alt_name), ".",
                            AggregateName(f.alt_aggregate));
    }
    if (f.context) absl::StrAppend(&f.text, ContextText(*f.context));
    if (agg_given) absl::StrAppend(&f.text, ".", AggregateName(f.aggregate));
    return f;
  }

  absl::StatusOr<Field> ParseFieldHere() {
    const Token& t = Peek();
    Field f;
    f.pos = {t.line, t.column};
    if (t.kind != TokenKind::kWord) return Unexpected(t, "a field");
    const std::string head = absl::AsciiStrToLower(t.text);
    Next();
    if (head == "metrics" || head == "metric") return Metric(std::move(f));
    if (head == "params" || head == "param") {
      auto parts = DottedParts(t.text);
      if (!parts.ok()) return parts.status();
      f.kind = Field::Kind::kParam;
      f.path = *std::move(parts);
      std::vector<std::string> quoted;
      for (const std::string& p : f.path) quoted.push_back(QuoteName(p));
      f.text = absl::StrCat("params.", absl::StrJoin(quoted, "."));
      return f;
    }
    if (head == "tags" || head == "tag") {
      if (Peek().kind != TokenKind::kDot) {
        f.kind = Field::Kind::kTags;
        f.text = "tags";
        return f;
      }
      auto parts = DottedParts(t.text);
      if (!parts.ok()) return parts.status();
      f.kind = Field::Kind::kTag;
      f.tag = absl::StrJoin(*parts, ".");
      f.text = absl::StrCat("tags.", QuoteDotted(f.tag));
      return f;
    }
    if (head == "attributes" || head == "attribute" || head == "attr" ||
        head == "run") {
      const bool lenient = head == "run";
      if (Peek().kind != TokenKind::kDot) {
        return Unexpected(Peek(), absl::StrCat("'.' after '", t.text, "'"));
      }
      const Token& name = Peek(1);
      auto parts = DottedParts(t.text);
      if (!parts.ok()) return parts.status();
      std::optional<Attribute> a;
      if (parts->size() == 1) a = AttributeByName((*parts)[0]);
      if (a) {
        f.kind = Field::Kind::kAttribute;
        f.attribute = *a;
        f.text = std::string(AttributeName(*a));
        return f;
      }
      if (lenient) {
        // Aim's run.hparams.lr: a name that is no attribute is a param.
        f.kind = Field::Kind::kParam;
        f.path = *std::move(parts);
        std::vector<std::string> quoted;
        for (const std::string& p : f.path) quoted.push_back(QuoteName(p));
        f.text = absl::StrCat("params.", absl::StrJoin(quoted, "."));
        return f;
      }
      return ErrorAt(
          name, absl::StrCat(
                    "unknown attribute '", absl::StrJoin(*parts, "."), "'",
                    Suggest((*parts)[0], AttributeNames()),
                    "; attributes: ", absl::StrJoin(AttributeNames(), ", ")));
    }
    if (std::optional<Attribute> a = AttributeByName(head)) {
      f.kind = Field::Kind::kAttribute;
      f.attribute = *a;
      f.text = std::string(AttributeName(*a));
      return f;
    }
    std::vector<std::string> candidates(std::begin(kPrefixes),
                                        std::end(kPrefixes));
    candidates.insert(candidates.end(), AttributeNames().begin(),
                      AttributeNames().end());
    return ErrorAt(f.pos, absl::StrCat("unknown field '", t.text, "'",
                                       Suggest(t.text, candidates)));
  }

  std::vector<Token> tokens_;
  absl::string_view source_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Expr>> ParseWhere(absl::string_view text,
                                                 absl::string_view source) {
  auto tokens = Lex(text, source);
  if (!tokens.ok()) return tokens.status();
  return Parser(*std::move(tokens), source).Where();
}

absl::StatusOr<Field> ParseField(absl::string_view text,
                                 absl::string_view source) {
  auto tokens = Lex(text, source);
  if (!tokens.ok()) return tokens.status();
  return Parser(*std::move(tokens), source).OnlyField();
}

absl::StatusOr<OrderKey> ParseOrderKey(absl::string_view text,
                                       absl::string_view source) {
  auto tokens = Lex(text, source);
  if (!tokens.ok()) return tokens.status();
  return Parser(*std::move(tokens), source).OnlyOrderKey();
}

}  // namespace runlog::query
