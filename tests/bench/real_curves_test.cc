#include "bench/real_curves.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace runlog::bench {
namespace {

using ::runlog::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Names(const std::vector<CurveSeries>& series) {
  std::vector<std::string> names;
  for (const CurveSeries& s : series) names.push_back(s.name);
  return names;
}

// ---- Hugging Face trainer_state.json ----

TEST(ParseTrainerStateTest, EveryNumericFieldButStepAndEpochIsAPoint) {
  constexpr absl::string_view kText = R"({
    "global_step": 20,
    "log_history": [
      {"epoch": 0.5, "learning_rate": 3e-4, "loss": 2.25, "step": 10},
      {"epoch": 1.0, "eval_loss": 1.5, "remaining_time": "1h", "step": 20,
       "flag": true, "missing": null, "num_tokens": 81920},
      {"loss": 2.0, "step": 20}
    ]})";
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::vector<CurveSeries> series,
                              ParseTrainerState(kText, "t.json"));
  // File order of first appearance; strings, booleans and null are not
  // metrics.
  ASSERT_THAT(Names(series),
              ElementsAre("learning_rate", "loss", "eval_loss", "num_tokens"));
  const CurveSeries& loss = series[1];
  EXPECT_THAT(loss.steps, ElementsAre(10, 20));
  EXPECT_THAT(loss.values, ElementsAre(2.25, 2.0));
  EXPECT_EQ(loss.epochs[0], 0.5);
  EXPECT_TRUE(std::isnan(loss.epochs[1]));
  EXPECT_THAT(loss.times_us, ElementsAre(0, 0));
  EXPECT_EQ(series[0].values[0], 3e-4);
  EXPECT_THAT(series[3].values, ElementsAre(81920.0));
  EXPECT_THAT(series[2].epochs, ElementsAre(1.0));
}

