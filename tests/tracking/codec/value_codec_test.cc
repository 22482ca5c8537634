#include "tracking/codec/value_codec.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/coding.h"
#include "tests/testing/double_bits.h"
#include "tests/testing/status_matchers.h"
#include "tracking/value.h"

namespace runlog {
namespace {

using ::runlog::testing::Bits;
using ::runlog::testing::FromBits;

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::StatusCode kDataLoss = absl::StatusCode::kDataLoss;

std::string Encode(const Value& v) {
  std::string out;
  EncodeValue(v, &out);
  return out;
}

std::string Hex(absl::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    absl::StrAppend(&out,
                    absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
  }
  return out;
}

std::string Unhex(absl::string_view hex) {
  std::string compact;
  for (char c : hex) {
    if (c != ' ') compact.push_back(c);
  }
  return absl::HexStringToBytes(compact);
}

absl::StatusOr<Value> Decode(absl::string_view bytes) {
  absl::string_view in = bytes;
  absl::StatusOr<Value> v = DecodeValue(&in);
  if (v.ok() && !in.empty()) {
    return absl::InternalError(absl::StrCat(in.size(), " bytes left over"));
  }
  return v;
}

Value Rich() {
  return Value::Map{
      {"", Value::EmptyMap()},
      {"bools", Value::List{true, false}},
      {"doubles", Value::List{0.0, -0.0, 0.001, 1e300, -5e-324,
                              std::numeric_limits<double>::infinity(),
                              -std::numeric_limits<double>::infinity(),
                              std::numeric_limits<double>::quiet_NaN()}},
      {"empty_list", Value::EmptyList()},
      {"empty_string", ""},
      {"ints", Value::List{0, 1, -1, 63, -64, 64, -65,
                           std::numeric_limits<int64_t>::max(),
                           std::numeric_limits<int64_t>::min()}},
      {"nested", Value::Map{{"a", Value::List{Value::Map{{"b", nullptr}}}}}},
      {"null", nullptr},
      {"unicode \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
       "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"},
      {std::string("bin\0\xff", 5), std::string("\0\x01\xff", 3)},
      {"with.dot", 1},
  };
}

// `depth` nested lists around a null, as raw bytes.
std::string NestedLists(int depth) {
  std::string out;
  for (int i = 0; i < depth; ++i) out.append("\x07\x01", 2);
  out.push_back('\x01');
  return out;
}

// ---------------------------------------------------------- round trip ---

TEST(ValueCodecTest, EveryKindRoundTrips) {
  for (const Value& v :
       {Value(), Value(true), Value(false), Value(0), Value(-1), Value(42),
        Value(std::numeric_limits<int64_t>::max()),
        Value(std::numeric_limits<int64_t>::min()), Value(0.5), Value(-0.0),
        Value(""), Value("text"), Value::EmptyList(), Value::EmptyMap(),
        Rich()}) {
    const std::string bytes = Encode(v);
    EXPECT_EQ(bytes.size(), EncodedValueSize(v)) << v;
    RUNLOG_ASSERT_OK_AND_ASSIGN(Value back, Decode(bytes));
    EXPECT_EQ(back, v);
  }
}

TEST(ValueCodecTest, DoubleBitsArePreserved) {
  const uint64_t payload_nan = 0x7ff8000000012345;
  for (uint64_t bits : {Bits(-0.0), Bits(0.0), payload_nan,
                        uint64_t{0xfff0000000000001ull}, Bits(5e-324)}) {
    RUNLOG_ASSERT_OK_AND_ASSIGN(Value back, Decode(Encode(FromBits(bits))));
    ASSERT_TRUE(back.is_double());
    EXPECT_EQ(Bits(back.as_double()), bits);
  }
}

TEST(ValueCodecTest, DocumentedExample) {
  // The worked example of docs/format.md (from docs/_fragment_value.md).
  const Value v = Value::Map{
      {"hparams", Value::Map{{"lr", 0.001}, {"layers", Value::List{64, 64}}}},
      {"seed", 42}};
  EXPECT_EQ(Hex(Encode(v)),
            "08 02 07 68 70 61 72 61 6d 73 08 02 06 6c 61 79 65 72 73 07 02 "
            "04 80 01 04 80 01 02 6c 72 05 fc a9 f1 d2 4d 62 50 3f 04 73 65 "
            "65 64 04 54");
  EXPECT_EQ(Hex(Encode(Value::Map{{"seed", 42}})),
            "08 01 04 73 65 65 64 04 54");
}

TEST(ValueCodecTest, ScalarEncodings) {
  EXPECT_EQ(Hex(Encode(Value())), "01");
  EXPECT_EQ(Hex(Encode(false)), "02");
  EXPECT_EQ(Hex(Encode(true)), "03");
  EXPECT_EQ(Hex(Encode(-1)), "04 01");
  EXPECT_EQ(Hex(Encode(std::numeric_limits<int64_t>::min())),
            "04 ff ff ff ff ff ff ff ff ff 01");
  EXPECT_EQ(Hex(Encode(1.0)), "05 00 00 00 00 00 00 f0 3f");
  EXPECT_EQ(Hex(Encode("ab")), "06 02 61 62");
  EXPECT_EQ(Hex(Encode(Value::EmptyList())), "07 00");
  EXPECT_EQ(Hex(Encode(Value::EmptyMap())), "08 00");
}

TEST(ValueCodecTest, ConsumesOneValueAndLeavesTheRest) {
  std::string bytes = Encode(Value::List{1, 2});
  bytes += Encode("next");
  absl::string_view in = bytes;
  RUNLOG_ASSERT_OK_AND_ASSIGN(Value first, DecodeValue(&in));
  EXPECT_EQ(first, Value(Value::List{1, 2}));
  RUNLOG_ASSERT_OK_AND_ASSIGN(Value second, DecodeValue(&in));
  EXPECT_EQ(second, Value("next"));
  EXPECT_TRUE(in.empty());
}

TEST(ValueCodecTest, ErrorLeavesInputUnchanged) {
  const std::string bytes = Unhex("07 02 01 ee");
  absl::string_view in = bytes;
  EXPECT_THAT(DecodeValue(&in), StatusIs(kDataLoss, HasSubstr("offset 3")));
  EXPECT_EQ(in, bytes);
}

TEST(ValueCodecTest, MaxDepthRoundTrips) {
  RUNLOG_ASSERT_OK_AND_ASSIGN(Value v, Decode(NestedLists(kMaxValueDepth)));
  EXPECT_EQ(Encode(v), NestedLists(kMaxValueDepth));
}

// ----------------------------------------------------- hostile input ---

TEST(ValueDecodeTest, EveryTruncationIsDataLoss) {
  const std::string bytes = Encode(Rich());
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::string_view in(bytes.data(), n);
    EXPECT_THAT(DecodeValue(&in), StatusIs(kDataLoss, HasSubstr("offset")))
        << "prefix of " << n << " bytes";
  }
}

TEST(ValueDecodeTest, EmptyInputIsDataLoss) {
  EXPECT_THAT(
      Decode(""),
      StatusIs(kDataLoss, "value byte offset 0: truncated: missing tag"));
}

TEST(ValueDecodeTest, UnknownTagNamesItsOffset) {
  EXPECT_THAT(Decode(Unhex("07 02 01 2a")),
              StatusIs(kDataLoss, "value byte offset 3: unknown tag 0x2a"));
}

TEST(ValueDecodeTest, ZeroTagIsInvalid) {
  EXPECT_THAT(Decode(Unhex("00")),
              StatusIs(kDataLoss, HasSubstr("unknown tag 0x00")));
}

TEST(ValueDecodeTest, HugeListCountIsRejectedBeforeAllocating) {
  std::string bytes = "\x07";
  storage::PutVarint64(&bytes, uint64_t{1} << 60);
  bytes.append("\x01\x01", 2);
  EXPECT_THAT(Decode(bytes),
              StatusIs(kDataLoss, HasSubstr("value byte offset 1: list count "
                                            "1152921504606846976 exceeds")));
}

TEST(ValueDecodeTest, HugeMapCountIsRejectedBeforeAllocating) {
  std::string bytes = "\x08";
  storage::PutVarint64(&bytes, std::numeric_limits<uint64_t>::max());
  bytes.append("\x01\x61\x01", 3);
  EXPECT_THAT(Decode(bytes),
              StatusIs(kDataLoss, HasSubstr("map count 18446744073709551615")));
}

TEST(ValueDecodeTest, MapCountNeedsTwoBytesPerEntry) {
  // 2 entries need at least 4 bytes; 3 remain.
  EXPECT_THAT(Decode(Unhex("08 02 00 01 01")),
              StatusIs(kDataLoss, HasSubstr("map count 2 exceeds")));
}

TEST(ValueDecodeTest, HugeStringLengthIsRejected) {
  std::string bytes = "\x06";
  storage::PutVarint64(&bytes, uint64_t{1} << 62);
  bytes.append("abc");
  EXPECT_THAT(Decode(bytes),
              StatusIs(kDataLoss, HasSubstr("string length 4611686018427387904 "
                                            "exceeds the 3 remaining bytes")));
}

TEST(ValueDecodeTest, HugeKeyLengthIsRejected) {
  EXPECT_THAT(Decode(Unhex("08 01 7f 01")),
              StatusIs(kDataLoss, HasSubstr("value byte offset 2: map key "
                                            "length 127 exceeds")));
}

TEST(ValueDecodeTest, TruncatedDoubleIsDataLoss) {
  EXPECT_THAT(Decode(Unhex("05 00 00 00")),
              StatusIs(kDataLoss, HasSubstr("truncated double")));
}

TEST(ValueDecodeTest, OverlongVarintIsRejected) {
  EXPECT_THAT(
      Decode(Unhex("04 ff ff ff ff ff ff ff ff ff ff 01")),
      StatusIs(kDataLoss, HasSubstr("truncated or overlong int varint")));
}

TEST(ValueDecodeTest, NonCanonicalVarintIsRejected) {
  // 1 encoded in two bytes.
  EXPECT_THAT(
      Decode(Unhex("04 82 00")),
      StatusIs(kDataLoss, "value byte offset 1: non-canonical int varint"));
  EXPECT_THAT(
      Decode(Unhex("07 80 00")),
      StatusIs(kDataLoss, HasSubstr("non-canonical list count varint")));
}

TEST(ValueDecodeTest, UnsortedMapKeysAreRejected) {
  // {"b": null, "a": null}
  EXPECT_THAT(
      Decode(Unhex("08 02 01 62 01 01 61 01")),
      StatusIs(
          kDataLoss,
          "value byte offset 5: map keys not in strictly ascending order"));
}

TEST(ValueDecodeTest, DuplicateMapKeysAreRejected) {
  EXPECT_THAT(Decode(Unhex("08 02 01 61 01 01 61 03")),
              StatusIs(kDataLoss, HasSubstr("strictly ascending")));
}

TEST(ValueDecodeTest, KeysCompareAsUnsignedBytes) {
  // "\x7f" < "\x80" bytewise (but not as signed chars).
  RUNLOG_ASSERT_OK_AND_ASSIGN(Value v,
                              Decode(Unhex("08 02 01 7f 01 01 80 01")));
  EXPECT_EQ(v.as_map().size(), 2u);
  EXPECT_THAT(Decode(Unhex("08 02 01 80 01 01 7f 01")),
              StatusIs(kDataLoss, HasSubstr("strictly ascending")));
}

TEST(ValueDecodeTest, DepthOverLimitIsRejected) {
  EXPECT_THAT(Decode(NestedLists(kMaxValueDepth + 1)),
              StatusIs(kDataLoss,
                       "value byte offset 128: nesting deeper than "
                       "64 lists/maps"));
}

TEST(ValueDecodeTest, DepthBombIsRejected) {
  std::string bomb;
  for (int i = 0; i < 1'000'000; ++i) bomb.append("\x08\x01\x00", 3);
  EXPECT_THAT(Decode(bomb), StatusIs(kDataLoss, HasSubstr("nesting deeper")));
}

TEST(ValueDecodeTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(20240601);
  const std::string valid = Encode(Rich());
  int decoded = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string bytes;
    if (iter % 2 == 0) {
      // Pure noise, biased towards valid tags so that nesting happens.
      const size_t n = rng() % 64;
      for (size_t i = 0; i < n; ++i) {
        const uint64_t r = rng();
        bytes.push_back(
            static_cast<char>(r % 4 == 0 ? r >> 8 : 1 + (r >> 8) % 8));
      }
    } else {
      // A valid encoding with a few bytes changed.
      bytes = valid;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
      }
    }
    absl::string_view in = bytes;
    absl::StatusOr<Value> v = DecodeValue(&in);
    if (!v.ok()) {
      ASSERT_EQ(v.status().code(), kDataLoss) << v.status();
      ASSERT_EQ(in.size(), bytes.size());
      continue;
    }
    ++decoded;
    // Canonical: what was accepted re-encodes to exactly the bytes consumed.
    ASSERT_EQ(Encode(*v), bytes.substr(0, bytes.size() - in.size()));
  }
  EXPECT_GT(decoded, 1000);
}

}  // namespace
}  // namespace runlog
