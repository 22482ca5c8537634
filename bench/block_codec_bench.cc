// Speed and size of the compacted-block column codec
// (tracking/codec/block_codec.h) on the synthetic families of
// bench/synthetic_series.h (seed 1).
//
//   BM_Encode/F/B/H EncodeScalarBlock over a 2^20-point series of family F
//                   (0 counter, 1 lr_schedule, 2 noisy_loss) cut into
//                   B-point blocks; hints:1 passes one EncoderHints from
//                   block to block, as compaction does, hints:0 none (every
//                   candidate tried in every block)
//   BM_Decode/F/B   DecodeScalarBlock of those blocks into one ScalarColumns
//                   (cleared per iteration, capacity kept: the cost of
//                   decoding, not of first-touching fresh memory)
//   BM_DecodeHot/F  decode of one 4096-point block of family F (taken from
//                   the middle of the series) again and again into the same
//                   cleared ScalarColumns: the codec's own cost with the
//                   output in cache, no memory bandwidth
//   BM_FullRead10M  decode of a 10,000,000-point noisy loss in 4096-point
//                   blocks, all four columns, into one ScalarColumns reserved
//                   and touched once before timing (the compaction target:
//                   >= 200M points/s)
//
// Counters: items/s are points per second; bytes_per_point is the encoded
// size of all four columns divided by the points.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "bench/synthetic_series.h"
#include "benchmark/benchmark.h"
#include "tracking/codec/block_codec.h"
#include "tracking/series.h"

namespace runlog {
namespace {

constexpr size_t kSeriesPoints = size_t{1} << 20;
constexpr uint64_t kSeed = 1;

bench::SyntheticSeries MakeFamily(int family, size_t n) {
  switch (family) {
    case 0:
      return bench::MakeCounter(n, kSeed);
    case 1:
      return bench::MakeLrSchedule(n, kSeed);
    default:
      return bench::MakeNoisyLoss(n, kSeed);
  }
}

ScalarBlockInput Slice(const bench::SyntheticSeries& s, size_t first,
                       size_t n) {
  return ScalarBlockInput{
      absl::MakeConstSpan(s.steps).subspan(first, n),
      absl::MakeConstSpan(s.values).subspan(first, n),
      absl::MakeConstSpan(s.epochs).subspan(first, n),
      absl::MakeConstSpan(s.times_us).subspan(first, n),
  };
}

// The series cut into blocks of `block_points`, each encoded.
std::vector<std::string> EncodeAll(const bench::SyntheticSeries& s,
                                   size_t block_points) {
  std::vector<std::string> blocks;
  for (size_t i = 0; i < s.size(); i += block_points) {
    const size_t n = std::min(block_points, s.size() - i);
    std::string block;
    if (!EncodeScalarBlock(Slice(s, i, n), &block).ok()) std::abort();
    blocks.push_back(std::move(block));
  }
  return blocks;
}

size_t TotalBytes(const std::vector<std::string>& blocks) {
  size_t total = 0;
  for (const std::string& b : blocks) total += b.size();
  return total;
}

void BM_Encode(benchmark::State& state) {
  const bench::SyntheticSeries s =
      MakeFamily(static_cast<int>(state.range(0)), kSeriesPoints);
  const auto block_points = static_cast<size_t>(state.range(1));
  const bool use_hints = state.range(2) != 0;
  size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    EncoderHints hints;
    for (size_t i = 0; i < s.size(); i += block_points) {
      const size_t n = std::min(block_points, s.size() - i);
      std::string block;
      if (!EncodeScalarBlock(Slice(s, i, n), &block,
                             use_hints ? &hints : nullptr)
               .ok()) {
        state.SkipWithError("encode failed");
        return;
      }
      bytes += block.size();
      benchmark::DoNotOptimize(block.data());
    }
  }
  state.SetLabel(s.family);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.size()));
  state.counters["bytes_per_point"] =
      static_cast<double>(bytes) / static_cast<double>(s.size());
}

