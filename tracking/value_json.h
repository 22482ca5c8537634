// JSON text for Values, for tools and for people.
//
// Output (ToJson) is RFC 8259 JSON with one extension shared with Python's
// json module: the non-finite doubles print as the bare tokens NaN, Infinity
// and -Infinity, which ParseJson (and Python's json.loads) accept.
//   - Map keys come out in the Map's (bytewise) order.
//   - Doubles print in the shortest form that reads back to the same bits and
//     always look like doubles ("1.0", "-0.0", "1e+21"), so that a
//     ParseJson(ToJson(v)) round trip keeps int and double apart.
//   - Strings escape '"', '\\' and control characters (\n, \t, ... or \u00XX);
//     valid UTF-8 is written as is. Each byte that is not part of valid UTF-8
//     is written as \u00XX (U+0000..U+00FF), so such a string reads back as a
//     different string: only strings in valid UTF-8 round-trip exactly.
//   - pretty=true indents by two spaces, one entry per line, ": " after keys
//     (json.dumps(v, indent=2) style); pretty=false has no whitespace at all.
//
// Input (ParseJson) is strict JSON plus the three tokens above: no comments,
// no trailing commas, no single quotes, strings in valid UTF-8, exactly one
// value with only whitespace around it. Numbers without fraction or exponent
// that fit int64 become ints; every other number becomes a double (a decimal
// too large for a double, such as 1e400, is an error). Duplicate keys in an
// object are an error. Nesting is limited to kMaxValueDepth lists/maps; the
// other limits of value.h are not applied (call ValidateValue). Errors are
// InvalidArgument naming the byte offset in `text`.
#ifndef RUNLOG_TRACKING_VALUE_JSON_H_
#define RUNLOG_TRACKING_VALUE_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracking/value.h"

namespace runlog {

std::string ToJson(const Value& v, bool pretty = false);
// Appends a double as ToJson writes it: the shortest text that reads back to
// the same double ("0.5", "1.0", "1e-06"), "NaN", "Infinity", "-Infinity".
void AppendJsonDouble(double d, std::string* out);
// The longest text WriteJsonDouble writes.
inline constexpr size_t kMaxJsonDoubleText = 32;
// Writes that text at `p`, which must have room for kMaxJsonDoubleText
// bytes, and returns the end of what it wrote.
char* WriteJsonDouble(double d, char* p);

absl::StatusOr<Value> ParseJson(absl::string_view text);

}  // namespace runlog

#endif  // RUNLOG_TRACKING_VALUE_JSON_H_
