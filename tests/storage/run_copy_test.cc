// CopyCommittedRun: a committed run copied whole into another repository
// under its id, refusals for what must not be copied, and a power loss at
// every sync point of a copy: afterwards the destination holds either no run
// or the whole committed run, recovery removes what the copy left, and the
// source is untouched.
#include "storage/run_copy.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/commit_manifest.h"
#include "storage/fault_file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/recovery.h"
#include "storage/run_reader.h"
#include "storage/run_store.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/status_matchers.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::FakeSystemProbe;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Every file under `root` (two levels: the repository and its run
// directories) with its bytes.
std::map<std::string, std::string> Files(MemFileSystem& mem,
                                         const std::string& root) {
  std::map<std::string, std::string> files;
  std::vector<std::string> dirs = {root};
  for (size_t i = 0; i < dirs.size() && i < 1000; ++i) {
    auto names = mem.ListDir(dirs[i]);
    if (!names.ok()) continue;
    for (const std::string& n : *names) {
      const std::string path = JoinPath(dirs[i], n);
      auto info = mem.Stat(path);
      if (!info.ok()) continue;
      if (info->type == FileType::kDirectory) {
        dirs.push_back(path);
        files[path + "/"] = "";
      } else {
        files[path] = *mem.Contents(path);
      }
    }
  }
  return files;
}

class RunCopyTest : public ::testing::Test {
 protected:
  RunCopyTest() : clock_(absl::FromUnixSeconds(1'700'000'000)), mem_(&clock_) {}

  std::unique_ptr<RunStore> Open(FileSystem* fs, const std::string& root,
                                 SystemProbe* probe) {
    RunStoreOptions o;
    o.create_if_missing = true;
    o.fs = fs;
    o.clock = &clock_;
    o.probe = probe;
    auto store = RunStore::Open(root, o);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? *std::move(store) : nullptr;
  }

  // A committed run of `chunks` payloads over several segments.
  std::string Committed(RunStore& store, int chunks) {
    RunWriterOptions wo;
    wo.buffer_size = 300;
    wo.segment_roll_size = 700;
    auto w = store.CreateRun(wo);
    EXPECT_THAT(w, IsOk());
    for (int i = 0; i < chunks; ++i) {
      EXPECT_THAT((*w)->AppendChunk(format::kChunkRecords, Payload(i)), IsOk());
    }
    EXPECT_THAT(
        (*w)->Commit(format::RunStatus::kFailed, clock_.Now(), "nan", "sum"),
        IsOk());
    clock_.Advance(absl::Milliseconds(5));
    return (*w)->id();
  }

  static std::string Payload(int i) {
    return std::string(static_cast<size_t>(60 + 41 * i),
                       static_cast<char>('a' + i % 26));
  }

  std::vector<std::string> Payloads(FileSystem* fs, RunStore& store,
                                    const std::string& id) {
    std::vector<std::string> out;
    auto reader = RunReader::Open(fs, store.RunDir(id), id);
    EXPECT_THAT(reader, IsOk());
    if (!reader.ok()) return out;
    Chunk chunk;
    for (int guard = 0; guard < 10000; ++guard) {
      auto more = (*reader)->Next(&chunk);
      EXPECT_THAT(more, IsOk());
      if (!more.ok() || !*more) break;
      out.emplace_back(chunk.payload);
    }
    return out;
  }

  ManualClock clock_;
  MemFileSystem mem_;
  FakeSystemProbe probe_;
};

TEST_F(RunCopyTest, CopiesTheWholeCommittedRunUnderItsId) {
  auto src = Open(&mem_, "/src", &probe_);
  auto dst = Open(&mem_, "/dst", &probe_);
  const std::string id = Committed(*src, 12);
  auto report = CopyCommittedRun(*src, *dst, id);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->run_id, id);
  EXPECT_GT(report->files, 2u);  // several segments and the manifest

  auto entry = dst->GetRun(id);
  ASSERT_THAT(entry, IsOk());
  EXPECT_EQ(entry->state, RunState::kCommitted);
  ASSERT_TRUE(entry->manifest.has_value());
  EXPECT_EQ(entry->manifest->status, format::RunStatus::kFailed);
  EXPECT_EQ(entry->manifest->reason, "nan");
  EXPECT_EQ(entry->manifest->summary, "sum");
  auto from = src->GetRun(id);
  ASSERT_THAT(from, IsOk());
  EXPECT_EQ(entry->manifest->segments, from->manifest->segments);
  EXPECT_EQ(Payloads(&mem_, *dst, id), Payloads(&mem_, *src, id));
  // Every segment is byte for byte the source's; no staging is left.
  for (const SegmentInfo& seg : from->manifest->segments) {
    EXPECT_EQ(*mem_.Contents(JoinPath(dst->RunDir(id), FileNameOf(seg))),
              *mem_.Contents(JoinPath(src->RunDir(id), FileNameOf(seg))));
  }
  EXPECT_THAT(mem_.ListDir("/dst/runs"),
              testing::IsOkAndHolds(ElementsAre(id)));
}

TEST_F(RunCopyTest, RefusesARunTheDestinationHas) {
  auto src = Open(&mem_, "/src", &probe_);
  auto dst = Open(&mem_, "/dst", &probe_);
  const std::string id = Committed(*src, 3);
  ASSERT_THAT(CopyCommittedRun(*src, *dst, id), IsOk());
  const auto before = Files(mem_, "/dst");
  EXPECT_THAT(
      CopyCommittedRun(*src, *dst, id),
      StatusIs(absl::StatusCode::kAlreadyExists,
               HasSubstr(absl::StrCat("run ", id, " already exists in /dst"))));
  EXPECT_EQ(Files(mem_, "/dst"), before);
  // Onto itself, too.
  EXPECT_THAT(CopyCommittedRun(*src, *src, id),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(id)));
}

