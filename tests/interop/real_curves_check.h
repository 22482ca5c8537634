// Checks an imported run against bench/real_curves.h's independent reading
// of the same real-curve file: every series, with the same steps and the
// same values bit for bit.
#ifndef RUNLOG_TESTS_INTEROP_REAL_CURVES_CHECK_H_
#define RUNLOG_TESTS_INTEROP_REAL_CURVES_CHECK_H_

#include <cstring>
#include <map>
#include <string>

#include "bench/real_curves.h"
#include "gtest/gtest.h"
#include "tracking/repo.h"

namespace runlog::interop {

// The loader's files by relative path ("csv/x.csv"), loaded once.
inline const std::map<std::string, bench::CurveFile>& RealCurveFiles() {
  static const auto* files = [] {
    auto* m = new std::map<std::string, bench::CurveFile>;
    auto loaded = bench::LoadRealCurves(bench::RealCurvesDir());
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    if (loaded.ok()) {
      for (bench::CurveFile& f : *loaded) m->emplace(f.relative_path, f);
    }
    return m;
  }();
  return *files;
}

inline void ExpectSameAsLoader(RunView& view, const std::string& relative) {
  auto it = RealCurveFiles().find(relative);
  ASSERT_NE(it, RealCurveFiles().end()) << relative;
  for (const bench::CurveSeries& s : it->second.series) {
    auto got = view.ReadScalars({s.name, {}});
    ASSERT_TRUE(got.ok()) << relative << " " << s.name << ": " << got.status();
    EXPECT_EQ(got->steps, s.steps) << relative << " " << s.name;
    ASSERT_EQ(got->size(), s.size()) << relative << " " << s.name;
    for (size_t i = 0; i < s.size(); ++i) {
      ASSERT_EQ(std::memcmp(&got->values[i], &s.values[i], 8), 0)
          << relative << " " << s.name << " point " << i;
    }
  }
  EXPECT_EQ(view.series().size(), it->second.series.size()) << relative;
}

}  // namespace runlog::interop

#endif  // RUNLOG_TESTS_INTEROP_REAL_CURVES_CHECK_H_
