#include "storage/run_reader.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/run_store.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/status_matchers.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::FakeSystemProbe;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::HasSubstr;

class RunReaderTest : public ::testing::Test {
 protected:
  RunReaderTest() : clock_(absl::FromUnixSeconds(1'700'000'000)), fs_(&clock_) {
    RunStoreOptions o;
    o.create_if_missing = true;
    o.fs = &fs_;
    o.clock = &clock_;
    o.probe = &probe_;
    store_ = *RunStore::Open("/repo", o);
  }

  // Writes `n` chunks into a run whose segments roll every ~300 bytes.
  std::unique_ptr<RunWriter> Write(int n) {
    RunWriterOptions o;
    o.segment_roll_size = 300;
    o.buffer_size = 1;
    auto w = *store_->CreateRun(o);
    for (int i = 0; i < n; ++i) {
      EXPECT_THAT(w->AppendChunk(format::kChunkRecords, Payload(i)), IsOk());
    }
    EXPECT_THAT(w->Flush(), IsOk());
    return w;
  }
  static std::string Payload(int i) {
    return absl::StrCat("chunk-", i, std::string(40, 'p'));
  }
  absl::StatusOr<std::vector<std::string>> ReadAll(const std::string& id) {
    auto reader = RunReader::Open(&fs_, store_->RunDir(id), id);
    if (!reader.ok()) return reader.status();
    std::vector<std::string> out;
    Chunk chunk;
    while (true) {
      absl::StatusOr<bool> more = (*reader)->Next(&chunk);
      if (!more.ok()) return more.status();
      if (!*more) return out;
      out.emplace_back(chunk.payload);
    }
  }
  std::string Seg(const std::string& id, int n) {
    return JoinPath(store_->RunDir(id), SegmentFileName(n));
  }

  ManualClock clock_;
  MemFileSystem fs_;
  FakeSystemProbe probe_;
  std::unique_ptr<RunStore> store_;
};

TEST_F(RunReaderTest, LiveRunReadsEveryFlushedChunkAcrossSegments) {
  auto w = Write(12);
  ASSERT_TRUE(fs_.Stat(Seg(w->id(), 2)).ok()) << "expected several segments";
  auto chunks = ReadAll(w->id());
  ASSERT_THAT(chunks, IsOk());
  ASSERT_EQ(chunks->size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ((*chunks)[i], Payload(i));
}

TEST_F(RunReaderTest, CommittedRunReadsTheSameChunks) {
  auto w = Write(12);
  ASSERT_THAT(w->Commit(format::RunStatus::kFinished, clock_.Now(), "", ""),
              IsOk());
  auto chunks = ReadAll(w->id());
  ASSERT_THAT(chunks, IsOk());
  EXPECT_EQ(chunks->size(), 12u);
}

TEST_F(RunReaderTest, LiveTornTailIsTheEndOfData) {
  auto w = Write(3);
  const std::string path = Seg(w->id(), 1);
  std::string bytes = *fs_.Contents(path);
  ASSERT_THAT(fs_.SetContents(path, bytes.substr(0, bytes.size() - 5)), IsOk());
  auto chunks = ReadAll(w->id());
  ASSERT_THAT(chunks, IsOk());
  EXPECT_LT(chunks->size(), 3u);
  for (size_t i = 0; i < chunks->size(); ++i)
    EXPECT_EQ((*chunks)[i], Payload(i));
}

TEST_F(RunReaderTest, LiveReadStopsAtATornSegmentEvenIfLaterOnesExist) {
  auto w = Write(12);
  const std::string path = Seg(w->id(), 1);
  std::string bytes = *fs_.Contents(path);
  ASSERT_THAT(fs_.SetContents(path, bytes.substr(0, bytes.size() - 1)), IsOk());
  auto chunks = ReadAll(w->id());
  ASSERT_THAT(chunks, IsOk());
  // No hole: everything returned is a prefix of what was written.
  for (size_t i = 0; i < chunks->size(); ++i)
    EXPECT_EQ((*chunks)[i], Payload(i));
  EXPECT_LT(chunks->size(), 12u);
}

TEST_F(RunReaderTest, CommittedTruncationIsDataLossNamingTheFile) {
  auto w = Write(12);
  ASSERT_THAT(w->Commit(format::RunStatus::kFinished, clock_.Now(), "", ""),
              IsOk());
  const std::string path = Seg(w->id(), 2);
  std::string bytes = *fs_.Contents(path);
  ASSERT_THAT(fs_.SetContents(path, bytes.substr(0, bytes.size() - 1)), IsOk());
  EXPECT_THAT(ReadAll(w->id()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
}

TEST_F(RunReaderTest, CommittedMissingSegmentIsDataLoss) {
  auto w = Write(12);
  ASSERT_THAT(w->Commit(format::RunStatus::kFinished, clock_.Now(), "", ""),
              IsOk());
  const std::string path = Seg(w->id(), 2);
  ASSERT_THAT(fs_.RemoveFile(path), IsOk());
  EXPECT_THAT(ReadAll(w->id()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
}

TEST_F(RunReaderTest, MissingRunIsNotFound) {
  EXPECT_THAT(RunReader::Open(&fs_, store_->RunDir("0nope"), "0nope"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

}  // namespace
}  // namespace runlog::storage