TEST_F(RunCopyTest, RefusesARunBeingCopiedByAnotherProcess) {
  auto src = Open(&mem_, "/src", &probe_);
  auto dst = Open(&mem_, "/dst", &probe_);
  const std::string id = Committed(*src, 3);
  const std::string staging = absl::StrCat("/dst/runs/.creating.", id);
  ASSERT_THAT(mem_.CreateDir(staging), IsOk());
  EXPECT_THAT(CopyCommittedRun(*src, *dst, id),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("by another process")));
  EXPECT_THAT(mem_.Stat(staging), IsOk());  // the other copy's, left alone
}

TEST_F(RunCopyTest, RefusesAnUncommittedRunNamingItsState) {
  auto src = Open(&mem_, "/src", &probe_);
  auto dst = Open(&mem_, "/dst", &probe_);
  auto w = src->CreateRun();
  ASSERT_THAT(w, IsOk());
  ASSERT_THAT((*w)->AppendChunk(format::kChunkRecords, "x"), IsOk());
  ASSERT_THAT((*w)->Close(), IsOk());
  EXPECT_THAT(CopyCommittedRun(*src, *dst, (*w)->id()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is not committed (live")));
  EXPECT_THAT(mem_.ListDir("/dst/runs"), testing::IsOkAndHolds(IsEmpty()));
}

TEST_F(RunCopyTest, MissingAndMalformedIds) {
  auto src = Open(&mem_, "/src", &probe_);
  auto dst = Open(&mem_, "/dst", &probe_);
  EXPECT_THAT(CopyCommittedRun(*src, *dst, "0000000000zzzzzzz"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(CopyCommittedRun(*src, *dst, "../x"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST_F(RunCopyTest, DamagedSourceIsDataLossAndLeavesNothing) {
  auto src = Open(&mem_, "/src", &probe_);
  auto dst = Open(&mem_, "/dst", &probe_);
  const std::string id = Committed(*src, 6);
  const std::string seg = JoinPath(src->RunDir(id), SegmentFileName(1));
  std::string bytes = *mem_.Contents(seg);
  bytes[bytes.size() / 2] ^= 0x04;
  ASSERT_THAT(mem_.SetContents(seg, bytes), IsOk());
  EXPECT_THAT(
      CopyCommittedRun(*src, *dst, id),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum mismatch")));
  EXPECT_THAT(mem_.ListDir("/dst/runs"), testing::IsOkAndHolds(IsEmpty()));
}

TEST_F(RunCopyTest, FailedWriteRemovesThePartialCopy) {
  auto src = Open(&mem_, "/src", &probe_);
  const std::string id = Committed(*src, 6);
  FaultInjectingFileSystem fault(&mem_);
  auto dst = Open(&fault, "/dst", &probe_);
  fault.FailNth(FsOp::kWrite, 2, ENOSPC, /*persistent=*/false);
  EXPECT_THAT(
      CopyCommittedRun(*src, *dst, id),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("injected")));
  EXPECT_THAT(mem_.ListDir("/dst/runs"), testing::IsOkAndHolds(IsEmpty()));
}

TEST_F(RunCopyTest, PowerLossAtEverySyncPoint) {
  // Count the sync points of one clean copy.
  int64_t syncs = 0;
  {
    MemFileSystem mem(&clock_);
    auto src = Open(&mem, "/src", &probe_);
    const std::string id = Committed(*src, 12);
    FaultInjectingFileSystem fault(&mem);
    auto dst = Open(&fault, "/dst", &probe_);
    const int64_t before = fault.count(FsOp::kSync);
    ASSERT_THAT(CopyCommittedRun(*src, *dst, id), IsOk());
    syncs = fault.count(FsOp::kSync) - before;
    ASSERT_GT(syncs, 4);
  }
  for (int64_t k = 0; k <= syncs; ++k) {
    SCOPED_TRACE(absl::StrCat("crash after ", k, " of ", syncs, " syncs"));
    MemFileSystem mem(&clock_);
    FakeSystemProbe copier;
    auto src = Open(&mem, "/src", &copier);
    const std::string id = Committed(*src, 12);
    auto dst = Open(&mem, "/dst", &copier);
    ASSERT_THAT(mem.SyncDir("/"), IsOk());
    // Everything so far is durable: the power loss takes only the copy's
    // unsynced work.
    mem.SimulatePowerLoss();
    const auto source_files = Files(mem, "/src");
    const std::vector<std::string> payloads = Payloads(&mem, *src, id);

    FaultInjectingFileSystem fault(&mem);
    auto dst_fault = Open(&fault, "/dst", &copier);
    fault.CrashAfterSyncs(static_cast<int>(k));
    const bool acknowledged = CopyCommittedRun(*src, *dst_fault, id).ok();
    fault.SimulatePowerLoss();

    // After the reboot: the copier is gone.
    FakeSystemProbe rebooted;
    rebooted.Reboot();
    auto after = Open(&mem, "/dst", &rebooted);
    ASSERT_NE(after, nullptr);
    ASSERT_THAT(Recover(*after, /*dry_run=*/false), IsOk());
    auto names = mem.ListDir("/dst/runs");
    ASSERT_THAT(names, IsOk());
    if (acknowledged) {
      ASSERT_THAT(*names, ElementsAre(id)) << "an acknowledged copy was lost";
    }
    ASSERT_LE(names->size(), 1u);
    if (!names->empty()) {
      ASSERT_EQ((*names)[0], id) << "left: " << (*names)[0];
      auto entry = after->GetRun(id);
      ASSERT_THAT(entry, IsOk());
      EXPECT_EQ(entry->state, RunState::kCommitted);
      EXPECT_THAT(entry->manifest_error, IsOk());
      EXPECT_EQ(Payloads(&mem, *after, id), payloads);
    }
    auto again = Recover(*after, /*dry_run=*/false);
    ASSERT_THAT(again, IsOk());
    EXPECT_THAT(again->actions, IsEmpty());
    EXPECT_EQ(Files(mem, "/src"), source_files) << "the source changed";
  }
}

}  // namespace
}  // namespace runlog::storage
