#include "storage/segment_writer.h"

#include <errno.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/checksum.h"
#include "storage/fault_file_system.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/segment.h"
#include "storage/segment_reader.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kRunId[] = "run1";
constexpr uint64_t kHeader = format::kSegmentHeaderSize;
constexpr uint64_t kChunkHeader = format::kChunkHeaderSize;

MATCHER_P(IsOkAndHolds, matcher, "") {
  if (!arg.ok()) {
    *result_listener << "status: " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

// Where a chunk must land: segment number and offset of its header.
struct Placement {
  uint32_t segment = 0;
  uint64_t offset = 0;
  uint8_t type = 0;
  std::string payload;
};

class SegmentWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RUNLOG_ASSERT_OK(fs_->CreateDir("/runs"));
    RUNLOG_ASSERT_OK(fs_->CreateDir(dir_));
  }

  std::string Path(uint32_t number) const {
    return JoinPath(dir_, SegmentFileName(number));
  }

  std::unique_ptr<SegmentWriter> Create(SegmentWriterOptions options = {}) {
    absl::StatusOr<std::unique_ptr<SegmentWriter>> writer =
        SegmentWriter::Create(fs_, dir_, kRunId, options);
    EXPECT_THAT(writer, IsOk());
    return writer.ok() ? *std::move(writer) : nullptr;
  }

  std::string Contents(uint32_t number) {
    absl::StatusOr<std::string> data = mem_.Contents(Path(number));
    EXPECT_THAT(data, IsOk());
    return data.ok() ? *data : "";
  }

  // The manifest entry the file on disk deserves.
  SegmentInfo InfoOnDisk(uint32_t number) {
    const std::string data = Contents(number);
    return SegmentInfo{number, data.size(), Checksum64(data)};
  }

  std::vector<std::string> Files() {
    absl::StatusOr<std::vector<std::string>> names = fs_->ListDir(dir_);
    EXPECT_THAT(names, IsOk());
    return names.ok() ? *names : std::vector<std::string>{};
  }

  // Reads segment `info.number` exactly as its manifest entry says.
  std::vector<Placement> ReadExact(const SegmentInfo& info) {
    std::vector<Placement> out;
    absl::StatusOr<std::unique_ptr<SegmentReader>> reader = SegmentReader::Open(
        fs_, Path(info.number), kRunId, TailPolicy::kExactManifest, info);
    EXPECT_THAT(reader, IsOk());
    if (!reader.ok()) return out;
    Chunk chunk;
    while (true) {
      absl::StatusOr<bool> more = (*reader)->Next(&chunk);
      EXPECT_THAT(more, IsOk());
      if (!more.ok() || !*more) return out;
      out.push_back(Placement{info.number, chunk.offset, chunk.type,
                              std::string(chunk.payload)});
    }
  }

  MemFileSystem mem_;
  FileSystem* fs_ = &mem_;
  const std::string dir_ = "/runs/run1";
};

// ---- Framing and rolling ---------------------------------------------------

