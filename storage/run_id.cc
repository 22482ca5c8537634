#include "storage/run_id.h"

#include <cstdint>
#include <string>

#include "absl/random/distributions.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "storage/format.h"

namespace runlog::storage {
namespace {

constexpr char kBase36Digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr size_t kMaxEscapedIdInMessage = 64;

bool IsRunIdChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

// 36^9: the first millisecond count that no longer fits in the time digits.
constexpr int64_t TimeDigitsLimit() {
  int64_t limit = 1;
  for (size_t i = 0; i < format::kRunIdTimeDigits; ++i) limit *= 36;
  return limit;
}

// Escapes `id` for a message, stopping before the escaped text would exceed
// kMaxEscapedIdInMessage characters so a huge id cannot flood logs.
std::string EscapeForMessage(absl::string_view id) {
  std::string out;
  for (size_t i = 0; i < id.size(); ++i) {
    std::string piece = absl::CHexEscape(id.substr(i, 1));
    if (out.size() + piece.size() > kMaxEscapedIdInMessage) {
      absl::StrAppend(&out, "...");
      break;
    }
    out += piece;
  }
  return out;
}

}  // namespace

bool IsValidRunId(absl::string_view id) {
  if (id.empty() || id.size() > format::kMaxRunIdLength) return false;
  for (char c : id) {
    if (!IsRunIdChar(c)) return false;
  }
  return true;
}

absl::Status ValidateRunId(absl::string_view id) {
  if (IsValidRunId(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid run id \"", EscapeForMessage(id), "\" (", id.size(),
                   " bytes): must be 1 to ", format::kMaxRunIdLength,
                   " characters of [0-9a-z]"));
}

std::string NewRunId(absl::Time now, absl::BitGenRef gen) {
  int64_t ms = absl::ToUnixMillis(now);
  // Clamped rather than wrapped: wrapping would break the sort-by-time
  // property silently, while clamping only affects absurd clocks.
  if (ms < 0) ms = 0;
  if (ms >= TimeDigitsLimit()) ms = TimeDigitsLimit() - 1;

  std::string id(format::kRunIdTimeDigits + format::kRunIdRandomDigits, '0');
  for (size_t i = format::kRunIdTimeDigits; i-- > 0;) {
    id[i] = kBase36Digits[ms % 36];
    ms /= 36;
  }
  for (size_t i = format::kRunIdTimeDigits; i < id.size(); ++i) {
    id[i] = kBase36Digits[absl::Uniform<int>(gen, 0, 36)];
  }
  return id;
}

}  // namespace runlog::storage
