#include "tracking/query/lexer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace runlog::query {
namespace {

using ::runlog::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<TokenKind> Kinds(absl::string_view text) {
  absl::StatusOr<std::vector<Token>> t = Lex(text, "query");
  EXPECT_TRUE(t.ok()) << t.status();
  std::vector<TokenKind> out;
  if (t.ok()) {
    for (const Token& x : *t) out.push_back(x.kind);
  }
  return out;
}

TEST(LexerTest, EveryPunctuation) {
  EXPECT_THAT(
      Kinds(". , ( ) [ ] { } = == != <> < <= > >= ~ !~"),
      ElementsAre(TokenKind::kDot, TokenKind::kComma, TokenKind::kLParen,
                  TokenKind::kRParen, TokenKind::kLBracket,
                  TokenKind::kRBracket, TokenKind::kLBrace, TokenKind::kRBrace,
                  TokenKind::kEq, TokenKind::kEq, TokenKind::kNe,
                  TokenKind::kNe, TokenKind::kLt, TokenKind::kLe,
                  TokenKind::kGt, TokenKind::kGe, TokenKind::kMatch,
                  TokenKind::kNotMatch, TokenKind::kEnd));
}

TEST(LexerTest, NumbersAndDurations) {
  absl::StatusOr<std::vector<Token>> t =
      Lex("12 -3.5 1e-4 .5 +2 90s 1.5h 2h30m 100ms 3d", "query");
  ASSERT_TRUE(t.ok()) << t.status();
  std::vector<std::string> texts;
  for (const Token& x : *t) texts.push_back(x.text);
  EXPECT_THAT(texts, ElementsAre("12", "-3.5", "1e-4", ".5", "+2", "90s",
                                 "1.5h", "2h30m", "100ms", "3d", ""));
  EXPECT_EQ((*t)[0].kind, TokenKind::kNumber);
  EXPECT_EQ((*t)[5].kind, TokenKind::kDuration);
  EXPECT_EQ((*t)[9].kind, TokenKind::kDuration);
}

TEST(LexerTest, DotAfterNameIsNotANumber) {
  EXPECT_THAT(
      Kinds("params.x.5"),
      ElementsAre(TokenKind::kWord, TokenKind::kDot, TokenKind::kWord,
                  TokenKind::kDot, TokenKind::kNumber, TokenKind::kEnd));
}

TEST(LexerTest, StringsAndQuotedNames) {
  absl::StatusOr<std::vector<Token>> t =
      Lex(R"('it''s' "a\"b" `x-y` 'tab\\')", "query");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)[0].kind, TokenKind::kString);
  EXPECT_EQ((*t)[0].text, "it's");
  EXPECT_EQ((*t)[1].text, "a\"b");
  EXPECT_EQ((*t)[2].kind, TokenKind::kQuoted);
  EXPECT_EQ((*t)[2].text, "x-y");
  EXPECT_EQ((*t)[3].text, "tab\\");
}

TEST(LexerTest, WordsKeepSlashes) {
  absl::StatusOr<std::vector<Token>> t = Lex("train/loss", "query");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0].text, "train/loss");
}

TEST(LexerTest, PositionsCountLinesAndColumns) {
  absl::StatusOr<std::vector<Token>> t = Lex("a\n  bb", "query");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[1].line, 2);
  EXPECT_EQ((*t)[1].column, 3);
}

TEST(LexerTest, UnterminatedString) {
  EXPECT_THAT(Lex("name = 'abc", "query"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("query:1:8: unterminated string")));
}

TEST(LexerTest, UnterminatedQuotedName) {
  EXPECT_THAT(Lex("params.`abc", "query"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("query:1:8: unterminated back-quoted name")));
}

TEST(LexerTest, UnexpectedCharacter) {
  EXPECT_THAT(Lex("a & b", "query"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("query:1:3: unexpected character '&'")));
  EXPECT_THAT(Lex("a \x01", "query"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("query:1:3: unexpected byte 0x01")));
}

TEST(LexerTest, MalformedNumber) {
  EXPECT_THAT(Lex("x > 12abc_", "query"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("query:1:5: malformed number")));
}

TEST(LexerTest, TooLong) {
  EXPECT_THAT(Lex(std::string(kMaxQueryBytes + 1, ' '), "query"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("over the limit of 4096")));
  EXPECT_TRUE(Lex(std::string(kMaxQueryBytes, ' '), "query").ok());
}

}  // namespace
}  // namespace runlog::query
