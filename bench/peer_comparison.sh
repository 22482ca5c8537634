#!/usr/bin/env bash
# Runs peer_comparison (bench/peer_bench.cc) on a journaled ext4 filesystem
# of its own, so its fsync-bound figures do not depend on how the machine's
# root filesystem happens to be set up (issue 19).
#
# Usage (as root): bench/peer_comparison.sh [peer_comparison flags...]
#   e.g. bench/peer_comparison.sh --w1_steps=100000 --w2_runs=1000 --w2_steps=1000
#
# What it does, and all it touches:
#   1. makes a new directory /var/tmp/runlog-peer.XXXXXX (mktemp) holding a
#      sparse image file (RUNLOG_PEER_IMAGE_SIZE, default 8G: W2 holds
#      every engine's data at once) and a mount point;
#   2. mkfs.ext4 with a journal, inode tables and journal initialised up
#      front; attaches it to a free loop device (direct I/O when the kernel
#      allows it) and mounts it there with ext4's defaults (data=ordered,
#      barriers on, no discard);
#   3. prints the machine: nproc, kernel, CPU, load, the filesystem, its
#      features and mount options;
#   4. runs the binary (RUNLOG_PEER_BIN, default
#      build/peer-release/bench/peer_comparison) with TMPDIR on that mount,
#      pinned with taskset to core RUNLOG_PEER_CPU (default 1) and bounded
#      by RUNLOG_PEER_TIMEOUT seconds (default 3600), passing every argument
#      on; the binary makes a fresh directory per engine and workload;
#   5. on exit, whatever happened (trap): unmounts, detaches the loop
#      device, removes the image, the mount point and the directory.
# It never builds: configure and build the binary first, e.g.
#   cmake -S . -B build/peer-release -G Ninja -DCMAKE_BUILD_TYPE=Release \
#     -DRUNLOG_BUILD_BENCH=ON -DRUNLOG_BUILD_TESTS=OFF
#   cmake --build build/peer-release --target peer_comparison
# (RocksDB and SQLite development packages: scripts/setup.sh --bench-peers).
# Exit status: peer_comparison's, or 1 if the filesystem could not be set up.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${RUNLOG_PEER_BIN:-build/peer-release/bench/peer_comparison}
size=${RUNLOG_PEER_IMAGE_SIZE:-8G}
cpu=${RUNLOG_PEER_CPU:-1}
limit=${RUNLOG_PEER_TIMEOUT:-3600}

if [[ "$(id -u)" != 0 ]]; then
  echo "peer_comparison.sh: must run as root (it mounts a loop device)" >&2
  exit 1
fi
if [[ ! -x "$bin" ]]; then
  echo "peer_comparison.sh: $bin not found; build the peer_comparison target" >&2
  exit 1
fi
bin=$(realpath "$bin")
for tool in mkfs.ext4 losetup mount umount dumpe2fs findmnt timeout; do
  command -v "$tool" >/dev/null || {
    echo "peer_comparison.sh: $tool is missing" >&2
    exit 1
  }
done

work=$(mktemp -d /var/tmp/runlog-peer.XXXXXX)
img="$work/ext4.img"
mnt="$work/mnt"
dev=""
mounted=0
child=""

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n "$child" ]] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true  # timeout passes it on
    wait "$child" 2>/dev/null || true
  fi
  if ((mounted)); then
    # A lazy unmount only if a plain one fails (something still open).
    timeout 60 umount "$mnt" || umount -l "$mnt" || true
  fi
  if [[ -n "$dev" ]]; then
    timeout 60 losetup -d "$dev" || true
  fi
  rm -f "$img"
  rmdir "$mnt" 2>/dev/null || true
  rmdir "$work" 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir "$mnt"
truncate -s "$size" "$img"
# Initialised in full now, not by ext4lazyinit in the background while the
# benchmark runs (which slows every flush of the first minutes).
timeout 300 mkfs.ext4 -q -F -O has_journal \
  -E lazy_itable_init=0,lazy_journal_init=0 -L runlog-peer "$img"
dev=$(losetup --find --show --direct-io=on "$img" 2>/dev/null ||
  losetup --find --show "$img")
timeout 60 mount -t ext4 "$dev" "$mnt"
mounted=1
mkdir "$mnt/tmp"

echo "== machine"
echo "nproc: $(nproc); kernel: $(uname -sr); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -m1 'model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*: /cpu: /'
echo "data filesystem: $(findmnt -no SOURCE,FSTYPE,OPTIONS "$mnt")"
echo "  image: $img ($size, sparse) on $(findmnt -no SOURCE,FSTYPE,OPTIONS -T "$work")"
echo "  loop device: $dev, direct I/O $(cat "/sys/block/$(basename "$dev")/loop/dio" 2>/dev/null || echo '?')"
dumpe2fs -h "$img" 2>/dev/null | grep -E '^(Filesystem features|Journal size|Block size):' |
  sed 's/^/  /'
echo "command: taskset -c $cpu $bin $*"
echo

run=("$bin" "$@")
if command -v taskset >/dev/null; then run=(taskset -c "$cpu" "${run[@]}"); fi
# In the background and waited for, so a signal to this script runs the
# cleanup at once (bash runs traps only between commands).
TMPDIR="$mnt/tmp" timeout --kill-after=30 "$limit" "${run[@]}" &
child=$!
set +e
wait "$child"
rc=$?
set -e
child=""
exit "$rc"
