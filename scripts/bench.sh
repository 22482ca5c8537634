#!/usr/bin/env bash
# Builds the benchmarks optimized (no sanitizers) and runs them pinned to one
# core. Usage: scripts/bench.sh [benchmark-binary-name ...] (default: all
# *_bench binaries). peer_comparison (bench/peer_bench.cc, the side-by-side
# table against RocksDB-as-Aim, SQLite-as-MLflow and TensorBoard files) runs
# only when named; it is a plain main, so it gets no Google Benchmark flags,
# and RUNLOG_PEER_FLAGS passes it its own (e.g. "--w1_steps=1000000").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --bench-peers
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
  if [[ "$name" == peer_comparison ]]; then
    # shellcheck disable=SC2086  # word splitting of the flags is intended
    taskset -c 1 "$build/bench/$name" ${RUNLOG_PEER_FLAGS:-}
    continue
  fi
  taskset -c 1 "$build/bench/$name" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true
done
