// segtool: the command-line front of tools/segtool/commands.h.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tools/segtool/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  runlog::segtool::Env env;
  env.progress = isatty(STDERR_FILENO) == 1;
  // $COLUMNS wins (set by shells, and by users who want another width);
  // otherwise the width of the terminal stdout is, if it is one.
  if (const char* columns = std::getenv("COLUMNS"); columns && *columns) {
    env.terminal_width = std::strtoul(columns, nullptr, 10);
  } else if (isatty(STDOUT_FILENO) == 1) {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
      env.terminal_width = ws.ws_col;
  }
  const int code = runlog::segtool::RunCli(args, env, std::cout, std::cerr);
  std::cout.flush();
  return code;
}
