#!/usr/bin/env bash
# Installs what the multi-host GlusterFS test (tests/cluster/run.sh) needs,
# with apt-get, when it is missing: glusterfs-server (glusterd, gluster),
# glusterfs-client (mount.glusterfs), faketime (libfaketime), iproute2
# (ip netns) and attr (getfattr, to read a brick's gfids); util-linux
# (unshare, nsenter) is essential on Debian.
#
# Exit codes: 0 everything is there; 77 it is not and cannot be installed
# (a "SKIPPED: <why>" line is printed). Usable alone or from run.sh.
set -uo pipefail

skip() {
  echo "SKIPPED: $*"
  exit 77
}

[[ $(id -u) -eq 0 ]] || skip "the GlusterFS cluster test needs root (glusterd, mounts, namespaces)"

missing_packages() {
  local pkgs=()
  command -v glusterd >/dev/null && command -v gluster >/dev/null ||
    pkgs+=(glusterfs-server)
  command -v mount.glusterfs >/dev/null || [[ -x /sbin/mount.glusterfs ]] ||
    pkgs+=(glusterfs-client)
  command -v faketime >/dev/null || pkgs+=(faketime)
  command -v ip >/dev/null || pkgs+=(iproute2)
  command -v getfattr >/dev/null || pkgs+=(attr)
  command -v unshare >/dev/null && command -v nsenter >/dev/null ||
    pkgs+=(util-linux)
  echo "${pkgs[@]}"
}

pkgs=$(missing_packages)
if [[ -n $pkgs ]]; then
  command -v apt-get >/dev/null || skip "missing $pkgs and no apt-get to install them"
  echo "setup_gluster: installing $pkgs"
  log=$(mktemp /tmp/rl-gluster-apt.XXXXXX)
  if ! { timeout 300 apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
      --no-install-recommends $pkgs; } >"$log" 2>&1; then
    tail -n 5 "$log"
    rm -f "$log"
    skip "could not install $pkgs with apt-get"
  fi
  rm -f "$log"
  pkgs=$(missing_packages)
  [[ -z $pkgs ]] || skip "still missing after apt-get install: $pkgs"
fi
[[ -c /dev/fuse ]] || skip "/dev/fuse is missing (FUSE mounts of the volume are impossible)"
exit 0
