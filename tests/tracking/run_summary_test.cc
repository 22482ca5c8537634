#include "tracking/run_summary.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/coding.h"
#include "tests/testing/decoder_probes.h"
#include "tests/testing/double_bits.h"
#include "tests/testing/series_summary.h"
#include "tests/testing/status_matchers.h"
#include "tracking/codec/column_codec.h"
#include "tracking/codec/record_format.h"
#include "tracking/codec/value_codec.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace runlog {
namespace {

using ::runlog::testing::FromBits;

using ::runlog::testing::AllocationProbe;
using ::runlog::testing::ExactBuffer;
using ::runlog::testing::ExpectSameSeries;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kLoc[] = "runs/0abc/COMMIT";
constexpr absl::StatusCode kDataLoss = absl::StatusCode::kDataLoss;

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

absl::StatusOr<RunSummary> Decode(absl::string_view bytes) {
  ExactBuffer buf(bytes);
  return DecodeRunSummary(buf.view(), kLoc);
}

void ExpectSame(const RunSummary& got, const RunSummary& want) {
  EXPECT_EQ(got.experiment, want.experiment);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.description, want.description);
  EXPECT_EQ(got.created, want.created);
  EXPECT_EQ(got.tags, want.tags);
  EXPECT_EQ(got.params, want.params);
  ASSERT_EQ(got.series.size(), want.series.size());
  for (size_t i = 0; i < want.series.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("series ", i));
    ExpectSameSeries(got.series[i], want.series[i]);
  }
}

RunSummary Rich() {
  RunSummary s;
  s.experiment = "sweep";
  s.name = "lr-1e-3";
  s.description = std::string("multi\nline \0 text", 17);
  s.created = absl::FromUnixMicros(1'700'000'000'123'456);
  s.tags = {"baseline", "gpu", std::string(300, 't')};
  s.params = Value::Map{
      {"hparams",
       Value::Map{{"lr", 0.001},
                  {"layers", Value::List{64, 64}},
                  {"opt", Value::Map{{"name", "adam"},
                                     {"betas", Value::List{0.9, 0.999}}}}}},
      {"seed", 42},
      {"none", nullptr}};
  const SeriesKind kinds[] = {SeriesKind::kScalar, SeriesKind::kText,
                              SeriesKind::kHistogram, SeriesKind::kBlob};
  for (int i = 0; i < 300; ++i) {
    SeriesSummary ss;
    ss.key.name = absl::StrCat("metric/", i % 7);
    if (i % 2) ss.key.context["subset"] = absl::StrCat("s", i);
    if (i % 3 == 0) ss.key.context["fold"] = "";
    ss.kind = kinds[i % 4];
    if (i % 5 != 0) {  // every fifth series has no points (NaN summaries)
      if (ss.kind == SeriesKind::kScalar) {
        ss.Add(i, 0.5 * i);
        ss.Add(i + 10, i % 3 == 0 ? std::nan("") : -0.0);
      } else {
        ss.AddStep(-i);
      }
    }
    s.series.push_back(std::move(ss));
  }
  SeriesSummary edge;
  edge.key.name = "edge";
  edge.count = std::numeric_limits<int64_t>::max();
  edge.first_step = std::numeric_limits<int64_t>::min();
  edge.last_step = std::numeric_limits<int64_t>::max();
  edge.first = FromBits(0x7ff8'0000'dead'beef);  // NaN with a payload
  edge.last = std::numeric_limits<double>::infinity();
  edge.min = -std::numeric_limits<double>::infinity();
  edge.max = std::numeric_limits<double>::denorm_min();
  s.series.push_back(edge);
  return s;
}

TEST(RunSummaryTest, RoundTripsEverything) {
  const RunSummary want = Rich();
  auto got = Decode(EncodeRunSummary(want));
  ASSERT_THAT(got, IsOk());
  ExpectSame(*got, want);
}

TEST(RunSummaryTest, RoundTripsDefault) {
  const RunSummary want;
  auto got = Decode(EncodeRunSummary(want));
  ASSERT_THAT(got, IsOk());
  ExpectSame(*got, want);
  EXPECT_EQ(got->params, Value::EmptyMap());
}

TEST(RunSummaryTest, CreatedBeforeTheEpoch) {
  RunSummary want;
  want.created = absl::FromUnixMicros(-1'000'001);
  auto got = Decode(EncodeRunSummary(want));
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->created, want.created);
}

TEST(RunSummaryTest, EncodingIsDeterministic) {
  EXPECT_EQ(EncodeRunSummary(Rich()), EncodeRunSummary(Rich()));
  auto got = Decode(EncodeRunSummary(Rich()));
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(EncodeRunSummary(*got), EncodeRunSummary(Rich()));
}

TEST(RunSummaryTest, StartsWithTheVersionByte) {
  EXPECT_EQ(static_cast<uint8_t>(EncodeRunSummary(RunSummary())[0]),
            record::kSummaryVersion);
}

TEST(RunSummaryTest, EveryTruncationIsDataLossNamingTheLocation) {
  RunSummary s = Rich();
  s.series.resize(6);  // keep the loop short; every field kind is still there
  const std::string bytes = EncodeRunSummary(s);
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_THAT(
        Decode(bytes.substr(0, len)),
        StatusIs(kDataLoss, AllOf(HasSubstr(kLoc), HasSubstr("run summary"))))
        << "prefix of " << len << " of " << bytes.size() << " bytes";
  }
}

TEST(RunSummaryTest, ErrorNamesTheOffset) {
  const std::string bytes = EncodeRunSummary(Rich());
  // Cut inside the last series' summary doubles.
  EXPECT_THAT(Decode(bytes.substr(0, bytes.size() - 3)),
              StatusIs(kDataLoss, HasSubstr("offset ")));
}

