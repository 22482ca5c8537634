// The columns `segtool ls` shows beside each run: those named by --columns,
// or by default the params whose values differ across the listed runs and
// the last value of every scalar series they all have (the table Aim and
// W&B show), cut to the terminal's width.
#ifndef RUNLOG_TOOLS_SEGTOOL_RUN_TABLE_H_
#define RUNLOG_TOOLS_SEGTOOL_RUN_TABLE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracking/query/ast.h"
#include "tracking/repo.h"
#include "tracking/value.h"

namespace runlog::segtool {

// "params.lr,metrics[\"acc\", subset=\"val\"].max,created": fields split at
// the commas outside brackets, braces and quotes. InvalidArgument naming
// "--columns" and the place for an empty or malformed field.
absl::StatusOr<std::vector<query::Field>> ParseColumns(absl::string_view list);

// Params (leaves of the tree; lists are leaves) whose values are not the
// same in every run — every param when there is one run — then the last
// value of each scalar series every run has, in the first run's order.
std::vector<query::Field> DefaultColumns(const std::vector<RunRecord>& runs);

// A cell for a human table: "-" when missing, numbers short, text on one
// line, lists and maps as compact JSON.
std::string CellText(const std::optional<Value>& v);
// A CSV cell: empty when missing, numbers exact.
std::string CsvCell(const std::optional<Value>& v);

}  // namespace runlog::segtool

#endif  // RUNLOG_TOOLS_SEGTOOL_RUN_TABLE_H_
