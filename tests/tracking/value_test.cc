#include "tracking/value.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace runlog {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kNotFound = absl::StatusCode::kNotFound;

// `depth` nested lists around a null: Nested(0) is null, Nested(1) is [null].
Value Nested(int depth) {
  Value v;
  for (int i = 0; i < depth; ++i) {
    Value::List list;
    list.push_back(std::move(v));
    v = Value(std::move(list));
  }
  return v;
}

// ------------------------------------------------------- construction ---

TEST(ValueTest, DefaultIsNull) {
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value(nullptr).is_null());
}

TEST(ValueTest, StringLiteralIsAStringNotABool) {
  Value v = "adam";
  EXPECT_EQ(v.kind(), Value::Kind::kString);
  EXPECT_EQ(v.as_string(), "adam");
  char buf[] = "sgd";
  EXPECT_EQ(Value(buf).as_string(), "sgd");
  EXPECT_EQ(Value(absl::string_view("x")).as_string(), "x");
  EXPECT_EQ(Value(std::string("y")).as_string(), "y");
}

TEST(ValueTest, IntegerTypesAreInts) {
  EXPECT_EQ(Value(7).kind(), Value::Kind::kInt);
  EXPECT_EQ(Value(int64_t{-7}).as_int(), -7);
  EXPECT_EQ(Value(uint32_t{4000000000u}).as_int(), 4000000000);
  EXPECT_EQ(Value(size_t{12}).as_int(), 12);
  EXPECT_EQ(Value(static_cast<short>(-3)).as_int(), -3);
  EXPECT_EQ(Value(std::numeric_limits<int64_t>::min()).as_int(),
            std::numeric_limits<int64_t>::min());
  const uint64_t max_int = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(Value(max_int).kind(), Value::Kind::kInt);
}

