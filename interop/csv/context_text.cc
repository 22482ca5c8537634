#include "interop/csv/context_text.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace runlog::interop {
namespace {

void AppendEscaped(absl::string_view s, std::string* out) {
  for (char c : s) {
    if (c == ',' || c == '=' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
}

}  // namespace

std::string FormatContextText(const Context& context) {
  std::string out;
  for (const auto& [key, value] : context) {
    if (!out.empty()) out.push_back(',');
    AppendEscaped(key, &out);
    out.push_back('=');
    AppendEscaped(value, &out);
  }
  return out;
}

absl::StatusOr<Context> ParseContextText(absl::string_view text) {
  Context context;
  if (text.empty()) return context;
  auto malformed = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("context '", text, "' is not k=v,k=v: ", why));
  };
  std::string key, value;
  std::string* part = &key;
  bool seen_eq = false;
  auto finish_entry = [&]() -> absl::Status {
    if (!seen_eq)
      return malformed(absl::StrCat("entry '", key, "' has no '='"));
    if (key.empty()) return malformed("an entry has an empty key");
    if (!context.emplace(std::move(key), std::move(value)).second) {
      return malformed("a key appears twice");
    }
    key.clear();
    value.clear();
    part = &key;
    seen_eq = false;
    return absl::OkStatus();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() &&
        (text[i + 1] == ',' || text[i + 1] == '=' || text[i + 1] == '\\')) {
      part->push_back(text[++i]);
    } else if (c == ',') {
      if (absl::Status s = finish_entry(); !s.ok()) return s;
    } else if (c == '=' && !seen_eq) {
      seen_eq = true;
      part = &value;
    } else {
      part->push_back(c);
    }
  }
  if (absl::Status s = finish_entry(); !s.ok()) return s;
  return context;
}

}  // namespace runlog::interop