TEST_F(SegmentWriterTest, RandomChunksRoundTripAcrossSegments) {
  SegmentWriterOptions options;
  options.roll_size = 16 << 10;
  options.buffer_size = 3000;
  std::unique_ptr<SegmentWriter> writer = Create(options);
  ASSERT_NE(writer, nullptr);

  // The model: roll before a chunk would take a non-empty segment past
  // roll_size.
  std::mt19937 rng(1234);
  std::vector<Placement> expected;
  uint32_t segment = 1;
  uint64_t length = kHeader;
  for (int i = 0; i < 400; ++i) {
    // Mostly small, sometimes larger than the roll size.
    const size_t size = i % 97 == 50 ? (20 << 10) + rng() % 100 : rng() % 3000;
    std::string payload(size, '\0');
    for (char& c : payload) c = static_cast<char>(rng());
    const uint8_t type =
        i % 5 == 0 ? format::kChunkBlob : format::kChunkRecords;
    if (length > kHeader && length + kChunkHeader + size > options.roll_size) {
      ++segment;
      length = kHeader;
    }
    expected.push_back(Placement{segment, length, type, payload});
    length += kChunkHeader + size;
    RUNLOG_ASSERT_OK(writer->AppendChunk(type, payload));
    ASSERT_EQ(writer->segments().back().number, segment);
    ASSERT_EQ(writer->segments().back().length, length);
  }
  ASSERT_GE(segment, 10u);

  // Mid-run: after Flush the files hold exactly what segments() reports.
  RUNLOG_ASSERT_OK(writer->Flush());
  EXPECT_EQ(writer->buffered_bytes(), 0u);
  for (const SegmentInfo& info : writer->segments()) {
    EXPECT_EQ(info, InfoOnDisk(info.number));
  }

  RUNLOG_ASSERT_OK(writer->Finish(/*sync=*/true));
  ASSERT_THAT(writer->segments(), SizeIs(segment));
  std::vector<Placement> read;
  std::vector<std::string> names;
  for (const SegmentInfo& info : writer->segments()) {
    EXPECT_EQ(info, InfoOnDisk(info.number));
    names.push_back(SegmentFileName(info.number));
    // A segment passes roll_size only when it holds a single oversized chunk.
    const std::vector<Placement> chunks = ReadExact(info);
    if (info.length > options.roll_size) {
      EXPECT_THAT(chunks, SizeIs(1));
    }
    read.insert(read.end(), chunks.begin(), chunks.end());
  }
  EXPECT_EQ(Files(), names);
  ASSERT_EQ(read.size(), expected.size());
  for (size_t i = 0; i < read.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(read[i].segment, expected[i].segment);
    EXPECT_EQ(read[i].offset, expected[i].offset);
    EXPECT_EQ(read[i].type, expected[i].type);
    EXPECT_EQ(read[i].payload, expected[i].payload);
  }
}

TEST_F(SegmentWriterTest, FillsSegmentExactlyToRollSize) {
  SegmentWriterOptions options;
  options.roll_size = kHeader + 2 * (kChunkHeader + 10);
  std::unique_ptr<SegmentWriter> writer = Create(options);
  const std::string payload(10, 'p');
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, payload));
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, payload));
  EXPECT_THAT(writer->segments(), SizeIs(1));
  EXPECT_EQ(writer->segments()[0].length, options.roll_size);
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, payload));
  ASSERT_THAT(writer->segments(), SizeIs(2));
  EXPECT_EQ(writer->segments()[1].length, kHeader + kChunkHeader + 10);
}

TEST_F(SegmentWriterTest, NoEmptyTrailingSegment) {
  SegmentWriterOptions options;
  options.roll_size = kHeader + kChunkHeader + 10;
  std::unique_ptr<SegmentWriter> writer = Create(options);
  RUNLOG_ASSERT_OK(
      writer->AppendChunk(format::kChunkRecords, std::string(10, 'p')));
  RUNLOG_ASSERT_OK(writer->Finish(/*sync=*/false));
  EXPECT_THAT(writer->segments(), SizeIs(1));
  EXPECT_THAT(Files(), ElementsAre("000001.seg"));
}

TEST_F(SegmentWriterTest, ChunkLargerThanRollSizeGetsItsOwnSegment) {
  SegmentWriterOptions options;
  options.roll_size = 200;
  std::unique_ptr<SegmentWriter> writer = Create(options);
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "small"));
  RUNLOG_ASSERT_OK(
      writer->AppendChunk(format::kChunkBlob, std::string(500, 'b')));
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "after"));
  RUNLOG_ASSERT_OK(writer->Finish(/*sync=*/false));
  const std::vector<SegmentInfo>& segments = writer->segments();
  ASSERT_THAT(segments, SizeIs(3));
  EXPECT_EQ(segments[0].length, kHeader + kChunkHeader + 5);
  EXPECT_EQ(segments[1].length, kHeader + kChunkHeader + 500);
  EXPECT_EQ(segments[2].length, kHeader + kChunkHeader + 5);
  EXPECT_THAT(Files(), ElementsAre("000001.seg", "000002.seg", "000003.seg"));
}

