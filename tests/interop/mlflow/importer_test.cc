#include "interop/mlflow/importer.h"

#include <sqlite3.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "interop/import_session.h"
#include "interop/mlflow/metric_line.h"
#include "tests/interop/real_curves_check.h"
#include "tests/testing/temp_dir.h"
#include "tracking/repo.h"

namespace runlog::interop {
namespace {

using ::testing::HasSubstr;

void WriteFile(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

ImportReport Import(const std::string& source, const std::string& repo,
                    ImportOptions options = {}) {
  auto session = ImportSession::Open(repo, {}, kMlflowFormat, options);
  EXPECT_TRUE(session.ok()) << session.status();
  absl::Status s = ImportMlflow(source, {}, session->get());
  EXPECT_TRUE(s.ok()) << s;
  return (*session)->report();
}

TEST(MetricLineTest, ParsesWhatMlflowWrites) {
  MetricLine m;
  ASSERT_TRUE(ParseMetricLine("1700000000123 0.25 7", &m));
  EXPECT_EQ(m.timestamp_ms, 1700000000123);
  EXPECT_EQ(m.value, 0.25);
  EXPECT_EQ(m.step, 7);
  ASSERT_TRUE(ParseMetricLine("1 nan 2", &m));
  EXPECT_TRUE(std::isnan(m.value));
  ASSERT_TRUE(ParseMetricLine("1 -inf 2\r", &m));
  EXPECT_EQ(m.value, -INFINITY);
  ASSERT_TRUE(ParseMetricLine("1 1e-05", &m));  // old format: no step
  EXPECT_EQ(m.step, 0);
  EXPECT_FALSE(ParseMetricLine("", &m));
  EXPECT_FALSE(ParseMetricLine("1 2 3 4", &m));
  EXPECT_FALSE(ParseMetricLine("x 2 3", &m));
  EXPECT_FALSE(ParseMetricLine("1 nan(0x1) 3", &m));
}

TEST(MlflowStatusTest, Mapping) {
  EXPECT_FALSE(MlflowFailure("FINISHED"));
  EXPECT_EQ(*MlflowFailure("FAILED"), "mlflow status FAILED");
  EXPECT_EQ(*MlflowFailure("KILLED"), "mlflow status KILLED");
  EXPECT_THAT(*MlflowFailure("RUNNING"), HasSubstr("never ended"));
}

class MlflowImportTest : public ::testing::Test {
 protected:
  void Run(const std::string& exp, const std::string& id, int status,
           const std::string& metrics) {
    const std::string d = absl::StrCat(store_, "/", exp, "/", id);
    WriteFile(
        d + "/meta.yaml",
        absl::StrCat("artifact_uri: file:///x\nend_time: 2\n"
                     "experiment_id: '",
                     exp, "'\nlifecycle_stage: active\nrun_id: ", id,
                     "\nrun_name: name-", id, "\nstatus: ", status, "\n"));
    WriteFile(d + "/params/lr", "0.001");
    WriteFile(d + "/params/model.depth", "12");
    WriteFile(d + "/tags/mlflow.user", "ann");
    WriteFile(d + "/metrics/train/loss", metrics);
  }
  testing::TempDir tmp_;
  std::string store_ = tmp_.path() + "/mlruns";
  std::string repo_ = tmp_.path() + "/repo";
};

TEST_F(MlflowImportTest, FileStore) {
  WriteFile(store_ + "/1/meta.yaml", "experiment_id: '1'\nname: sweep\n");
  Run("1", "aaa", 3, "1700000000000 0.5 0\n1700000001000 0.25 1\n");
  Run("1", "bbb", 5, "1700000000000 1.5 0\n");
  ImportReport report = Import(store_, repo_);
  ASSERT_EQ(report.runs.size(), 2u) << FormatImportReport(report);
  auto repo = Repo::Open(repo_);
  auto runs = (*repo)->ListRuns();
  ASSERT_EQ(runs->size(), 2u);
  for (const RunRecord& r : *runs) {
    EXPECT_EQ(r.summary.experiment, "sweep");
    EXPECT_EQ(r.summary.params.Find("lr")->as_string(), "0.001");
    EXPECT_EQ(r.summary.params.Find("model.depth")->as_string(), "12");
    EXPECT_EQ(
        r.summary.params.Find("mlflow_tags")->Find("mlflow.user")->as_string(),
        "ann");
    EXPECT_EQ(r.summary.tags.count("mlflow.user=ann"), 1u);
    if (r.summary.name == "name-aaa") {
      EXPECT_EQ(r.status, RunStatus::kFinished);
      auto view = (*repo)->OpenRun(r.id);
      auto loss = (*view)->ReadScalars({"train/loss", {}});
      ASSERT_TRUE(loss.ok()) << loss.status();
      EXPECT_EQ(loss->values, (std::vector<double>{0.5, 0.25}));
      EXPECT_EQ(loss->times_us,
                (std::vector<int64_t>{1700000000000000, 1700000001000000}));
    } else {
      EXPECT_EQ(r.status, RunStatus::kFailed);
      EXPECT_EQ(r.failure_reason, "mlflow status KILLED");
    }
  }
  EXPECT_EQ(Import(store_, repo_).runs[0].action, "unchanged");
  // MLflow's filters on tags work as written on the imported runs.
  auto tagged = (*repo)->ListRuns({.where = "tags.`mlflow.user` = 'ann'"});
  ASSERT_TRUE(tagged.ok()) << tagged.status();
  EXPECT_EQ(tagged->size(), 2u);
}

TEST_F(MlflowImportTest, TenMillionBadLinesAreCountedNotStored) {
  std::string junk;
  junk.reserve(20'000'000);
  for (int i = 0; i < 10'000'000; ++i) junk += "x\n";
  junk += "1 2 3\n";
  Run("0", "ccc", 3, junk);
  ImportReport report = Import(store_, repo_);
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(report.runs[0].points, 1);
  ASSERT_EQ(report.runs[0].skipped.size(), 1u);
  EXPECT_EQ(report.runs[0].skipped.begin()->second, 10'000'000);
}

TEST_F(MlflowImportTest, RealMetricFilesImportExactly) {
  const char* env = std::getenv("RUNLOG_REAL_CURVES");
  const std::string dir = absl::StrCat(
      env && *env ? env : "/work/shared/data/real-curves", "/mlflow");
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename());
  }
  ASSERT_EQ(names.size(), 9u);
  WriteFile(store_ + "/0/meta.yaml", "name: Default\n");
  size_t lines = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string d = absl::StrCat(store_, "/0/run", i);
    WriteFile(d + "/meta.yaml",
              absl::StrCat("run_id: run", i, "\nstatus: 3\n"));
    std::filesystem::create_directories(d + "/metrics");
    std::filesystem::copy_file(
        dir + "/" + names[i],
        d + "/metrics/" + bench::MlflowMetricName(names[i]));
    std::ifstream in(dir + "/" + names[i]);
    for (std::string l; std::getline(in, l);) lines += !l.empty();
  }
  ImportReport report = Import(store_, repo_);
  ASSERT_EQ(report.runs.size(), 9u);
  EXPECT_EQ(report.failed(), 0);
  EXPECT_EQ(static_cast<size_t>(report.points()), lines)
      << FormatImportReport(report);
  auto repo = Repo::Open(repo_);
  for (const ImportedRun& run : report.runs) {
    const size_t i = std::stoul(run.name.substr(3));
    auto view = (*repo)->OpenRun(run.run_id);
    ASSERT_TRUE(view.ok());
    ExpectSameAsLoader(**view, "mlflow/" + names[i]);
  }
}

