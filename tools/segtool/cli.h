// segtool's command line: parses arguments with CLI11 and runs the command.
#ifndef RUNLOG_TOOLS_SEGTOOL_CLI_H_
#define RUNLOG_TOOLS_SEGTOOL_CLI_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/segtool/commands.h"
#include "tracking/series.h"

namespace runlog::segtool {

// Runs `segtool <args...>` (args excludes the program name) and returns the
// exit code (commands.h). --help and --version print to `out` and return 0;
// usage errors print one line to `err` and return kExitUsage.
int RunCli(const std::vector<std::string>& args, const Env& env,
           std::ostream& out, std::ostream& err);

// "A:B", "A:" or ":B" (inclusive, either end open), or "A" for one step.
// InvalidArgument naming the text otherwise.
absl::StatusOr<StepRange> ParseSteps(absl::string_view text);

// "key=value" (the key non-empty; the value may be empty or hold '=').
// InvalidArgument naming the text otherwise.
absl::StatusOr<std::pair<std::string, std::string>> ParseContextEntry(
    absl::string_view text);

}  // namespace runlog::segtool

#endif  // RUNLOG_TOOLS_SEGTOOL_CLI_H_