TEST(ValueTest, Uint64AboveInt64MaxBecomesDouble) {
  const Value v(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(v.kind(), Value::Kind::kDouble);
  EXPECT_EQ(v.as_double(), 18446744073709551616.0);
}

TEST(ValueTest, FloatingTypesAreDoubles) {
  EXPECT_EQ(Value(0.5).kind(), Value::Kind::kDouble);
  EXPECT_EQ(Value(0.5f).as_double(), 0.5);
}

TEST(ValueTest, BoolIsBool) {
  EXPECT_EQ(Value(true).kind(), Value::Kind::kBool);
  EXPECT_TRUE(Value(true).as_bool());
  EXPECT_FALSE(Value(false).as_bool());
}

TEST(ValueTest, SurprisingConversionsDoNotCompile) {
  static_assert(!std::is_convertible<char, Value>::value, "char");
  static_assert(!std::is_convertible<int*, Value>::value, "int*");
  static_assert(!std::is_convertible<const Value*, Value>::value, "Value*");
  static_assert(std::is_convertible<const char*, Value>::value, "const char*");
}

TEST(ValueTest, MovesDoNotThrow) {
  // Otherwise std::vector<Value> would copy whole subtrees when it grows.
  static_assert(std::is_nothrow_move_constructible<Value>::value, "move");
  static_assert(std::is_nothrow_move_assignable<Value>::value, "move=");
}

TEST(ValueTest, ContainersFromInitializerLists) {
  const Value v = Value::Map{{"layers", Value::List{64, 64}}, {"lr", 0.001}};
  ASSERT_TRUE(v.is_map());
  EXPECT_EQ(v.as_map().size(), 2u);
  EXPECT_EQ(v.Find("layers")->as_list().size(), 2u);
  EXPECT_EQ(v.Find("lr")->as_double(), 0.001);
  EXPECT_EQ(v.Find("missing"), nullptr);
  EXPECT_TRUE(Value::EmptyMap().is_map());
  EXPECT_TRUE(Value::EmptyList().is_list());
}

TEST(ValueTest, KindNames) {
  EXPECT_EQ(KindName(Value::Kind::kNull), "null");
  EXPECT_EQ(KindName(Value::Kind::kBool), "bool");
  EXPECT_EQ(KindName(Value::Kind::kInt), "int");
  EXPECT_EQ(KindName(Value::Kind::kDouble), "double");
  EXPECT_EQ(KindName(Value::Kind::kString), "string");
  EXPECT_EQ(KindName(Value::Kind::kList), "list");
  EXPECT_EQ(KindName(Value::Kind::kMap), "map");
}

// ----------------------------------------------------------- accessors ---

TEST(ValueTest, ConstAccessorsOfTheWrongKindReturnDefaults) {
  const Value s = "text";
  EXPECT_FALSE(s.as_bool());
  EXPECT_EQ(s.as_int(), 0);
  EXPECT_EQ(s.as_double(), 0.0);
  EXPECT_TRUE(s.as_list().empty());
  EXPECT_TRUE(s.as_map().empty());
  EXPECT_EQ(Value(1).as_string(), "");
  EXPECT_EQ(Value(1).as_double(), 0.0);  // no int -> double conversion
  EXPECT_EQ(Value(1.5).as_int(), 0);
  EXPECT_EQ(Value(1).Find("k"), nullptr);
}

TEST(ValueTest, MutableAccessorsOfTheWrongKindReset) {
  Value v = 5;
  v.mutable_list()->push_back(1);
  EXPECT_EQ(v, Value(Value::List{1}));
  (*v.mutable_map())["k"] = 2;
  EXPECT_EQ(v, Value(Value::Map{{"k", 2}}));
  *v.mutable_string() = "s";
  EXPECT_EQ(v, Value("s"));
}

TEST(ValueTest, MutableAccessorsOfTheRightKindKeepContent) {
  Value v = Value::List{1, 2};
  v.mutable_list()->push_back(3);
  EXPECT_EQ(v, Value(Value::List{1, 2, 3}));
  Value s = "ab";
  s.mutable_string()->push_back('c');
  EXPECT_EQ(s.as_string(), "abc");
}

// ------------------------------------------------------------ equality ---

TEST(ValueTest, EqualityIsStructural) {
  EXPECT_EQ(Value(Value::Map{{"a", Value::List{1, "x", nullptr}}}),
            Value(Value::Map{{"a", Value::List{1, "x", nullptr}}}));
  EXPECT_NE(Value(Value::Map{{"a", 1}}), Value(Value::Map{{"a", 2}}));
  EXPECT_NE(Value(Value::Map{{"a", 1}}), Value(Value::Map{{"b", 1}}));
  EXPECT_NE(Value(Value::List{1, 2}), Value(Value::List{2, 1}));
  EXPECT_NE(Value(true), Value(false));
  EXPECT_NE(Value("a"), Value("b"));
}

TEST(ValueTest, IntNeverEqualsDouble) {
  EXPECT_NE(Value(1), Value(1.0));
  EXPECT_NE(Value(), Value(false));
  EXPECT_NE(Value::EmptyList(), Value::EmptyMap());
}

TEST(ValueTest, DoublesCompareBitwise) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(Value(nan), Value(nan));
  EXPECT_NE(Value(0.0), Value(-0.0));
  EXPECT_EQ(Value(std::numeric_limits<double>::infinity()),
            Value(std::numeric_limits<double>::infinity()));
  EXPECT_NE(Value(nan), Value(-nan));
}

// --------------------------------------------------------------- paths ---

TEST(ValidatePathTest, AcceptsDottedComponents) {
  EXPECT_THAT(ValidatePath("lr"), IsOk());
  EXPECT_THAT(ValidatePath("hparams.optimizer.lr"), IsOk());
  EXPECT_THAT(ValidatePath("with space.ünïcode"), IsOk());
}

TEST(ValidatePathTest, RejectsEmpty) {
  EXPECT_THAT(ValidatePath(""), StatusIs(kInvalid, HasSubstr("empty")));
}

TEST(ValidatePathTest, RejectsLeadingDot) {
  EXPECT_THAT(
      ValidatePath(".a"),
      StatusIs(kInvalid, HasSubstr("\".a\": empty component at byte 0")));
}