TEST(ParseTrainerStateTest, BadJsonNamesFileAndLine) {
  EXPECT_THAT(ParseTrainerState("{\"log_history\": [\n  {\"step\": 1,}\n]}",
                                "bad.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("bad.json"), HasSubstr("line 2"))));
}

TEST(ParseTrainerStateTest, NoLogHistoryIsAnError) {
  EXPECT_THAT(ParseTrainerState(R"({"log": []})", "x.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("x.json"), HasSubstr("log_history"))));
}

TEST(ParseTrainerStateTest, EntryWithoutIntegerStepIsAnError) {
  EXPECT_THAT(ParseTrainerState(
                  R"({"log_history": [{"step": 1, "loss": 1}, {"step": 1.5}]})",
                  "x.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("x.json"), HasSubstr("log_history[1]"),
                             HasSubstr("step"))));
}

TEST(ParseTrainerStateTest, EntryThatIsNotAnObjectIsAnError) {
  EXPECT_THAT(ParseTrainerState(R"({"log_history": [3]})", "x.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("log_history[0]")));
}

// ---- MLflow metric files ----

TEST(ParseMlflowMetricTest, LinesAreTimestampValueStep) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(
      std::vector<CurveSeries> series,
      ParseMlflowMetric("1613571367344 0.10167845338582993 0\n"
                        "1613571441731 nan 1\n",
                        "m", "loss"));
  ASSERT_EQ(series.size(), 1u);
  const CurveSeries& s = series[0];
  EXPECT_EQ(s.name, "loss");
  EXPECT_THAT(s.steps, ElementsAre(0, 1));
  EXPECT_EQ(s.values[0], 0.10167845338582993);
  EXPECT_TRUE(std::isnan(s.values[1]));
  EXPECT_THAT(s.times_us, ElementsAre(1613571367344000, 1613571441731000));
  EXPECT_TRUE(std::isnan(s.epochs[0]));
}

TEST(ParseMlflowMetricTest, MalformedLineIsNamed) {
  EXPECT_THAT(ParseMlflowMetric("1 0.5 0\n2 0.5\n3 0.5 2\n", "m", "loss"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("m:2:"), HasSubstr("\"2 0.5\""))));
}

TEST(ParseMlflowMetricTest, NonNumericValueIsNamed) {
  EXPECT_THAT(ParseMlflowMetric("1 0.5 0\n2 0.5x 1\n", "m", "loss"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("m:2:")));
}

TEST(ParseMlflowMetricTest, BlankLineInsideIsAnError) {
  EXPECT_THAT(ParseMlflowMetric("1 0.5 0\n\n2 0.5 1\n", "m", "loss"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("m:2:"), HasSubstr("blank"))));
}

TEST(ParseMlflowMetricTest, OutOfRangeTimestampIsAnError) {
  EXPECT_THAT(ParseMlflowMetric("9223372036854776 0.5 0\n", "m", "loss"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("m:1:"), HasSubstr("out of range"))));
}

TEST(MlflowMetricNameTest, SuffixAfterMetrics) {
  EXPECT_EQ(MlflowMetricName("o__r__mlruns_2_f6_metrics_train_decode.acc_seg"),
            "train_decode.acc_seg");
  // "metrics_" in the owner or repo part does not count.
  EXPECT_EQ(MlflowMetricName("metrics_o__r__mlruns_0_ab_metrics_loss"), "loss");
  EXPECT_EQ(MlflowMetricName("loss"), "loss");
}

// ---- CSV and TSV ----

TEST(ParseDelimitedTest, LightningSparseColumnsUseStepAndEpoch) {
  constexpr absl::string_view kText =
      "epoch,step,train_loss_step,val_loss\n"
      "0,49,7.5,\n"
      "0,99,7.25,\n"
      "0,99,,6.5\n";
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::vector<CurveSeries> series,
                              ParseDelimited(kText, "m.csv", ','));
  ASSERT_THAT(Names(series), ElementsAre("train_loss_step", "val_loss"));
  EXPECT_THAT(series[0].steps, ElementsAre(49, 99));
  EXPECT_THAT(series[0].values, ElementsAre(7.5, 7.25));
  EXPECT_THAT(series[0].epochs, ElementsAre(0.0, 0.0));
  EXPECT_THAT(series[1].steps, ElementsAre(99));
  EXPECT_THAT(series[1].values, ElementsAre(6.5));
}

TEST(ParseDelimitedTest, WithoutAStepColumnTheRowNumberIsTheStep) {
  // Ultralytics: padded cells, epoch but no step; time is a measurement.
  constexpr absl::string_view kText =
      "   epoch,   time,  train/box_loss\n"
      "       1,  9.918,          1.1267\n"
      "       2, 17.616,         1.06919\n";
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::vector<CurveSeries> series,
                              ParseDelimited(kText, "r.csv", ','));
  ASSERT_THAT(Names(series), ElementsAre("time", "train/box_loss"));
  EXPECT_THAT(series[1].steps, ElementsAre(0, 1));
  EXPECT_THAT(series[1].epochs, ElementsAre(1.0, 2.0));
  EXPECT_THAT(series[1].values, ElementsAre(1.1267, 1.06919));
}

TEST(ParseDelimitedTest, StepCounterIsPreferredToEpisode) {
  constexpr absl::string_view kText =
      "episode,episode time,reward,steps_done\n"
      "0,0.78,168.0,389\n"
      "1,0.54,84.0,645\n";
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::vector<CurveSeries> series,
                              ParseDelimited(kText, "p.csv", ','));
  ASSERT_THAT(Names(series), ElementsAre("episode time", "reward"));
  EXPECT_THAT(series[1].steps, ElementsAre(389, 645));
  EXPECT_TRUE(std::isnan(series[1].epochs[0]));
}

TEST(ParseDelimitedTest, EpisodeIsTheStepWhenThereIsNoStepCounter) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(
      std::vector<CurveSeries> series,
      ParseDelimited("Episode,Score\n0,3\n0,4\n1,5\n", "t.csv", ','));
  ASSERT_THAT(Names(series), ElementsAre("Score"));
  EXPECT_THAT(series[0].steps, ElementsAre(0, 0, 1));
}

