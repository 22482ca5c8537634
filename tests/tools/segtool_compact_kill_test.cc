// A real `segtool compact` process killed with SIGKILL at seeded random
// moments of its work: afterwards every run is whole (old or new form), reads
// back exactly, verifies, and recovery removes the leftovers.
//
// The kill moments are chosen without sleeps: the parent watches the run
// directories with inotify and kills the child right after the k-th file
// event (creation, write, rename or unlink) the compaction causes, with k
// drawn from a seeded generator; the kill lands wherever the child is then
// (tests/reliability/inotify_kill.h).
#include <sys/inotify.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/file_system.h"
#include "tests/reliability/inotify_kill.h"
#include "tests/testing/double_bits.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tracking/repo.h"

namespace runlog {
namespace {

using ::runlog::testing::Bits;

using ::runlog::testing::IsOk;

constexpr int kRuns = 6;
constexpr int kKills = 12;

// What one run reads back, flattened for comparison.
using Snapshot = std::vector<uint64_t>;

Snapshot Read(Repo& repo, const std::string& id) {
  Snapshot out;
  auto view = repo.OpenRun(id);
  EXPECT_THAT(view, IsOk()) << id;
  if (!view.ok()) return out;
  for (const SeriesSummary& s : (*view)->series()) {
    auto points = (*view)->ReadScalars(s.key);
    EXPECT_THAT(points, IsOk()) << id << " " << s.key.ToString();
    if (!points.ok()) continue;
    for (size_t i = 0; i < points->size(); ++i) {
      out.push_back(static_cast<uint64_t>(points->steps[i]));
      out.push_back(Bits(points->values[i]));
      out.push_back(Bits(points->epochs[i]));
      out.push_back(static_cast<uint64_t>(points->times_us[i]));
    }
  }
  return out;
}

class SegtoolCompactKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RepoOptions o;
    o.staleness = absl::ZeroDuration();  // leftovers are garbage at once
    auto repo = Repo::Open(dir_.path(), o);
    ASSERT_THAT(repo, IsOk());
    repo_ = *std::move(repo);
    std::mt19937_64 gen(7);
    std::normal_distribution<double> noise(0, 0.1);
    for (int r = 0; r < kRuns; ++r) {
      RunOptions options;
      options.buffer_points = 2000;
      auto run = repo_->CreateRun(options);
      ASSERT_THAT(run, IsOk());
      const int points = 20'000 + 7'000 * r;
      for (int i = 0; i < points; ++i) {
        ASSERT_THAT((*run)->Track("loss", 1.0 / (1 + i) + noise(gen), i,
                                  {{"subset", "train"}}, i / 1000.0),
                    IsOk());
        if (i % 50 == 0) {
          ASSERT_THAT((*run)->Track("lr", i < points / 2 ? 1e-3 : 1e-4, i),
                      IsOk());
        }
      }
      ASSERT_THAT((*run)->Commit(), IsOk());
      expected_[(*run)->id()] = Read(*repo_, (*run)->id());
    }
  }

  // Kills a `segtool compact` after its k-th file event in the runs.
  void CompactAndKillAfter(int k) {
    std::vector<std::string> dirs;
    for (const auto& [id, snapshot] : expected_) {
      dirs.push_back(repo_->store().RunDir(id));
    }
    const testing::KillResult result = testing::RunAndKillAfterEvents(
        SEGTOOL_BINARY, {"compact", dir_.path()}, dirs, k,
        IN_CREATE | IN_MODIFY | IN_MOVED_TO | IN_DELETE);
    ASSERT_FALSE(result.setup_failed) << result.error;
    ASSERT_FALSE(result.timed_out);
  }

  // After a kill: every run committed and identical, verified; recovery
  // leaves one form and no leftovers. Returns how many runs are compacted.
  int CheckWhole(const std::string& label) {
    int compacted = 0;
    for (const auto& [id, snapshot] : expected_) {
      auto record = repo_->GetRun(id);
      EXPECT_THAT(record, IsOk()) << label;
      if (!record.ok()) continue;
      EXPECT_EQ(record->state, storage::RunState::kCommitted) << label;
      EXPECT_TRUE(Read(*repo_, id) == snapshot) << label << ": run " << id;
    }
    auto report = repo_->Recover();
    EXPECT_THAT(report, IsOk()) << label;
    if (report.ok()) leftovers_removed_ += report->actions.size();
    auto again = repo_->Recover();
    EXPECT_THAT(again, IsOk()) << label;
    if (again.ok()) {
      EXPECT_TRUE(again->actions.empty()) << label;
    }
    for (const auto& [id, snapshot] : expected_) {
      auto names =
          storage::FileSystem::Default()->ListDir(repo_->store().RunDir(id));
      EXPECT_THAT(names, IsOk());
      if (!names.ok()) continue;
      int seg = 0, col = 0;
      for (const std::string& n : *names) {
        EXPECT_FALSE(absl::StrContains(n, ".tmp")) << label << ": " << n;
        EXPECT_NE(n, "COMPACTING") << label;
        seg += absl::EndsWith(n, ".seg");
        col += absl::EndsWith(n, ".col");
      }
      EXPECT_TRUE((seg > 0) != (col > 0))
          << label << ": run " << id << " has " << seg << " log and " << col
          << " column files";
      compacted += col > 0;
      auto verify = repo_->VerifyRun(id);
      EXPECT_THAT(verify, IsOk()) << label;
      if (verify.ok()) {
        EXPECT_TRUE(verify->problems.empty())
            << label << ": " << verify->problems[0].status;
      }
      EXPECT_TRUE(Read(*repo_, id) == snapshot) << label << ": run " << id;
    }
    return compacted;
  }

  testing::TempDir dir_;
  std::unique_ptr<Repo> repo_;
  std::map<std::string, Snapshot> expected_;
  size_t leftovers_removed_ = 0;
};

TEST_F(SegtoolCompactKillTest, RunsStayWholeWhereverTheKillLands) {
  std::mt19937_64 gen(20261128);
  int compacted = 0;
  for (int kill = 0; kill < kKills && compacted < kRuns; ++kill) {
    // Each run's compaction makes a few dozen file events.
    const int k = 1 + static_cast<int>(gen() % 40);
    CompactAndKillAfter(k);
    if (HasFatalFailure()) return;
    compacted = CheckWhole(absl::StrCat("kill ", kill, " after event ", k));
    if (HasFailure()) return;
  }
  // Some kill landed mid-compaction and left garbage for recovery.
  EXPECT_GT(leftovers_removed_, 0u);
  // Finally a compaction left alone finishes the job.
  CompactAndKillAfter(1 << 30);
  EXPECT_EQ(CheckWhole("uninterrupted"), kRuns);
}

}  // namespace
}  // namespace runlog
