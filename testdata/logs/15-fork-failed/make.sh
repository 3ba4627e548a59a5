#!/usr/bin/env bash
# Scenario 15 (BGSAVE fork refused by a pids cgroup limit), Debian Redis
# 7.0.15 by default; SERVER names another server binary and OUT_NAME the
# output directory.
#
# One standalone server on 127.0.0.1:18720 in a cgroup v1 pids cgroup of its
# own (/sys/fs/cgroup/pids/redsleuth-15). The server is started by a shell
# that first writes its own pid to the cgroup's cgroup.procs and then execs
# the server, so the server (same pid), its threads and every fork child
# are counted by the cgroup. `save ""`, `appendonly no`, so the only forks
# are the BGSAVEs below.
#
#   1. DEBUG POPULATE writes KEYS keys;
#   2. pids.max is set to the number of tasks already in the cgroup
#      (pids.current: the server's main thread and its background threads),
#      so fork() fails with EAGAIN; CONFIG SET save "3600 1" (a save point,
#      no save due) makes stop-writes-on-bgsave-error (default yes) refuse
#      writes after a failed BGSAVE;
#   3. BGSAVE is run FAILS times, WAIT seconds apart: each is refused and
#      logs "Can't save in background: fork: Resource temporarily
#      unavailable"; the BGSAVE reply and a probe SET after each are
#      recorded in steps.txt;
#   4. pids.max is set back to `max`, a BGSAVE succeeds, a probe SET is
#      accepted again;
#   5. SHUTDOWN NOSAVE.
#
# Output: debian-7.0.15/{redis.log,steps.txt} (the log verbatim; $OUT_NAME/
# instead if set).
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
PORT=18720
KEYS=${KEYS:-100000}
FAILS=${FAILS:-3}
WAIT=${WAIT:-3}
CG=/sys/fs/cgroup/pids/redsleuth-15
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/${OUT_NAME:-debian-7.0.15}"
TMP=$(mktemp -d /tmp/redsleuth-15-fork-failed.XXXXXX)
PID=

stop_pid() {
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        kill "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}

cleanup() {
    if [ -d "$CG" ]; then
        echo max >"$CG/pids.max" 2>/dev/null || true
    fi
    stop_pid "$PID"
    if [ -d "$CG" ]; then
        for _ in $(seq 1 50); do
            rmdir "$CG" 2>/dev/null && break
            sleep 0.1
        done
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

cli() { "$CLI" -h 127.0.0.1 -p "$PORT" "$@"; }
step() { echo "$(date +%H:%M:%S) $*" >>"$TMP/steps.txt"; }
info() { cli info "$1" | tr -d '\r' | sed -n "s/^$2://p"; }

if cli ping >/dev/null 2>&1; then
    echo "port $PORT is already in use" >&2
    exit 1
fi
if [ -e "$CG" ]; then
    echo "$CG already exists" >&2
    exit 1
fi

wait_bgsave() {
    while [ "$(info persistence rdb_bgsave_in_progress)" = 1 ]; do sleep 0.05; done
}

last_child() { sed -n 's/.*Background saving started by pid \([0-9]*\)$/\1/p' "$TMP/redis.log" | tail -1; }

cat >"$TMP/redis.conf" <<CONF
bind 127.0.0.1
port $PORT
daemonize no
dir $TMP
dbfilename dump.rdb
save ""
appendonly no
loglevel notice
logfile $TMP/redis.log
enable-debug-command local
CONF

mkdir "$CG"
step "pids cgroup $CG: pids.max $(cat "$CG/pids.max")"

CGROUP_PROCS="$CG/cgroup.procs" bash -c 'echo $$ >"$CGROUP_PROCS" && exec "$0" "$1"' \
    "$SERVER" "$TMP/redis.conf" >"$TMP/server.out" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
    cli ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
cli ping | grep -q PONG
grep -qx "$PID" "$CG/cgroup.procs"
step "server started pid $PID in $CG (save \"\", appendonly no), tasks: $(tr '\n' ' ' <"$CG/tasks")"

# 1. Some keys.
cli debug populate "$KEYS" key 100 >/dev/null
step "DEBUG POPULATE $KEYS key 100: dbsize $(cli dbsize)"

# 2. No new task can be created in the cgroup.
CUR=$(cat "$CG/pids.current")
NTASKS=$(grep -c . "$CG/tasks")
if [ "$CUR" != "$NTASKS" ]; then
    echo "pids.current $CUR but $NTASKS tasks" >&2
    exit 1
fi
echo "$CUR" >"$CG/pids.max"
step "pids.max set to $(cat "$CG/pids.max") (pids.current $(cat "$CG/pids.current"))"
cli config set save "3600 1" >/dev/null
step "CONFIG SET save \"3600 1\""
step "probe SET before any BGSAVE: $(cli set probe 0 2>&1)"

# 3. BGSAVEs that cannot fork.
for n in $(seq 1 "$FAILS"); do
    step "BGSAVE $n: $(cli bgsave 2>&1)"
    step "rdb_last_bgsave_status $(info persistence rdb_last_bgsave_status), rdb_bgsave_in_progress $(info persistence rdb_bgsave_in_progress)"
    step "probe SET: $(cli set probe "$n" 2>&1)"
    sleep "$WAIT"
done
FAILED=$(grep -c "Can't save in background: fork: Resource temporarily unavailable" "$TMP/redis.log" || true)
step "pids.events: $(tr '\n' ' ' <"$CG/pids.events"); $FAILED fork failure line(s) in the log"
if [ "$FAILED" -ne "$FAILS" ]; then
    echo "fork did not fail $FAILS times ($FAILED)" >&2
    exit 1
fi

# 4. The limit raised: a BGSAVE succeeds, writes are accepted again.
echo max >"$CG/pids.max"
step "pids.max set back to $(cat "$CG/pids.max")"
step "probe SET: $(cli set probe x 2>&1)"
step "BGSAVE: $(cli bgsave 2>&1) (child pid $(last_child))"
wait_bgsave
step "BGSAVE done: rdb_last_bgsave_status $(info persistence rdb_last_bgsave_status)"
step "probe SET: $(cli set probe y 2>&1)"

# 5. Stop.
cli shutdown nosave >/dev/null 2>&1 || true
wait "$PID" || true
step "server pid $PID stopped with SHUTDOWN NOSAVE"
PID=
rmdir "$CG"
step "pids cgroup $CG removed"

mkdir -p "$OUT"
cp "$TMP/redis.log" "$OUT/redis.log"
cp "$TMP/steps.txt" "$OUT/steps.txt"
