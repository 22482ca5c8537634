#!/usr/bin/env bash
# Installs what is missing, builds runlog (optimized) and runs the demo on a
# fresh repository. Usage: scripts/demo.sh [REPO_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DRUNLOG_BUILD_TESTS=OFF -DRUNLOG_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)"
repo=${1:-$(mktemp -d /tmp/runlog-demo.XXXXXX)/repo}
"$build"/tools/runlog-demo "$repo"
# The same repository through segtool: list, compact, verify.
for args in "ls $repo" "compact $repo" "verify $repo" "ls $repo"; do
  echo
  echo "\$ segtool $args"
  # shellcheck disable=SC2086
  "$build"/tools/segtool $args
done

# The same repository in the web UI (docs/ui.md).
echo
echo "Open the runs in the web UI (Ctrl-C stops it):"
echo "  $build/tools/segtool serve $repo"
