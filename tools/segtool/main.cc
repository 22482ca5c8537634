// segtool: the command-line front of tools/segtool/commands.h.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "tools/segtool/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  runlog::segtool::Env env;
  env.progress = isatty(STDERR_FILENO) == 1;
  const int code = runlog::segtool::RunCli(args, env, std::cout, std::cerr);
  std::cout.flush();
  return code;
}
