#include "tracking/query/parser.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tracking/query/fields.h"

namespace runlog::query {
namespace {

using ::runlog::testing::StatusIs;
using ::testing::HasSubstr;

void ExpectError(absl::string_view query, absl::string_view message) {
  absl::StatusOr<std::unique_ptr<Expr>> e = ParseWhere(query);
  EXPECT_THAT(e, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr(std::string(message))))
      << query;
}

const Expr& Parsed(absl::StatusOr<std::unique_ptr<Expr>>& e) {
  EXPECT_TRUE(e.ok()) << e.status();
  static const Expr* empty = new Expr();
  return e.ok() && *e ? **e : *empty;
}

TEST(ParserTest, EmptySelectsAll) {
  absl::StatusOr<std::unique_ptr<Expr>> e = ParseWhere("   ");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, nullptr);
}

TEST(ParserTest, OrBindsLooserThanAndLooserThanNot) {
  auto e = ParseWhere("name = '1' or not name = '2' and name = '3'");
  const Expr& x = Parsed(e);
  ASSERT_EQ(x.kind, Expr::Kind::kOr);
  ASSERT_EQ(x.children.size(), 2u);
  EXPECT_EQ(x.children[0]->kind, Expr::Kind::kCompare);
  ASSERT_EQ(x.children[1]->kind, Expr::Kind::kAnd);
  EXPECT_EQ(x.children[1]->children[0]->kind, Expr::Kind::kNot);
}

TEST(ParserTest, ParenthesesGroup) {
  auto e = ParseWhere("(name = 'a' or name = 'b') and status = 'finished'");
  const Expr& x = Parsed(e);
  ASSERT_EQ(x.kind, Expr::Kind::kAnd);
  EXPECT_EQ(x.children[0]->kind, Expr::Kind::kOr);
}

TEST(ParserTest, KeywordsAreCaseInsensitive) {
  auto e = ParseWhere(
      "NAME = 'a' AnD Not params.x LIKE 'a%' oR params.y NOT ILIKE 'b' or "
      "params.z not in (1) OR EXISTS(params.w) and params.v = TRUE and "
      "params.u = Null");
  EXPECT_TRUE(e.ok()) << e.status();
}

TEST(ParserTest, EveryOperator) {
  for (const char* op : {"=", "==", "!=", "<>", "<", "<=", ">", ">="}) {
    auto e = ParseWhere(absl::StrCat("metrics.acc ", op, " 0.5"));
    const Expr& x = Parsed(e);
    EXPECT_EQ(x.kind, Expr::Kind::kCompare) << op;
  }
  auto like = ParseWhere("params.m LIKE 'res%'");
  EXPECT_EQ(Parsed(like).kind, Expr::Kind::kLike);
  auto match = ParseWhere("params.m ~ '^res'");
  EXPECT_EQ(Parsed(match).kind, Expr::Kind::kMatch);
  auto nmatch = ParseWhere("params.m !~ '^res'");
  EXPECT_TRUE(Parsed(nmatch).negated);
  auto in = ParseWhere("params.m IN ('a', 'b', 3)");
  EXPECT_EQ(Parsed(in).kind, Expr::Kind::kIn);
  EXPECT_EQ(Parsed(in).items.size(), 3u);
  auto in_tags = ParseWhere("'baseline' IN tags");
  EXPECT_FALSE(Parsed(in_tags).in_list);
  auto exists = ParseWhere("exists(params.x)");
  EXPECT_EQ(Parsed(exists).kind, Expr::Kind::kExists);
  auto truth = ParseWhere("tags.baseline");
  EXPECT_EQ(Parsed(truth).kind, Expr::Kind::kTruth);
}

TEST(ParserTest, Literals) {
  auto e = ParseWhere(
      "params.a IN (1, -2.5, 1e3, 'x', \"y\", true, false, null, 90s)");
  const Expr& x = Parsed(e);
  ASSERT_EQ(x.items.size(), 9u);
  EXPECT_EQ(x.items[0].kind, Literal::Kind::kInt);
  EXPECT_EQ(x.items[1].kind, Literal::Kind::kDouble);
  EXPECT_EQ(x.items[2].kind, Literal::Kind::kDouble);
  EXPECT_EQ(x.items[3].kind, Literal::Kind::kString);
  EXPECT_EQ(x.items[4].s, "y");
  EXPECT_EQ(x.items[5].kind, Literal::Kind::kBool);
  EXPECT_EQ(x.items[7].kind, Literal::Kind::kNull);
  EXPECT_EQ(x.items[8].kind, Literal::Kind::kDuration);
  EXPECT_EQ(x.items[8].duration, absl::Seconds(90));
}

