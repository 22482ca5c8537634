// segtool import and export --format tensorboard, run in-process: the round
// trips runlog -> CSV export -> import and runlog -> TensorBoard export ->
// import give the same points.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"
#include "tools/segtool/cli.h"
#include "tools/segtool/commands.h"
#include "tracking/repo.h"

namespace runlog::segtool {
namespace {

using ::testing::HasSubstr;

struct Result {
  int code;
  std::string out, err;
};

Result Cli(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = RunCli(args, Env{}, out, err);
  return {code, out.str(), err.str()};
}

class SegtoolImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repo = Repo::Open(src_);
    ASSERT_TRUE(repo.ok());
    auto run = (*repo)->CreateRun({.experiment = "e", .name = "orig"});
    ASSERT_TRUE(run.ok());
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE((*run)->Track("loss", 1.0 / (i + 3), i).ok());
      ASSERT_TRUE((*run)->Track("acc", i * 0.01, i, {{"subset", "val"}}).ok());
    }
    ASSERT_TRUE((*run)->TrackText("note", "a, \"quoted\"\nline", 3).ok());
    ASSERT_TRUE(
        (*run)->TrackHistogram("w", Histogram{{0, 0.5, 1}, {2, 3}}, 4).ok());
    id_ = (*run)->id();
    ASSERT_TRUE((*run)->Commit().ok());
  }

  // Every scalar and text point of the run named `name` in `repo` equals the
  // original's.
  void ExpectSamePoints(const std::string& repo_path, const SeriesKey& acc) {
    auto a = Repo::Open(src_);
    auto b = Repo::Open(repo_path);
    ASSERT_TRUE(b.ok());
    auto runs = (*b)->ListRuns();
    ASSERT_EQ(runs->size(), 1u);
    auto va = (*a)->OpenRun(id_);
    auto vb = (*b)->OpenRun((*runs)[0].id);
    for (const auto& [ka, kb] : std::vector<std::pair<SeriesKey, SeriesKey>>{
             {{"loss", {}}, {"loss", {}}},
             {{"acc", {{"subset", "val"}}}, acc}}) {
      auto x = (*va)->ReadScalars(ka);
      auto y = (*vb)->ReadScalars(kb);
      ASSERT_TRUE(y.ok()) << kb.ToString() << ": " << y.status();
      EXPECT_EQ(x->steps, y->steps);
      EXPECT_EQ(x->times_us, y->times_us);
      ASSERT_EQ(x->size(), y->size());
      for (size_t i = 0; i < x->size(); ++i) {
        EXPECT_EQ(std::memcmp(&x->values[i], &y->values[i], 8), 0);
      }
    }
    EXPECT_EQ((*va)->ReadTexts({"note", {}})->values,
              (*vb)->ReadTexts({"note", {}})->values);
    EXPECT_EQ((*va)->ReadHistograms({"w", {}})->values,
              (*vb)->ReadHistograms({"w", {}})->values);
  }

  testing::TempDir tmp_;
  std::string src_ = tmp_.path() + "/src";
  std::string id_;
};

// Contexts whose keys and values hold the column's own separators come back
// the same (interop/csv/context_text.h escapes them).
TEST_F(SegtoolImportTest, CsvRoundTripOfContextsHoldingSeparators) {
  const std::string repo = tmp_.path() + "/odd";
  const Context odd{{"fold", "a,b=c"}, {"path", "C:\\x"}, {"k=1", "v"}};
  {
    auto r = Repo::Open(repo);
    ASSERT_TRUE(r.ok());
    auto run = (*r)->CreateRun({.name = "odd"});
    ASSERT_TRUE(run.ok());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE((*run)->Track("loss", i * 0.5, i, odd).ok());
    }
    ASSERT_TRUE((*run)->Commit().ok());
  }
  const std::string csv = tmp_.path() + "/odd.csv";
  Result e = Cli({"export", repo, "--format", "csv", "--output", csv});
  ASSERT_EQ(e.code, 0) << e.err;
  std::ifstream in(csv);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(),
              HasSubstr(",\"fold=a\\,b\\=c,k\\=1=v,path=C:\\\\x\","));
  const std::string back = tmp_.path() + "/odd_back";
  Result i = Cli({"import", "csv", csv, back});
  ASSERT_EQ(i.code, 0) << i.err << i.out;
  auto b = Repo::Open(back);
  ASSERT_TRUE(b.ok());
  auto runs = (*b)->ListRuns();
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  auto view = (*b)->OpenRun((*runs)[0].id);
  ASSERT_TRUE(view.ok());
  auto points = (*view)->ReadScalars({"loss", odd});
  ASSERT_TRUE(points.ok()) << points.status();
  EXPECT_EQ(points->steps, (std::vector<int64_t>{0, 1, 2}));
}

TEST_F(SegtoolImportTest, CsvRoundTrip) {
  const std::string csv = tmp_.path() + "/all.csv";
  Result e = Cli({"export", src_, "--format", "csv", "--output", csv});
  ASSERT_EQ(e.code, 0) << e.err;
  Result i = Cli({"import", "csv", csv, tmp_.path() + "/back"});
  ASSERT_EQ(i.code, 0) << i.err;
  EXPECT_THAT(i.out, HasSubstr("imported " + id_));
  EXPECT_THAT(i.out, HasSubstr("4 series, 102 points"));
  ExpectSamePoints(tmp_.path() + "/back", {"acc", {{"subset", "val"}}});
  // Again: nothing new.
  Result again = Cli({"import", "csv", csv, tmp_.path() + "/back"});
  EXPECT_EQ(again.code, 0);
  EXPECT_THAT(again.out, HasSubstr("unchanged"));
}

TEST_F(SegtoolImportTest, TensorBoardRoundTrip) {
  const std::string tb = tmp_.path() + "/tb";
  Result e = Cli({"export", src_, "--format", "tensorboard", "--output", tb});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_THAT(e.out, HasSubstr("102 points"));
  Result dry =
      Cli({"import", "tensorboard", tb, tmp_.path() + "/back", "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("would import"));
  Result i = Cli({"import", "tensorboard", tb, tmp_.path() + "/back",
                  "--experiment", "from-tb"});
  ASSERT_EQ(i.code, 0) << i.err;
  // TensorBoard has no contexts: the tag carries it.
  ExpectSamePoints(tmp_.path() + "/back", {"acc{subset=val}", {}});
  auto back = Repo::Open(tmp_.path() + "/back");
  EXPECT_EQ((*(*back)->ListRuns())[0].summary.experiment, "from-tb");
}

TEST_F(SegtoolImportTest, UsageAndMissingSources) {
  Result r = Cli({"export", src_, "--format", "tensorboard"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("needs --output"));
  r = Cli({"import", "tensorboard", tmp_.path() + "/nope", tmp_.path() + "/r"});
  EXPECT_EQ(r.code, kExitProblem);
  EXPECT_THAT(r.err, HasSubstr("nope"));
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/r"));  // not created
  r = Cli({"import", "parquet", "x", "y"});
  EXPECT_EQ(r.code, kExitUsage);
}

}  // namespace
}  // namespace runlog::segtool
