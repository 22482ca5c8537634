#include "storage/segment_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/checksum.h"
#include "storage/coding.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/segment.h"
#include "storage/segment_writer.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kRunId[] = "run1";

MATCHER_P(IsOkAndHolds, matcher, "") {
  if (!arg.ok()) {
    *result_listener << "status: " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

// A chunk copied out of a reader, so it outlives the reader.
struct ReadChunk {
  uint8_t type = 0;
  std::string payload;
  uint64_t offset = 0;
  friend bool operator==(const ReadChunk& a, const ReadChunk& b) {
    return a.type == b.type && a.payload == b.payload && a.offset == b.offset;
  }
  friend std::ostream& operator<<(std::ostream& os, const ReadChunk& c) {
    return os << "{type " << int{c.type} << ", " << c.payload.size()
              << " bytes at " << c.offset << "}";
  }
};

std::string GoldenPath() {
  const char* src = std::getenv("RUNLOG_TEST_SRCDIR");
  if (src != nullptr && *src != '\0') {
    return JoinPath(src, "tests/storage/golden/segment_v1.seg");
  }
  return "golden/segment_v1.seg";
}

class SegmentReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RUNLOG_ASSERT_OK(fs_->CreateDir("/runs"));
    RUNLOG_ASSERT_OK(fs_->CreateDir(dir_));
  }

  std::string Path(uint32_t number = 1) const {
    return JoinPath(dir_, SegmentFileName(number));
  }

  // Writes segment `number` holding `chunks` (type, payload) and returns what
  // the reader must see, with offsets computed from the framing.
  std::vector<ReadChunk> Write(
      const std::vector<std::pair<uint8_t, std::string>>& chunks,
      uint32_t number = 1) {
    SegmentWriterOptions options;
    options.first_segment_number = number;
    absl::StatusOr<std::unique_ptr<SegmentWriter>> writer =
        SegmentWriter::Create(fs_, dir_, kRunId, options);
    EXPECT_THAT(writer, IsOk());
    if (!writer.ok()) return {};
    std::vector<ReadChunk> expected;
    uint64_t offset = format::kSegmentHeaderSize;
    for (const auto& [type, payload] : chunks) {
      EXPECT_THAT((*writer)->AppendChunk(type, payload), IsOk());
      expected.push_back(ReadChunk{type, payload, offset});
      offset += format::kChunkHeaderSize + payload.size();
    }
    EXPECT_THAT((*writer)->Finish(/*sync=*/false), IsOk());
    info_ = (*writer)->segments().back();
    return expected;
  }

  // `count` chunks of record type with seeded random payloads of varied
  // sizes (the second one empty).
  std::vector<ReadChunk> WriteRandom(int count, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::pair<uint8_t, std::string>> chunks;
    for (int i = 0; i < count; ++i) {
      const size_t size = i == 1 ? 0 : rng() % 700;
      std::string payload(size, '\0');
      for (char& c : payload) c = static_cast<char>(rng());
      chunks.emplace_back(
          i % 3 == 2 ? format::kChunkBlob : format::kChunkRecords,
          std::move(payload));
    }
    return Write(chunks);
  }

  std::string Contents(uint32_t number = 1) {
    absl::StatusOr<std::string> data = mem_.Contents(Path(number));
    EXPECT_THAT(data, IsOk());
    return data.ok() ? *data : "";
  }

  void SetContents(const std::string& data, uint32_t number = 1) {
    RUNLOG_ASSERT_OK(mem_.SetContents(Path(number), data));
  }

  // Edits the segment header with `edit`, then recomputes its checksum so
  // only the field checks can object.
  template <typename Edit>
  void RewriteHeader(Edit edit) {
    std::string data = Contents();
    edit(data.data());
    EncodeFixed64(data.data() + format::kSegmentHeaderChecksumOffset,
                  Checksum64(absl::string_view(
                      data.data(), format::kSegmentHeaderChecksumOffset)));
    SetContents(data);
  }

  // Edits the header of the chunk at `offset`, then recomputes its checksum.
  template <typename Edit>
  void RewriteChunkHeader(uint64_t offset, Edit edit) {
    std::string data = Contents();
    char* h = data.data() + offset;
    edit(h);
    const uint32_t length = DecodeFixed32(h + 8);
    const size_t available = data.size() - offset - format::kChunkHeaderSize;
    EncodeFixed64(
        h, ChunkChecksum(
               h, absl::string_view(h + format::kChunkHeaderSize,
                                    std::min<size_t>(length, available))));
    SetContents(data);
  }

  // The manifest entry that matches the file as it is now.
  SegmentInfo CurrentInfo(uint32_t number = 1) {
    const std::string data = Contents(number);
    return SegmentInfo{number, data.size(), Checksum64(data)};
  }

  absl::StatusOr<std::unique_ptr<SegmentReader>> Open(
      TailPolicy policy, std::optional<SegmentInfo> expected = std::nullopt,
      uint32_t number = 1) {
    return SegmentReader::Open(fs_, Path(number), kRunId, policy, expected);
  }

  // Reads every chunk; the reader is kept in `last_` for tail inspection.
  absl::StatusOr<std::vector<ReadChunk>> ReadAll(
      TailPolicy policy, std::optional<SegmentInfo> expected = std::nullopt,
      uint32_t number = 1) {
    last_.reset();
    absl::StatusOr<std::unique_ptr<SegmentReader>> reader =
        Open(policy, expected, number);
    if (!reader.ok()) return reader.status();
    last_ = *std::move(reader);
    std::vector<ReadChunk> out;
    Chunk chunk;
    while (true) {
      absl::StatusOr<bool> more = last_->Next(&chunk);
      if (!more.ok()) return more.status();
      if (!*more) return out;
      out.push_back(
          ReadChunk{chunk.type, std::string(chunk.payload), chunk.offset});
    }
  }

  MemFileSystem mem_;
  FileSystem* fs_ = &mem_;
  const std::string dir_ = "/runs/run1";
  SegmentInfo info_;  // of the segment last written
  std::unique_ptr<SegmentReader> last_;
};

