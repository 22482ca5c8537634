// The compacted form of a run read back: golden files of both footer
// versions, the view chunks (sub-block summaries) against plain
// downsampling, damage to them, and reads into reused or partial columns.
#include "tracking/compaction/compacted_run.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/column_file.h"
#include "storage/commit_manifest.h"
#include "storage/file_system.h"
#include "storage/mem_file_system.h"
#include "tests/testing/double_bits.h"
#include "tests/testing/status_matchers.h"
#include "tracking/downsample.h"

namespace runlog {
namespace {

using ::runlog::testing::Bits;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kRunId[] = "0mx7dqsah4degw2vx";
constexpr char kDir[] = "/run";

std::string SourceDir() {
  const char* src = std::getenv("RUNLOG_TEST_SRCDIR");
  return src != nullptr ? std::string(src) : std::string("../../..");
}

// ---- golden files ----------------------------------------------------------

// tests/tracking/compaction/golden/compacted_v{1,2}: the same CSV imported
// (`segtool import csv`) and compacted by the runlog of each footer version:
//   loss{subset=train}: steps 0..9999, epoch i/1000, time 1.7e15 + 1000 i µs,
//     value 1/(1+i) + (i%7)/1000, NaN where i%997 == 5;
//   acc{subset=val}: steps 0, 100, .., 9900, no epoch, time 1.7e15 + 1e5 i,
//     value i/100;
//   note (text): "hello 0" .. "hello 2" at steps 0..2.
struct Golden {
  const char* dir;
  const char* run_id;
  bool has_views;
};

class GoldenTest : public ::testing::TestWithParam<Golden> {
 protected:
  std::unique_ptr<CompactedRunReader> Open() {
    const std::string dir = absl::StrCat(
        SourceDir(), "/tests/tracking/compaction/golden/", GetParam().dir);
    storage::FileSystem* fs = storage::FileSystem::Default();
    absl::StatusOr<storage::CommitManifest> m =
        storage::ReadCommitManifest(*fs, dir);
    EXPECT_THAT(m.status(), IsOk()) << dir;
    if (!m.ok()) return nullptr;
    info_ = m->segments.front();
    auto r = CompactedRunReader::Open(fs, dir, GetParam().run_id, info_);
    EXPECT_THAT(r.status(), IsOk());
    return r.ok() ? *std::move(r) : nullptr;
  }
  storage::SegmentInfo info_;
};

TEST_P(GoldenTest, ReadsEveryPoint) {
  std::unique_ptr<CompactedRunReader> r = Open();
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->footer().series.size(), 3u);
  const CompactedSeries* loss =
      r->Find(SeriesKey{"loss", {{"subset", "train"}}});
  ASSERT_NE(loss, nullptr);
  EXPECT_EQ(loss->has_view, GetParam().has_views);
  auto c = r->ReadScalars(*loss, {});
  ASSERT_THAT(c.status(), IsOk());
  ASSERT_EQ(c->size(), 10000u);
  for (size_t i = 0; i < c->size(); ++i) {
    const double want = i % 997 == 5 ? std::numeric_limits<double>::quiet_NaN()
                                     : 1.0 / (1 + i) + (i % 7) * 0.001;
    ASSERT_EQ(c->steps[i], static_cast<int64_t>(i));
    ASSERT_EQ(Bits(c->values[i]), Bits(want)) << i;
    ASSERT_EQ(Bits(c->epochs[i]), Bits(i / 1000.0)) << i;
    ASSERT_EQ(c->times_us[i],
              1700000000000000 + static_cast<int64_t>(i) * 1000);
  }
  const CompactedSeries* acc = r->Find(SeriesKey{"acc", {{"subset", "val"}}});
  ASSERT_NE(acc, nullptr);
  auto a = r->ReadScalars(*acc, {});
  ASSERT_THAT(a.status(), IsOk());
  ASSERT_EQ(a->size(), 100u);
  EXPECT_EQ(a->steps[99], 9900);
  EXPECT_EQ(a->values[37], 0.37);
  EXPECT_TRUE(std::isnan(a->epochs[0]));
  const CompactedSeries* note = r->Find(SeriesKey{"note", {}});
  ASSERT_NE(note, nullptr);
  auto t = r->ReadTexts(*note, {});
  ASSERT_THAT(t.status(), IsOk());
  EXPECT_THAT(t->values,
              ::testing::ElementsAre("hello 0", "hello 1", "hello 2"));
}

TEST_P(GoldenTest, DownsamplesAsThePlainDefinition) {
  std::unique_ptr<CompactedRunReader> r = Open();
  ASSERT_NE(r, nullptr);
  const CompactedSeries* loss =
      r->Find(SeriesKey{"loss", {{"subset", "train"}}});
  ASSERT_NE(loss, nullptr);
  auto all = r->ReadScalars(*loss, {});
  ASSERT_THAT(all.status(), IsOk());
  for (size_t max_points : {4, 10, 22, 40, 1000}) {
    auto want = Downsample(*all, max_points);
    auto got = r->ReadScalarsDownsampled(*loss, max_points, {});
    ASSERT_THAT(got.status(), IsOk());
    EXPECT_EQ(got->steps, want->steps) << max_points;
  }
}

TEST_P(GoldenTest, Verifies) {
  std::unique_ptr<CompactedRunReader> r = Open();
  ASSERT_NE(r, nullptr);
  std::vector<absl::Status> problems;
  EXPECT_EQ(r->Verify(info_, &problems), 10103);
  EXPECT_TRUE(problems.empty()) << problems.front();
}

INSTANTIATE_TEST_SUITE_P(
    Versions, GoldenTest,
    ::testing::Values(Golden{"compacted_v1", "0mx7dj1zjlu7zkr8a", false},
                      Golden{"compacted_v2", "0mx7epjzsl3yxw32j", true}),
    [](const auto& info) { return std::string(info.param.dir); });

// ---- views against plain downsampling ---------------------------------------

// A scalar series of n points, seeded: noisy, with runs of NaN, repeated
// minima and maxima (so "the first of equal ones" is exercised) and a few
// steps out of order.
ScalarColumns MakeSeries(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  ScalarColumns c;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (size_t i = 0; i < n; ++i) {
    c.steps.push_back(static_cast<int64_t>(i) * 2 - (rng() % 97 == 0 ? 3 : 0));
    double v = static_cast<double>(rng() % 64) / 8;  // many ties
    if (rng() % 50 == 0) v = nan;
    if (i >= 700 && i < 1900) v = nan;  // NaN over whole sub-blocks
    c.values.push_back(v);
    c.epochs.push_back(rng() % 3 == 0 ? nan : static_cast<double>(i / 100));
    c.times_us.push_back(1700000000000000 + static_cast<int64_t>(i) * 31);
  }
  return c;
}

class ViewTest : public ::testing::Test {
 protected:
  // Writes one scalar series (and a text one) as a compacted run; opens it.
  void Write(const ScalarColumns& c) {
    ASSERT_THAT(fs_.CreateDir(kDir), IsOk());
    std::vector<SeriesSummary> series(2);
    series[0].key = SeriesKey{"loss", {}};
    series[1].key = SeriesKey{"note", {}};
    series[1].kind = SeriesKind::kText;
    std::vector<RunLogDecoder::SeriesPoints> points(2);
    points[0].scalars = c;
    points[1].texts.steps = {1};
    points[1].texts.values = {"x"};
    points[1].texts.epochs = {0};
    points[1].texts.times_us = {5};
    auto info = WriteCompactedRun(&fs_, kDir, kRunId, 7, series, points,
                                  /*sync=*/false);
    ASSERT_THAT(info.status(), IsOk());
    info_ = *info;
    Reopen();
  }
  void Reopen() {
    auto r = CompactedRunReader::Open(&fs_, kDir, kRunId, info_);
    ASSERT_THAT(r.status(), IsOk());
    reader_ = *std::move(r);
    series_ = reader_->Find(SeriesKey{"loss", {}});
    ASSERT_NE(series_, nullptr);
  }
  // The file's bytes, to damage.
  std::string Bytes() {
    auto data = storage::ReadFileToString(
        fs_, absl::StrCat(kDir, "/000007.col"), 1 << 30);
    EXPECT_THAT(data.status(), IsOk());
    return data.ok() ? *data : std::string();
  }
  // The payload of the chunk `h` names (after its 16-byte header).
  std::string Payload(const storage::BlockHandle& h) {
    return Bytes().substr(h.offset + 16, h.length);
  }
  void Put(const std::string& bytes) {
    ASSERT_THAT(fs_.RemoveFile(absl::StrCat(kDir, "/000007.col")), IsOk());
    auto w = fs_.NewWritableFile(absl::StrCat(kDir, "/000007.col"));
    ASSERT_THAT(w.status(), IsOk());
    ASSERT_THAT((*w)->Append(bytes), IsOk());
    ASSERT_THAT((*w)->Close(), IsOk());
  }

