// An RFC 4180 reader: fields separated by one delimiter byte, quoted with
// '"' ('""' inside quotes is one quote), records ending in "\n", "\r\n" or
// "\r\r\n" (Python's csv module on Windows). Quoted fields may hold
// delimiters and line breaks.
//
// Failure: InvalidArgument naming the line for a quote that never closes or
// text after a closing quote. Allocation: a record's fields are views into
// the input unless they held '""', in which case the unescaped text lives in
// a per-record buffer; nothing grows with the number of records.
//
// Thread-safety: pure functions.
#ifndef RUNLOG_INTEROP_CSV_CSV_READER_H_
#define RUNLOG_INTEROP_CSV_CSV_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace runlog::interop {

// Calls `on_record(fields, line)` for every record (line: 1-based number of
// its first line); an error it returns stops the scan and is returned.
// Blank lines are skipped.
absl::Status ReadCsv(
    absl::string_view text, char delimiter,
    const std::function<absl::Status(const std::vector<absl::string_view>&,
                                     int64_t)>& on_record);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_CSV_CSV_READER_H_
