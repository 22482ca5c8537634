#include "storage/commit_manifest.h"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/checksum.h"
#include "storage/coding.h"
#include "storage/fault_file_system.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPath[] = "runs/x/COMMIT";
constexpr absl::StatusCode kDataLoss = absl::StatusCode::kDataLoss;
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// The manifest pinned by golden/commit_v1.bin.
CommitManifest GoldenManifest() {
  CommitManifest m;
  m.run_id = "0loyw3v5nk2m9x7qa";
  m.status = format::RunStatus::kFailed;
  m.end_time = absl::FromUnixMicros(1700000123456789);
  m.segments = {{1, 4096, 0x0123456789abcdefu}, {2, 130, 0xfedcba9876543210u}};
  m.reason = "loss is NaN";
  m.summary = std::string("\x01\x02summary", 9);
  return m;
}

void ExpectSameManifest(const CommitManifest& a, const CommitManifest& b) {
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.end_time, b.end_time);
  EXPECT_EQ(a.segments, b.segments);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.summary, b.summary);
}

std::string Encode(const CommitManifest& m) {
  absl::StatusOr<std::string> bytes = EncodeCommitManifest(m);
  EXPECT_THAT(bytes, IsOk());
  return bytes.ok() ? *bytes : std::string();
}

// Recomputes the trailing checksum so a deliberate edit is not caught by it,
// which lets a test reach the check behind it.
void Reseal(std::string* bytes) {
  const size_t body = bytes->size() - 8;
  EncodeFixed64(bytes->data() + body,
                Checksum64(absl::string_view(*bytes).substr(0, body)));
}

// Offset of the reason length field of an encoding of `m`.
size_t ReasonLengthOffset(const CommitManifest& m) {
  return format::kCommitFixedSize +
         m.segments.size() * format::kCommitSegmentEntrySize;
}
size_t SummaryLengthOffset(const CommitManifest& m) {
  return ReasonLengthOffset(m) + 4 + m.reason.size();
}

// ---- Round trips ------------------------------------------------------------

void ExpectRoundTrip(const CommitManifest& m) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeCommitManifest(m));
  EXPECT_EQ(bytes.size(), SummaryLengthOffset(m) + 4 + m.summary.size() + 8);
  RUNLOG_ASSERT_OK_AND_ASSIGN(CommitManifest back,
                              DecodeCommitManifest(bytes, kPath));
  ExpectSameManifest(m, back);
}

TEST(CommitManifestTest, RoundTripsWithoutSegments) {
  CommitManifest m;
  m.run_id = "a";
  ExpectRoundTrip(m);
}

TEST(CommitManifestTest, RoundTripsOneSegment) {
  CommitManifest m;
  m.run_id = "r1";
  m.segments = {{1, 64, 42}};
  ExpectRoundTrip(m);
}

TEST(CommitManifestTest, RoundTripsManySegmentsWithGaps) {
  CommitManifest m;
  m.run_id = "0123456789abcdefghijklmnopqrstuv";  // the longest id
  for (uint32_t i = 0; i < 1000; ++i) {
    m.segments.push_back({3 * i + 1, uint64_t{1} << (i % 64), ~uint64_t{i}});
  }
  ExpectRoundTrip(m);
}

TEST(CommitManifestTest, RoundTripsEveryStatus) {
  for (format::RunStatus status :
       {format::RunStatus::kFinished, format::RunStatus::kFailed,
        format::RunStatus::kCrashed}) {
    CommitManifest m = GoldenManifest();
    m.status = status;
    ExpectRoundTrip(m);
  }
}

TEST(CommitManifestTest, RoundTripsLongestReasonAndLargeSummary) {
  CommitManifest m = GoldenManifest();
  m.reason = std::string(format::kMaxFailureReason, 'r');
  m.summary.clear();
  for (int i = 0; i < (4 << 20); ++i) m.summary.push_back(static_cast<char>(i));
  ExpectRoundTrip(m);
}

TEST(CommitManifestTest, RoundTripsPreEpochEndTime) {
  CommitManifest m = GoldenManifest();
  m.end_time = absl::FromUnixMicros(-1234567);
  ExpectRoundTrip(m);
}

