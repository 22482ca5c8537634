// ls, show, cat and export end to end on the fixture repository, compared
// with golden outputs (see segtool_fixture.h for how to regenerate them).
#include <string>

#include "absl/strings/str_split.h"
#include "tests/tools/segtool_fixture.h"
#include "tools/segtool/text_table.h"

namespace runlog::segtool {
namespace {

using ::testing::HasSubstr;

class InspectTest : public SegtoolTest {
 protected:
  // Every read-only command must leave the repository byte for byte alone,
  // but for the run catalog listing keeps current (a cache of COMMIT files,
  // storage/run_catalog.h), which is made current first.
  void SetUp() override {
    SegtoolTest::SetUp();
    Segtool({"ls", "<REPO>"});
    before_ = TakeSnapshot(repo_path_);
  }
  void TearDown() override {
    EXPECT_EQ(before_, TakeSnapshot(repo_path_)) << "a command changed files";
  }
  Snapshot before_;
};

TEST_F(InspectTest, LsShowsEveryRunWithStateAndCounts) {
  CliResult r = ExpectGolden("ls", {"ls", "<REPO>"});
  EXPECT_EQ(r.code, kExitOk);
}

TEST_F(InspectTest, LsJson) {
  ExpectGolden("ls_json", {"ls", "<REPO>", "--json"});
}

TEST_F(InspectTest, LsFiltersByExperiment) {
  ExpectGolden("ls_experiment", {"ls", "<REPO>", "--experiment", "mnist"});
}

TEST_F(InspectTest, LsFiltersByTag) {
  ExpectGolden("ls_tag", {"ls", "<REPO>", "--tag", "baseline"});
}

TEST_F(InspectTest, LsFiltersByStatus) {
  ExpectGolden("ls_status_failed", {"ls", "<REPO>", "--status", "failed"});
}

TEST_F(InspectTest, LsFiltersByStateAbandonedOnceTheWriterIsGone) {
  CliResult live = Segtool({"ls", "<REPO>", "--state", "abandoned"});
  EXPECT_EQ(live.code, kExitOk);
  EXPECT_THAT(live.out, ::testing::Not(HasSubstr(run_ids_[2])));
  probe_.KillWriter();
  ExpectGolden("ls_state_abandoned", {"ls", "<REPO>", "--state", "abandoned"});
}

TEST_F(InspectTest, LsWhere) {
  CliResult r = ExpectGolden(
      "ls_where", {"ls", "<REPO>", "--where", "params.hparams.lr < 0.1"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr(run_ids_[0]));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr(run_ids_[1])));
}

TEST_F(InspectTest, LsSortAndColumns) {
  CliResult r = ExpectGolden(
      "ls_sort_columns",
      {"ls", "<REPO>", "--sort", "params.hparams.lr:desc", "--columns",
       "params.hparams.lr,metrics.accuracy.max,metrics[\"loss\", "
       "subset=\"train\"].count,status,points"});
  EXPECT_EQ(r.code, kExitOk);
}

TEST_F(InspectTest, LsLimitAndOffset) {
  CliResult r = ExpectGolden(
      "ls_limit_offset", {"ls", "<REPO>", "--sort", "created:desc", "--offset",
                          "1", "--limit", "1", "--columns", "name"});
  EXPECT_EQ(r.code, kExitOk);
}

TEST_F(InspectTest, LsCsv) {
  ExpectGolden("ls_csv", {"ls", "<REPO>", "--csv"});
}

TEST_F(InspectTest, LsJsonWithColumns) {
  ExpectGolden("ls_json_columns",
               {"ls", "<REPO>", "--json", "--where", "experiment = 'mnist'",
                "--columns", "name,params.hparams.lr,size"});
}

TEST_F(InspectTest, LsMeasuresSizesOnlyWhenSizeIsRead) {
  // Measuring stats every file of every run: only for attributes.size, not
  // for a param whose name holds "size".
  CliResult plain = Segtool({"ls", "<REPO>", "--json", "--where",
                             "params.batch_size = 1 or params.seed = 7"});
  EXPECT_EQ(plain.code, kExitOk) << plain.err;
  EXPECT_THAT(plain.out, ::testing::Not(HasSubstr("bytes_on_disk")));
  CliResult sized = Segtool({"ls", "<REPO>", "--json", "--sort", "size:desc"});
  EXPECT_EQ(sized.code, kExitOk) << sized.err;
  EXPECT_THAT(sized.out, HasSubstr("\"bytes_on_disk\": 2413"));
}

TEST_F(InspectTest, LsDefaultColumnsFitTheTerminal) {
  env_.terminal_width = 120;
  CliResult r = ExpectGolden("ls_narrow", {"ls", "<REPO>"});
  for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
    EXPECT_LE(DisplayWidth(std::string(line)), 120u) << line;
  }
}