TEST_F(SegmentWriterTest, OversizedFirstChunkStaysInFirstSegment) {
  SegmentWriterOptions options;
  options.roll_size = 10;  // smaller than the header itself
  std::unique_ptr<SegmentWriter> writer = Create(options);
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "one"));
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "two"));
  RUNLOG_ASSERT_OK(writer->Finish(/*sync=*/false));
  ASSERT_THAT(writer->segments(), SizeIs(2));
  for (const SegmentInfo& info : writer->segments()) {
    EXPECT_THAT(ReadExact(info), SizeIs(1));
  }
}

TEST_F(SegmentWriterTest, StartsAtFirstSegmentNumber) {
  SegmentWriterOptions options;
  options.first_segment_number = 7;
  std::unique_ptr<SegmentWriter> writer = Create(options);
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "x"));
  RUNLOG_ASSERT_OK(writer->Finish(/*sync=*/false));
  EXPECT_THAT(Files(), ElementsAre("000007.seg"));
  EXPECT_EQ(writer->segments()[0], InfoOnDisk(7));
  EXPECT_THAT(ReadExact(writer->segments()[0]), SizeIs(1));
}

TEST_F(SegmentWriterTest, HeaderOnlySegmentIsValid) {
  std::unique_ptr<SegmentWriter> writer = Create();
  RUNLOG_ASSERT_OK(writer->Finish(/*sync=*/false));
  ASSERT_THAT(writer->segments(), SizeIs(1));
  EXPECT_EQ(writer->segments()[0].length, kHeader);
  EXPECT_EQ(writer->segments()[0], InfoOnDisk(1));
  EXPECT_THAT(ReadExact(writer->segments()[0]), SizeIs(0));
}

// ---- Buffering -------------------------------------------------------------

TEST_F(SegmentWriterTest, SegmentsReportBufferedBytes) {
  std::unique_ptr<SegmentWriter> writer = Create();
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "hello"));
  EXPECT_EQ(Contents(1), "");  // header and chunk still in memory
  EXPECT_EQ(writer->buffered_bytes(), kHeader + kChunkHeader + 5);
  const SegmentInfo before_flush = writer->segments()[0];
  EXPECT_EQ(before_flush.length, kHeader + kChunkHeader + 5);
  RUNLOG_ASSERT_OK(writer->Flush());
  EXPECT_EQ(writer->buffered_bytes(), 0u);
  EXPECT_EQ(before_flush, InfoOnDisk(1));
  EXPECT_EQ(writer->segments()[0], before_flush);
}

TEST_F(SegmentWriterTest, WritesToTheOsWhenTheBufferFills) {
  SegmentWriterOptions options;
  options.buffer_size = 256;
  std::unique_ptr<SegmentWriter> writer = Create(options);
  RUNLOG_ASSERT_OK(
      writer->AppendChunk(format::kChunkRecords, std::string(100, 'a')));
  EXPECT_EQ(Contents(1).size(), 0u);
  RUNLOG_ASSERT_OK(
      writer->AppendChunk(format::kChunkRecords, std::string(100, 'b')));
  EXPECT_EQ(writer->buffered_bytes(), 0u);
  EXPECT_EQ(writer->segments()[0], InfoOnDisk(1));
}

TEST_F(SegmentWriterTest, PayloadAsLargeAsTheBufferIsWrittenAtOnce) {
  SegmentWriterOptions options;
  options.buffer_size = 1024;
  std::unique_ptr<SegmentWriter> writer = Create(options);
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "small"));
  const std::string big(4096, 'B');
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkBlob, big));
  EXPECT_EQ(writer->buffered_bytes(), 0u);
  EXPECT_EQ(writer->segments()[0], InfoOnDisk(1));
  const std::vector<Placement> chunks = ReadExact(writer->segments()[0]);
  ASSERT_THAT(chunks, SizeIs(2));
  EXPECT_EQ(chunks[1].payload, big);
}

