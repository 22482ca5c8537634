// Value: the tree a run's params are made of.
//
// A Value is one of null, bool, int (int64), double, string, list or map
// (string keys, ordered bytewise). It is a plain value type: copyable,
// movable, compared by content.
//
//   Value params = Value::EmptyMap();
//   RUNLOG_RETURN_IF_ERROR(SetPath(params, "hparams.lr", 0.001));
//   RUNLOG_RETURN_IF_ERROR(SetPath(params, "hparams.layers", Value::List{64,
//   64})); RUNLOG_ASSIGN_OR_RETURN(const Value* lr, GetPath(params,
//   "hparams.lr"));
//
// Conversions are deliberately narrow: `Value v = "adam"` is a string (not a
// bool), any integer type is an int, float/double are doubles, and pointers
// other than `const char*` and plain `char` do not convert at all. Unsigned
// 64-bit integers above INT64_MAX cannot be an int and become the nearest
// double.
//
// Limits (enforced by ValidateValue, SetPath and MergeInto; every Value that
// runlog stores satisfies them):
//   - depth: at most kMaxValueDepth (64) nested lists/maps. A scalar has
//     depth 0, `{}` and `[]` depth 1, `{"a": [1]}` depth 2.
//   - string values and map keys: at most kMaxValueStringBytes (1 MiB) each.
//   - lists and maps: at most kMaxValueEntries (1,000,000) entries each.
//   - the whole tree: at most kMaxValueEncodedBytes (16 MiB) in the binary
//     encoding of value_codec.h.
//
// Thread safety: like std::string; concurrent const access is safe.
#ifndef RUNLOG_TRACKING_VALUE_H_
#define RUNLOG_TRACKING_VALUE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runlog {

inline constexpr int kMaxValueDepth = 64;
inline constexpr size_t kMaxValueStringBytes = size_t{1} << 20;
inline constexpr size_t kMaxValueEntries = 1'000'000;
inline constexpr size_t kMaxValueEncodedBytes = size_t{16} << 20;

