#!/usr/bin/env bash
# runlog as a C++ package (docs/packaging.md). One Release build of runlog
# (tests and benchmarks off, the Python binding on, ccache when installed)
# is installed into a temporary prefix; then:
#   - every expected file is there and every installed file is under the
#     prefix; segtool and the Python module from the prefix report the
#     project's version; all installed headers compile together through
#     <runlog/...>;
#   - tests/packaging/consumer builds with find_package (CMAKE_PREFIX_PATH)
#     and with a plain g++ command line from `pkg-config --cflags --libs
#     runlog`, and both binaries write and read a run (they print OK);
#   - a DESTDIR install puts the same files under DESTDIR and nothing
#     outside it;
#   - the consumer builds with FetchContent of the source tree, where runlog
#     is a subproject and defines no tests, tools or binding.
# Usage: tests/packaging/cpp_package_test.sh   (from anywhere)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
consumer=$src/tests/packaging/consumer
# The build directories sit two levels under the source root like the other
# build trees (build/python), so ccache (CCACHE_BASEDIR, set by scripts/test.sh)
# reuses their objects.
build=$src/build/packaging
fetch_build=$src/build/packaging-fetch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "cpp_package_test: FAIL: $*" >&2; exit 1; }
jobs=${RUNLOG_JOBS:-2}
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

