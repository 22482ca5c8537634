#!/usr/bin/env bash
# Installs what is missing, builds runlog with AddressSanitizer and
# UndefinedBehaviorSanitizer (LeakSanitizer comes with ASan), and runs every
# test with ctest. Usage: scripts/test.sh [extra ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# ccache (installed by setup.sh) with paths taken relative to the checkout,
# so every build tree below and the packaging tests' share one cache.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=$PWD
fi
build=build/asan
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRUNLOG_SANITIZE=ON \
  -DRUNLOG_BUILD_BENCH=ON "${launcher[@]}" >/dev/null
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
  -DRUNLOG_BUILD_BENCH=OFF -DRUNLOG_BUILD_PYTHON=ON "${launcher[@]}" >/dev/null
cmake --build "$pybuild" -j"$(nproc)" --target _runlog
ctest --test-dir "$pybuild" --output-on-failure --timeout 600 -R '^python_tests$'

# runlog as a package (issue 16, docs/packaging.md): installed into a
# temporary prefix and built into a small outside project with find_package,
# pkg-config and FetchContent; then the README's pip commands in a fresh
# venv. Both reuse the objects ccache holds from build/python.
bash tests/packaging/cpp_package_test.sh
bash tests/packaging/python_package_test.sh
