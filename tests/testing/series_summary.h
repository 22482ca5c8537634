// Compares two series summaries field by field, the doubles by bit pattern
// (NaN with its payload and -0.0 must survive), with a failure per field.
#ifndef RUNLOG_TESTS_TESTING_SERIES_SUMMARY_H_
#define RUNLOG_TESTS_TESTING_SERIES_SUMMARY_H_

#include "gtest/gtest.h"
#include "tests/testing/double_bits.h"
#include "tracking/series.h"

namespace runlog::testing {

inline void ExpectSameSeries(const SeriesSummary& got,
                             const SeriesSummary& want) {
  EXPECT_EQ(got.key, want.key);
  EXPECT_EQ(got.kind, want.kind);
  EXPECT_EQ(got.count, want.count);
  EXPECT_EQ(got.first_step, want.first_step);
  EXPECT_EQ(got.last_step, want.last_step);
  EXPECT_EQ(Bits(got.first), Bits(want.first));
  EXPECT_EQ(Bits(got.last), Bits(want.last));
  EXPECT_EQ(Bits(got.min), Bits(want.min));
  EXPECT_EQ(Bits(got.max), Bits(want.max));
}

}  // namespace runlog::testing

#endif  // RUNLOG_TESTS_TESTING_SERIES_SUMMARY_H_
