// Bad inputs: each gives one clear error line and its exit code, and leaves
// every file of the repository as it was.
#include <string>

#include "tests/tools/segtool_fixture.h"

namespace runlog::segtool {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

class ErrorsTest : public SegtoolTest {
 protected:
  // Runs the command and checks its exit code, that it printed exactly one
  // line on stderr containing `message`, and that no file changed.
  CliResult ExpectError(const std::vector<std::string>& args, int code,
                        const std::string& message) {
    // Listing may refresh the run catalog, a cache of what COMMIT files say
    // (storage/run_catalog.h); make it current first, so that any other
    // change is the command's.
    Segtool({"ls", "<REPO>"});
    const Snapshot before = TakeSnapshot(repo_path_);
    CliResult r = Segtool(args);
    EXPECT_EQ(r.code, code) << r.out << r.err;
    EXPECT_THAT(r.err, StartsWith("segtool: "));
    EXPECT_THAT(Normalize(r.err), HasSubstr(message));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(before, TakeSnapshot(repo_path_)) << "files changed";
    return r;
  }

  std::string SegmentOf(int run) const { return RunDir(run) + "/000001.seg"; }

  void Truncate(const std::string& path, uintmax_t by) {
    const uintmax_t size = std::filesystem::file_size(path);
    ASSERT_GT(size, by);
    std::filesystem::resize_file(path, size - by);
  }

  void FlipBit(const std::string& path, uintmax_t offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good()) << path;
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(c ^ 0x10));
    ASSERT_TRUE(f.good()) << path;
  }
};

TEST_F(ErrorsTest, MissingRepoIsNamedAndNotCreated) {
  const std::string missing = temp_.path() + "/nope";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"ls", missing},
                                             {"show", missing, "abc"},
                                             {"cat", missing, "abc", "loss"},
                                             {"rm", missing, "abc"},
                                             {"recover", missing},
                                             {"verify", missing},
                                             {"compact", missing},
                                             {"export", missing}}) {
    CliResult r = Segtool(args);
    EXPECT_EQ(r.code, kExitProblem) << args[0];
    EXPECT_EQ(Normalize(r.err), "segtool: <TMP>/nope: no such repository\n")
        << args[0];
    EXPECT_FALSE(std::filesystem::exists(missing)) << args[0];
  }
}

TEST_F(ErrorsTest, DirectoryThatIsNotARepo) {
  ExpectError({"ls", temp_.path()}, kExitProblem,
              "<TMP>: not a runlog repository");
}

TEST_F(ErrorsTest, UnknownRun) {
  ExpectError({"show", "<REPO>", "0000000000zzzzzzz"}, kExitProblem,
              "run 0000000000zzzzzzz not found");
  ExpectError({"cat", "<REPO>", "0000000000zzzzzzz", "loss"}, kExitProblem,
              "run 0000000000zzzzzzz not found");
  ExpectError({"rm", "<REPO>", "0000000000zzzzzzz"}, kExitProblem,
              "0000000000zzzzzzz");
  ExpectError({"export", "<REPO>", "0000000000zzzzzzz"}, kExitProblem,
              "run 0000000000zzzzzzz not found");
}

TEST_F(ErrorsTest, UnknownSeries) {
  ExpectError({"cat", "<REPO>", "<RUN1>", "nope"}, kExitProblem,
              "run <RUN1> has no series nope");
}

// A malformed id is a usage error (exit 2), found before any file is read.
TEST_F(ErrorsTest, RunIdsThatArePathsAreRejected) {
  for (const std::string id : {"../x", "/etc", "a/b", "..", "RUN", ""}) {
    SCOPED_TRACE(id);
    const std::string message =
        absl::StrCat("segtool: run ", id, ": invalid run id");
    ExpectError({"show", "<REPO>", id}, kExitUsage, message);
    ExpectError({"cat", "<REPO>", id, "loss"}, kExitUsage, message);
    ExpectError({"rm", "<REPO>", id}, kExitUsage, message);
    ExpectError({"rm", "<REPO>", "--force", id}, kExitUsage, message);
    ExpectError({"verify", "<REPO>", id}, kExitUsage, message);
    ExpectError({"compact", "<REPO>", id}, kExitUsage, message);
    ExpectError({"export", "<REPO>", id}, kExitUsage, message);
    ExpectError({"cp", "<REPO>", id, temp_.path() + "/dest"}, kExitUsage,
                message);
  }
  EXPECT_FALSE(std::filesystem::exists(temp_.path() + "/dest"));
}

