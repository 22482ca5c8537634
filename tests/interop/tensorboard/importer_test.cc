#include "interop/tensorboard/importer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "interop/import_session.h"
#include "interop/source_files.h"
#include "interop/tensorboard/exporter.h"
#include "interop/tensorboard/tfrecord_reader.h"
#include "tests/interop/wire.h"
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

std::string Frames(const std::vector<std::string>& events) {
  std::string out;
  for (const std::string& e : events) AppendTFRecord(e, &out);
  return out;
}

std::string Scalar(absl::string_view tag, float v) {
  std::string f = wire::Tag(tag);
  wire::Float(&f, 2, v);
  return f;
}

ImportReport Import(const std::string& logdir, const std::string& repo,
                    ImportOptions options = {}) {
  auto session = ImportSession::Open(repo, {}, kTensorBoardFormat, options);
  EXPECT_TRUE(session.ok()) << session.status();
  absl::Status s = ImportTensorBoard(logdir, session->get());
  EXPECT_TRUE(s.ok()) << s;
  return (*session)->report();
}

RunRecord RunNamed(Repo& repo, absl::string_view name) {
  auto runs = repo.ListRuns();
  EXPECT_TRUE(runs.ok());
  for (RunRecord& r : *runs) {
    if (r.summary.name == name) return r;
  }
  ADD_FAILURE() << "no run " << name;
  return {};
}

class TensorBoardImportTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string logdir_ = tmp_.path() + "/logs";
  std::string repo_ = tmp_.path() + "/repo";
};

