// The README's C++ quick start must be exactly tools/quickstart.cc, which the
// build compiles and links, so the README's code always compiles as written.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace runlog {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string SourceDir() {
  const char* dir = std::getenv("RUNLOG_TEST_SRCDIR");
  return dir != nullptr ? dir : "../..";
}

TEST(ReadmeTest, QuickStartIsTheCompiledExample) {
  const std::string readme = Slurp(SourceDir() + "/README.md");
  const std::string example = Slurp(SourceDir() + "/tools/quickstart.cc");
  ASSERT_FALSE(readme.empty());
  ASSERT_FALSE(example.empty());
  const std::string fence = "```cpp\n";
  const size_t begin = readme.find(fence);
  ASSERT_NE(begin, std::string::npos);
  const size_t end = readme.find("```", begin + fence.size());
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(readme.substr(begin + fence.size(), end - begin - fence.size()),
            example);
}

}  // namespace
}  // namespace runlog