version=$(sed -n 's/^project(runlog VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[[ -n "$version" ]] || fail "no project(runlog VERSION ...) in CMakeLists.txt"

# Writes a run into a fresh directory with the consumer binary $1.
run_consumer() {
  local dir out
  dir=$(mktemp -d "$tmp/run.XXXX")
  out=$("$1" "$dir")
  [[ "$out" == "OK "* ]] || fail "$1 printed '$out'"
  echo "$2: $out"
}

echo "== runlog: configure, build, install into a temporary prefix"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DRUNLOG_BUILD_TESTS=OFF -DRUNLOG_BUILD_BENCH=OFF -DRUNLOG_BUILD_TOOLS=ON \
  -DRUNLOG_BUILD_PYTHON=ON "${launcher[@]}" >"$tmp/configure.log" ||
  { cat "$tmp/configure.log" >&2; fail "configure"; }
cmake --build "$build" -j"$jobs" >"$tmp/build.log" ||
  { tail -n 50 "$tmp/build.log" >&2; fail "build"; }
grep -q "_runlog" "$build/build.ninja" || fail "the build has no Python module (pybind11-dev?)"
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null

platlib=$(/usr/bin/python3 -c 'import os, sysconfig; print(os.path.relpath(sysconfig.get_path("platlib"), sysconfig.get_path("data")))')
for f in include/runlog/runlog.h include/runlog/tracking/repo.h \
         include/runlog/storage/file_system.h include/runlog/interop/import_session.h \
         lib/librunlog_storage.a lib/librunlog_tracking.a lib/librunlog_interop.a \
         lib/cmake/runlog/runlogConfig.cmake lib/cmake/runlog/runlogConfigVersion.cmake \
         lib/cmake/runlog/runlogTargets.cmake lib/pkgconfig/runlog.pc \
         lib/pkgconfig/runlog-interop.pc bin/segtool \
         "$platlib/runlog/__init__.py" "$platlib/runlog/_version.py"; do
  [[ -f "$prefix/$f" ]] || fail "cmake --install --prefix did not install $f"
done
ls "$prefix/$platlib"/runlog/_runlog.*.so >/dev/null || fail "no Python module under the prefix"
while read -r f; do
  [[ "$f" == "$prefix"/* ]] || fail "installed outside the prefix: $f"
done <"$build/install_manifest.txt"
[[ $(wc -l <"$build/install_manifest.txt") -gt 60 ]] || fail "install_manifest.txt is short"

[[ $("$prefix/bin/segtool" --version) == "segtool $version" ]] ||
  fail "installed segtool --version: $("$prefix/bin/segtool" --version)"
py_version=$(cd "$tmp" && PYTHONPATH="$prefix/$platlib" /usr/bin/python3 -c \
  'import runlog; print(runlog.__version__)')
[[ "$py_version" == "$version" ]] || fail "installed runlog.__version__ is $py_version"

# Every installed header through the spelling a user writes, in one
# translation unit: an include of something not installed fails here.
find "$prefix/include/runlog" -name '*.h' | sort |
  sed "s|^$prefix/include/|#include <|; s|\$|>|" >"$tmp/all_headers.cc"
echo "int main() { return 0; }" >>"$tmp/all_headers.cc"
g++ -std=c++17 -fsyntax-only -I"$prefix/include" -I"$prefix/include/runlog" \
  "$tmp/all_headers.cc" || fail "the installed headers do not compile together"
echo "installed: $(wc -l <"$build/install_manifest.txt") files," \
     "$(wc -l <"$tmp/all_headers.cc") headers compile"

echo "== consumer: find_package(runlog)"
cmake -S "$consumer" -B "$tmp/consumer-find" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/consumer-find.log" ||
  { cat "$tmp/consumer-find.log" >&2; fail "consumer configure (find_package)"; }
cmake --build "$tmp/consumer-find" >/dev/null
run_consumer "$tmp/consumer-find/consumer" find_package

echo "== consumer: pkg-config runlog, plain g++"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[[ $(pkg-config --modversion runlog) == "$version" ]] || fail "runlog.pc version"
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
g++ -std=c++17 -O1 "$consumer/main.cc" -o "$tmp/consumer-pc" \
  $(pkg-config --cflags --libs runlog)
run_consumer "$tmp/consumer-pc" pkg-config
pkg-config --exists runlog-interop || fail "runlog-interop.pc does not resolve"
unset PKG_CONFIG_PATH

echo "== DESTDIR install"
stage_prefix=/opt/runlog-packaging-test-$$
[[ ! -e "$stage_prefix" ]] || fail "$stage_prefix exists already"
DESTDIR=$tmp/stage cmake --install "$build" --prefix "$stage_prefix" >/dev/null
[[ ! -e "$stage_prefix" ]] || fail "the DESTDIR install wrote into $stage_prefix"
# The manifest names the files without DESTDIR: each must be under the
# prefix and exist under DESTDIR.
while read -r f; do
  [[ "$f" == "$stage_prefix"/* ]] || fail "DESTDIR install outside the prefix: $f"
  [[ -f "$tmp/stage$f" ]] || fail "DESTDIR install did not put $f under DESTDIR"
done <"$build/install_manifest.txt"
diff <(cd "$prefix" && find . -type f | sort) \
     <(cd "$tmp/stage$stage_prefix" && find . -type f | sort) ||
  fail "the DESTDIR install differs from the --prefix one"
# The .pc files find the prefix from where they are, so the staged tree
# resolves to itself.
PKG_CONFIG_PATH=$tmp/stage$stage_prefix/lib/pkgconfig pkg-config --cflags runlog |
  grep -q -- "-I$tmp/stage$stage_prefix/lib/pkgconfig/../../include " ||
  fail "the staged runlog.pc does not point into the staged tree"
echo "DESTDIR: every file under DESTDIR"

echo "== consumer: FetchContent of the source tree"
# A fresh configure each time (what a new user does); ccache keeps it short.
# Position-independent code, like the binding's build, so the objects are
# those ccache already holds.
rm -rf "$fetch_build"
cmake -S "$consumer" -B "$fetch_build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DRUNLOG_SOURCE_DIR="$src" -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  "${launcher[@]}" >"$tmp/consumer-fetch.log" ||
  { cat "$tmp/consumer-fetch.log" >&2; fail "consumer configure (FetchContent)"; }
grep -q "runlog_testing\|gtest" "$fetch_build/build.ninja" &&
  fail "runlog as a subproject defined test targets"
cmake --build "$fetch_build" -j"$jobs" --target consumer >"$tmp/fetch-build.log" ||
  { tail -n 50 "$tmp/fetch-build.log" >&2; fail "consumer build (FetchContent)"; }
run_consumer "$fetch_build/consumer" FetchContent

echo "cpp_package_test: OK"