class Value {
 public:
  // The order matches the alternatives of the internal variant.
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kList, kMap };
  using List = std::vector<Value>;
  // Ordered (bytewise, like memcmp) so that iteration and encoding are
  // deterministic; std::less<> allows lookup by absl::string_view.
  using Map = std::map<std::string, Value, std::less<>>;

  // Implicit conversions are the point of this type (params are set as
  // `SetPath(p, "lr", 0.001)`), hence no `explicit` below.
  Value() = default;            // null
  Value(std::nullptr_t) {}      // NOLINT: null
  Value(bool b) : rep_(b) {}    // NOLINT
  Value(double d) : rep_(d) {}  // NOLINT
  Value(const char* s) : rep_(std::string(absl::string_view(s))) {}  // NOLINT
  Value(absl::string_view s) : rep_(std::string(s)) {}               // NOLINT
  Value(std::string s) : rep_(std::move(s)) {}                       // NOLINT
  Value(List l) : rep_(std::move(l)) {}                              // NOLINT
  Value(Map m) : rep_(std::move(m)) {}                               // NOLINT

  // Every integer type except bool and the character types. Values of an
  // unsigned 64-bit type above INT64_MAX become the nearest double.
  template <typename T,
            std::enable_if_t<std::is_integral<T>::value &&
                                 !std::is_same<T, bool>::value &&
                                 !std::is_same<T, char>::value &&
                                 !std::is_same<T, wchar_t>::value &&
                                 !std::is_same<T, char16_t>::value &&
                                 !std::is_same<T, char32_t>::value,
                             int> = 0>
  Value(T i) : rep_(FromInteger(i)) {}  // NOLINT

  // `Value('x')` and `Value(&some_int)` would silently become an int or a
  // bool; make them compile errors instead.
  Value(char) = delete;
  template <typename T,
            std::enable_if_t<!std::is_same<std::remove_cv_t<T>, char>::value,
                             int> = 0>
  Value(T*) = delete;

  static Value EmptyMap() { return Value(Map()); }
  static Value EmptyList() { return Value(List()); }

  Kind kind() const { return static_cast<Kind>(rep_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_double() const { return kind() == Kind::kDouble; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_map() const { return kind() == Kind::kMap; }

  // Accessors. Precondition: the value is of the named kind. When it is not,
  // the const accessors return a default (false, 0, 0.0, an empty string,
  // list or map) and the mutable_* ones first replace the value with an
  // empty value of their kind; never undefined behaviour.
  bool as_bool() const;
  int64_t as_int() const;
  double as_double() const;
  const std::string& as_string() const;
  const List& as_list() const;
  const Map& as_map() const;
  std::string* mutable_string();
  List* mutable_list();
  Map* mutable_map();

  // The entry `key` of a map; nullptr when absent or when this is not a map.
  const Value* Find(absl::string_view key) const;

  // Structural equality. Doubles compare by bit pattern, so NaN == NaN (with
  // the same payload) and 0.0 != -0.0: two params are equal exactly when they
  // encode to the same bytes. An int never equals a double (1 != 1.0).
  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  using Rep = std::variant<std::monostate, bool, int64_t, double, std::string,
                           List, Map>;

  template <typename T>
  static Rep FromInteger(T i) {
    if constexpr (std::is_unsigned<T>::value && sizeof(T) >= sizeof(int64_t)) {
      if (i > static_cast<T>(std::numeric_limits<int64_t>::max())) {
        return Rep(std::in_place_type<double>, static_cast<double>(i));
      }
    }
    return Rep(std::in_place_type<int64_t>, static_cast<int64_t>(i));
  }

  Rep rep_;
};

// "null", "bool", "int", "double", "string", "list" or "map".
absl::string_view KindName(Value::Kind kind);

// Writes ToJson(v) (compact; see value_json.h), e.g. for test failure output.
std::ostream& operator<<(std::ostream& os, const Value& v);

// Paths address a value inside nested maps: "a.b.c" is key "c" of the map at
// key "b" of the map at key "a" of the root. Components are non-empty and
// separated by single '.'; a path cannot address a key that itself contains
// '.' (such keys are still allowed inside subtrees set whole, and in
// MergeInto patches). Lists are not addressable by path.
//
// InvalidArgument naming the path when it is empty, starts or ends with '.',
// has an empty component ("a..b") or a component longer than
// kMaxValueStringBytes.
absl::Status ValidatePath(absl::string_view path);

// Sets `value` at `path` inside `root`. A null root becomes a map; missing
// (or null) intermediate entries become maps; an existing entry at `path` is
// replaced whole. InvalidArgument, with `root` left unchanged, when the path
// is invalid, when the root or an intermediate is neither a map nor null
// ("hparams.lr: 'hparams' is an int, not a map"), or when the result would
// break a limit (the message names the offending path). Takes time linear in
// the size of `root` (the limits are re-checked on the whole tree).
absl::Status SetPath(Value& root, absl::string_view path, Value value);

// The value at `path`. InvalidArgument for an invalid path; NotFound naming
// the path when a component is missing or an intermediate is not a map.
// The pointer is valid until `root` is next modified.
absl::StatusOr<const Value*> GetPath(const Value& root, absl::string_view path);

// Deep-merges the map `patch` into `root`: for every key of `patch`, when both
// sides are maps they merge recursively, otherwise the patch's value replaces
// (a null in the patch sets null; it does not delete). A null root becomes a
// map. InvalidArgument, with `root` left unchanged, when `patch` is not a map,
// `root` is neither a map nor null, or the result would break a limit.
absl::Status MergeInto(Value& root, const Value& patch);

// OK when `v` satisfies every limit above; otherwise InvalidArgument naming
// the offending location ("value at hparams.layers[3]: ...", keys that are not
// plain path components are quoted: `a["x.y"]`). Stops descending at the
// depth limit, so it is safe on arbitrarily deep input.
absl::Status ValidateValue(const Value& v);

}  // namespace runlog

#endif  // RUNLOG_TRACKING_VALUE_H_