// ---- Naming ----------------------------------------------------------------

TEST(SegmentFileNameTest, RoundTrips) {
  EXPECT_EQ(SegmentFileName(1), "000001.seg");
  EXPECT_EQ(SegmentFileName(999999), "999999.seg");
  EXPECT_EQ(SegmentFileName(1000000), "1000000.seg");
  EXPECT_EQ(SegmentFileName(4294967295u), "4294967295.seg");
  for (uint32_t n : {1u, 42u, 999999u, 1000000u, 4294967295u}) {
    EXPECT_EQ(ParseSegmentFileName(SegmentFileName(n)), n);
  }
}

TEST(SegmentFileNameTest, RejectsOtherNames) {
  for (const char* name :
       {"", ".seg", "000000.seg", "00001.seg", "0000001.seg", "000001.se",
        "000001.seg.tmp", "00000a.seg", "+00001.seg", "4294967296.seg",
        "99999999999.seg", "COMMIT", "000001"}) {
    EXPECT_EQ(ParseSegmentFileName(name), std::nullopt) << name;
  }
}

// ---- Reading intact files --------------------------------------------------

TEST_F(SegmentReaderTest, ReadsEveryChunkWithBothPolicies) {
  const std::vector<ReadChunk> expected = WriteRandom(20, 1);
  EXPECT_THAT(ReadAll(TailPolicy::kTornTailIsEnd), IsOkAndHolds(expected));
  EXPECT_EQ(last_->ignored_tail_bytes(), 0u);
  EXPECT_EQ(last_->valid_length(), info_.length);
  EXPECT_EQ(last_->segment_number(), 1u);
  EXPECT_THAT(ReadAll(TailPolicy::kExactManifest, info_),
              IsOkAndHolds(expected));
}

// Chunks of up to 300 KiB and one of three windows, about 9 MiB in all:
// read whole under both policies, while the reader holds no more than a
// window and the largest chunk.
std::vector<std::pair<uint8_t, std::string>> LargeSegmentChunks() {
  std::mt19937 rng(7);
  std::vector<std::pair<uint8_t, std::string>> chunks;
  for (int i = 0; i < 60; ++i) {
    const size_t size =
        i == 20 ? 3 * SegmentReader::kReadAhead : rng() % (300u << 10);
    std::string payload(size, '\0');
    for (char& c : payload) c = static_cast<char>(rng());
    chunks.emplace_back(format::kChunkRecords, std::move(payload));
  }
  return chunks;
}