TEST_F(ErrorsTest, EmptyRepositoryPathIsAUsageError) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"ls", ""},
                                             {"show", "", "<RUN1>"},
                                             {"cat", "", "<RUN1>", "loss"},
                                             {"rm", "", "<RUN1>"},
                                             {"recover", ""},
                                             {"verify", ""},
                                             {"compact", ""},
                                             {"export", ""},
                                             {"import", "csv", "x.csv", ""}}) {
    SCOPED_TRACE(args[0]);
    ExpectError(args, kExitUsage, "segtool: repository path is empty");
  }
  ExpectError({"cp", "<REPO>", "<RUN1>", ""}, kExitUsage,
              "segtool: destination repository path is empty");
  ExpectError({"import", "csv", "", "<REPO>"}, kExitUsage,
              "segtool: source path is empty");
}

TEST_F(ErrorsTest, HostileIdIsEscapedInTheMessage) {
  CliResult r = ExpectError({"show", "<REPO>", "a\nb\x1b[2J"}, kExitUsage,
                            "segtool: run a\\nb\\x1b[2J: invalid run id");
}

TEST_F(ErrorsTest, TruncatedSegmentIsDataLossForCat) {
  ASSERT_NO_FATAL_FAILURE(Truncate(SegmentOf(1), 5));
  ExpectError({"cat", "<REPO>", "<RUN1>", "accuracy"}, kExitProblem,
              "data loss: ");
  ExpectError({"export", "<REPO>", "<RUN1>"}, kExitProblem, "data loss: ");
}

TEST_F(ErrorsTest, BitFlippedSegmentIsDataLossForCat) {
  const uintmax_t size = std::filesystem::file_size(SegmentOf(1));
  ASSERT_NO_FATAL_FAILURE(FlipBit(SegmentOf(1), size / 2));
  ExpectError({"cat", "<REPO>", "<RUN1>", "accuracy"}, kExitProblem,
              "data loss: ");
}

// Needs Repo::VerifyRun.
TEST_F(ErrorsTest, VerifyNamesFileAndOffsetOfATruncatedSegment) {
  ASSERT_NO_FATAL_FAILURE(Truncate(SegmentOf(1), 5));
  const Snapshot before = TakeSnapshot(repo_path_);
  CliResult r = Segtool({"verify", "<REPO>"});
  EXPECT_EQ(r.code, kExitProblem);
  const std::string out = Normalize(r.out);
  EXPECT_THAT(out, MatchesRegex("(.|\n)*<RUN1> +runs/<RUN1>/000001.seg +[0-9]+ "
                                "+DATA_LOSS(.|\n)*"));
  EXPECT_THAT(out, MatchesRegex("(.|\n)*<RUN2> +committed +ok(.|\n)*"));
  EXPECT_EQ(before, TakeSnapshot(repo_path_));
}

// Needs Repo::VerifyRun.
TEST_F(ErrorsTest, VerifyNamesFileAndOffsetOfABitFlip) {
  const uintmax_t size = std::filesystem::file_size(SegmentOf(1));
  ASSERT_NO_FATAL_FAILURE(FlipBit(SegmentOf(1), size / 2));
  const Snapshot before = TakeSnapshot(repo_path_);
  CliResult r = Segtool({"verify", "<REPO>", "<RUN1>"});
  EXPECT_EQ(r.code, kExitProblem);
  EXPECT_THAT(Normalize(r.out),
              MatchesRegex("(.|\n)*<RUN1> +runs/<RUN1>/000001.seg +[0-9]+ "
                           "+DATA_LOSS(.|\n)*"));
  EXPECT_EQ(before, TakeSnapshot(repo_path_));
}

