// "Did you mean" for mistyped names: the query language's fields, and
// segtool's commands, flags and series names.
#ifndef RUNLOG_TRACKING_QUERY_SUGGEST_H_
#define RUNLOG_TRACKING_QUERY_SUGGEST_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace runlog::query {

// Levenshtein distance, ASCII letters compared without case.
size_t EditDistance(absl::string_view a, absl::string_view b);

// The candidate closest to `word` if it is near enough to be a typo (at most
// max(2, |word| / 3) edits; the first of equally close ones), else "".
std::string ClosestMatch(absl::string_view word,
                         const std::vector<std::string>& candidates);

}  // namespace runlog::query

#endif  // RUNLOG_TRACKING_QUERY_SUGGEST_H_
