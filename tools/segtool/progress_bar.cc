#include "tools/segtool/progress_bar.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace runlog::segtool {
namespace {

constexpr int kBarCells = 10;
constexpr absl::Duration kRedrawInterval = absl::Milliseconds(100);
// tqdm's eighths of a cell, from empty to full.
constexpr const char* kEighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
constexpr char kFull[] = "█";

std::string FormatClock(absl::Duration d) {
  const int64_t s = std::max<int64_t>(0, absl::ToInt64Seconds(d));
  if (s >= 3600) {
    return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  }
  return absl::StrFormat("%02d:%02d", s / 60, s % 60);
}

}  // namespace

std::string RenderProgressLine(absl::string_view desc, size_t done,
                               size_t total, absl::string_view unit,
                               absl::Duration elapsed) {
  done = std::min(done, total);
  // Integer shares, rounded down, so the bar is full only at the end.
  const uint64_t d = done, t = total == 0 ? 1 : total;
  const int percent = total == 0 ? 100 : static_cast<int>(d * 100 / t);
  const int eighths =
      total == 0 ? kBarCells * 8 : static_cast<int>(d * kBarCells * 8 / t);
  std::string bar;
  int cells = 0;
  for (; cells < eighths / 8; ++cells) bar += kFull;
  if (cells < kBarCells && eighths % 8 != 0) {
    bar += kEighths[eighths % 8];
    ++cells;
  }
  bar.append(kBarCells - cells, ' ');
  std::string left = "?";
  if (done > 0) {
    left = FormatClock(elapsed * (static_cast<double>(total - done) /
                                  static_cast<double>(done)));
  }
  return absl::StrFormat("%s %3d%%|%s| %d/%d %s [%s<%s]", desc, percent, bar,
                         done, total, unit, FormatClock(elapsed), left);
}

ProgressBar::ProgressBar(std::ostream& err, bool enabled, std::string desc,
                         size_t total, std::string unit, storage::Clock* clock)
    : err_(err),
      enabled_(enabled),
      desc_(std::move(desc)),
      total_(total),
      unit_(std::move(unit)),
      clock_(clock ? clock : storage::Clock::Default()),
      start_(enabled ? clock_->Now() : absl::InfinitePast()) {}

ProgressBar::~ProgressBar() { Clear(); }

void ProgressBar::Update(size_t done) {
  if (!enabled_) return;
  const absl::Time now = clock_->Now();
  const bool edge = done == 0 || done >= total_ || !drawn_;
  if (!edge && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  // "\r" and erase-line redraw in place; the line never scrolls.
  err_ << "\r\x1b[K"
       << RenderProgressLine(desc_, done, total_, unit_, now - start_)
       << std::flush;
  drawn_ = true;
}

void ProgressBar::Clear() {
  if (!drawn_) return;
  err_ << "\r\x1b[K" << std::flush;
  drawn_ = false;
}

}  // namespace runlog::segtool
