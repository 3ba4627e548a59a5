#!/usr/bin/env bash
# Scenario 12 (AOF fsync stalls from a slow disk), Debian Redis 7.0.15 by
# default; SERVER names another server binary (e.g. a valkey-server) and
# OUT_NAME the output directory: valkey-9.1.2/ was made with
# SERVER=/path/valkey-server OUT_NAME=valkey-9.1.2 KEYS=3000000 ./make.sh.
#
# One standalone server on 127.0.0.1:18660 with `appendonly yes` and
# `appendfsync everysec`, holding KEYS (default 600000) keys of 1 KB
# (DEBUG POPULATE, `rdbcompression no`, so a fork writes about 600 MB), under
# a steady stream of INCRs from `redis-cli -r -1 -i 0.001` for the whole run.
# A Valkey 9.1.2 child wrote those 600 MB in about 2 s (BGSAVE 1.7 s, AOF
# rewrite 2.1 s), before any fsync had been pending for the 2 s the warning
# needs, so no stall fell inside a child: KEYS=3000000 (about 3 GB) made
# both children last 12 s.
#
# The slow disk is simulated, the host's disks are left alone: strace attaches
# to every thread of the server (`strace -f -p PID`) and delays each of its
# fsync()/fdatasync() system calls by 2.5 s (`-e inject=...:delay_enter=`).
# The background AOF fsync thread (a bio thread, in Redis and in Valkey;
# traced like every other thread) then stays busy for 2.5 s at a time, the
# main thread finds an fsync still running for 2 s and more, and logs
# "Asynchronous AOF fsync is taking too long (disk is busy?)" about every
# 3 s. strace is attached only in two phases and detached (SIGTERM to its
# PID) after each:
#   (a) while a persistence child runs: BGSAVE, then BGREWRITEAOF. strace
#       attaches just after each fork, so the child itself is not traced,
#       and is detached once INFO shows the child done. The rewrite's
#       completion (new manifest, directory fsync) is in the main thread and
#       is slowed as well.
#   (b) 12 s with no child running, started 620 s after phase (a) began, so
#       that the two bursts are more than 10 minutes apart.
# Then the writer is stopped and the server with SHUTDOWN NOSAVE.
#
# Output: debian-7.0.15/redis.log (verbatim) and debian-7.0.15/steps.txt
# (or $OUT_NAME/redis.log and $OUT_NAME/steps.txt).
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
PORT=18660
DELAY_US=2500000
KEYS=${KEYS:-600000} # keys of 1024 bytes written with DEBUG POPULATE
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/${OUT_NAME:-debian-7.0.15}"
TMP=$(mktemp -d /tmp/redsleuth-12-aof-fsync-stall.XXXXXX)
PID=
WRITER=
STRACE=

stop_pid() {
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        kill "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}

cleanup() {
    # strace first, so that the server is never left stopped in a syscall.
    stop_pid "$STRACE"
    stop_pid "$WRITER"
    stop_pid "$PID"
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

cat >"$TMP/redis.conf" <<CONF
bind 127.0.0.1
port $PORT
daemonize no
dir $TMP
dbfilename dump.rdb
save ""
appendonly yes
appendfsync everysec
auto-aof-rewrite-percentage 0
rdbcompression no
loglevel notice
logfile $TMP/redis.log
enable-debug-command local
CONF

slow_disk_on() {
    strace -f -qq -o "$TMP/strace.out" \
        -e trace=fdatasync,fsync \
        -e inject=fdatasync:delay_enter=$DELAY_US \
        -e inject=fsync:delay_enter=$DELAY_US \
        -p "$PID" &
    STRACE=$!
    step "strace pid $STRACE attached to server pid $PID: fsync/fdatasync delayed by $((DELAY_US / 1000)) ms ($1)"
}

slow_disk_off() {
    stop_pid "$STRACE"
    step "strace pid $STRACE detached, aof_delayed_fsync $(info persistence aof_delayed_fsync)"
    STRACE=
}

"$SERVER" "$TMP/redis.conf" >"$TMP/server.out" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
    cli ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
cli ping | grep -q PONG
step "server started pid $PID (appendonly yes, appendfsync everysec)"

cli debug populate "$KEYS" key 1024 >/dev/null
step "DEBUG POPULATE $KEYS key 1024: dbsize $(cli dbsize), used_memory $(info memory used_memory_human)"

cli -r -1 -i 0.001 incr writes >/dev/null 2>&1 &
WRITER=$!
step "writer pid $WRITER started (INCR writes every 1 ms)"
sleep 3

# Phase (a): stalls while a persistence child runs.
PHASE_A=$(date +%s)
cli bgsave >/dev/null
step "BGSAVE"
slow_disk_on "during BGSAVE"
while [ "$(info persistence rdb_bgsave_in_progress)" = 1 ]; do sleep 0.05; done
step "BGSAVE done: rdb_last_bgsave_status $(info persistence rdb_last_bgsave_status)"
slow_disk_off
sleep 2
cli bgrewriteaof >/dev/null
step "BGREWRITEAOF"
slow_disk_on "during BGREWRITEAOF"
while [ "$(info persistence aof_rewrite_in_progress)" = 1 ]; do sleep 0.05; done
step "AOF rewrite done: aof_last_bgrewrite_status $(info persistence aof_last_bgrewrite_status)"
slow_disk_off

# Quiet: normal disk, writes go on, no child.
while [ $(($(date +%s) - PHASE_A)) -lt 620 ]; do sleep 1; done

# Phase (b): stalls with no child running.
step "no child running: rdb_bgsave_in_progress $(info persistence rdb_bgsave_in_progress), aof_rewrite_in_progress $(info persistence aof_rewrite_in_progress)"
slow_disk_on "no child"
sleep 12
slow_disk_off
sleep 2

stop_pid "$WRITER"
step "writer pid $WRITER stopped: writes = $(cli get writes)"
WRITER=
cli shutdown nosave >/dev/null 2>&1 || true
wait "$PID" || true
step "server pid $PID stopped with SHUTDOWN NOSAVE"
PID=

mkdir -p "$OUT"
cp "$TMP/redis.log" "$OUT/redis.log"
cp "$TMP/steps.txt" "$OUT/steps.txt"
