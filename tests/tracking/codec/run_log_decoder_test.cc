#include "tracking/codec/run_log_decoder.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/coding.h"
#include "storage/format.h"
#include "storage/segment_reader.h"
#include "tests/testing/decoder_probes.h"
#include "tests/testing/status_matchers.h"
#include "tracking/codec/column_codec.h"
#include "tracking/codec/record_codec.h"
#include "tracking/codec/record_format.h"
#include "tracking/codec/value_codec.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace runlog {
namespace {

using record::RecordType;
using ::runlog::testing::AllocationProbe;
using ::runlog::testing::ExactBuffer;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kLoc[] = "runs/0abc/000001.seg";
constexpr uint64_t kChunkOffset = 4096;
constexpr absl::StatusCode kDataLoss = absl::StatusCode::kDataLoss;
const double kNaN = std::nan("");

// The "without allocating" tests below can fail only if the probe sees
// allocations.
TEST(AllocationProbeTest, SeesALargeAllocation) {
#if defined(__SANITIZE_ADDRESS__)
  AllocationProbe probe;
  auto big = std::make_unique<std::vector<char>>(size_t{1} << 20);
  EXPECT_GE(probe.largest(), size_t{1} << 20);
#else
  GTEST_SKIP() << "allocations are measured under ASan only";
#endif
}

// ---- record builders --------------------------------------------------------

std::string Define(uint32_t id, SeriesKind kind, const SeriesKey& key) {
  std::string c;
  record::AppendDefineSeries(&c, id, kind, key);
  return c;
}

std::vector<int64_t> TimesFor(size_t n) {
  std::vector<int64_t> t(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = 1'700'000'000'000'000 + static_cast<int64_t>(i) * 10;
  }
  return t;
}

std::string Scalars(uint32_t id, const std::vector<int64_t>& steps,
                    const std::vector<double>& values,
                    std::vector<double> epochs = {}) {
  if (epochs.empty()) epochs.assign(steps.size(), kNaN);
  std::string c, scratch;
  record::AppendScalarPoints(&c, &scratch, id, steps, values, epochs,
                             TimesFor(steps.size()));
  return c;
}

std::string Texts(uint32_t id, const std::vector<int64_t>& steps,
                  const std::vector<std::string>& texts) {
  std::string c, scratch;
  record::AppendTextPoints(&c, &scratch, id, steps, texts,
                           std::vector<double>(steps.size(), kNaN),
                           TimesFor(steps.size()));
  return c;
}

std::string Hists(uint32_t id, const std::vector<int64_t>& steps,
                  const std::vector<Histogram>& hists) {
  std::string c, scratch;
  record::AppendHistogramPoints(&c, &scratch, id, steps, hists,
                                std::vector<double>(steps.size(), kNaN),
                                TimesFor(steps.size()));
  return c;
}

std::string Record(uint8_t type, absl::string_view body) {
  std::string c;
  record::AppendRecord(&c, static_cast<RecordType>(type), body);
  return c;
}

// The body of a chunk holding exactly one record.
std::string BodyOf(absl::string_view one_record) {
  absl::string_view in = one_record.substr(1);
  uint64_t length = 0;
  EXPECT_TRUE(storage::GetVarint64(&in, &length));
  EXPECT_EQ(length, in.size());
  return std::string(in);
}

// "<kLoc>: chunk at offset 4096, record at offset N"
std::string Where(size_t record_offset) {
  return absl::StrCat(kLoc, ": chunk at offset ", kChunkOffset,
                      ", record at offset ", record_offset);
}

const SeriesKey kLoss{"loss", {{"subset", "train"}}};
const SeriesKey kLossVal{"loss", {{"subset", "val"}}};
const SeriesKey kSample{"sample", {}};
const SeriesKey kWeights{"weights", {}};
const SeriesKey kImages{"images", {{"subset", "val"}}};

// One definition of each kind: ids 0..4.
std::string Definitions() {
  return Define(0, SeriesKind::kScalar, kLoss) +
         Define(1, SeriesKind::kScalar, kLossVal) +
         Define(2, SeriesKind::kText, kSample) +
         Define(3, SeriesKind::kHistogram, kWeights) +
         Define(4, SeriesKind::kBlob, kImages);
}

class RunLogDecoderTest : public ::testing::Test {
 protected:
  // Applies `payload` as a chunk of `type` at kChunkOffset of kLoc. The
  // payload is copied to an exact-size buffer so over-reads are caught.
  absl::Status Apply(RunLogDecoder& d, absl::string_view payload,
                     uint8_t type = storage::format::kChunkRecords) {
    ExactBuffer buf(payload);
    return d.Apply(storage::Chunk{type, buf.view(), kChunkOffset}, kLoc);
  }
  absl::Status ApplyBlob(RunLogDecoder& d, absl::string_view payload) {
    return Apply(d, payload, storage::format::kChunkBlob);
  }

