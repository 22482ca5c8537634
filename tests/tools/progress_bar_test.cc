#include "tools/segtool/progress_bar.h"

#include <sstream>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"

namespace runlog::segtool {
namespace {

using ::testing::HasSubstr;

TEST(RenderProgressLineTest, TqdmLayout) {
  EXPECT_EQ(RenderProgressLine("export", 420, 1000, "runs", absl::Seconds(3)),
            "export  42%|████▏     | 420/1000 runs [00:03<00:04]");
}

TEST(RenderProgressLineTest, StartHasNoEstimate) {
  EXPECT_EQ(RenderProgressLine("verify", 0, 7, "runs", absl::ZeroDuration()),
            "verify   0%|          | 0/7 runs [00:00<?]");
}

TEST(RenderProgressLineTest, EighthsOfACell) {
  // 45% of 10 cells: four full and a half.
  EXPECT_THAT(RenderProgressLine("x", 45, 100, "runs", absl::Seconds(1)),
              HasSubstr("|████▌     |"));
  // Just under full is never drawn full.
  EXPECT_THAT(RenderProgressLine("x", 999, 1000, "runs", absl::Seconds(1)),
              HasSubstr(" 99%|█████████▉|"));
}

TEST(RenderProgressLineTest, DoneIsFull) {
  EXPECT_EQ(RenderProgressLine("compact", 3, 3, "runs", absl::Seconds(75)),
            "compact 100%|██████████| 3/3 runs [01:15<00:00]");
}

TEST(RenderProgressLineTest, HoursAndEmptyTotal) {
  EXPECT_THAT(RenderProgressLine("import", 1, 2, "runs", absl::Seconds(3725)),
              HasSubstr("[1:02:05<1:02:05]"));
  EXPECT_EQ(RenderProgressLine("export", 0, 0, "runs", absl::ZeroDuration()),
            "export 100%|██████████| 0/0 runs [00:00<?]");
}

TEST(ProgressBarTest, DisabledWritesNothing) {
  std::ostringstream err;
  storage::ManualClock clock(absl::FromUnixSeconds(100));
  {
    ProgressBar bar(err, /*enabled=*/false, "export", 3, "runs", &clock);
    for (size_t i = 0; i <= 3; ++i) bar.Update(i);
    bar.Clear();
  }
  EXPECT_EQ(err.str(), "");
}

TEST(ProgressBarTest, RedrawsInPlaceAtMostEvery100msAndErasesAtTheEnd) {
  std::ostringstream err;
  storage::ManualClock clock(absl::FromUnixSeconds(100));
  {
    ProgressBar bar(err, /*enabled=*/true, "export", 4, "runs", &clock);
    bar.Update(0);
    clock.Advance(absl::Milliseconds(50));
    bar.Update(1);  // too soon: skipped
    clock.Advance(absl::Milliseconds(60));
    bar.Update(2);
    bar.Update(4);  // the last is always drawn
  }
  EXPECT_EQ(err.str(),
            "\r\x1b[K"
            "export   0%|          | 0/4 runs [00:00<?]"
            "\r\x1b[K"
            "export  50%|█████     | 2/4 runs [00:00<00:00]"
            "\r\x1b[K"
            "export 100%|██████████| 4/4 runs [00:00<00:00]"
            "\r\x1b[K");
}

TEST(ProgressBarTest, ClearBeforeAMessageThenDrawsAgain) {
  std::ostringstream err;
  storage::ManualClock clock(absl::FromUnixSeconds(100));
  ProgressBar bar(err, /*enabled=*/true, "verify", 10, "runs", &clock);
  bar.Update(3);
  bar.Clear();
  err << "segtool: a problem\n";
  clock.Advance(absl::Milliseconds(1));
  bar.Update(4);  // drawn although within 100 ms: the line was erased
  clock.Advance(absl::Seconds(4));
  bar.Update(5);
  bar.Clear();
  EXPECT_EQ(err.str(),
            "\r\x1b[K"
            "verify  30%|███       | 3/10 runs [00:00<00:00]"
            "\r\x1b[K"
            "segtool: a problem\n"
            "\r\x1b[K"
            "verify  40%|████      | 4/10 runs [00:00<00:00]"
            "\r\x1b[K"
            "verify  50%|█████     | 5/10 runs [00:04<00:04]"
            "\r\x1b[K");
}

}  // namespace
}  // namespace runlog::segtool