void BM_Decode(benchmark::State& state) {
  const bench::SyntheticSeries s =
      MakeFamily(static_cast<int>(state.range(0)), kSeriesPoints);
  const std::vector<std::string> blocks =
      EncodeAll(s, static_cast<size_t>(state.range(1)));
  ScalarColumns out;
  for (auto _ : state) {
    out.steps.clear();
    out.values.clear();
    out.epochs.clear();
    out.times_us.clear();
    for (const std::string& block : blocks) {
      if (!DecodeScalarBlock(block, "bench", &out).ok()) {
        state.SkipWithError("decode failed");
        return;
      }
    }
    benchmark::DoNotOptimize(out.values.data());
  }
  if (out.size() != s.size()) state.SkipWithError("wrong point count");
  state.SetLabel(s.family);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.size()));
  state.counters["bytes_per_point"] =
      static_cast<double>(TotalBytes(blocks)) / static_cast<double>(s.size());
}

// The families (0 counter, 1 lr_schedule, 2 noisy_loss) and block sizes.
const std::vector<int64_t> kFamilies = {0, 1, 2};
const std::vector<int64_t> kBlockSizes = {1024, 4096, 16384};
BENCHMARK(BM_Encode)
    ->ArgsProduct({kFamilies, kBlockSizes, {0, 1}})
    ->ArgNames({"family", "block", "hints"});
BENCHMARK(BM_Decode)
    ->ArgsProduct({kFamilies, kBlockSizes})
    ->ArgNames({"family", "block"});

void BM_DecodeHot(benchmark::State& state) {
  const bench::SyntheticSeries s =
      MakeFamily(static_cast<int>(state.range(0)), kSeriesPoints);
  constexpr size_t kBlock = 4096;
  std::string block;
  if (!EncodeScalarBlock(Slice(s, kSeriesPoints / 2, kBlock), &block).ok()) {
    std::abort();
  }
  ScalarColumns out;
  for (auto _ : state) {
    out.steps.clear();
    out.values.clear();
    out.epochs.clear();
    out.times_us.clear();
    if (!DecodeScalarBlock(block, "bench", &out).ok()) {
      state.SkipWithError("decode failed");
      return;
    }
    benchmark::DoNotOptimize(out.values.data());
  }
  state.SetLabel(s.family);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBlock));
  state.counters["bytes_per_point"] =
      static_cast<double>(block.size()) / static_cast<double>(kBlock);
}
BENCHMARK(BM_DecodeHot)->DenseRange(0, 2)->ArgName("family");

void BM_FullRead10M(benchmark::State& state) {
  constexpr size_t kPoints = 10'000'000;
  const bench::SyntheticSeries s = bench::MakeNoisyLoss(kPoints, kSeed);
  const std::vector<std::string> blocks = EncodeAll(s, 4096);
  ScalarColumns out;
  out.steps.reserve(kPoints);
  out.values.reserve(kPoints);
  out.epochs.reserve(kPoints);
  out.times_us.reserve(kPoints);
  // One untimed read first, so the timed ones do not pay the page faults of
  // first touching the 320 MB of output.
  for (const std::string& block : blocks) {
    if (!DecodeScalarBlock(block, "bench", &out).ok()) std::abort();
  }
  for (auto _ : state) {
    out.steps.clear();
    out.values.clear();
    out.epochs.clear();
    out.times_us.clear();
    for (const std::string& block : blocks) {
      if (!DecodeScalarBlock(block, "bench", &out).ok()) {
        state.SkipWithError("decode failed");
        return;
      }
    }
    benchmark::DoNotOptimize(out.values.data());
  }
  if (out.size() != kPoints) state.SkipWithError("wrong point count");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPoints));
  state.counters["bytes_per_point"] =
      static_cast<double>(TotalBytes(blocks)) / static_cast<double>(kPoints);
}
BENCHMARK(BM_FullRead10M)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace runlog

BENCHMARK_MAIN();
