#include "storage/run_catalog.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/checksum.h"
#include "storage/clock.h"
#include "storage/coding.h"
#include "storage/commit_manifest.h"
#include "storage/fault_file_system.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/recovery.h"
#include "storage/run_store.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/status_matchers.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::FakeSystemProbe;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ListDetail = RunStore::ListDetail;

constexpr char kRoot[] = "/repo";
constexpr char kCatalog[] = "/repo/CATALOG";

CommitManifest Manifest(const std::string& id, absl::string_view summary) {
  CommitManifest m;
  m.run_id = id;
  m.status = format::RunStatus::kFailed;
  m.end_time = absl::FromUnixMicros(1'700'000'000'123'456);
  m.reason = "diverged";
  m.summary = std::string(summary);
  m.segments.push_back({1, 100, 42, format::SegmentKind::kLog});
  return m;
}

// Re-seals a hand-edited catalog with a correct trailing checksum, so a test
// reaches the check behind the checksum.
std::string Reseal(std::string bytes) {
  bytes.resize(bytes.size() - 8);
  PutFixed64(&bytes, Checksum64(bytes));
  return bytes;
}

TEST(RunCatalogCodecTest, RoundTripDropsSegmentLists) {
  std::vector<CommitManifest> in = {Manifest("0a", "s1"),
                                    Manifest("0b", std::string(5000, 'x'))};
  in[1].status = format::RunStatus::kFinished;
  in[1].reason.clear();
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeRunCatalog(in));
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::vector<CommitManifest> out,
                              DecodeRunCatalog(bytes, "CATALOG"));
  ASSERT_THAT(out, SizeIs(2));
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(out[i].run_id, in[i].run_id);
    EXPECT_EQ(out[i].status, in[i].status);
    EXPECT_EQ(out[i].end_time, in[i].end_time);
    EXPECT_EQ(out[i].reason, in[i].reason);
    EXPECT_EQ(out[i].summary, in[i].summary);
    EXPECT_THAT(out[i].segments, IsEmpty());
  }
}

TEST(RunCatalogCodecTest, EmptyCatalog) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeRunCatalog({}));
  EXPECT_EQ(bytes.size(), format::kCatalogHeaderSize + 8);
  EXPECT_THAT(DecodeRunCatalog(bytes, "CATALOG"), IsOk());
}