TEST_F(MlflowImportTest, SqliteStore) {
  const std::string db_path = tmp_.path() + "/mlflow.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  const char* sql =
      "CREATE TABLE experiments (experiment_id INTEGER, name TEXT, "
      "artifact_location TEXT, lifecycle_stage TEXT);"
      "CREATE TABLE runs (run_uuid TEXT, name TEXT, status TEXT, "
      "start_time INTEGER, end_time INTEGER, lifecycle_stage TEXT, "
      "experiment_id INTEGER);"
      "CREATE TABLE params (key TEXT, value TEXT, run_uuid TEXT);"
      "CREATE TABLE tags (key TEXT, value TEXT, run_uuid TEXT);"
      "CREATE TABLE metrics (key TEXT, value REAL, timestamp INTEGER, "
      "run_uuid TEXT, step INTEGER, is_nan BOOLEAN);"
      "INSERT INTO experiments VALUES (1, 'exp', '', 'active');"
      "INSERT INTO runs VALUES ('r1', 'one', 'FINISHED', 1, 2, 'active', 1);"
      "INSERT INTO runs VALUES ('r2', 'two', 'RUNNING', 3, NULL, 'active', 1);"
      "INSERT INTO runs VALUES ('r3', 'three', 'FINISHED', 4, 5, 'deleted', 1);"
      "INSERT INTO params VALUES ('lr', '0.1', 'r1');"
      "INSERT INTO metrics VALUES ('acc', 0.5, 1000, 'r1', 0, 0);"
      "INSERT INTO metrics VALUES ('acc', 0, 2000, 'r1', 1, 1);"
      "INSERT INTO metrics VALUES ('acc', 0.75, 1000, 'r2', 0, 0);";
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  ImportReport report = Import(db_path, repo_);
  ASSERT_EQ(report.runs.size(), 2u) << FormatImportReport(report);
  EXPECT_EQ(report.notes.size(), 1u);  // the deleted run
  auto repo = Repo::Open(repo_);
  auto runs = (*repo)->ListRuns();
  ASSERT_TRUE(runs.ok());
  for (const RunRecord& r : *runs) {
    auto view = (*repo)->OpenRun(r.id);
    auto acc = (*view)->ReadScalars({"acc", {}});
    ASSERT_TRUE(acc.ok());
    if (r.summary.name == "one") {
      EXPECT_EQ(r.status, RunStatus::kFinished);
      ASSERT_EQ(acc->size(), 2u);
      EXPECT_EQ(acc->values[0], 0.5);
      EXPECT_TRUE(std::isnan(acc->values[1]));
      EXPECT_EQ(acc->times_us[1], 2000000);
    } else {
      EXPECT_EQ(r.summary.name, "two");
      EXPECT_EQ(r.status, RunStatus::kFailed);
      EXPECT_THAT(r.failure_reason, HasSubstr("RUNNING"));
    }
  }
}

}  // namespace
}  // namespace runlog::interop