  storage::MemFileSystem fs_;
  storage::SegmentInfo info_;
  std::unique_ptr<CompactedRunReader> reader_;
  const CompactedSeries* series_ = nullptr;
};

TEST_F(ViewTest, EqualsPlainDownsamplingForEveryWidth) {
  const ScalarColumns c = MakeSeries(3 * kCompactedBlockPoints + 1234, 7);
  Write(c);
  EXPECT_TRUE(series_->has_view);
  for (size_t max_points = 2; max_points < 200; max_points += 3) {
    auto want = Downsample(c, max_points);
    auto got = reader_->ReadScalarsDownsampled(*series_, max_points, {});
    ASSERT_THAT(got.status(), IsOk());
    ASSERT_EQ(got->steps, want->steps) << max_points;
    ASSERT_EQ(got->times_us, want->times_us) << max_points;
    for (size_t i = 0; i < got->size(); ++i) {
      ASSERT_EQ(Bits(got->values[i]), Bits(want->values[i]));
      ASSERT_EQ(Bits(got->epochs[i]), Bits(want->epochs[i]));
    }
  }
}

TEST_F(ViewTest, EqualsPlainDownsamplingInAStepRange) {
  const ScalarColumns c = MakeSeries(5 * kCompactedBlockPoints, 11);
  Write(c);
  for (StepRange range :
       {StepRange{1000, 30000}, StepRange{8192, 16382}, StepRange{-10, 5}}) {
    ScalarColumns in;
    for (size_t i = 0; i < c.size(); ++i) {
      if (!range.Contains(c.steps[i])) continue;
      in.steps.push_back(c.steps[i]);
      in.values.push_back(c.values[i]);
      in.epochs.push_back(c.epochs[i]);
      in.times_us.push_back(c.times_us[i]);
    }
    for (size_t max_points : {3, 16, 64, 500}) {
      auto want = Downsample(in, max_points);
      auto got = reader_->ReadScalarsDownsampled(*series_, max_points, range);
      ASSERT_THAT(got.status(), IsOk());
      ASSERT_EQ(got->steps, want->steps) << range.first << " " << max_points;
    }
  }
}

TEST_F(ViewTest, OneBlockSeriesHasNoViewAndNoStoredExtremes) {
  const ScalarColumns c = MakeSeries(kCompactedBlockPoints, 3);
  Write(c);
  EXPECT_FALSE(series_->has_view);
  ASSERT_EQ(series_->blocks.size(), 1u);
  EXPECT_FALSE(series_->blocks[0].extremes_stored);
  for (size_t max_points : {2, 3, 4, 9, 100}) {
    auto want = Downsample(c, max_points);
    auto got = reader_->ReadScalarsDownsampled(*series_, max_points, {});
    ASSERT_THAT(got.status(), IsOk());
    EXPECT_EQ(got->steps, want->steps) << max_points;
  }
  const CompactedSeries* note = reader_->Find(SeriesKey{"note", {}});
  ASSERT_NE(note, nullptr);
  EXPECT_FALSE(note->has_view);
}

TEST_F(ViewTest, DamagedViewIsDataLossNamingIt) {
  Write(MakeSeries(2 * kCompactedBlockPoints, 5));
  ASSERT_TRUE(series_->has_view);
  std::string bytes = Bytes();
  // Flip a byte inside the view chunk's payload: its checksum fails.
  bytes[series_->view.offset + 20] ^= 0x40;
  Put(bytes);
  Reopen();
  // Buckets of two sub-blocks need the view.
  const size_t n = 2 * kCompactedBlockPoints;
  size_t max_points = 2 * (n / (2 * kViewSubBlockPoints)) + 2;
  ASSERT_EQ(DownsampleBucketWidth(n, max_points) % kViewSubBlockPoints, 0u);
  EXPECT_THAT(
      reader_->ReadScalarsDownsampled(*series_, max_points, {}),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr(absl::StrCat("offset ", series_->view.offset))));
  // A full read does not touch the view.
  EXPECT_THAT(reader_->ReadScalars(*series_, {}).status(), IsOk());
  std::vector<absl::Status> problems;
  reader_->Verify(info_, &problems);
  EXPECT_FALSE(problems.empty());
}

