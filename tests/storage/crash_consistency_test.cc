// Power loss at every sync point and I/O errors at every operation of a full
// create -> append -> commit -> delete lifecycle, on the fault-injecting file
// system. After each fault the repository must reopen, recover and verify:
// every run is either committed and reads back exactly what was written, or
// gone; no temporary file or trash is left.
#include <cerrno>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/fault_file_system.h"
#include "storage/file_system.h"
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

constexpr char kRoot[] = "/repo";

std::string Payload(int run, int chunk) {
  // Sizes vary so that chunks straddle the small buffer and roll limits.
  return std::string(static_cast<size_t>(50 + 37 * chunk),
                     static_cast<char>('a' + (run * 7 + chunk) % 26));
}

struct Outcome {
  // Runs whose Commit() returned OK, by scenario index.
  std::map<std::string, int> acknowledged;
  // Runs whose DeleteRun() returned OK.
  std::set<std::string> deleted;
  // Runs DeleteRun() was called on, whatever it returned.
  std::set<std::string> delete_attempted;
  // The run whose Commit() returned an error, if any.
  std::string failed_commit;
  // Every error returned to the caller.
  std::vector<absl::Status> errors;
};

constexpr int kChunksPerRun = 6;

// The lifecycle under test. Stops at the first error, as a program would.
Outcome RunScenario(FileSystem* fs, Clock* clock, SystemProbe* probe) {
  Outcome out;
  RunStoreOptions o;
  o.create_if_missing = true;
  o.fs = fs;
  o.clock = clock;
  o.probe = probe;
  auto store = RunStore::Open(kRoot, o);
  if (!store.ok()) {
    out.errors.push_back(store.status());
    return out;
  }
  RunWriterOptions wo;
  wo.buffer_size = 300;
  wo.segment_roll_size = 700;
  for (int run = 0; run < 3; ++run) {
    auto w = (*store)->CreateRun(wo);
    if (!w.ok()) {
      out.errors.push_back(w.status());
      return out;
    }
    for (int c = 0; c < kChunksPerRun; ++c) {
      absl::Status s =
          (*w)->AppendChunk(format::kChunkRecords, Payload(run, c));
      if (s.ok() && c == 2) s = (*w)->Flush();
      if (!s.ok()) {
        out.errors.push_back(s);
        return out;
      }
    }
    if (run == 1) {  // left uncommitted, as by a crash
      absl::Status s = (*w)->Close();
      if (!s.ok()) {
        out.errors.push_back(s);
        return out;
      }
      continue;
    }
    absl::Status s =
        (*w)->Commit(format::RunStatus::kFinished, clock->Now(), "", "sum");
    if (!s.ok()) {
      out.failed_commit = (*w)->id();
      out.errors.push_back(s);
      return out;
    }
    out.acknowledged[(*w)->id()] = run;
  }
  // Delete the first committed run.
  const std::string victim = out.acknowledged.begin()->first;
  out.delete_attempted.insert(victim);
  absl::Status s = (*store)->DeleteRun(victim);
  if (!s.ok()) {
    out.errors.push_back(s);
    return out;
  }
  out.deleted.insert(victim);
  return out;
}

