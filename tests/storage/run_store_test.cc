#include "storage/run_store.h"

#include <errno.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/commit_manifest.h"
#include "storage/fault_file_system.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/owner_liveness.h"
#include "storage/recovery.h"
#include "storage/run_reader.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/stale_dir_file_system.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::FakeSystemProbe;
using ::runlog::testing::IsOk;
using ::runlog::testing::StaleDirFileSystem;
using ::runlog::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

class RunStoreTest : public ::testing::Test {
 protected:
  RunStoreTest() : clock_(absl::FromUnixSeconds(1'700'000'000)), fs_(&clock_) {}

  RunStoreOptions Options(bool create = true) {
    RunStoreOptions o;
    o.create_if_missing = create;
    o.fs = &fs_;
    o.clock = &clock_;
    o.probe = &probe_;
    return o;
  }

  std::unique_ptr<RunStore> OpenStore() {
    auto store = RunStore::Open("/repo", Options());
    EXPECT_THAT(store, IsOk());
    return store.ok() ? *std::move(store) : nullptr;
  }

  // Creates a run with `chunks` payloads and commits it; returns its id.
  std::string WriteCommitted(
      RunStore& store, int chunks,
      format::RunStatus status = format::RunStatus::kFinished) {
    auto w = store.CreateRun();
    EXPECT_THAT(w, IsOk());
    for (int i = 0; i < chunks; ++i) {
      EXPECT_THAT(
          (*w)->AppendChunk(format::kChunkRecords, absl::StrCat("payload-", i)),
          IsOk());
    }
    EXPECT_THAT((*w)->Commit(status, clock_.Now(), "", "summary"), IsOk());
    clock_.Advance(absl::Milliseconds(5));
    return (*w)->id();
  }

  std::vector<std::string> ReadPayloads(RunStore& store,
                                        const std::string& id) {
    std::vector<std::string> out;
    auto reader = RunReader::Open(&fs_, store.RunDir(id), id);
    EXPECT_THAT(reader, IsOk());
    if (!reader.ok()) return out;
    Chunk chunk;
    while (true) {
      absl::StatusOr<bool> more = (*reader)->Next(&chunk);
      EXPECT_THAT(more, IsOk());
      if (!more.ok() || !*more) break;
      out.emplace_back(chunk.payload);
    }
    return out;
  }

  ManualClock clock_;
  MemFileSystem fs_;
  FakeSystemProbe probe_;
};

TEST_F(RunStoreTest, OpenMissingRepoIsNotFound) {
  EXPECT_THAT(RunStore::Open("/nowhere", Options(/*create=*/false)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nowhere")));
}

TEST_F(RunStoreTest, OpenPlainDirectoryIsFailedPrecondition) {
  ASSERT_THAT(fs_.CreateDir("/plain"), IsOk());
  EXPECT_THAT(RunStore::Open("/plain", Options(/*create=*/false)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not a runlog repository")));
}

TEST_F(RunStoreTest, CreateThenReopenWithoutCreate) {
  ASSERT_NE(OpenStore(), nullptr);
  EXPECT_THAT(RunStore::Open("/repo", Options(/*create=*/false)), IsOk());
  auto marker = fs_.Contents("/repo/RUNLOG");
  ASSERT_THAT(marker, IsOk());
  EXPECT_EQ(marker->size(), format::kRepoMarkerSize);
  EXPECT_EQ(marker->substr(0, 8), "RUNLOGRP");
}

TEST_F(RunStoreTest, DamagedMarkerIsDataLoss) {
  ASSERT_NE(OpenStore(), nullptr);
  std::string marker = *fs_.Contents("/repo/RUNLOG");
  marker[10] ^= 1;  // reserved byte, covered by the checksum
  ASSERT_THAT(fs_.SetContents("/repo/RUNLOG", marker), IsOk());
  EXPECT_THAT(RunStore::Open("/repo", Options(false)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("/repo/RUNLOG")));
}

TEST_F(RunStoreTest, TruncatedMarkerIsDataLoss) {
  ASSERT_NE(OpenStore(), nullptr);
  std::string marker = *fs_.Contents("/repo/RUNLOG");
  ASSERT_THAT(fs_.SetContents("/repo/RUNLOG", marker.substr(0, 7)), IsOk());
  EXPECT_THAT(RunStore::Open("/repo", Options(false)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("/repo/RUNLOG")));
}

TEST_F(RunStoreTest, MissingRunsDirIsDataLoss) {
  ASSERT_NE(OpenStore(), nullptr);
  ASSERT_THAT(fs_.RemoveDir("/repo/runs"), IsOk());
  EXPECT_THAT(RunStore::Open("/repo", Options(false)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("/repo/runs")));
}

TEST_F(RunStoreTest, CreateRunMakesDirectoryOwnerAndSegment) {
  auto store = OpenStore();
  auto w = store->CreateRun();
  ASSERT_THAT(w, IsOk());
  const std::string dir = store->RunDir((*w)->id());
  auto names = fs_.ListDir(dir);
  ASSERT_THAT(names, IsOk());
  EXPECT_THAT(*names, ElementsAre("000001.seg", "OWNER"));
  auto owner_text = fs_.Contents(JoinPath(dir, "OWNER"));
  ASSERT_THAT(owner_text, IsOk());
  auto owner = DecodeOwner(*owner_text, "OWNER");
  ASSERT_THAT(owner, IsOk());
  EXPECT_EQ(owner->pid, probe_.self_pid());
  EXPECT_EQ(owner->host.boot_id, "boot-1");
}

TEST_F(RunStoreTest, RunIdsAreUniqueAndTimeOrdered) {
  auto store = OpenStore();
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto w = store->CreateRun();
    ASSERT_THAT(w, IsOk());
    ids.push_back((*w)->id());
    if (i % 2) clock_.Advance(absl::Milliseconds(1));
  }
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_NE(ids[i - 1], ids[i]);
    if (i % 2 == 0) {
      EXPECT_LT(ids[i - 1], ids[i]);
    }
  }
}

TEST_F(RunStoreTest, ListShowsCommittedAndLiveRunsInCreationOrder) {
  auto store = OpenStore();
  const std::string a = WriteCommitted(*store, 3);
  auto live = store->CreateRun();
  ASSERT_THAT(live, IsOk());
  ASSERT_THAT((*live)->Flush(), IsOk());
  auto runs = store->ListRuns();
  ASSERT_THAT(runs, IsOk());
  ASSERT_THAT(*runs, SizeIs(2));
  EXPECT_EQ((*runs)[0].id, a);
  EXPECT_EQ((*runs)[0].state, RunState::kCommitted);
  ASSERT_TRUE((*runs)[0].manifest.has_value());
  EXPECT_EQ((*runs)[0].manifest->summary, "summary");
  EXPECT_EQ((*runs)[1].id, (*live)->id());
  EXPECT_EQ((*runs)[1].state, RunState::kLive);
  EXPECT_GT((*runs)[0].bytes_on_disk, 0u);
}

TEST_F(RunStoreTest, ListLooksTwiceAtARunDirectoryWithAStaleHandle) {
  StaleDirFileSystem stale(&fs_);
  RunStoreOptions o = Options();
  o.fs = &stale;
  auto store = RunStore::Open("/repo", o);
  ASSERT_THAT(store, IsOk());
  const std::string id = WriteCommitted(**store, 2);
  stale.stale_dir = (*store)->RunDir(id);
  stale.failures = 1;
  auto runs = (*store)->ListRuns();
  ASSERT_THAT(runs, IsOk());
  ASSERT_THAT(*runs, SizeIs(1));
  EXPECT_EQ((*runs)[0].state, RunState::kCommitted);
  EXPECT_EQ(stale.failures, 0);
}

TEST_F(RunStoreTest, ListKeepsARunItCannotReadAsUnknown) {
  StaleDirFileSystem stale(&fs_);
  RunStoreOptions o = Options();
  o.fs = &stale;
  auto store = RunStore::Open("/repo", o);
  ASSERT_THAT(store, IsOk());
  const std::string a = WriteCommitted(**store, 1);
  const std::string b = WriteCommitted(**store, 1);
  stale.stale_dir = (*store)->RunDir(a);
  stale.failures = 1'000;
  auto runs = (*store)->ListRuns();
  ASSERT_THAT(runs, IsOk());
  ASSERT_THAT(*runs, SizeIs(2));
  EXPECT_EQ((*runs)[0].id, a);
  EXPECT_EQ((*runs)[0].state, RunState::kUnknown);
  EXPECT_THAT(
      (*runs)[0].manifest_error,
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Stale file handle")));
  EXPECT_THAT((*runs)[0].detail, HasSubstr("retryable"));
  EXPECT_EQ((*runs)[1].id, b);
  EXPECT_EQ((*runs)[1].state, RunState::kCommitted);
}

TEST_F(RunStoreTest, ListFailsWhenTheRunsDirectoryIsUnavailable) {
  StaleDirFileSystem stale(&fs_);
  RunStoreOptions o = Options();
  o.fs = &stale;
  auto store = RunStore::Open("/repo", o);
  ASSERT_THAT(store, IsOk());
  WriteCommitted(**store, 1);
  stale.stale_dir = "/repo/runs";
  stale.failures = 1;
  EXPECT_THAT((*store)->ListRuns(), StatusIs(absl::StatusCode::kUnavailable,
                                             HasSubstr("/repo/runs")));
}

TEST_F(RunStoreTest, ClosedRunOfDeadProcessIsAbandoned) {
  auto store = OpenStore();
  auto w = store->CreateRun();
  ASSERT_THAT(w, IsOk());
  ASSERT_THAT((*w)->Close(), IsOk());
  probe_.KillProcess(probe_.self_pid());
  auto entry = store->GetRun((*w)->id());
  ASSERT_THAT(entry, IsOk());
  EXPECT_EQ(entry->state, RunState::kAbandoned);
  EXPECT_THAT(entry->detail, HasSubstr("4242"));
}

// Runs of pid 4242 (dead), one of pid 7 (alive), `dead` and 1 of them.
class BatchRemovalTest : public RunStoreTest {
 protected:
  BatchRemovalTest() : faulty_(&fs_) {}

  void SetUp() override {
    RunStoreOptions o = Options();
    o.fs = &faulty_;
    store_ = *RunStore::Open("/repo", o);
    for (int i = 0; i < 5; ++i) dead_.push_back(Uncommitted());
    probe_.set_self_pid(7);
    probe_.SetProcess(7, 1000);
    live_ = Uncommitted();
    probe_.KillProcess(4242);
  }

  std::string Uncommitted() {
    auto w = store_->CreateRun();
    EXPECT_THAT(w, IsOk());
    EXPECT_THAT((*w)->AppendChunk(format::kChunkRecords, "data"), IsOk());
    // Durable, so a simulated power loss keeps the run.
    EXPECT_THAT((*w)->Sync(), IsOk());
    EXPECT_THAT((*w)->Close(), IsOk());
    EXPECT_THAT(faulty_.SyncDir(store_->RunDir((*w)->id())), IsOk());
    EXPECT_THAT(faulty_.SyncDir("/repo/runs"), IsOk());
    clock_.Advance(absl::Milliseconds(1));
    return (*w)->id();
  }
  std::vector<std::string> Listed(const std::string& dir) {
    return *fs_.ListDir(dir);
  }

  FaultInjectingFileSystem faulty_;
  std::unique_ptr<RunStore> store_;
  std::vector<std::string> dead_;
  std::string live_;
};

TEST_F(BatchRemovalTest, RemovesEveryAbandonedRunWithTwoDirectorySyncs) {
  std::vector<std::string> ids = dead_;
  ids.push_back(live_);
  const int64_t syncs = faulty_.count(FsOp::kSync);
  auto outcomes = store_->RemoveIfAbandoned(ids, clock_.Now());
  ASSERT_THAT(outcomes, IsOk());
  ASSERT_THAT(*outcomes, SizeIs(ids.size()));
  for (size_t i = 0; i < dead_.size(); ++i) {
    ASSERT_THAT((*outcomes)[i], IsOk());
    EXPECT_TRUE((*outcomes)[i]->removed) << dead_[i];
  }
  ASSERT_THAT(outcomes->back(), IsOk());
  EXPECT_FALSE(outcomes->back()->removed);
  EXPECT_THAT(outcomes->back()->reason, HasSubstr("written to"));
  EXPECT_EQ(faulty_.count(FsOp::kSync) - syncs, 2);
  EXPECT_THAT(Listed("/repo/runs"), ElementsAre(live_));
  EXPECT_THAT(Listed("/repo/trash"), IsEmpty());
}

TEST_F(BatchRemovalTest, AMissingOrMalformedIdConcernsThatRunOnly) {
  auto outcomes = store_->RemoveIfAbandoned(
      {dead_[0], "0000000000000000z", "not-an-id"}, clock_.Now());
  ASSERT_THAT(outcomes, IsOk());
  ASSERT_THAT(*outcomes, SizeIs(3));
  ASSERT_THAT((*outcomes)[0], IsOk());
  EXPECT_TRUE((*outcomes)[0]->removed);
  EXPECT_THAT((*outcomes)[1], StatusIs(absl::StatusCode::kNotFound, HasSubstr("not found")));
  EXPECT_THAT((*outcomes)[2], StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not-an-id")));
}

TEST_F(BatchRemovalTest, AFailedSyncLeavesTheRunsInTrashForRecovery) {
  faulty_.FailNth(FsOp::kSync, 1, EIO, /*persistent=*/false);
  EXPECT_THAT(store_->RemoveIfAbandoned(dead_, clock_.Now()),
              StatusIs(absl::StatusCode::kUnknown, HasSubstr("fsync /repo/runs")));
  EXPECT_THAT(Listed("/repo/trash"), SizeIs(dead_.size()));
  auto report = Recover(*store_, /*dry_run=*/false);
  ASSERT_THAT(report, IsOk());
  EXPECT_THAT(Listed("/repo/trash"), IsEmpty());
  EXPECT_THAT(Listed("/repo/runs"), ElementsAre(live_));
}

TEST_F(BatchRemovalTest, APowerLossAtAnySyncNeverLeavesAHalfRemovedRun) {
  for (int crash_at = 0; crash_at < 3; ++crash_at) {
    SCOPED_TRACE(absl::StrCat("crash after ", crash_at, " syncs"));
    faulty_.CrashAfterSyncs(crash_at);
    store_->RemoveIfAbandoned(dead_, clock_.Now()).IgnoreError();
    faulty_.SimulatePowerLoss();
    // Unlinks happen only in trash/, after the syncs: whatever the crash
    // point, recovery finishes the removal, and no dead run is back.
    ASSERT_THAT(Recover(*store_, /*dry_run=*/false), IsOk());
    EXPECT_THAT(Listed("/repo/trash"), IsEmpty());
    for (const std::string& id : dead_) {
      EXPECT_THAT(Listed("/repo/runs"), Not(Contains(id)));
    }
    // Fresh dead runs for the next crash point.
    dead_.clear();
    probe_.set_self_pid(4242);
    probe_.SetProcess(4242, 1000);
    for (int i = 0; i < 3; ++i) dead_.push_back(Uncommitted());
    probe_.KillProcess(4242);
  }
}

TEST_F(RunStoreTest, CommittedRunReadsBackEveryChunk) {
  auto store = OpenStore();
  const std::string id = WriteCommitted(*store, 4);
  EXPECT_THAT(ReadPayloads(*store, id),
              ElementsAre("payload-0", "payload-1", "payload-2", "payload-3"));
}

TEST_F(RunStoreTest, DeleteCommittedRunLeavesNothing) {
  auto store = OpenStore();
  const std::string id = WriteCommitted(*store, 2);
  ASSERT_THAT(store->DeleteRun(id), IsOk());
  EXPECT_THAT(store->GetRun(id),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(id)));
  EXPECT_THAT(*fs_.ListDir("/repo/runs"), IsEmpty());
  EXPECT_THAT(*fs_.ListDir("/repo/trash"), IsEmpty());
}

TEST_F(RunStoreTest, DeleteRunWhileWriterOpenMakesWriterFail) {
  auto store = OpenStore();
  auto w = store->CreateRun();
  ASSERT_THAT(w, IsOk());
  ASSERT_THAT((*w)->AppendChunk(format::kChunkRecords, "x"), IsOk());
  ASSERT_THAT(store->DeleteRun((*w)->id()), IsOk());
  // The directory is gone, so the commit cannot create COMMIT.tmp in it.
  EXPECT_FALSE(
      (*w)->Commit(format::RunStatus::kFinished, clock_.Now(), "", "").ok());
  EXPECT_FALSE((*w)->committed());
  EXPECT_THAT(*fs_.ListDir("/repo/runs"), IsEmpty());
  EXPECT_THAT(*fs_.ListDir("/repo/trash"), IsEmpty());
}

TEST_F(RunStoreTest, DeleteUnknownRunIsNotFound) {
  auto store = OpenStore();
  EXPECT_THAT(store->DeleteRun("0abc"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("0abc")));
}

TEST_F(RunStoreTest, DeleteRejectsIdsThatLeaveTheRepo) {
  auto store = OpenStore();
  for (const char* bad : {"../x", "/etc", "", "a/b", "ABC", ".."}) {
    EXPECT_THAT(store->DeleteRun(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_))
        << bad;
    EXPECT_THAT(store->GetRun(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_))
        << bad;
  }
}

TEST_F(RunStoreTest, FailedStatusAndReasonAreRecorded) {
  auto store = OpenStore();
  auto w = store->CreateRun();
  ASSERT_THAT(w, IsOk());
  ASSERT_THAT((*w)->Commit(format::RunStatus::kFailed, clock_.Now(),
                           "ZeroDivisionError", ""),
              IsOk());
  auto entry = store->GetRun((*w)->id());
  ASSERT_THAT(entry, IsOk());
  ASSERT_TRUE(entry->manifest.has_value());
  EXPECT_EQ(entry->manifest->status, format::RunStatus::kFailed);
  EXPECT_EQ(entry->manifest->reason, "ZeroDivisionError");
}

TEST_F(RunStoreTest, DamagedCommitIsReportedNotHidden) {
  auto store = OpenStore();
  const std::string id = WriteCommitted(*store, 1);
  const std::string commit = JoinPath(store->RunDir(id), "COMMIT");
  std::string bytes = *fs_.Contents(commit);
  bytes[20] ^= 0x40;
  ASSERT_THAT(fs_.SetContents(commit, bytes), IsOk());
  auto entry = store->GetRun(id);
  ASSERT_THAT(entry, IsOk());
  EXPECT_EQ(entry->state, RunState::kCommitted);
  EXPECT_THAT(entry->manifest_error,
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(commit)));
  EXPECT_THAT(RunReader::Open(&fs_, store->RunDir(id), id),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("COMMIT")));
}

// The library never starts a thread: a full lifecycle on the real file system
// leaves the thread count of this process unchanged.
// Creation builds the run under a temporary name: a failure (or a kill) at
// any step leaves nothing in runs/ that recovery could not judge.
TEST_F(RunStoreTest, FailedCreationLeavesNoRunBehind) {
  FaultInjectingFileSystem faulty(&fs_);
  RunStoreOptions o = Options();
  o.fs = &faulty;
  auto store = *RunStore::Open("/repo", o);
  for (FsOp op : {FsOp::kMkdir, FsOp::kOpen, FsOp::kWrite, FsOp::kRename}) {
    faulty.ClearFaults();
    faulty.FailNth(op, 1, EIO, /*persistent=*/false);
    EXPECT_FALSE(store->CreateRun().ok()) << FsOpName(op);
    EXPECT_THAT(*fs_.ListDir("/repo/runs"), IsEmpty()) << FsOpName(op);
  }
}

// The flush floor of docs/design.md: creation performs no fsync at all; a
// one-segment run's commit the number argued there.
TEST_F(RunStoreTest, FlushesPerCommittedRun) {
  FaultInjectingFileSystem faulty(&fs_);
  RunStoreOptions o = Options();
  o.fs = &faulty;
  auto store = *RunStore::Open("/repo", o);
  const int64_t before = faulty.count(FsOp::kSync);
  auto w = *store->CreateRun();
  EXPECT_EQ(faulty.count(FsOp::kSync) - before, 0);
  ASSERT_THAT(w->AppendChunk(format::kChunkRecords, "payload"), IsOk());
  ASSERT_THAT(w->Commit(format::RunStatus::kFinished, clock_.Now(), "", "s"),
              IsOk());
  EXPECT_EQ(faulty.count(FsOp::kSync) - before, kFlushesPerCommit);
  // Under SyncPolicy::kNever, none.
  RunWriterOptions never;
  never.sync_policy = SyncPolicy::kNever;
  const int64_t before_never = faulty.count(FsOp::kSync);
  auto n = *store->CreateRun(never);
  ASSERT_THAT(n->AppendChunk(format::kChunkRecords, "payload"), IsOk());
  ASSERT_THAT(n->Commit(format::RunStatus::kFinished, clock_.Now(), "", "s"),
              IsOk());
  EXPECT_EQ(faulty.count(FsOp::kSync) - before_never, 0);
}

// Another host's (or an unprobeable) writer that keeps calling shows life
// through OWNER's mtime, so it is never judged stale.
TEST_F(RunStoreTest, HeartbeatKeepsAQuietRunOfAnotherHostFresh) {
  RunStoreOptions o = Options();
  o.staleness = absl::Minutes(10);
  auto store = *RunStore::Open("/repo", o);
  auto w = *store->CreateRun();
  probe_.identity().hostname = "host-b";
  probe_.identity().boot_id = "boot-b";
  clock_.Advance(absl::Minutes(9));
  ASSERT_THAT(w->Heartbeat(), IsOk());
  clock_.Advance(absl::Minutes(9));
  EXPECT_EQ(store->GetRun(w->id())->state, RunState::kUnknown);
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(store->GetRun(w->id())->state, RunState::kAbandoned);
}

TEST_F(RunStoreTest, HeartbeatOfADeletedRunPoisonsTheWriter) {
  auto store = OpenStore();
  auto w = *store->CreateRun();
  ASSERT_THAT(store->DeleteRun(w->id()), IsOk());
  EXPECT_THAT(w->Heartbeat(),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(w->AppendChunk(format::kChunkRecords, "x"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST_F(RunStoreTest, FileSystemNowIsTheFileSystemsClock) {
  auto store = OpenStore();
  clock_.Advance(absl::Seconds(7));
  absl::StatusOr<absl::Time> now = store->FileSystemNow();
  ASSERT_THAT(now, IsOk());
  EXPECT_EQ(*now, clock_.Now());
  EXPECT_THAT(*fs_.ListDir("/repo/trash"), IsEmpty());
}

// COMMIT's bytes are not synced at commit; a power loss that keeps its name
// but not its bytes leaves the run committed, read through the commit record
// the last segment ends with.
TEST_F(RunStoreTest, TornCommitIsRebuiltFromTheCommitRecord) {
  auto store = OpenStore();
  const std::string id = WriteCommitted(*store, 3);
  const std::string dir = store->RunDir(id);
  absl::StatusOr<CommitManifest> intact = ReadCommitManifest(fs_, dir);
  ASSERT_THAT(intact, IsOk());
  for (size_t keep : {size_t{0}, size_t{10}, size_t{70}}) {
    std::string bytes = *fs_.Contents(JoinPath(dir, "COMMIT"));
    ASSERT_THAT(fs_.SetContents(JoinPath(dir, "COMMIT"), bytes.substr(0, keep)),
                IsOk());
    ManifestSource source;
    absl::StatusOr<CommitManifest> read = ReadCommitManifest(fs_, dir, &source);
    ASSERT_THAT(read, IsOk()) << keep;
    EXPECT_TRUE(source.from_record);
    EXPECT_THAT(source.commit_damage,
                StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
    EXPECT_EQ(read->segments, intact->segments);
    EXPECT_EQ(read->summary, intact->summary);
    EXPECT_THAT(ReadPayloads(*store, id),
                ElementsAre("payload-0", "payload-1", "payload-2"));
    ASSERT_THAT(fs_.SetContents(JoinPath(dir, "COMMIT"), bytes), IsOk());
  }
  // A segment damaged before the record: no manifest is rebuilt from it,
  // and a torn COMMIT stays DataLoss.
  std::string seg = *fs_.Contents(JoinPath(dir, "000001.seg"));
  seg[format::kSegmentHeaderSize + format::kChunkHeaderSize] ^= 1;
  ASSERT_THAT(fs_.SetContents(JoinPath(dir, "000001.seg"), seg), IsOk());
  EXPECT_FALSE(ManifestFromCommitRecord(fs_, dir).ok());
  ASSERT_THAT(fs_.SetContents(JoinPath(dir, "COMMIT"), ""), IsOk());
  EXPECT_THAT(ReadCommitManifest(fs_, dir),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST_F(RunStoreTest, RecoveryWritesATornCommitAnew) {
  auto store = OpenStore();
  const std::string id = WriteCommitted(*store, 2);
  const std::string dir = store->RunDir(id);
  ASSERT_THAT(fs_.SetContents(JoinPath(dir, "COMMIT"), ""), IsOk());
  absl::StatusOr<RecoveryReport> report = Recover(*store, false);
  ASSERT_THAT(report, IsOk());
  ASSERT_THAT(report->actions, SizeIs(1));
  EXPECT_EQ(report->actions[0].kind, RecoveryAction::Kind::kRepairManifest);
  ManifestSource source;
  ASSERT_THAT(ReadCommitManifest(fs_, dir, &source), IsOk());
  EXPECT_EQ(source.generation, 2u);
  EXPECT_FALSE(source.from_record);
}

TEST(RunStoreThreadsTest, FullCycleStartsNoThread) {
  runlog::testing::TempDir tmp;
  const int before = runlog::testing::CountThreads();
  ASSERT_GT(before, 0);
  {
    RunStoreOptions o;
    o.create_if_missing = true;
    auto store = RunStore::Open(JoinPath(tmp.path(), "repo"), o);
    ASSERT_THAT(store, IsOk());
    auto w = (*store)->CreateRun();
    ASSERT_THAT(w, IsOk());
    ASSERT_THAT((*w)->AppendChunk(format::kChunkRecords, "abc"), IsOk());
    ASSERT_THAT((*w)->Commit(format::RunStatus::kFinished, absl::Now(), "", ""),
                IsOk());
    auto w2 = (*store)->CreateRun();
    ASSERT_THAT(w2, IsOk());
    ASSERT_THAT((*w2)->Close(), IsOk());
    ASSERT_THAT((*store)->ListRuns(), IsOk());
    ASSERT_THAT((*store)->DeleteRun((*w)->id()), IsOk());
    ASSERT_THAT(Recover(**store, /*dry_run=*/false), IsOk());
    EXPECT_EQ(runlog::testing::CountThreads(), before);
  }
  EXPECT_EQ(runlog::testing::CountThreads(), before);
}

}  // namespace
}  // namespace runlog::storage