TEST_F(InspectTest, ShowTakesAUniqueIdPrefix) {
  // Ids start with the creation time: the fixture's runs differ by their
  // 6th digit.
  CliResult full = Segtool({"show", "<REPO>", "<RUN2>"});
  CliResult prefix = Segtool({"show", "<REPO>", run_ids_[1].substr(0, 6)});
  EXPECT_EQ(prefix.code, kExitOk) << prefix.err;
  EXPECT_EQ(prefix.out, full.out);
}

TEST_F(InspectTest, ShowFinishedRun) {
  CliResult r = ExpectGolden("show_finished", {"show", "<REPO>", "<RUN1>"});
  EXPECT_EQ(r.code, kExitOk);
}

TEST_F(InspectTest, ShowFinishedRunJson) {
  ExpectGolden("show_finished_json", {"show", "<REPO>", "<RUN1>", "--json"});
}

TEST_F(InspectTest, ShowFailedRun) {
  ExpectGolden("show_failed", {"show", "<REPO>", "<RUN2>"});
}

TEST_F(InspectTest, ShowUncommittedRun) {
  ExpectGolden("show_live", {"show", "<REPO>", "<RUN3>"});
}

TEST_F(InspectTest, CatScalarText) {
  CliResult r = ExpectGolden("cat_text", {"cat", "<REPO>", "<RUN1>", "loss",
                                          "--context", "subset=train"});
  EXPECT_EQ(r.code, kExitOk);
}

TEST_F(InspectTest, CatScalarCsv) {
  ExpectGolden("cat_csv", {"cat", "<REPO>", "<RUN1>", "loss", "--context",
                           "subset=val", "--csv"});
}

TEST_F(InspectTest, CatScalarJson) {
  ExpectGolden("cat_json", {"cat", "<REPO>", "<RUN1>", "accuracy", "--json"});
}

TEST_F(InspectTest, CatStepRange) {
  ExpectGolden("cat_steps",
               {"cat", "<REPO>", "<RUN1>", "accuracy", "--steps", "3:5"});
}

TEST_F(InspectTest, CatStepRangeOpenEnds) {
  CliResult from = Segtool(
      {"cat", "<REPO>", "<RUN1>", "accuracy", "--steps", "8:", "--csv"});
  EXPECT_EQ(from.code, kExitOk);
  EXPECT_EQ(std::count(from.out.begin(), from.out.end(), '\n'), 1 + 2);
  CliResult to = Segtool(
      {"cat", "<REPO>", "<RUN1>", "accuracy", "--steps", ":1", "--csv"});
  EXPECT_EQ(to.code, kExitOk);
  EXPECT_THAT(to.out, HasSubstr("\n0,"));
  EXPECT_THAT(to.out, HasSubstr("\n1,"));
  EXPECT_EQ(std::count(to.out.begin(), to.out.end(), '\n'), 1 + 2);
}