TEST_F(SegmentReaderTest, ReadsASegmentManyWindowsLongHoldingOneWindow) {
  const std::vector<ReadChunk> expected = Write(LargeSegmentChunks());
  ASSERT_GT(info_.length, 8 * SegmentReader::kReadAhead);
  for (TailPolicy policy :
       {TailPolicy::kTornTailIsEnd, TailPolicy::kExactManifest}) {
    RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<SegmentReader> reader,
                                Open(policy, info_));
    std::vector<ReadChunk> got;
    size_t most = 0;
    Chunk chunk;
    while (true) {
      RUNLOG_ASSERT_OK_AND_ASSIGN(const bool more, reader->Next(&chunk));
      if (!more) break;
      got.push_back(
          ReadChunk{chunk.type, std::string(chunk.payload), chunk.offset});
      most = std::max(most, reader->buffered_bytes());
    }
    EXPECT_EQ(got, expected);
    EXPECT_EQ(reader->valid_length(), info_.length);
    EXPECT_LE(most,
              4 * SegmentReader::kReadAhead + 2 * format::kChunkHeaderSize);
  }
}

TEST_F(SegmentReaderTest, TornTailManyWindowsInIsTheEnd) {
  std::vector<ReadChunk> expected = Write(LargeSegmentChunks());
  const ReadChunk last = expected.back();
  expected.pop_back();
  // The last chunk cut in half, as a writer killed mid-append leaves it.
  SetContents(Contents().substr(
      0, last.offset + format::kChunkHeaderSize + last.payload.size() / 2));
  EXPECT_THAT(ReadAll(TailPolicy::kTornTailIsEnd), IsOkAndHolds(expected));
  EXPECT_EQ(last_->valid_length(), last.offset);
  EXPECT_THAT(last_->tail_damage(), IsOk());
}

TEST_F(SegmentReaderTest, DamageManyWindowsInIsNamedWithItsOffset) {
  const std::vector<ReadChunk> written = Write(LargeSegmentChunks());
  const SegmentInfo committed = info_;
  const ReadChunk& victim = written[40];
  std::string data = Contents();
  data[victim.offset + format::kChunkHeaderSize + 5] ^= 0x10;
  SetContents(data);
  EXPECT_THAT(
      ReadAll(TailPolicy::kExactManifest, committed),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr(absl::StrCat("chunk at offset ", victim.offset))));
  // Live: the chunks before it, and the damage reported, not hidden.
  const std::vector<ReadChunk> before(written.begin(), written.begin() + 40);
  EXPECT_THAT(ReadAll(TailPolicy::kTornTailIsEnd), IsOkAndHolds(before));
  EXPECT_THAT(
      last_->tail_damage(),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr(absl::StrCat("chunk at offset ", victim.offset))));
}

TEST_F(SegmentReaderTest, HeaderOnlySegmentHasNoChunks) {
  Write({});
  EXPECT_EQ(info_.length, format::kSegmentHeaderSize);
  EXPECT_THAT(ReadAll(TailPolicy::kTornTailIsEnd), IsOkAndHolds(IsEmpty()));
  EXPECT_EQ(last_->ignored_tail_bytes(), 0u);
  EXPECT_THAT(ReadAll(TailPolicy::kExactManifest, info_),
              IsOkAndHolds(IsEmpty()));
}

TEST_F(SegmentReaderTest, NextAfterEndKeepsReturningFalse) {
  WriteRandom(2, 2);
  ASSERT_THAT(ReadAll(TailPolicy::kExactManifest, info_), IsOk());
  Chunk chunk;
  EXPECT_THAT(last_->Next(&chunk), IsOkAndHolds(false));
}

TEST_F(SegmentReaderTest, ReadsGoldenFile) {
  std::ifstream in(GoldenPath(), std::ios::binary);
  ASSERT_TRUE(in.good()) << "cannot open " << GoldenPath();
  const std::string golden((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
  SetContents(golden);
  const SegmentInfo info{1, golden.size(), Checksum64(golden)};
  auto reader = SegmentReader::Open(fs_, Path(), "0abc",
                                    TailPolicy::kExactManifest, info);
  ASSERT_THAT(reader, IsOk());
  std::vector<ReadChunk> chunks;
  Chunk chunk;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&chunk);
    ASSERT_THAT(more, IsOk());
    if (!*more) break;
    chunks.push_back(
        ReadChunk{chunk.type, std::string(chunk.payload), chunk.offset});
  }
  EXPECT_THAT(chunks,
              ElementsAre(ReadChunk{format::kChunkRecords, "hello, runlog", 64},
                          ReadChunk{format::kChunkBlob, "second chunk", 93}));
}

// ---- Opening ---------------------------------------------------------------