TEST(CommitManifestTest, EndTimeIsKeptToTheMicrosecond) {
  CommitManifest m = GoldenManifest();
  m.end_time = absl::FromUnixNanos(1700000000123456789);
  RUNLOG_ASSERT_OK_AND_ASSIGN(CommitManifest back,
                              DecodeCommitManifest(Encode(m), kPath));
  EXPECT_EQ(back.end_time, absl::FromUnixMicros(1700000000123456));
}

TEST(CommitManifestTest, RoundTripsTheMaximumSegmentCount) {
  CommitManifest m;
  m.run_id = "big";
  m.segments.resize(format::kMaxCommitSegments);
  for (uint32_t i = 0; i < format::kMaxCommitSegments; ++i) {
    m.segments[i] = {i + 1, i, i};
  }
  ExpectRoundTrip(m);
}

// ---- Layout and golden file -------------------------------------------------

TEST(CommitManifestTest, FieldsSitAtTheDocumentedOffsets) {
  const CommitManifest m = GoldenManifest();
  const std::string b = Encode(m);
  EXPECT_EQ(b.substr(0, 8), "RUNLOGCM");
  EXPECT_EQ(DecodeFixed16(&b[8]), 1);
  EXPECT_EQ(b[10], 2);  // kFailed
  EXPECT_EQ(b[11], 0);
  EXPECT_EQ(DecodeFixed32(&b[12]), 2u);
  EXPECT_EQ(DecodeFixed64(&b[16]), 1700000123456789u);
  EXPECT_EQ(b[24], 17);
  EXPECT_EQ(b.substr(25, 17), m.run_id);
  EXPECT_EQ(b.substr(42, 22), std::string(22, '\0'));
  EXPECT_EQ(DecodeFixed32(&b[64]), 1u);
  EXPECT_EQ(DecodeFixed32(&b[68]), 0u);
  EXPECT_EQ(DecodeFixed64(&b[72]), 4096u);
  EXPECT_EQ(DecodeFixed64(&b[80]), 0x0123456789abcdefu);
  EXPECT_EQ(DecodeFixed32(&b[88]), 2u);
  EXPECT_EQ(DecodeFixed32(&b[112]), 11u);
  EXPECT_EQ(b.substr(116, 11), "loss is NaN");
  EXPECT_EQ(DecodeFixed32(&b[127]), 9u);
  EXPECT_EQ(b.substr(131, 9), m.summary);
  ASSERT_EQ(b.size(), 148u);
  EXPECT_EQ(DecodeFixed64(&b[140]),
            Checksum64(absl::string_view(b).substr(0, 140)));
}

std::string GoldenPath() {
  const char* srcdir = std::getenv("RUNLOG_TEST_SRCDIR");
  if (srcdir != nullptr && *srcdir != '\0') {
    return JoinPath(srcdir, "tests/storage/golden/commit_v1.bin");
  }
  return "golden/commit_v1.bin";  // ctest runs in tests/storage
}

TEST(CommitManifestTest, MatchesGoldenFileByteForByte) {
  FileSystem& fs = *FileSystem::Default();
  const std::string path = GoldenPath();
  const std::string bytes = Encode(GoldenManifest());
  const char* update = std::getenv("RUNLOG_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    absl::Status removed = fs.RemoveFile(path);
    ASSERT_TRUE(removed.ok() || absl::IsNotFound(removed)) << removed;
    RUNLOG_ASSERT_OK(WriteNewFileSynced(fs, path, bytes));
  }
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::string golden,
                              ReadFileToString(fs, path, 1 << 20));
  EXPECT_EQ(golden, bytes) << "the commit format changed; if that is intended, "
                              "update docs/format.md "
                              "and rerun with RUNLOG_UPDATE_GOLDEN=1";
  RUNLOG_ASSERT_OK_AND_ASSIGN(CommitManifest back,
                              DecodeCommitManifest(golden, path));
  ExpectSameManifest(GoldenManifest(), back);
}

// ---- Damage -----------------------------------------------------------------

