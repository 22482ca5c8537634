// Compact binary encoding of a Value, used inside segment records and the
// commit summary.
//
// Byte layout (a value is one node; containers nest):
//
//   node    := tag payload
//   tag     payload                                         kind
//   0x01    (none)                                          null
//   0x02    (none)                                          false
//   0x03    (none)                                          true
//   0x04    varint(zigzag(i))                               int64
//   0x05    fixed64 LE of the IEEE-754 bit pattern          double
//   0x06    varint(n) n bytes                               string
//   0x07    varint(n) node*n                                list
//   0x08    varint(n) (varint(k) k key bytes, node)*n       map
//
// varint is LEB128 (storage/coding.h), at most 10 bytes, in its shortest form;
// zigzag maps 0,-1,1,-2,... to 0,1,2,3,... Doubles keep their exact bits
// (NaN payloads, -0.0). Map keys are in strictly ascending bytewise order.
// The encoding is canonical: each Value has exactly one encoding, and the
// decoder accepts only that one (shortest varints, sorted unique keys), so
// decode-then-encode reproduces the input bytes. Tag 0x00 is never valid, so
// zero-filled bytes are rejected.
//
// Example: {"seed": 42} is 08 01 04 73 65 65 64 04 54.
#ifndef RUNLOG_TRACKING_CODEC_VALUE_CODEC_H_
#define RUNLOG_TRACKING_CODEC_VALUE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracking/value.h"

namespace runlog {

// Appends the encoding of `v` to `*out`. Precondition: ValidateValue(v) is OK
// (in particular its depth is bounded; deeper values are encoded, but may not
// decode, and very deep ones exhaust the stack).
void EncodeValue(const Value& v, std::string* out);

// The number of bytes EncodeValue(v, ...) appends. Same precondition.
size_t EncodedValueSize(const Value& v);

// Decodes one value from the front of `*in` and removes its bytes from `*in`;
// bytes after it are left for the caller. Safe on arbitrary input: nesting is
// limited to kMaxValueDepth, and every declared length or count is checked
// against the remaining bytes before anything is allocated. DataLoss naming
// the byte offset relative to the start of the value on truncation, an
// unknown tag, a non-shortest varint, unsorted or duplicate map keys, or
// excessive depth; `*in` is unchanged on error.
absl::StatusOr<Value> DecodeValue(absl::string_view* in);

// One node of an encoded value, read in place (nothing is allocated): the
// scalar it holds, or for a list or map only its kind and bytes. Strings
// and `bytes` point into the encoding.
struct EncodedNode {
  Value::Kind kind = Value::Kind::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  absl::string_view s;      // kString
  absl::string_view bytes;  // the whole node, tag included
};

// Removes one encoded value from the front of `*in` without building it,
// checking lengths, counts and depth (not key order nor varint canonical
// form: DecodeValue is the judge of those). DataLoss on damage.
absl::Status SkipValue(absl::string_view* in);

// The node at `path` inside the encoded value `root` (a map of maps, as
// params are): nullopt when a component is missing or an intermediate is
// not a map. Reads only the maps on the way, skipping the other entries, so
// that listing can evaluate a query on params without decoding them.
// DataLoss on damage.
absl::StatusOr<std::optional<EncodedNode>> FindEncodedPath(
    absl::string_view root, const std::vector<std::string>& path);

// Calls fn(key, node) for each entry of the encoded map `map` (a map
// node's bytes, e.g. EncodedNode::bytes or the params of a summary view), in
// key order, reading in place. InvalidArgument when the node is not a map;
// DataLoss on damage (entries before it have been visited).
absl::Status ForEachEncodedEntry(
    absl::string_view map,
    absl::FunctionRef<void(absl::string_view key, const EncodedNode& value)>
        fn);

}  // namespace runlog

#endif  // RUNLOG_TRACKING_CODEC_VALUE_CODEC_H_
