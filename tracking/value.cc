#include "tracking/value.h"

#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "storage/status_macros.h"
#include "tracking/codec/value_codec.h"

namespace runlog {
namespace {

const std::string& EmptyString() {
  static const auto* const kEmpty = new std::string();
  return *kEmpty;
}
const Value::List& EmptyListRef() {
  static const auto* const kEmpty = new Value::List();
  return *kEmpty;
}
const Value::Map& EmptyMapRef() {
  static const auto* const kEmpty = new Value::Map();
  return *kEmpty;
}

uint64_t DoubleBits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  return bits;
}

// Paths in messages are shown the way a user would write them where possible
// (a.b[3].c) and quoted where a key could not be a path component.
bool IsPlainComponent(absl::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '.' || c == '[' || c == ']' || c == '"' || u < 0x20 || u >= 0x7f) {
      return false;
    }
  }
  return true;
}

struct PathElem {
  const std::string* key;  // nullptr for a list index
  size_t index;
};

std::string DisplayPath(const std::vector<PathElem>& path) {
  if (path.empty()) return "root";
  std::string out;
  for (const PathElem& e : path) {
    if (e.key == nullptr) {
      absl::StrAppend(&out, "[", e.index, "]");
    } else if (IsPlainComponent(*e.key)) {
      if (!out.empty()) out.push_back('.');
      out.append(*e.key);
    } else {
      absl::StrAppend(&out, "[\"", absl::CEscape(*e.key), "\"]");
    }
  }
  return out;
}

absl::Status LimitError(const std::vector<PathElem>& path,
                        absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("value at ", DisplayPath(path), ": ", what));
}

// `depth` is the number of containers enclosing `v`; recursion stops at the
// limit, so the stack stays bounded whatever the input.
absl::Status ValidateNode(const Value& v, int depth,
                          std::vector<PathElem>& path) {
  switch (v.kind()) {
    case Value::Kind::kString:
      if (v.as_string().size() > kMaxValueStringBytes) {
        return LimitError(path, absl::StrCat("string of ", v.as_string().size(),
                                             " bytes exceeds the limit of ",
                                             kMaxValueStringBytes));
      }
      return absl::OkStatus();
    case Value::Kind::kList:
    case Value::Kind::kMap: {
      if (depth + 1 > kMaxValueDepth) {
        return LimitError(path, absl::StrCat("nesting deeper than ",
                                             kMaxValueDepth, " lists/maps"));
      }
      const size_t n = v.is_list() ? v.as_list().size() : v.as_map().size();
      if (n > kMaxValueEntries) {
        return LimitError(path, absl::StrCat(KindName(v.kind()), " of ", n,
                                             " entries exceeds the limit of ",
                                             kMaxValueEntries));
      }
      if (v.is_list()) {
        size_t i = 0;
        for (const Value& item : v.as_list()) {
          path.push_back({nullptr, i++});
          RUNLOG_RETURN_IF_ERROR(ValidateNode(item, depth + 1, path));
          path.pop_back();
        }
      } else {
        for (const auto& [key, item] : v.as_map()) {
          path.push_back({&key, 0});
          if (key.size() > kMaxValueStringBytes) {
            return LimitError(path, absl::StrCat("key of ", key.size(),
                                                 " bytes exceeds the limit of ",
                                                 kMaxValueStringBytes));
          }
          RUNLOG_RETURN_IF_ERROR(ValidateNode(item, depth + 1, path));
          path.pop_back();
        }
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

// Prefix of `path` made of its first `n` components, for messages.
absl::string_view PathPrefix(absl::string_view path,
                             const std::vector<absl::string_view>& parts,
                             size_t n) {
  const size_t end = static_cast<size_t>(parts[n - 1].data() - path.data()) +
                     parts[n - 1].size();
  return path.substr(0, end);
}

absl::Status NotAMap(absl::string_view path, absl::string_view prefix,
                     const Value& v) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": '", prefix, "' is ", v.is_int() ? "an " : "a ",
                   KindName(v.kind()), ", not a map"));
}

void MergeMaps(Value::Map& dst, const Value::Map& patch) {
  for (const auto& [key, value] : patch) {
    auto it = dst.find(key);
    if (it == dst.end()) {
      dst.emplace(key, value);
    } else if (it->second.is_map() && value.is_map()) {
      MergeMaps(*it->second.mutable_map(), value.as_map());
    } else {
      it->second = value;
    }
  }
}

}  // namespace