TEST_F(SegmentWriterTest, DestructorDropsBufferedBytes) {
  std::unique_ptr<SegmentWriter> writer = Create();
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "flushed"));
  RUNLOG_ASSERT_OK(writer->Flush());
  const uint64_t flushed = writer->segments()[0].length;
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "dropped"));
  writer.reset();
  EXPECT_EQ(Contents(1).size(), flushed);
}

// ---- Durability ------------------------------------------------------------

// Rolls once: segment 1 holds one chunk, segment 2 the next (flushed, not
// synced). Then makes the directory entries durable and cuts the power.
class SegmentWriterDurabilityTest : public SegmentWriterTest {
 protected:
  std::unique_ptr<SegmentWriter> WriteTwoSegments(bool sync_on_roll) {
    SegmentWriterOptions options;
    options.roll_size = kHeader + kChunkHeader + 10;
    options.sync_on_roll = sync_on_roll;
    std::unique_ptr<SegmentWriter> writer = Create(options);
    EXPECT_THAT(writer->AppendChunk(format::kChunkRecords, "0123456789"),
                IsOk());
    EXPECT_THAT(writer->AppendChunk(format::kChunkRecords, "abcdefghij"),
                IsOk());
    EXPECT_THAT(writer->segments(), SizeIs(2));
    EXPECT_THAT(writer->Flush(), IsOk());
    return writer;
  }

  void PowerLoss() {
    for (const char* dir : {"/", "/runs", "/runs/run1"}) {
      RUNLOG_ASSERT_OK(fs_->SyncDir(dir));
    }
    mem_.SimulatePowerLoss();
  }
};

TEST_F(SegmentWriterDurabilityTest, SyncOnRollMakesRolledSegmentDurable) {
  std::unique_ptr<SegmentWriter> writer = WriteTwoSegments(true);
  const SegmentInfo first = writer->segments()[0];
  PowerLoss();
  EXPECT_EQ(InfoOnDisk(1), first);
  EXPECT_EQ(Contents(2), "");
}

TEST_F(SegmentWriterDurabilityTest, WithoutSyncOnRollNothingIsDurable) {
  std::unique_ptr<SegmentWriter> writer = WriteTwoSegments(false);
  PowerLoss();
  EXPECT_EQ(Contents(1), "");
  EXPECT_EQ(Contents(2), "");
}

TEST_F(SegmentWriterDurabilityTest, SyncMakesCurrentSegmentDurable) {
  std::unique_ptr<SegmentWriter> writer = WriteTwoSegments(true);
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkBlob, "buffered"));
  RUNLOG_ASSERT_OK(writer->Sync());
  const std::vector<SegmentInfo> segments = writer->segments();
  PowerLoss();
  EXPECT_EQ(InfoOnDisk(1), segments[0]);
  EXPECT_EQ(InfoOnDisk(2), segments[1]);
}

// Documented limit: a segment rolled away from without sync_on_roll is
// closed, so a later Sync() cannot reach it.
TEST_F(SegmentWriterDurabilityTest, SyncDoesNotReachSegmentsRolledUnsynced) {
  std::unique_ptr<SegmentWriter> writer = WriteTwoSegments(false);
  RUNLOG_ASSERT_OK(writer->Sync());
  const std::vector<SegmentInfo> segments = writer->segments();
  PowerLoss();
  EXPECT_EQ(Contents(1), "");
  EXPECT_EQ(InfoOnDisk(2), segments[1]);
}

TEST_F(SegmentWriterDurabilityTest, FinishWithSyncMakesEverythingDurable) {
  std::unique_ptr<SegmentWriter> writer = WriteTwoSegments(true);
  RUNLOG_ASSERT_OK(writer->Finish(/*sync=*/true));
  const std::vector<SegmentInfo> segments = writer->segments();
  PowerLoss();
  EXPECT_EQ(InfoOnDisk(1), segments[0]);
  EXPECT_EQ(InfoOnDisk(2), segments[1]);
}

