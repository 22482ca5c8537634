// The shortest text of a double (tracking/double_text.h) against
// std::to_chars, which writes the same bytes: the cost of each value of a
// CSV export or a JSON response.
//
//   BM_WriteShortestDouble/kind:K   tracking/double_text.h's
//   WriteShortestDouble BM_ToChars/kind:K               std::to_chars(first,
//   last, d)
//
// kinds: 0 float32 losses near 0.05..3 printed with %.6g and read back (what
// an import of a CSV log holds), 1 raw float32 values widened to double (what
// a float32 training loop logs), 2 learning rates like 3e-4 * 0.97^k, 3
// random doubles (17 digits: the general path for both). 4,096 values per
// iteration; items/s are values written.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "tracking/double_text.h"

namespace runlog {
namespace {

std::vector<double> Values(int kind) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> v(4096);
  for (size_t i = 0; i < v.size(); ++i) {
    const double loss = 0.05 + 2.5 * std::exp(-static_cast<double>(i) / 800) *
                                   (1 + 0.05 * noise(rng));
    switch (kind) {
      case 0: {
        char text[32];
        std::snprintf(text, sizeof text, "%.6g", static_cast<float>(loss));
        v[i] = std::strtod(text, nullptr);
        break;
      }
      case 1:
        v[i] = static_cast<float>(loss);
        break;
      case 2:
        v[i] = 3e-4 * std::pow(0.97, static_cast<double>(i % 300));
        break;
      default:
        v[i] = loss;
        break;
    }
  }
  return v;
}

template <typename Write>
void Run(benchmark::State& state, Write write) {
  const std::vector<double> values = Values(static_cast<int>(state.range(0)));
  std::vector<char> out(values.size() * (kMaxShortestDoubleText + 1));
  size_t bytes = 0;
  for (auto _ : state) {
    char* p = out.data();
    for (double v : values) {
      p = write(v, p);
      *p++ = '\n';
    }
    bytes = static_cast<size_t>(p - out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(values.size()));
  state.counters["bytes_per_value"] =
      static_cast<double>(bytes) / static_cast<double>(values.size());
}

void BM_WriteShortestDouble(benchmark::State& state) {
  Run(state, [](double v, char* p) { return WriteShortestDouble(v, p); });
}

void BM_ToChars(benchmark::State& state) {
  Run(state, [](double v, char* p) {
    return std::to_chars(p, p + kMaxShortestDoubleText, v).ptr;
  });
}

BENCHMARK(BM_WriteShortestDouble)->ArgName("kind")->DenseRange(0, 3);
BENCHMARK(BM_ToChars)->ArgName("kind")->DenseRange(0, 3);

}  // namespace
}  // namespace runlog

BENCHMARK_MAIN();
