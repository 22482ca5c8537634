#include "tracking/codec/value_codec.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/coding.h"
#include "storage/status_macros.h"

namespace runlog {
namespace {

using storage::GetFixed64;
using storage::GetVarint64;
using storage::PutFixed64;
using storage::PutVarint64;
using storage::ZigZagDecode;
using storage::ZigZagEncode;

enum Tag : uint8_t {
  kTagNull = 0x01,
  kTagFalse = 0x02,
  kTagTrue = 0x03,
  kTagInt = 0x04,
  kTagDouble = 0x05,
  kTagString = 0x06,
  kTagList = 0x07,
  kTagMap = 0x08,
};

size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

uint64_t DoubleBits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  return bits;
}

class Decoder {
 public:
  explicit Decoder(absl::string_view in) : start_(in), in_(in) {}

  absl::StatusOr<Value> Node(int depth) {
    const size_t tag_offset = offset();
    if (in_.empty()) return Error(tag_offset, "truncated: missing tag");
    const auto tag = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    switch (tag) {
      case kTagNull:
        return Value();
      case kTagFalse:
        return Value(false);
      case kTagTrue:
        return Value(true);
      case kTagInt: {
        RUNLOG_ASSIGN_OR_RETURN(uint64_t z, Varint("int"));
        return Value(ZigZagDecode(z));
      }
      case kTagDouble: {
        uint64_t bits;
        if (!GetFixed64(&in_, &bits)) {
          return Error(offset(), "truncated double");
        }
        double d;
        std::memcpy(&d, &bits, sizeof(d));
        return Value(d);
      }
      case kTagString: {
        RUNLOG_ASSIGN_OR_RETURN(absl::string_view s, Bytes("string"));
        return Value(s);
      }
      case kTagList:
      case kTagMap:
        return Container(tag, tag_offset, depth + 1);
      default:
        return Error(tag_offset, absl::StrFormat("unknown tag 0x%02x", tag));
    }
  }

  size_t offset() const { return start_.size() - in_.size(); }
  absl::string_view rest() const { return in_; }

 private:
  absl::Status Error(size_t at, absl::string_view what) const {
    return absl::DataLossError(
        absl::StrCat("value byte offset ", at, ": ", what));
  }

  // `what` and `suffix` name the varint in errors ("map key" " length");
  // two parts so that the common, successful path builds no string.
  absl::StatusOr<uint64_t> Varint(absl::string_view what,
                                  absl::string_view suffix = "") {
    const size_t at = offset();
    const size_t before = in_.size();
    uint64_t v;
    if (!GetVarint64(&in_, &v)) {
      return Error(
          at, absl::StrCat("truncated or overlong ", what, suffix, " varint"));
    }
    // Only the shortest form is accepted so that each Value has exactly one
    // encoding (re-encoding a decoded value reproduces its bytes).
    if (before - in_.size() != VarintLength(v)) {
      return Error(at, absl::StrCat("non-canonical ", what, suffix, " varint"));
    }
    return v;
  }

  absl::StatusOr<absl::string_view> Bytes(absl::string_view what) {
    const size_t at = offset();
    RUNLOG_ASSIGN_OR_RETURN(uint64_t n, Varint(what, " length"));
    if (n > in_.size()) {
      return Error(at, absl::StrCat(what, " length ", n, " exceeds the ",
                                    in_.size(), " remaining bytes"));
    }
    absl::string_view s = in_.substr(0, static_cast<size_t>(n));
    in_.remove_prefix(static_cast<size_t>(n));
    return s;
  }

