#!/usr/bin/env bash
# Installs the Debian 12 packages runlog needs to build, test and benchmark.
# Skips what is already installed; runs apt-get only when something is missing.
# Usage: scripts/setup.sh [--bench-peers] [--fuzz]
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libabsl-dev libxxhash-dev libzstd-dev nlohmann-json3-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  libprotobuf-dev protobuf-compiler libsqlite3-dev
  clang-format
  pybind11-dev python3-dev python3-numpy python3-pytest python3-pandas
  libcpp-httplib-dev chromium
  # The real training-loop test of the framework integrations
  # (python/tests/test_torch_loop.py; skipped without it): about 80 MB.
  python3-torch
)
# `pip install --no-build-isolation .` and the packaging tests (issue 16):
# Debian's setuptools, wheel, pip and venv, no package index.
packages+=(python3-setuptools python3-wheel python3-pip python3-venv)
# ccache: scripts/test.sh's Release builds (the binding, the packaging
# tests) share their objects instead of compiling runlog three times.
packages+=(ccache)
# The web UI (web/) is built with Node.js and npm (Vite needs Node >= 20.19).
# A node that came from elsewhere (e.g. NodeSource's nodejs, which carries
# its own npm) is used as it is: Debian's npm package would conflict with it.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

# The peers bench/peer_bench.cc compares runlog with (issue 5): installed for
# benchmark builds only (scripts/bench.sh passes --bench-peers); the library,
# the tests and CI never need them.
bench_peers=${RUNLOG_BENCH_PEERS:-0}
fuzz=0
for arg in "$@"; do
  case "$arg" in
    --bench-peers) bench_peers=1 ;;
    --fuzz) fuzz=1 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [[ "$bench_peers" == 1 ]]; then
  packages+=(librocksdb-dev)
fi
# The libFuzzer builds (scripts/fuzz.sh passes --fuzz): clang and its runtime
# libraries (libclang_rt.fuzzer, asan, ubsan come with libclang-rt-14-dev).
# Ordinary builds, tests and CI (which replays the corpora with g++) never
# need them.
if [[ "$fuzz" == 1 ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages and not root; run as root or install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all packages present" >&2
fi

# The web UI's npm packages (Vite, uPlot, Vitest, playwright-core), exactly
# as web/package-lock.json pins them; again only when they changed.
web=$(dirname "$0")/../web
if command -v npm >/dev/null 2>&1 && [[ -f "$web/package-lock.json" ]]; then
  if [[ ! -f "$web/node_modules/.package-lock.json" ||
        "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]]; then
    echo "setup: npm ci in web/" >&2
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi
