// segtool's text formatting: the in-place time formatter export uses must
// write exactly what FormatTimeMicros writes.
#include "tools/segtool/format.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace runlog::segtool {
namespace {

TEST(TimeMicrosFormatterTest, WritesWhatFormatTimeMicrosWrites) {
  std::mt19937_64 gen(19);
  TimeMicrosFormatter f;
  std::string out, want;
  int64_t t = 1'700'000'000'000'000;
  for (int i = 0; i < 20000; ++i) {
    // Mostly neighbouring times (the formatter's cache), sometimes far.
    if (i % 100 == 0) {
      t = static_cast<int64_t>(gen() % 8'000'000'000'000'000) -
          2'000'000'000'000'000;
    } else {
      t += static_cast<int64_t>(gen() % 300'000);
    }
    f.Append(t, &out);
    want += FormatTimeMicros(t);
  }
  EXPECT_EQ(out, want);
}

TEST(TimeMicrosFormatterTest, EdgesOfSecondsAndTheEpoch) {
  for (int64_t t : {int64_t{0}, int64_t{-1}, int64_t{-999'999},
                    int64_t{-1'000'000}, int64_t{-1'000'001}, int64_t{999'999},
                    int64_t{1'000'000}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    TimeMicrosFormatter f;
    std::string out;
    f.Append(t, &out);
    f.Append(t, &out);  // from the cache
    EXPECT_EQ(out, FormatTimeMicros(t) + FormatTimeMicros(t)) << t;
  }
}

}  // namespace
}  // namespace runlog::segtool