  absl::StatusOr<Value> Container(uint8_t tag, size_t tag_offset, int depth) {
    if (depth > kMaxValueDepth) {
      return Error(tag_offset, absl::StrCat("nesting deeper than ",
                                            kMaxValueDepth, " lists/maps"));
    }
    const bool is_list = tag == kTagList;
    const size_t count_offset = offset();
    RUNLOG_ASSIGN_OR_RETURN(uint64_t n,
                            Varint(is_list ? "list count" : "map count"));
    // Every item takes at least one byte (its tag), every map entry at least
    // two (key length and tag): a count the remaining bytes cannot hold is
    // corrupt, and rejecting it here keeps hostile counts from reserving.
    const uint64_t min_bytes =
        is_list ? n : (n > UINT64_MAX / 2 ? UINT64_MAX : n * 2);
    if (min_bytes > in_.size()) {
      return Error(count_offset,
                   absl::StrCat(is_list ? "list" : "map", " count ", n,
                                " exceeds what the ", in_.size(),
                                " remaining bytes can hold"));
    }
    if (is_list) {
      Value::List list;
      // Bounded: n is only known to fit the input, and a Value is ~56 bytes.
      list.reserve(static_cast<size_t>(std::min<uint64_t>(n, 1024)));
      for (uint64_t i = 0; i < n; ++i) {
        RUNLOG_ASSIGN_OR_RETURN(Value item, Node(depth));
        list.push_back(std::move(item));
      }
      return Value(std::move(list));
    }
    Value::Map map;
    for (uint64_t i = 0; i < n; ++i) {
      const size_t key_offset = offset();
      RUNLOG_ASSIGN_OR_RETURN(absl::string_view key, Bytes("map key"));
      if (!map.empty() && !(absl::string_view(map.rbegin()->first) < key)) {
        return Error(key_offset, "map keys not in strictly ascending order");
      }
      RUNLOG_ASSIGN_OR_RETURN(Value item, Node(depth));
      // Keys ascend, so the hint makes each insertion constant time.
      map.emplace_hint(map.end(), std::string(key), std::move(item));
    }
    // Built in place: GCC 12 at -O2 and above warns (-Wmaybe-uninitialized,
    // a false positive) about the std::variant inside a moved temporary
    // Value when it is converted to the StatusOr.
    return absl::StatusOr<Value>(absl::in_place, std::move(map));
  }

  const absl::string_view start_;
  absl::string_view in_;
};

// The zero-copy reader behind SkipValue and FindEncodedPath.
class NodeReader {
 public:
  explicit NodeReader(absl::string_view in) : in_(in) {}

  // Reads the node at the front; containers are skipped unless `open` is
  // set, in which case only their tag and count are consumed (*count set).
  absl::Status Read(EncodedNode* node, bool open, uint64_t* count, int depth) {
    const absl::string_view start = in_;
    if (in_.empty()) return Damaged("truncated value");
    const auto tag = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    switch (tag) {
      case kTagNull:
        node->kind = Value::Kind::kNull;
        break;
      case kTagFalse:
      case kTagTrue:
        node->kind = Value::Kind::kBool;
        node->b = tag == kTagTrue;
        break;
      case kTagInt: {
        uint64_t z;
        if (!GetVarint64(&in_, &z)) return Damaged("truncated int");
        node->kind = Value::Kind::kInt;
        node->i = ZigZagDecode(z);
        break;
      }
      case kTagDouble: {
        uint64_t bits;
        if (!GetFixed64(&in_, &bits)) return Damaged("truncated double");
        node->kind = Value::Kind::kDouble;
        std::memcpy(&node->d, &bits, sizeof(node->d));
        break;
      }
      case kTagString: {
        absl::StatusOr<absl::string_view> str = Bytes();
        if (!str.ok()) return str.status();
        node->kind = Value::Kind::kString;
        node->s = *str;
        break;
      }
      case kTagList:
      case kTagMap: {
        if (depth >= kMaxValueDepth) return Damaged("nesting too deep");
        node->kind = tag == kTagList ? Value::Kind::kList : Value::Kind::kMap;
        uint64_t n;
        if (!GetVarint64(&in_, &n) || n > in_.size()) {
          return Damaged("bad container count");
        }
        if (open) {
          *count = n;
          return absl::OkStatus();
        }
        EncodedNode child;
        for (uint64_t k = 0; k < n; ++k) {
          if (tag == kTagMap) {
            absl::StatusOr<absl::string_view> key = Bytes();
            if (!key.ok()) return key.status();
          }
          uint64_t unused;
          if (absl::Status st = Read(&child, false, &unused, depth + 1);
              !st.ok()) {
            return st;
          }
        }
        break;
      }
      default:
        return Damaged("unknown tag");
    }
    node->bytes = start.substr(0, start.size() - in_.size());
    return absl::OkStatus();
  }

  absl::StatusOr<absl::string_view> Bytes() {
    uint64_t n;
    if (!GetVarint64(&in_, &n) || n > in_.size()) {
      return Damaged("bad length");
    }
    absl::string_view s = in_.substr(0, static_cast<size_t>(n));
    in_.remove_prefix(static_cast<size_t>(n));
    return s;
  }

  absl::string_view rest() const { return in_; }

 private:
  static absl::Status Damaged(absl::string_view what) {
    return absl::DataLossError(absl::StrCat("encoded value: ", what));
  }
  absl::string_view in_;
};

}  // namespace

absl::Status SkipValue(absl::string_view* in) {
  NodeReader r(*in);
  EncodedNode node;
  uint64_t unused;
  RUNLOG_RETURN_IF_ERROR(r.Read(&node, false, &unused, 0));
  *in = r.rest();
  return absl::OkStatus();
}