TEST(RunSummaryTest, UnknownVersionIsUnimplemented) {
  for (uint8_t version : {0, 2, 0xff}) {
    std::string bytes = EncodeRunSummary(Rich());
    bytes[0] = static_cast<char>(version);
    EXPECT_THAT(Decode(bytes),
                StatusIs(absl::StatusCode::kUnimplemented,
                         AllOf(HasSubstr(kLoc),
                               HasSubstr(absl::StrCat("version ", version)))));
  }
}

TEST(RunSummaryTest, TrailingBytesAreDataLoss) {
  const std::string bytes = EncodeRunSummary(Rich()) + "x";
  EXPECT_THAT(
      Decode(bytes),
      StatusIs(kDataLoss, AllOf(HasSubstr(kLoc), HasSubstr("trailing bytes"))));
}

// A summary with no series and no tags, ending in the series count.
std::string PrefixBeforeSeriesCount() {
  std::string bytes = EncodeRunSummary(RunSummary());
  bytes.pop_back();  // the series count 0
  return bytes;
}

TEST(RunSummaryTest, HugeSeriesCountIsRejectedWithoutAllocating) {
  for (uint64_t count : {uint64_t{record::kMaxSeriesPerRun},
                         uint64_t{record::kMaxSeriesPerRun} + 1,
                         uint64_t{1} << 40, ~uint64_t{0}}) {
    std::string bytes = PrefixBeforeSeriesCount();
    storage::PutVarint64(&bytes, count);
    bytes.append(100, '\0');  // room for two series at most
    AllocationProbe probe;
    EXPECT_THAT(
        Decode(bytes),
        StatusIs(kDataLoss, AllOf(HasSubstr(kLoc), HasSubstr("series count"))))
        << count;
    // kMaxSeriesPerRun summaries would take over 100 MiB.
    EXPECT_LT(probe.largest(), size_t{64} << 10) << count;
  }
}

TEST(RunSummaryTest, SmallestSeriesDecodes) {
  // The tightest series (empty name, no context, all-zero varints) is 38
  // bytes; the count bound must not reject it.
  RunSummary s;
  s.series.resize(3);
  for (SeriesSummary& ss : s.series) ss.key.name = "";
  const std::string bytes = EncodeRunSummary(s);
  EXPECT_EQ(bytes.size(), EncodeRunSummary(RunSummary()).size() + 3 * 38);
  auto got = Decode(bytes);
  ASSERT_THAT(got, IsOk());
  ExpectSame(*got, s);
}

TEST(RunSummaryTest, HugeTagCountIsDataLoss) {
  RunSummary s;
  std::string bytes = EncodeRunSummary(s);
  // version, created 0, three empty strings, then the tag count.
  ASSERT_EQ(bytes[5], '\0');
  std::string big;
  storage::PutVarint64(&big, uint64_t{1} << 40);
  bytes.replace(5, 1, big);
  EXPECT_THAT(Decode(bytes), StatusIs(kDataLoss, HasSubstr("tag count")));
}

TEST(RunSummaryTest, UnknownSeriesKindIsDataLoss) {
  RunSummary s;
  s.series.resize(1);
  s.series[0].key.name = "x";
  // The kind byte follows the series count, at the end of an empty summary.
  const size_t kind_at = EncodeRunSummary(RunSummary()).size();
  for (uint8_t kind : {5, 0x10, 0xff}) {
    std::string bytes = EncodeRunSummary(s);
    bytes[kind_at] = static_cast<char>(kind);
    EXPECT_THAT(Decode(bytes),
                StatusIs(kDataLoss, AllOf(HasSubstr(kLoc),
                                          HasSubstr("unknown series kind"))))
        << static_cast<int>(kind);
  }
}

TEST(RunSummaryTest, BadParamsAreDataLoss) {
  std::string bytes = EncodeRunSummary(RunSummary());
  // The params follow the empty tag list at offset 6; tag 0x00 is invalid.
  ASSERT_EQ(bytes[6], '\x08');  // empty map
  bytes[6] = '\0';
  EXPECT_THAT(Decode(bytes), StatusIs(kDataLoss, HasSubstr(kLoc)));
}

TEST(RunSummaryTest, TooManyContextEntriesIsDataLoss) {
  RunSummary s;
  s.series.resize(1);
  s.series[0].key.name = "x";
  for (size_t i = 0; i <= record::kMaxContextEntries; ++i) {
    s.series[0].key.context[absl::StrCat("k", i)] = "v";
  }
  EXPECT_THAT(Decode(EncodeRunSummary(s)),
              StatusIs(kDataLoss, HasSubstr("context")));
}

TEST(RunSummaryTest, MutationsNeverCrash) {
  RunSummary s = Rich();
  s.series.resize(20);
  const std::string valid = EncodeRunSummary(s);
  std::mt19937_64 rng(77);
  int ok = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes = valid;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0:
          bytes[at] ^= static_cast<char>(1 << (rng() % 8));
          break;
        case 1:
          bytes[at] = static_cast<char>(rng());
          break;
        default:
          bytes.resize(std::max<size_t>(1, at));
          break;
      }
    }
    absl::StatusOr<RunSummary> got = Decode(bytes);
    if (got.ok()) {
      ++ok;
    } else {
      EXPECT_THAT(got.status().message(), HasSubstr(kLoc));
    }
  }
  EXPECT_GT(ok, 0);  // flipped bits inside doubles are not detectable here
}

}  // namespace
}  // namespace runlog
