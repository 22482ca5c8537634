// Seeded synthetic scalar series shaped like what a training loop logs, shared
// by the benchmarks (and usable by tests): the three families of the
// compaction targets in issue 4. Header-only.
//
// Every generator is deterministic for a given (n, seed) on every platform:
// randomness comes from std::mt19937_64 (whose output sequence the standard
// fixes) through our own uniform and Box-Muller transforms, never through
// the implementation-defined std::*_distribution classes.
//
// Common columns:
//   steps     0, 1, 2, ..., n-1
//   epochs    floor(step / kStepsPerEpoch), as doubles (integer-valued)
//   times_us  a wall clock starting at kStartTimeUs that advances ~30 ms per
//             step (30 ms +- 3 ms uniform jitter) but is sampled only every
//             32 points, as a Run samples its clock: constant over each group
//             of 32 points, increasing between groups.
#ifndef RUNLOG_BENCH_SYNTHETIC_SERIES_H_
#define RUNLOG_BENCH_SYNTHETIC_SERIES_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace runlog::bench {

struct SyntheticSeries {
  std::string family;          // "counter", "lr_schedule", "noisy_loss"
  std::vector<int64_t> steps;  // consecutive: 0, 1, 2, ...
  std::vector<double> values;
  std::vector<double> epochs;     // step / steps_per_epoch (integer-valued)
  std::vector<int64_t> times_us;  // wall time in µs, constant per 32 points
  size_t size() const { return steps.size(); }
};

inline constexpr int64_t kStepsPerEpoch = 1000;
inline constexpr int64_t kStartTimeUs = 1'700'000'000'000'000;
inline constexpr int64_t kStepTimeUs = 30'000;
inline constexpr int64_t kStepJitterUs = 3'000;
inline constexpr size_t kClockSamplePoints = 32;

namespace synthetic_internal {

// Uniform in [0, 1) from the top 53 bits.
inline double Uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Standard normal by Box-Muller (one of the pair; simplicity over speed).
inline double Gaussian(std::mt19937_64& rng) {
  constexpr double kTwoPi = 6.283185307179586;
  const double u1 = 1.0 - Uniform01(rng);  // (0, 1]: log() stays finite
  const double u2 = Uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

// Fills steps, epochs and times_us for n points; the clock uses its own
// generator (derived from `seed`) so the value generators stay independent.
inline SyntheticSeries MakeFrame(std::string family, size_t n, uint64_t seed) {
  SyntheticSeries s;
  s.family = std::move(family);
  s.steps.resize(n);
  s.epochs.resize(n);
  s.times_us.resize(n);
  s.values.reserve(n);
  std::mt19937_64 clock_rng(seed ^ 0x9e3779b97f4a7c15ULL);
  int64_t now = kStartTimeUs;
  int64_t sampled = now;
  for (size_t i = 0; i < n; ++i) {
    const auto step = static_cast<int64_t>(i);
    s.steps[i] = step;
    s.epochs[i] = static_cast<double>(step / kStepsPerEpoch);
    if (i % kClockSamplePoints == 0) sampled = now;
    s.times_us[i] = sampled;
    const auto jitter =
        static_cast<int64_t>(clock_rng() % (2 * kStepJitterUs + 1)) -
        kStepJitterUs;
    now += kStepTimeUs + jitter;
  }
  return s;
}

}  // namespace synthetic_internal

// Tokens seen: += 4096 * 2048 per step, except the last step of each epoch,
// whose batch is smaller (a seeded 1..4095 sequences). Integer-valued doubles.
inline SyntheticSeries MakeCounter(size_t n, uint64_t seed) {
  SyntheticSeries s = synthetic_internal::MakeFrame("counter", n, seed);
  std::mt19937_64 rng(seed);
  constexpr int64_t kSeqLen = 2048;
  constexpr int64_t kBatch = 4096;
  int64_t tokens = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool last_of_epoch =
        static_cast<int64_t>(i) % kStepsPerEpoch == kStepsPerEpoch - 1;
    const int64_t batch =
        last_of_epoch ? 1 + static_cast<int64_t>(rng() % (kBatch - 1)) : kBatch;
    tokens += batch * kSeqLen;
    s.values.push_back(static_cast<double>(tokens));
  }
  return s;
}

// Piecewise-constant learning rate: 3e-4, multiplied by 0.1 (in double, as
// Python does: 2.9999999999999997e-05, ...) at 50% and at 75% of n. The seed
// only affects the clock.
inline SyntheticSeries MakeLrSchedule(size_t n, uint64_t seed) {
  SyntheticSeries s = synthetic_internal::MakeFrame("lr_schedule", n, seed);
  double lr = 3e-4;
  for (size_t i = 0; i < n; ++i) {
    if (i == n / 2 || i == n * 3 / 4) lr *= 0.1;
    s.values.push_back(lr);
  }
  return s;
}

// A decaying loss computed in float and stored as double:
// (double)(float)(2.5 * exp(-3 i / n) + 0.3 + N(0, 0.05)).
inline SyntheticSeries MakeNoisyLoss(size_t n, uint64_t seed) {
  SyntheticSeries s = synthetic_internal::MakeFrame("noisy_loss", n, seed);
  std::mt19937_64 rng(seed);
  const double denom = n == 0 ? 1.0 : static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) {
    const double clean =
        2.5 * std::exp(-3.0 * static_cast<double>(i) / denom) + 0.3;
    const double noisy = clean + 0.05 * synthetic_internal::Gaussian(rng);
    s.values.push_back(static_cast<double>(static_cast<float>(noisy)));
  }
  return s;
}

}  // namespace runlog::bench

#endif  // RUNLOG_BENCH_SYNTHETIC_SERIES_H_