TEST(ParseDelimitedTest, CommentLinesAndWindowsLineEnds) {
  // A Stable-Baselines3 monitor written through "\r\n" and "\r\r\n".
  constexpr absl::string_view kText =
      "#{\"t_start\": 1733286343.49}\r\n"
      "r,l,t\r\r\n"
      "-114.977073,100,0.564456\r\r\n"
      "-98.5,100,1.25\r\n";
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::vector<CurveSeries> series,
                              ParseDelimited(kText, "monitor.csv", ','));
  ASSERT_THAT(Names(series), ElementsAre("r", "l", "t"));
  EXPECT_THAT(series[0].values, ElementsAre(-114.977073, -98.5));
  EXPECT_THAT(series[2].values, ElementsAre(0.564456, 1.25));
  EXPECT_THAT(series[2].steps, ElementsAre(0, 1));
}

TEST(ParseDelimitedTest, TabSeparated) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(
      std::vector<CurveSeries> series,
      ParseDelimited("step\tlr\n39\t6.802937605243642e-06\n79\t1e-5\n",
                     "lr.tsv", '\t'));
  ASSERT_THAT(Names(series), ElementsAre("lr"));
  EXPECT_THAT(series[0].steps, ElementsAre(39, 79));
  EXPECT_EQ(series[0].values[0], 6.802937605243642e-06);
}

TEST(ParseDelimitedTest, IntegralFloatStepIsAccepted) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(
      std::vector<CurveSeries> series,
      ParseDelimited("step,loss\n49.0,1\n", "s.csv", ','));
  EXPECT_THAT(series[0].steps, ElementsAre(49));
}

TEST(ParseDelimitedTest, AllEmptyColumnIsNoSeries) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(
      std::vector<CurveSeries> series,
      ParseDelimited("step,loss,unused\n1,0.5,\n2,0.25,\n", "s.csv", ','));
  EXPECT_THAT(Names(series), ElementsAre("loss"));
}

TEST(ParseDelimitedTest, WrongCellCountNamesLine) {
  EXPECT_THAT(ParseDelimited("step,loss\n1,0.5\n2,0.5,7\n", "s.csv", ','),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("s.csv:3:"), HasSubstr("3 cells"))));
}

TEST(ParseDelimitedTest, NonNumericCellNamesLineAndColumn) {
  EXPECT_THAT(ParseDelimited("step,loss\n1,0.5\n2,oops\n", "s.csv", ','),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("s.csv:3:"), HasSubstr("\"loss\""),
                             HasSubstr("\"oops\""))));
}

TEST(ParseDelimitedTest, NonIntegerStepNamesLine) {
  EXPECT_THAT(ParseDelimited("step,loss\n1.5,0.5\n", "s.csv", ','),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("s.csv:2:"), HasSubstr("step"))));
}

TEST(ParseDelimitedTest, EmptyStepCellNamesLine) {
  EXPECT_THAT(ParseDelimited("step,loss\n1,0.5\n,0.5\n", "s.csv", ','),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("s.csv:3:"), HasSubstr("step"))));
}

TEST(ParseDelimitedTest, NonNumericEpochNamesLine) {
  EXPECT_THAT(ParseDelimited("epoch,loss\nfirst,0.5\n", "s.csv", ','),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("s.csv:2:"), HasSubstr("epoch"))));
}

TEST(ParseDelimitedTest, DuplicateColumnIsAnError) {
  EXPECT_THAT(ParseDelimited("step,loss,loss\n1,2,3\n", "s.csv", ','),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("s.csv:1:"), HasSubstr("twice"))));
}

TEST(ParseDelimitedTest, EmptyColumnNameIsAnError) {
  EXPECT_THAT(ParseDelimited("step,,loss\n1,2,3\n", "s.csv", ','),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("s.csv:1:"), HasSubstr("empty"))));
}

