#include "interop/csv/importer.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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

class CsvImportTest : public ::testing::Test {
 protected:
  ImportReport Import(const std::string& text, const std::string& name) {
    const std::string path = tmp_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return ImportPath(path);
  }
  ImportReport ImportPath(const std::string& path) {
    auto session = ImportSession::Open(repo_, {}, kCsvFormat, {});
    EXPECT_TRUE(session.ok()) << session.status();
    absl::Status s = ImportCsv(path, session->get());
    EXPECT_TRUE(s.ok()) << s;
    return (*session)->report();
  }
  std::unique_ptr<RunView> Only(absl::string_view name) {
    repo_handle_ = *Repo::Open(repo_);
    auto runs = repo_handle_->ListRuns();
    EXPECT_TRUE(runs.ok());
    for (const RunRecord& r : *runs) {
      if (r.summary.name == name) return *repo_handle_->OpenRun(r.id);
    }
    ADD_FAILURE() << "no run " << name;
    return nullptr;
  }
  testing::TempDir tmp_;
  std::string repo_ = tmp_.path() + "/repo";
  std::unique_ptr<Repo> repo_handle_;
};

TEST_F(CsvImportTest, WideLightningShape) {
  ImportReport report = Import(
      "epoch,step,train_loss,val_loss\n0,0,1.5,\n0,1,1.25,\n0,1,,2.5\n"
      "1,2,nan,oops\n",
      "metrics.csv");
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(report.runs[0].points, 4);
  EXPECT_EQ(report.runs[0].skipped.at("cell of val_loss that is not a number"),
            1);
  auto view = Only("metrics.csv");
  auto train = view->ReadScalars({"train_loss", {}});
  ASSERT_TRUE(train.ok());
  EXPECT_THAT(train->steps, ElementsAre(0, 1, 2));
  EXPECT_EQ(train->values[1], 1.25);
  EXPECT_TRUE(std::isnan(train->values[2]));
  EXPECT_EQ(train->epochs[2], 1);
  EXPECT_THAT(view->ReadScalars({"val_loss", {}})->steps, ElementsAre(1));
}

TEST_F(CsvImportTest, WideWithoutStepColumnUsesTheRowNumber) {
  Import("# {\"t_start\": 1}\nr,l\n1, 2\n3,4\n", "monitor.csv");
  auto view = Only("monitor.csv");
  EXPECT_THAT(view->ReadScalars({"l", {}})->steps, ElementsAre(0, 1));
  EXPECT_THAT(view->ReadScalars({"l", {}})->values, ElementsAre(2, 4));
}

TEST_F(CsvImportTest, LongShape) {
  ImportReport report = Import(
      "run,series,context,kind,step,epoch,time,value\n"
      "r1,loss,subset=train,scalar,0,0.5,2024-05-01T12:00:00.000250Z,0.1\n"
      "r1,note,,text,1,,2024-05-01T12:00:01.000000Z,\"a, b\"\n"
      "r2,h,,histogram,3,,2024-05-01T12:00:02.000000Z,"
      "\"{\"\"counts\"\":[1,2],\"\"edges\"\":[0,1,2.5]}\"\n"
      "r2,img,,blob,4,,2024-05-01T12:00:02.000000Z,\"image/png, 3 bytes\"\n",
      "export.csv");
  ASSERT_EQ(report.runs.size(), 2u);
  auto r1 = Only("r1");
  auto loss = r1->ReadScalars({"loss", {{"subset", "train"}}});
  ASSERT_TRUE(loss.ok()) << loss.status();
  EXPECT_THAT(loss->values, ElementsAre(0.1));
  EXPECT_THAT(loss->epochs, ElementsAre(0.5));
  EXPECT_EQ(loss->times_us[0], 1714564800000250);
  EXPECT_THAT(r1->ReadTexts({"note", {}})->values, ElementsAre("a, b"));
  auto r2 = Only("r2");
  auto h = r2->ReadHistograms({"h", {}});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->values[0], (Histogram{{0, 1, 2.5}, {1, 2}}));
}

TEST_F(CsvImportTest, EveryRealCsvFileImports) {
  const char* env = std::getenv("RUNLOG_REAL_CURVES");
  const std::string dir =
      absl::StrCat(env && *env ? env : "/work/shared/data/real-curves", "/csv");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ImportReport report = ImportPath(e.path());
    ASSERT_EQ(report.runs.size(), 1u) << e.path();
    EXPECT_EQ(report.failed(), 0) << FormatImportReport(report);
    EXPECT_GT(report.points(), 0) << e.path();
    auto repo = Repo::Open(repo_);
    auto view = (*repo)->OpenRun(report.runs[0].run_id);
    ASSERT_TRUE(view.ok());
    ExpectSameAsLoader(**view,
                       absl::StrCat("csv/", e.path().filename().string()));
    ++files;
  }
  EXPECT_EQ(files, 15);
}

}  // namespace
}  // namespace runlog::interop