TEST_F(SegmentReaderTest, MissingFileIsNotFound) {
  EXPECT_THAT(Open(TailPolicy::kTornTailIsEnd),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("000001.seg")));
}

TEST_F(SegmentReaderTest, NonSegmentNameIsInvalidArgument) {
  EXPECT_THAT(SegmentReader::Open(fs_, JoinPath(dir_, "COMMIT"), kRunId,
                                  TailPolicy::kTornTailIsEnd),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a segment file name")));
}

TEST_F(SegmentReaderTest, ExactManifestWithoutEntryIsInvalidArgument) {
  WriteRandom(1, 3);
  EXPECT_THAT(Open(TailPolicy::kExactManifest, std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("manifest entry")));
}

TEST_F(SegmentReaderTest, ManifestEntryForAnotherSegmentIsInvalidArgument) {
  WriteRandom(1, 4);
  SegmentInfo other = info_;
  other.number = 2;
  EXPECT_THAT(
      Open(TailPolicy::kExactManifest, other),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("for segment 2")));
}

// POSIX, where a sparse file makes the oversized segment cost no memory.
TEST(SegmentReaderPosixTest, FileOverSizeLimitIsDataLossBeforeReading) {
  runlog::testing::TempDir dir;
  FileSystem* fs = FileSystem::Default();
  SegmentWriterOptions options;
  auto writer = SegmentWriter::Create(fs, dir.path(), kRunId, options);
  ASSERT_THAT(writer, IsOk());
  RUNLOG_ASSERT_OK((*writer)->AppendChunk(format::kChunkRecords, "x"));
  RUNLOG_ASSERT_OK((*writer)->Finish(/*sync=*/false));
  const std::string path = JoinPath(dir.path(), SegmentFileName(1));
  ASSERT_EQ(::truncate(path.c_str(), kMaxSegmentFileSize + 1), 0);
  EXPECT_THAT(SegmentReader::Open(fs, path, kRunId, TailPolicy::kTornTailIsEnd),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr(path), HasSubstr("exceeds the limit"))));
}

TEST(SegmentReaderPosixTest, ReadsWhatTheWriterWrote) {
  runlog::testing::TempDir dir;
  FileSystem* fs = FileSystem::Default();
  auto writer = SegmentWriter::Create(fs, dir.path(), kRunId, {});
  ASSERT_THAT(writer, IsOk());
  RUNLOG_ASSERT_OK((*writer)->AppendChunk(format::kChunkRecords, "one"));
  RUNLOG_ASSERT_OK((*writer)->AppendChunk(format::kChunkBlob, "two"));
  RUNLOG_ASSERT_OK((*writer)->Finish(/*sync=*/true));
  auto reader =
      SegmentReader::Open(fs, JoinPath(dir.path(), SegmentFileName(1)), kRunId,
                          TailPolicy::kExactManifest, (*writer)->segments()[0]);
  ASSERT_THAT(reader, IsOk());
  Chunk chunk;
  EXPECT_THAT((*reader)->Next(&chunk), IsOkAndHolds(true));
  EXPECT_EQ(chunk.payload, "one");
  EXPECT_THAT((*reader)->Next(&chunk), IsOkAndHolds(true));
  EXPECT_EQ(chunk.payload, "two");
  EXPECT_THAT((*reader)->Next(&chunk), IsOkAndHolds(false));
}

// ---- Segment header --------------------------------------------------------

TEST_F(SegmentReaderTest, WrongMagicIsDataLoss) {
  WriteRandom(2, 6);
  RewriteHeader([](char* h) { h[7] = 'X'; });
  for (TailPolicy policy :
       {TailPolicy::kTornTailIsEnd, TailPolicy::kExactManifest}) {
    EXPECT_THAT(Open(policy, CurrentInfo()),
                StatusIs(absl::StatusCode::kDataLoss,
                         AllOf(HasSubstr("000001.seg"), HasSubstr("offset 0"),
                               HasSubstr("bad magic"))));
  }
}

TEST_F(SegmentReaderTest, HeaderChecksumMismatchIsDataLoss) {
  WriteRandom(2, 7);
  std::string data = Contents();
  data[20] ^= 0x01;  // inside the run id, checksum left stale
  SetContents(data);
  EXPECT_THAT(
      Open(TailPolicy::kTornTailIsEnd),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("offset 0"), HasSubstr("checksum mismatch"))));
}

