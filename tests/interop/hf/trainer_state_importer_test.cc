#include "interop/hf/trainer_state_importer.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "interop/import_session.h"
#include "tests/interop/real_curves_check.h"
#include "tests/testing/temp_dir.h"
#include "tracking/repo.h"

namespace runlog::interop {
namespace {

using ::testing::ElementsAre;

class TrainerStateImportTest : public ::testing::Test {
 protected:
  ImportReport Import(const std::string& path) {
    auto session = ImportSession::Open(repo_, {}, kTrainerStateFormat, {});
    EXPECT_TRUE(session.ok()) << session.status();
    absl::Status s = ImportTrainerState(path, session->get());
    EXPECT_TRUE(s.ok()) << s;
    return (*session)->report();
  }
  testing::TempDir tmp_;
  std::string repo_ = tmp_.path() + "/repo";
};

TEST_F(TrainerStateImportTest, LogHistoryBecomesSeries) {
  const std::string path = tmp_.path() + "/trainer_state.json";
  std::ofstream(path) << R"({"global_step": 20, "best_metric": null,
    "log_history": [
      {"epoch": 0.5, "learning_rate": 5e-05, "loss": 2.25, "step": 10},
      {"epoch": 1.0, "eval_loss": 1.5, "step": 20, "note": "x",
       "flag": true},
      {"epoch": 1.0, "loss": 2.0, "step": 20, "total_flos": 123456789012}
    ]})";
  ImportReport report = Import(path);
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(report.runs[0].points, 5) << FormatImportReport(report);
  auto repo = Repo::Open(repo_);
  auto runs = (*repo)->ListRuns();
  ASSERT_EQ(runs->size(), 1u);
  const RunRecord& r = (*runs)[0];
  EXPECT_EQ(
      r.summary.params.Find("trainer_state")->Find("global_step")->as_int(),
      20);
  auto view = (*repo)->OpenRun(r.id);
  auto loss = (*view)->ReadScalars({"loss", {}});
  ASSERT_TRUE(loss.ok());
  EXPECT_THAT(loss->steps, ElementsAre(10, 20));
  EXPECT_THAT(loss->values, ElementsAre(2.25, 2.0));
  EXPECT_THAT(loss->epochs, ElementsAre(0.5, 1.0));
  EXPECT_THAT((*view)->ReadScalars({"total_flos", {}})->values,
              ElementsAre(123456789012.0));
  EXPECT_FALSE((*view)->ReadScalars({"flag", {}}).ok());
}

TEST_F(TrainerStateImportTest, NotJsonFailsTheRun) {
  const std::string path = tmp_.path() + "/bad.json";
  std::ofstream(path) << "{\"log_history\": [";
  ImportReport report = Import(path);
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(report.runs[0].action, "failed");
}

TEST_F(TrainerStateImportTest, EveryRealTrainerStateImports) {
  const char* env = std::getenv("RUNLOG_REAL_CURVES");
  const std::string dir = absl::StrCat(
      env && *env ? env : "/work/shared/data/real-curves", "/hf-trainer-state");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ImportReport report = Import(e.path());
    ASSERT_EQ(report.runs.size(), 1u);
    EXPECT_EQ(report.failed(), 0) << FormatImportReport(report);
    EXPECT_GT(report.points(), 0) << e.path();
    auto repo = Repo::Open(repo_);
    auto view = (*repo)->OpenRun(report.runs[0].run_id);
    ASSERT_TRUE(view.ok());
    ExpectSameAsLoader(**view, absl::StrCat("hf-trainer-state/",
                                            e.path().filename().string()));
    ++files;
  }
  EXPECT_EQ(files, 21);
}

}  // namespace
}  // namespace runlog::interop