TEST(CommitManifestDecodeTest, EveryTruncationIsDataLossNamingPathAndOffset) {
  const std::string bytes = Encode(GoldenManifest());
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_THAT(DecodeCommitManifest(bytes.substr(0, len), kPath),
                StatusIs(kDataLoss, AllOf(HasSubstr("runs/x/COMMIT: offset "),
                                          HasSubstr("truncated"))))
        << "length " << len;
  }
}

TEST(CommitManifestDecodeTest, EveryBitFlipIsDetected) {
  const std::string bytes = Encode(GoldenManifest());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      absl::StatusOr<CommitManifest> m = DecodeCommitManifest(damaged, kPath);
      ASSERT_FALSE(m.ok()) << "byte " << i << " bit " << bit;
      // A flip in the version field may read as a newer version; everything
      // else is damage.
      if (i == 8 || i == 9) continue;
      EXPECT_THAT(m, StatusIs(kDataLoss, HasSubstr("runs/x/COMMIT: offset ")))
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST(CommitManifestDecodeTest, ChecksumMismatchNamesItsOffset) {
  std::string bytes = Encode(GoldenManifest());
  bytes[120] ^= 1;  // inside the reason
  EXPECT_THAT(DecodeCommitManifest(bytes, kPath),
              StatusIs(kDataLoss, HasSubstr("offset 140: checksum mismatch")));
}

TEST(CommitManifestDecodeTest, TrailingBytesAreDataLoss) {
  for (const std::string& extra : {std::string(1, '\0'), std::string(8, 'x')}) {
    std::string bytes = Encode(GoldenManifest()) + extra;
    EXPECT_THAT(DecodeCommitManifest(bytes, kPath),
                StatusIs(kDataLoss, AllOf(HasSubstr("offset 148"),
                                          HasSubstr("after the checksum"))));
  }
}

TEST(CommitManifestDecodeTest, BadMagicIsDataLoss) {
  std::string bytes = Encode(GoldenManifest());
  bytes[0] = 'X';
  EXPECT_THAT(DecodeCommitManifest(bytes, kPath),
              StatusIs(kDataLoss, HasSubstr("offset 0: bad magic")));
  EXPECT_THAT(DecodeCommitManifest("RUNX", kPath),
              StatusIs(kDataLoss, HasSubstr("offset 0: bad magic")));
}

class CorruptFieldTest : public ::testing::Test {
 protected:
  void SetUp() override { bytes_ = Encode(m_); }
  // Verbs.
  void Put8(size_t offset, uint8_t v) { bytes_[offset] = static_cast<char>(v); }
  void Put16(size_t offset, uint16_t v) { EncodeFixed16(&bytes_[offset], v); }
  void Put32(size_t offset, uint32_t v) { EncodeFixed32(&bytes_[offset], v); }
  absl::StatusOr<CommitManifest> DecodeResealed() {
    Reseal(&bytes_);
    return DecodeCommitManifest(bytes_, kPath);
  }

  const CommitManifest m_ = GoldenManifest();
  std::string bytes_;
};

TEST_F(CorruptFieldTest, NewerVersionIsUnimplemented) {
  for (uint16_t v : {uint16_t{2}, uint16_t{0xffff}}) {
    Put16(8, v);
    EXPECT_THAT(DecodeResealed(),
                StatusIs(absl::StatusCode::kUnimplemented,
                         AllOf(HasSubstr(kPath), HasSubstr("offset 8"),
                               HasSubstr(absl::StrCat("version ", v)))));
  }
}

TEST_F(CorruptFieldTest, VersionZeroIsDataLoss) {
  Put16(8, 0);
  EXPECT_THAT(DecodeResealed(), StatusIs(kDataLoss, HasSubstr("offset 8")));
}

TEST_F(CorruptFieldTest, UnknownStatusIsDataLoss) {
  for (uint8_t status : {0, 4, 0x81, 0xff}) {
    Put8(10, status);
    EXPECT_THAT(DecodeResealed(),
                StatusIs(kDataLoss, AllOf(HasSubstr("offset 10"),
                                          HasSubstr("unknown run status"))));
  }
}

TEST_F(CorruptFieldTest, NonzeroReservedByteIsDataLoss) {
  Put8(11, 1);
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, HasSubstr("offset 11: reserved")));
}

