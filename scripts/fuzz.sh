#!/usr/bin/env bash
# Fuzzes runlog's decoders with libFuzzer (issue 6). Installs clang if missing
# (scripts/setup.sh --fuzz), builds the targets of tests/fuzz/ with
# -fsanitize=fuzzer,address,undefined, runs each for the given time starting
# from its seeds (tests/fuzz/corpus/<target>/) and past crashers
# (tests/fuzz/regressions/<target>/), and copies any new crash, leak, timeout
# or out-of-memory input into tests/fuzz/regressions/<target>/, which the
# ordinary build's ctest replays from then on (fuzz_replay_<target>).
#
# Usage: scripts/fuzz.sh [all|segment|commit|compacted|value|catalog|query|proc] [seconds]
#        scripts/fuzz.sh merge <target>
#   seconds defaults to 600 per target.
#   merge: minimizes the corpus grown by earlier runs into the seed directory
#   (libFuzzer -merge=1: only inputs that add coverage are copied); review
#   the added files and keep the seed corpus small before committing.
# Environment: RUNLOG_FUZZ_BUILD_DIR (default build/fuzz),
#   RUNLOG_FUZZ_JOBS (parallel compile jobs, default nproc).
# The grown corpus stays in $RUNLOG_FUZZ_BUILD_DIR/grown/<target>/ (never
# committed). Exit status 1 if any target found a crasher.
set -euo pipefail
cd "$(dirname "$0")/.."

targets_all=(segment commit compacted value catalog query proc)
build=${RUNLOG_FUZZ_BUILD_DIR:-build/fuzz}
jobs=${RUNLOG_FUZZ_JOBS:-$(nproc)}

# Inputs larger than the seeds need not be tried: the seeds are a few kB, and
# the formats' interesting structure fits in these sizes.
max_len() {
  case "$1" in
    segment | compacted) echo 32768 ;;
    *) echo 8192 ;;
  esac
}

mode=${1:-all}
if [[ "$mode" == merge ]]; then
  targets=("${2:?usage: scripts/fuzz.sh merge <target>}")
elif [[ "$mode" == all ]]; then
  targets=("${targets_all[@]}")
else
  targets=("$mode")
fi
seconds=${2:-600}
for t in "${targets[@]}"; do
  if [[ ! " ${targets_all[*]} " == *" $t "* ]]; then
    echo "fuzz: unknown target $t (one of: ${targets_all[*]})" >&2
    exit 2
  fi
done

if ! command -v clang++ >/dev/null ||
  ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  scripts/setup.sh --fuzz
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRUNLOG_FUZZ=ON \
  -DRUNLOG_BUILD_BENCH=OFF -DRUNLOG_BUILD_PYTHON=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]/%/_fuzzer}"

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

found=0
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/${t}_fuzzer"
  seeds="tests/fuzz/corpus/$t"
  regressions="tests/fuzz/regressions/$t"
  grown="$build/grown/$t"
  artifacts="$build/artifacts/$t"
  mkdir -p "$grown" "$artifacts"
  if [[ "$mode" == merge ]]; then
    # -use_counters=0: keep an input for new edges only, not for new hit
    # counts, which would add several times more files for the same edges.
    "$bin" -merge=1 -use_counters=0 -max_len=4096 "$seeds" "$grown"
    echo "fuzz: $seeds now holds $(du -sb "$seeds" | cut -f1) bytes" >&2
    continue
  fi
  dirs=("$grown" "$seeds")
  [[ -d "$regressions" ]] && dirs+=("$regressions")
  echo "fuzz: $t for ${seconds}s" >&2
  # -timeout: an input taking over 10 s is a hang; -rss_limit_mb: a decoder
  # trusting a declared length shows up as out-of-memory.
  status=0
  "$bin" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "${dirs[@]}" 2>"$build/$t.log" || status=$?
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE' \
    "$build/$t.log" >&2 || true
  shopt -s nullglob
  crashers=("$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* \
    "$artifacts"/oom-*)
  shopt -u nullglob
  if ((status != 0 || ${#crashers[@]})); then
    found=1
    mkdir -p "$regressions"
    for c in "${crashers[@]}"; do
      cp "$c" "$regressions/"
      rm "$c"
      echo "fuzz: $t: crasher saved as $regressions/$(basename "$c")" >&2
    done
    echo "fuzz: $t failed (exit $status); log: $build/$t.log" >&2
  fi
done
exit "$found"