TEST(ValidatePathTest, RejectsTrailingDot) {
  EXPECT_THAT(
      ValidatePath("a."),
      StatusIs(kInvalid, HasSubstr("\"a.\": empty component at byte 2")));
}

TEST(ValidatePathTest, RejectsDoubleDot) {
  EXPECT_THAT(ValidatePath("a..b"),
              StatusIs(kInvalid, HasSubstr("empty component at byte 2")));
}

TEST(ValidatePathTest, RejectsOverlongComponent) {
  const std::string path = "a." + std::string(kMaxValueStringBytes + 1, 'k');
  EXPECT_THAT(ValidatePath(path),
              StatusIs(kInvalid, HasSubstr("component at byte 2 is longer")));
  EXPECT_THAT(ValidatePath(std::string(kMaxValueStringBytes, 'k')), IsOk());
}

// ------------------------------------------------------------- SetPath ---

TEST(SetPathTest, NullRootBecomesMapWithIntermediates) {
  Value root;
  ASSERT_THAT(SetPath(root, "hparams.optimizer.lr", 0.001), IsOk());
  EXPECT_EQ(
      root,
      Value(Value::Map{
          {"hparams", Value::Map{{"optimizer", Value::Map{{"lr", 0.001}}}}}}));
}

TEST(SetPathTest, AddsBesideExistingEntries) {
  Value root = Value::Map{{"hparams", Value::Map{{"lr", 0.1}}}, {"seed", 1}};
  ASSERT_THAT(SetPath(root, "hparams.layers", Value::List{64, 64}), IsOk());
  EXPECT_EQ(
      root,
      Value(Value::Map{
          {"hparams", Value::Map{{"layers", Value::List{64, 64}}, {"lr", 0.1}}},
          {"seed", 1}}));
}

TEST(SetPathTest, ReplacesLeafWhole) {
  Value root = Value::Map{{"opt", Value::Map{{"lr", 0.1}, {"name", "sgd"}}}};
  ASSERT_THAT(SetPath(root, "opt", "adam"), IsOk());
  EXPECT_EQ(root, Value(Value::Map{{"opt", "adam"}}));
}

TEST(SetPathTest, NullIntermediateBecomesMap) {
  Value root = Value::Map{{"a", nullptr}};
  ASSERT_THAT(SetPath(root, "a.b", 1), IsOk());
  EXPECT_EQ(root, Value(Value::Map{{"a", Value::Map{{"b", 1}}}}));
}

TEST(SetPathTest, SetsNull) {
  Value root = Value::Map{{"a", 1}};
  ASSERT_THAT(SetPath(root, "a", nullptr), IsOk());
  EXPECT_EQ(root, Value(Value::Map{{"a", nullptr}}));
}

TEST(SetPathTest, NonMapIntermediateIsInvalidArgument) {
  Value root = Value::Map{{"hparams", 3}};
  const Value before = root;
  EXPECT_THAT(SetPath(root, "hparams.lr", 0.1),
              StatusIs(kInvalid, "hparams.lr: 'hparams' is an int, not a map"));
  EXPECT_EQ(root, before);
}

TEST(SetPathTest, NonMapDeepIntermediateNamesItsPrefix) {
  Value root = Value::Map{{"a", Value::Map{{"b", Value::List{1}}}}};
  const Value before = root;
  EXPECT_THAT(SetPath(root, "a.b.c.d", 1),
              StatusIs(kInvalid, "a.b.c.d: 'a.b' is a list, not a map"));
  EXPECT_EQ(root, before);
}

TEST(SetPathTest, NonMapRootIsInvalidArgument) {
  Value root = "scalar";
  EXPECT_THAT(SetPath(root, "a", 1),
              StatusIs(kInvalid, "a: the root is a string, not a map"));
  EXPECT_EQ(root, Value("scalar"));
}

TEST(SetPathTest, InvalidPathIsInvalidArgument) {
  Value root;
  EXPECT_THAT(SetPath(root, "a..b", 1), StatusIs(kInvalid, HasSubstr("a..b")));
  EXPECT_TRUE(root.is_null());
}