TEST_F(InspectTest, CatMaxPointsDownsamples) {
  CliResult r = ExpectGolden("cat_max_points",
                             {"cat", "<REPO>", "<RUN1>", "loss", "--context",
                              "subset=train", "--max-points", "4", "--csv"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_LE(std::count(r.out.begin(), r.out.end(), '\n'), 1 + 4);
}

TEST_F(InspectTest, CatTextSeries) {
  ExpectGolden("cat_text_series", {"cat", "<REPO>", "<RUN1>", "notes"});
}

TEST_F(InspectTest, CatTextSeriesCsvQuotes) {
  ExpectGolden("cat_text_series_csv",
               {"cat", "<REPO>", "<RUN1>", "notes", "--csv"});
}

TEST_F(InspectTest, CatHistogramSeries) {
  ExpectGolden("cat_histogram", {"cat", "<REPO>", "<RUN1>", "weights"});
  ExpectGolden("cat_histogram_json",
               {"cat", "<REPO>", "<RUN1>", "weights", "--json"});
}

TEST_F(InspectTest, CatBlobSeriesShowsTypeAndSize) {
  CliResult r = ExpectGolden("cat_blob", {"cat", "<REPO>", "<RUN1>", "sample"});
  EXPECT_THAT(r.out, HasSubstr("image/png, 300 bytes"));
}

TEST_F(InspectTest, CatUncommittedRun) {
  ExpectGolden("cat_live", {"cat", "<REPO>", "<RUN3>", "loss"});
}

TEST_F(InspectTest, CatMissingContextNamesTheContextsThatExist) {
  ExpectGolden("cat_no_context", {"cat", "<REPO>", "<RUN1>", "loss"});
}

TEST_F(InspectTest, CatMaxPointsOnTextSeriesIsAUsageError) {
  CliResult r =
      Segtool({"cat", "<REPO>", "<RUN1>", "notes", "--max-points", "5"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("scalar series only"));
}

TEST_F(InspectTest, ExportCsv) {
  CliResult r =
      ExpectGolden("export_csv", {"export", "<REPO>", "--format", "csv"});
  EXPECT_EQ(r.code, kExitOk);
}

TEST_F(InspectTest, ExportJsonl) {
  ExpectGolden("export_jsonl", {"export", "<REPO>", "<RUN2>", "<RUN3>"});
}

TEST_F(InspectTest, ExportToFileMatchesStdout) {
  const std::string file = temp_.path() + "/export.csv";
  CliResult to_file =
      Segtool({"export", "<REPO>", "--format", "csv", "--output", file});
  ASSERT_EQ(to_file.code, kExitOk) << to_file.err;
  EXPECT_EQ(to_file.out, "");
  CliResult to_stdout = Segtool({"export", "<REPO>", "--format", "csv"});
  EXPECT_EQ(ReadWholeFile(file), to_stdout.out);
  // Nothing but the export itself is left next to it.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(temp_.path())) {
    files += e.is_regular_file();
  }
  EXPECT_EQ(files, 1);
}

TEST_F(InspectTest, ExportToFileReplacesAnOldExport) {
  const std::string file = temp_.path() + "/export.jsonl";
  std::ofstream(file) << "old\n";
  CliResult r = Segtool({"export", "<REPO>", "<RUN2>", "--output", file});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(ReadWholeFile(file), HasSubstr("\"type\":\"run\""));
  EXPECT_THAT(ReadWholeFile(file), ::testing::Not(HasSubstr("old")));
}

TEST_F(InspectTest, ProgressGoesToStderrOnlyWhenEnabled) {
  CliResult quiet = Segtool({"export", "<REPO>", "--format", "csv"});
  EXPECT_EQ(quiet.err, "");
  env_.progress = true;  // as when stderr is a terminal
  CliResult shown = Segtool({"export", "<REPO>", "--format", "csv"});
  EXPECT_EQ(shown.out, quiet.out);
  // tqdm's layout (tools/segtool/progress_bar.h). The manual clock stands
  // still, so the later redraws fall within the 100 ms throttle.
  EXPECT_THAT(shown.err,
              HasSubstr("\r\x1b[Kexport   0%|          | 0/3 runs [00:00<?]"));
  // The line is erased at the end, leaving the terminal clean.
  EXPECT_THAT(shown.err, ::testing::EndsWith("\r\x1b[K"));
}

}  // namespace
}  // namespace runlog::segtool