// ---- Argument and state errors ---------------------------------------------

TEST_F(SegmentWriterTest, InvalidRunIdIsInvalidArgument) {
  for (const std::string& id : {std::string(), std::string("Run1"),
                                std::string("a/b"), std::string(33, 'a')}) {
    EXPECT_THAT(SegmentWriter::Create(fs_, dir_, id, {}),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_))
        << id;
  }
  EXPECT_THAT(Files(), SizeIs(0));
}

TEST_F(SegmentWriterTest, SegmentNumberZeroIsInvalidArgument) {
  SegmentWriterOptions options;
  options.first_segment_number = 0;
  EXPECT_THAT(
      SegmentWriter::Create(fs_, dir_, kRunId, options),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("start at 1")));
}

TEST_F(SegmentWriterTest, RollSizeOverReaderLimitIsInvalidArgument) {
  SegmentWriterOptions options;
  options.roll_size = kMaxSegmentFileSize + 1;
  EXPECT_THAT(
      SegmentWriter::Create(fs_, dir_, kRunId, options),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("roll_size")));
}

TEST_F(SegmentWriterTest, MissingRunDirIsNotFound) {
  EXPECT_THAT(SegmentWriter::Create(fs_, "/runs/nope", kRunId, {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/runs/nope")));
}

TEST_F(SegmentWriterTest, ExistingFirstSegmentIsAlreadyExists) {
  RUNLOG_ASSERT_OK(mem_.SetContents(Path(1), "someone else's"));
  EXPECT_THAT(
      SegmentWriter::Create(fs_, dir_, kRunId, {}),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("000001.seg")));
  EXPECT_EQ(Contents(1), "someone else's");
}

TEST_F(SegmentWriterTest, ExistingNextSegmentPoisonsOnRoll) {
  RUNLOG_ASSERT_OK(mem_.SetContents(Path(2), "someone else's"));
  SegmentWriterOptions options;
  options.roll_size = 100;
  std::unique_ptr<SegmentWriter> writer = Create(options);
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "one"));
  const auto already_exists =
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("000002.seg"));
  EXPECT_THAT(writer->AppendChunk(format::kChunkRecords, "two"),
              already_exists);
  EXPECT_THAT(writer->status(), already_exists);
  EXPECT_THAT(writer->AppendChunk(format::kChunkRecords, "x"), already_exists);
  EXPECT_THAT(writer->Flush(), already_exists);
  EXPECT_THAT(writer->Sync(), already_exists);
  EXPECT_THAT(writer->Finish(/*sync=*/true), already_exists);
  EXPECT_EQ(Contents(2), "someone else's");
  // Segment 1 was completed before the roll failed.
  EXPECT_THAT(ReadExact(writer->segments()[0]), SizeIs(1));
}

TEST_F(SegmentWriterTest, OversizedPayloadIsInvalidArgumentWithoutPoison) {
  std::unique_ptr<SegmentWriter> writer = Create();
  const std::string huge(format::kMaxChunkPayload + 1, 'h');
  EXPECT_THAT(
      writer->AppendChunk(format::kChunkBlob, huge),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("67108865")));
  RUNLOG_EXPECT_OK(writer->status());
  RUNLOG_EXPECT_OK(writer->AppendChunk(format::kChunkRecords, "fine"));
  RUNLOG_EXPECT_OK(writer->Finish(/*sync=*/false));
  EXPECT_THAT(ReadExact(writer->segments()[0]), SizeIs(1));
}

TEST_F(SegmentWriterTest, MaximalPayloadIsAccepted) {
  std::unique_ptr<SegmentWriter> writer = Create();
  const std::string max(format::kMaxChunkPayload, 'm');
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkBlob, max));
  RUNLOG_ASSERT_OK(writer->Finish(/*sync=*/false));
  const std::vector<Placement> chunks = ReadExact(writer->segments()[0]);
  ASSERT_THAT(chunks, SizeIs(1));
  EXPECT_EQ(chunks[0].payload.size(), max.size());
}