TEST(ParseDelimitedTest, OnlyCommentsIsAnError) {
  EXPECT_THAT(ParseDelimited("# nothing\n", "s.csv", ','),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("s.csv"), HasSubstr("header"))));
}

// ---- the directory ----

TEST(LoadRealCurvesTest, MissingDirectoryNamesPathAndVariable) {
  testing::TempDir tmp;
  const std::string missing = tmp.path() + "/none";
  EXPECT_THAT(
      LoadRealCurves(missing),
      StatusIs(absl::StatusCode::kNotFound,
               AllOf(HasSubstr(missing), HasSubstr(kRealCurvesEnvVar))));
}

// ---- the real corpus (SOURCES.md) ----

struct Expected {
  const char* relative_path;
  size_t points;  // SOURCES.md
  size_t series;  // SOURCES.md's "N series", or its columns less the index
                  // columns (step/epoch/episode counters)
};

// Every JSON, MLflow and CSV file of SOURCES.md with its point count.
constexpr Expected kExpected[] = {
    {"csv/01-Zhangsaisai__Wheat-Weed-Detection-YOLOv8__runs_detect_train_"
     "results.csv",
     1428, 14},
    {"csv/0Xero7__slm_training__lightning_logs_version_0_metrics.csv", 5698, 9},
    {"csv/Abhinav3499__Crater_Detection__runs_detect_train_results.csv", 975,
     13},
    {"csv/Abonia1__YOLOv8-Fire-and-Smoke-Detection__runs_detect_train_"
     "results.csv",
     325, 13},
    {"csv/ArturMakowski__Sound_event_detection_system__dvclive_plots_metrics_"
     "train_loss.tsv",
     595, 1},
    {"csv/ArturMakowski__Sound_event_detection_system__dvclive_plots_metrics_"
     "train_lr.tsv",
     595, 1},
    {"csv/AtariRL__atari-dqn__progress.csv", 42402, 3},
    {"csv/BoogaQ__PPO-exploration__progress.csv", 888, 6},
    {"csv/Deepender25__Handwritten-Digit-Recognition---CNN-with-99.65-"
     "Accuracy__training_log.csv",
     150, 5},
    {"csv/DimiZorgon__tetris_rl__training_log.csv", 9240, 4},
    {"csv/Macro1027__Simple-Pendulum-PINN__lightning_logs_version_27_"
     "metrics.csv",
     13120, 8},
    {"csv/Macro1027__Simple-Pendulum-PINN__lightning_logs_version_28_"
     "metrics.csv",
     65600, 8},
    {"csv/MaxGalindo150__deeprl__logs_pusher_monitor.csv", 90162, 3},
    {"csv/msh2481__LanguageTransfer__dvclive_plots_metrics_learning_rate.tsv",
     4138, 1},
    {"csv/msh2481__LanguageTransfer__dvclive_plots_metrics_loss.tsv", 4138, 1},
    {"hf-trainer-state/10844110__t5-summarization-demo__trainer_state.json",
     1295, 8},
    {"hf-trainer-state/AriesChen-UPC__GeoLLM__trainer_state.json", 600, 2},
    {"hf-trainer-state/CoralReefFish__whisper-tiny-nbaiLab__trainer_state.json",
     4505, 12},
    {"hf-trainer-state/Dheena731__tinyLlama-finetune__trainer_state.json", 1014,
     11},
    {"hf-trainer-state/DigitalIntelligenceCenter-of-ICMM__Baize-Traditional-"
     "Chinese-Medicine-Large-Language-Model__trainer_state.json",
     20061, 3},
    {"hf-trainer-state/Fujump__qlora__output_trainer_state.json", 2005, 7},
    {"hf-trainer-state/HangerYang__Star__trainer_state.json", 34000, 17},
    {"hf-trainer-state/LeoWang0086__qxs__trainer_state.json", 2160, 3},
    {"hf-trainer-state/Merlinmy__Whisper_small_hi__trainer_state.json", 430,
     12},
    {"hf-trainer-state/O5-7__chat_glm2_in4_LIL_prefix__trainer_state.json", 605,
     7},
    {"hf-trainer-state/P4P4N1CK__whisper-large-v2-japanese-5k-steps__trainer_"
     "state.json",
     430, 12},
    {"hf-trainer-state/Rusheel86__Chaos-Economy__trainer_state.json", 1240, 31},
    {"hf-trainer-state/SeanGormann__llm_recovery__checkpoint-200_trainer_"
     "state.json",
     2200, 11},
    {"hf-trainer-state/Silver-8ce__llamaTest__trainer_state.json", 3263, 27},
    {"hf-trainer-state/aigoncharov__trainer_state_viz__trainer_state.json",
     1020, 33},
    {"hf-trainer-state/akhmetvaleev-ruslan__bashkir-language-audio2text__"
     "trainer_state.json",
     1300, 8},
    {"hf-trainer-state/arbordreams__tokalign-baseline__model_trainer_state."
     "json",
     7500, 3},
    {"hf-trainer-state/chandlerzuo__rlhf_recsys__outputs_trainer_state.json",
     434, 18},
    {"hf-trainer-state/ijinyu1113__Learned-Remasking-Policy-for-dLLM__"
     "pretrained_checkpoints_checkpoint-2000_trainer_state.json",
     27000, 23},
    {"hf-trainer-state/syGOAT__Mistral-v0.2-Translator-bf16__trainer_state."
     "json",
     2603, 8},
    {"hf-trainer-state/tasfiahmrinmoyee__Gemma3-1B-Instruct-outputs__trainer_"
     "state.json",
     306, 12},
    {"mlflow/AttentionSeekers__CNNtention__mlruns_237554920761476281_"
     "217673c0f0494151bd477f79543a2341_metrics_train_loss",
     182, 1},
    {"mlflow/GhadeerElmkaiel__SegFormer__mlruns_2_"
     "f67368c47c034f66a565105fb0eb7697_metrics_learning_rate",
     16000, 1},
    {"mlflow/GhadeerElmkaiel__SegFormer__mlruns_2_"
     "f67368c47c034f66a565105fb0eb7697_metrics_momentum",
     16000, 1},
    {"mlflow/GhadeerElmkaiel__SegFormer__mlruns_2_"
     "f67368c47c034f66a565105fb0eb7697_metrics_train_decode.acc_seg",
     15960, 1},
    {"mlflow/GhadeerElmkaiel__SegFormer__mlruns_2_"
     "f67368c47c034f66a565105fb0eb7697_metrics_train_decode.loss_seg",
     15960, 1},
    {"mlflow/Klimorg__cracks_defect__mlruns_0_31be14db148a482280d7bb6ec54fd631_"
     "metrics_loss",
     30, 1},
    {"mlflow/Toma0916__GlobalWheatDetection__mlruns_7_"
     "fb8648a8b8e843e79de5d13d04cd2d2d_metrics_tr_ls_objectness",
     159, 1},
    {"mlflow/Toma0916__GlobalWheatDetection__mlruns_7_"
     "fb8648a8b8e843e79de5d13d04cd2d2d_metrics_val_ls",
     159, 1},
    {"mlflow/VladimirMCorteza__Pytorch-MLflow-Tensorboard__mlruns_0_"
     "58a829e452164bf99b1d4fd228830189_metrics_train_loss",
     100, 1},
};

