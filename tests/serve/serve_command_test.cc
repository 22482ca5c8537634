// `segtool serve` as a command: failures to start are exit 1 with a message,
// and SIGINT or SIGTERM stop a serving process cleanly (exit 0).
#include "tools/serve/serve_command.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/testing/child_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tracking/repo.h"

namespace runlog::serve {
namespace {

using ::runlog::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Every path under `root` with its size, to see that nothing changed. The
// repository's CATALOG is left out: it is the listing cache that every
// process that lists runs may rewrite (storage/run_catalog.h).
std::set<std::string> Tree(const std::string& root) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (e.path().filename() == "CATALOG") continue;
    out.insert(e.path().string() + " " +
               (e.is_regular_file() ? std::to_string(e.file_size()) : "dir"));
  }
  return out;
}

TEST(ServeCommandTest, MissingRepositoryIsExit1) {
  runlog::testing::TempDir dir;
  ServeArgs args;
  args.repo = dir.path() + "/nosuch";
  args.port = 0;
  std::ostringstream out, err;
  EXPECT_EQ(RunServe(args, out, err), 1);
  EXPECT_THAT(err.str(), HasSubstr("nosuch"));
  EXPECT_EQ(out.str(), "");
}

TEST(ServeCommandTest, BusyPortIsExit1) {
  runlog::testing::TempDir dir;
  ASSERT_THAT(Repo::Open(dir.path() + "/repo"), IsOk());
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ServeArgs args;
  args.repo = dir.path() + "/repo";
  args.port = ntohs(addr.sin_port);
  std::ostringstream out, err;
  EXPECT_EQ(RunServe(args, out, err), 1);
  EXPECT_THAT(err.str(), HasSubstr("cannot listen on 127.0.0.1"));
  close(fd);
}

class ServeSignalTest : public ::testing::TestWithParam<int> {};

TEST_P(ServeSignalTest, StopsCleanly) {
  runlog::testing::TempDir dir;
  {
    auto repo = Repo::Open(dir.path() + "/repo");
    ASSERT_THAT(repo, IsOk());
    auto run = (*repo)->CreateRun({.name = "r"});
    ASSERT_THAT(run, IsOk());
    ASSERT_THAT((*run)->Track("loss", 0.5, 0), IsOk());
    ASSERT_THAT((*run)->Commit(), IsOk());
  }
  const std::set<std::string> before = Tree(dir.path());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = runlog::testing::StartChild([&] {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    ServeArgs args;
    args.repo = dir.path() + "/repo";
    args.port = 0;
    return RunServe(args, std::cout, std::cerr);
  });
  close(fds[1]);
  const std::string line = runlog::testing::ReadLine(fds[0]);
  ASSERT_THAT(line, MatchesRegex(".*http://127\\.0\\.0\\.1:[0-9]+/.*"));
  const size_t at = line.find("127.0.0.1:") + 10;
  const int port = std::stoi(line.substr(at));
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/api/runs");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ASSERT_EQ(kill(pid, GetParam()), 0);
  const runlog::testing::ChildResult r =
      runlog::testing::WaitChild(pid, absl::Seconds(20));
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(r.exited) << "signal " << r.signal;
  EXPECT_EQ(r.exit_code, 0);
  // Skip the note line of a build without the UI, then "stopped".
  std::string rest = runlog::testing::ReadLine(fds[0]);
  if (absl::StartsWith(rest, "note:")) rest = runlog::testing::ReadLine(fds[0]);
  EXPECT_EQ(rest, "stopped");
  close(fds[0]);
  // Nothing was written, in the repository or beside it.
  EXPECT_EQ(Tree(dir.path()), before);
}

INSTANTIATE_TEST_SUITE_P(Signals, ServeSignalTest,
                         ::testing::Values(SIGINT, SIGTERM));

}  // namespace
}  // namespace runlog::serve
