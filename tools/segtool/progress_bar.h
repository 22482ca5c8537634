// A tqdm-style progress bar for segtool's long commands, drawn on one
// terminal line of stderr and erased at the end:
//
//   export  42%|████▏     | 420/1000 runs [00:03<00:04]
//
// `desc`, the percentage, a 10-cell bar in eighths of a cell, done/total and
// the unit, then the elapsed time and the estimated time left ("?" before
// the first item is done). Times are mm:ss, or h:mm:ss from an hour on.
// Redrawn at most every 100 ms of `clock` (and always for the first and the
// last item), so a fast loop does not flood the terminal.
//
// segtool draws it only when stderr is a terminal (Env::progress); a bar
// that is not enabled writes nothing at all, so pipes and tests see clean
// output.
//
// Thread-safety: none; one bar per command.
#ifndef RUNLOG_TOOLS_SEGTOOL_PROGRESS_BAR_H_
#define RUNLOG_TOOLS_SEGTOOL_PROGRESS_BAR_H_

#include <cstddef>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/clock.h"

namespace runlog::segtool {

// The line for `done` of `total` after `elapsed` (no control characters).
std::string RenderProgressLine(absl::string_view desc, size_t done,
                               size_t total, absl::string_view unit,
                               absl::Duration elapsed);

class ProgressBar {
 public:
  // `clock` null: the real clock. Not owned.
  ProgressBar(std::ostream& err, bool enabled, std::string desc, size_t total,
              std::string unit, storage::Clock* clock = nullptr);
  ~ProgressBar();  // Clear()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `done` items of `total` are finished.
  void Update(size_t done);
  // Erases the line, before a message is printed on `err` or at the end;
  // the next Update draws it again.
  void Clear();

 private:
  std::ostream& err_;
  bool enabled_;
  std::string desc_;
  size_t total_;
  std::string unit_;
  storage::Clock* clock_;
  absl::Time start_;
  absl::Time last_draw_ = absl::InfinitePast();
  bool drawn_ = false;
};

}  // namespace runlog::segtool

#endif  // RUNLOG_TOOLS_SEGTOOL_PROGRESS_BAR_H_
