// rm, recover, verify and compact end to end on the fixture repository.
//
// Verify, Compact and RecoverSalvage* exercise Repo::VerifyRun, CompactRun
// and Recover(salvage) and pass once the library implements them.
#include <string>

#include "tests/tools/segtool_fixture.h"

namespace runlog::segtool {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MaintainTest : public SegtoolTest {};

TEST_F(MaintainTest, RmDeletesRunsAndListingsForgetThem) {
  CliResult r = ExpectGolden("rm", {"rm", "<REPO>", "<RUN2>"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_FALSE(std::filesystem::exists(RunDir(2)));
  CliResult ls = Segtool({"ls", "<REPO>"});
  EXPECT_THAT(ls.out, Not(HasSubstr(run_ids_[1])));
  EXPECT_THAT(ls.out, HasSubstr(run_ids_[0]));
}

TEST_F(MaintainTest, RmRefusesALiveRunWithoutForce) {
  const Snapshot before = TakeSnapshot(repo_path_);
  CliResult r = ExpectGolden("rm_live", {"rm", "<REPO>", "<RUN3>"});
  EXPECT_EQ(r.code, kExitProblem);
  EXPECT_EQ(before, TakeSnapshot(repo_path_));
}

TEST_F(MaintainTest, RmForceDeletesALiveRun) {
  CliResult r = Segtool({"rm", "<REPO>", "--force", "<RUN3>"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_FALSE(std::filesystem::exists(RunDir(3)));
}

TEST_F(MaintainTest, RmGoesOnPastAnUnknownIdAndReportsIt) {
  CliResult r = Segtool({"rm", "<REPO>", "0000000000zzzzzzz", "<RUN1>"});
  EXPECT_EQ(r.code, kExitProblem);
  EXPECT_THAT(r.err, HasSubstr("run 0000000000zzzzzzz not found"));
  EXPECT_FALSE(std::filesystem::exists(RunDir(1)));
  EXPECT_TRUE(std::filesystem::exists(RunDir(2)));
}

// A malformed id is a usage error: nothing is deleted at all.
TEST_F(MaintainTest, RmWithAMalformedIdDeletesNothing) {
  CliResult r = Segtool({"rm", "<REPO>", "<RUN1>", "../x"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("segtool: run ../x: invalid run id"));
  EXPECT_TRUE(std::filesystem::exists(RunDir(1)));
}

TEST_F(MaintainTest, RecoverKeepsALiveRunAndSaysWhy) {
  const Snapshot before = TakeSnapshot(repo_path_);
  CliResult r = ExpectGolden("recover_live", {"recover", "<REPO>"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(before, TakeSnapshot(repo_path_));
}

TEST_F(MaintainTest, RecoverDryRunChangesNothing) {
  probe_.KillWriter();
  const Snapshot before = TakeSnapshot(repo_path_);
  CliResult r =
      ExpectGolden("recover_dry_run", {"recover", "<REPO>", "--dry-run"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(before, TakeSnapshot(repo_path_));
}

TEST_F(MaintainTest, RecoverDeletesAnAbandonedRun) {
  probe_.KillWriter();
  CliResult r = ExpectGolden("recover", {"recover", "<REPO>"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_FALSE(std::filesystem::exists(RunDir(3)));
  EXPECT_TRUE(std::filesystem::exists(RunDir(1)));
  EXPECT_TRUE(std::filesystem::exists(RunDir(2)));
  CliResult again = Segtool({"recover", "<REPO>"});
  EXPECT_EQ(again.code, kExitOk);
  EXPECT_EQ(again.out, "nothing to recover\n");
}

// Needs Repo::Recover with salvage.
TEST_F(MaintainTest, RecoverSalvageCommitsAnAbandonedRunAsCrashed) {
  probe_.KillWriter();
  CliResult r = Segtool({"recover", "<REPO>", "--salvage"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("salvage abandoned run"));
  EXPECT_THAT(r.out, HasSubstr("runs/" + run_ids_[2]));
  CliResult ls = Segtool({"ls", "<REPO>", "--status", "crashed"});
  EXPECT_EQ(ls.code, kExitOk);
  EXPECT_THAT(ls.out, HasSubstr(run_ids_[2]));
  // The readable prefix survives.
  CliResult cat = Segtool({"cat", "<REPO>", "<RUN3>", "loss", "--csv"});
  EXPECT_EQ(cat.code, kExitOk) << cat.err;
  EXPECT_EQ(std::count(cat.out.begin(), cat.out.end(), '\n'), 1 + 5);
}

// Needs Repo::Recover with salvage.
TEST_F(MaintainTest, RecoverSalvageDryRunChangesNothing) {
  probe_.KillWriter();
  const Snapshot before = TakeSnapshot(repo_path_);
  CliResult r = Segtool({"recover", "<REPO>", "--salvage", "--dry-run"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("dry run"));
  EXPECT_EQ(before, TakeSnapshot(repo_path_));
}

// Needs Repo::VerifyRun.
TEST_F(MaintainTest, VerifyReportsEveryRunSound) {
  const Snapshot before = TakeSnapshot(repo_path_);
  CliResult r = Segtool({"verify", "<REPO>"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  for (const std::string& id : run_ids_) {
    EXPECT_THAT(r.out, HasSubstr(id)) << r.out;
  }
  EXPECT_THAT(r.out, Not(HasSubstr("problem")));
  EXPECT_EQ(before, TakeSnapshot(repo_path_));
}

// Needs Repo::VerifyRun.
TEST_F(MaintainTest, VerifyChosenRunsOnly) {
  CliResult r = Segtool({"verify", "<REPO>", "<RUN2>"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr(run_ids_[1]));
  EXPECT_THAT(r.out, Not(HasSubstr(run_ids_[0])));
}

// Needs Repo::CompactRun: committed runs shrink or stay, the uncommitted one
// is skipped with a note, and every point reads back the same.
TEST_F(MaintainTest, CompactKeepsEveryPointAndSkipsUncommittedRuns) {
  CliResult before = Segtool({"export", "<REPO>", "--format", "csv"});
  ASSERT_EQ(before.code, kExitOk);
  CliResult r = Segtool({"compact", "<REPO>"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr(run_ids_[0]));
  EXPECT_THAT(r.out, HasSubstr(run_ids_[1]));
  EXPECT_THAT(r.out, HasSubstr("skipped: not committed (live)"));
  EXPECT_THAT(r.out, HasSubstr("total"));
  CliResult after = Segtool({"export", "<REPO>", "--format", "csv"});
  EXPECT_EQ(after.out, before.out);
  // The goldens of the read commands hold for the compacted run too.
  ExpectGolden("cat_text", {"cat", "<REPO>", "<RUN1>", "loss", "--context",
                            "subset=train"});
  ExpectGolden("cat_histogram", {"cat", "<REPO>", "<RUN1>", "weights"});
  CliResult verify = Segtool({"verify", "<REPO>"});
  EXPECT_EQ(verify.code, kExitOk) << verify.out << verify.err;
}

// Needs Repo::CompactRun.
TEST_F(MaintainTest, CompactTwiceLeavesTheRunAlone) {
  ASSERT_EQ(Segtool({"compact", "<REPO>", "<RUN1>"}).code, kExitOk);
  const Snapshot before = TakeSnapshot(repo_path_);
  CliResult r = Segtool({"compact", "<REPO>", "<RUN1>"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("already compacted"));
  EXPECT_EQ(before, TakeSnapshot(repo_path_));
}

TEST_F(MaintainTest, CompactNamedUncommittedRunIsSkippedNotFailed) {
  const Snapshot before = TakeSnapshot(repo_path_);
  CliResult r = Segtool({"compact", "<REPO>", "<RUN3>"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("skipped: not committed (live)"));
  EXPECT_EQ(before, TakeSnapshot(repo_path_));
}

// ---- --json -----------------------------------------------------------------

TEST_F(MaintainTest, RmJson) {
  CliResult r =
      ExpectGolden("rm_json", {"rm", "<REPO>", "<RUN2>", "<RUN3>", "--json"});
  EXPECT_EQ(r.code, kExitProblem);  // RUN3 is live
  EXPECT_FALSE(std::filesystem::exists(RunDir(2)));
  EXPECT_TRUE(std::filesystem::exists(RunDir(3)));
}

TEST_F(MaintainTest, RecoverJson) {
  probe_.KillWriter();
  CliResult r = ExpectGolden("recover_json", {"recover", "<REPO>", "--json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_FALSE(std::filesystem::exists(RunDir(3)));
}

TEST_F(MaintainTest, RecoverJsonKeepsALiveRunAndSaysWhy) {
  CliResult r = ExpectGolden("recover_live_json",
                             {"recover", "<REPO>", "--dry-run", "--json"});
  EXPECT_EQ(r.code, kExitOk);
}

TEST_F(MaintainTest, VerifyJson) {
  CliResult r = ExpectGolden("verify_json", {"verify", "<REPO>", "--json"});
  EXPECT_EQ(r.code, kExitOk);
}

TEST_F(MaintainTest, VerifyJsonNamesFileAndOffsetOfAProblem) {
  const std::string seg = RunDir(2) + "/000001.seg";
  std::filesystem::resize_file(seg, std::filesystem::file_size(seg) - 3);
  CliResult r = ExpectGolden("verify_json_problem",
                             {"verify", "<REPO>", "<RUN2>", "--json"});
  EXPECT_EQ(r.code, kExitProblem);
  EXPECT_THAT(r.out, HasSubstr("\"file\": \"runs/"));
}

TEST_F(MaintainTest, CompactJson) {
  CliResult r = ExpectGolden("compact_json", {"compact", "<REPO>", "--json"});
  EXPECT_EQ(r.code, kExitOk);
}

}  // namespace
}  // namespace runlog::segtool
