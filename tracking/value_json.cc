#include "tracking/value_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tracking/double_text.h"

namespace runlog {
namespace {

// ---------------------------------------------------------------- output --

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode table
// 3-7: no overlongs, no surrogates, nothing above U+10FFFF), or 0.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  auto at = [&](size_t k) -> int {
    return k < s.size() ? static_cast<unsigned char>(s[k]) : -1;
  };
  auto in = [](int b, int lo, int hi) { return b >= lo && b <= hi; };
  const int b0 = at(i);
  if (b0 < 0x80) return 1;
  if (in(b0, 0xC2, 0xDF)) return in(at(i + 1), 0x80, 0xBF) ? 2 : 0;
  if (in(b0, 0xE0, 0xEF)) {
    const int lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const int hi = b0 == 0xED ? 0x9F : 0xBF;
    return in(at(i + 1), lo, hi) && in(at(i + 2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(b0, 0xF0, 0xF4)) {
    const int lo = b0 == 0xF0 ? 0x90 : 0x80;
    const int hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return in(at(i + 1), lo, hi) && in(at(i + 2), 0x80, 0xBF) &&
                   in(at(i + 3), 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

void AppendString(absl::string_view s, std::string* out) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        absl::StrAppendFormat(out, "\\u%04x", c);
        ++i;
      } else {
        out->append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

char* WriteDoubleText(double d, char* p) {
  if (std::isnan(d)) {
    std::memcpy(p, "NaN", 3);
    return p + 3;
  }
  if (std::isinf(d)) {
    const absl::string_view text = d > 0 ? "Infinity" : "-Infinity";
    std::memcpy(p, text.data(), text.size());
    return p + text.size();
  }
  // Shortest representation that parses back to the same double (at most
  // 24 characters: "-2.2250738585072014e-308").
  char* end = WriteShortestDouble(d, p);
  // "1" would read back as an int. (A plain loop: this runs once per
  // exported point, and find_first_of builds a table each call.)
  bool integral = true;
  for (const char* c = p; c != end; ++c) {
    if (*c == '.' || *c == 'e') {
      integral = false;
      break;
    }
  }
  if (integral) {
    end[0] = '.';
    end[1] = '0';
    end += 2;
  }
  return end;
}

void AppendDoubleText(double d, std::string* out) {
  char buf[kMaxJsonDoubleText];
  out->append(buf, static_cast<size_t>(WriteDoubleText(d, buf) - buf));
}

void AppendNewline(bool pretty, int indent, std::string* out) {
  if (!pretty) return;
  out->push_back('\n');
  out->append(static_cast<size_t>(indent) * 2, ' ');
}

void AppendJson(const Value& v, bool pretty, int indent, std::string* out) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      out->append("null");
      return;
    case Value::Kind::kBool:
      out->append(v.as_bool() ? "true" : "false");
      return;
    case Value::Kind::kInt:
      absl::StrAppend(out, v.as_int());
      return;
    case Value::Kind::kDouble:
      AppendDoubleText(v.as_double(), out);
      return;
    case Value::Kind::kString:
      AppendString(v.as_string(), out);
      return;
    case Value::Kind::kList: {
      const Value::List& list = v.as_list();
      out->push_back('[');
      for (size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendNewline(pretty, indent + 1, out);
        AppendJson(list[i], pretty, indent + 1, out);
      }
      if (!list.empty()) AppendNewline(pretty, indent, out);
      out->push_back(']');
      return;
    }
    case Value::Kind::kMap: {
      const Value::Map& map = v.as_map();
      out->push_back('{');
      bool first = true;
      for (const auto& [key, item] : map) {
        if (!first) out->push_back(',');
        first = false;
        AppendNewline(pretty, indent + 1, out);
        AppendString(key, out);
        out->append(pretty ? ": " : ":");
        AppendJson(item, pretty, indent + 1, out);
      }
      if (!map.empty()) AppendNewline(pretty, indent, out);
      out->push_back('}');
      return;
    }
  }
}

// ----------------------------------------------------------------- input --
//
// nlohmann's SAX parser does the strict-JSON work (lexing, UTF-8 and escape
// validation, number conversion). Two things it lacks are added around it:
//   - NaN/Infinity/-Infinity: a prescan replaces each such token outside
//     strings with `null` and remembers where; the handler turns exactly those
//     nulls back into doubles. Offsets are mapped back to the caller's text.
//   - positions: nlohmann reports a byte position only for its own errors, so
//     the input is fed through an iterator that records how far the lexer has
//     read. The lexer reads a literal, a string or a bracket and then reports
//     it before reading further, so at each callback that mark is the end of
//     the token just reported.

struct Special {
  size_t orig;      // offset of the token in the caller's text
  size_t subst;     // offset of its `null` in the substituted text
  size_t orig_len;  // 3, 8 or 9
  double value;
};
constexpr size_t kNullLen = 4;

class SubstitutedText {
 public:
  explicit SubstitutedText(absl::string_view text) {
    text_.reserve(text.size());
    bool in_string = false;
    size_t i = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (in_string) {
        text_.push_back(c);
        if (c == '\\' && i + 1 < text.size()) {
          text_.push_back(text[i + 1]);
          i += 2;
          continue;
        }
        if (c == '"') in_string = false;
        ++i;
        continue;
      }
      if (c == '"') in_string = true;
      const absl::string_view rest = text.substr(i);
      double value = 0;
      size_t len = 0;
      if (absl::StartsWith(rest, "NaN")) {
        value = std::numeric_limits<double>::quiet_NaN();
        len = 3;
      } else if (absl::StartsWith(rest, "Infinity")) {
        value = std::numeric_limits<double>::infinity();
        len = 8;
      } else if (absl::StartsWith(rest, "-Infinity")) {
        value = -std::numeric_limits<double>::infinity();
        len = 9;
      }
      if (len > 0) {
        specials_.push_back({i, text_.size(), len, value});
        text_.append("null");
        i += len;
      } else {
        text_.push_back(c);
        ++i;
      }
    }
  }

  const std::string& text() const { return text_; }

  // Offset in the caller's text of offset `pos` of the substituted text.
  size_t Original(size_t pos) const {
    auto it = std::upper_bound(
        specials_.begin(), specials_.end(), pos,
        [](size_t p, const Special& s) { return p < s.subst; });
    if (it == specials_.begin()) return pos;
    const Special& s = *std::prev(it);
    if (pos < s.subst + kNullLen)
      return s.orig + std::min(pos - s.subst, s.orig_len);
    return pos - (s.subst + kNullLen) + s.orig + s.orig_len;
  }

  // If the `null` ending at `end` was substituted, its double. Calls must come
  // with increasing `end`.
  const Special* TakeSpecial(size_t end) {
    while (next_ < specials_.size() &&
           specials_[next_].subst + kNullLen < end) {
      ++next_;
    }
    if (next_ < specials_.size() && specials_[next_].subst + kNullLen == end) {
      return &specials_[next_++];
    }
    return nullptr;
  }

 private:
  std::string text_;
  std::vector<Special> specials_;
  size_t next_ = 0;
};

// Input iterator over the substituted text recording the furthest position
// the parser has read.
class TrackingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TrackingIterator(const char* p, const char** furthest)
      : p_(p), furthest_(furthest) {}
  reference operator*() const { return *p_; }
  TrackingIterator& operator++() {
    ++p_;
    if (p_ > *furthest_) *furthest_ = p_;
    return *this;
  }
  TrackingIterator operator++(int) {
    TrackingIterator old = *this;
    ++*this;
    return old;
  }
  friend bool operator==(const TrackingIterator& a, const TrackingIterator& b) {
    return a.p_ == b.p_;
  }
  friend bool operator!=(const TrackingIterator& a, const TrackingIterator& b) {
    return a.p_ != b.p_;
  }

 private:
  const char* p_;
  const char** furthest_;
};

class ValueBuilder {
 public:
  using json = nlohmann::json;