TEST_F(SegmentWriterTest, FinishedWriterRefusesCalls) {
  std::unique_ptr<SegmentWriter> writer = Create();
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "x"));
  RUNLOG_ASSERT_OK(writer->Finish(/*sync=*/false));
  const auto finished =
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("finished"));
  EXPECT_THAT(writer->AppendChunk(format::kChunkRecords, "y"), finished);
  EXPECT_THAT(writer->Flush(), finished);
  EXPECT_THAT(writer->Sync(), finished);
  EXPECT_THAT(writer->Finish(/*sync=*/false), finished);
  RUNLOG_EXPECT_OK(writer->status());
  EXPECT_EQ(writer->segments()[0], InfoOnDisk(1));
}

// ---- Poisoning -------------------------------------------------------------

class SegmentWriterFaultTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    RUNLOG_ASSERT_OK(mem_.CreateDir("/runs"));
    RUNLOG_ASSERT_OK(mem_.CreateDir(dir_));
  }

  std::unique_ptr<SegmentWriter> Create(SegmentWriterOptions options = {}) {
    absl::StatusOr<std::unique_ptr<SegmentWriter>> writer =
        SegmentWriter::Create(&fault_, dir_, kRunId, options);
    EXPECT_THAT(writer, IsOk());
    return writer.ok() ? *std::move(writer) : nullptr;
  }

  // The first error must come back from every later call, unchanged, and
  // none of them may reach the file system again.
  void ExpectPoisoned(SegmentWriter& writer, const absl::Status& first) {
    ASSERT_FALSE(first.ok());
    EXPECT_EQ(writer.status(), first);
    const int64_t writes = fault_.count(FsOp::kWrite);
    const int64_t syncs = fault_.count(FsOp::kSync);
    const int64_t opens = fault_.count(FsOp::kOpen);
    EXPECT_EQ(writer.AppendChunk(format::kChunkRecords, std::string(200, 'x')),
              first);
    EXPECT_EQ(writer.Flush(), first);
    EXPECT_EQ(writer.Sync(), first);
    EXPECT_EQ(writer.Sync(), first);
    EXPECT_EQ(writer.Finish(/*sync=*/true), first);
    EXPECT_EQ(writer.Finish(/*sync=*/true), first);
    EXPECT_EQ(writer.status(), first);
    EXPECT_EQ(fault_.count(FsOp::kWrite), writes);
    EXPECT_EQ(fault_.count(FsOp::kSync), syncs);
    EXPECT_EQ(fault_.count(FsOp::kOpen), opens);
  }

  int error_number() const { return GetParam(); }

  MemFileSystem mem_;
  FaultInjectingFileSystem fault_{&mem_};
  const std::string dir_ = "/runs/run1";
};

INSTANTIATE_TEST_SUITE_P(Errnos, SegmentWriterFaultTest,
                         ::testing::Values(EIO, ENOSPC),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == EIO ? std::string("EIO")
                                                    : std::string("ENOSPC");
                         });

TEST_P(SegmentWriterFaultTest, FailedWriteWhenBufferFillsPoisons) {
  SegmentWriterOptions options;
  options.buffer_size = 128;
  std::unique_ptr<SegmentWriter> writer = Create(options);
  // Not persistent: a retried write would succeed, so only poisoning keeps
  // the later calls failing.
  fault_.FailNth(FsOp::kWrite, 1, error_number(), /*persistent=*/false);
  const absl::Status first =
      writer->AppendChunk(format::kChunkRecords, std::string(100, 'a'));
  EXPECT_THAT(first, StatusIs(absl::ErrnoToStatusCode(error_number()),
                              HasSubstr("000001.seg")));
  EXPECT_EQ(fault_.count(FsOp::kWrite), 1);
  ExpectPoisoned(*writer, first);
}