// The corpus, loaded once for the suite. It is required: a missing corpus
// fails the tests instead of skipping them, so CI cannot pass without it.
class RealCorpusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    files_ = new absl::StatusOr<std::vector<CurveFile>>(
        LoadRealCurves(RealCurvesDir()));
  }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(files_->ok())
        << "cannot load the real training logs from " << RealCurvesDir()
        << " (set " << kRealCurvesEnvVar
        << " to the real-curves folder): " << files_->status();
  }
  static const std::vector<CurveFile>& files() { return **files_; }
  static const CurveFile* Find(absl::string_view relative_path) {
    for (const CurveFile& f : files()) {
      if (f.relative_path == relative_path) return &f;
    }
    return nullptr;
  }
  static const CurveSeries* FindSeries(const CurveFile& file,
                                       absl::string_view name) {
    for (const CurveSeries& s : file.series) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }

  static absl::StatusOr<std::vector<CurveFile>>* files_;
};
absl::StatusOr<std::vector<CurveFile>>* RealCorpusTest::files_ = nullptr;

TEST_F(RealCorpusTest, EveryFileHasSourcesPointAndSeriesCounts) {
  ASSERT_EQ(files().size(), std::size(kExpected));
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.relative_path);
    const CurveFile* f = Find(e.relative_path);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->points(), e.points);
    EXPECT_EQ(f->series.size(), e.series);
    EXPECT_GT(f->file_bytes, 0u);
    for (const CurveSeries& s : f->series) {
      EXPECT_EQ(s.values.size(), s.size()) << s.name;
      EXPECT_EQ(s.epochs.size(), s.size()) << s.name;
      EXPECT_EQ(s.times_us.size(), s.size()) << s.name;
    }
  }
}

