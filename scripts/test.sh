#!/usr/bin/env bash
# Installs what is missing, builds runlog with AddressSanitizer and
# UndefinedBehaviorSanitizer (LeakSanitizer comes with ASan), and runs every
# test with ctest. Usage: scripts/test.sh [extra ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=build/asan
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRUNLOG_SANITIZE=ON \
  -DRUNLOG_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 600 "$@"

# Many hosts on one repository, on a real GlusterFS volume in network, UTS,
# mount and pid namespaces the test makes itself (tests/cluster/README.md).
# It installs GlusterFS when missing; exit 77 is a skip it explains (not
# root, no /dev/fuse, packages not installable), never a silent pass.
cluster_rc=0
bash tests/cluster/run.sh "$build" || cluster_rc=$?
if [[ "$cluster_rc" -eq 77 ]]; then
  echo "test: the GlusterFS cluster test was skipped (reason above)" >&2
elif [[ "$cluster_rc" -ne 0 ]]; then
  exit "$cluster_rc"
fi

# The Python binding cannot load ASan code into a plain python3, so it is
# built and tested in a separate unsanitized build (python/, issue 7).
unset ASAN_OPTIONS UBSAN_OPTIONS
pybuild=build/python
cmake -S . -B "$pybuild" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DRUNLOG_BUILD_BENCH=OFF -DRUNLOG_BUILD_PYTHON=ON >/dev/null
cmake --build "$pybuild" -j"$(nproc)" --target _runlog
ctest --test-dir "$pybuild" --output-on-failure --timeout 600 -R '^python_tests$'