  explicit ValueBuilder(SubstitutedText* in)
      : in_(in), base_(in->text().data()), furthest_(base_) {}

  const char** furthest() { return &furthest_; }
  absl::Status status() const { return status_; }
  Value TakeResult() { return std::move(result_); }

  bool null() {
    const Special* s = in_->TakeSpecial(consumed());
    return Add(s != nullptr ? Value(s->value) : Value());
  }
  bool boolean(bool b) { return Add(Value(b)); }
  bool number_integer(json::number_integer_t i) { return Add(Value(i)); }
  // Above INT64_MAX the Value constructor yields the nearest double.
  bool number_unsigned(json::number_unsigned_t u) { return Add(Value(u)); }
  bool number_float(json::number_float_t d, const json::string_t& /*raw*/) {
    return Add(Value(d));
  }
  bool string(json::string_t& s) { return Add(Value(std::move(s))); }
  bool binary(json::binary_t& /*b*/) {
    // Only produced by the binary formats (CBOR, ...), never by JSON text.
    return Fail(consumed(), "binary value");
  }
  bool start_object(std::size_t /*elements*/) {
    return Open(Value::EmptyMap());
  }
  bool start_array(std::size_t /*elements*/) {
    return Open(Value::EmptyList());
  }
  bool key(json::string_t& k) {
    if (stack_.back().Find(k) != nullptr) {
      return Fail(KeyStart(consumed()),
                  absl::StrCat("duplicate key \"", k, "\""));
    }
    keys_.back() = std::move(k);
    return true;
  }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    // what() reads "[json.exception.parse_error.101] parse error at line 1,
    // column 4: syntax error ..."; the line and column are those of the
    // substituted text, so keep only the description.
    absl::string_view what = ex.what();
    if (absl::StartsWith(what, "[")) {
      const size_t end = what.find("] ");
      if (end != absl::string_view::npos) what.remove_prefix(end + 2);
    }
    if (absl::StartsWith(what, "parse error")) {
      const size_t colon = what.find(": ");
      if (colon != absl::string_view::npos) what.remove_prefix(colon + 2);
    }
    const size_t pos =
        std::min(position > 0 ? position - 1 : 0, in_->text().size());
    return Fail(pos, what);
  }