absl::StatusOr<std::optional<EncodedNode>> FindEncodedPath(
    absl::string_view root, const std::vector<std::string>& path) {
  NodeReader r(root);
  EncodedNode node;
  uint64_t count = 0;
  for (size_t depth = 0; depth < path.size(); ++depth) {
    RUNLOG_RETURN_IF_ERROR(
        r.Read(&node, /*open=*/true, &count, static_cast<int>(depth)));
    if (node.kind != Value::Kind::kMap) return std::nullopt;
    bool found = false;
    for (uint64_t k = 0; k < count; ++k) {
      RUNLOG_ASSIGN_OR_RETURN(absl::string_view key, r.Bytes());
      if (key == path[depth]) {
        found = true;
        break;
      }
      uint64_t unused;
      RUNLOG_RETURN_IF_ERROR(
          r.Read(&node, false, &unused, static_cast<int>(depth) + 1));
    }
    if (!found) return std::nullopt;
  }
  RUNLOG_RETURN_IF_ERROR(
      r.Read(&node, false, &count, static_cast<int>(path.size())));
  return node;
}

absl::Status ForEachEncodedEntry(
    absl::string_view map,
    absl::FunctionRef<void(absl::string_view key, const EncodedNode& value)>
        fn) {
  NodeReader r(map);
  EncodedNode node;
  uint64_t count = 0;
  RUNLOG_RETURN_IF_ERROR(r.Read(&node, /*open=*/true, &count, 0));
  if (node.kind != Value::Kind::kMap) {
    return absl::InvalidArgumentError("encoded value: not a map");
  }
  for (uint64_t k = 0; k < count; ++k) {
    RUNLOG_ASSIGN_OR_RETURN(absl::string_view key, r.Bytes());
    uint64_t unused;
    RUNLOG_RETURN_IF_ERROR(r.Read(&node, /*open=*/false, &unused, 1));
    fn(key, node);
  }
  return absl::OkStatus();
}

void EncodeValue(const Value& v, std::string* out) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      out->push_back(static_cast<char>(kTagNull));
      return;
    case Value::Kind::kBool:
      out->push_back(static_cast<char>(v.as_bool() ? kTagTrue : kTagFalse));
      return;
    case Value::Kind::kInt:
      out->push_back(static_cast<char>(kTagInt));
      PutVarint64(out, ZigZagEncode(v.as_int()));
      return;
    case Value::Kind::kDouble:
      out->push_back(static_cast<char>(kTagDouble));
      PutFixed64(out, DoubleBits(v.as_double()));
      return;
    case Value::Kind::kString:
      out->push_back(static_cast<char>(kTagString));
      PutVarint64(out, v.as_string().size());
      out->append(v.as_string());
      return;
    case Value::Kind::kList:
      out->push_back(static_cast<char>(kTagList));
      PutVarint64(out, v.as_list().size());
      for (const Value& item : v.as_list()) EncodeValue(item, out);
      return;
    case Value::Kind::kMap:
      out->push_back(static_cast<char>(kTagMap));
      PutVarint64(out, v.as_map().size());
      for (const auto& [key, item] : v.as_map()) {
        PutVarint64(out, key.size());
        out->append(key);
        EncodeValue(item, out);
      }
      return;
  }
}

size_t EncodedValueSize(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
    case Value::Kind::kBool:
      return 1;
    case Value::Kind::kInt:
      return 1 + VarintLength(ZigZagEncode(v.as_int()));
    case Value::Kind::kDouble:
      return 1 + 8;
    case Value::Kind::kString:
      return 1 + VarintLength(v.as_string().size()) + v.as_string().size();
    case Value::Kind::kList: {
      size_t n = 1 + VarintLength(v.as_list().size());
      for (const Value& item : v.as_list()) n += EncodedValueSize(item);
      return n;
    }
    case Value::Kind::kMap: {
      size_t n = 1 + VarintLength(v.as_map().size());
      for (const auto& [key, item] : v.as_map()) {
        n += VarintLength(key.size()) + key.size() + EncodedValueSize(item);
      }
      return n;
    }
  }
  return 0;
}

absl::StatusOr<Value> DecodeValue(absl::string_view* in) {
  Decoder decoder(*in);
  // The StatusOr is passed on as it is: unwrapping the Value and wrapping it
  // again makes GCC 12 report a false -Wmaybe-uninitialized on its variant.
  absl::StatusOr<Value> v = decoder.Node(0);
  if (v.ok()) *in = decoder.rest();
  return v;
}

}  // namespace runlog