TEST_F(CorruptFieldTest, NonzeroReservedTailOfFixedPartIsDataLoss) {
  Put8(63, 0x80);
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, HasSubstr("offset 57: reserved")));
}

TEST_F(CorruptFieldTest, NonzeroSegmentEntryReservedIsDataLoss) {
  Put32(64 + 24 + 4, 7 << 8);  // kind byte 0 (log), reserved byte 93 set
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, AllOf(HasSubstr("offset 93"),
                                        HasSubstr("segment entry 1"))));
}

TEST_F(CorruptFieldTest, UnknownSegmentKindIsUnimplemented) {
  Put8(64 + 24 + 4, 2);
  EXPECT_THAT(DecodeResealed(),
              StatusIs(absl::StatusCode::kUnimplemented,
                       AllOf(HasSubstr("offset 92"), HasSubstr("kind 2"))));
}

TEST_F(CorruptFieldTest, ColumnSegmentKindRoundTrips) {
  Put8(64 + 24 + 4, 1);
  auto m = DecodeResealed();
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(m->segments[1].kind, format::SegmentKind::kColumn);
  EXPECT_EQ(m->segments[0].kind, format::SegmentKind::kLog);
  auto bytes = EncodeCommitManifest(*m);
  ASSERT_THAT(bytes, IsOk());
  auto again = DecodeCommitManifest(*bytes, "COMMIT");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->segments, m->segments);
}

TEST_F(CorruptFieldTest, NonzeroRunIdPaddingIsDataLoss) {
  Put8(25 + 17, 'a');
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, HasSubstr("offset 42: run id padding")));
}

TEST_F(CorruptFieldTest, RunIdLengthOverLimitIsDataLoss) {
  Put8(24, 33);
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, HasSubstr("offset 24: run id length 33")));
}

TEST_F(CorruptFieldTest, EmptyRunIdIsDataLoss) {
  Put8(24, 0);
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, HasSubstr("offset 25: invalid run id")));
}

TEST_F(CorruptFieldTest, UnsafeRunIdIsDataLoss) {
  Put8(25, '/');
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, HasSubstr("offset 25: invalid run id")));
}

TEST_F(CorruptFieldTest, DescendingSegmentNumbersAreDataLoss) {
  Put32(64 + 24, 1);  // second entry repeats number 1
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, AllOf(HasSubstr("offset 88"),
                                        HasSubstr("does not ascend"))));
}

TEST_F(CorruptFieldTest, SegmentNumberZeroIsDataLoss) {
  Put32(64, 0);
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, HasSubstr("offset 64: segment entry 0")));
}

// Declared lengths are checked against the limit and the bytes present before
// anything is allocated, so these fail fast instead of with bad_alloc.
TEST_F(CorruptFieldTest, HugeSummaryLengthIsRejectedBeforeAllocation) {
  const size_t at = SummaryLengthOffset(m_);
  Put32(at, 0xffffffff);
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, AllOf(HasSubstr(absl::StrCat("offset ", at)),
                                        HasSubstr("summary length 4294967295 "
                                                  "exceeds the limit"))));
  Put32(at, format::kMaxCommitSummary);  // allowed, but not present
  EXPECT_THAT(
      DecodeResealed(),
      StatusIs(kDataLoss, AllOf(HasSubstr(absl::StrCat("offset ", at + 4)),
                                HasSubstr("truncated: summary"))));
}

TEST_F(CorruptFieldTest, HugeReasonLengthIsRejectedBeforeAllocation) {
  const size_t at = ReasonLengthOffset(m_);
  Put32(at, format::kMaxFailureReason + 1);
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, AllOf(HasSubstr(absl::StrCat("offset ", at)),
                                        HasSubstr("reason length 4097"))));
  Put32(at, format::kMaxFailureReason);
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, HasSubstr("truncated: reason")));
}

TEST_F(CorruptFieldTest, HugeSegmentCountIsRejectedBeforeAllocation) {
  Put32(12, 0xffffffff);
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss, HasSubstr("offset 12: segment count")));
  Put32(12, format::kMaxCommitSegments);
  EXPECT_THAT(DecodeResealed(),
              StatusIs(kDataLoss,
                       AllOf(HasSubstr("offset 64"), HasSubstr("truncated"))));
}

