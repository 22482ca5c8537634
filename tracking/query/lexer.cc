#include "tracking/query/lexer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace runlog::query {
namespace {

bool IsWordStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsWordChar(char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '/';
}
bool IsDigit(char c) { return absl::ascii_isdigit(c); }

class Lexer {
 public:
  Lexer(absl::string_view text, absl::string_view source)
      : text_(text), source_(source) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      SkipSpace();
      Token t;
      t.line = line_;
      t.column = static_cast<int>(pos_ - line_start_) + 1;
      t.offset = pos_;
      if (pos_ >= text_.size()) {
        t.kind = TokenKind::kEnd;
        out.push_back(std::move(t));
        return out;
      }
      const char c = text_[pos_];
      if (IsWordStart(c)) {
        size_t end = pos_ + 1;
        while (end < text_.size() && IsWordChar(text_[end])) ++end;
        t.kind = TokenKind::kWord;
        t.text = std::string(text_.substr(pos_, end - pos_));
        pos_ = end;
      } else if (IsDigit(c) ||
                 ((c == '-' || c == '+' || (c == '.' && !AfterName(out))) &&
                  pos_ + 1 < text_.size() &&
                  (IsDigit(text_[pos_ + 1]) ||
                   (c != '.' && text_[pos_ + 1] == '.' &&
                    pos_ + 2 < text_.size() && IsDigit(text_[pos_ + 2]))))) {
        absl::Status s = LexNumber(t);
        if (!s.ok()) return s;
      } else if (c == '\'' || c == '"' || c == '`') {
        absl::Status s = LexQuoted(c, t);
        if (!s.ok()) return s;
      } else {
        absl::Status s = LexPunct(t);
        if (!s.ok()) return s;
      }
      out.push_back(std::move(t));
    }
  }

 private:
  absl::Status ErrorAt(size_t offset, absl::string_view what) const {
    // Column of `offset` on its line.
    int line = 1;
    size_t start = 0;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        start = i + 1;
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":", line, ":", offset - start + 1, ": ", what));
  }

  // Whether a '.' here continues a dotted name ("params.x.5") rather than
  // starting a number (".5").
  static bool AfterName(const std::vector<Token>& out) {
    if (out.empty()) return false;
    switch (out.back().kind) {
      case TokenKind::kWord:
      case TokenKind::kQuoted:
      case TokenKind::kRBracket:
      case TokenKind::kRBrace:
        return true;
      default:
        return false;
    }
  }

  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(text_[pos_])) {
      if (text_[pos_] == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      }
      ++pos_;
    }
  }

  // A number, or a duration when unit letters follow it directly.
  absl::Status LexNumber(Token& t) {
    const size_t start = pos_;
    size_t i = pos_;
    if (text_[i] == '-' || text_[i] == '+') ++i;
    while (i < text_.size() && IsDigit(text_[i])) ++i;
    if (i < text_.size() && text_[i] == '.') {
      ++i;
      while (i < text_.size() && IsDigit(text_[i])) ++i;
    }
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
      size_t j = i + 1;
      if (j < text_.size() && (text_[j] == '-' || text_[j] == '+')) ++j;
      if (j < text_.size() && IsDigit(text_[j])) {
        while (j < text_.size() && IsDigit(text_[j])) ++j;
        i = j;
      }
    }
    if (i < text_.size() && absl::ascii_isalpha(text_[i])) {
      // Duration: one or more (number unit) parts, as absl::ParseDuration
      // reads them; "d" is accepted too and handled by the parser.
      size_t j = i;
      while (j < text_.size() &&
             (absl::ascii_isalnum(text_[j]) || text_[j] == '.')) {
        ++j;
      }
      if (j < text_.size() && IsWordChar(text_[j])) {
        return ErrorAt(start,
                       absl::StrCat("malformed number '",
                                    text_.substr(start, j + 1 - start), "'"));
      }
      t.kind = TokenKind::kDuration;
      t.text = std::string(text_.substr(start, j - start));
      pos_ = j;
      return absl::OkStatus();
    }
    if (i < text_.size() && IsWordChar(text_[i])) {
      return ErrorAt(start,
                     absl::StrCat("malformed number '",
                                  text_.substr(start, i + 1 - start), "'"));
    }
    t.kind = TokenKind::kNumber;
    t.text = std::string(text_.substr(start, i - start));
    pos_ = i;
    return absl::OkStatus();
  }

  // 'string', "string" or `name`. Inside, the quote doubled or a backslash
  // before any character stands for that character.
  absl::Status LexQuoted(char quote, Token& t) {
    const size_t start = pos_;
    std::string value;
    size_t i = pos_ + 1;
    while (true) {
      if (i >= text_.size()) {
        return ErrorAt(start, quote == '`' ? "unterminated back-quoted name"
                                           : "unterminated string");
      }
      const char c = text_[i];
      if (c == '\\' && i + 1 < text_.size()) {
        value.push_back(text_[i + 1]);
        i += 2;
      } else if (c == quote) {
        if (i + 1 < text_.size() && text_[i + 1] == quote) {
          value.push_back(quote);
          i += 2;
        } else {
          ++i;
          break;
        }
      } else {
        if (c == '\n') {
          ++line_;
          line_start_ = i + 1;
        }
        value.push_back(c);
        ++i;
      }
    }
    t.kind = quote == '`' ? TokenKind::kQuoted : TokenKind::kString;
    t.text = std::move(value);
    pos_ = i;
    return absl::OkStatus();
  }

  absl::Status LexPunct(Token& t) {
    const char c = text_[pos_];
    const char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    auto one = [&](TokenKind k) {
      t.kind = k;
      t.text = std::string(1, c);
      pos_ += 1;
      return absl::OkStatus();
    };
    auto two = [&](TokenKind k) {
      t.kind = k;
      t.text = std::string(text_.substr(pos_, 2));
      pos_ += 2;
      return absl::OkStatus();
    };
    switch (c) {
      case '.':
        return one(TokenKind::kDot);
      case ',':
        return one(TokenKind::kComma);
      case '(':
        return one(TokenKind::kLParen);
      case ')':
        return one(TokenKind::kRParen);
      case '[':
        return one(TokenKind::kLBracket);
      case ']':
        return one(TokenKind::kRBracket);
      case '{':
        return one(TokenKind::kLBrace);
      case '}':
        return one(TokenKind::kRBrace);
      case '~':
        return one(TokenKind::kMatch);
      case '=':
        return next == '=' ? two(TokenKind::kEq) : one(TokenKind::kEq);
      case '!':
        if (next == '=') return two(TokenKind::kNe);
        if (next == '~') return two(TokenKind::kNotMatch);
        break;
      case '<':
        if (next == '=') return two(TokenKind::kLe);
        if (next == '>') return two(TokenKind::kNe);
        return one(TokenKind::kLt);
      case '>':
        return next == '=' ? two(TokenKind::kGe) : one(TokenKind::kGt);
      default:
        break;
    }
    const unsigned char u = static_cast<unsigned char>(c);
    return ErrorAt(pos_, u >= 0x20 && u < 0x7f
                             ? absl::StrCat("unexpected character '",
                                            absl::string_view(&c, 1), "'")
                             : absl::StrFormat("unexpected byte 0x%02x", u));
  }

  absl::string_view text_;
  absl::string_view source_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
};

}  // namespace