TEST(SetPathTest, KeysWithDotsInsideSubtreesAreKept) {
  Value root;
  ASSERT_THAT(SetPath(root, "files", Value::Map{{"a.txt", 1}}), IsOk());
  EXPECT_EQ(root.Find("files")->Find("a.txt")->as_int(), 1);
}

TEST(SetPathTest, OverLimitLeavesNewEntryOut) {
  Value root = Value::Map{{"a", Value::Map{{"x", 1}}}};
  const Value before = root;
  const Value big = std::string(kMaxValueStringBytes + 1, 's');
  EXPECT_THAT(SetPath(root, "a.b.c", big),
              StatusIs(kInvalid, HasSubstr("value at a.b.c: string of")));
  EXPECT_EQ(root, before);
}

TEST(SetPathTest, OverLimitRestoresReplacedEntry) {
  Value root = Value::Map{{"a", Value::Map{{"x", 1}}}};
  const Value before = root;
  EXPECT_THAT(SetPath(root, "a.x", Nested(kMaxValueDepth)),
              StatusIs(kInvalid, HasSubstr("nesting deeper than 64")));
  EXPECT_EQ(root, before);
}

TEST(SetPathTest, OverLimitRestoresReplacedNull) {
  Value root = Value::Map{{"a", nullptr}};
  const Value before = root;
  EXPECT_THAT(SetPath(root, "a.b", Nested(kMaxValueDepth)),
              StatusIs(kInvalid, HasSubstr("nesting deeper")));
  EXPECT_EQ(root, before);
}

TEST(SetPathTest, OverLimitRestoresNullRoot) {
  Value root;
  EXPECT_THAT(SetPath(root, "a", Nested(kMaxValueDepth)),
              StatusIs(kInvalid, HasSubstr("nesting deeper")));
  EXPECT_TRUE(root.is_null());
}

TEST(SetPathTest, DepthCountsThePathMaps) {
  Value root;
  // The root map and the map at "a" enclose the value: 2 + 62 = 64 is fine.
  EXPECT_THAT(SetPath(root, "a.b", Nested(kMaxValueDepth - 2)), IsOk());
  EXPECT_THAT(SetPath(root, "a.c", Nested(kMaxValueDepth - 1)),
              StatusIs(kInvalid, HasSubstr("value at a.c")));
}

TEST(SetPathTest, TotalSizeLimitIsEnforced) {
  Value root;
  const std::string mib(kMaxValueStringBytes, 'x');
  for (int i = 0; i < 15; ++i) {
    ASSERT_THAT(SetPath(root, "s" + std::to_string(i), mib), IsOk());
  }
  const Value before = root;
  EXPECT_THAT(SetPath(root, "t", mib),
              StatusIs(kInvalid, HasSubstr("encoded size")));
  EXPECT_EQ(root, before);
}

// ------------------------------------------------------------- GetPath ---

TEST(GetPathTest, FindsNestedValues) {
  const Value root =
      Value::Map{{"hparams", Value::Map{{"lr", 0.001}}}, {"seed", 42}};
  RUNLOG_ASSERT_OK_AND_ASSIGN(const Value* lr, GetPath(root, "hparams.lr"));
  EXPECT_EQ(*lr, Value(0.001));
  RUNLOG_ASSERT_OK_AND_ASSIGN(const Value* hp, GetPath(root, "hparams"));
  EXPECT_EQ(*hp, Value(Value::Map{{"lr", 0.001}}));
}

TEST(GetPathTest, MissingKeyIsNotFound) {
  const Value root = Value::Map{{"hparams", Value::Map{{"lr", 0.001}}}};
  EXPECT_THAT(GetPath(root, "hparams.momentum"),
              StatusIs(kNotFound, "hparams.momentum: not found"));
}

TEST(GetPathTest, ThroughNonMapIsNotFound) {
  const Value root = Value::Map{{"hparams", Value::Map{{"lr", 0.001}}}};
  EXPECT_THAT(GetPath(root, "hparams.lr.x"),
              StatusIs(kNotFound, HasSubstr("'hparams.lr' is a double")));
}