// ---- Encode limits ----------------------------------------------------------

TEST(CommitManifestEncodeTest, RejectsInvalidRunIds) {
  for (const std::string& id : {std::string(""), std::string("../x"),
                                std::string("A"), std::string(33, 'a')}) {
    CommitManifest m = GoldenManifest();
    m.run_id = id;
    EXPECT_THAT(EncodeCommitManifest(m),
                StatusIs(kInvalid, HasSubstr("run_id")))
        << id;
  }
}

TEST(CommitManifestEncodeTest, RejectsLongReason) {
  CommitManifest m = GoldenManifest();
  m.reason = std::string(format::kMaxFailureReason + 1, 'r');
  EXPECT_THAT(EncodeCommitManifest(m),
              StatusIs(kInvalid, AllOf(HasSubstr("reason"),
                                       HasSubstr(GoldenManifest().run_id))));
}

TEST(CommitManifestEncodeTest, RejectsLargeSummary) {
  CommitManifest m = GoldenManifest();
  m.summary.resize(size_t{format::kMaxCommitSummary} + 1);
  EXPECT_THAT(EncodeCommitManifest(m),
              StatusIs(kInvalid, HasSubstr("summary")));
}

TEST(CommitManifestEncodeTest, RejectsTooManySegments) {
  CommitManifest m = GoldenManifest();
  m.segments.resize(size_t{format::kMaxCommitSegments} + 1);
  EXPECT_THAT(EncodeCommitManifest(m),
              StatusIs(kInvalid, HasSubstr("segments")));
}

TEST(CommitManifestEncodeTest, RejectsSegmentNumbersNotStrictlyAscending) {
  for (const std::vector<uint32_t>& numbers :
       {std::vector<uint32_t>{2, 2}, std::vector<uint32_t>{3, 1},
        std::vector<uint32_t>{0}, std::vector<uint32_t>{1, 5, 4}}) {
    CommitManifest m = GoldenManifest();
    m.segments.clear();
    for (uint32_t n : numbers) m.segments.push_back({n, 1, 1});
    EXPECT_THAT(EncodeCommitManifest(m),
                StatusIs(kInvalid, HasSubstr("segments[")));
  }
}

TEST(CommitManifestEncodeTest, RejectsUnknownStatus) {
  CommitManifest m = GoldenManifest();
  m.status = static_cast<format::RunStatus>(9);
  EXPECT_THAT(EncodeCommitManifest(m), StatusIs(kInvalid, HasSubstr("status")));
}

TEST(CommitManifestEncodeTest, RejectsInfiniteEndTime) {
  CommitManifest m = GoldenManifest();
  m.end_time = absl::InfiniteFuture();
  EXPECT_THAT(EncodeCommitManifest(m),
              StatusIs(kInvalid, HasSubstr("end_time")));
}

// ---- Reading and writing through a FileSystem -------------------------------

class CommitFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RUNLOG_ASSERT_OK(fs_.CreateDir("/runs"));
    RUNLOG_ASSERT_OK(fs_.CreateDir(kRunDir));
  }
  std::string At(absl::string_view name) { return JoinPath(kRunDir, name); }
  bool Exists(absl::string_view name) { return fs_.Stat(At(name)).ok(); }

  static constexpr char kRunDir[] = "/runs/x";
  MemFileSystem fs_;
};

TEST_F(CommitFileTest, ReadsWhatWasWritten) {
  RUNLOG_ASSERT_OK(WriteCommitManifest(fs_, kRunDir, GoldenManifest()));
  RUNLOG_ASSERT_OK_AND_ASSIGN(CommitManifest m,
                              ReadCommitManifest(fs_, kRunDir));
  ExpectSameManifest(GoldenManifest(), m);
  EXPECT_FALSE(Exists("COMMIT.tmp"));
}

TEST_F(CommitFileTest, WrittenCommitSurvivesPowerLoss) {
  RUNLOG_ASSERT_OK(fs_.SyncDir("/runs"));
  RUNLOG_ASSERT_OK(fs_.SyncDir("/"));
  RUNLOG_ASSERT_OK(WriteCommitManifest(fs_, kRunDir, GoldenManifest()));
  fs_.SimulatePowerLoss();
  RUNLOG_ASSERT_OK_AND_ASSIGN(CommitManifest m,
                              ReadCommitManifest(fs_, kRunDir));
  ExpectSameManifest(GoldenManifest(), m);
}