TEST_F(ErrorsTest, MalformedQuery) {
  ExpectError({"ls", "<REPO>", "--where", "metrics.loss > 1 and metrcs.x = 2"},
              kExitUsage,
              "segtool: query:1:22: unknown field 'metrcs' (did you mean "
              "'metrics'?)");
  ExpectError({"ls", "<REPO>", "--sort", "naem"}, kExitUsage,
              "order_by[0]:1:1: unknown field 'naem' (did you mean 'name'?)");
  ExpectError({"ls", "<REPO>", "--sort", "name:sideways"}, kExitUsage,
              "--sort name:sideways: the direction after ':' is desc or asc");
  ExpectError({"ls", "<REPO>", "--columns", "params.lr,,name"}, kExitUsage,
              "--columns item 2:1:1: expected a field");
  ExpectError({"ls", "<REPO>", "--where", std::string(5000, '(')}, kExitUsage,
              "query: query is 5000 bytes, over the limit of 4096");
}

TEST_F(ErrorsTest, AmbiguousIdPrefix) {
  const std::string common = run_ids_[0].substr(0, 4);
  ASSERT_EQ(run_ids_[1].substr(0, 4), common);
  ExpectError({"show", "<REPO>", common}, kExitProblem,
              "is ambiguous: 3 runs begin with it");
  ExpectError({"rm", "<REPO>", common}, kExitProblem, "is ambiguous");
}

TEST_F(ErrorsTest, DamagedCommit) {
  const std::string commit = RunDir(1) + "/COMMIT";
  ASSERT_NO_FATAL_FAILURE(
      FlipBit(commit, std::filesystem::file_size(commit) / 2));
  ExpectError({"show", "<REPO>", "<RUN1>"}, kExitProblem, "data loss: ");
  ExpectError({"cat", "<REPO>", "<RUN1>", "accuracy"}, kExitProblem,
              "data loss: ");
  // ls still lists every run, marks the damaged one, and exits 1.
  CliResult ls = ExpectError({"ls", "<REPO>"}, kExitProblem, "data loss: ");
  EXPECT_THAT(ls.out, MatchesRegex("(.|\n)*" + run_ids_[0] +
                                   " +committed +damaged(.|\n)*"));
  EXPECT_THAT(ls.out, HasSubstr(run_ids_[1]));
  // Needs Repo::VerifyRun.
  const Snapshot before = TakeSnapshot(repo_path_);
  CliResult verify = Segtool({"verify", "<REPO>", "<RUN1>"});
  EXPECT_EQ(verify.code, kExitProblem);
  EXPECT_THAT(Normalize(verify.out + verify.err),
              HasSubstr("runs/<RUN1>/COMMIT"));
  EXPECT_EQ(before, TakeSnapshot(repo_path_));
}

TEST_F(ErrorsTest, NonNumericSteps) {
  ExpectError({"cat", "<REPO>", "<RUN1>", "accuracy", "--steps", "a:b"},
              kExitUsage, "--steps a:b: 'a' is not an integer step");
  ExpectError({"cat", "<REPO>", "<RUN1>", "accuracy", "--steps", "1:x"},
              kExitUsage, "'x' is not an integer step");
  ExpectError({"cat", "<REPO>", "<RUN1>", "accuracy", "--steps", ":"},
              kExitUsage, "--steps :");
  ExpectError({"cat", "<REPO>", "<RUN1>", "accuracy", "--steps", "5:1"},
              kExitUsage, "the first step is after the last");
}

TEST_F(ErrorsTest, ContextWithoutEquals) {
  ExpectError({"cat", "<REPO>", "<RUN1>", "loss", "--context", "subset"},
              kExitUsage, "--context subset: expected key=value");
  ExpectError({"cat", "<REPO>", "<RUN1>", "loss", "--context", "a=1",
               "--context", "a=2"},
              kExitUsage, "key given twice");
}