TEST(GetPathTest, NullRootIsNotFound) {
  EXPECT_THAT(
      GetPath(Value(), "a"),
      StatusIs(kNotFound, HasSubstr("a: not found (the root is a null")));
}

TEST(GetPathTest, InvalidPathIsInvalidArgument) {
  EXPECT_THAT(GetPath(Value::EmptyMap(), "a."),
              StatusIs(kInvalid, HasSubstr("a.")));
}

TEST(GetPathTest, RoundTripsWithSetPath) {
  Value root;
  ASSERT_THAT(SetPath(root, "x.y.z", "v"), IsOk());
  RUNLOG_ASSERT_OK_AND_ASSIGN(const Value* v, GetPath(root, "x.y.z"));
  EXPECT_EQ(v->as_string(), "v");
}

// ----------------------------------------------------------- MergeInto ---

TEST(MergeIntoTest, MapsMergeRecursively) {
  Value root = Value::Map{{"hparams", Value::Map{{"lr", 0.1}, {"wd", 0.0}}},
                          {"seed", 1}};
  const Value patch =
      Value::Map{{"hparams", Value::Map{{"lr", 0.2}}}, {"tag", "x"}};
  ASSERT_THAT(MergeInto(root, patch), IsOk());
  EXPECT_EQ(root,
            Value(Value::Map{{"hparams", Value::Map{{"lr", 0.2}, {"wd", 0.0}}},
                             {"seed", 1},
                             {"tag", "x"}}));
}

TEST(MergeIntoTest, NonMapsReplace) {
  Value root = Value::Map{
      {"a", Value::List{1, 2}}, {"b", Value::Map{{"x", 1}}}, {"c", 5}};
  const Value patch =
      Value::Map{{"a", Value::List{3}}, {"b", 7}, {"c", Value::Map{{"y", 2}}}};
  ASSERT_THAT(MergeInto(root, patch), IsOk());
  EXPECT_EQ(root, patch);
}

TEST(MergeIntoTest, NullInPatchSetsNull) {
  Value root = Value::Map{{"a", 1}};
  ASSERT_THAT(MergeInto(root, Value::Map{{"a", nullptr}}), IsOk());
  EXPECT_EQ(root, Value(Value::Map{{"a", nullptr}}));
}

TEST(MergeIntoTest, NullRootBecomesPatch) {
  Value root;
  const Value patch = Value::Map{{"k.with.dots", 1}};
  ASSERT_THAT(MergeInto(root, patch), IsOk());
  EXPECT_EQ(root, patch);
}

TEST(MergeIntoTest, NonMapPatchIsInvalidArgument) {
  Value root = Value::EmptyMap();
  EXPECT_THAT(MergeInto(root, Value::List{1}),
              StatusIs(kInvalid, "merge: the patch is a list, not a map"));
}

TEST(MergeIntoTest, NonMapRootIsInvalidArgument) {
  Value root = 3;
  EXPECT_THAT(MergeInto(root, Value::EmptyMap()),
              StatusIs(kInvalid, "merge: the root is an int, not a map"));
  EXPECT_EQ(root, Value(3));
}

TEST(MergeIntoTest, OverLimitLeavesRootUnchanged) {
  Value root = Value::Map{{"a", Value::Map{{"x", 1}}}};
  const Value before = root;
  const Value patch =
      Value::Map{{"a", Value::Map{{"y", 2}, {"z", Nested(kMaxValueDepth)}}}};
  EXPECT_THAT(MergeInto(root, patch),
              StatusIs(kInvalid, HasSubstr("value at a.z")));
  EXPECT_EQ(root, before);
}

// ------------------------------------------------------- ValidateValue ---

TEST(ValidateValueTest, ScalarsAndEmptyContainersAreValid) {
  for (const Value& v : {Value(), Value(true), Value(1), Value(1.5), Value("s"),
                         Value::EmptyList(), Value::EmptyMap()}) {
    EXPECT_THAT(ValidateValue(v), IsOk()) << v;
  }
}