TEST_P(SegmentWriterFaultTest, FailedWriteInFlushPoisons) {
  std::unique_ptr<SegmentWriter> writer = Create();
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "buffered"));
  fault_.FailNth(FsOp::kWrite, 1, error_number(), /*persistent=*/false);
  const absl::Status first = writer->Flush();
  EXPECT_THAT(first, StatusIs(absl::ErrnoToStatusCode(error_number()),
                              HasSubstr("000001.seg")));
  ExpectPoisoned(*writer, first);
}

TEST_P(SegmentWriterFaultTest, FailedDirectPayloadWritePoisons) {
  SegmentWriterOptions options;
  options.buffer_size = 64;
  std::unique_ptr<SegmentWriter> writer = Create(options);
  // Write 1 carries the buffered header bytes, write 2 the payload itself.
  fault_.FailNth(FsOp::kWrite, 2, error_number(), /*persistent=*/false);
  const absl::Status first =
      writer->AppendChunk(format::kChunkBlob, std::string(1000, 'b'));
  EXPECT_THAT(first, StatusIs(absl::ErrnoToStatusCode(error_number()),
                              HasSubstr("000001.seg")));
  ExpectPoisoned(*writer, first);
}

TEST_P(SegmentWriterFaultTest, FailedFsyncIsNeverRetried) {
  std::unique_ptr<SegmentWriter> writer = Create();
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "data"));
  fault_.FailNth(FsOp::kSync, 1, error_number(), /*persistent=*/false);
  const absl::Status first = writer->Sync();
  EXPECT_THAT(first, StatusIs(absl::ErrnoToStatusCode(error_number()),
                              HasSubstr("000001.seg")));
  EXPECT_EQ(fault_.count(FsOp::kSync), 1);
  // A second Sync must not call fsync again, although it would now succeed.
  EXPECT_EQ(writer->Sync(), first);
  EXPECT_EQ(fault_.count(FsOp::kSync), 1);
  ExpectPoisoned(*writer, first);
}

TEST_P(SegmentWriterFaultTest, FailedFsyncOnRollPoisonsBeforeNextSegment) {
  SegmentWriterOptions options;
  options.roll_size = 100;
  std::unique_ptr<SegmentWriter> writer = Create(options);
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "one"));
  fault_.FailNth(FsOp::kSync, 1, error_number(), /*persistent=*/false);
  const absl::Status first = writer->AppendChunk(format::kChunkRecords, "two");
  EXPECT_THAT(first, StatusIs(absl::ErrnoToStatusCode(error_number()),
                              HasSubstr("000001.seg")));
  EXPECT_THAT(writer->segments(), SizeIs(1));
  EXPECT_THAT(mem_.ListDir(dir_), IsOkAndHolds(ElementsAre("000001.seg")));
  ExpectPoisoned(*writer, first);
}

TEST_P(SegmentWriterFaultTest, FailedCreateOnRollPoisons) {
  SegmentWriterOptions options;
  options.roll_size = 100;
  std::unique_ptr<SegmentWriter> writer = Create(options);
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "one"));
  fault_.FailNth(FsOp::kOpen, 1, error_number(), /*persistent=*/false);
  const absl::Status first = writer->AppendChunk(format::kChunkRecords, "two");
  EXPECT_THAT(first, StatusIs(absl::ErrnoToStatusCode(error_number()),
                              HasSubstr("000002.seg")));
  ExpectPoisoned(*writer, first);
  // The rolled-away segment was completed and synced before the failure.
  const std::string one = *mem_.Contents(JoinPath(dir_, "000001.seg"));
  EXPECT_EQ(writer->segments()[0],
            (SegmentInfo{1, one.size(), Checksum64(one)}));
}

TEST_P(SegmentWriterFaultTest, FailedCreateFailsCreate) {
  fault_.FailNth(FsOp::kOpen, 1, error_number(), /*persistent=*/false);
  EXPECT_THAT(SegmentWriter::Create(&fault_, dir_, kRunId, {}),
              StatusIs(absl::ErrnoToStatusCode(error_number()),
                       HasSubstr("000001.seg")));
}

