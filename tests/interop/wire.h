// A minimal protobuf wire-format writer and reader for the interop tests:
// they build golden inputs and read real files byte by byte, independently
// of the libprotobuf code under test.
#ifndef RUNLOG_TESTS_INTEROP_WIRE_H_
#define RUNLOG_TESTS_INTEROP_WIRE_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace runlog::interop::wire {

inline void Varint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
inline void Key(std::string* out, int field, int type) {
  Varint(out, (static_cast<uint64_t>(field) << 3) | type);
}
inline void Bytes(std::string* out, int field, absl::string_view b) {
  Key(out, field, 2);
  Varint(out, b.size());
  out->append(b.data(), b.size());
}
inline void Int(std::string* out, int field, uint64_t v) {
  Key(out, field, 0);
  Varint(out, v);
}
inline void Double(std::string* out, int field, double v) {
  Key(out, field, 1);
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}
inline void Float(std::string* out, int field, float v) {
  Key(out, field, 5);
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}

// Event{wall_time, step, summary{value{tag, <value>}}} with `value` the
// encoded Summary.Value fields after the tag.
inline std::string Event(double wall_time, int64_t step,
                         absl::string_view value_fields) {
  std::string value, summary, event;
  value.append(value_fields.data(), value_fields.size());
  Bytes(&summary, 1, value);
  Double(&event, 1, wall_time);
  Int(&event, 2, static_cast<uint64_t>(step));
  Bytes(&event, 5, summary);
  return event;
}
inline std::string Tag(absl::string_view tag) {
  std::string s;
  Bytes(&s, 1, tag);
  return s;
}
inline std::string PluginMetadata(absl::string_view plugin,
                                  absl::string_view content = "") {
  std::string pd, md, out;
  Bytes(&pd, 1, plugin);
  if (!content.empty()) Bytes(&pd, 2, content);
  Bytes(&md, 1, pd);
  Bytes(&out, 9, md);
  return out;
}

// `depth` length-delimited fields `field`, each holding the next: built
// outside in, in linear time.
// With two fields, they alternate from the inside out (for mutually
// recursive messages such as google.protobuf.Value and ListValue).
inline std::string Nested(int field, int depth, absl::string_view core = "",
                          int other_field = 0) {
  std::vector<std::string> headers;
  size_t size = core.size();
  for (int i = 0; i < depth; ++i) {
    std::string h;
    Key(&h, other_field != 0 && i % 2 == 1 ? other_field : field, 2);
    Varint(&h, size);
    size += h.size();
    headers.push_back(std::move(h));
  }
  std::string out;
  out.reserve(size);
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) out += *it;
  out.append(core.data(), core.size());
  return out;
}

// A cursor over wire bytes; false past the end or on malformed input.
struct Reader {
  const char* p;
  const char* end;
  explicit Reader(absl::string_view b)
      : p(b.data()), end(b.data() + b.size()) {}
  bool done() const { return p >= end; }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
      const unsigned char b = static_cast<unsigned char>(*p++);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Fixed(size_t n, absl::string_view* out) {
    if (static_cast<size_t>(end - p) < n) return false;
    *out = absl::string_view(p, n);
    p += n;
    return true;
  }
  // Reads one field: its number, type and (for types 1, 2, 5) bytes or (for
  // 0) the varint.
  bool Field(int* field, int* type, uint64_t* varint,
             absl::string_view* bytes) {
    uint64_t key;
    if (!Varint(&key)) return false;
    *field = static_cast<int>(key >> 3);
    *type = static_cast<int>(key & 7);
    switch (*type) {
      case 0:
        return Varint(varint);
      case 1:
        return Fixed(8, bytes);
      case 2: {
        uint64_t n;
        return Varint(&n) && n <= static_cast<uint64_t>(end - p) &&
               Fixed(n, bytes);
      }
      case 5:
        return Fixed(4, bytes);
      default:
        return false;
    }
  }
};

}  // namespace runlog::interop::wire

#endif  // RUNLOG_TESTS_INTEROP_WIRE_H_
