// The parser of the query language (docs/query.md has the grammar).
//
//   ASSIGN_OR_RETURN(auto expr, ParseWhere("metrics.acc > 0.9 and "
//                                          "params.model = 'resnet'"));
//
// Errors are InvalidArgument and name the place as "<source>:LINE:COL:"
// ("query:1:18: unknown field 'metrcs' (did you mean 'metrics'?)"). Work
// is linear in the text, which is at most kMaxQueryBytes; patterns are
// compiled with RE2, whose matching time is linear in the subject.
//
// Thread-safety: pure functions.
#ifndef RUNLOG_TRACKING_QUERY_PARSER_H_
#define RUNLOG_TRACKING_QUERY_PARSER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracking/query/ast.h"

namespace runlog::query {

// Deepest nesting of parentheses and NOT.
inline constexpr int kMaxNesting = 64;
// Most items in one IN (...) list.
inline constexpr size_t kMaxInItems = 10000;

// nullptr for text that is empty or only spaces: every run matches.
absl::StatusOr<std::unique_ptr<Expr>> ParseWhere(
    absl::string_view text, absl::string_view source = "query");

// One field alone, as --columns and order_by name them
// ("params.lr", "metrics.loss{subset=train}.min", "created").
absl::StatusOr<Field> ParseField(absl::string_view text,
                                 absl::string_view source = "field");

// "FIELD [ASC|DESC]".
absl::StatusOr<OrderKey> ParseOrderKey(absl::string_view text,
                                       absl::string_view source = "order_by");

}  // namespace runlog::query

#endif  // RUNLOG_TRACKING_QUERY_PARSER_H_
