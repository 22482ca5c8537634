#!/usr/bin/env bash
# The multi-host test of one runlog repository on a real GlusterFS volume
# (issue 12). Usage, as root, from anywhere:
#
#   bash tests/cluster/run.sh BUILD_DIR      # e.g. build/asan
#
# BUILD_DIR must hold tools/segtool, tests/cluster/cluster_worker and
# tests/reliability_many_process_test. Exit codes: 0 every check passed,
# 1 a check failed (each failure is printed as "FAIL: ..."), 2 usage or
# setup error, 77 skipped ("SKIPPED: <why>": no root, packages cannot be
# installed, glusterd or the mount cannot come up).
#
# What it does (README.md next to this file has the long form):
#   * one network namespace rl-gluster-<pid> with a veth pair inside it and
#     one 10.x address that exists only there; glusterd runs in it, in a
#     private mount namespace whose /run, /var/lib/glusterd and
#     /var/log/glusterfs are the test's own directories; a one-brick volume;
#   * six "hosts": processes in their own UTS + mount + pid namespaces in
#     that netns, each with its hostname, its /etc/machine-id and its own
#     FUSE mount of the volume;
#   * writers on h1..h3 (plus a quiet writer on h1 and on h2), readers on h4
#     (cluster_worker read, segtool verify and export in loops), compaction
#     on h5, rm / recover / recover under faketime +1 day on h6; a SIGKILLed
#     writer; a brick (glusterfsd) kill and restart during writes;
#   * at the end: every acknowledged commit checked from every host, segtool
#     verify from every host, identical exports from every host, and the
#     project's many-process stress test on one host's mount.
#
# Every wait has a deadline; nothing passes or fails on a sleep. Everything
# it made is removed on every exit path (trap): mounts, processes (by the
# PIDs it started, and the PIDs inside its own network namespace), glusterd,
# the network namespace with its veth pair, the temporary directory.
# RUNLOG_CLUSTER_LOGS=DIR copies the logs there before cleaning up.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$1" 2>/dev/null && pwd) || { echo "no build directory $1" >&2; exit 2; }
SEGTOOL=$BUILD/tools/segtool
WORKER=$BUILD/tests/cluster/cluster_worker
STRESS=$BUILD/tests/reliability_many_process_test
for b in "$SEGTOOL" "$WORKER" "$STRESS"; do
  [[ -x $b ]] || { echo "missing $b (build the targets segtool cluster_worker reliability_many_process_test)" >&2; exit 2; }
done

START=$SECONDS
# The scenario's own budget; the stress test and the final checks have theirs.
SCENARIO_BUDGET=${RUNLOG_CLUSTER_SCENARIO_SECONDS:-150}
STRESS_BUDGET=${RUNLOG_CLUSTER_STRESS_SECONDS:-150}
POINTS=${RUNLOG_CLUSTER_POINTS:-200}

log() { printf '[cluster %3ds] %s\n' $((SECONDS - START)) "$*"; }

# ---- packages ----------------------------------------------------------------
bash "$HERE/setup_gluster.sh"
rc=$?
[[ $rc -eq 0 ]] || exit $rc

