// The bounded request parameters of the web UI's JSON API (docs/ui.md).
//
// Every parser returns InvalidArgument naming the parameter and the reason;
// hostile values (huge, negative, malformed, over the size limits) never get
// past these functions, so the handlers only see values within the limits
// below. Pure functions; thread-safe.
#ifndef RUNLOG_TOOLS_SERVE_PARAMS_H_
#define RUNLOG_TOOLS_SERVE_PARAMS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracking/series.h"

namespace runlog::serve {

inline constexpr size_t kMaxPointsLimit = 20'000;
inline constexpr size_t kMinMaxPoints = 2;
inline constexpr size_t kDefaultMaxPoints = 1'000;
inline constexpr size_t kMaxRunsPerRequest = 1'000;
inline constexpr size_t kMaxQueryBytes = 4 * 1024;
inline constexpr size_t kMaxListLimit = 100'000;
inline constexpr size_t kMaxNameBytes = 1'024;

// A decimal integer in [min, max]; `name` is the parameter's name.
absl::StatusOr<int64_t> ParseBoundedInt(absl::string_view name,
                                        absl::string_view text, int64_t min,
                                        int64_t max);

// "A:B", "A:", ":B" or "A" (inclusive); empty means every step.
absl::StatusOr<StepRange> ParseStepRange(absl::string_view text);

// Comma-separated run ids, each valid (storage/run_id.h), 1 to
// kMaxRunsPerRequest of them, no duplicates, in the order given.
absl::StatusOr<std::vector<std::string>> ParseRunIds(absl::string_view text);

// A JSON object of strings, e.g. {"subset":"train"}; empty text is {}.
absl::StatusOr<Context> ParseContext(absl::string_view text);

// Comma-separated "FIELD [ASC|DESC]" keys; empty text is no key. The whole
// text is at most kMaxQueryBytes.
absl::StatusOr<std::vector<std::string>> ParseOrderBy(absl::string_view text);

// A query-language filter: at most kMaxQueryBytes.
absl::StatusOr<std::string> ParseWhere(absl::string_view text);

// A series name: 1 to kMaxNameBytes bytes.
absl::StatusOr<std::string> ParseSeriesName(absl::string_view text);

}  // namespace runlog::serve

#endif  // RUNLOG_TOOLS_SERVE_PARAMS_H_
