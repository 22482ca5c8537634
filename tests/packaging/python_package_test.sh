#!/usr/bin/env bash
# The README's Python install commands, run as written (each is first looked
# up in README.md, so the two cannot drift apart): a venv made from Debian's
# python3 with --system-site-packages, `pip install --no-build-isolation .`
# from the repository root, then runlog imported from the venv writes and
# reads a run and its __version__ is segtool's (CMakeLists.txt's project()
# version). Also the system-Python install (into a --root, not the real
# system) and `pip wheel`. No package index is reachable: pip must not need
# one. The source tree's `git status` must be the same afterwards.
# Usage: tests/packaging/python_package_test.sh   (from anywhere)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "python_package_test: FAIL: $*" >&2; exit 1; }

version=$(sed -n 's/^project(runlog VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[[ -n "$version" ]] || fail "no project(runlog VERSION ...) in CMakeLists.txt"

git_state() { git -C "$src" status --porcelain --untracked-files=all 2>/dev/null || true; }
before=$(git_state)

# A command of the README, run as written from the repository root. $HOME is
# the temporary directory (the README's venv is ~/venvs/runlog) and Debian's
# python3 comes first on PATH, as on a fresh Debian machine.
readme_run() {
  local cmd=$1
  shift
  grep -qxF -- "$cmd" "$src/README.md" || fail "README.md has no line: $cmd"
  echo "+ $cmd $*" >&2
  (cd "$src" && HOME="$tmp" PATH="/usr/bin:/bin:$PATH" \
     PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
     bash -c "$cmd \"\$@\"" readme "$@")
}

# The venv, and the package in it.
readme_run 'python3 -m venv --system-site-packages ~/venvs/runlog'
readme_run '~/venvs/runlog/bin/pip install --no-build-isolation .' -q
printed=$(readme_run '~/venvs/runlog/bin/python -c "import runlog; print(runlog.__version__)"')
[[ "$printed" == "$version" ]] || fail "runlog.__version__ is '$printed', CMakeLists.txt says $version"

# Installed, not the source tree's python/: import it from elsewhere, record a
# run, read it back.
(cd "$tmp" && "$tmp/venvs/runlog/bin/python" - "$tmp/repo" "$version") <<'EOF'
import os
import sys

import runlog

path, version = sys.argv[1], sys.argv[2]
site = os.path.dirname(os.path.dirname(runlog.__file__))
assert site.startswith(os.path.join(os.path.dirname(path), "venvs")), runlog.__file__
assert runlog.__version__ == version, runlog.__version__
repo = runlog.Repo(path)
with repo.create_run(experiment="pkg", params={"lr": 0.5}) as run:
    for step in range(10):
        run.track(step * 0.5, name="loss", step=step)
    run_id = run.id
series = repo.open_run(run_id).series("loss")
assert list(series.steps) == list(range(10)), series.steps
assert list(series.values) == [s * 0.5 for s in range(10)], series.values
records = list(repo.runs("params.lr = 0.5"))
assert [r.id for r in records] == [run_id], records
print("venv OK", runlog.__file__)
EOF

# Into the system Python: the README's command, with --root so the test
# leaves the real /usr/local alone; the files land where Debian's python3
# looks (its platlib), and that copy imports.
readme_run 'python3 -m pip install --no-build-isolation --break-system-packages .' \
  -q --root "$tmp/root"
platlib=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_path("platlib"))')
[[ -f "$tmp/root$platlib/runlog/__init__.py" ]] ||
  fail "the system install did not put runlog into $tmp/root$platlib"
(cd "$tmp" && PYTHONPATH="$tmp/root$platlib" /usr/bin/python3 -c \
  "import runlog, sys; assert runlog.__file__.startswith(sys.argv[1]), runlog.__file__; print('system OK', runlog.__version__)" \
  "$tmp/root")

# A wheel, holding the module and the version.
readme_run 'python3 -m pip wheel --no-build-isolation --no-deps .' -q -w "$tmp/wheels"
wheel=$(ls "$tmp"/wheels/runlog-"$version"-*.whl)
/usr/bin/python3 - "$wheel" <<'EOF'
import sys
import zipfile

names = zipfile.ZipFile(sys.argv[1]).namelist()
for want in ("runlog/__init__.py", "runlog/_version.py"):
    assert want in names, (want, names)
assert any(n.startswith("runlog/_runlog.") and n.endswith(".so") for n in names), names
print("wheel OK", sys.argv[1].rsplit("/", 1)[-1])
EOF

# The README's commands for a CMake build tree: the one scripts/test.sh
# makes (build/python), when it is there.
if [[ -f "$src/build/python/python/runlog/__init__.py" ]]; then
  printed=$(readme_run 'PYTHONPATH=build/python/python python3 -c "import runlog; print(runlog.__version__)"')
  [[ "$printed" == "$version" ]] ||
    fail "build/python/python's runlog.__version__ is '$printed', not $version"
  DESTDIR="$tmp/dest" readme_run 'cmake --install build/python --component python' >/dev/null
  [[ -f "$tmp/dest$platlib/runlog/_version.py" ]] ||
    fail "cmake --install --component python did not install into $platlib (under DESTDIR)"
  ls "$tmp/dest$platlib"/runlog/_runlog.*.so >/dev/null
else
  echo "python_package_test: not running the README's build-tree commands:" \
       "no build/python (bash scripts/test.sh builds it)" >&2
fi

after=$(git_state)
if [[ "$before" != "$after" ]]; then
  diff <(echo "$before") <(echo "$after") >&2 || true
  fail "pip changed the source tree's git status"
fi
echo "python_package_test: OK"
