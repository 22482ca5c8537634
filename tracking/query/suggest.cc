#include "tracking/query/suggest.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"

namespace runlog::query {

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (absl::ascii_tolower(a[i - 1]) !=
                                        absl::ascii_tolower(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string ClosestMatch(absl::string_view word,
                         const std::vector<std::string>& candidates) {
  size_t best = std::max<size_t>(2, word.size() / 3) + 1;
  std::string pick;
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best) {
      best = d;
      pick = c;
    }
  }
  return pick;
}

}  // namespace runlog::query
