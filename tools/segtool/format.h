// Text formatting shared by segtool's commands: times, numbers, sizes,
// contexts, CSV fields and safe quoting of user input in messages.
//
// Human tables round summary numbers (FormatShort); everything a machine may
// read back (cat output, --json, --csv, export) uses FormatExact, which reads
// back to the same double.
#ifndef RUNLOG_TOOLS_SEGTOOL_FORMAT_H_
#define RUNLOG_TOOLS_SEGTOOL_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace runlog::segtool {

// "2024-05-01T12:00:00Z" (UTC, whole seconds); "-" for an infinite time.
std::string FormatTimeSeconds(absl::Time t);
// "2024-05-01T12:00:00.000250Z" (UTC, microseconds, fixed width).
std::string FormatTimeMicros(int64_t unix_us);
// Appends FormatTimeMicros(unix_us) to *out, formatting the calendar part
// once per distinct second (points of a series mostly share seconds with
// their neighbours). Not thread-safe: keep one per thread.
class TimeMicrosFormatter {
 public:
  // The longest text Write() writes.
  static constexpr size_t kMaxText = 48;
  void Append(int64_t unix_us, std::string* out);
  // Writes the text at `p` (room for kMaxText bytes); returns its end.
  char* Write(int64_t unix_us, char* p);

 private:
  bool have_ = false;
  int64_t second_ = 0;
  char prefix_[32] = {};  // "2024-05-01T12:00:00"
  size_t prefix_size_ = 0;
};
// RFC 3339 with as many fraction digits as needed; for JSON. Infinite times
// have no text and become null in JSON (see TimeValue).
std::string FormatTimeJson(absl::Time t);
Value TimeValue(absl::Time t);

// The shortest text that reads back to the same double: "0.5", "1.0", "NaN",
// "Infinity", "-Infinity".
std::string FormatExact(double v);
// Six significant digits ("0.1", "1.5e+06"); "-" for NaN (no value).
std::string FormatShort(double v);
// "-" for NaN (a point without epoch), else FormatExact.
std::string FormatEpoch(double epoch);

// "512 B", "1.5 KiB", "3.2 MiB", "1.0 GiB".
std::string FormatBytes(uint64_t bytes);

// "subset=train,split=a" (keys in order); empty for an empty context.
std::string ContextString(const Context& context);
Value ContextValue(const Context& context);

// One line for a table cell: control characters become \n, \t, \r or \xNN.
std::string SingleLine(absl::string_view s);

// A CSV field (RFC 4180): quoted when it holds ',', '"', CR or LF.
std::string CsvField(absl::string_view s);

// User input quoted for an error message: C-escaped and cut to 64 bytes, so
// a hostile argument cannot flood or forge the terminal.
std::string QuoteArg(absl::string_view s);

// `path` relative to `root` when it lies inside it ("runs/<id>/COMMIT"),
// otherwise `path` unchanged.
std::string RelativeTo(absl::string_view path, absl::string_view root);

// Short descriptions of non-scalar points for text output.
std::string DescribeHistogram(const Histogram& h);
std::string DescribeBlob(const Blob& b);
// JSON shapes of non-scalar points: {"edges": [...], "counts": [...]} and
// {"content_type": "...", "bytes": N} (blob data is not exported).
Value HistogramValue(const Histogram& h);
Value BlobValue(const Blob& b);

}  // namespace runlog::segtool

#endif  // RUNLOG_TOOLS_SEGTOOL_FORMAT_H_