TEST_F(CommitFileTest, ReplacesAnExistingCommit) {
  RUNLOG_ASSERT_OK(WriteCommitManifest(fs_, kRunDir, GoldenManifest()));
  CommitManifest next = GoldenManifest();
  next.segments = {{3, 9000, 5}};
  RUNLOG_ASSERT_OK(WriteCommitManifest(fs_, kRunDir, next));
  RUNLOG_ASSERT_OK_AND_ASSIGN(CommitManifest m,
                              ReadCommitManifest(fs_, kRunDir));
  ExpectSameManifest(next, m);
}

TEST_F(CommitFileTest, RemovesAStaleTempFileFirst) {
  RUNLOG_ASSERT_OK(fs_.SetContents(At("COMMIT.tmp"), "half a compaction"));
  RUNLOG_ASSERT_OK(WriteCommitManifest(fs_, kRunDir, GoldenManifest()));
  RUNLOG_ASSERT_OK_AND_ASSIGN(CommitManifest m,
                              ReadCommitManifest(fs_, kRunDir));
  ExpectSameManifest(GoldenManifest(), m);
  EXPECT_FALSE(Exists("COMMIT.tmp"));
}

TEST_F(CommitFileTest, InvalidManifestTouchesNothing) {
  CommitManifest m = GoldenManifest();
  m.run_id = "../x";
  EXPECT_THAT(WriteCommitManifest(fs_, kRunDir, m),
              StatusIs(kInvalid, HasSubstr("run_id")));
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::vector<std::string> names,
                              fs_.ListDir(kRunDir));
  EXPECT_TRUE(names.empty());
}

TEST_F(CommitFileTest, MissingCommitIsNotFound) {
  EXPECT_THAT(
      ReadCommitManifest(fs_, kRunDir),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("/runs/x/COMMIT")));
}

TEST_F(CommitFileTest, DamagedCommitIsDataLossNamingTheFile) {
  std::string bytes = Encode(GoldenManifest());
  bytes[100] ^= 0x10;
  RUNLOG_ASSERT_OK(fs_.SetContents(At("COMMIT"), bytes));
  EXPECT_THAT(ReadCommitManifest(fs_, kRunDir),
              StatusIs(kDataLoss, HasSubstr("/runs/x/COMMIT: offset 140")));
}

TEST_F(CommitFileTest, TruncatedCommitIsDataLoss) {
  RUNLOG_ASSERT_OK(
      fs_.SetContents(At("COMMIT"), Encode(GoldenManifest()).substr(0, 70)));
  EXPECT_THAT(ReadCommitManifest(fs_, kRunDir),
              StatusIs(kDataLoss, HasSubstr("/runs/x/COMMIT: offset 64")));
}

// ---- Operation order and faults (FaultInjectingFileSystem) ------------------

using Op = std::pair<FsOp, std::string>;

class CommitFaultTest : public ::testing::Test {
 protected:
  static constexpr char kRunDir[] = "/runs/x";
  static constexpr char kTmp[] = "/runs/x/COMMIT.tmp";
  static constexpr char kCommit[] = "/runs/x/COMMIT";

  void SetUp() override {
    RUNLOG_ASSERT_OK(mem_.CreateDir("/runs"));
    RUNLOG_ASSERT_OK(mem_.CreateDir(kRunDir));
    RUNLOG_ASSERT_OK(mem_.SyncDir("/runs"));
    RUNLOG_ASSERT_OK(mem_.SyncDir("/"));
  }
  // Verbs.
  void Record() {
    fs_.set_observer([this](FsOp op, const std::string& path) {
      ops_.emplace_back(op, path);
    });
  }
  absl::Status Write(const CommitManifest& m, bool sync = true) {
    return WriteCommitManifest(fs_, kRunDir, m, sync);
  }
  bool Exists(const std::string& path) { return mem_.Stat(path).ok(); }
  absl::StatusOr<CommitManifest> Read() {
    return ReadCommitManifest(mem_, kRunDir);
  }

