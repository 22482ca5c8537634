// Semantics of every operator on every kind, through RunQuery (the unit
// the evaluator serves), over small hand-made runs.
#include "tracking/query/evaluator.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tracking/query/run_fixture.h"

namespace runlog::query {
namespace {

using ::runlog::query::testing::AddScalar;
using ::runlog::query::testing::MakeRun;
using ::runlog::query::testing::Select;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class EvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunRecord a =
        MakeRun("a", R"({"lr": 0.001, "model": "resnet", "layers": [64, 128],
                 "optimizer": {"name": "adam", "beta": 0.9}, "amp": true,
                 "seed": 1, "note": "0.5", "flat.key": 7})");
    a.summary.experiment = "sweep";
    a.summary.name = "alpha";
    a.summary.tags = {"baseline", "env=prod"};
    AddScalar(a, "loss", {2.0, 1.0, 0.5});
    AddScalar(a, "acc", {0.5, 0.9}, {{"subset", "train"}});
    AddScalar(a, "acc", {0.4, 0.8}, {{"subset", "val"}});
    RunRecord b = MakeRun("b", R"({"lr": 0.01, "model": "vit", "layers": [32],
                 "optimizer": {"name": "sgd"}, "amp": false, "seed": 2})");
    b.summary.experiment = "sweep";
    b.summary.name = "beta";
    b.summary.tags = {"env=dev"};
    b.status = RunStatus::kFailed;
    AddScalar(b, "loss", {3.0, std::nan("")});
    AddScalar(b, "acc", {0.7}, {{"subset", "train"}});
    RunRecord c = MakeRun("c", R"({"model": "ResNet-50", "lr": "0.1"})");
    c.summary.experiment = "other";
    c.summary.name = "gamma";
    c.state = storage::RunState::kLive;
    c.status = RunStatus::kRunning;
    c.ended = absl::InfinitePast();
    AddScalar(c, "loss", {std::nan(""), std::nan("")});
    runs_ = {a, b, c};
  }
  std::vector<std::string> Q(absl::string_view where,
                             const std::vector<std::string>& order = {}) {
    return Select(runs_, where, order);
  }
  std::vector<RunRecord> runs_;
};

TEST_F(EvaluatorTest, NumbersCompareNumericallyAcrossIntAndDouble) {
  EXPECT_THAT(Q("params.lr < 0.005"), ElementsAre("a"));
  EXPECT_THAT(Q("params.seed = 2.0"), ElementsAre("b"));
  EXPECT_THAT(Q("params.seed >= 1"), ElementsAre("a", "b"));
  EXPECT_THAT(Q("params.seed != 1"), ElementsAre("b"));
  EXPECT_THAT(Q("params.seed <= 1"), ElementsAre("a"));
  EXPECT_THAT(Q("params.seed > 1"), ElementsAre("b"));
}

TEST_F(EvaluatorTest, NumericStringsCompareAsNumbers) {
  // MLflow keeps params as strings and its users write params.lr = '0.001'.
  EXPECT_THAT(Q("params.lr = '0.001'"), ElementsAre("a"));
  EXPECT_THAT(Q("params.lr > 0.05"), ElementsAre("c"));  // c's lr is "0.1"
  EXPECT_THAT(Q("params.note = 0.5"), ElementsAre("a"));
}

TEST_F(EvaluatorTest, StringsCompareBytewise) {
  EXPECT_THAT(Q("params.model = 'resnet'"), ElementsAre("a"));
  EXPECT_THAT(Q("params.model > 'resnet'"), ElementsAre("b"));
  EXPECT_THAT(Q("params.model < 'a'"), ElementsAre("c"));  // 'R' < 'a'
}

TEST_F(EvaluatorTest, BoolsCompareWithBoolsAndPythonsWords) {
  EXPECT_THAT(Q("params.amp = true"), ElementsAre("a"));
  EXPECT_THAT(Q("params.amp = 'False'"), ElementsAre("b"));
  EXPECT_THAT(Q("params.amp"), ElementsAre("a"));
  EXPECT_THAT(Q("not params.amp"), ElementsAre("b"));
}

TEST_F(EvaluatorTest, MismatchedKindsNeverMatch) {
  EXPECT_THAT(Q("params.model = 3"), IsEmpty());
  EXPECT_THAT(Q("params.model != 3"), IsEmpty());
  EXPECT_THAT(Q("params.optimizer = 'adam'"), IsEmpty());  // a map
  EXPECT_THAT(Q("params.amp < 3"), IsEmpty());
}