bool Value::as_bool() const {
  const bool* b = std::get_if<bool>(&rep_);
  return b != nullptr && *b;
}
int64_t Value::as_int() const {
  const int64_t* i = std::get_if<int64_t>(&rep_);
  return i != nullptr ? *i : 0;
}
double Value::as_double() const {
  const double* d = std::get_if<double>(&rep_);
  return d != nullptr ? *d : 0.0;
}
const std::string& Value::as_string() const {
  const std::string* s = std::get_if<std::string>(&rep_);
  return s != nullptr ? *s : EmptyString();
}
const Value::List& Value::as_list() const {
  const List* l = std::get_if<List>(&rep_);
  return l != nullptr ? *l : EmptyListRef();
}
const Value::Map& Value::as_map() const {
  const Map* m = std::get_if<Map>(&rep_);
  return m != nullptr ? *m : EmptyMapRef();
}
std::string* Value::mutable_string() {
  if (!is_string()) rep_.emplace<std::string>();
  return std::get_if<std::string>(&rep_);
}
Value::List* Value::mutable_list() {
  if (!is_list()) rep_.emplace<List>();
  return std::get_if<List>(&rep_);
}
Value::Map* Value::mutable_map() {
  if (!is_map()) rep_.emplace<Map>();
  return std::get_if<Map>(&rep_);
}

const Value* Value::Find(absl::string_view key) const {
  const Map* m = std::get_if<Map>(&rep_);
  if (m == nullptr) return nullptr;
  auto it = m->find(key);
  return it != m->end() ? &it->second : nullptr;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
      return a.as_bool() == b.as_bool();
    case Value::Kind::kInt:
      return a.as_int() == b.as_int();
    case Value::Kind::kDouble:
      return DoubleBits(a.as_double()) == DoubleBits(b.as_double());
    case Value::Kind::kString:
      return a.as_string() == b.as_string();
    case Value::Kind::kList:
      return a.as_list() == b.as_list();
    case Value::Kind::kMap:
      return a.as_map() == b.as_map();
  }
  return false;
}

absl::string_view KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kDouble:
      return "double";
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kList:
      return "list";
    case Value::Kind::kMap:
      return "map";
  }
  return "unknown";
}

absl::Status ValidatePath(absl::string_view path) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid param path \"", absl::CHexEscape(path), "\": ", why));
  };
  if (path.empty()) return invalid("empty");
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const size_t end = dot == absl::string_view::npos ? path.size() : dot;
    if (end == start) {
      return invalid(absl::StrCat("empty component at byte ", start));
    }
    if (end - start > kMaxValueStringBytes) {
      return invalid(absl::StrCat("component at byte ", start,
                                  " is longer than ", kMaxValueStringBytes,
                                  " bytes"));
    }
    if (dot == absl::string_view::npos) return absl::OkStatus();
    start = dot + 1;
  }
}