class CrashConsistencyTest : public ::testing::Test {
 protected:
  CrashConsistencyTest() : clock_(absl::FromUnixSeconds(1'700'000'000)) {}

  // Reopens the repository as a new process after a reboot would, recovers
  // it, and checks every invariant. `may_be_missing` allows a repository
  // whose creation never became durable.
  void CheckRecovered(MemFileSystem& mem, const Outcome& outcome,
                      bool may_be_missing, const std::string& label) {
    FakeSystemProbe rebooted;
    rebooted.Reboot();
    RunStoreOptions o;
    o.fs = &mem;
    o.clock = &clock_;
    o.probe = &rebooted;
    auto existing = RunStore::Open(kRoot, o);
    if (!existing.ok()) {
      // Only a repository whose creation never became durable may be
      // missing, and then nothing can have been acknowledged in it.
      ASSERT_TRUE(may_be_missing && outcome.acknowledged.empty())
          << label << ": " << existing.status();
    }
    // Opening with create finishes an interrupted creation.
    o.create_if_missing = true;
    auto store = RunStore::Open(kRoot, o);
    ASSERT_THAT(store, IsOk()) << label;
    auto report = Recover(**store, false);
    ASSERT_THAT(report, IsOk()) << label;
    auto again = Recover(**store, false);
    ASSERT_THAT(again, IsOk()) << label;
    EXPECT_TRUE(again->actions.empty()) << label << ": recovery not idempotent";

    auto runs = (*store)->ListRuns();
    ASSERT_THAT(runs, IsOk()) << label;
    std::set<std::string> present;
    for (const RunEntry& run : *runs) {
      present.insert(run.id);
      EXPECT_EQ(run.state, RunState::kCommitted)
          << label << ": run " << run.id
          << " survived recovery uncommitted: " << run.detail;
      EXPECT_THAT(run.manifest_error, IsOk()) << label;
      auto names = mem.ListDir((*store)->RunDir(run.id));
      ASSERT_THAT(names, IsOk());
      for (const std::string& n : *names) {
        EXPECT_FALSE(absl::StrContains(n, ".tmp")) << label << ": " << n;
      }
      // Verify every byte and compare with what the scenario wrote.
      auto reader = RunReader::Open(&mem, (*store)->RunDir(run.id), run.id);
      ASSERT_THAT(reader, IsOk()) << label;
      auto it = outcome.acknowledged.find(run.id);
      std::vector<std::string> got;
      Chunk chunk;
      while (true) {
        auto more = (*reader)->Next(&chunk);
        ASSERT_THAT(more, IsOk()) << label << ": run " << run.id;
        if (!*more) break;
        got.emplace_back(chunk.payload);
      }
      if (it != outcome.acknowledged.end()) {
        ASSERT_EQ(got.size(), static_cast<size_t>(kChunksPerRun)) << label;
        for (int c = 0; c < kChunksPerRun; ++c) {
          EXPECT_EQ(got[c], Payload(it->second, c)) << label;
        }
      }
    }
    for (const auto& [id, index] : outcome.acknowledged) {
      if (outcome.deleted.count(id)) {
        EXPECT_EQ(present.count(id), 0u) << label << ": deleted run is back";
      } else if (!outcome.delete_attempted.count(id)) {
        EXPECT_EQ(present.count(id), 1u)
            << label << ": acknowledged commit " << id << " lost";
      }
    }
    if (!outcome.failed_commit.empty()) {
      EXPECT_EQ(present.count(outcome.failed_commit), 0u)
          << label << ": a run whose commit failed became committed";
    }
    auto trash = mem.ListDir(JoinPath(kRoot, "trash"));
    ASSERT_THAT(trash, IsOk());
    EXPECT_TRUE(trash->empty()) << label;
    auto top = mem.ListDir(kRoot);
    ASSERT_THAT(top, IsOk());
    for (const std::string& n : *top) {
      EXPECT_FALSE(absl::StrContains(n, ".tmp")) << label << ": " << n;
    }
  }

  ManualClock clock_;
};

TEST_F(CrashConsistencyTest, PowerLossAtEverySyncPoint) {
  int64_t total_syncs = 0;
  {
    MemFileSystem mem(&clock_);
    FaultInjectingFileSystem fs(&mem);
    FakeSystemProbe probe;
    Outcome clean = RunScenario(&fs, &clock_, &probe);
    ASSERT_TRUE(clean.errors.empty()) << clean.errors[0];
    ASSERT_EQ(clean.acknowledged.size(), 2u);
    total_syncs = fs.count(FsOp::kSync);
    ASSERT_GT(total_syncs, 10);
  }
  for (int64_t k = 0; k <= total_syncs; ++k) {
    MemFileSystem mem(&clock_);
    FaultInjectingFileSystem fs(&mem);
    FakeSystemProbe probe;
    fs.CrashAfterSyncs(static_cast<int>(k));
    Outcome outcome = RunScenario(&fs, &clock_, &probe);
    if (k < total_syncs) {
      EXPECT_TRUE(fs.crashed()) << k;
    }
    fs.SimulatePowerLoss();
    CheckRecovered(mem, outcome, /*may_be_missing=*/true,
                   absl::StrCat("crash after sync ", k));
    if (HasFatalFailure()) return;
  }
}

struct ErrorCase {
  FsOp op;
  const char* name;
};

TEST_F(CrashConsistencyTest, IoErrorAtEveryOperation) {
  const ErrorCase kinds[] = {
      {FsOp::kOpen, "open"},     {FsOp::kWrite, "write"},
      {FsOp::kSync, "sync"},     {FsOp::kRename, "rename"},
      {FsOp::kUnlink, "unlink"}, {FsOp::kMkdir, "mkdir"}};
  std::map<FsOp, int64_t> counts;
  {
    MemFileSystem mem(&clock_);
    FaultInjectingFileSystem fs(&mem);
    FakeSystemProbe probe;
    ASSERT_TRUE(RunScenario(&fs, &clock_, &probe).errors.empty());
    for (const ErrorCase& kind : kinds) counts[kind.op] = fs.count(kind.op);
  }
  int injected = 0;
  for (const ErrorCase& kind : kinds) {
    ASSERT_GT(counts[kind.op], 0) << kind.name;
    for (int64_t n = 1; n <= counts[kind.op]; ++n) {
      for (int err : {EIO, ENOSPC}) {
        for (bool persistent : {false, true}) {
          const std::string label =
              absl::StrCat(kind.name, " #", n, " errno ", err,
                           persistent ? " persistent" : " once");
          MemFileSystem mem(&clock_);
          FaultInjectingFileSystem fs(&mem);
          FakeSystemProbe probe;
          fs.FailNth(kind.op, static_cast<int>(n), err, persistent);
          Outcome outcome = RunScenario(&fs, &clock_, &probe);
          ++injected;
          // The fault was hit, so the scenario must have reported an error
          // that names a path inside the repository.
          ASSERT_FALSE(outcome.errors.empty()) << label;
          EXPECT_TRUE(absl::StrContains(outcome.errors[0].message(), kRoot))
              << label << ": " << outcome.errors[0];
          // The faulty process dies; the machine keeps its page cache.
          fs.ClearFaults();
          CheckRecovered(mem, outcome, /*may_be_missing=*/true, label);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
  EXPECT_GT(injected, 100);
}

}  // namespace
}  // namespace runlog::storage