TEST_F(RealCorpusTest, TotalsPerFormatMatchSources) {
  std::map<std::string, size_t> points, count;
  for (const CurveFile& f : files()) {
    points[f.format] += f.points();
    ++count[f.format];
  }
  EXPECT_EQ(count["hf-trainer-state"], 21u);
  EXPECT_EQ(count["mlflow"], 9u);
  EXPECT_EQ(count["csv"], 15u);
  EXPECT_EQ(points["hf-trainer-state"], 113971u);
  EXPECT_EQ(points["mlflow"], 64550u);
  EXPECT_EQ(points["csv"], 239454u);
  // SOURCES.md's ~467,024 less the 13 TensorBoard files' 49,049 points.
  EXPECT_EQ(points["hf-trainer-state"] + points["mlflow"] + points["csv"],
            467024u - 49049u);
}

TEST_F(RealCorpusTest, MlflowPointsKeepTimestampsAndExactValues) {
  const CurveFile* f = Find(
      "mlflow/Klimorg__cracks_defect__mlruns_0_"
      "31be14db148a482280d7bb6ec54fd631_metrics_loss");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->series.size(), 1u);
  const CurveSeries& s = f->series[0];
  EXPECT_EQ(s.name, "loss");
  EXPECT_EQ(s.steps[0], 0);
  EXPECT_EQ(s.values[0], 0.10167845338582993);
  EXPECT_EQ(s.times_us[0], 1613571367344000);
  EXPECT_EQ(s.steps[1], 1);
  EXPECT_EQ(s.times_us[1], 1613571441731000);
}

TEST_F(RealCorpusTest, MonitorCsvSkipsItsCommentLine) {
  const CurveFile* f =
      Find("csv/MaxGalindo150__deeprl__logs_pusher_monitor.csv");
  ASSERT_NE(f, nullptr);
  const CurveSeries* r = FindSeries(*f, "r");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->steps[0], 0);
  EXPECT_EQ(r->values[0], -114.977073);
}

TEST_F(RealCorpusTest, TrainerStateStepsAndEpochs) {
  const CurveFile* f =
      Find("hf-trainer-state/AriesChen-UPC__GeoLLM__trainer_state.json");
  ASSERT_NE(f, nullptr);
  const CurveSeries* loss = FindSeries(*f, "loss");
  ASSERT_NE(loss, nullptr);
  ASSERT_EQ(loss->size(), 300u);
  // SOURCES.md: 300 entries up to global step 3000.
  EXPECT_EQ(loss->steps.back(), 3000);
  for (size_t i = 0; i < loss->size(); ++i) {
    ASSERT_FALSE(std::isnan(loss->epochs[i])) << i;
    if (i > 0) {
      ASSERT_GT(loss->steps[i], loss->steps[i - 1]) << i;
    }
  }
}

}  // namespace
}  // namespace runlog::bench
