#!/usr/bin/env bash
# Builds the benchmarks optimized (no sanitizers) and runs them pinned to one
# core. Usage: scripts/bench.sh [benchmark-binary-name ...] (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=build/bench
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DRUNLOG_BUILD_TESTS=OFF -DRUNLOG_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
names=("$@")
if ((${#names[@]} == 0)); then
  for f in "$build"/bench/*_bench; do names+=("$(basename "$f")"); done
fi
for name in "${names[@]}"; do
  echo "== $name"
  taskset -c 1 "$build/bench/$name" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true
done