TEST_P(SegmentWriterFaultTest, FailedFsyncInFinishPoisons) {
  std::unique_ptr<SegmentWriter> writer = Create();
  RUNLOG_ASSERT_OK(writer->AppendChunk(format::kChunkRecords, "data"));
  fault_.FailNth(FsOp::kSync, 1, error_number(), /*persistent=*/false);
  const absl::Status first = writer->Finish(/*sync=*/true);
  EXPECT_THAT(first, StatusIs(absl::ErrnoToStatusCode(error_number()),
                              HasSubstr("000001.seg")));
  ExpectPoisoned(*writer, first);
}

TEST(SegmentWriterSyncCountTest, SyncsOnRollOnlyWhenAsked) {
  for (bool sync_on_roll : {true, false}) {
    MemFileSystem mem;
    FaultInjectingFileSystem fault(&mem);
    RUNLOG_ASSERT_OK(mem.CreateDir("/r"));
    SegmentWriterOptions options;
    options.roll_size = 100;
    options.sync_on_roll = sync_on_roll;
    auto writer = SegmentWriter::Create(&fault, "/r", kRunId, options);
    ASSERT_THAT(writer, IsOk());
    for (int i = 0; i < 3; ++i) {  // three segments, two rolls
      RUNLOG_ASSERT_OK((*writer)->AppendChunk(format::kChunkRecords, "abc"));
    }
    EXPECT_THAT((*writer)->segments(), SizeIs(3));
    EXPECT_EQ(fault.count(FsOp::kSync), sync_on_roll ? 2 : 0);
    RUNLOG_ASSERT_OK((*writer)->Sync());
    RUNLOG_ASSERT_OK((*writer)->Sync());  // nothing new: no second fsync
    EXPECT_EQ(fault.count(FsOp::kSync), sync_on_roll ? 3 : 1);
    RUNLOG_ASSERT_OK((*writer)->Finish(/*sync=*/true));
    EXPECT_EQ(fault.count(FsOp::kSync), sync_on_roll ? 3 : 1);
  }
}

// ---- Golden file -----------------------------------------------------------

std::string GoldenPath() {
  const char* src = std::getenv("RUNLOG_TEST_SRCDIR");
  if (src != nullptr && *src != '\0') {
    return JoinPath(src, "tests/storage/golden/segment_v1.seg");
  }
  return "golden/segment_v1.seg";
}

// The bytes of tests/storage/golden/segment_v1.seg; docs/format.md walks
// through them. RUNLOG_UPDATE_GOLDEN=1 rewrites the file from the writer (a
// format change: update docs/format.md too).
TEST(SegmentGoldenTest, WriterMatchesGoldenFile) {
  MemFileSystem fs;
  RUNLOG_ASSERT_OK(fs.CreateDir("/r"));
  auto writer = SegmentWriter::Create(&fs, "/r", "0abc", {});
  ASSERT_THAT(writer, IsOk());
  RUNLOG_ASSERT_OK(
      (*writer)->AppendChunk(format::kChunkRecords, "hello, runlog"));
  RUNLOG_ASSERT_OK((*writer)->AppendChunk(format::kChunkBlob, "second chunk"));
  RUNLOG_ASSERT_OK((*writer)->Finish(/*sync=*/true));
  absl::StatusOr<std::string> written = fs.Contents("/r/000001.seg");
  ASSERT_THAT(written, IsOk());
  ASSERT_EQ(written->size(), 121u);

  const char* update = std::getenv("RUNLOG_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream out(GoldenPath(), std::ios::binary | std::ios::trunc);
    out.write(written->data(), static_cast<std::streamsize>(written->size()));
    ASSERT_TRUE(out.good()) << "cannot write " << GoldenPath();
  }
  std::ifstream in(GoldenPath(), std::ios::binary);
  ASSERT_TRUE(in.good()) << "cannot open " << GoldenPath();
  const std::string golden((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
  EXPECT_EQ(*written, golden)
      << "segment bytes changed; if intended, rerun with "
         "RUNLOG_UPDATE_GOLDEN=1 and update docs/format.md";
}

}  // namespace
}  // namespace runlog::storage