  static RunLogDecoder::Target TargetOf(SeriesKey key, StepRange range = {}) {
    return RunLogDecoder::Target{std::move(key), range};
  }
};

// ---- metadata ---------------------------------------------------------------

TEST_F(RunLogDecoderTest, RunInfoAndLaterMetadataRecords) {
  std::string c;
  record::AppendRunInfo(&c, absl::FromUnixMicros(1'700'000'000'000'123),
                        "sweep", "first", "desc");
  record::AppendStringRecord(&c, RecordType::kSetName, "second");
  record::AppendStringRecord(&c, RecordType::kSetDescription, "better");
  RunLogDecoder d(std::nullopt, true);
  ASSERT_THAT(Apply(d, c), IsOk());
  EXPECT_EQ(d.summary().experiment, "sweep");
  EXPECT_EQ(d.summary().name, "second");
  EXPECT_EQ(d.summary().description, "better");
  EXPECT_EQ(d.summary().created, absl::FromUnixMicros(1'700'000'000'000'123));
}

TEST_F(RunLogDecoderTest, TagsAreAddedAndRemovedInOrder) {
  std::string c;
  for (const char* t : {"b", "a", "c"}) {
    record::AppendStringRecord(&c, RecordType::kAddTag, t);
  }
  record::AppendStringRecord(&c, RecordType::kRemoveTag, "a");
  record::AppendStringRecord(&c, RecordType::kRemoveTag, "never-added");
  record::AppendStringRecord(&c, RecordType::kAddTag, "b");  // again
  RunLogDecoder d(std::nullopt, false);
  ASSERT_THAT(Apply(d, c), IsOk());
  EXPECT_THAT(d.summary().tags, ElementsAre("b", "c"));
  // A later chunk sees the state of the earlier one.
  std::string c2;
  record::AppendStringRecord(&c2, RecordType::kRemoveTag, "b");
  ASSERT_THAT(Apply(d, c2), IsOk());
  EXPECT_THAT(d.summary().tags, ElementsAre("c"));
}

TEST_F(RunLogDecoderTest, SetParamAndMergeParams) {
  std::string c;
  record::AppendMergeParams(
      &c, Value::Map{{"seed", 1}, {"hparams", Value::Map{{"lr", 0.1}}}});
  record::AppendSetParam(&c, "hparams.layers", Value::List{64, 64});
  record::AppendSetParam(&c, "seed", 2);  // replaces
  record::AppendMergeParams(
      &c, Value::Map{{"hparams", Value::Map{{"lr", 0.01}, {"opt", "adam"}}}});
  RunLogDecoder d(std::nullopt, true);
  ASSERT_THAT(Apply(d, c), IsOk());
  const Value want =
      Value::Map{{"seed", 2},
                 {"hparams", Value::Map{{"lr", 0.01},
                                        {"layers", Value::List{64, 64}},
                                        {"opt", "adam"}}}};
  EXPECT_EQ(d.summary().params, want);
}

TEST_F(RunLogDecoderTest, ParamsStartAsEmptyMap) {
  RunLogDecoder d(std::nullopt, true);
  ASSERT_THAT(Apply(d, ""), IsOk());
  EXPECT_EQ(d.summary().params, Value::EmptyMap());
}

TEST_F(RunLogDecoderTest, InvalidParamPathIsDataLoss) {
  std::string c;
  record::AppendStringRecord(&c, RecordType::kAddTag, "t");
  const size_t offset = c.size();
  record::AppendSetParam(&c, "a..b", 1);
  RunLogDecoder d(std::nullopt, true);
  EXPECT_THAT(Apply(d, c), StatusIs(kDataLoss, HasSubstr(Where(offset))));
}

TEST_F(RunLogDecoderTest, MergeOfNonMapIsDataLoss) {
  const std::string c = Record(0x03, [] {
    std::string body;
    EncodeValue(Value(5), &body);
    return body;
  }());
  RunLogDecoder d(std::nullopt, true);
  EXPECT_THAT(Apply(d, c), StatusIs(kDataLoss, HasSubstr(Where(0))));
}

// ---- series definitions and summaries ---------------------------------------

TEST_F(RunLogDecoderTest, SeriesDefinitionsInOrder) {
  RunLogDecoder d(std::nullopt, false);
  ASSERT_THAT(Apply(d, Definitions()), IsOk());
  const auto& series = d.summary().series;
  ASSERT_THAT(series, SizeIs(5));
  EXPECT_EQ(series[0].key, kLoss);
  EXPECT_EQ(series[1].key, kLossVal);
  EXPECT_EQ(series[2].kind, SeriesKind::kText);
  EXPECT_EQ(series[3].kind, SeriesKind::kHistogram);
  EXPECT_EQ(series[4].kind, SeriesKind::kBlob);
  EXPECT_EQ(series[4].key, kImages);
  for (const SeriesSummary& s : series) EXPECT_EQ(s.count, 0);
}

TEST_F(RunLogDecoderTest, SummariesWhenWanted) {
  RunLogDecoder d(std::nullopt, /*want_summaries=*/true);
  ASSERT_THAT(Apply(d, Definitions()), IsOk());
  ASSERT_THAT(
      Apply(d, Scalars(0, {0, 1, 2}, {3.0, kNaN, 1.0}) +
                   Scalars(1, {5}, {-1.0}) + Scalars(0, {3, 10}, {7.0, 2.0})),
      IsOk());
  ASSERT_THAT(Apply(d, Texts(2, {4, 9}, {"a", "b"}) +
                           Hists(3, {2}, {Histogram{{0, 1}, {4}}})),
              IsOk());
  ASSERT_THAT(ApplyBlob(d, record::EncodeBlobPoint(4, 6, 0, kNaN,
                                                   Blob{"image/png", "x"})),
              IsOk());
  const auto& s = d.summary().series;
  EXPECT_EQ(s[0].count, 5);
  EXPECT_EQ(s[0].first_step, 0);
  EXPECT_EQ(s[0].last_step, 10);
  EXPECT_EQ(s[0].first, 3.0);
  EXPECT_EQ(s[0].last, 2.0);
  EXPECT_EQ(s[0].min, 1.0);
  EXPECT_EQ(s[0].max, 7.0);
  EXPECT_EQ(s[1].count, 1);
  EXPECT_EQ(s[1].min, -1.0);
  EXPECT_EQ(s[2].count, 2);
  EXPECT_EQ(s[2].first_step, 4);
  EXPECT_EQ(s[2].last_step, 9);
  EXPECT_EQ(s[3].count, 1);
  EXPECT_EQ(s[3].last_step, 2);
  EXPECT_EQ(s[4].count, 1);
  EXPECT_EQ(s[4].last_step, 6);
  EXPECT_FALSE(d.target_found());
}

TEST_F(RunLogDecoderTest, NoSummariesWhenNotWanted) {
  RunLogDecoder d(std::nullopt, /*want_summaries=*/false);
  ASSERT_THAT(Apply(d, Definitions() + Scalars(0, {0, 1}, {1, 2}) +
                           Texts(2, {0}, {"t"})),
              IsOk());
  ASSERT_THAT(ApplyBlob(d, record::EncodeBlobPoint(4, 0, 0, kNaN, Blob{})),
              IsOk());
  for (const SeriesSummary& s : d.summary().series) EXPECT_EQ(s.count, 0);
}

// ---- target selection -------------------------------------------------------

TEST_F(RunLogDecoderTest, TargetScalarsWithinStepRange) {
  RunLogDecoder d(TargetOf(kLoss, StepRange{10, 19}), false);
  std::vector<int64_t> steps;
  std::vector<double> values, epochs;
  for (int i = 0; i < 30; ++i) {
    steps.push_back(i);
    values.push_back(i * 0.5);
    epochs.push_back(i < 15 ? 1.0 : 2.0);
  }
  ASSERT_THAT(Apply(d, Definitions()), IsOk());
  // The target's points come in two records around another series'.
  const std::vector<int64_t> first(steps.begin(), steps.begin() + 15);
  const std::vector<int64_t> rest(steps.begin() + 15, steps.end());
  ASSERT_THAT(Apply(d, Scalars(0, first, {values.begin(), values.begin() + 15},
                               {epochs.begin(), epochs.begin() + 15}) +
                           Scalars(1, {12, 13}, {100, 100}) +
                           Scalars(0, rest, {values.begin() + 15, values.end()},
                                   {epochs.begin() + 15, epochs.end()})),
              IsOk());
  ASSERT_TRUE(d.target_found());
  EXPECT_EQ(d.target_kind(), SeriesKind::kScalar);
  const ScalarColumns& got = d.scalars();
  ASSERT_EQ(got.size(), 10u);
  const std::vector<int64_t> all_times = TimesFor(15);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(got.steps[i], static_cast<int64_t>(10 + i));
    EXPECT_EQ(got.values[i], (10 + i) * 0.5);
    EXPECT_EQ(got.epochs[i], 10 + i < 15 ? 1.0 : 2.0);
  }
  EXPECT_EQ(got.times_us[0], all_times[10]);
  EXPECT_EQ(got.values.size(), 10u);
  EXPECT_EQ(got.epochs.size(), 10u);
  EXPECT_EQ(got.times_us.size(), 10u);
}

TEST_F(RunLogDecoderTest, TargetMatchesNameAndWholeContext) {
  RunLogDecoder d(TargetOf(SeriesKey{"loss", {}}), false);
  ASSERT_THAT(Apply(d, Definitions() + Scalars(0, {0}, {1.0})), IsOk());
  EXPECT_FALSE(d.target_found());
  EXPECT_EQ(d.scalars().size(), 0u);
}

TEST_F(RunLogDecoderTest, TargetTexts) {
  RunLogDecoder d(TargetOf(kSample, StepRange{2, 3}), false);
  ASSERT_THAT(
      Apply(d, Definitions() + Texts(2, {1, 2, 3, 4}, {"a", "b", "", "d"})),
      IsOk());
  ASSERT_TRUE(d.target_found());
  EXPECT_EQ(d.target_kind(), SeriesKind::kText);
  EXPECT_THAT(d.texts().steps, ElementsAre(2, 3));
  EXPECT_THAT(d.texts().values, ElementsAre("b", ""));
}

TEST_F(RunLogDecoderTest, TargetHistograms) {
  const Histogram h1{{0, 1, 2}, {5, 7}};
  const Histogram h2{{-1, 1}, {kNaN}};
  RunLogDecoder d(TargetOf(kWeights), true);
  ASSERT_THAT(Apply(d, Definitions() + Hists(3, {0, 7}, {h1, h2})), IsOk());
  ASSERT_TRUE(d.target_found());
  EXPECT_EQ(d.target_kind(), SeriesKind::kHistogram);
  ASSERT_THAT(d.histograms().values, SizeIs(2));
  EXPECT_EQ(d.histograms().values[0], h1);
  EXPECT_EQ(d.histograms().values[1].edges, h2.edges);
  EXPECT_TRUE(std::isnan(d.histograms().values[1].counts[0]));
  EXPECT_THAT(d.histograms().steps, ElementsAre(0, 7));
}

TEST_F(RunLogDecoderTest, TargetBlobsWithinStepRange) {
  RunLogDecoder d(TargetOf(kImages, StepRange{1, 1}), false);
  ASSERT_THAT(Apply(d, Definitions()), IsOk());
  const Blob b0{"image/png", "zero"};
  const Blob b1{"audio/wav", std::string("\0one", 4)};
  ASSERT_THAT(ApplyBlob(d, record::EncodeBlobPoint(4, 0, 5, kNaN, b0)), IsOk());
  ASSERT_THAT(ApplyBlob(d, record::EncodeBlobPoint(4, 1, 6, 0.5, b1)), IsOk());
  ASSERT_TRUE(d.target_found());
  EXPECT_EQ(d.target_kind(), SeriesKind::kBlob);
  ASSERT_THAT(d.blobs().values, SizeIs(1));
  EXPECT_EQ(d.blobs().values[0], b1);
  EXPECT_THAT(d.blobs().steps, ElementsAre(1));
  EXPECT_THAT(d.blobs().times_us, ElementsAre(6));
  EXPECT_THAT(d.blobs().epochs, ElementsAre(0.5));
}

TEST_F(RunLogDecoderTest, OtherSeriesAreSkippedWithoutDecoding) {
  // Series 1's value column is damaged (a trailing byte); reading series 0
  // without summaries never decodes it...
  const std::string damaged =
      Record(0x11, BodyOf(Scalars(1, {0}, {1.0})) + "!");
  RunLogDecoder skip(TargetOf(kLoss), /*want_summaries=*/false);
  ASSERT_THAT(Apply(skip, Definitions() + damaged + Scalars(0, {0}, {2.0})),
              IsOk());
  EXPECT_THAT(skip.scalars().values, ElementsAre(2.0));
  // ...while a decoder building summaries must, and reports it.
  RunLogDecoder full(TargetOf(kLoss), /*want_summaries=*/true);
  EXPECT_THAT(Apply(full, Definitions() + damaged),
              StatusIs(kDataLoss, HasSubstr("bad value column")));
}

TEST_F(RunLogDecoderTest, ChunksOfOtherTypesAreIgnored) {
  RunLogDecoder d(std::nullopt, true);
  EXPECT_THAT(Apply(d, "\xff\xff garbage", 0x81), IsOk());
  EXPECT_THAT(d.summary().series, IsEmpty());
}

// ---- error paths ------------------------------------------------------------

TEST_F(RunLogDecoderTest, RecordLengthPastChunkEnd) {
  std::string c;
  record::AppendStringRecord(&c, RecordType::kAddTag, "ok");
  const size_t offset = c.size();
  record::AppendStringRecord(&c, RecordType::kAddTag, "cut short");
  c.pop_back();
  RunLogDecoder d(std::nullopt, true);
  EXPECT_THAT(Apply(d, c),
              StatusIs(kDataLoss, AllOf(HasSubstr(Where(offset)),
                                        HasSubstr("runs past the chunk"))));
}

TEST_F(RunLogDecoderTest, TruncatedRecordLengthVarint) {
  const std::string c = std::string("\x04", 1) + "\x80";  // varint cut
  RunLogDecoder d(std::nullopt, true);
  EXPECT_THAT(Apply(d, c), StatusIs(kDataLoss, HasSubstr(Where(0))));
}

TEST_F(RunLogDecoderTest, PointsOfUndefinedSeries) {
  const std::string defs = Define(0, SeriesKind::kScalar, kLoss);
  RunLogDecoder d(std::nullopt, false);
  EXPECT_THAT(Apply(d, defs + Scalars(7, {0}, {1.0})),
              StatusIs(kDataLoss, AllOf(HasSubstr(Where(defs.size())),
                                        HasSubstr("undefined series 7"))));
}

TEST_F(RunLogDecoderTest, PointsWithAnIdPast32BitsDoNotAliasASeries) {
  // id 2^32 + 0 must not be taken for series 0.
  std::string body;
  storage::PutVarint64(&body, (uint64_t{1} << 32));
  const std::string valid = BodyOf(Scalars(0, {0}, {1.0}));
  body.append(valid.substr(1));  // the rest after the 1-byte id 0
  const std::string defs = Define(0, SeriesKind::kScalar, kLoss);
  RunLogDecoder d(TargetOf(kLoss), true);
  EXPECT_THAT(Apply(d, defs + Record(0x11, body)),
              StatusIs(kDataLoss, AllOf(HasSubstr(Where(defs.size())),
                                        HasSubstr("undefined series"))));
  EXPECT_EQ(d.summary().series[0].count, 0);
}

TEST_F(RunLogDecoderTest, BlobWithAnIdPast32BitsDoesNotAliasASeries) {
  RunLogDecoder d(TargetOf(kImages), true);
  ASSERT_THAT(Apply(d, Definitions()), IsOk());
  // id 2^32 + 4 must not be taken for the blob series 4.
  std::string p;
  storage::PutVarint64(&p, (uint64_t{1} << 32) + 4);
  p += record::EncodeBlobPoint(4, 0, 0, kNaN, Blob{}).substr(1);
  EXPECT_THAT(ApplyBlob(d, p),
              StatusIs(kDataLoss, HasSubstr("blob of unknown series")));
  EXPECT_THAT(d.blobs().values, IsEmpty());
  EXPECT_EQ(d.summary().series[4].count, 0);
}

TEST_F(RunLogDecoderTest, SeriesDefinedTwice) {
  const std::string first = Define(3, SeriesKind::kScalar, kLoss);
  RunLogDecoder d(std::nullopt, true);
  EXPECT_THAT(
      Apply(d, first + Define(3, SeriesKind::kText, kSample)),
      StatusIs(kDataLoss, AllOf(HasSubstr(Where(first.size())),
                                HasSubstr("series id 3 defined twice"))));
}

TEST_F(RunLogDecoderTest, SeriesDefinedTwiceAcrossChunks) {
  RunLogDecoder d(std::nullopt, true);
  ASSERT_THAT(Apply(d, Define(3, SeriesKind::kScalar, kLoss)), IsOk());
  EXPECT_THAT(Apply(d, Define(3, SeriesKind::kScalar, kLoss)),
              StatusIs(kDataLoss, HasSubstr(Where(0))));
}

TEST_F(RunLogDecoderTest, UnknownSeriesKind) {
  for (uint8_t code : {0, 5, 0xff}) {
    std::string body;
    storage::PutVarint64(&body, 0);
    body.push_back(static_cast<char>(code));
    record::PutString(&body, "x");
    storage::PutVarint64(&body, 0);
    RunLogDecoder d(std::nullopt, true);
    EXPECT_THAT(Apply(d, Record(0x10, body)),
                StatusIs(kDataLoss, AllOf(HasSubstr(Where(0)),
                                          HasSubstr("unknown series kind"))));
  }
}

TEST_F(RunLogDecoderTest, SeriesIdOverTheLimit) {
  std::string body;
  storage::PutVarint64(&body, record::kMaxSeriesPerRun);
  body.push_back(1);
  record::PutString(&body, "x");
  storage::PutVarint64(&body, 0);
  RunLogDecoder d(std::nullopt, true);
  EXPECT_THAT(Apply(d, Record(0x10, body)),
              StatusIs(kDataLoss, HasSubstr(Where(0))));
}

TEST_F(RunLogDecoderTest, KindMismatchBetweenDefinitionAndPoints) {
  const std::string defs = Definitions();
  // Scalar points for the text series 2; checked even when not decoded.
  for (bool want : {false, true}) {
    RunLogDecoder d(std::nullopt, want);
    EXPECT_THAT(Apply(d, defs + Scalars(2, {0}, {1.0})),
                StatusIs(kDataLoss, AllOf(HasSubstr(Where(defs.size())),
                                          HasSubstr("text series 2"))));
  }
  // Text points for the scalar series 0.
  RunLogDecoder d(std::nullopt, true);
  EXPECT_THAT(Apply(d, defs + Texts(0, {0}, {"t"})),
              StatusIs(kDataLoss, HasSubstr("scalar series 0")));
}

TEST_F(RunLogDecoderTest, PointsForABlobSeriesAreDataLoss) {
  const std::string defs = Definitions();
  RunLogDecoder d(std::nullopt, true);
  EXPECT_THAT(Apply(d, defs + Scalars(4, {0}, {1.0})),
              StatusIs(kDataLoss, HasSubstr("blob series 4")));
}

TEST_F(RunLogDecoderTest, UnknownRecordTypeBelow0x80IsUnimplemented) {
  std::string c;
  record::AppendStringRecord(&c, RecordType::kAddTag, "x");
  const size_t offset = c.size();
  c += Record(0x20, "future");
  RunLogDecoder d(std::nullopt, true);
  EXPECT_THAT(Apply(d, c), StatusIs(absl::StatusCode::kUnimplemented,
                                    AllOf(HasSubstr(Where(offset)),
                                          HasSubstr("record type 32"))));
}

TEST_F(RunLogDecoderTest, UnknownRecordTypeFrom0x80IsSkipped) {
  std::string c = Record(0x80, "ignore me") + Record(0xff, "") +
                  Record(0x9a, std::string(300, '\0'));
  record::AppendStringRecord(&c, RecordType::kAddTag, "after");
  RunLogDecoder d(std::nullopt, true);
  ASSERT_THAT(Apply(d, c), IsOk());
  EXPECT_THAT(d.summary().tags, ElementsAre("after"));
}

TEST_F(RunLogDecoderTest, BadValueColumnTruncated) {
  const std::string defs = Definitions();
  std::string body = BodyOf(Scalars(0, {0, 1}, {1.0, 2.0}));
  body.pop_back();
  RunLogDecoder d(TargetOf(kLoss), false);
  EXPECT_THAT(Apply(d, defs + Record(0x11, body)),
              StatusIs(kDataLoss, AllOf(HasSubstr(Where(defs.size())),
                                        HasSubstr("bad value column"))));
}

TEST_F(RunLogDecoderTest, BadValueColumnTrailingBytes) {
  const std::string defs = Definitions();
  const std::string body = BodyOf(Scalars(0, {0, 1}, {1.0, 2.0})) + "x";
  RunLogDecoder d(TargetOf(kLoss), false);
  EXPECT_THAT(Apply(d, defs + Record(0x11, body)),
              StatusIs(kDataLoss, AllOf(HasSubstr(Where(defs.size())),
                                        HasSubstr("bad value column"))));
}

TEST_F(RunLogDecoderTest, BadPointsHeader) {
  const std::string defs = Definitions();
  for (uint64_t count : {uint64_t{0}, uint64_t{record::kMaxPointsPerRecord} + 1,
                         uint64_t{1000}}) {
    std::string body;
    storage::PutVarint64(&body, 0);
    storage::PutVarint64(&body, count);
    body += "\x00\x00\x00";  // far fewer bytes than points
    RunLogDecoder d(TargetOf(kLoss), true);
    EXPECT_THAT(Apply(d, defs + Record(0x11, body)),
                StatusIs(kDataLoss, AllOf(HasSubstr(Where(defs.size())),
                                          HasSubstr("bad points header"))))
        << count;
  }
}

TEST_F(RunLogDecoderTest, BadTextValue) {
  const std::string defs = Definitions();
  std::string body = BodyOf(Texts(2, {0}, {"hello"}));
  body.pop_back();
  RunLogDecoder d(TargetOf(kSample), false);
  EXPECT_THAT(Apply(d, defs + Record(0x12, body)),
              StatusIs(kDataLoss, AllOf(HasSubstr(Where(defs.size())),
                                        HasSubstr("bad text value"))));
}

// Columns header of one point of series `id`, without values.
std::string OnePointHeader(uint32_t id) {
  std::string body;
  storage::PutVarint64(&body, id);
  storage::PutVarint64(&body, 1);
  record::EncodeSteps(std::vector<int64_t>{0}, &body);
  record::EncodeDeltas(std::vector<int64_t>{0}, &body);
  record::EncodeEpochs(std::vector<double>{kNaN}, &body);
  return body;
}

TEST_F(RunLogDecoderTest, HugeHistogramBinCountIsRejectedWithoutAllocating) {
  const std::string defs = Definitions();
  std::string body = OnePointHeader(3);
  storage::PutVarint64(&body, record::kMaxHistogramBins);  // 2^20 bins
  body.append(10, '\0');                                   // 10 bytes left
  const std::string c = defs + Record(0x13, body);
  RunLogDecoder d(TargetOf(kWeights), false);
  AllocationProbe probe;
  EXPECT_THAT(Apply(d, c),
              StatusIs(kDataLoss, AllOf(HasSubstr(Where(defs.size())),
                                        HasSubstr("bad histogram"))));
  // 2^20 bins would take 16 MiB; nothing near that may be allocated.
  EXPECT_LT(probe.largest(), size_t{64} << 10);
}

TEST_F(RunLogDecoderTest, HistogramBinCountOverTheLimit) {
  const std::string defs = Definitions();
  std::string body = OnePointHeader(3);
  storage::PutVarint64(&body, record::kMaxHistogramBins + 1);
  RunLogDecoder d(TargetOf(kWeights), false);
  EXPECT_THAT(Apply(d, defs + Record(0x13, body)),
              StatusIs(kDataLoss, HasSubstr("bad histogram")));
}

TEST_F(RunLogDecoderTest, HistogramWithZeroBins) {
  const std::string defs = Definitions();
  std::string body = OnePointHeader(3);
  storage::PutVarint64(&body, 0);
  body.append(8, '\0');  // one edge
  RunLogDecoder d(TargetOf(kWeights), false);
  EXPECT_THAT(Apply(d, defs + Record(0x13, body)),
              StatusIs(kDataLoss, HasSubstr("bad histogram")));
}

TEST_F(RunLogDecoderTest, BlobOfUnknownSeries) {
  RunLogDecoder d(std::nullopt, true);
  ASSERT_THAT(Apply(d, Definitions()), IsOk());
  const std::string where =
      absl::StrCat(kLoc, ": blob chunk at offset ", kChunkOffset);
  EXPECT_THAT(
      ApplyBlob(d, record::EncodeBlobPoint(9, 0, 0, kNaN, Blob{})),
      StatusIs(kDataLoss,
               AllOf(HasSubstr(where), HasSubstr("blob of unknown series 9"))));
}

TEST_F(RunLogDecoderTest, BlobOfANonBlobSeries) {
  RunLogDecoder d(std::nullopt, true);
  ASSERT_THAT(Apply(d, Definitions()), IsOk());
  EXPECT_THAT(ApplyBlob(d, record::EncodeBlobPoint(0, 0, 0, kNaN, Blob{})),
              StatusIs(kDataLoss, HasSubstr("blob of unknown series 0")));
}

TEST_F(RunLogDecoderTest, TruncatedBlobHeader) {
  RunLogDecoder d(std::nullopt, true);
  ASSERT_THAT(Apply(d, Definitions()), IsOk());
  const std::string full =
      record::EncodeBlobPoint(4, 1, 2, 0.5, Blob{"image/png", ""});
  // Every cut inside the header (the data may be empty) is damage.
  for (size_t len = 0; len < full.size(); ++len) {
    EXPECT_THAT(ApplyBlob(d, full.substr(0, len)),
                StatusIs(kDataLoss, HasSubstr("blob chunk at offset 4096")))
        << len;
  }
}

// ---- fuzz -------------------------------------------------------------------

// Records of every type but definitions and points.
std::string MetadataRecords() {
  std::string c;
  record::AppendRunInfo(&c, absl::FromUnixMicros(1'700'000'000'000'000), "exp",
                        "name", "description");
  record::AppendStringRecord(&c, RecordType::kAddTag, "tag");
  record::AppendSetParam(&c, "a.b", Value::List{1, "two", 3.0});
  record::AppendMergeParams(&c, Value::Map{{"c", Value::Map{{"d", true}}}});
  record::AppendStringRecord(&c, RecordType::kRemoveTag, "tag");
  return c;
}

// Points of every kind but blobs, for the series of Definitions().
std::string PointRecords() {
  std::vector<int64_t> steps;
  std::vector<double> values, epochs;
  for (int i = 0; i < 40; ++i) {
    steps.push_back(i * (i % 3));
    values.push_back(std::sin(i));
    epochs.push_back(i / 10);
  }
  return Scalars(0, steps, values, epochs) +
         Scalars(1, {-5, 100}, {kNaN, -0.0}) +
         Texts(2, {0, 1, 2}, {"x", "", "longer text"}) +
         Hists(3, {0, 1},
               {Histogram{{0, 1, 2}, {3, 4}}, Histogram{{5, 6}, {1}}});
}

void Mutate(std::mt19937_64& rng, std::string* s) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    const size_t size = s->size();
    switch (rng() % 6) {
      case 0:  // flip a bit
        if (size > 0) (*s)[rng() % size] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:  // random byte
        if (size > 0) (*s)[rng() % size] = static_cast<char>(rng());
        break;
      case 2:  // truncate
        s->resize(size == 0 ? 0 : rng() % size);
        break;
      case 3: {  // insert random bytes
        std::string ins(1 + rng() % 8, '\0');
        for (char& ch : ins) ch = static_cast<char>(rng());
        s->insert(size == 0 ? 0 : rng() % size, ins);
        break;
      }
      case 4:  // erase a range
        if (size > 0) {
          const size_t at = rng() % size;
          s->erase(at, 1 + rng() % 16);
        }
        break;
      default:  // a varint-sized field becomes huge
        if (size > 0) {
          const size_t at = rng() % size;
          s->insert(at, "\xff\xff\xff\xff\x0f");
        }
        break;
    }
  }
}

TEST_F(RunLogDecoderTest, MutatedPayloadsNeverCrash) {
  const std::string points = PointRecords();
  const std::string rich = MetadataRecords() + Definitions() + points;
  const std::string blob =
      record::EncodeBlobPoint(4, 3, 7, 1.5, Blob{"image/png", "pixels"});
  {  // The unmutated inputs are valid.
    RunLogDecoder d(TargetOf(kWeights), true);
    ASSERT_THAT(Apply(d, rich), IsOk());
    ASSERT_THAT(ApplyBlob(d, blob), IsOk());
  }
  const std::optional<SeriesKey> targets[] = {std::nullopt, kLoss, kSample,
                                              kWeights, kImages};
  std::mt19937_64 rng(20240611);
  int ok = 0;
  for (int i = 0; i < 25'000; ++i) {
    const auto& key = targets[rng() % 5];
    std::optional<RunLogDecoder::Target> target;
    if (key) target = TargetOf(*key, StepRange{0, 10});
    RunLogDecoder d(target, rng() % 2 == 0);
    switch (rng() % 4) {
      case 0: {
        std::string p = rich;
        Mutate(rng, &p);
        ok += Apply(d, p).ok();
        break;
      }
      case 1: {  // valid definitions, then a damaged blob
        ASSERT_THAT(Apply(d, rich), IsOk());
        std::string p = blob;
        Mutate(rng, &p);
        ok += ApplyBlob(d, p).ok();
        break;
      }
      case 2: {  // valid definitions, then a damaged points-only chunk
        ASSERT_THAT(Apply(d, Definitions()), IsOk());
        std::string p = points;
        Mutate(rng, &p);
        ok += Apply(d, p).ok();
        break;
      }
      default: {  // random bytes
        std::string p(rng() % 64, '\0');
        for (char& ch : p) ch = static_cast<char>(rng());
        ok += Apply(d, p,
                    rng() % 2 ? storage::format::kChunkRecords
                              : storage::format::kChunkBlob)
                  .ok();
        break;
      }
    }
  }
  // Some mutations are harmless (a flipped bit in a value); the loop must
  // have exercised both outcomes.
  EXPECT_GT(ok, 0);
  EXPECT_LT(ok, 25'000);
}

}  // namespace
}  // namespace runlog