TEST_F(TensorBoardImportTest, EveryDirectoryWithEventsIsOneRun) {
  std::string version;
  wire::Bytes(&version, 3, "brain.Event:2");
  WriteFile(
      logdir_ + "/a/events.out.tfevents.1.host",
      Frames({version, wire::Event(1700000000.25, 0, Scalar("loss", 0.5f)),
              wire::Event(1700000001.5, 1, Scalar("loss", 0.25f))}));
  WriteFile(logdir_ + "/b/c/events.out.tfevents.2.host",
            Frames({wire::Event(1700000002.0, 7, Scalar("acc", 0.75f))}));
  WriteFile(logdir_ + "/b/notes.txt", "not an event file");
  ImportReport report = Import(logdir_, repo_);
  ASSERT_EQ(report.runs.size(), 2u) << FormatImportReport(report);
  EXPECT_EQ(report.points(), 3);

  auto repo = Repo::Open(repo_);
  ASSERT_TRUE(repo.ok());
  RunRecord a = RunNamed(**repo, "a");
  EXPECT_EQ(a.summary.experiment, "tensorboard");
  auto view = (*repo)->OpenRun(a.id);
  ASSERT_TRUE(view.ok());
  auto loss = (*view)->ReadScalars({"loss", {}});
  ASSERT_TRUE(loss.ok()) << loss.status();
  EXPECT_EQ(loss->steps, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(loss->values, (std::vector<double>{0.5, 0.25}));
  // Wall times are the events', not the import's.
  EXPECT_EQ(loss->times_us,
            (std::vector<int64_t>{1700000000250000, 1700000001500000}));
  RunRecord bc = RunNamed(**repo, "b/c");
  EXPECT_FALSE(bc.id.empty());
  const Value* provenance = bc.summary.params.Find(kImportParam);
  ASSERT_NE(provenance, nullptr);
  EXPECT_TRUE(absl::StartsWith(provenance->Find("source")->as_string(),
                               "tensorboard:/"));
}

TEST_F(TensorBoardImportTest, ReimportSkipsAndUpdateReplaces) {
  const std::string file = logdir_ + "/run/events.out.tfevents.1.host";
  WriteFile(file, Frames({wire::Event(1e9, 0, Scalar("x", 1))}));
  ImportReport first = Import(logdir_, repo_);
  ASSERT_EQ(first.runs.size(), 1u);
  EXPECT_EQ(first.runs[0].action, "imported");
  ImportReport again = Import(logdir_, repo_);
  EXPECT_EQ(again.runs[0].action, "unchanged");

  // The writer went on.
  WriteFile(file, Frames({wire::Event(1e9, 0, Scalar("x", 1)),
                          wire::Event(1e9 + 1, 1, Scalar("x", 2))}));
  ImportReport changed = Import(logdir_, repo_);
  EXPECT_EQ(changed.runs[0].action, "changed");
  ImportReport dry = Import(logdir_, repo_, {.dry_run = true, .update = true});
  EXPECT_EQ(dry.runs[0].action, "would update");
  EXPECT_EQ(dry.points(), 2);
  ImportReport updated = Import(logdir_, repo_, {.update = true});
  EXPECT_EQ(updated.runs[0].action, "updated");

  auto repo = Repo::Open(repo_);
  auto runs = (*repo)->ListRuns();
  ASSERT_EQ(runs->size(), 1u);  // the old run was replaced
  auto view = (*repo)->OpenRun((*runs)[0].id);
  auto x = (*view)->ReadScalars({"x", {}});
  EXPECT_EQ(x->values, (std::vector<double>{1, 2}));
}

TEST_F(TensorBoardImportTest, DryRunWritesNothing) {
  WriteFile(logdir_ + "/events.out.tfevents.1.host",
            Frames({wire::Event(1e9, 0, Scalar("x", 1))}));
  ImportReport report = Import(logdir_, repo_, {.dry_run = true});
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(report.runs[0].action, "would import");
  EXPECT_EQ(report.runs[0].name, "logs");
  EXPECT_FALSE(std::filesystem::exists(repo_));
}

TEST_F(TensorBoardImportTest, TornTailImportsWithAWarning) {
  std::string bytes = Frames({wire::Event(1e9, 0, Scalar("x", 1)),
                              wire::Event(1e9, 1, Scalar("x", 2))});
  bytes.resize(bytes.size() - 3);
  WriteFile(logdir_ + "/r/events.out.tfevents.1.host", bytes);
  ImportReport report = Import(logdir_, repo_);
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(report.runs[0].points, 1);
  ASSERT_EQ(report.runs[0].warnings.size(), 1u);
  EXPECT_THAT(report.runs[0].warnings[0], HasSubstr("torn record at offset"));
}

TEST_F(TensorBoardImportTest, CorruptionFailsTheRunUnlessSkipped) {
  std::string bytes = Frames({wire::Event(1e9, 0, Scalar("x", 1)),
                              wire::Event(1e9, 1, Scalar("x", 2)),
                              wire::Event(1e9, 2, Scalar("x", 3))});
  bytes[bytes.size() / 2] ^= 0x10;
  WriteFile(logdir_ + "/r/events.out.tfevents.1.host", bytes);
  ImportReport report = Import(logdir_, repo_);
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(report.runs[0].action, "failed");
  EXPECT_THAT(report.runs[0].error, HasSubstr("events.out.tfevents.1.host"));
  EXPECT_THAT(report.runs[0].error, HasSubstr("offset"));
  auto repo = Repo::Open(repo_);
  EXPECT_TRUE((*repo)->ListRuns()->empty());  // the partial run is gone

  ImportReport skipped = Import(logdir_, repo_, {.skip_damaged = true});
  EXPECT_EQ(skipped.runs[0].action, "imported");
  EXPECT_EQ(skipped.runs[0].points, 2);
}

TEST_F(TensorBoardImportTest, SymlinkLoopAndEscapesAreNotFollowed) {
  WriteFile(logdir_ + "/r/events.out.tfevents.1.host",
            Frames({wire::Event(1e9, 0, Scalar("x", 1))}));
  WriteFile(tmp_.path() + "/outside/events.out.tfevents.9.host",
            Frames({wire::Event(1e9, 0, Scalar("secret", 1))}));
  ASSERT_EQ(symlink(logdir_.c_str(), (logdir_ + "/r/loop").c_str()), 0);
  ASSERT_EQ(
      symlink((tmp_.path() + "/outside").c_str(), (logdir_ + "/out").c_str()),
      0);
  ImportReport report = Import(logdir_, repo_);
  ASSERT_EQ(report.runs.size(), 1u) << FormatImportReport(report);
  EXPECT_EQ(report.runs[0].name, "r");
  EXPECT_EQ(report.notes.size(), 2u) << FormatImportReport(report);
}

// The real TensorBoard files of the corpus, each in a run directory of its
// own: every one imports, and every scalar is bit-identical to what an
// independent reading of the file (tests/interop/wire.h) finds.
struct Expected {
  std::vector<int64_t> steps;
  std::vector<double> values;
};

std::map<std::string, Expected> ReadScalarsIndependently(
    const std::string& bytes) {
  std::map<std::string, Expected> out;
  std::map<std::string, std::string> plugin;
  size_t pos = 0;
  while (pos + 12 <= bytes.size()) {
    uint64_t len;
    std::memcpy(&len, bytes.data() + pos, 8);
    if (pos + 16 + len > bytes.size()) break;
    const absl::string_view event(bytes.data() + pos + 12, len);
    pos += 16 + len;
    wire::Reader r(event);
    int64_t step = 0;
    std::vector<absl::string_view> values;
    int f, t;
    uint64_t v;
    absl::string_view b;
    while (!r.done() && r.Field(&f, &t, &v, &b)) {
      if (f == 2 && t == 0) step = static_cast<int64_t>(v);
      if (f == 5 && t == 2) {
        wire::Reader s(b);
        while (!s.done() && s.Field(&f, &t, &v, &b)) {
          if (f == 1 && t == 2) values.push_back(b);
        }
      }
    }
    for (absl::string_view value : values) {
      wire::Reader vr(value);
      std::string tag;
      std::optional<double> scalar;
      absl::string_view tensor;
      while (!vr.done() && vr.Field(&f, &t, &v, &b)) {
        if (f == 1) tag = std::string(b);
        if (f == 2 && t == 5) {
          float x;
          std::memcpy(&x, b.data(), 4);
          scalar = x;
        }
        if (f == 8) tensor = b;
        if (f == 9) {  // metadata.plugin_data.plugin_name
          wire::Reader m(b);
          while (!m.done() && m.Field(&f, &t, &v, &b)) {
            if (f != 1) continue;
            wire::Reader pd(b);
            while (!pd.done() && pd.Field(&f, &t, &v, &b)) {
              if (f == 1) plugin[tag] = std::string(b);
            }
          }
        }
      }
      if (!scalar && !tensor.empty() && plugin[tag] == "scalars") {
        wire::Reader tr(tensor);
        int dtype = 0;
        while (!tr.done() && tr.Field(&f, &t, &v, &b)) {
          if (f == 1) dtype = static_cast<int>(v);
          if (f == 5 && dtype == 1) {  // float_val, packed or not
            float x;
            std::memcpy(&x, b.data(), 4);
            scalar = x;
          }
          if (f == 6 && dtype == 2) {
            double x;
            std::memcpy(&x, b.data(), 8);
            scalar = x;
          }
          if (f == 4 && dtype == 1 && b.size() == 4) {
            float x;
            std::memcpy(&x, b.data(), 4);
            scalar = x;
          }
          if (f == 4 && dtype == 2 && b.size() == 8) {
            double x;
            std::memcpy(&x, b.data(), 8);
            scalar = x;
          }
        }
      }
      if (scalar) {
        out[tag].steps.push_back(step);
        out[tag].values.push_back(*scalar);
      }
    }
  }
  return out;
}

std::string RealCurves() {
  const char* env = std::getenv("RUNLOG_REAL_CURVES");
  return env && *env ? env : "/work/shared/data/real-curves";
}

TEST_F(TensorBoardImportTest, EveryRealEventFileImportsBitIdentically) {
  const std::string dir = RealCurves() + "/tfevents";
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 13u) << dir;
  std::map<std::string, std::map<std::string, Expected>> expected;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string run = absl::StrCat("f", i);
    std::filesystem::create_directories(logdir_ + "/" + run);
    const std::string target = logdir_ + "/" + run + "/" + names[i];
    std::filesystem::copy_file(dir + "/" + names[i], target);
    auto bytes = ReadSourceFile(target);
    ASSERT_TRUE(bytes.ok());
    expected[run] = ReadScalarsIndependently(*bytes);
  }
  ImportReport report = Import(logdir_, repo_);
  ASSERT_EQ(report.runs.size(), 13u);
  EXPECT_EQ(report.failed(), 0) << FormatImportReport(report);
  auto repo = Repo::Open(repo_);
  int64_t scalars = 0;
  for (const auto& [run, series] : expected) {
    RunRecord record = RunNamed(**repo, run);
    auto view = (*repo)->OpenRun(record.id);
    ASSERT_TRUE(view.ok());
    EXPECT_FALSE(series.empty()) << run;
    for (const auto& [tag, points] : series) {
      auto got = (*view)->ReadScalars({tag, {}});
      ASSERT_TRUE(got.ok()) << run << " " << tag << ": " << got.status();
      ASSERT_EQ(got->steps, points.steps) << run << " " << tag;
      ASSERT_EQ(got->size(), points.values.size());
      for (size_t i = 0; i < got->size(); ++i) {
        ASSERT_EQ(std::memcmp(&got->values[i], &points.values[i], 8), 0)
            << run << " " << tag << " point " << i;
      }
      scalars += static_cast<int64_t>(got->size());
    }
  }
  // SOURCES.md counts ~52,000 scalar points in these files.
  EXPECT_GT(scalars, 45000);
}