TEST_F(EvaluatorTest, MissingFieldsNeverMatchAComparisonNorItsNegation) {
  EXPECT_THAT(Q("params.optimizer.beta = 0.9"), ElementsAre("a"));
  EXPECT_THAT(Q("params.optimizer.beta != 0.9"), IsEmpty());
  EXPECT_THAT(Q("not params.optimizer.beta = 0.9"), IsEmpty());
  EXPECT_THAT(Q("not params.optimizer.beta = 0.9 or params.seed = 2"),
              ElementsAre("b"));
  EXPECT_THAT(Q("not exists(params.optimizer.beta)"), ElementsAre("b", "c"));
}

TEST_F(EvaluatorTest, ThreeValuedAndOr) {
  // c has no seed: unknown AND false is false, unknown OR true is true.
  EXPECT_THAT(Q("params.seed = 1 or params.model = 'ResNet-50'"),
              ElementsAre("a", "c"));
  EXPECT_THAT(Q("not (params.seed = 5 and params.model = 'x')"),
              ElementsAre("a", "b", "c"));
  EXPECT_THAT(Q("not (params.seed = 5 or params.model = 'x')"),
              ElementsAre("a", "b"));
}

TEST_F(EvaluatorTest, NestedParamsAndFlatDottedKeys) {
  EXPECT_THAT(Q("params.optimizer.name = 'sgd'"), ElementsAre("b"));
  EXPECT_THAT(Q("params.flat.key = 7"), ElementsAre("a"));
  EXPECT_THAT(Q("params.`flat.key` = 7"), ElementsAre("a"));
  EXPECT_THAT(Q("run.optimizer.name = 'adam'"), ElementsAre("a"));
}

TEST_F(EvaluatorTest, Like) {
  EXPECT_THAT(Q("params.model LIKE 'res%'"), ElementsAre("a"));
  EXPECT_THAT(Q("params.model LIKE 'Res%'"), ElementsAre("c"));
  EXPECT_THAT(Q("params.model ILIKE 'res%'"), ElementsAre("a", "c"));
  EXPECT_THAT(Q("params.model LIKE '_it'"), ElementsAre("b"));
  EXPECT_THAT(Q("params.model LIKE 'vi'"), IsEmpty());  // whole subject
  EXPECT_THAT(Q("params.model NOT LIKE 'res%'"), ElementsAre("b", "c"));
  EXPECT_THAT(Q("params.model NOT ILIKE 'RES%'"), ElementsAre("b"));
  // Numbers match as they print.
  EXPECT_THAT(Q("params.lr LIKE '0.00%'"), ElementsAre("a"));
  // Regex characters in a LIKE pattern are literal.
  EXPECT_THAT(Q("params.model LIKE 'ResNet.50'"), IsEmpty());
  EXPECT_THAT(Q("params.model LIKE 'ResNet\\\\-50'"), ElementsAre("c"));
}

TEST_F(EvaluatorTest, RegexIsUnanchoredSearch) {
  EXPECT_THAT(Q("params.model ~ 'net'"), ElementsAre("a"));
  EXPECT_THAT(Q("params.model ~ '^res'"), ElementsAre("a"));
  EXPECT_THAT(Q("params.model ~ '(?i)^res'"), ElementsAre("a", "c"));
  EXPECT_THAT(Q("params.model !~ 'net'"), ElementsAre("b", "c"));
  EXPECT_THAT(Q("name ~ 'a$'"), ElementsAre("a", "b", "c"));
}

TEST_F(EvaluatorTest, CatastrophicPatternsRunInLinearTime) {
  // Patterns that take exponential time in a backtracking engine, on a
  // 100,000-character subject: RE2 answers in one pass.
  runs_[0].summary.params = Value::EmptyMap();
  ASSERT_TRUE(
      SetPath(runs_[0].summary.params, "s", std::string(100000, 'a') + "!")
          .ok());
  EXPECT_THAT(Q("params.s ~ '^(a+)+$'"), IsEmpty());
  EXPECT_THAT(Q("params.s ~ '(a|aa)*b'"), IsEmpty());
  EXPECT_THAT(Q("params.s ~ '(a*)*!'"), ElementsAre("a"));
  EXPECT_THAT(Q("params.s LIKE '%a%a%a%a%a%a%a%a%b'"), IsEmpty());
  EXPECT_THAT(Q("params.s LIKE '%a%a%a%a%a%a%a%a%!'"), ElementsAre("a"));
}