std::string TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kWord:
      return "a name";
    case TokenKind::kQuoted:
      return "a back-quoted name";
    case TokenKind::kString:
      return "a string";
    case TokenKind::kNumber:
      return "a number";
    case TokenKind::kDuration:
      return "a duration";
    case TokenKind::kDot:
      return "'.'";
    case TokenKind::kComma:
      return "','";
    case TokenKind::kLParen:
      return "'('";
    case TokenKind::kRParen:
      return "')'";
    case TokenKind::kLBracket:
      return "'['";
    case TokenKind::kRBracket:
      return "']'";
    case TokenKind::kLBrace:
      return "'{'";
    case TokenKind::kRBrace:
      return "'}'";
    case TokenKind::kEq:
      return "'='";
    case TokenKind::kNe:
      return "'!='";
    case TokenKind::kLt:
      return "'<'";
    case TokenKind::kLe:
      return "'<='";
    case TokenKind::kGt:
      return "'>'";
    case TokenKind::kGe:
      return "'>='";
    case TokenKind::kMatch:
      return "'~'";
    case TokenKind::kNotMatch:
      return "'!~'";
    case TokenKind::kEnd:
      return "end of query";
  }
  return "a token";
}

absl::StatusOr<std::vector<Token>> Lex(absl::string_view text,
                                       absl::string_view source) {
  if (text.size() > kMaxQueryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": query is ", text.size(),
                     " bytes, over the limit of ", kMaxQueryBytes));
  }
  return Lexer(text, source).Run();
}

}  // namespace runlog::query