 private:
  size_t consumed() const { return static_cast<size_t>(furthest_ - base_); }

  // `end` is just past the closing quote of a key; the offset of its opening
  // quote is that of the last quote before it not escaped by a backslash.
  size_t KeyStart(size_t end) const {
    const std::string& t = in_->text();
    if (end < 2) return 0;
    for (size_t q = end - 2; q > 0; --q) {
      if (t[q] != '"') continue;
      size_t backslashes = 0;
      while (backslashes < q && t[q - 1 - backslashes] == '\\') ++backslashes;
      if (backslashes % 2 == 0) return q;
    }
    return 0;
  }

  bool Fail(size_t subst_pos, absl::string_view what) {
    status_ = absl::InvalidArgumentError(absl::StrCat(
        "JSON byte offset ", in_->Original(subst_pos), ": ", what));
    return false;
  }

  bool Add(Value v) {
    if (stack_.empty()) {
      result_ = std::move(v);
      return true;
    }
    Value& top = stack_.back();
    if (top.is_list()) {
      top.mutable_list()->push_back(std::move(v));
    } else {
      top.mutable_map()->emplace(std::move(keys_.back()), std::move(v));
    }
    return true;
  }

  bool Open(Value container) {
    if (stack_.size() + 1 > static_cast<size_t>(kMaxValueDepth)) {
      return Fail(consumed() - 1, absl::StrCat("nesting deeper than ",
                                               kMaxValueDepth, " lists/maps"));
    }
    stack_.push_back(std::move(container));
    keys_.emplace_back();
    return true;
  }

  bool Close() {
    Value done = std::move(stack_.back());
    stack_.pop_back();
    keys_.pop_back();
    return Add(std::move(done));
  }

  SubstitutedText* in_;
  const char* base_;
  const char* furthest_;
  std::vector<Value> stack_;       // containers being filled, outermost first
  std::vector<std::string> keys_;  // per container: the key awaiting a value
  Value result_;
  absl::Status status_;
};

}  // namespace

std::string ToJson(const Value& v, bool pretty) {
  std::string out;
  AppendJson(v, pretty, 0, &out);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Value& v) {
  return os << ToJson(v);
}

absl::StatusOr<Value> ParseJson(absl::string_view text) {
  SubstitutedText input(text);
  ValueBuilder builder(&input);
  const char* begin = input.text().data();
  const char* end = begin + input.text().size();
  const bool ok = nlohmann::json::sax_parse(
      TrackingIterator(begin, builder.furthest()),
      TrackingIterator(end, builder.furthest()), &builder,
      nlohmann::json::input_format_t::json, /*strict=*/true,
      /*ignore_comments=*/false);
  if (!ok) {
    if (!builder.status().ok()) return builder.status();
    return absl::InvalidArgumentError("JSON: parse failed");
  }
  return builder.TakeResult();
}

void AppendJsonDouble(double d, std::string* out) { AppendDoubleText(d, out); }
char* WriteJsonDouble(double d, char* p) { return WriteDoubleText(d, p); }

}  // namespace runlog
