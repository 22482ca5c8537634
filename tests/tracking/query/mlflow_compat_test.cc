// MLflow's filter strings, as its documentation writes them, over the runs
// its search guide creates (10 runs: accuracy i/10, loss 1 - i/10,
// batch_size 2 then 4, learning_rate alternating 0.001/0.01, model GPT-2,
// GPT-3, GPT-3.5, GPT-4 then none, tags mlflow.user/task/environment on
// the first runs), each checked against what MLflow selects: a run without
// the key never matches.
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tracking/query/run_fixture.h"

namespace runlog::query {
namespace {

using ::runlog::query::testing::AddScalar;
using ::runlog::query::testing::MakeRun;
using ::runlog::query::testing::Select;

struct GuideRun {
  int i;
  double accuracy, loss;
  int batch_size;
  double learning_rate;
  std::string model;  // "" = not logged
  std::string user, task, environment;
};

class MlflowCompatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* models[] = {"GPT-2", "GPT-3", "GPT-3.5", "GPT-4"};
    const char* tasks[] = {"classification", "regression", "causal lm"};
    for (int i = 0; i < 10; ++i) {
      GuideRun g{i,
                 i * 0.1,
                 1 - i * 0.1,
                 i < 5 ? 2 : 4,
                 i % 2 ? 0.01 : 0.001,
                 i < 4 ? models[i] : "",
                 i < 3 ? "Monkey D Luffy" : "",
                 i < 3 ? tasks[i] : "",
                 i < 5 ? "notebook" : ""};
      guide_.push_back(g);
      RunRecord r = MakeRun(absl::StrCat("run", i));
      r.summary.name = absl::StrCat("run-", i);
      ASSERT_TRUE(SetPath(r.summary.params, "batch_size", g.batch_size).ok());
      ASSERT_TRUE(
          SetPath(r.summary.params, "learning_rate", g.learning_rate).ok());
      if (!g.model.empty()) {
        ASSERT_TRUE(SetPath(r.summary.params, "model", g.model).ok());
      }
      if (!g.user.empty()) r.summary.tags.insert("mlflow.user=" + g.user);
      if (!g.task.empty()) r.summary.tags.insert("task=" + g.task);
      if (!g.environment.empty()) {
        r.summary.tags.insert("environment=" + g.environment);
      }
      AddScalar(r, "accuracy", {g.accuracy});
      AddScalar(r, "loss", {g.loss});
      AddScalar(r, "f1 score", {g.accuracy});
      if (i == 7) r.status = RunStatus::kFailed;
      r.summary.created = absl::FromUnixMillis(1'700'000'000'000 + i * 1000);
      r.ended = r.summary.created + absl::Seconds(10);
      runs_.push_back(std::move(r));
    }
  }
  std::vector<std::string> Expect(std::function<bool(const GuideRun&)> pick) {
    std::vector<std::string> ids;
    for (const GuideRun& g : guide_) {
      if (pick(g)) ids.push_back(absl::StrCat("run", g.i));
    }
    return ids;
  }
  void Check(absl::string_view filter,
             std::function<bool(const GuideRun&)> pick) {
    EXPECT_EQ(Select(runs_, filter), Expect(pick)) << filter;
  }
  std::vector<GuideRun> guide_;
  std::vector<RunRecord> runs_;
};

TEST_F(MlflowCompatTest, MetricComparisons) {
  Check("metrics.accuracy > 0.72", [](auto& g) { return g.accuracy > 0.72; });
  Check("metrics.accuracy > 0.92", [](auto& g) { return g.accuracy > 0.92; });
  Check("metrics.loss <= 0.5", [](auto& g) { return g.loss <= 0.5; });
  Check("metrics.`f1 score` >= 0.3", [](auto& g) { return g.accuracy >= 0.3; });
  Check("metrics.\"f1 score\" < 0.3", [](auto& g) { return g.accuracy < 0.3; });
}

TEST_F(MlflowCompatTest, ParamsAreComparedAsMlflowsStrings) {
  Check("params.batch_size = \"2\"", [](auto& g) { return g.batch_size == 2; });
  Check("params.learning_rate = '0.001'",
        [](auto& g) { return g.learning_rate == 0.001; });
  Check("params.model = \"GPT-4\"", [](auto& g) { return g.model == "GPT-4"; });
  Check("params.model != 'GPT-4'",
        [](auto& g) { return !g.model.empty() && g.model != "GPT-4"; });
  Check("params.model LIKE 'GPT%'", [](auto& g) { return !g.model.empty(); });
  Check("params.model LIKE 'GPT-3%'",
        [](auto& g) { return g.model.rfind("GPT-3", 0) == 0; });
  Check("params.model ILIKE 'gpt-3.%'",
        [](auto& g) { return g.model == "GPT-3.5"; });
  Check("params.`model` = 'GPT-2'", [](auto& g) { return g.model == "GPT-2"; });
}

TEST_F(MlflowCompatTest, Tags) {
  Check("tags.task = 'classification'",
        [](auto& g) { return g.task == "classification"; });
  Check("tags.task != 'classification'",
        [](auto& g) { return !g.task.empty() && g.task != "classification"; });
  Check("tags.`mlflow.user` = 'Monkey D Luffy'",
        [](auto& g) { return !g.user.empty(); });
  Check("tags.\"mlflow.user\" ILIKE '%luffy'",
        [](auto& g) { return !g.user.empty(); });
  Check("tags.environment LIKE 'note%'",
        [](auto& g) { return !g.environment.empty(); });
}

TEST_F(MlflowCompatTest, Attributes) {
  Check("attributes.status = \"FAILED\"", [](auto& g) { return g.i == 7; });
  Check("attributes.status = 'FINISHED'", [](auto& g) { return g.i != 7; });
  Check("attributes.run_name = 'run-3'", [](auto& g) { return g.i == 3; });
  Check("attributes.run_name LIKE 'run-%'", [](auto&) { return true; });
  Check("attributes.run_id IN ('run1', 'run4')",
        [](auto& g) { return g.i == 1 || g.i == 4; });
  Check("attributes.start_time >= 1700000005000",
        [](auto& g) { return g.i >= 5; });
  Check("attributes.created < 1700000002000", [](auto& g) { return g.i < 2; });
  Check("attributes.end_time > 1700000018000", [](auto& g) { return g.i > 8; });
  Check("run_name = 'run-2'", [](auto& g) { return g.i == 2; });
}

TEST_F(MlflowCompatTest, Conjunctions) {
  Check(
      "params.model = \"GPT-3\" and params.learning_rate = \"0.01\" and "
      "metrics.loss <= 0.95",
      [](auto& g) {
        return g.model == "GPT-3" && g.learning_rate == 0.01 && g.loss <= 0.95;
      });
  Check(
      "metrics.accuracy > 0.1 AND params.batch_size = '4' AND "
      "tags.environment = 'notebook'",
      [](auto&) { return false; });
  Check("metrics.loss < 0.5 and params.model LIKE '%'",
        [](auto&) { return false; });
}

TEST_F(MlflowCompatTest, OrderByAsMlflowWritesIt) {
  EXPECT_EQ(Select(runs_, "params.batch_size = '2'", {"metrics.accuracy DESC"}),
            (std::vector<std::string>{"run4", "run3", "run2", "run1", "run0"}));
  EXPECT_EQ(
      Select(runs_, "", {"params.model ASC", "attributes.start_time DESC"}),
      (std::vector<std::string>{"run0", "run1", "run2", "run3", "run9", "run8",
                                "run7", "run6", "run5", "run4"}));
}

}  // namespace
}  // namespace runlog::query
