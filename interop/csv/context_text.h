// The text form of a series context in the `context` column of the long CSV
// (segtool export --format csv, read back by interop/csv/importer.h):
//
//   fold=a,subset=train          entries key=value joined by ',', keys in order
//   path=a\,b,eq=x\=y,bs=c\\d    ',' '=' and '\' inside a key or value are
//                                 escaped with a backslash
//
// An empty context is the empty text. A backslash before any other character
// stands for itself, so contexts written before the escaping existed (which
// never held ',' or '=' inside values, or could not be read back) parse as
// they always did.
#ifndef RUNLOG_INTEROP_CSV_CONTEXT_TEXT_H_
#define RUNLOG_INTEROP_CSV_CONTEXT_TEXT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracking/series.h"

namespace runlog::interop {

std::string FormatContextText(const Context& context);

// InvalidArgument naming the text when an entry has no unescaped '=' or an
// empty key, or a key appears twice.
absl::StatusOr<Context> ParseContextText(absl::string_view text);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_CSV_CONTEXT_TEXT_H_
