// The shortest text of a double, as std::to_chars(first, last, d) writes it
// (no format argument: the fewest significant digits that read back to the
// same double, fixed or scientific notation, whichever is shorter, fixed on
// a tie; "1e-05", "0.001", "1e+05", "1234.5"), fast for the values training
// programs log.
//
// Pure functions; thread-safe.
#ifndef RUNLOG_TRACKING_DOUBLE_TEXT_H_
#define RUNLOG_TRACKING_DOUBLE_TEXT_H_

#include <cstddef>

namespace runlog {

// The longest text WriteShortestDouble writes ("-2.2250738585072014e-308").
inline constexpr size_t kMaxShortestDoubleText = 24;

// Writes the text of `d` at `p`, which must have room for
// kMaxShortestDoubleText bytes, and returns the end of what it wrote. The
// bytes are exactly std::to_chars's, for every double (NaN and infinities
// included). A value of magnitude in [1e-7, 1e15) whose shortest text has
// at most 15 significant digits (decimals and float32 values alike: what
// training loops log) is written directly from its 15-digit decimal, about
// twice as fast; the others go to std::to_chars.
char* WriteShortestDouble(double d, char* p);

}  // namespace runlog

#endif  // RUNLOG_TRACKING_DOUBLE_TEXT_H_