  MemFileSystem mem_;
  FaultInjectingFileSystem fs_{&mem_};
  std::vector<Op> ops_;
};

TEST_F(CommitFaultTest, SyncsTempBeforeRenameAndDirectoryAfter) {
  Record();
  RUNLOG_ASSERT_OK(Write(GoldenManifest()));
  EXPECT_THAT(ops_, ::testing::ElementsAre(
                        Op{FsOp::kOpen, kTmp}, Op{FsOp::kWrite, kTmp},
                        Op{FsOp::kSync, kTmp}, Op{FsOp::kRename, kTmp},
                        Op{FsOp::kSync, kRunDir}));
}

TEST_F(CommitFaultTest, WithoutSyncNothingIsSynced) {
  Record();
  RUNLOG_ASSERT_OK(Write(GoldenManifest(), /*sync=*/false));
  EXPECT_THAT(ops_, ::testing::ElementsAre(Op{FsOp::kOpen, kTmp},
                                           Op{FsOp::kWrite, kTmp},
                                           Op{FsOp::kRename, kTmp}));
  RUNLOG_ASSERT_OK_AND_ASSIGN(CommitManifest m, Read());
  ExpectSameManifest(GoldenManifest(), m);
}

TEST_F(CommitFaultTest, StaleTempIsRemovedBeforeTheRealOpen) {
  RUNLOG_ASSERT_OK(mem_.SetContents(kTmp, "left by a crashed compaction"));
  Record();
  RUNLOG_ASSERT_OK(Write(GoldenManifest()));
  ASSERT_GE(ops_.size(), 3u);
  EXPECT_EQ(ops_[0], (Op{FsOp::kOpen, kTmp}));
  EXPECT_EQ(ops_[1], (Op{FsOp::kUnlink, kTmp}));
  EXPECT_EQ(ops_[2], (Op{FsOp::kOpen, kTmp}));
  RUNLOG_ASSERT_OK_AND_ASSIGN(CommitManifest m, Read());
  ExpectSameManifest(GoldenManifest(), m);
}

TEST_F(CommitFaultTest, FailedStaleTempRemovalFailsTheCommit) {
  RUNLOG_ASSERT_OK(mem_.SetContents(kTmp, "stale"));
  fs_.FailNth(FsOp::kUnlink, 1, EIO, /*persistent=*/false);
  EXPECT_THAT(Write(GoldenManifest()),
              StatusIs(absl::ErrnoToStatusCode(EIO), HasSubstr(kTmp)));
  EXPECT_FALSE(Exists(kCommit));
}

struct FailStep {
  const char* name;
  FsOp op;
  int nth;
  int error_number;
};

class CommitStepFailureTest : public CommitFaultTest,
                              public ::testing::WithParamInterface<FailStep> {};

TEST_P(CommitStepFailureTest, FailsNamingThePathAndLeavesNoCommit) {
  const FailStep& step = GetParam();
  fs_.FailNth(step.op, step.nth, step.error_number, /*persistent=*/false);
  absl::Status s = Write(GoldenManifest());
  EXPECT_THAT(
      s, StatusIs(absl::ErrnoToStatusCode(step.error_number), HasSubstr(kTmp)));
  EXPECT_FALSE(Exists(kCommit));
  EXPECT_FALSE(Exists(kTmp));  // cleaned up on a best-effort basis
  EXPECT_THAT(Read(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(kCommit)));
}

INSTANTIATE_TEST_SUITE_P(
    Steps, CommitStepFailureTest,
    ::testing::Values(FailStep{"Open", FsOp::kOpen, 1, EACCES},
                      FailStep{"Write", FsOp::kWrite, 1, ENOSPC},
                      FailStep{"Sync", FsOp::kSync, 1, EIO},
                      FailStep{"Rename", FsOp::kRename, 1, EIO}),
    [](const ::testing::TestParamInfo<FailStep>& info) {
      return std::string(info.param.name);
    });