TEST(ParserTest, TimestampsBecomeTimesAgainstTimeAttributes) {
  auto e = ParseWhere("created > '2026-11-01T12:00Z'");
  const Expr& x = Parsed(e);
  EXPECT_EQ(x.rhs.literal.kind, Literal::Kind::kTime);
  EXPECT_EQ(x.rhs.literal.time,
            absl::FromCivil(absl::CivilMinute(2026, 11, 1, 12, 0),
                            absl::UTCTimeZone()));
  ExpectError("created > 'yesterday'",
              "query:1:11: 'yesterday' is not a timestamp");
  ExpectError("duration > 'long'", "query:1:12: 'long' is not a duration");
}

TEST(ParserTest, StatusWordsAreLowerCasedAndMlflowsKilledIsCrashed) {
  auto e = ParseWhere("attributes.status IN ('FINISHED', 'KILLED')");
  const Expr& x = Parsed(e);
  ASSERT_EQ(x.items.size(), 2u);
  EXPECT_EQ(x.items[0].s, "finished");
  EXPECT_EQ(x.items[1].s, "crashed");
}

TEST(ParserTest, Fields) {
  struct Case {
    const char* text;
    Field::Kind kind;
    const char* canonical;
  };
  for (const Case& c : std::vector<Case>{
           {"params.optimizer.lr", Field::Kind::kParam, "params.optimizer.lr"},
           {"param.`a-b`", Field::Kind::kParam, "params.`a-b`"},
           {"params.layers.0", Field::Kind::kParam, "params.layers.0"},
           {"tags.baseline", Field::Kind::kTag, "tags.baseline"},
           {"tag.mlflow.runName", Field::Kind::kTag, "tags.mlflow.runName"},
           {"tags", Field::Kind::kTags, "tags"},
           {"attributes.status", Field::Kind::kAttribute, "status"},
           {"attribute.run_id", Field::Kind::kAttribute, "id"},
           {"run.start_time", Field::Kind::kAttribute, "created"},
           {"run.hparams.lr", Field::Kind::kParam, "params.hparams.lr"},
           {"duration", Field::Kind::kAttribute, "duration"},
           {"metrics.loss", Field::Kind::kMetric, "metrics.loss"},
           {"metric.train/loss", Field::Kind::kMetric, "metrics.train/loss"},
           {"metrics.`f1 score`", Field::Kind::kMetric, "metrics.`f1 score`"},
           {"metrics.\"accuracy\"", Field::Kind::kMetric, "metrics.accuracy"},
           {"metrics.loss.min", Field::Kind::kMetric, "metrics.loss.min"},
           {"metrics[\"loss\", subset=\"train\"].min", Field::Kind::kMetric,
            "metrics.loss{subset=train}.min"},
           {"metrics.loss{subset=train}.last_step", Field::Kind::kMetric,
            "metrics.loss{subset=train}.last_step"},
           {"metrics['loss']", Field::Kind::kMetric, "metrics.loss"},
       }) {
    absl::StatusOr<Field> f = ParseField(c.text);
    ASSERT_TRUE(f.ok()) << c.text << ": " << f.status();
    EXPECT_EQ(f->kind, c.kind) << c.text;
    EXPECT_EQ(f->text, c.canonical) << c.text;
  }
}

TEST(ParserTest, DottedMetricNamesKeepBothReadings) {
  absl::StatusOr<Field> f = ParseField("metrics.val.loss.max");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->metric, "val.loss.max");
  ASSERT_TRUE(f->alt_name.has_value());
  EXPECT_EQ(*f->alt_name, "val.loss");
  EXPECT_EQ(f->alt_aggregate, Aggregate::kMax);
}

TEST(ParserTest, MetricContext) {
  absl::StatusOr<Field> f =
      ParseField("metrics[\"acc\", subset=\"val\", fold=3].max");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(f->context.has_value());
  EXPECT_EQ(f->context->at("subset"), "val");
  EXPECT_EQ(f->context->at("fold"), "3");
  EXPECT_EQ(f->aggregate, Aggregate::kMax);
}

TEST(ParserTest, OrderKeys) {
  absl::StatusOr<OrderKey> k = ParseOrderKey("metrics.acc DESC");
  ASSERT_TRUE(k.ok());
  EXPECT_TRUE(k->descending);
  k = ParseOrderKey("created asc");
  ASSERT_TRUE(k.ok());
  EXPECT_FALSE(k->descending);
  EXPECT_THAT(ParseOrderKey("created sideways", "order_by[1]"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("order_by[1]:1:9: expected ASC, DESC")));
}

// ---- errors, each with its place ----

TEST(ParserErrorTest, UnknownFieldSuggests) {
  ExpectError("metrics.acc > 0.9 and metrcs.loss < 1",
              "query:1:23: unknown field 'metrcs' (did you mean 'metrics'?)");
  ExpectError("stauts = 'finished'",
              "query:1:1: unknown field 'stauts' (did you mean 'status'?)");
  ExpectError("zzzz = 1", "query:1:1: unknown field 'zzzz'");
}

