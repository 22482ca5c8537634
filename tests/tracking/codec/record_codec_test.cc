// Byte layout of the record encoders (record_format.h). What the decoder
// makes of these records is tested in run_log_decoder_test.cc.
#include "tracking/codec/record_codec.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/coding.h"
#include "tests/testing/double_bits.h"
#include "tests/testing/status_matchers.h"
#include "tracking/codec/column_codec.h"
#include "tracking/codec/record_format.h"
#include "tracking/codec/value_codec.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace runlog::record {
namespace {

using ::runlog::testing::Bits;

using ::runlog::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

struct ParsedRecord {
  uint8_t type;
  std::string body;
};

// Splits a kChunkRecords payload into its records; fails the test on bad
// framing.
std::vector<ParsedRecord> Parse(absl::string_view chunk) {
  std::vector<ParsedRecord> out;
  while (!chunk.empty()) {
    const uint8_t type = static_cast<uint8_t>(chunk[0]);
    chunk.remove_prefix(1);
    uint64_t length;
    if (!storage::GetVarint64(&chunk, &length) || length > chunk.size()) {
      ADD_FAILURE() << "bad record framing";
      return out;
    }
    out.push_back({type, std::string(chunk.substr(0, length))});
    chunk.remove_prefix(length);
  }
  return out;
}

// The one record of `chunk`, of type `want`.
std::string OnlyBody(absl::string_view chunk, RecordType want) {
  std::vector<ParsedRecord> records = Parse(chunk);
  if (records.size() != 1) {
    ADD_FAILURE() << records.size() << " records";
    return "";
  }
  EXPECT_EQ(records[0].type, static_cast<uint8_t>(want));
  return records[0].body;
}

std::string GetStr(absl::string_view* in) {
  absl::string_view s;
  EXPECT_TRUE(GetString(in, ~size_t{0}, &s));
  return std::string(s);
}
uint64_t GetVarint(absl::string_view* in) {
  uint64_t v = 0;
  EXPECT_TRUE(storage::GetVarint64(in, &v));
  return v;
}

TEST(RecordCodecTest, RecordIsTypeLengthBody) {
  std::string chunk;
  AppendRecord(&chunk, RecordType::kAddTag, "xyz");
  EXPECT_EQ(chunk, std::string("\x04\x03xyz", 5));
  // Records append; a long body takes a multi-byte length.
  const std::string body(200, 'b');
  AppendRecord(&chunk, RecordType::kSetName, body);
  ASSERT_EQ(chunk.size(), 5u + 1 + 2 + 200);
  EXPECT_EQ(chunk.substr(5, 3), "\x06\xc8\x01");
  EXPECT_EQ(chunk.substr(8), body);
}

TEST(RecordCodecTest, EmptyBody) {
  std::string chunk;
  AppendRecord(&chunk, RecordType::kScalarPoints, "");
  EXPECT_EQ(chunk, std::string("\x11\x00", 2));
}

TEST(RecordCodecTest, RecordTypeCodesArePinned) {
  // These bytes are on disk; renumbering them breaks every stored run.
  EXPECT_EQ(static_cast<int>(RecordType::kRunInfo), 0x01);
  EXPECT_EQ(static_cast<int>(RecordType::kSetParam), 0x02);
  EXPECT_EQ(static_cast<int>(RecordType::kMergeParams), 0x03);
  EXPECT_EQ(static_cast<int>(RecordType::kAddTag), 0x04);
  EXPECT_EQ(static_cast<int>(RecordType::kRemoveTag), 0x05);
  EXPECT_EQ(static_cast<int>(RecordType::kSetName), 0x06);
  EXPECT_EQ(static_cast<int>(RecordType::kSetDescription), 0x07);
  EXPECT_EQ(static_cast<int>(RecordType::kDefineSeries), 0x10);
  EXPECT_EQ(static_cast<int>(RecordType::kScalarPoints), 0x11);
  EXPECT_EQ(static_cast<int>(RecordType::kTextPoints), 0x12);
  EXPECT_EQ(static_cast<int>(RecordType::kHistogramPoints), 0x13);
}

TEST(RecordCodecTest, RunInfoLayout) {
  std::string chunk;
  const absl::Time created = absl::FromUnixMicros(1'700'000'000'123'456);
  AppendRunInfo(&chunk, created, "sweep", "lr-1e-3", "");
  std::string body = OnlyBody(chunk, RecordType::kRunInfo);
  absl::string_view in = body;
  int64_t us;
  ASSERT_TRUE(GetSignedVarint(&in, &us));
  EXPECT_EQ(us, 1'700'000'000'123'456);
  EXPECT_EQ(GetStr(&in), "sweep");
  EXPECT_EQ(GetStr(&in), "lr-1e-3");
  EXPECT_EQ(GetStr(&in), "");
  EXPECT_TRUE(in.empty());
}

TEST(RecordCodecTest, RunInfoBeforeTheEpoch) {
  std::string chunk;
  AppendRunInfo(&chunk, absl::FromUnixMicros(-5), "e", "n", "d");
  std::string body = OnlyBody(chunk, RecordType::kRunInfo);
  absl::string_view in = body;
  int64_t us;
  ASSERT_TRUE(GetSignedVarint(&in, &us));
  EXPECT_EQ(us, -5);
}

TEST(RecordCodecTest, StringRecordsHoldOneString) {
  for (RecordType t : {RecordType::kAddTag, RecordType::kRemoveTag,
                       RecordType::kSetName, RecordType::kSetDescription}) {
    std::string chunk;
    AppendStringRecord(&chunk, t, std::string("a\0b", 3));
    std::string body = OnlyBody(chunk, t);
    EXPECT_EQ(body, std::string("\x03"
                                "a\0b",
                                4));
  }
}

TEST(RecordCodecTest, SetParamIsPathThenValue) {
  std::string chunk;
  const Value v = Value::List{1, 2.5, "x"};
  AppendSetParam(&chunk, "hparams.layers", v);
  std::string body = OnlyBody(chunk, RecordType::kSetParam);
  absl::string_view in = body;
  EXPECT_EQ(GetStr(&in), "hparams.layers");
  auto decoded = DecodeValue(&in);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, v);
  EXPECT_TRUE(in.empty());
}

TEST(RecordCodecTest, MergeParamsIsOneValue) {
  std::string chunk;
  const Value patch = Value::Map{{"a", Value::Map{{"b", 1}}}, {"c", nullptr}};
  AppendMergeParams(&chunk, patch);
  std::string expected;
  EncodeValue(patch, &expected);
  EXPECT_EQ(OnlyBody(chunk, RecordType::kMergeParams), expected);
}

TEST(RecordCodecTest, DefineSeriesLayoutAndKindCodes) {
  const struct {
    SeriesKind kind;
    SeriesKindCode code;
  } cases[] = {{SeriesKind::kScalar, SeriesKindCode::kScalar},
               {SeriesKind::kText, SeriesKindCode::kText},
               {SeriesKind::kHistogram, SeriesKindCode::kHistogram},
               {SeriesKind::kBlob, SeriesKindCode::kBlob}};
  EXPECT_EQ(static_cast<int>(SeriesKindCode::kScalar), 1);
  EXPECT_EQ(static_cast<int>(SeriesKindCode::kBlob), 4);
  for (const auto& c : cases) {
    std::string chunk;
    const SeriesKey key{"loss", {{"subset", "train"}, {"fold", "3"}}};
    AppendDefineSeries(&chunk, 300, c.kind, key);
    std::string body = OnlyBody(chunk, RecordType::kDefineSeries);
    absl::string_view in = body;
    EXPECT_EQ(GetVarint(&in), 300u);
    ASSERT_FALSE(in.empty());
    EXPECT_EQ(static_cast<uint8_t>(in[0]), static_cast<uint8_t>(c.code));
    in.remove_prefix(1);
    EXPECT_EQ(GetStr(&in), "loss");
    EXPECT_EQ(GetVarint(&in), 2u);
    // Context entries in key order.
    EXPECT_EQ(GetStr(&in), "fold");
    EXPECT_EQ(GetStr(&in), "3");
    EXPECT_EQ(GetStr(&in), "subset");
    EXPECT_EQ(GetStr(&in), "train");
    EXPECT_TRUE(in.empty());
  }
}

// Columns header of a points record: id, count, steps, times, epochs.
struct Columns {
  uint64_t id = 0;
  uint64_t count = 0;
  std::vector<int64_t> steps;
  std::vector<int64_t> times;
  std::vector<double> epochs;
};
Columns ParseColumns(absl::string_view* in) {
  Columns c;
  c.id = GetVarint(in);
  c.count = GetVarint(in);
  EXPECT_TRUE(DecodeSteps(in, c.count, &c.steps));
  EXPECT_TRUE(DecodeDeltas(in, c.count, &c.times));
  EXPECT_TRUE(DecodeEpochs(in, c.count, &c.epochs));
  return c;
}

TEST(RecordCodecTest, ScalarPointsLayout) {
  const std::vector<int64_t> steps = {0, 1, 2, 10};
  const std::vector<double> values = {0.5, 0.25, -0.0,
                                      std::numeric_limits<double>::infinity()};
  const std::vector<double> epochs = {1.0, 1.0, 2.0, std::nan("")};
  const std::vector<int64_t> times = {1'000'000, 1'000'010, 1'000'010, 999};
  std::string chunk;
  std::string scratch = "stale bytes from an earlier record";
  AppendScalarPoints(&chunk, &scratch, 7, steps, values, epochs, times);
  std::string body = OnlyBody(chunk, RecordType::kScalarPoints);
  absl::string_view in = body;
  Columns c = ParseColumns(&in);
  EXPECT_EQ(c.id, 7u);
  EXPECT_EQ(c.count, 4u);
  EXPECT_EQ(c.steps, steps);
  EXPECT_EQ(c.times, times);
  ASSERT_EQ(c.epochs.size(), 4u);
  EXPECT_EQ(c.epochs[2], 2.0);
  EXPECT_TRUE(std::isnan(c.epochs[3]));
  std::vector<double> got;
  ASSERT_TRUE(DecodeXorDoubles(&in, 4, &got));
  ASSERT_EQ(got.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(Bits(got[i]), Bits(values[i])) << i;
  EXPECT_TRUE(in.empty());
}

TEST(RecordCodecTest, ScratchContentsDoNotLeakIntoRecords) {
  const std::vector<int64_t> steps = {3};
  const std::vector<double> values = {1.0};
  const std::vector<double> epochs = {std::nan("")};
  const std::vector<int64_t> times = {5};
  std::string clean_chunk, clean_scratch;
  AppendScalarPoints(&clean_chunk, &clean_scratch, 1, steps, values, epochs,
                     times);
  std::string chunk, scratch(1000, 'x');
  AppendScalarPoints(&chunk, &scratch, 1, steps, values, epochs, times);
  EXPECT_EQ(chunk, clean_chunk);
}

TEST(RecordCodecTest, TextPointsLayout) {
  const std::vector<int64_t> steps = {1, 2};
  const std::vector<std::string> texts = {"hello", std::string("\0\xff", 2)};
  const std::vector<double> epochs = {std::nan(""), std::nan("")};
  const std::vector<int64_t> times = {10, 20};
  std::string chunk, scratch;
  AppendTextPoints(&chunk, &scratch, 2, steps, texts, epochs, times);
  std::string body = OnlyBody(chunk, RecordType::kTextPoints);
  absl::string_view in = body;
  Columns c = ParseColumns(&in);
  EXPECT_EQ(c.id, 2u);
  EXPECT_EQ(c.steps, steps);
  EXPECT_EQ(c.times, times);
  EXPECT_EQ(GetStr(&in), texts[0]);
  EXPECT_EQ(GetStr(&in), texts[1]);
  EXPECT_TRUE(in.empty());
}

TEST(RecordCodecTest, HistogramPointsLayout) {
  const std::vector<int64_t> steps = {0, 5};
  const std::vector<Histogram> hists = {Histogram{{0, 1, 2}, {5, 7}},
                                        Histogram{{-1, 1}, {3}}};
  const std::vector<double> epochs = {0.5, 0.5};
  const std::vector<int64_t> times = {0, 0};
  std::string chunk, scratch;
  AppendHistogramPoints(&chunk, &scratch, 3, steps, hists, epochs, times);
  std::string body = OnlyBody(chunk, RecordType::kHistogramPoints);
  absl::string_view in = body;
  Columns c = ParseColumns(&in);
  EXPECT_EQ(c.id, 3u);
  EXPECT_THAT(c.epochs, ElementsAre(0.5, 0.5));
  for (const Histogram& h : hists) {
    EXPECT_EQ(GetVarint(&in), h.counts.size());  // bins
    std::vector<double> edges(h.edges.size()), counts(h.counts.size());
    for (double& e : edges) ASSERT_TRUE(GetDouble(&in, &e));
    for (double& n : counts) ASSERT_TRUE(GetDouble(&in, &n));
    EXPECT_EQ(edges, h.edges);
    EXPECT_EQ(counts, h.counts);
  }
  EXPECT_TRUE(in.empty());
}

TEST(RecordCodecTest, ManyRecordsShareAChunk) {
  std::string chunk, scratch;
  AppendStringRecord(&chunk, RecordType::kAddTag, "a");
  AppendDefineSeries(&chunk, 0, SeriesKind::kScalar, SeriesKey{"x", {}});
  const std::vector<int64_t> steps = {0};
  const std::vector<double> values = {1.0}, epochs = {std::nan("")};
  const std::vector<int64_t> times = {0};
  AppendScalarPoints(&chunk, &scratch, 0, steps, values, epochs, times);
  AppendStringRecord(&chunk, RecordType::kRemoveTag, "a");
  std::vector<uint8_t> types;
  for (const ParsedRecord& r : Parse(chunk)) types.push_back(r.type);
  EXPECT_THAT(types, ElementsAreArray({0x04, 0x10, 0x11, 0x05}));
}

TEST(RecordCodecTest, BlobPointLayout) {
  const Blob blob{"image/png", std::string("\x89PNG\0\1", 6)};
  const std::string payload =
      EncodeBlobPoint(9, -3, 1'700'000'000'000'000, 2.5, blob);
  absl::string_view in = payload;
  EXPECT_EQ(GetVarint(&in), 9u);
  int64_t step, time_us;
  double epoch;
  ASSERT_TRUE(GetSignedVarint(&in, &step));
  ASSERT_TRUE(GetSignedVarint(&in, &time_us));
  ASSERT_TRUE(GetDouble(&in, &epoch));
  EXPECT_EQ(step, -3);
  EXPECT_EQ(time_us, 1'700'000'000'000'000);
  EXPECT_EQ(epoch, 2.5);
  EXPECT_EQ(GetStr(&in), "image/png");
  EXPECT_EQ(in, blob.data);  // the rest of the payload, no length
}

TEST(RecordCodecTest, BlobWithoutEpochStoresNaN) {
  const std::string payload =
      EncodeBlobPoint(0, 0, 0, std::nan(""), Blob{"", ""});
  // id, step, time (one byte each), f64, empty content type, no data.
  ASSERT_EQ(payload.size(), 3u + 8 + 1);
  absl::string_view in = absl::string_view(payload).substr(3);
  double epoch;
  ASSERT_TRUE(GetDouble(&in, &epoch));
  EXPECT_TRUE(std::isnan(epoch));
}

}  // namespace
}  // namespace runlog::record