TEST_F(CommitFaultTest, FailedDirectorySyncFailsAlthoughCommitExists) {
  fs_.FailNth(FsOp::kSync, 2, EIO, /*persistent=*/false);
  EXPECT_THAT(Write(GoldenManifest()),
              StatusIs(absl::ErrnoToStatusCode(EIO), HasSubstr(kRunDir)));
  // Visible now, but not durable: the caller must report the run failed.
  EXPECT_TRUE(Exists(kCommit));
  EXPECT_FALSE(Exists(kTmp));
}

TEST_F(CommitFaultTest, PersistentFailuresAlsoLeaveNoCommit) {
  for (FsOp op : {FsOp::kOpen, FsOp::kWrite, FsOp::kSync, FsOp::kRename}) {
    fs_.ClearFaults();
    fs_.FailNth(op, 1, EIO, /*persistent=*/true);
    EXPECT_THAT(Write(GoldenManifest()), Not(IsOk())) << FsOpName(op);
    EXPECT_FALSE(Exists(kCommit)) << FsOpName(op);
  }
}

// A crash at every sync point, then power loss: COMMIT is either absent or
// whole, and present exactly when both syncs (file, then directory) were done.
TEST_F(CommitFaultTest, CrashAtEverySyncPointLeavesNoneOrAllOfCommit) {
  for (int syncs = 0; syncs <= 3; ++syncs) {
    SCOPED_TRACE(absl::StrCat("crash after ", syncs, " syncs"));
    fs_.CrashAfterSyncs(syncs);
    const absl::Status s = Write(GoldenManifest());
    fs_.SimulatePowerLoss();
    absl::StatusOr<CommitManifest> m = Read();
    if (syncs >= 2) {
      RUNLOG_EXPECT_OK(s);
      RUNLOG_ASSERT_OK(m);
      ExpectSameManifest(GoldenManifest(), *m);
    } else {
      EXPECT_THAT(s, Not(IsOk()));
      EXPECT_THAT(m, StatusIs(absl::StatusCode::kNotFound, HasSubstr(kCommit)));
    }
    if (Exists(kCommit)) {
      RUNLOG_ASSERT_OK(mem_.RemoveFile(kCommit));
    }
    if (Exists(kTmp)) {
      RUNLOG_ASSERT_OK(mem_.RemoveFile(kTmp));
    }
    RUNLOG_ASSERT_OK(mem_.SyncDir(kRunDir));
  }
}

// Compaction replaces COMMIT: a crash anywhere leaves the old or the new one,
// whole.
TEST_F(CommitFaultTest, CrashWhileReplacingLeavesOldOrNewCommit) {
  CommitManifest next = GoldenManifest();
  next.segments = {{3, 9000, 5}};
  for (int syncs = 0; syncs <= 3; ++syncs) {
    SCOPED_TRACE(absl::StrCat("crash after ", syncs, " syncs"));
    RUNLOG_ASSERT_OK(WriteCommitManifest(mem_, kRunDir, GoldenManifest()));
    fs_.CrashAfterSyncs(syncs);
    const absl::Status s = Write(next);
    fs_.SimulatePowerLoss();
    RUNLOG_ASSERT_OK_AND_ASSIGN(CommitManifest m, Read());
    if (syncs >= 2) {
      RUNLOG_EXPECT_OK(s);
      ExpectSameManifest(next, m);
    } else {
      EXPECT_THAT(s, Not(IsOk()));
      ExpectSameManifest(GoldenManifest(), m);
    }
  }
}

// A sparse file on the real file system: only its size is ever looked at.
TEST(CommitReadTest, OversizedCommitIsDataLossBeforeAllocation) {
  ::runlog::testing::TempDir dir;
  FileSystem& fs = *FileSystem::Default();
  const std::string path = JoinPath(dir.path(), "COMMIT");
  RUNLOG_ASSERT_OK(WriteNewFileSynced(fs, path, ""));
  ASSERT_EQ(::truncate(path.c_str(),
                       static_cast<off_t>(format::kMaxCommitFileSize + 1)),
            0);
  EXPECT_THAT(ReadCommitManifest(fs, dir.path()),
              StatusIs(kDataLoss, AllOf(HasSubstr(path), HasSubstr("limit"))));
}

}  // namespace
}  // namespace runlog::storage
