// segtool cp and mv end to end on the fixture repository: committed runs
// arrive whole under their ids and read back the same, refusals name their
// reason, and mv removes a source run only once its copy is verified.
#include <string>

#include "tests/tools/segtool_fixture.h"

namespace runlog::segtool {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CopyTest : public SegtoolTest {
 protected:
  std::string Dest() const { return temp_.path() + "/dest"; }
  std::string DestRunDir(int n) const {
    return absl::StrCat(Dest(), "/runs/", run_ids_[n - 1]);
  }
  // Every point of `repo`'s runs `ids` (segtool export --format csv; the
  // JSONL metadata holds bytes_on_disk, which a copy without the source's
  // superseded files has fewer of).
  std::string ExportOf(const std::string& repo,
                       const std::vector<std::string>& ids) {
    std::vector<std::string> args = {"export", repo, "--format", "csv"};
    args.insert(args.end(), ids.begin(), ids.end());
    CliResult r = Segtool(args);
    EXPECT_EQ(r.code, kExitOk) << r.err;
    return r.out;
  }
};

TEST_F(CopyTest, CpCopiesCommittedRunsWholeUnderTheirIds) {
  const std::string before = ExportOf("<REPO>", {"<RUN1>", "<RUN2>"});
  const Snapshot source = TakeSnapshot(repo_path_);
  CliResult r = Segtool({"cp", "<REPO>", "<RUN1>", "<RUN2>", Dest()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(Normalize(r.out), HasSubstr("copied <RUN1> to <TMP>/dest ("));
  EXPECT_THAT(Normalize(r.out), HasSubstr("29 points, verified)\n"));
  EXPECT_THAT(Normalize(r.out), HasSubstr("copied <RUN2> to <TMP>/dest ("));
  // Same ids, same points, metadata and status; the source is untouched.
  EXPECT_EQ(ExportOf(Dest(), {"<RUN1>", "<RUN2>"}), before);
  EXPECT_EQ(TakeSnapshot(repo_path_), source);
  CliResult show = Segtool({"show", Dest(), "<RUN2>"});
  EXPECT_THAT(show.out, HasSubstr("loss became NaN"));
  CliResult verify = Segtool({"verify", Dest()});
  EXPECT_EQ(verify.code, kExitOk) << verify.out << verify.err;
}

TEST_F(CopyTest, CpTakesIdPrefixesAndAnExistingEmptyDirectory) {
  std::filesystem::create_directory(Dest());
  CliResult r =
      Segtool({"cp", "<REPO>", run_ids_[0].substr(0, 14), Dest(), "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(Normalize(r.out), HasSubstr("\"run\": \"<RUN1>\""));
  EXPECT_THAT(r.out, HasSubstr("\"copied\": ["));
  EXPECT_THAT(r.out, HasSubstr("\"errors\": []"));
  EXPECT_TRUE(std::filesystem::exists(DestRunDir(1) + "/COMMIT"));
}

TEST_F(CopyTest, CpCopiesACompactedRun) {
  ASSERT_EQ(Segtool({"compact", "<REPO>", "<RUN1>"}).code, kExitOk);
  const std::string before = ExportOf("<REPO>", {"<RUN1>"});
  CliResult r = Segtool({"cp", "<REPO>", "<RUN1>", Dest()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(ExportOf(Dest(), {"<RUN1>"}), before);
}

TEST_F(CopyTest, CpRefusesAnUncommittedRunNamingWhy) {
  CliResult r = Segtool({"cp", "<REPO>", "<RUN3>", Dest()});
  EXPECT_EQ(r.code, kExitProblem);
  EXPECT_THAT(
      Normalize(r.err),
      HasSubstr("segtool: run <RUN3> is not committed (live: pid 1001"));
  EXPECT_THAT(r.err, HasSubstr("only committed runs are copied"));
  EXPECT_FALSE(std::filesystem::exists(DestRunDir(3)));
}

TEST_F(CopyTest, CpRefusesARunTheDestinationHasAndGoesOn) {
  ASSERT_EQ(Segtool({"cp", "<REPO>", "<RUN1>", Dest()}).code, kExitOk);
  const Snapshot dest = TakeSnapshot(DestRunDir(1));
  CliResult r = Segtool({"cp", "<REPO>", "<RUN1>", "<RUN2>", Dest()});
  EXPECT_EQ(r.code, kExitProblem);
  EXPECT_THAT(Normalize(r.err),
              HasSubstr("segtool: run <RUN1> already exists in <TMP>/dest"));
  EXPECT_EQ(TakeSnapshot(DestRunDir(1)), dest);
  EXPECT_TRUE(std::filesystem::exists(DestRunDir(2) + "/COMMIT"));
}

TEST_F(CopyTest, CpWithAnUnknownIdCopiesNothing) {
  CliResult r =
      Segtool({"cp", "<REPO>", "<RUN1>", "0000000000zzzzzzz", Dest()});
  EXPECT_EQ(r.code, kExitProblem);
  EXPECT_THAT(r.err, HasSubstr("run 0000000000zzzzzzz not found"));
  EXPECT_FALSE(std::filesystem::exists(Dest()));
}

TEST_F(CopyTest, CpRefusesADestinationHoldingOtherFiles) {
  std::filesystem::create_directory(Dest());
  std::ofstream(Dest() + "/notes.txt") << "mine\n";
  CliResult r = Segtool({"cp", "<REPO>", "<RUN1>", Dest()});
  EXPECT_EQ(r.code, kExitProblem);
  EXPECT_THAT(Normalize(r.err),
              HasSubstr("<TMP>/dest: is not a runlog repository: it holds 1 "
                        "entry (e.g. 'notes.txt')"));
  EXPECT_FALSE(std::filesystem::exists(Dest() + "/RUNLOG"));
}

TEST_F(CopyTest, CpNeedsRepoRunAndDest) {
  CliResult r = Segtool({"cp", "<REPO>", Dest()});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err,
              HasSubstr("cp needs REPO, at least one RUN and DEST_REPO"));
}

TEST_F(CopyTest, MvRemovesTheSourceOnlyAfterAVerifiedCopy) {
  const std::string before = ExportOf("<REPO>", {"<RUN2>"});
  CliResult r = Segtool({"mv", "<REPO>", "<RUN2>", Dest()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(Normalize(r.out), HasSubstr("moved <RUN2> to <TMP>/dest ("));
  EXPECT_FALSE(std::filesystem::exists(RunDir(2)));
  EXPECT_EQ(ExportOf(Dest(), {"<RUN2>"}), before);
  CliResult ls = Segtool({"ls", "<REPO>"});
  EXPECT_THAT(ls.out, Not(HasSubstr(run_ids_[1])));
}

TEST_F(CopyTest, MvKeepsTheSourceWhenTheCopyIsRefused) {
  ASSERT_EQ(Segtool({"cp", "<REPO>", "<RUN1>", Dest()}).code, kExitOk);
  CliResult r = Segtool({"mv", "<REPO>", "<RUN1>", "<RUN3>", Dest(), "--json"});
  EXPECT_EQ(r.code, kExitProblem);
  EXPECT_TRUE(std::filesystem::exists(RunDir(1)));  // already there
  EXPECT_TRUE(std::filesystem::exists(RunDir(3)));  // live
  EXPECT_THAT(r.out, HasSubstr("\"moved\": []"));
  EXPECT_THAT(r.out, HasSubstr("already exists"));
  EXPECT_THAT(r.out, HasSubstr("is not committed"));
}

TEST_F(CopyTest, MvKeepsTheSourceWhenItIsDamaged) {
  const std::string seg = RunDir(1) + "/000001.seg";
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x7f');
  }
  CliResult r = Segtool({"mv", "<REPO>", "<RUN1>", Dest()});
  EXPECT_EQ(r.code, kExitProblem);
  EXPECT_THAT(r.err, HasSubstr("data loss: "));
  EXPECT_TRUE(std::filesystem::exists(RunDir(1)));
  EXPECT_FALSE(std::filesystem::exists(DestRunDir(1)));
}

}  // namespace
}  // namespace runlog::segtool
