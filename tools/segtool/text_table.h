// Aligned plain-text tables for segtool's human-readable output.
//
//   TextTable t({"ID", "SIZE"});
//   t.SetAlign(1, TextTable::Align::kRight);
//   t.AddRow({"abc", "12 B"});
//   t.Print(out);
//
// Columns are separated by two spaces; no line has trailing spaces. Widths
// count UTF-8 code points, so non-ASCII names line up. Cells must be single
// lines (see SingleLine() in format.h); rows shorter than the header are
// padded with empty cells, longer ones are cut.
#ifndef RUNLOG_TOOLS_SEGTOOL_TEXT_TABLE_H_
#define RUNLOG_TOOLS_SEGTOOL_TEXT_TABLE_H_

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace runlog::segtool {

class TextTable {
 public:
  enum class Align { kLeft, kRight };

  explicit TextTable(std::vector<std::string> headers);

  void SetAlign(size_t column, Align align);
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }

  // Writes the header and every row, one line each.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<Align> align_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width of `s`: its UTF-8 code points.
size_t DisplayWidth(const std::string& s);

}  // namespace runlog::segtool

#endif  // RUNLOG_TOOLS_SEGTOOL_TEXT_TABLE_H_