absl::Status SetPath(Value& root, absl::string_view path, Value value) {
  RUNLOG_RETURN_IF_ERROR(ValidatePath(path));
  if (!root.is_null() && !root.is_map()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the root is ", root.is_int() ? "an " : "a ",
                     KindName(root.kind()), ", not a map"));
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '.');

  // Check every intermediate before touching anything, so that a kind error
  // leaves `root` as it was.
  const Value* probe = &root;
  for (size_t i = 0; i + 1 < parts.size() && probe != nullptr; ++i) {
    const Value* child = probe->Find(parts[i]);
    if (child != nullptr && !child->is_null() && !child->is_map()) {
      return NotAMap(path, PathPrefix(path, parts, i + 1), *child);
    }
    probe = child;
  }

  // Mutate, then re-check the limits on the whole tree; on failure undo the
  // single change made: either one new entry was inserted into a map that
  // already existed (everything below it is new), or one existing entry
  // (possibly the root itself) was replaced.
  const bool root_was_null = root.is_null();
  Value::Map* map = root.mutable_map();
  Value::Map* undo_map = nullptr;
  std::string undo_key;
  std::optional<Value> undo_old;  // engaged when an entry was replaced
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    auto it = map->find(parts[i]);
    if (undo_map == nullptr) {
      undo_map = map;
      undo_key = std::string(parts[i]);
      if (it == map->end()) {
        it = map->emplace(undo_key, Value()).first;
      } else if (last || it->second.is_null()) {
        undo_old = std::move(it->second);
        it->second = Value();
      } else {
        undo_map = nullptr;  // an existing map we descend through
      }
    } else {
      it = map->emplace(std::string(parts[i]), Value()).first;
    }
    if (last) {
      it->second = std::move(value);
    } else {
      map = it->second.mutable_map();
    }
  }

  absl::Status status = ValidateValue(root);
  if (!status.ok()) {
    if (root_was_null) {
      root = Value();
    } else if (undo_old.has_value()) {
      (*undo_map)[undo_key] = *std::move(undo_old);
    } else {
      undo_map->erase(undo_key);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("setting ", path, ": ", status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<const Value*> GetPath(const Value& root,
                                     absl::string_view path) {
  RUNLOG_RETURN_IF_ERROR(ValidatePath(path));
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  const Value* cur = &root;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!cur->is_map()) {
      if (i == 0) {
        return absl::NotFoundError(absl::StrCat(
            path, ": not found (the root is ", cur->is_int() ? "an " : "a ",
            KindName(cur->kind()), ", not a map)"));
      }
      return absl::NotFoundError(absl::StrCat(
          path, ": not found ('", PathPrefix(path, parts, i), "' is ",
          cur->is_int() ? "an " : "a ", KindName(cur->kind()), ", not a map)"));
    }
    const Value* child = cur->Find(parts[i]);
    if (child == nullptr) {
      return absl::NotFoundError(absl::StrCat(path, ": not found"));
    }
    cur = child;
  }
  return cur;
}

absl::Status MergeInto(Value& root, const Value& patch) {
  if (!patch.is_map()) {
    return absl::InvalidArgumentError(
        absl::StrCat("merge: the patch is ", patch.is_int() ? "an " : "a ",
                     KindName(patch.kind()), ", not a map"));
  }
  if (!root.is_null() && !root.is_map()) {
    return absl::InvalidArgumentError(
        absl::StrCat("merge: the root is ", root.is_int() ? "an " : "a ",
                     KindName(root.kind()), ", not a map"));
  }
  // Merging may touch any number of entries, so work on a copy and swap it
  // in only once the result is known to satisfy the limits.
  Value merged = root;
  MergeMaps(*merged.mutable_map(), patch.as_map());
  absl::Status status = ValidateValue(merged);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("merge: ", status.message()));
  }
  root = std::move(merged);
  return absl::OkStatus();
}

absl::Status ValidateValue(const Value& v) {
  std::vector<PathElem> path;
  RUNLOG_RETURN_IF_ERROR(ValidateNode(v, 0, path));
  // The walk above bounded the depth, so the recursive size count is safe.
  const size_t size = EncodedValueSize(v);
  if (size > kMaxValueEncodedBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("value at root: encoded size of ", size,
                     " bytes exceeds the limit of ", kMaxValueEncodedBytes));
  }
  return absl::OkStatus();
}

}  // namespace runlog
