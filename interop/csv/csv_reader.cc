#include "interop/csv/csv_reader.h"

#include <deque>

#include "absl/strings/str_cat.h"

namespace runlog::interop {

absl::Status ReadCsv(
    absl::string_view text, char delimiter,
    const std::function<absl::Status(const std::vector<absl::string_view>&,
                                     int64_t)>& on_record) {
  std::vector<absl::string_view> fields;
  // Unescaped quoted fields; a deque keeps earlier views valid.
  std::deque<std::string> unescaped;
  size_t pos = 0;
  int64_t line = 1;
  const size_t n = text.size();
  while (pos < n) {
    fields.clear();
    unescaped.clear();
    const int64_t first_line = line;
    bool end_of_record = false;
    while (!end_of_record) {
      if (pos < n && text[pos] == '"') {
        // Quoted field.
        size_t i = pos + 1;
        std::string* buf = nullptr;
        size_t start = i;
        while (true) {
          if (i >= n) {
            return absl::InvalidArgumentError(
                absl::StrCat("line ", first_line, ": a quote never closes"));
          }
          if (text[i] == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              if (buf == nullptr) buf = &unescaped.emplace_back();
              buf->append(text.data() + start, i + 1 - start);
              i += 2;
              start = i;
              continue;
            }
            break;
          }
          if (text[i] == '\n') ++line;
          ++i;
        }
        if (buf != nullptr) {
          buf->append(text.data() + start, i - start);
          fields.emplace_back(*buf);
        } else {
          fields.push_back(text.substr(start, i - start));
        }
        pos = i + 1;
        // After the closing quote: a delimiter, a line end or the end.
        if (pos < n && text[pos] != delimiter && text[pos] != '\n' &&
            text[pos] != '\r') {
          return absl::InvalidArgumentError(absl::StrCat(
              "line ", line, ": text after the closing quote of a field"));
        }
      } else {
        size_t i = pos;
        while (i < n && text[i] != delimiter && text[i] != '\n' &&
               text[i] != '\r') {
          ++i;
        }
        fields.push_back(text.substr(pos, i - pos));
        pos = i;
      }
      if (pos < n && text[pos] == delimiter) {
        ++pos;
        continue;
      }
      // A line end ("\n", "\r\n", "\r\r\n", or a lone "\r") or the end.
      while (pos < n && text[pos] == '\r') ++pos;
      if (pos < n && text[pos] == '\n') ++pos;
      ++line;
      end_of_record = true;
    }
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    absl::Status s = on_record(fields, first_line);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace runlog::interop