TEST_F(ViewTest, VerifyFindsAViewThatDisagreesWithItsBlocks) {
  const ScalarColumns c = MakeSeries(2 * kCompactedBlockPoints, 9);
  Write(c);
  // The same file rewritten as 000008.col with a well-formed view (its
  // checksum holds) whose first sub-block names another minimum.
  auto file = storage::ColumnFileReader::Open(&fs_, kDir, kRunId, info_);
  ASSERT_THAT(file.status(), IsOk());
  auto w = storage::ColumnFileWriter::Create(&fs_, kDir, kRunId, 8);
  ASSERT_THAT(w.status(), IsOk());
  CompactedFooter footer = reader_->footer();
  std::string scratch;
  for (CompactedSeries& s : footer.series) {
    for (BlockSummary& b : s.blocks) {
      uint8_t type;
      auto payload = (*file)->ReadBlock(b.handle, &type, &scratch);
      ASSERT_THAT(payload.status(), IsOk());
      auto h = (*w)->AddBlock(type, *payload);
      ASSERT_THAT(h.status(), IsOk());
      b.handle = *h;
    }
    if (!s.has_view) continue;
    uint8_t type;
    auto payload = (*file)->ReadBlock(s.view, &type, &scratch);
    ASSERT_THAT(payload.status(), IsOk());
    auto view = DecodeSeriesView(*payload, s, "view");
    ASSERT_THAT(view.status(), IsOk());
    ASSERT_NE(view->min_index[0], SeriesView::kNone);
    view->min_index[0] = view->min_index[0] == 0 ? 1 : 0;
    auto bad = EncodeSeriesView(*view);
    ASSERT_THAT(bad.status(), IsOk());
    ASSERT_THAT(DecodeSeriesView(*bad, s, "view").status(), IsOk());
    auto h = (*w)->AddBlock(type, *bad);  // type 0x14, docs/format.md
    ASSERT_THAT(h.status(), IsOk());
    s.view = *h;
  }
  auto info = (*w)->Finish(EncodeCompactedFooter(footer), /*sync=*/false);
  ASSERT_THAT(info.status(), IsOk());
  auto r = CompactedRunReader::Open(&fs_, kDir, kRunId, *info);
  ASSERT_THAT(r.status(), IsOk());
  std::vector<absl::Status> problems;
  (*r)->Verify(*info, &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0],
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("sub-block 0 of the block at offset 64 "
                                 "disagrees with the block's points")));
}