TEST(ParserErrorTest, UnknownAttributeSuggests) {
  ExpectError("attributes.crated > 0",
              "query:1:12: unknown attribute 'crated' (did you mean "
              "'created'?)");
  ExpectError("attributes.user_id = 'x'", "unknown attribute 'user_id'");
}

TEST(ParserErrorTest, UnknownAggregate) {
  ExpectError("metrics[\"loss\"].mean > 1",
              "query:1:17: unknown metric summary 'mean'");
}

TEST(ParserErrorTest, MissingValue) {
  ExpectError("metrics.acc >", "query:1:14: expected a value after '>'");
  ExpectError("metrics.acc > and", "query:1:15: expected a value after '>'");
}

TEST(ParserErrorTest, TrailingTokens) {
  ExpectError("name = 'a' name = 'b'",
              "query:1:12: expected 'and', 'or' or the end of the query");
}

TEST(ParserErrorTest, UnclosedParenthesis) {
  ExpectError("(name = 'a'",
              "query:1:12: expected ')' to close the '(' at "
              "column 1");
}

TEST(ParserErrorTest, NotWithoutPredicate) {
  ExpectError("params.x not 3", "expected LIKE, ILIKE or IN after NOT");
}

TEST(ParserErrorTest, PatternsMustBeStrings) {
  ExpectError("params.x LIKE 3",
              "query:1:15: expected a quoted pattern "
              "after LIKE");
  ExpectError("params.x ~ 3",
              "query:1:12: expected a quoted regular "
              "expression");
}

TEST(ParserErrorTest, BadRegex) {
  ExpectError("params.x ~ '(a'", "query:1:12: bad regular expression");
}

TEST(ParserErrorTest, BackreferencesAreNotRegularAndRefused) {
  // RE2 has no backtracking features; their absence is the guarantee.
  ExpectError("params.x ~ '(a)\\\\1'", "bad regular expression");
}

TEST(ParserErrorTest, InList) {
  ExpectError("params.x IN (1, 2",
              "query:1:18: expected ',' or ')' in the "
              "IN list opened at column 13");
  ExpectError("params.x IN (1, and)", "expected a value in the IN list");
}

TEST(ParserErrorTest, TagsAloneIsASet) {
  ExpectError("tags", "'tags' alone is a set");
}

TEST(ParserErrorTest, PrefixNeedsName) {
  ExpectError("params = 1", "query:1:8: expected '.' after 'params'");
  ExpectError("params. = 1", "expected a name after 'params.'");
  ExpectError("metrics = 1", "expected '.' or '[' after 'metrics'");
  ExpectError("`odd` = 1", "a back-quoted name must follow a prefix");
}

TEST(ParserErrorTest, ContextSyntax) {
  ExpectError("metrics.loss{subset} > 1", "expected '=' after context key");
  ExpectError("metrics[\"loss\", subset=\"a\" > 1",
              "expected ',' or ']' in the metric selector");
  ExpectError("metrics[loss] > 1", "expected a quoted series name");
}

TEST(ParserErrorTest, ExistsNeedsField) {
  ExpectError("exists(3)", "query:1:8: expected a field");
  ExpectError("exists(params.x", "expected ')' after the field of exists(");
}

TEST(ParserErrorTest, NestingIsBounded) {
  std::string deep(kMaxNesting + 1, '(');
  deep += "name = 'a'";
  deep += std::string(kMaxNesting + 1, ')');
  ExpectError(deep, "nesting deeper than 64 levels");
  std::string ok(kMaxNesting, '(');
  ok += "name = 'a'";
  ok += std::string(kMaxNesting, ')');
  EXPECT_TRUE(ParseWhere(ok).ok());
  std::string nots;
  for (int i = 0; i < kMaxNesting + 1; ++i) nots += "not ";
  ExpectError(nots + "tags.x", "nesting deeper than 64 levels");
}

TEST(ParserErrorTest, FourKilobytesOfParentheses) {
  ExpectError(std::string(4096, '('), "nesting deeper than 64 levels");
}

TEST(ParserErrorTest, InListIsBounded) {
  std::string q = "params.x IN (";
  for (size_t i = 0; i <= kMaxInItems; ++i) {
    absl::StrAppend(&q, i ? "," : "", i);
  }
  q += ")";
  // Over 4 KiB too; the length limit answers first.
  EXPECT_THAT(ParseWhere(q), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("over the limit")));
}

TEST(ParserErrorTest, MalformedDuration) {
  ExpectError("duration > 5x", "query:1:12: malformed duration '5x'");
}

TEST(ParserErrorTest, LineAndColumnOnLaterLines) {
  ExpectError("name = 'a'\n  and metrcs.x > 1",
              "query:2:7: unknown field 'metrcs'");
}

}  // namespace
}  // namespace runlog::query