TEST_F(EvaluatorTest, InOnAnyField) {
  EXPECT_THAT(Q("params.model IN ('vit', 'resnet')"), ElementsAre("a", "b"));
  EXPECT_THAT(Q("params.seed IN (2, 3)"), ElementsAre("b"));
  EXPECT_THAT(Q("params.seed NOT IN (2, 3)"), ElementsAre("a"));
  EXPECT_THAT(Q("id IN ('a', 'c')"), ElementsAre("a", "c"));
  EXPECT_THAT(Q("params.lr IN ('0.01')"), ElementsAre("b"));
  EXPECT_THAT(Q("params.seed IN ()"), IsEmpty());
  EXPECT_THAT(Q("64 IN params.layers"), ElementsAre("a"));
  EXPECT_THAT(Q("64 NOT IN params.layers"), ElementsAre("b"));
}

TEST_F(EvaluatorTest, LargeInListsAgreeWithSmallOnes) {
  std::string items;
  for (int i = 10; i < 400; ++i) absl::StrAppend(&items, i, ", ");
  EXPECT_THAT(Q("params.seed IN (" + items + "2)"), ElementsAre("b"));
  EXPECT_THAT(Q("params.lr IN (" + items + "'0.1')"), ElementsAre("c"));
  EXPECT_THAT(Q("params.model IN (" + items + "'vit', true)"),
              ElementsAre("b"));
  EXPECT_THAT(Q("params.amp IN (" + items + "'True')"), ElementsAre("a"));
}

TEST_F(EvaluatorTest, Tags) {
  EXPECT_THAT(Q("tags.baseline"), ElementsAre("a"));
  EXPECT_THAT(Q("not tags.baseline"), ElementsAre("b", "c"));
  EXPECT_THAT(Q("'baseline' IN tags"), ElementsAre("a"));
  EXPECT_THAT(Q("'baseline' NOT IN tags"), ElementsAre("b", "c"));
  EXPECT_THAT(Q("exists(tags.baseline)"), ElementsAre("a"));
  // MLflow's valued tags, spelled "key=value".
  EXPECT_THAT(Q("tags.env = 'prod'"), ElementsAre("a"));
  EXPECT_THAT(Q("tags.env LIKE 'd%'"), ElementsAre("b"));
  EXPECT_THAT(Q("exists(tags.env)"), ElementsAre("a", "b"));
  EXPECT_THAT(Q("tags.env"), ElementsAre("a", "b"));
  EXPECT_THAT(Q("not tags.env"), ElementsAre("c"));
}

TEST_F(EvaluatorTest, Attributes) {
  EXPECT_THAT(Q("experiment = 'sweep'"), ElementsAre("a", "b"));
  EXPECT_THAT(Q("attributes.name = 'beta'"), ElementsAre("b"));
  EXPECT_THAT(Q("attributes.run_name = 'beta'"), ElementsAre("b"));
  EXPECT_THAT(Q("status = 'failed'"), ElementsAre("b"));
  EXPECT_THAT(Q("attributes.status = 'FINISHED'"), ElementsAre("a"));
  EXPECT_THAT(Q("status IN ('running', 'abandoned')"), ElementsAre("c"));
  EXPECT_THAT(Q("state = 'committed'"), ElementsAre("a", "b"));
  EXPECT_THAT(Q("state = 'live'"), ElementsAre("c"));
  EXPECT_THAT(Q("description = ''"), ElementsAre("a", "b", "c"));
}

TEST_F(EvaluatorTest, TimesAndDurations) {
  runs_[1].summary.created += absl::Hours(48);
  runs_[1].ended = runs_[1].summary.created + absl::Hours(3);
  // created is 1'780'000'000 s = 2026-05-28T20:26:40Z.
  EXPECT_THAT(Q("created > '2026-05-29'"), ElementsAre("b"));
  EXPECT_THAT(Q("created < '2026-05-28T20:27Z'"), ElementsAre("a", "c"));
  EXPECT_THAT(Q("created = '2026-05-28T22:26:40+02:00'"),
              ElementsAre("a", "c"));
  // MLflow's start_time in milliseconds.
  EXPECT_THAT(Q("attributes.start_time > 1780000000001"), ElementsAre("b"));
  EXPECT_THAT(Q("ended < '2026-05-29'"), ElementsAre("a"));  // c has none
  EXPECT_THAT(Q("duration > 2h"), ElementsAre("b", "c"));    // c: until now
  EXPECT_THAT(Q("duration <= 30m"), ElementsAre("a"));
  EXPECT_THAT(Q("duration = 1800"), ElementsAre("a"));  // seconds
  EXPECT_THAT(Q("duration < '1h'"), ElementsAre("a"));
}