TEST_F(TensorBoardImportTest, ExportThenImportGivesTheSamePoints) {
  auto repo = Repo::Open(repo_);
  ASSERT_TRUE(repo.ok());
  auto run = (*repo)->CreateRun({.experiment = "e", .name = "orig"});
  ASSERT_TRUE(run.ok());
  std::vector<double> values = {0.1, 1.0 / 3, -2.5e300, std::nan(""),
                                std::numeric_limits<double>::infinity()};
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_TRUE((*run)->Track("loss", values[i], 10 * i).ok());
  }
  ASSERT_TRUE(
      (*run)->TrackHistogram("w", Histogram{{-1, 0, 2}, {3, 4}}, 5).ok());
  ASSERT_TRUE((*run)->TrackText("note", "hello\nworld", 6).ok());
  ASSERT_TRUE(
      (*run)
          ->TrackBlob("img", Blob{"image/png", "\x89PNG\r\n\x1a\nxx"}, 7)
          .ok());
  const std::string id = (*run)->id();
  ASSERT_TRUE((*run)->Commit().ok());

  auto exported =
      ExportRunToTensorBoard(**repo, id, tmp_.path() + "/tb", nullptr);
  ASSERT_TRUE(exported.ok()) << exported.status();
  EXPECT_EQ(exported->points, 8);
  ImportReport report = Import(tmp_.path() + "/tb", tmp_.path() + "/back");
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(report.runs[0].points, 8) << FormatImportReport(report);

  auto back = Repo::Open(tmp_.path() + "/back");
  auto runs = (*back)->ListRuns();
  auto view = (*back)->OpenRun((*runs)[0].id);
  auto original = (*repo)->OpenRun(id);
  auto a = (*original)->ReadScalars({"loss", {}});
  auto b = (*view)->ReadScalars({"loss", {}});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->steps, b->steps);
  EXPECT_EQ(a->times_us, b->times_us);
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ(std::memcmp(&a->values[i], &b->values[i], 8), 0) << i;
  }
  EXPECT_EQ((*view)->ReadHistograms({"w", {}})->values,
            (*original)->ReadHistograms({"w", {}})->values);
  EXPECT_EQ((*view)->ReadTexts({"note", {}})->values,
            (*original)->ReadTexts({"note", {}})->values);
  EXPECT_EQ((*view)->ReadBlobs({"img", {}})->values,
            (*original)->ReadBlobs({"img", {}})->values);
}

}  // namespace
}  // namespace runlog::interop