TEST_F(ViewTest, DecodeRejectsAViewOfOtherBlocks) {
  Write(MakeSeries(2 * kCompactedBlockPoints, 13));
  const std::string chunk = Payload(series_->view);
  CompactedSeries other = *series_;
  other.blocks.pop_back();
  EXPECT_THAT(
      DecodeSeriesView(chunk, other, "runs/x/000007.col"),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad sub-block count")));
  EXPECT_THAT(DecodeSeriesView(chunk.substr(0, chunk.size() - 3), *series_,
                               "runs/x/000007.col"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("runs/x")));
}

// ---- reads into columns -----------------------------------------------------

TEST_F(ViewTest, ReadIntoReusedColumnsAndAPartialSet) {
  const ScalarColumns c = MakeSeries(3 * kCompactedBlockPoints + 5, 17);
  Write(c);
  ScalarColumns out;
  // A range read, then a full one, then a narrower one into the same columns.
  for (StepRange range :
       {StepRange{100, 9000}, StepRange{}, StepRange{24000, 24010}}) {
    ASSERT_THAT(reader_->ReadScalarsInto(*series_, range, &out), IsOk());
    ScalarColumns want;
    for (size_t i = 0; i < c.size(); ++i) {
      if (!range.Contains(c.steps[i])) continue;
      want.steps.push_back(c.steps[i]);
      want.times_us.push_back(c.times_us[i]);
    }
    EXPECT_EQ(out.steps, want.steps);
    EXPECT_EQ(out.times_us, want.times_us);
    EXPECT_EQ(out.values.size(), want.steps.size());
    EXPECT_EQ(out.epochs.size(), want.steps.size());
  }
  ASSERT_THAT(reader_->ReadScalarsInto(*series_, StepRange{50, 20000}, &out,
                                       ColumnSet::kStepsValues),
              IsOk());
  EXPECT_TRUE(out.epochs.empty());
  EXPECT_TRUE(out.times_us.empty());
  ASSERT_EQ(out.values.size(), out.steps.size());
  size_t k = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c.steps[i] < 50 || c.steps[i] > 20000) continue;
    ASSERT_EQ(out.steps[k], c.steps[i]);
    ASSERT_EQ(Bits(out.values[k]), Bits(c.values[i]));
    ++k;
  }
  EXPECT_EQ(k, out.size());
}

TEST_F(ViewTest, ReadIntoOtherKindIsInvalidArgument) {
  Write(MakeSeries(10, 1));
  const CompactedSeries* note = reader_->Find(SeriesKey{"note", {}});
  ASSERT_NE(note, nullptr);
  ScalarColumns out;
  out.steps = {1, 2};
  EXPECT_THAT(
      reader_->ReadScalarsInto(*note, {}, &out),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not scalar")));
  EXPECT_EQ(out.size(), 0u);
}

}  // namespace
}  // namespace runlog