TEST_F(ErrorsTest, BadMaxPoints) {
  ExpectError({"cat", "<REPO>", "<RUN1>", "accuracy", "--max-points", "1"},
              kExitUsage, "segtool: --max-points 1: must be at least 2");
  // Not wrapped around into a huge count (which printed every point).
  ExpectError({"cat", "<REPO>", "<RUN1>", "accuracy", "--max-points", "-5"},
              kExitUsage, "segtool: --max-points -5: must be at least 2");
  ExpectError({"cat", "<REPO>", "<RUN1>", "accuracy", "--max-points", "0"},
              kExitUsage, "--max-points 0: must be at least 2");
  ExpectError({"cat", "<REPO>", "<RUN1>", "accuracy", "--max-points", "many"},
              kExitUsage, "max-points");
}

TEST_F(ErrorsTest, UnknownSubcommand) {
  CliResult r = ExpectError({"frobnicate", "<REPO>"}, kExitUsage,
                            "unknown command 'frobnicate'");
  EXPECT_THAT(r.err, Not(HasSubstr("did you mean")));
}

TEST_F(ErrorsTest, MistypedCommandSuggestsTheNearestOne) {
  ExpectError({"shwo", "<REPO>", "<RUN1>"}, kExitUsage,
              "segtool: unknown command 'shwo' (did you mean show?) (try "
              "segtool --help)");
  ExpectError({"exprot", "<REPO>"}, kExitUsage, "(did you mean export?)");
}

TEST_F(ErrorsTest, MistypedFlagIsNamedWithASuggestion) {
  // Not "a subcommand is required": the flag is what is wrong.
  ExpectError({"--versoin"}, kExitUsage,
              "segtool: unknown flag '--versoin' for segtool (did you mean "
              "--version?) (try segtool --help)");
  ExpectError({"ls", "<REPO>", "--jsno"}, kExitUsage,
              "unknown flag '--jsno' for segtool ls (did you mean --json?)");
  ExpectError({"cat", "<REPO>", "<RUN1>", "loss", "--max-point", "5"},
              kExitUsage, "(did you mean --max-points?)");
  ExpectError({"import", "csv", "x.csv", "<REPO>", "--dryrun"}, kExitUsage,
              "unknown flag '--dryrun' for segtool import csv (did you mean "
              "--dry-run?)");
  ExpectError({"rm", "<REPO>", "<RUN3>", "--froce"}, kExitUsage,
              "(did you mean --force?)");
}

TEST_F(ErrorsTest, MistypedSeriesSuggestsTheNearestOne) {
  ExpectError({"cat", "<REPO>", "<RUN1>", "acuracy"}, kExitProblem,
              "run <RUN1> has no series acuracy (did you mean 'accuracy'?)");
}

TEST_F(ErrorsTest, ExportWithOneUnknownIdWritesNothing) {
  const std::string file = temp_.path() + "/out.csv";
  CliResult r = ExpectError({"export", "<REPO>", "<RUN1>", "0000000000zzzzzzz",
                             "<RUN2>", "--format", "csv", "--output", file},
                            kExitProblem, "run 0000000000zzzzzzz not found");
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(std::filesystem::exists(file));
  for (const auto& e : std::filesystem::directory_iterator(temp_.path())) {
    EXPECT_THAT(e.path().filename().string(), Not(HasSubstr("out.csv")));
  }
  // To stdout, too: not a byte of the good runs.
  CliResult to_stdout =
      ExpectError({"export", "<REPO>", "<RUN1>", "0000000000zzzzzzz"},
                  kExitProblem, "not found");
  EXPECT_EQ(to_stdout.out, "");
}

TEST_F(ErrorsTest, OtherUsageErrors) {
  ExpectError({}, kExitUsage, "subcommand is required");
  ExpectError({"ls"}, kExitUsage, "repo is required");
  ExpectError({"ls", "<REPO>", "--bogus"}, kExitUsage, "--bogus");
  ExpectError({"ls", "<REPO>", "--state", "dead"}, kExitUsage, "dead");
  ExpectError({"cat", "<REPO>", "<RUN1>"}, kExitUsage, "series is required");
  ExpectError({"cat", "<REPO>", "<RUN1>", "loss", "--csv", "--json"},
              kExitUsage, "excludes");
  ExpectError({"export", "<REPO>", "--format", "xml"}, kExitUsage, "xml");
  ExpectError({"rm", "<REPO>"}, kExitUsage, "runs is required");
}

}  // namespace
}  // namespace runlog::segtool