TEST(ValidateValueTest, DepthAtLimitIsValid) {
  EXPECT_THAT(ValidateValue(Nested(kMaxValueDepth)), IsOk());
}

TEST(ValidateValueTest, DepthOverLimitNamesThePath) {
  // Root map (1) and list (2) hold 63 nested lists: the innermost is 65 deep.
  const Value v = Value::Map{{"a", Value::List{0, Nested(kMaxValueDepth - 1)}}};
  std::string where = "a[1]";
  for (int i = 0; i < kMaxValueDepth - 2; ++i) where += "[0]";
  EXPECT_THAT(ValidateValue(v),
              StatusIs(kInvalid, "value at " + where +
                                     ": nesting deeper than 64 lists/maps"));
}

TEST(ValidateValueTest, VeryDeepValueIsRejectedWithoutDeepRecursion) {
  // Built and torn down iteratively by the test; ValidateValue stops at 65.
  Value v = Nested(5000);
  EXPECT_THAT(ValidateValue(v),
              StatusIs(kInvalid, HasSubstr("nesting deeper")));
  // Tear down from the top so the destructor recursion stays shallow.
  while (v.is_list() && !v.as_list().empty()) {
    Value inner = std::move((*v.mutable_list())[0]);
    v = std::move(inner);
  }
}

TEST(ValidateValueTest, StringAtLimitIsValid) {
  EXPECT_THAT(ValidateValue(std::string(kMaxValueStringBytes, 'x')), IsOk());
}

TEST(ValidateValueTest, StringOverLimitNamesThePath) {
  const Value v = Value::Map{
      {"a", Value::Map{{"b", std::string(kMaxValueStringBytes + 1, 'x')}}}};
  EXPECT_THAT(ValidateValue(v),
              StatusIs(kInvalid,
                       "value at a.b: string of 1048577 bytes "
                       "exceeds the limit of 1048576"));
}

TEST(ValidateValueTest, KeyOverLimitIsInvalid) {
  const Value v = Value::Map{{std::string(kMaxValueStringBytes + 1, 'k'), 1}};
  EXPECT_THAT(ValidateValue(v),
              StatusIs(kInvalid, HasSubstr("key of 1048577 bytes")));
  const Value ok = Value::Map{{std::string(kMaxValueStringBytes, 'k'), 1}};
  EXPECT_THAT(ValidateValue(ok), IsOk());
}

TEST(ValidateValueTest, ListEntriesAtAndOverLimit) {
  Value v = Value::List(kMaxValueEntries);
  EXPECT_THAT(ValidateValue(v), IsOk());
  v.mutable_list()->emplace_back();
  EXPECT_THAT(ValidateValue(v),
              StatusIs(kInvalid,
                       "value at root: list of 1000001 entries "
                       "exceeds the limit of 1000000"));
}

TEST(ValidateValueTest, MapEntriesOverLimit) {
  Value::Map m;
  for (size_t i = 0; i <= kMaxValueEntries; ++i) {
    m.emplace_hint(m.end(), absl::StrFormat("%07d", i), Value());
  }
  Value v = Value::EmptyMap();
  (*v.mutable_map())["m"] = Value(std::move(m));  // no copy of a 1M map
  EXPECT_THAT(ValidateValue(v),
              StatusIs(kInvalid, HasSubstr("value at m: map of 1000001")));
}

TEST(ValidateValueTest, EncodedSizeOverLimit) {
  Value::List list(17, std::string(kMaxValueStringBytes, 'x'));
  EXPECT_THAT(ValidateValue(Value(list)),
              StatusIs(kInvalid, HasSubstr("encoded size")));
  list.resize(15);
  EXPECT_THAT(ValidateValue(Value(list)), IsOk());
}

TEST(ValidateValueTest, OddKeysAreQuotedInPaths) {
  const Value v = Value::Map{
      {"a.b", Value::Map{{"", std::string(kMaxValueStringBytes + 1, 'x')}}}};
  EXPECT_THAT(ValidateValue(v),
              StatusIs(kInvalid, HasSubstr("value at [\"a.b\"][\"\"]:")));
}

}  // namespace
}  // namespace runlog