TEST_F(SegmentReaderTest, WrongRunIdIsDataLoss) {
  WriteRandom(2, 8);
  for (TailPolicy policy :
       {TailPolicy::kTornTailIsEnd, TailPolicy::kExactManifest}) {
    EXPECT_THAT(
        SegmentReader::Open(fs_, Path(), "run2", policy, info_),
        StatusIs(absl::StatusCode::kDataLoss,
                 AllOf(HasSubstr("000001.seg"), HasSubstr("offset 0"),
                       HasSubstr("run id \"run1\", expected \"run2\""))));
  }
}

TEST_F(SegmentReaderTest, WrongSegmentNumberIsDataLoss) {
  WriteRandom(2, 9);
  SetContents(Contents(1), 2);  // segment 1's bytes under segment 2's name
  SegmentInfo renamed = CurrentInfo(2);
  EXPECT_THAT(Open(TailPolicy::kExactManifest, renamed, 2),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("000002.seg"), HasSubstr("offset 0"),
                             HasSubstr("number 1, file name says 2"))));
  EXPECT_THAT(
      Open(TailPolicy::kTornTailIsEnd, std::nullopt, 2),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("file name says 2")));
}

TEST_F(SegmentReaderTest, NewerVersionIsUnimplemented) {
  WriteRandom(2, 10);
  RewriteHeader([](char* h) { EncodeFixed16(h + 8, 2); });
  for (TailPolicy policy :
       {TailPolicy::kTornTailIsEnd, TailPolicy::kExactManifest}) {
    EXPECT_THAT(
        Open(policy, CurrentInfo()),
        StatusIs(absl::StatusCode::kUnimplemented,
                 AllOf(HasSubstr("000001.seg"), HasSubstr("version 2"))));
  }
}

TEST_F(SegmentReaderTest, VersionZeroIsDataLoss) {
  WriteRandom(1, 11);
  RewriteHeader([](char* h) { EncodeFixed16(h + 8, 0); });
  EXPECT_THAT(Open(TailPolicy::kTornTailIsEnd),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("version 0")));
}

TEST_F(SegmentReaderTest, WrongHeaderLengthIsDataLoss) {
  WriteRandom(1, 12);
  RewriteHeader([](char* h) { EncodeFixed16(h + 10, 72); });
  EXPECT_THAT(
      Open(TailPolicy::kTornTailIsEnd),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("header length 72")));
}

TEST_F(SegmentReaderTest, BadRunIdLengthIsDataLoss) {
  WriteRandom(1, 13);
  RewriteHeader([](char* h) { h[16] = 33; });
  EXPECT_THAT(
      Open(TailPolicy::kTornTailIsEnd),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("run id length 33")));
}

TEST_F(SegmentReaderTest, NonzeroHeaderPaddingIsDataLoss) {
  WriteRandom(1, 14);
  RewriteHeader([](char* h) { h[17 + 10] = 'x'; });  // after "run1"
  EXPECT_THAT(Open(TailPolicy::kTornTailIsEnd),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("nonzero")));
}

TEST_F(SegmentReaderTest, NonzeroHeaderReservedIsDataLoss) {
  WriteRandom(1, 15);
  RewriteHeader([](char* h) { h[50] = 1; });
  EXPECT_THAT(Open(TailPolicy::kTornTailIsEnd),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("reserved")));
}

TEST_F(SegmentReaderTest, TornHeaderHasNoChunksUnlessExact) {
  WriteRandom(2, 16);
  const SegmentInfo full = info_;
  const std::string original = Contents();
  for (uint64_t cut = 0; cut < format::kSegmentHeaderSize; ++cut) {
    SCOPED_TRACE(cut);
    SetContents(original.substr(0, cut));
    EXPECT_THAT(ReadAll(TailPolicy::kTornTailIsEnd), IsOkAndHolds(IsEmpty()));
    EXPECT_EQ(last_->ignored_tail_bytes(), cut);
    EXPECT_EQ(last_->valid_length(), 0u);
    EXPECT_THAT(ReadAll(TailPolicy::kExactManifest, full),
                StatusIs(absl::StatusCode::kDataLoss,
                         AllOf(HasSubstr("000001.seg"),
                               HasSubstr(absl::StrCat("offset ", cut)))));
    EXPECT_THAT(ReadAll(TailPolicy::kExactManifest, CurrentInfo()),
                StatusIs(absl::StatusCode::kDataLoss,
                         AllOf(HasSubstr("offset 0"), HasSubstr("truncated"))));
  }
}