TEST(RunCatalogCodecTest, BadRunIdIsInvalidArgument) {
  EXPECT_THAT(EncodeRunCatalog({Manifest("../x", "")}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

class RunCatalogDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = *EncodeRunCatalog({Manifest("0a", "s1"), Manifest("0b", "s2")});
  }
  absl::Status Decode(const std::string& bytes) {
    return DecodeRunCatalog(bytes, "/repo/CATALOG").status();
  }
  std::string bytes_;
};

TEST_F(RunCatalogDamageTest, TooShort) {
  EXPECT_THAT(Decode(bytes_.substr(0, 20)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("/repo/CATALOG: offset 0: truncated")));
}

TEST_F(RunCatalogDamageTest, BadMagic) {
  bytes_[0] = 'X';
  EXPECT_THAT(Decode(bytes_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad magic")));
}

TEST_F(RunCatalogDamageTest, FlippedByteFailsTheChecksum) {
  bytes_[40] ^= 1;
  EXPECT_THAT(Decode(bytes_), StatusIs(absl::StatusCode::kDataLoss,
                                       HasSubstr("checksum mismatch")));
}

TEST_F(RunCatalogDamageTest, NewerVersionIsUnimplemented) {
  bytes_[8] = 9;
  EXPECT_THAT(Decode(Reseal(bytes_)),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("catalog format version 9")));
}

TEST_F(RunCatalogDamageTest, HugeCountIsRejectedBeforeReserving) {
  EncodeFixed32(&bytes_[12], 0xffffffffu);
  EXPECT_THAT(Decode(Reseal(bytes_)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("offset 12: entry count 4294967295")));
}

TEST_F(RunCatalogDamageTest, EntryLengthPastTheEnd) {
  EncodeFixed32(&bytes_[16], 1u << 30);
  EXPECT_THAT(Decode(Reseal(bytes_)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("offset 16: entry 0 length 1073741824")));
}

TEST_F(RunCatalogDamageTest, DamagedEntryNamesItsOffset) {
  bytes_[16 + 4 + 30] ^= 1;  // inside entry 0's run id, behind its checksum
  EXPECT_THAT(Decode(Reseal(bytes_)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("offset 20")));
}

TEST_F(RunCatalogDamageTest, EntryWithSegmentsIsRejected) {
  // A catalog holds no segment lists; one that does was not written by us.
  std::string bytes(format::kCatalogMagic, 8);
  PutFixed16(&bytes, format::kCatalogFormatVersion);
  PutFixed16(&bytes, 0);
  PutFixed32(&bytes, 1);
  const std::string entry = *EncodeCommitManifest(Manifest("0a", ""));
  PutFixed32(&bytes, static_cast<uint32_t>(entry.size()));
  bytes += entry;
  PutFixed64(&bytes, Checksum64(bytes));
  EXPECT_THAT(Decode(bytes), StatusIs(absl::StatusCode::kDataLoss,
                                      HasSubstr("entry 0 lists segments")));
}

TEST_F(RunCatalogDamageTest, TrailingBytes) {
  bytes_.insert(bytes_.size() - 8, "zz");
  EXPECT_THAT(Decode(Reseal(bytes_)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("2 bytes follow the last entry")));
}

// Listing through the catalog against listing every run.
class CatalogListingTest : public ::testing::Test {
 protected:
  CatalogListingTest()
      : clock_(absl::FromUnixSeconds(1'700'000'000)),
        mem_(&clock_),
        fs_(&mem_) {
    RunStoreOptions o;
    o.create_if_missing = true;
    o.fs = &fs_;
    o.clock = &clock_;
    o.probe = &probe_;
    o.staleness = absl::Minutes(10);
    store_ = *RunStore::Open(kRoot, o);
    fs_.set_observer([this](FsOp op, const std::string& path) {
      if (op == FsOp::kOpen) opened_.insert(path);
    });
  }

  std::string Committed(absl::string_view summary = "sum") {
    clock_.Advance(absl::Milliseconds(1));
    auto w = *store_->CreateRun();
    EXPECT_THAT(w->AppendChunk(format::kChunkRecords, "data"), IsOk());
    EXPECT_THAT(w->Commit(format::RunStatus::kFinished, clock_.Now(), "",
                          std::string(summary)),
                IsOk());
    return w->id();
  }
  std::string Uncommitted() {
    clock_.Advance(absl::Milliseconds(1));
    auto w = *store_->CreateRun();
    EXPECT_THAT(w->Close(), IsOk());
    return w->id();
  }
  std::vector<RunEntry> List(ListDetail detail) {
    opened_.clear();
    auto runs = store_->ListRuns(detail);
    EXPECT_THAT(runs, IsOk());
    return runs.ok() ? *std::move(runs) : std::vector<RunEntry>{};
  }
  std::vector<std::string> CatalogIds() {
    std::vector<std::string> ids;
    auto catalog = ReadRunCatalog(mem_, kRoot);
    EXPECT_THAT(catalog, IsOk());
    if (catalog.ok()) {
      for (const CommitManifest& m : *catalog) ids.push_back(m.run_id);
    }
    return ids;
  }
  bool OpenedACommit() const {
    for (const std::string& p : opened_) {
      if (absl::EndsWith(p, "/COMMIT")) return true;
    }
    return false;
  }
  void Corrupt(const std::string& path) {
    std::string bytes = *ReadFileToString(mem_, path, 1 << 20);
    bytes[bytes.size() / 2] ^= 0x55;
    ASSERT_THAT(mem_.RemoveFile(path), IsOk());
    ASSERT_THAT(WriteNewFileSynced(mem_, path, bytes), IsOk());
  }

  ManualClock clock_;
  MemFileSystem mem_;
  FaultInjectingFileSystem fs_;
  FakeSystemProbe probe_;
  std::unique_ptr<RunStore> store_;
  std::set<std::string> opened_;
};

TEST_F(CatalogListingTest, SummaryListingMatchesTheFullOne) {
  const std::string a = Committed("alpha");
  const std::string live = Uncommitted();
  const std::string b = Committed("beta");
  for (int pass = 0; pass < 2; ++pass) {  // builds the catalog, then uses it
    SCOPED_TRACE(pass);
    std::vector<RunEntry> full = List(ListDetail::kFull);
    std::vector<RunEntry> quick = List(ListDetail::kSummary);
    ASSERT_THAT(quick, SizeIs(full.size()));
    for (size_t i = 0; i < full.size(); ++i) {
      EXPECT_EQ(quick[i].id, full[i].id);
      EXPECT_EQ(quick[i].state, full[i].state);
      ASSERT_EQ(quick[i].manifest.has_value(), full[i].manifest.has_value());
      if (!full[i].manifest) continue;
      EXPECT_EQ(quick[i].manifest->status, full[i].manifest->status);
      EXPECT_EQ(quick[i].manifest->end_time, full[i].manifest->end_time);
      EXPECT_EQ(quick[i].manifest->summary, full[i].manifest->summary);
    }
  }
  EXPECT_EQ(CatalogIds(), (std::vector<std::string>{a, b}));
  (void)live;
}

TEST_F(CatalogListingTest, SecondListingReadsNoCommit) {
  Committed();
  Committed();
  List(ListDetail::kSummary);
  EXPECT_TRUE(OpenedACommit());
  const int64_t renames = fs_.count(FsOp::kRename);
  std::vector<RunEntry> runs = List(ListDetail::kSummary);
  EXPECT_THAT(runs, SizeIs(2));
  EXPECT_FALSE(OpenedACommit());
  EXPECT_EQ(fs_.count(FsOp::kRename), renames);  // the catalog not rewritten
}

TEST_F(CatalogListingTest, DeletedRunLeavesTheListingAtOnce) {
  const std::string a = Committed();
  const std::string b = Committed();
  List(ListDetail::kSummary);
  ASSERT_THAT(store_->DeleteRun(a), IsOk());
  std::vector<RunEntry> runs = List(ListDetail::kSummary);
  ASSERT_THAT(runs, SizeIs(1));
  EXPECT_EQ(runs[0].id, b);
}

TEST_F(CatalogListingTest, StaleEntriesAreDroppedOnceAQuarter) {
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(Committed());
  List(ListDetail::kSummary);
  ASSERT_THAT(store_->DeleteRun(ids[0]), IsOk());
  ASSERT_THAT(store_->DeleteRun(ids[1]), IsOk());
  List(ListDetail::kSummary);
  EXPECT_THAT(CatalogIds(), SizeIs(8));  // 2 of 8 stale: kept as it is
  ASSERT_THAT(store_->DeleteRun(ids[2]), IsOk());
  List(ListDetail::kSummary);
  EXPECT_EQ(CatalogIds(),
            (std::vector<std::string>(ids.begin() + 3, ids.end())));
}

TEST_F(CatalogListingTest, NewCommitsAreAdded) {
  const std::string a = Committed();
  const std::string live = Uncommitted();
  List(ListDetail::kSummary);
  EXPECT_EQ(CatalogIds(), (std::vector<std::string>{a}));
  const std::string b = Committed();
  List(ListDetail::kSummary);
  EXPECT_EQ(CatalogIds(), (std::vector<std::string>{a, b}));
  (void)live;
}

TEST_F(CatalogListingTest, DamagedCatalogIsIgnoredAndRewritten) {
  const std::string a = Committed("alpha");
  List(ListDetail::kSummary);
  Corrupt(kCatalog);
  std::vector<RunEntry> runs = List(ListDetail::kSummary);
  ASSERT_THAT(runs, SizeIs(1));
  EXPECT_EQ(runs[0].manifest->summary, "alpha");
  EXPECT_TRUE(OpenedACommit());
  EXPECT_EQ(CatalogIds(), (std::vector<std::string>{a}));
}

TEST_F(CatalogListingTest, DamagedCommitIsNeverCached) {
  const std::string a = Committed();
  Corrupt(JoinPath(store_->RunDir(a), format::kCommitFileName));
  std::vector<RunEntry> runs = List(ListDetail::kSummary);
  ASSERT_THAT(runs, SizeIs(1));
  EXPECT_THAT(runs[0].manifest_error,
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  EXPECT_THAT(CatalogIds(), IsEmpty());
}

TEST_F(CatalogListingTest, WriteFailureStillLists) {
  const std::string a = Committed();
  fs_.FailNth(FsOp::kRename, 1, EROFS, /*persistent=*/true);
  std::vector<RunEntry> runs = List(ListDetail::kSummary);
  ASSERT_THAT(runs, SizeIs(1));
  EXPECT_EQ(runs[0].id, a);
  fs_.ClearFaults();
  // The failed write left no temporary file behind.
  const std::vector<std::string> names = *mem_.ListDir(kRoot);
  for (const std::string& name : names) {
    EXPECT_FALSE(IsCatalogTempFileName(name)) << name;
  }
  EXPECT_THAT(mem_.Stat(kCatalog),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST_F(CatalogListingTest, RecoveryRemovesOnlyStaleCatalogTemporaries) {
  ASSERT_THAT(
      WriteNewFileSynced(mem_, "/repo/CATALOG.tmp.00000000000000aa", "partial"),
      IsOk());
  auto young = Recover(*store_, /*dry_run=*/false);
  ASSERT_THAT(young, IsOk());
  EXPECT_THAT(young->actions, IsEmpty());
  clock_.Advance(absl::Minutes(11));
  auto old = Recover(*store_, /*dry_run=*/false);
  ASSERT_THAT(old, IsOk());
  ASSERT_THAT(old->actions, SizeIs(1));
  EXPECT_EQ(old->actions[0].kind, RecoveryAction::Kind::kRemoveTempFile);
  EXPECT_EQ(old->actions[0].path, "/repo/CATALOG.tmp.00000000000000aa");
  EXPECT_THAT(mem_.Stat("/repo/CATALOG.tmp.00000000000000aa"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

}  // namespace
}  // namespace runlog::storage