# ---- state and cleanup ---------------------------------------------------------
T=$(mktemp -d /tmp/rl-cluster.XXXXXX)
NS=rl-gluster-$$
ADDR=10.213.$(($$ % 250)).1
VOL=rlvol
HOSTS=(h1 h2 h3 h4 h5 h6)
declare -A HOSTPID=()  # host name -> pid of its namespace's init
STARTED=()             # every background pid this script started
GLUSTERD=""
FAILS=0
mkdir -p "$T"/{ctl,log,oracle,mnt,mid,glusterd/lib,glusterd/log,brick,out}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  touch "$T/ctl/stop-writers" "$T/ctl/stop-loops" 2>/dev/null
  if [[ -n ${RUNLOG_CLUSTER_LOGS:-} ]]; then
    mkdir -p "$RUNLOG_CLUSTER_LOGS" &&
      cp -r "$T/log" "$T/oracle" "$T/out" "$T/glusterd/log" "$RUNLOG_CLUSTER_LOGS/" 2>/dev/null
  fi
  # Unmount inside each host, then end the hosts: killing a pid
  # namespace's init kills everything in it (workers, FUSE client).
  for h in "${!HOSTPID[@]}"; do
    timeout 10 nsenter -t "${HOSTPID[$h]}" --mount -- umount -l "$T/mnt/$h" 2>/dev/null
  done
  for p in "${STARTED[@]}"; do kill -9 "$p" 2>/dev/null; done
  for h in "${!HOSTPID[@]}"; do kill -9 "${HOSTPID[$h]}" 2>/dev/null; done
  if [[ -n $GLUSTERD ]] && kill -0 "$GLUSTERD" 2>/dev/null; then
    timeout 20 nsenter -t "$GLUSTERD" --mount --net --pid -- gluster --mode=script \
      volume stop "$VOL" force >/dev/null 2>&1
  fi
  # Whatever still runs in our own network namespace is ours (glusterd, its
  # bricks and helpers): end those processes by PID.
  if ip netns list 2>/dev/null | grep -qw "$NS"; then
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 50); do
      [[ -z $(ip netns pids "$NS" 2>/dev/null) ]] && break
      sleep 0.1
    done
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
  fi
  for p in "${STARTED[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() {
  echo "SKIPPED: $*"
  exit 77
}
pass() { echo "PASS: $*"; }
fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}
# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds;
# 1 (and a line naming what was awaited) if the deadline passes first.
wait_until() {
  local secs=$1 what=$2
  shift 2
  local end=$((SECONDS + secs))
  until "$@"; do
    if ((SECONDS >= end)); then
      log "timed out after ${secs}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}
# gone PID: the process has exited (a zombie counts as exited).
gone() { [[ ! -e /proc/$1 ]] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# wait_pid SECONDS PID: waits for a process this shell started to exit;
# 1 if it is still running at the deadline. Its exit status goes to EXITED.
EXITED=0
wait_pid() {
  local secs=$1 pid=$2
  wait_until "$secs" "pid $pid to exit" gone "$pid" || return 1
  wait "$pid" 2>/dev/null
  EXITED=$?
  return 0
}
# child_of PID: the (first) child of a process, once it has one.
child_of() {
  local c=""
  for _ in $(seq 100); do
    c=$(cat /proc/"$1"/task/"$1"/children 2>/dev/null | awk '{print $1}')
    [[ -n $c ]] && break
    sleep 0.05
  done
  echo "$c"
}
gl() { timeout 60 nsenter -t "$GLUSTERD" --mount --net --pid -- gluster --mode=script "$@"; }
# gkill SIGNAL PID: kill a process of glusterd's pid namespace (a brick).
gkill() { timeout 10 nsenter -t "$GLUSTERD" --mount --pid -- kill "$1" "$2"; }
# inhost HOST COMMAND...: runs COMMAND inside HOST's namespaces.
inhost() {
  local h=$1
  shift
  nsenter -t "${HOSTPID[$h]}" --net --uts --mount --pid -- "$@"
}
repo() { echo "$T/mnt/$1/repo"; }
count() { cat "$2" 2>/dev/null | grep -c "^$1 "; }

# ---- the network namespace and glusterd ----------------------------------------
log "network namespace $NS, address $ADDR (veth inside the namespace only)"
ip netns add "$NS" || skip "cannot create a network namespace (ip netns add)"
ip -n "$NS" link set lo up &&
  ip -n "$NS" link add rl0 type veth peer name rl1 &&
  ip -n "$NS" addr add "$ADDR/24" dev rl0 &&
  ip -n "$NS" link set rl0 up && ip -n "$NS" link set rl1 up ||
  skip "cannot set up a veth pair with $ADDR inside $NS"

# glusterd runs in its own mount and pid namespaces, under this script as
# the namespace's init: bash reaps the brick processes glusterd leaves to
# it, so a killed brick does not linger as a zombie that glusterd takes for
# a running brick ("discovered already-running brick") on restart.
cat >"$T/glusterd.sh" <<'EOF'
set -e
T=$1
# Private /run (glusterd's socket and pid files), state and logs.
mount -t tmpfs rl-gluster-run /run
mkdir -p /run/gluster
mount --bind "$T/glusterd/lib" /var/lib/glusterd
mount --bind "$T/glusterd/log" /var/log/glusterfs
set +e
glusterd -N -p /run/glusterd.pid &
wait
EOF
mkdir -p /var/lib/glusterd /var/log/glusterfs
ip netns exec "$NS" unshare --mount --pid --fork --mount-proc --propagation private \
  bash "$T/glusterd.sh" "$T" >"$T/log/glusterd.out" 2>&1 &
STARTED+=("$!")
# The init of glusterd's namespaces (pids from gluster are pids in there).
GLUSTERD=$(child_of "$!")
[[ -n $GLUSTERD ]] || skip "glusterd's namespace did not start"
STARTED+=("$GLUSTERD")
glusterd_up() { ! gone "$GLUSTERD" && gl pool list >/dev/null 2>&1; }
wait_until 30 "glusterd" glusterd_up ||
  { tail -5 "$T/log/glusterd.out"; skip "glusterd did not come up in $NS"; }
log "glusterd is up (pid $GLUSTERD)"
gl volume create "$VOL" "$ADDR:$T/brick/b" force >"$T/log/volume.out" 2>&1 &&
  gl volume set "$VOL" network.ping-timeout 5 >>"$T/log/volume.out" 2>&1 &&
  gl volume start "$VOL" >>"$T/log/volume.out" 2>&1 ||
  { cat "$T/log/volume.out"; skip "cannot create or start the GlusterFS volume"; }

# The pid of the brick process (glusterfsd) while it is online, from the XML
# status (the text one wraps long brick paths).
brick_pid() {
  gl volume status "$VOL" --xml 2>/dev/null | awk '
    /<node>/ {n = 1; s = ""; p = ""}
    n && /<status>/ {gsub(/[^0-9]/, ""); s = $0}
    n && /<pid>/ {gsub(/[^0-9]/, ""); p = $0}
    /<\/node>/ {if (s == "1" && p > 0) print p; exit}'
}
brick_online() { [[ -n $(brick_pid) ]]; }
wait_until 30 "the brick to be online" brick_online ||
  skip "the brick of $VOL did not come online"
log "volume $VOL started, brick pid $(brick_pid)"

# ---- the hosts -------------------------------------------------------------------
cat >"$T/host.sh" <<'EOF'
set -e
name=$1 mnt=$2 mid=$3 src=$4 up=$5 flog=$6
hostname "$name"
if [ -e /etc/machine-id ]; then mount --bind "$mid" /etc/machine-id; fi
mount -t glusterfs -o log-file="$flog" "$src" "$mnt"
[ "$(stat -f -c %T "$mnt")" = fuseblk ] || [ "$(stat -f -c %T "$mnt")" = fuse ] ||
  { echo "$mnt is not a FUSE mount"; exit 1; }
echo up >"$up"
exec sleep infinity
EOF
i=0
for h in "${HOSTS[@]}"; do
  i=$((i + 1))
  mkdir -p "$T/mnt/$h"
  printf '%032x\n' $((0x5a5a0000 + i)) >"$T/mid/$h"
  ip netns exec "$NS" unshare --uts --mount --pid --fork --mount-proc \
    --propagation private bash "$T/host.sh" "$h" "$T/mnt/$h" "$T/mid/$h" \
    "$ADDR:/$VOL" "$T/ctl/$h.up" "$T/log/$h.fuse.log" >"$T/log/$h.host.out" 2>&1 &
  launcher=$!
  STARTED+=("$launcher")
  wait_until 60 "host $h to mount the volume" test -e "$T/ctl/$h.up" ||
    { cat "$T/log/$h.host.out"; skip "host $h cannot mount $ADDR:/$VOL"; }
  HOSTPID[$h]=$(child_of "$launcher")
  [[ -n ${HOSTPID[$h]} ]] || skip "cannot find the init process of host $h"
done
for h in "${HOSTS[@]}"; do
  got=$(inhost "$h" sh -c 'echo "$(hostname) $(cat /etc/machine-id 2>/dev/null)"')
  log "host $h: pid ${HOSTPID[$h]}, hostname/machine-id: $got"
done
# The hosts share one file system.
echo "from h1" >"$T/ctl/probe" && inhost h1 cp "$T/ctl/probe" "$T/mnt/h1/probe" &&
  wait_until 10 "h6 to see h1's file" inhost h6 test -e "$T/mnt/h6/probe" ||
  skip "the hosts do not share the volume"
inhost h1 rm -f "$T/mnt/h1/probe"

inhost h1 timeout 60 "$WORKER" init "$(repo h1)" || { fail "cannot create the repository"; exit 1; }

# ---- the scenario --------------------------------------------------------------
SCENARIO_END=$((SECONDS + SCENARIO_BUDGET))
left() { local l=$((SCENARIO_END - SECONDS)); ((l < 5)) && l=5; echo $l; }

# start_bg NAME HOST COMMAND...: a background job inside HOST; its nsenter
# pid is BG[NAME], the pid of the command itself (to kill) BGCHILD[NAME].
declare -A BG=() BGCHILD=()
start_bg() {
  local name=$1 h=$2
  shift 2
  # nsenter itself, not the inhost function: $! must be nsenter's pid
  # (a function would run in a subshell), whose one child is the command.
  nsenter -t "${HOSTPID[$h]}" --net --uts --mount --pid -- "$@" >"$T/log/$name.out" 2>&1 &
  BG[$name]=$!
  STARTED+=("$!")
  BGCHILD[$name]=$(child_of "$!")
  [[ -n ${BGCHILD[$name]} ]] && STARTED+=("${BGCHILD[$name]}")
}
writer() {  # writer NAME HOST FIRST_RUN
  start_bg "$1" "$2" "$WORKER" write "$(repo "$2")" --host "$2" --first-run "$3" \
    --points "$POINTS" --series 3 --flush-every 25 --sync every-flush \
    --stop "$T/ctl/stop-writers" \
    --oracle "$T/oracle/$1.log"
}
quiet() {  # quiet NAME HOST
  mkfifo "$T/ctl/$1.fifo"
  start_bg "$1" "$2" "$WORKER" quiet "$(repo "$2")" --host "${2}q" \
    --points "$POINTS" --series 2 --flush-every 20 --ready "$T/ctl/$1.ready" \
    --resume "$T/ctl/$1.fifo" --resume-timeout 400 --oracle "$T/oracle/$1.log"
}
commits() { count committed "$T/oracle/$1.log"; }
# more_commits W1 N1 W2 N2 ...: every writer Wi has more than Ni commits.
more_commits() {
  while (($# > 1)); do
    (($(commits "$1") > $2)) || return 1
    shift 2
  done
}
outcomes() { cat "$@" 2>/dev/null | grep -c '^error\|^vanished'; }
more_outcomes() { (($(outcomes "$T"/oracle/w1.log "$T"/oracle/w2.log "$T"/oracle/w3b.log) > $1)); }
# run_ids_deleted FILE: run ids that recover output says it deleted.
deleted_ids() { grep -E '^delete abandoned run' "$1" | grep -oE 'runs/[0-9a-z]+' | sed 's|runs/||' | sort -u; }
whose() {  # the oracle line that started run $1, or "unknown origin"
  local l
  l=$(grep -h "^started $1 " "$T"/oracle/*.log 2>/dev/null | head -1)
  echo "${l:-unknown origin}"
}

log "starting writers on h1 h2 h3, quiet writers on h1 h2, readers on h4, compaction on h5"
writer w1 h1 0
writer w2 h2 0
writer w3 h3 0
quiet q1 h1
quiet q2 h2
quiet q3 h3
start_bg read h4 "$WORKER" read "$(repo h4)" --stop "$T/ctl/stop-loops" --log "$T/log/h4.read.log"
cat >"$T/segtool_loop.sh" <<'EOF'
# segtool_loop.sh SEGTOOL REPO STOP LOG COMMAND...: runs segtool COMMAND REPO
# ARGS in a loop until STOP exists, logging each exit code and stderr line.
segtool=$1 repo=$2 stop=$3 logf=$4 cmd=$5
shift 5
i=0
while [ ! -e "$stop" ]; do
  i=$((i + 1))
  timeout 120 "$segtool" "$cmd" "$repo" "$@" >"$logf.stdout" 2>"$logf.stderr"
  rc=$?
  echo "$cmd[$i] rc=$rc" >>"$logf"
  sed "s/^/$cmd[$i] stderr: /" "$logf.stderr" >>"$logf"
  if [ "$cmd" != export ]; then sed "s/^/$cmd[$i] stdout: /" "$logf.stdout" >>"$logf"; fi
done
EOF
start_bg verifyloop h4 bash "$T/segtool_loop.sh" "$SEGTOOL" "$(repo h4)" "$T/ctl/stop-loops" "$T/log/h4.verify.log" verify
start_bg exportloop h4 bash "$T/segtool_loop.sh" "$SEGTOOL" "$(repo h4)" "$T/ctl/stop-loops" "$T/log/h4.export.log" export --format jsonl --output /dev/null
start_bg compactloop h5 bash "$T/segtool_loop.sh" "$SEGTOOL" "$(repo h5)" "$T/ctl/stop-loops" "$T/log/h5.compact.log" compact

wait_until "$(left)" "two commits from each writer" more_commits w1 1 w2 1 w3 1 ||
  fail "the writers did not commit two runs each within the budget (w1 $(commits w1), w2 $(commits w2), w3 $(commits w3))"
wait_until "$(left)" "the quiet writers to go quiet" test -s "$T/ctl/q1.ready" -a -s "$T/ctl/q2.ready" -a -s "$T/ctl/q3.ready" ||
  fail "the quiet writers did not start"
Q1=$(head -1 "$T/ctl/q1.ready" 2>/dev/null)
Q2=$(head -1 "$T/ctl/q2.ready" 2>/dev/null)
Q3=$(head -1 "$T/ctl/q3.ready" 2>/dev/null)
log "quiet runs: $Q1 (h1), $Q2 (h2)"

# -- h6: rm without --force of another host's live (quiet) run.
if [[ -n $Q1 ]]; then
  inhost h6 timeout 60 "$SEGTOOL" rm "$(repo h6)" "$Q1" >"$T/out/rm.out" 2>&1
  rc=$?
  if [[ $rc -eq 0 ]]; then
    fail "segtool rm without --force on h6 DELETED run $Q1, the live run of the quiet writer on host h1 (exit 0): $(tr '\n' ' ' <"$T/out/rm.out")"
  elif [[ $rc -eq 1 ]] && grep -q -- '--force' "$T/out/rm.out"; then
    pass "segtool rm without --force on h6 refused h1's live run $Q1: $(tr '\n' ' ' <"$T/out/rm.out")"
  else
    fail "segtool rm without --force on h6 of h1's live run $Q1: expected exit 1 and a message naming --force, got exit $rc: $(tr '\n' ' ' <"$T/out/rm.out")"
  fi
fi

# -- h6: recovery with the true clock keeps every other host's live run.
inhost h6 timeout 60 "$SEGTOOL" recover "$(repo h6)" >"$T/out/recover-h6.out" 2>&1
rc=$?
bad=$(deleted_ids "$T/out/recover-h6.out")
if [[ $rc -ne 0 ]]; then
  fail "segtool recover on h6 exited $rc: $(tr '\n' ' ' <"$T/out/recover-h6.out")"
elif [[ -n $bad ]]; then
  for id in $bad; do fail "segtool recover on h6 deleted run $id, whose writer is alive on another host ($(whose "$id"))"; done
else
  pass "segtool recover on h6 kept every other host's live run"
fi

# -- SIGKILL the writer and the quiet writer on h3: recovery on h3 (same
# machine, same boot, pid gone) must remove the quiet writer's run (it was
# certainly uncommitted) and the writer's open run, unless the kill came
# after its commit; a new writer takes over on h3.
for w in w3 q3; do
  K=${BGCHILD[$w]}
  kill -9 "$K" 2>/dev/null
  wait_pid 30 "${BG[$w]}"
  echo "killed $K" >>"$T/oracle/$w.log"
done
inhost h3 sh -c 'for p in /proc/[0-9]*; do echo "$(cat $p/stat 2>/dev/null | cut -d" " -f1-5) $(tr "\0" " " <$p/cmdline 2>/dev/null | cut -c1-120)"; done' >"$T/out/h3-procs.out" 2>&1
last=$(grep -E '^(started|committed|error|vanished) ' "$T/oracle/w3.log" | tail -1)
W3RUN=""
[[ $last == started* ]] && W3RUN=$(awk '{print $2}' <<<"$last")
log "SIGKILLed writer w3 (open run: ${W3RUN:-none}) and quiet writer q3 (run $Q3) on h3"
inhost h3 timeout 60 "$SEGTOOL" recover "$(repo h3)" >"$T/out/recover-h3.out" 2>&1
rc=$?
del=$(deleted_ids "$T/out/recover-h3.out")
if [[ $rc -ne 0 ]]; then
  fail "segtool recover on h3 after the kill exited $rc: $(tr '\n' ' ' <"$T/out/recover-h3.out")"
else
  if [[ -z $Q3 ]]; then
    fail "the quiet writer on h3 never started a run"
  elif grep -qx "$Q3" <<<"$del"; then
    pass "segtool recover on h3 removed the SIGKILLed quiet writer's abandoned run $Q3"
  else
    fail "segtool recover on h3 did not remove run $Q3 of the SIGKILLed quiet writer (pid gone, same host): $(tr '\n' ' ' <"$T/out/recover-h3.out")"
  fi
  if [[ -n $W3RUN ]]; then
    if grep -qx "$W3RUN" <<<"$del"; then
      log "recover on h3 removed the SIGKILLed writer's open run $W3RUN"
    else
      state=$(inhost h3 timeout 30 "$SEGTOOL" ls "$(repo h3)" --state committed 2>/dev/null | grep -c "^$W3RUN ")
      if [[ $state -ge 1 ]]; then
        log "the SIGKILLed writer's run $W3RUN was committed just before the kill (not acknowledged): kept"
      else
        fail "segtool recover on h3 did not remove run $W3RUN of the SIGKILLed writer w3: $(tr '\n' ' ' <"$T/out/recover-h3.out")"
      fi
    fi
  fi
  # Killed between CreateRun and logging the new id, w3 leaves one run that
  # no oracle names: its last line then says it was creating one.
  w3last=$(grep -E '^(creating|started|committed|error|vanished) ' "$T/oracle/w3.log" | tail -1)
  unnamed_ok=0
  [[ $w3last == creating* ]] && unnamed_ok=1
  for id in $del; do
    [[ $id == "$W3RUN" || $id == "$Q3" ]] && continue
    grep -q "^started $id h3 " "$T/oracle/w3.log" && continue
    if [[ $unnamed_ok -eq 1 && $(whose "$id") == "unknown origin" ]]; then
      unnamed_ok=0
      log "recover on h3 removed run $id, created by w3 just before the SIGKILL and not yet logged ($w3last)"
      continue
    fi
    fail "segtool recover on h3 deleted run $id, not one of the dead writers' ($(whose "$id"))"
  done
fi
writer w3b h3 10000

# -- h6: recovery with the local clock a day ahead must judge staleness by
# the file system's clock, not its own: it keeps every live run.
FAKE_ASAN=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
# NO_FAKE_STAT: the files' times come from the servers, as on a host whose
# clock is off; only this host's own clock is a day ahead.
inhost h6 timeout 60 env ASAN_OPTIONS="$FAKE_ASAN" NO_FAKE_STAT=1 faketime -f '+1d' \
  "$SEGTOOL" recover "$(repo h6)" >"$T/out/recover-h6-faketime.out" 2>&1
rc=$?
fakeday=$(inhost h6 faketime -f '+1d' date -u +%F)
realday=$(date -u +%F)
[[ $fakeday != "$realday" ]] || fail "faketime does not move the clock on h6 ($fakeday)"
bad=$(deleted_ids "$T/out/recover-h6-faketime.out")
if [[ $rc -ne 0 ]]; then
  fail "segtool recover under faketime +1d on h6 exited $rc: $(tr '\n' ' ' <"$T/out/recover-h6-faketime.out")"
elif [[ -n $bad ]]; then
  for id in $bad; do
    what="a live writer's run"
    [[ $id == "$Q2" || $id == "$Q1" ]] && what="the quiet writer's live run"
    fail "segtool recover under faketime +1d on h6 (clock skewed one day ahead) deleted $what $id ($(whose "$id")): staleness judged by the local clock"
  done
else
  pass "segtool recover under faketime +1d on h6 kept every live run (quiet $Q2 included)"
fi


# -- Kill the brick process (the storage server) during writes, restart it.
c1=$(commits w1) c2=$(commits w2) c3=$(commits w3b)
wait_until "$(left)" "commits from every writer before the brick kill" more_commits w1 "$c1" w2 "$c2" w3b "$c3" ||
  fail "the writers made no progress before the brick kill"
B=$(brick_pid)
e0=$(outcomes "$T"/oracle/w1.log "$T"/oracle/w2.log "$T"/oracle/w3b.log)
if [[ -z $B ]]; then
  fail "cannot find the brick process of $VOL"
else
  log "killing the brick process glusterfsd (pid $B in glusterd's pid namespace)"
  gkill -9 "$B"
  wait_until 20 "a writer to see the outage" more_outcomes "$e0" ||
    log "no writer reported an error while the brick was down"
  gl volume start "$VOL" force >"$T/out/restart.out" 2>&1 ||
    fail "gluster volume start $VOL force failed: $(tr '\n' ' ' <"$T/out/restart.out")"
  if ! wait_until 60 "the brick to be back" brick_online; then
    fail "the brick did not come back after gluster volume start force"
    gl volume status "$VOL" 2>&1 | sed 's/^/  gluster: /'
    tail -n 15 "$T"/glusterd/log/bricks/*.log 2>/dev/null | sed 's/^/  brick log: /'
  fi
  log "brick restarted (pid $(brick_pid)); writers saw $(($(outcomes "$T"/oracle/w1.log "$T"/oracle/w2.log "$T"/oracle/w3b.log) - e0)) errors"
  c1=$(commits w1) c2=$(commits w2) c3=$(commits w3b)
  if wait_until "$(left)" "commits from every writer after the brick restart" more_commits w1 "$c1" w2 "$c2" w3b "$c3"; then
    pass "every writer commits again after the brick restart"
  else
    fail "not every writer committed again after the brick restart (w1 $(commits w1)>$c1? w2 $(commits w2)>$c2? w3b $(commits w3b)>$c3?)"
  fi
fi

# -- Resume the quiet writers: both runs must commit.
for q in q1 q2; do
  timeout 10 bash -c "echo go >'$T/ctl/$q.fifo'" || log "cannot resume $q (gone?)"
done
for q in q1 q2; do
  wait_pid 60 "${BG[$q]}" || fail "quiet writer $q did not finish"
  line=$(grep -E '^(committed|error|vanished) ' "$T/oracle/$q.log" | tail -1)
  if [[ $line == committed* ]]; then
    pass "quiet writer $q committed its run after being quiet: $line"
  else
    fail "quiet writer $q (host ${q/q/h}) could not commit its run ${line:-(no outcome)}"
  fi
done

# -- Stop everyone.
touch "$T/ctl/stop-writers"
for w in w1 w2 w3b; do
  wait_pid 60 "${BG[$w]}" || fail "writer $w did not stop"
done
touch "$T/ctl/stop-loops"
for l in read verifyloop exportloop compactloop; do
  wait_pid 120 "${BG[$l]}" || fail "loop $l did not stop within 120s"
done
log "writers: w1 $(commits w1), w2 $(commits w2), w3 $(commits w3) (killed), w3b $(commits w3b) commits; $(cat "$T"/oracle/*.log | grep -c '^error') errors"
[[ $(grep -c 'rc=0' "$T/log/h5.compact.log") -ge 1 ]] && grep -q 'compact\[.*stdout: [0-9a-z]\{17\} ' "$T/log/h5.compact.log" ||
  log "note: the compaction loop compacted nothing"

# ---- the end: what every host sees ------------------------------------------------
ORACLES=()
for f in "$T"/oracle/*.log; do ORACLES+=(--oracle "$f"); done
COMMITTED=$(grep -h '^committed ' "$T"/oracle/*.log | awk '{print $2}' | sort -u)

# Readers: whole runs or retryable errors, never a committed run missing.
if grep -q '^VIOLATION' "$T/log/h4.read.log"; then
  grep '^VIOLATION' "$T/log/h4.read.log" | sort | uniq -c | sort -rn | head -20 |
    while read -r n line; do fail "reader on h4 (${n}x): ${line#VIOLATION }"; done
else
  pass "reader on h4: $(tail -1 "$T/log/h4.read.log")"
fi
for l in verify export; do
  f=$T/log/h4.$l.log
  iters=$(grep -c "^$l\[[0-9]*\] rc=" "$f")
  nonzero=$(grep -c "^$l\[[0-9]*\] rc=[1-9]" "$f")
  bad=0
  declare -A seen=()
  while read -r line; do
    [[ -z $line ]] && continue
    for id in $(grep -oE '\b[0-9a-z]{17}\b' <<<"$line" | sort -u); do
      [[ -n ${seen[$id]:-} ]] && continue
      seen[$id]=1
      if grep -qx "$id" <<<"$COMMITTED"; then
        n=$(grep -cE "std(err|out): .*$id.*(not found|No such file|Stale file handle|data loss|NOT_FOUND|DATA_LOSS)" "$f")
        fail "segtool $l on h4 saw committed run $id ($(whose "$id")) as missing or damaged ($n times), e.g.: $(sed -E 's/^std(err|out): //' <<<"$line")"
        bad=$((bad + 1))
      fi
    done
  # verify reports problems on stdout, errors on stderr.
  done < <(grep -E 'std(err|out): .*(not found|No such file|Stale file handle|data loss|NOT_FOUND|DATA_LOSS)' "$f" | sed 's/^[a-z]*\[[0-9]*\] //' | sort -u | head -200)
  unset seen
  ((bad == 0)) && pass "segtool $l loop on h4: $iters rounds, $nonzero with retryable errors, no committed run missing or damaged"
done

# Every acknowledged commit checked, segtool verify clean, and the same
# export of every committed run, from every host. The hosts run each step
# at once (each command has its own timeout).
ids_present=$(inhost h1 ls "$(repo h1)/runs" 2>/dev/null | sort)
export_ids=$(comm -12 <(echo "$COMMITTED") <(echo "$ids_present"))
echo "$export_ids" >"$T/out/export-ids"
final_step() {  # final_step STEP: STEP on every host, in parallel
  local pids=() h
  for h in "${HOSTS[@]}"; do
    case $1 in
      check) inhost "$h" timeout 240 "$WORKER" check "$(repo "$h")" "${ORACLES[@]}" ;;
      verify) inhost "$h" timeout 240 "$SEGTOOL" verify "$(repo "$h")" ;;
      # shellcheck disable=SC2046
      export) inhost "$h" timeout 240 "$SEGTOOL" export "$(repo "$h")" $(cat "$T/out/export-ids") \
        --format jsonl --output "$T/out/export-$h.jsonl" ;;
    esac >"$T/out/$1-$h.out" 2>&1 &
    pids+=($!)
  done
  local i=0
  for h in "${HOSTS[@]}"; do
    wait "${pids[$i]}"
    echo $? >"$T/out/$1-$h.rc"
    i=$((i + 1))
  done
}
final_step check
for h in "${HOSTS[@]}"; do
  rc=$(cat "$T/out/check-$h.rc")
  if [[ $rc -eq 0 ]]; then
    pass "check on $h: $(tail -1 "$T/out/check-$h.out")"
  else
    fail "check on $h (exit $rc): $(tail -1 "$T/out/check-$h.out")"
    [[ $h == h1 ]] && grep '^FAIL: ' "$T/out/check-$h.out" | sed 's/^FAIL: /  check: /' | head -40
  fi
done
# backend_of ID: what the brick itself holds for runs/ID: its gfid and
# whether GlusterFS's handle for that gfid (a symlink for a directory)
# still leads to it.
backend_of() {
  local d="$T/brick/b/repo/runs/$1" gfid h
  [[ -e $d ]] || { echo "absent on the brick"; return; }
  gfid=$(getfattr -n trusted.gfid -e hex --only-values "$d" 2>/dev/null | sed 's/^0x//')
  [[ -n $gfid ]] || { echo "on the brick without a gfid"; return; }
  h="$T/brick/b/.glusterfs/${gfid:0:2}/${gfid:2:2}/${gfid:0:8}-${gfid:8:4}-${gfid:12:4}-${gfid:16:4}-${gfid:20:12}"
  if [[ -d $h ]]; then
    echo "gfid $gfid, handle resolves"
  elif [[ -L $h ]]; then
    echo "gfid $gfid, handle dangling -> $(readlink "$h")"
  else
    echo "gfid $gfid, no handle"
  fi
}
final_step verify
declare -A STALE_NOTED=()
for h in "${HOSTS[@]}"; do
  rc=$(cat "$T/out/verify-$h.rc")
  f=$T/out/verify-$h.out
  if [[ $rc -eq 0 ]]; then
    pass "segtool verify on $h: $(grep -c ' ok ' "$f") runs ok"
    continue
  fi
  # verify exits 1 for a problem found in a run (the table after RUN FILE)
  # or a run it could not read (a "segtool: run ID:" line). A run directory
  # that GlusterFS answers ESTALE for on every lookup is a file-system state
  # left by the brick kill, and runlog cannot read past it; it is a failure
  # of this test only if the run is an acknowledged commit (its data must
  # be readable). What the brick holds for it is logged.
  bad=0
  if grep -q '^RUN  *FILE  *OFFSET  *PROBLEM' "$f"; then
    fail "segtool verify on $h found problems: $(sed -n '/^RUN  *FILE  *OFFSET/,$p' "$f" | head -8 | tr '\n' ' ')"
    bad=1
  fi
  while read -r line; do
    id=$(sed -nE 's/^segtool: run ([0-9a-z]{17})[: ].*/\1/p' <<<"$line")
    if [[ -n $id && $line == *"Stale file handle"* ]] && ! grep -qx "$id" <<<"$COMMITTED"; then
      if [[ -z ${STALE_NOTED[$id]:-} ]]; then
        STALE_NOTED[$id]=1
        log "note: run $id ($(whose "$id"), never acknowledged) answers ESTALE after the brick kill; brick: $(backend_of "$id")"
      fi
    else
      fail "segtool verify on $h: $line"
      bad=1
    fi
  done < <(grep -E '^segtool: ' "$f")
  if ((bad == 0)) && grep -qE '^segtool: ' "$f"; then
    pass "segtool verify on $h: $(grep -c ' ok ' "$f") runs ok; unreadable only: ${!STALE_NOTED[*]} (not acknowledged, stale in GlusterFS)"
  elif ((bad == 0)); then
    fail "segtool verify on $h exited $rc without naming a problem: $(head -8 "$f" | tr '\n' ' ')"
  fi
done
final_step export
ref=""
export_fails=$FAILS
for h in "${HOSTS[@]}"; do
  rc=$(cat "$T/out/export-$h.rc")
  sum=$(sha256sum <"$T/out/export-$h.jsonl" 2>/dev/null | cut -c1-16)
  [[ $rc -eq 0 ]] || fail "segtool export on $h exited $rc: $(head -3 "$T/out/export-$h.out" | tr '\n' ' ')"
  if [[ -z $ref ]]; then
    ref=$sum
  elif [[ $sum != "$ref" ]]; then
    fail "segtool export on $h differs from h1's ($sum vs $ref)"
  fi
done
((FAILS == export_fails)) &&
  pass "exports of $(wc -w <<<"$export_ids") committed runs from ${#HOSTS[@]} hosts are identical (sha256 $ref)"

# ---- the project's many-process stress test on one host's mount -----------------
mkdir -p "$T/mnt/h1" && inhost h1 mkdir -p "$T/mnt/h1/stress"
log "many-process stress test on h1's mount (budget ${STRESS_BUDGET}s)"
inhost h1 timeout "$STRESS_BUDGET" env RUNLOG_STRESS_DIR="$T/mnt/h1/stress" "$STRESS" \
  --gtest_filter='Locations/ManyProcessTest.*/StressDirOrDevShm' >"$T/out/stress.out" 2>&1
rc=$?
if [[ $rc -eq 0 ]]; then
  pass "many-process stress test on GlusterFS: $(grep -E '^\[ +(OK|PASSED) ' "$T/out/stress.out" | tail -1)"
elif [[ $rc -eq 124 ]]; then
  fail "many-process stress test on GlusterFS did not finish within ${STRESS_BUDGET}s"
else
  fail "many-process stress test on GlusterFS exited $rc:"
  grep -E 'Failure|error|Expected|Which is|FAILED|ERROR' "$T/out/stress.out" | head -20 | sed 's/^/  stress: /'
fi

# ---- optional: commit latency on the volume next to local disk -------------------
# RUNLOG_CLUSTER_BENCH=path/to/tracking_bench (a Release build) times whole
# short runs (BM_ShortRun: create, 10 points, commit with its fsyncs) on h1's
# mount and on the local disk beside it. Figures only, no check; CI leaves it
# unset. docs/benchmarks.md has the results.
if [[ -n "${RUNLOG_CLUSTER_BENCH:-}" ]]; then
  inhost h1 mkdir -p "$T/mnt/h1/bench"
  mkdir -p "$T/localbench"
  for where in "$T/mnt/h1/bench" "$T/localbench"; do
    log "BM_ShortRun in $where"
    inhost h1 timeout 120 env TMPDIR="$where" "$RUNLOG_CLUSTER_BENCH" \
      --benchmark_filter='BM_ShortRun' --benchmark_repetitions=3 \
      --benchmark_report_aggregates_only=true 2>/dev/null | grep -E 'median|mean' | sed 's/^/  bench: /'
  done
fi

log "done in $((SECONDS - START))s: $FAILS failed check(s)"
if ((FAILS > 0)); then
  echo "CLUSTER TEST FAILED ($FAILS)"
  exit 1
fi
echo "CLUSTER TEST PASSED"
exit 0