TEST_F(SegmentReaderTest, ZeroedHeaderHasNoChunksUnlessExact) {
  WriteRandom(3, 17);
  // A power loss after the size reached the disk but the data did not.
  SetContents(std::string(info_.length, '\0'));
  EXPECT_THAT(ReadAll(TailPolicy::kTornTailIsEnd), IsOkAndHolds(IsEmpty()));
  EXPECT_EQ(last_->ignored_tail_bytes(), info_.length);
  EXPECT_THAT(ReadAll(TailPolicy::kExactManifest, CurrentInfo()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad magic")));
}

// ---- Torn tails ------------------------------------------------------------

// Cuts the file at every byte offset inside its last three chunks.
TEST_F(SegmentReaderTest, TornTailSweep) {
  const std::vector<ReadChunk> all = WriteRandom(8, 18);
  const SegmentInfo full = info_;
  const std::string original = Contents();
  const uint64_t first_cut = all[all.size() - 3].offset;
  for (uint64_t cut = first_cut; cut < full.length; ++cut) {
    SCOPED_TRACE(absl::StrCat("cut at ", cut));
    SetContents(original.substr(0, cut));
    std::vector<ReadChunk> complete;
    uint64_t end = format::kSegmentHeaderSize;
    for (const ReadChunk& c : all) {
      const uint64_t c_end =
          c.offset + format::kChunkHeaderSize + c.payload.size();
      if (c_end > cut) break;
      complete.push_back(c);
      end = c_end;
    }

    ASSERT_THAT(ReadAll(TailPolicy::kTornTailIsEnd), IsOkAndHolds(complete));
    EXPECT_EQ(last_->valid_length(), end);
    EXPECT_EQ(last_->ignored_tail_bytes(), cut - end);

    EXPECT_THAT(ReadAll(TailPolicy::kExactManifest, full),
                StatusIs(absl::StatusCode::kDataLoss,
                         AllOf(HasSubstr(Path()),
                               HasSubstr(absl::StrCat("length ", cut)),
                               HasSubstr(absl::StrCat("offset ", cut)))));

    // A manifest that matches the torn file byte for byte still must not
    // accept a chunk cut in half.
    absl::StatusOr<std::vector<ReadChunk>> exact =
        ReadAll(TailPolicy::kExactManifest, CurrentInfo());
    if (cut == end) {
      EXPECT_THAT(exact, IsOkAndHolds(complete));
    } else {
      EXPECT_THAT(
          exact,
          StatusIs(absl::StatusCode::kDataLoss,
                   AllOf(HasSubstr(Path()),
                         HasSubstr(absl::StrCat("chunk at offset ", end)))));
    }
  }
}

TEST_F(SegmentReaderTest, ZeroFilledTailIsIgnored) {
  const std::vector<ReadChunk> all = WriteRandom(4, 19);
  SetContents(Contents() + std::string(4096, '\0'));
  EXPECT_THAT(ReadAll(TailPolicy::kTornTailIsEnd), IsOkAndHolds(all));
  EXPECT_EQ(last_->ignored_tail_bytes(), 4096u);
  EXPECT_THAT(ReadAll(TailPolicy::kExactManifest, CurrentInfo()),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr(absl::StrCat("chunk at offset ", info_.length,
                                              ": checksum mismatch"))));
}

TEST_F(SegmentReaderTest, DamagedChunkEndsDataInTornMode) {
  const std::vector<ReadChunk> all = WriteRandom(6, 20);
  std::string data = Contents();
  data[all[3].offset + format::kChunkHeaderSize + 0] ^= 0x40;
  ASSERT_FALSE(all[3].payload.empty());
  SetContents(data);
  EXPECT_THAT(
      ReadAll(TailPolicy::kTornTailIsEnd),
      IsOkAndHolds(std::vector<ReadChunk>(all.begin(), all.begin() + 3)));
  EXPECT_EQ(last_->ignored_tail_bytes(), info_.length - all[3].offset);
}

// ---- Bit flips -------------------------------------------------------------

class BitFlipTest : public SegmentReaderTest {
 protected:
  void SetUp() override {
    SegmentReaderTest::SetUp();
    chunks_ = WriteRandom(10, 21);
    original_ = Contents();
    for (const ReadChunk& c : chunks_) {
      for (uint64_t i = 0; i < format::kChunkHeaderSize * 8; ++i) {
        header_bits_.push_back(c.offset * 8 + i);
      }
      for (uint64_t i = 0; i < c.payload.size() * 8; ++i) {
        payload_bits_.push_back((c.offset + format::kChunkHeaderSize) * 8 + i);
      }
    }
    for (uint64_t i = 0; i < format::kSegmentHeaderSize * 8; ++i) {
      header_bits_.push_back(i);
    }
  }

  // Flips `bit` and reads the whole file with kExactManifest, the manifest
  // being the original entry or, with `recompute`, one that matches the
  // flipped file (so only the header and chunk checks can catch it).
  absl::Status FlipAndRead(uint64_t bit, bool recompute) {
    std::string data = original_;
    data[bit / 8] = static_cast<char>(data[bit / 8] ^ (1 << (bit % 8)));
    SetContents(data);
    const SegmentInfo expected =
        recompute ? SegmentInfo{1, data.size(), Checksum64(data)} : info_;
    return ReadAll(TailPolicy::kExactManifest, expected).status();
  }

  std::vector<ReadChunk> chunks_;
  std::string original_;
  std::vector<uint64_t> header_bits_;   // segment and chunk headers, all bits
  std::vector<uint64_t> payload_bits_;  // every payload bit
};

TEST_F(BitFlipTest, EveryHeaderBitIsDetected) {
  ASSERT_EQ(header_bits_.size(), (format::kSegmentHeaderSize +
                                  chunks_.size() * format::kChunkHeaderSize) *
                                     8);
  for (bool recompute : {false, true}) {
    for (uint64_t bit : header_bits_) {
      absl::Status s = FlipAndRead(bit, recompute);
      EXPECT_FALSE(s.ok()) << "bit " << bit << " recompute " << recompute;
      if (!recompute) {
        EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss,
                                AllOf(HasSubstr(Path()), HasSubstr("offset"))))
            << "bit " << bit;
      }
    }
  }
}

