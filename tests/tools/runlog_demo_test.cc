// runlog-demo's command line (the demo itself is run by scripts/demo.sh and
// the web UI's end-to-end test): options are never taken for a repository.
#include <filesystem>
#include <string>

#include "tests/tools/segtool_fixture.h"

namespace runlog::segtool {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class RunlogDemoTest : public ::testing::Test {
 protected:
  BinaryResult Demo(const std::vector<std::string>& args) {
    return RunProgram(RUNLOG_DEMO_BINARY, temp_.path(), args);
  }
  // What the run left in its working directory besides its output files.
  std::vector<std::string> Made() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(temp_.path())) {
      const std::string name = e.path().filename().string();
      if (name != "stdout" && name != "stderr") names.push_back(name);
    }
    return names;
  }
  testing::TempDir temp_;
};

TEST_F(RunlogDemoTest, HelpPrintsUsageAndCreatesNothing) {
  for (const char* flag : {"--help", "-h"}) {
    BinaryResult r = Demo({flag});
    ASSERT_TRUE(r.child.exited) << flag;
    EXPECT_EQ(r.child.exit_code, 0) << flag;
    EXPECT_THAT(r.out, StartsWith("usage: runlog-demo [--] REPO_DIR\n"));
    EXPECT_EQ(r.err, "") << flag;
    EXPECT_THAT(Made(), IsEmpty()) << flag;
  }
}

TEST_F(RunlogDemoTest, UnknownOptionIsAUsageError) {
  BinaryResult r = Demo({"--repo"});
  ASSERT_TRUE(r.child.exited);
  EXPECT_EQ(r.child.exit_code, 2);
  EXPECT_EQ(r.err,
            "runlog-demo: unknown option '--repo' (try runlog-demo --help)\n");
  EXPECT_THAT(Made(), IsEmpty());
}

TEST_F(RunlogDemoTest, MissingOrExtraRepoIsAUsageError) {
  BinaryResult none = Demo({});
  EXPECT_EQ(none.child.exit_code, 2);
  EXPECT_THAT(none.err, StartsWith("usage: runlog-demo"));
  BinaryResult two = Demo({"a", "b"});
  EXPECT_EQ(two.child.exit_code, 2);
  EXPECT_THAT(two.err, HasSubstr("give one REPO_DIR"));
  BinaryResult empty = Demo({""});
  EXPECT_EQ(empty.child.exit_code, 2);
  EXPECT_THAT(empty.err, HasSubstr("REPO_DIR is empty"));
  EXPECT_THAT(Made(), IsEmpty());
}

TEST_F(RunlogDemoTest, RefusesADirectoryHoldingOtherFiles) {
  std::filesystem::create_directory(temp_.path() + "/data");
  std::ofstream(temp_.path() + "/data/notes.txt") << "mine\n";
  BinaryResult r = Demo({"--", "data"});
  ASSERT_TRUE(r.child.exited);
  EXPECT_EQ(r.child.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is not a runlog repository"));
  EXPECT_FALSE(std::filesystem::exists(temp_.path() + "/data/RUNLOG"));
}

}  // namespace
}  // namespace runlog::segtool
