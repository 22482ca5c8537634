// The command-line layer: argument parsers, table and number formatting, and
// the real `segtool` binary run as a child process (exit codes, --help,
// --version).
#include <string>

#include "tests/tools/segtool_fixture.h"
#include "tools/segtool/format.h"
#include "tools/segtool/text_table.h"
#include "tools/segtool/version.h"

namespace runlog::segtool {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ParseStepsTest, ClosedRange) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(StepRange r, ParseSteps("3:7"));
  EXPECT_EQ(r.first, 3);
  EXPECT_EQ(r.last, 7);
}

TEST(ParseStepsTest, OpenEnds) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(StepRange from, ParseSteps("10:"));
  EXPECT_EQ(from.first, 10);
  EXPECT_EQ(from.last, StepRange().last);
  RUNLOG_ASSERT_OK_AND_ASSIGN(StepRange to, ParseSteps(":-2"));
  EXPECT_EQ(to.first, StepRange().first);
  EXPECT_EQ(to.last, -2);
}

TEST(ParseStepsTest, SingleStep) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(StepRange r, ParseSteps("42"));
  EXPECT_EQ(r.first, 42);
  EXPECT_EQ(r.last, 42);
}

TEST(ParseStepsTest, Rejects) {
  for (const char* bad :
       {"a:b", "1:b", "x", "", ":", "1:2:3", "5:4", "99999999999999999999:"}) {
    EXPECT_THAT(ParseSteps(bad),
                testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("--steps")))
        << bad;
  }
}

TEST(ParseContextEntryTest, SplitsAtTheFirstEquals) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto kv, ParseContextEntry("expr=a=b"));
  EXPECT_EQ(kv.first, "expr");
  EXPECT_EQ(kv.second, "a=b");
  RUNLOG_ASSERT_OK_AND_ASSIGN(auto empty, ParseContextEntry("k="));
  EXPECT_EQ(empty.second, "");
}

TEST(ParseContextEntryTest, Rejects) {
  for (const char* bad : {"k", "=v", ""}) {
    EXPECT_THAT(ParseContextEntry(bad),
                testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("key=value")))
        << bad;
  }
}

TEST(TextTableTest, AlignsColumnsWithoutTrailingSpaces) {
  TextTable t({"NAME", "N"});
  t.SetAlign(1, TextTable::Align::kRight);
  t.AddRow({"a", "100"});
  t.AddRow({"längere", "2"});
  std::ostringstream out;
  t.Print(out);
  EXPECT_EQ(out.str(),
            "NAME       N\n"
            "a        100\n"
            "längere    2\n");
}

TEST(FormatTest, ExactDoublesReadBack) {
  EXPECT_EQ(FormatExact(0.1), "0.1");
  EXPECT_EQ(FormatExact(1), "1.0");
  EXPECT_EQ(FormatExact(0.1f), "0.10000000149011612");
  EXPECT_EQ(FormatExact(std::nan("")), "NaN");
  EXPECT_EQ(FormatShort(0.1f), "0.1");
  EXPECT_EQ(FormatShort(std::nan("")), "-");
}

TEST(FormatTest, Bytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(uint64_t{3} << 30), "3.0 GiB");
}

TEST(FormatTest, CsvFieldsQuoteOnlyWhenNeeded) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
}

TEST(FormatTest, SingleLineEscapesControlCharacters) {
  EXPECT_EQ(SingleLine("a\nb\tc\x01"), "a\\nb\\tc\\x01");
  EXPECT_EQ(SingleLine("ünïcode"), "ünïcode");
}

TEST(FormatTest, RelativeToRepo) {
  EXPECT_EQ(RelativeTo("/r/runs/x/COMMIT", "/r"), "runs/x/COMMIT");
  EXPECT_EQ(RelativeTo("/rr/runs", "/r"), "/rr/runs");
  EXPECT_EQ(RelativeTo("/elsewhere", "/r"), "/elsewhere");
}

TEST(CliTest, HelpListsEveryCommand) {
  std::ostringstream out, err;
  EXPECT_EQ(RunCli({"--help"}, Env(), out, err), kExitOk);
  for (const char* cmd :
       {"ls", "show", "cat", "rm", "recover", "verify", "compact", "export"}) {
    EXPECT_THAT(out.str(), HasSubstr(cmd));
  }
  EXPECT_EQ(err.str(), "");
}

TEST(CliTest, EachCommandHasHelp) {
  for (const char* cmd :
       {"ls", "show", "cat", "rm", "recover", "verify", "compact", "export"}) {
    std::ostringstream out, err;
    EXPECT_EQ(RunCli({cmd, "--help"}, Env(), out, err), kExitOk) << cmd;
    EXPECT_THAT(out.str(), HasSubstr(absl::StrCat("segtool ", cmd))) << cmd;
    EXPECT_EQ(err.str(), "") << cmd;
  }
}

TEST(CliTest, Version) {
  std::ostringstream out, err;
  EXPECT_EQ(RunCli({"--version"}, Env(), out, err), kExitOk);
  EXPECT_EQ(out.str(), absl::StrCat("segtool ", kVersion, "\n"));
}

// ---- the real binary ----------------------------------------------------

class BinaryTest : public SegtoolTest {
 protected:
  BinaryResult RunBinary(const std::string& dir,
                         const std::vector<std::string>& args) {
    return RunProgram(SEGTOOL_BINARY, dir, args);
  }
};

TEST_F(BinaryTest, VersionAndHelpExitZero) {
  BinaryResult v = RunBinary(temp_.path(), {"--version"});
  ASSERT_TRUE(v.child.exited);
  EXPECT_EQ(v.child.exit_code, 0);
  EXPECT_EQ(v.out, absl::StrCat("segtool ", kVersion, "\n"));
  BinaryResult h = RunBinary(temp_.path(), {"cat", "--help"});
  ASSERT_TRUE(h.child.exited);
  EXPECT_EQ(h.child.exit_code, 0);
  EXPECT_THAT(h.out, HasSubstr("--max-points"));
}

TEST_F(BinaryTest, ExitCodes) {
  // The binary uses the real process probe, to which the fixture's writer
  // pid means nothing; ls only reads.
  BinaryResult ok = RunBinary(temp_.path(), {"ls", repo_path_});
  ASSERT_TRUE(ok.child.exited);
  EXPECT_EQ(ok.child.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr(run_ids_[0]));
  EXPECT_EQ(ok.err, "");  // not a terminal: no progress either

  BinaryResult missing =
      RunBinary(temp_.path(), {"ls", temp_.path() + "/missing"});
  EXPECT_EQ(missing.child.exit_code, 1);
  EXPECT_THAT(missing.err, StartsWith("segtool: "));

  // Usage errors, not problems found: an invalid run id, an empty path.
  BinaryResult bad_id = RunBinary(temp_.path(), {"show", repo_path_, "../x"});
  EXPECT_EQ(bad_id.child.exit_code, 2);
  EXPECT_THAT(bad_id.err, HasSubstr("invalid run id"));
  BinaryResult empty_path = RunBinary(temp_.path(), {"ls", ""});
  EXPECT_EQ(empty_path.child.exit_code, 2);
  EXPECT_THAT(empty_path.err, HasSubstr("repository path is empty"));

  BinaryResult usage = RunBinary(temp_.path(), {"nonsense"});
  EXPECT_EQ(usage.child.exit_code, 2);
  BinaryResult steps = RunBinary(
      temp_.path(), {"cat", repo_path_, run_ids_[0], "loss", "--steps", "a"});
  EXPECT_EQ(steps.child.exit_code, 2);
}

}  // namespace
}  // namespace runlog::segtool
