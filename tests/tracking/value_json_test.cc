#include "tracking/value_json.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/double_bits.h"
#include "tests/testing/status_matchers.h"
#include "tracking/value.h"

namespace runlog {
namespace {

using ::runlog::testing::Bits;

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr double kInf = std::numeric_limits<double>::infinity();

Value Parse(absl::string_view text) {
  absl::StatusOr<Value> v = ParseJson(text);
  EXPECT_THAT(v, IsOk()) << text;
  return v.ok() ? *std::move(v) : Value("<parse error>");
}

// ---------------------------------------------------------------- output --

TEST(ToJsonTest, Scalars) {
  EXPECT_EQ(ToJson(Value()), "null");
  EXPECT_EQ(ToJson(true), "true");
  EXPECT_EQ(ToJson(false), "false");
  EXPECT_EQ(ToJson(-42), "-42");
  EXPECT_EQ(ToJson(std::numeric_limits<int64_t>::min()),
            "-9223372036854775808");
  EXPECT_EQ(ToJson("hi"), "\"hi\"");
}

TEST(ToJsonTest, DoublesAreShortestAndLookLikeDoubles) {
  EXPECT_EQ(ToJson(0.1), "0.1");
  EXPECT_EQ(ToJson(0.001), "0.001");
  EXPECT_EQ(ToJson(1.0), "1.0");
  EXPECT_EQ(ToJson(-0.0), "-0.0");
  EXPECT_EQ(ToJson(100.0), "100.0");
  EXPECT_EQ(ToJson(1e21), "1e+21");
  EXPECT_EQ(ToJson(5e-324), "5e-324");
  EXPECT_EQ(ToJson(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(ToJson(1.7976931348623157e308), "1.7976931348623157e+308");
}

TEST(ToJsonTest, NonFiniteDoublesUsePythonTokens) {
  EXPECT_EQ(ToJson(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(ToJson(kInf), "Infinity");
  EXPECT_EQ(ToJson(-kInf), "-Infinity");
}

TEST(ToJsonTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(ToJson("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(ToJson("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(ToJson(std::string("\x00\x01\x1f\x7f", 4)),
            "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(ToJson("/"), "\"/\"");
}

TEST(ToJsonTest, ValidUtf8IsWrittenAsIs) {
  const std::string s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  EXPECT_EQ(ToJson(s), "\"" + s + "\"");
}

TEST(ToJsonTest, InvalidUtf8BytesAreEscaped) {
  EXPECT_EQ(ToJson("\xff"), R"("\u00ff")");
  EXPECT_EQ(ToJson("a\xc3"), R"("a\u00c3")");                    // truncated
  EXPECT_EQ(ToJson("\xc0\x80"), R"("\u00c0\u0080")");            // overlong
  EXPECT_EQ(ToJson("\xed\xa0\x80"), R"("\u00ed\u00a0\u0080")");  // surrogate
  EXPECT_EQ(ToJson("\xf4\x90\x80\x80"),                          // > U+10FFFF
            R"("\u00f4\u0090\u0080\u0080")");
  EXPECT_EQ(ToJson("\x80x"), R"("\u0080x")");  // lone continuation
}

TEST(ToJsonTest, CompactContainers) {
  const Value v = Value::Map{{"b", Value::List{1, 2.5, "x"}},
                             {"a", Value::EmptyMap()},
                             {"c", Value::EmptyList()},
                             {"k\"ey", nullptr}};
  EXPECT_EQ(ToJson(v), R"({"a":{},"b":[1,2.5,"x"],"c":[],"k\"ey":null})");
}

TEST(ToJsonTest, PrettyContainers) {
  const Value v = Value::Map{
      {"hparams", Value::Map{{"lr", 0.001}, {"layers", Value::List{64, 64}}}},
      {"empty", Value::EmptyList()},
      {"seed", 42}};
  EXPECT_EQ(ToJson(v, /*pretty=*/true),
            "{\n"
            "  \"empty\": [],\n"
            "  \"hparams\": {\n"
            "    \"layers\": [\n"
            "      64,\n"
            "      64\n"
            "    ],\n"
            "    \"lr\": 0.001\n"
            "  },\n"
            "  \"seed\": 42\n"
            "}");
  EXPECT_EQ(ToJson(Value::EmptyMap(), true), "{}");
  EXPECT_EQ(ToJson(7, true), "7");
}

TEST(ToJsonTest, StreamOperatorPrintsCompactJson) {
  std::ostringstream os;
  os << Value(Value::List{1, "a"});
  EXPECT_EQ(os.str(), R"([1,"a"])");
}

// ----------------------------------------------------------------- input --

TEST(ParseJsonTest, Scalars) {
  EXPECT_EQ(Parse("null"), Value());
  EXPECT_EQ(Parse("true"), Value(true));
  EXPECT_EQ(Parse(" false "), Value(false));
  EXPECT_EQ(Parse("\"s\""), Value("s"));
  EXPECT_EQ(Parse("0"), Value(0));
  EXPECT_EQ(Parse("-12"), Value(-12));
  EXPECT_EQ(Parse("2.5"), Value(2.5));
}

TEST(ParseJsonTest, IntsThatFitInt64AreInts) {
  EXPECT_EQ(Parse("9223372036854775807"),
            Value(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(Parse("-9223372036854775808"),
            Value(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(Parse("-0"), Value(0));
}

TEST(ParseJsonTest, OtherNumbersAreDoubles) {
  EXPECT_EQ(Parse("9223372036854775808"), Value(9223372036854775808.0));
  EXPECT_EQ(Parse("18446744073709551616"), Value(18446744073709551616.0));
  EXPECT_EQ(Parse("-9223372036854775809"), Value(-9223372036854775808.0));
  EXPECT_EQ(Parse("1.0"), Value(1.0));
  EXPECT_EQ(Parse("1e2"), Value(100.0));
  EXPECT_EQ(Parse("1E-2"), Value(0.01));
  EXPECT_EQ(Parse("-0.0"), Value(-0.0));
}

TEST(ParseJsonTest, NonFiniteTokens) {
  const Value v = Parse("[NaN, Infinity, -Infinity, 1]");
  ASSERT_EQ(v.as_list().size(), 4u);
  EXPECT_TRUE(std::isnan(v.as_list()[0].as_double()));
  EXPECT_EQ(v.as_list()[1], Value(kInf));
  EXPECT_EQ(v.as_list()[2], Value(-kInf));
  EXPECT_EQ(v.as_list()[3], Value(1));
  EXPECT_EQ(Bits(Parse("NaN").as_double()),
            Bits(std::numeric_limits<double>::quiet_NaN()));
}

TEST(ParseJsonTest, NonFiniteTokensBesideRealNulls) {
  EXPECT_EQ(Parse(R"({"a": null, "b": NaN, "c": null, "d": [null, Infinity]})"),
            Value(Value::Map{{"a", nullptr},
                             {"b", std::numeric_limits<double>::quiet_NaN()},
                             {"c", nullptr},
                             {"d", Value::List{nullptr, kInf}}}));
}

TEST(ParseJsonTest, TokensInsideStringsAreText) {
  EXPECT_EQ(Parse(R"({"NaN": "Infinity \" NaN -Infinity"})"),
            Value(Value::Map{{"NaN", "Infinity \" NaN -Infinity"}}));
  EXPECT_EQ(Parse(R"(["\\", NaN])"),
            Value(Value::List{"\\", std::numeric_limits<double>::quiet_NaN()}));
}

TEST(ParseJsonTest, Escapes) {
  EXPECT_EQ(Parse(R"("\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00")"),
            Value("\"\\/\b\f\n\r\tA\xc3\xa9\xf0\x9f\x98\x80"));
  EXPECT_EQ(Parse(R"("\u0000")"), Value(std::string(1, '\0')));
}

TEST(ParseJsonTest, NestedContainers) {
  EXPECT_EQ(Parse(R"( { "a" : [ 1 , { "b" : [ ] } ] , "c" : { } } )"),
            Value(Value::Map{
                {"a", Value::List{1, Value::Map{{"b", Value::EmptyList()}}}},
                {"c", Value::EmptyMap()}}));
}

TEST(ParseJsonTest, RoundTripsThroughToJson) {
  const Value v = Value::Map{
      {"", Value::EmptyMap()},
      {"doubles", Value::List{0.0, -0.0, 0.1, 1e300, 5e-324, 1.0, kInf, -kInf,
                              std::numeric_limits<double>::quiet_NaN()}},
      {"ints", Value::List{0, -1, std::numeric_limits<int64_t>::max(),
                           std::numeric_limits<int64_t>::min()}},
      {"strings", Value::List{"", "caf\xc3\xa9", std::string("\0\x1f\"\\", 4),
                              "\xf0\x9f\x98\x80"}},
      {"misc", Value::List{nullptr, true, false, Value::EmptyList()}},
      {"k.e\"y\n", Value::Map{{"x", Value::Map{{"y", 1}}}}},
  };
  for (bool pretty : {false, true}) {
    RUNLOG_ASSERT_OK_AND_ASSIGN(Value back, ParseJson(ToJson(v, pretty)));
    EXPECT_EQ(back, v) << ToJson(v, pretty);
  }
}

TEST(ParseJsonTest, InvalidUtf8ComesBackAsLatin1CodePoints) {
  // Documented: \u00ff reads back as U+00FF, not as the byte 0xff.
  EXPECT_EQ(Parse(ToJson("\xff")), Value("\xc3\xbf"));
}

TEST(ParseJsonTest, RandomDoublesRoundTripBitExactly) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof(d));
    if (std::isnan(d)) continue;  // NaN payloads are not kept by text
    RUNLOG_ASSERT_OK_AND_ASSIGN(Value back, ParseJson(ToJson(d)));
    ASSERT_EQ(back, Value(d)) << ToJson(d);
  }
}

// ---------------------------------------------------------------- errors --

TEST(ParseJsonErrorTest, EmptyInput) {
  EXPECT_THAT(ParseJson(""),
              StatusIs(kInvalid, StartsWith("JSON byte offset 0: ")));
  EXPECT_THAT(ParseJson("   "),
              StatusIs(kInvalid, StartsWith("JSON byte offset 3: ")));
}

TEST(ParseJsonErrorTest, TrailingComma) {
  EXPECT_THAT(
      ParseJson("[1,]"),
      StatusIs(kInvalid, StartsWith("JSON byte offset 3: syntax error")));
  EXPECT_THAT(ParseJson(R"({"a":1,})"),
              StatusIs(kInvalid, StartsWith("JSON byte offset 7: ")));
}

TEST(ParseJsonErrorTest, TrailingGarbage) {
  EXPECT_THAT(ParseJson("[1] x"),
              StatusIs(kInvalid, StartsWith("JSON byte offset 4: ")));
  EXPECT_THAT(ParseJson("1 2"),
              StatusIs(kInvalid, StartsWith("JSON byte offset 2: ")));
}

TEST(ParseJsonErrorTest, UnterminatedString) {
  EXPECT_THAT(ParseJson(R"(["abc)"),
              StatusIs(kInvalid, HasSubstr("missing closing quote")));
}

TEST(ParseJsonErrorTest, RawControlCharacterInString) {
  EXPECT_THAT(ParseJson("\"a\nb\""),
              StatusIs(kInvalid, HasSubstr("control character")));
}

TEST(ParseJsonErrorTest, InvalidUtf8InString) {
  EXPECT_THAT(ParseJson("\"a\xff\""),
              StatusIs(kInvalid, StartsWith("JSON byte offset 2: ")));
}

TEST(ParseJsonErrorTest, LoneSurrogateEscape) {
  EXPECT_THAT(ParseJson(R"("\ud800")"),
              StatusIs(kInvalid, HasSubstr("surrogate")));
}

TEST(ParseJsonErrorTest, NotJson) {
  for (absl::string_view text :
       {"nan", "inf", "-NaN", "+1", "01", ".5", "1.", "'a'", "[1 2]", "{a:1}",
        "{\"a\" 1}", "// c\n1", "/* c */1", "True", "None", "[", "{", "]"}) {
    EXPECT_THAT(ParseJson(text),
                StatusIs(kInvalid, HasSubstr("JSON byte offset")))
        << text;
  }
}

TEST(ParseJsonErrorTest, NumberTooLargeForDouble) {
  EXPECT_THAT(ParseJson("[1e400]"),
              StatusIs(kInvalid, HasSubstr("number overflow")));
}

TEST(ParseJsonErrorTest, OffsetsAreInTheCallersTextAfterNonFiniteTokens) {
  // "null" is longer than "NaN" and shorter than "-Infinity"; the error at
  // 'x' must still be reported at its offset in this text.
  const std::string text = "[NaN, -Infinity, Infinity, x]";
  EXPECT_THAT(
      ParseJson(text),
      StatusIs(kInvalid, StartsWith(absl::StrCat("JSON byte offset ",
                                                 text.find('x'), ": "))));
}

TEST(ParseJsonErrorTest, DuplicateKeyNamesTheKeyOffset) {
  EXPECT_THAT(ParseJson(R"({"lr": 1, "lr": 2})"),
              StatusIs(kInvalid, "JSON byte offset 10: duplicate key \"lr\""));
  // Escaped quotes inside the key, and a substituted token before it.
  const std::string text = R"({"a\"b": 1, "x": NaN, "a\"b": 2})";
  EXPECT_THAT(ParseJson(text),
              StatusIs(kInvalid, StartsWith(absl::StrCat("JSON byte offset ",
                                                         text.rfind("\"a"),
                                                         ": duplicate key"))));
}

TEST(ParseJsonErrorTest, SameKeyInDifferentMapsIsFine) {
  EXPECT_THAT(ParseJson(R"({"a": {"a": 1}, "b": {"a": 2}})"), IsOk());
}

TEST(ParseJsonErrorTest, DepthAtLimitIsAccepted) {
  const std::string text =
      std::string(kMaxValueDepth, '[') + std::string(kMaxValueDepth, ']');
  RUNLOG_ASSERT_OK_AND_ASSIGN(Value v, ParseJson(text));
  EXPECT_THAT(ValidateValue(v), IsOk());
}

TEST(ParseJsonErrorTest, DepthOverLimitNamesTheBracket) {
  const std::string text =
      std::string(kMaxValueDepth, '[') + "{" + std::string(kMaxValueDepth, ']');
  EXPECT_THAT(ParseJson(text),
              StatusIs(kInvalid,
                       "JSON byte offset 64: nesting deeper than 64 "
                       "lists/maps"));
}

TEST(ParseJsonErrorTest, DepthBombIsRejected) {
  EXPECT_THAT(ParseJson(std::string(1'000'000, '[')),
              StatusIs(kInvalid, HasSubstr("nesting deeper")));
}

TEST(ParseJsonErrorTest, RandomTextNeverCrashes) {
  std::mt19937_64 rng(99);
  const std::string valid = ToJson(
      Value::Map{
          {"a", Value::List{1, -2.5e-3, "x\\y\u00e9", nullptr, true}},
          {"b", Value::Map{{"c", std::numeric_limits<double>::quiet_NaN()},
                           {"d", -kInf}}}},
      /*pretty=*/true);
  const std::string alphabet =
      "[]{}\":,.-+0123456789eEtruefalsnNIinfy \\u\n\xc3\xa9";
  int parsed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text;
    if (iter % 2 == 0) {
      // A valid document with a few characters changed, dropped or added.
      text = valid;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !text.empty(); ++e) {
        const size_t at = rng() % text.size();
        const char c = alphabet[rng() % alphabet.size()];
        switch (rng() % 3) {
          case 0:
            text[at] = c;
            break;
          case 1:
            text.erase(at, 1);
            break;
          default:
            text.insert(at, 1, c);
        }
      }
    } else {
      const size_t n = rng() % 40;
      for (size_t i = 0; i < n; ++i) {
        text.push_back(iter % 4 == 1 ? static_cast<char>(rng())
                                     : alphabet[rng() % alphabet.size()]);
      }
    }
    absl::StatusOr<Value> v = ParseJson(text);
    if (v.ok()) {
      ++parsed;
      RUNLOG_ASSERT_OK_AND_ASSIGN(Value again, ParseJson(ToJson(*v)));
      ASSERT_EQ(again, *v) << text;
    } else {
      ASSERT_EQ(v.status().code(), kInvalid) << text;
      ASSERT_THAT(std::string(v.status().message()),
                  StartsWith("JSON byte offset "));
    }
  }
  EXPECT_GT(parsed, 1000);
}

}  // namespace
}  // namespace runlog