TEST_F(BitFlipTest, SampledPayloadBitsAreDetected) {
  std::mt19937_64 rng(22);
  std::vector<uint64_t> sample = payload_bits_;
  std::shuffle(sample.begin(), sample.end(), rng);
  ASSERT_GE(sample.size(), 2000u);
  sample.resize(2000);
  for (bool recompute : {false, true}) {
    for (uint64_t bit : sample) {
      EXPECT_THAT(
          FlipAndRead(bit, recompute),
          StatusIs(absl::StatusCode::kDataLoss,
                   AllOf(HasSubstr(Path()), HasSubstr("checksum mismatch"))))
          << "bit " << bit << " recompute " << recompute;
    }
  }
}

TEST_F(SegmentReaderTest, ChecksumMismatchNamesTheDamagedChunk) {
  const std::vector<ReadChunk> all = WriteRandom(5, 23);
  std::string data = Contents();
  data[all[2].offset + format::kChunkHeaderSize + 1] ^= 0x01;
  SetContents(data);
  EXPECT_THAT(
      Open(TailPolicy::kExactManifest, info_),
      StatusIs(
          absl::StatusCode::kDataLoss,
          AllOf(HasSubstr("000001.seg: checksum mismatch"),
                HasSubstr(absl::StrCat("chunk at offset ", all[2].offset)))));
}

TEST_F(SegmentReaderTest, ReplacedFileIsDataLoss) {
  Write({{format::kChunkRecords, "aaaa"}});
  const SegmentInfo first = info_;
  RUNLOG_ASSERT_OK(fs_->RemoveFile(Path()));
  Write({{format::kChunkRecords, "bbbb"}});  // valid, same length
  ASSERT_EQ(info_.length, first.length);
  EXPECT_THAT(Open(TailPolicy::kExactManifest, first),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("checksum mismatch"),
                             HasSubstr("from offset 0 is intact"))));
}

// ---- Chunk fields ----------------------------------------------------------

TEST_F(SegmentReaderTest, UnknownIgnorableTypeIsSkipped) {
  const std::vector<ReadChunk> all = Write({{format::kChunkRecords, "a"},
                                            {0x90, "from the future"},
                                            {format::kChunkBlob, "b"}});
  for (TailPolicy policy :
       {TailPolicy::kTornTailIsEnd, TailPolicy::kExactManifest}) {
    EXPECT_THAT(ReadAll(policy, info_),
                IsOkAndHolds(ElementsAre(all[0], all[2])));
    EXPECT_EQ(last_->ignored_tail_bytes(), 0u);
  }
}

