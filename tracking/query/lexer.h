// Tokens of the query language (docs/query.md). The lexer only splits text;
// what a word means (a keyword, a field prefix) is the parser's business.
//
// Thread-safety: Lex is a pure function.
#ifndef RUNLOG_TRACKING_QUERY_LEXER_H_
#define RUNLOG_TRACKING_QUERY_LEXER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runlog::query {

// Queries longer than this are refused before any work (InvalidArgument).
inline constexpr size_t kMaxQueryBytes = 4096;

enum class TokenKind {
  kWord,      // identifier or keyword: [A-Za-z_][A-Za-z0-9_/]*
  kQuoted,    // `name`: a back-quoted name, never a keyword
  kString,    // 'text' or "text" (quote doubled or backslash-escaped inside)
  kNumber,    // 12, -3.5, 1e-4, .5
  kDuration,  // 90s, 1.5h, 2h30m, 100ms (units ns us ms s m h d)
  kDot,
  kComma,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kEq,  // = or ==
  kNe,  // != or <>
  kLt,
  kLe,
  kGt,
  kGe,
  kMatch,     // ~
  kNotMatch,  // !~
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  // For kString and kQuoted the text without quotes, escapes resolved; for
  // the others the characters as written.
  std::string text;
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in bytes
  size_t offset = 0;
};

// A readable name for error messages: "')'", "a string", "end of query".
std::string TokenKindName(TokenKind kind);

// Splits `text` into tokens ending with one kEnd. InvalidArgument with
// "<source>:LINE:COL: ..." for text over kMaxQueryBytes, an unterminated
// string, or a character outside the language.
absl::StatusOr<std::vector<Token>> Lex(absl::string_view text,
                                       absl::string_view source);

}  // namespace runlog::query

#endif  // RUNLOG_TRACKING_QUERY_LEXER_H_