TEST_F(EvaluatorTest, MetricSummaries) {
  EXPECT_THAT(Q("metrics.loss < 1"), ElementsAre("a"));  // last
  EXPECT_THAT(Q("metrics.loss.min < 1"), ElementsAre("a"));
  EXPECT_THAT(Q("metrics.loss.max >= 3"), ElementsAre("b"));
  EXPECT_THAT(Q("metrics.loss.first = 2"), ElementsAre("a"));
  EXPECT_THAT(Q("metrics.loss.count = 2"), ElementsAre("b", "c"));
  EXPECT_THAT(Q("metrics.loss.last_step = 20"), ElementsAre("a"));
  EXPECT_THAT(Q("metrics.loss.first_step = 0"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(Q("metrics[\"acc\", subset=\"val\"].max > 0.5"),
              ElementsAre("a"));
  EXPECT_THAT(Q("metrics.acc{subset=train} > 0.8"), ElementsAre("a"));
  // One context only: metrics.acc is b's train series; a has two.
  EXPECT_THAT(Q("metrics.acc > 0"), ElementsAre("b"));
  EXPECT_THAT(Q("exists(metrics.acc)"), ElementsAre("b"));
}

TEST_F(EvaluatorTest, NaN) {
  // b's loss ends in NaN: NaN is unequal to everything and orders with
  // nothing; a series of NaNs only has no min or max.
  EXPECT_THAT(Q("metrics.loss != 0.5"), ElementsAre("b", "c"));
  EXPECT_THAT(Q("metrics.loss > -1"), ElementsAre("a"));
  EXPECT_THAT(Q("not metrics.loss > -1"), ElementsAre("b", "c"));
  EXPECT_THAT(Q("metrics.loss.max = 3"), ElementsAre("b"));
  EXPECT_THAT(Q("exists(metrics.loss.min)"), ElementsAre("a", "b"));
}

TEST_F(EvaluatorTest, Null) {
  runs_[0].summary.params = Value::EmptyMap();
  ASSERT_TRUE(SetPath(runs_[0].summary.params, "x", Value()).ok());
  EXPECT_THAT(Q("params.x = null"), ElementsAre("a"));
  EXPECT_THAT(Q("params.x != null"), IsEmpty());
  EXPECT_THAT(Q("exists(params.x)"), ElementsAre("a"));
}

TEST_F(EvaluatorTest, LiteralOnTheLeft) {
  EXPECT_THAT(Q("0.005 > params.lr"), ElementsAre("a"));
  EXPECT_THAT(Q("true"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(Q("false or 1 = 1"), ElementsAre("a", "b", "c"));
}

TEST_F(EvaluatorTest, FieldAgainstField) {
  EXPECT_THAT(Q("metrics.loss.first > metrics.loss"), ElementsAre("a"));
}

TEST_F(EvaluatorTest, OrderByWithMissingLastAndTiesById) {
  EXPECT_THAT(Q("", {"params.seed DESC"}), ElementsAre("b", "a", "c"));
  EXPECT_THAT(Q("", {"params.seed"}), ElementsAre("a", "b", "c"));
  EXPECT_THAT(Q("", {"experiment", "name DESC"}), ElementsAre("c", "b", "a"));
  // NaN after numbers, before missing, in both directions.
  runs_.push_back(MakeRun("d"));
  EXPECT_THAT(Q("", {"metrics.loss"}), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(Q("", {"metrics.loss.max DESC"}),
              ElementsAre("b", "a", "c", "d"));
  EXPECT_THAT(Q("", {"status"}), ElementsAre("b", "a", "d", "c"));
}

TEST_F(EvaluatorTest, OrderByErrorNamesTheKey) {
  EXPECT_THAT(Q("", {"created", "metrcs.x"}),
              ElementsAre("error: order_by[1]:1:1: unknown field 'metrcs' "
                          "(did you mean 'metrics'?)"));
}

TEST(EvaluatorPagingTest, OffsetAndLimit) {
  std::vector<RunRecord> runs;
  for (int i = 0; i < 10; ++i) {
    runs.push_back(
        MakeRun(absl::StrCat("r", i), absl::StrCat("{\"i\":", i, "}")));
  }
  absl::StatusOr<RunQuery> q =
      RunQuery::Compile("params.i >= 2", {"params.i DESC"});
  ASSERT_TRUE(q.ok());
  std::vector<RunRecord> picked;
  for (const RunRecord& r : runs) {
    if (q->Matches(r, absl::Now())) picked.push_back(r);
  }
  q->SortAndPage(&picked, 1, 3, absl::Now());
  std::vector<std::string> ids;
  for (const RunRecord& r : picked) ids.push_back(r.id);
  EXPECT_THAT(ids, ElementsAre("r8", "r7", "r6"));
  std::vector<RunRecord> all = runs;
  q->SortAndPage(&all, 20, 3, absl::Now());
  EXPECT_THAT(all, IsEmpty());
}

}  // namespace
}  // namespace runlog::query