TEST_F(SegmentReaderTest, UnknownTypeWithoutIgnorableBitIsUnimplemented) {
  const std::vector<ReadChunk> all = Write({{format::kChunkRecords, "a"},
                                            {0x05, "newer"},
                                            {format::kChunkBlob, "b"}});
  for (TailPolicy policy :
       {TailPolicy::kTornTailIsEnd, TailPolicy::kExactManifest}) {
    auto reader = Open(policy, info_);
    ASSERT_THAT(reader, IsOk());
    Chunk chunk;
    EXPECT_THAT((*reader)->Next(&chunk), IsOkAndHolds(true));
    const auto unimplemented = StatusIs(
        absl::StatusCode::kUnimplemented,
        AllOf(HasSubstr("000001.seg"),
              HasSubstr(absl::StrCat("chunk at offset ", all[1].offset)),
              HasSubstr("0x05")));
    EXPECT_THAT((*reader)->Next(&chunk), unimplemented);
    EXPECT_THAT((*reader)->Next(&chunk), unimplemented);  // sticky
  }
}

TEST_F(SegmentReaderTest, OversizeDeclaredLengthIsRejected) {
  const std::vector<ReadChunk> all = WriteRandom(4, 25);
  RewriteChunkHeader(all[2].offset, [](char* h) {
    EncodeFixed32(h + 8, format::kMaxChunkPayload + 1);
  });
  EXPECT_THAT(
      ReadAll(TailPolicy::kTornTailIsEnd),
      IsOkAndHolds(std::vector<ReadChunk>(all.begin(), all.begin() + 2)));
  EXPECT_EQ(last_->ignored_tail_bytes(), info_.length - all[2].offset);
  EXPECT_THAT(
      ReadAll(TailPolicy::kExactManifest, CurrentInfo()),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr(absl::StrCat("chunk at offset ", all[2].offset)),
                     HasSubstr("declared length 67108865"))));
}

TEST_F(SegmentReaderTest, LengthPastEndOfFileIsTornOrDataLoss) {
  const std::vector<ReadChunk> all = WriteRandom(3, 26);
  RewriteChunkHeader(all[2].offset, [](char* h) {
    EncodeFixed32(h + 8, DecodeFixed32(h + 8) + 1);
  });
  EXPECT_THAT(
      ReadAll(TailPolicy::kTornTailIsEnd),
      IsOkAndHolds(std::vector<ReadChunk>(all.begin(), all.begin() + 2)));
  EXPECT_THAT(ReadAll(TailPolicy::kExactManifest, CurrentInfo()),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("runs past the end of the file by 1 bytes")));
}

TEST_F(SegmentReaderTest, NonzeroChunkReservedBytesAreDamage) {
  const std::vector<ReadChunk> all = WriteRandom(3, 27);
  RewriteChunkHeader(all[1].offset, [](char* h) { h[14] = 1; });
  EXPECT_THAT(ReadAll(TailPolicy::kTornTailIsEnd),
              IsOkAndHolds(ElementsAre(all[0])));
  EXPECT_THAT(
      ReadAll(TailPolicy::kExactManifest, CurrentInfo()),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr(absl::StrCat("chunk at offset ", all[1].offset)),
                     HasSubstr("nonzero reserved bytes"))));
}

TEST_F(SegmentReaderTest, ChangedTypeFailsChecksum) {
  const std::vector<ReadChunk> all = WriteRandom(2, 28);
  std::string data = Contents();
  data[all[1].offset + 12] = static_cast<char>(
      format::kChunkBlob ^ format::kChunkRecords ^ all[1].type);
  SetContents(data);
  EXPECT_THAT(
      ReadAll(TailPolicy::kExactManifest, CurrentInfo()),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum mismatch")));
}

TEST_F(SegmentReaderTest, ExactLengthMismatchNamesBothLengths) {
  WriteRandom(2, 29);
  SegmentInfo longer = info_;
  longer.length += 10;
  EXPECT_THAT(
      Open(TailPolicy::kExactManifest, longer),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr(absl::StrCat("000001.seg: length ", info_.length,
                                      ", manifest says ", longer.length))));
}

TEST_F(SegmentReaderTest, TooLongRunIdIsInvalidArgument) {
  WriteRandom(1, 30);
  EXPECT_THAT(SegmentReader::Open(fs_, Path(), std::string(33, 'a'),
                                  TailPolicy::kTornTailIsEnd),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("longer than 32")));
}

}  // namespace
}  // namespace runlog::storage
