#!/usr/bin/env bash
# Scenario 11 (memory growth, then a cold start), Debian Redis 7.0.15 by
# default; SERVER names another server binary (e.g. a valkey-server) and
# OUT_NAME the output directory: SERVER=/path/valkey-server
# OUT_NAME=valkey-9.1.2 ./make.sh.
#
# One standalone server on 127.0.0.1:18640, one config, one log file appended
# to across restarts. Each lifetime writes a larger batch of keys
# (DEBUG POPULATE, 128-byte values) and stops with SHUTDOWN SAVE, so every
# following start loads the RDB and logs "RDB memory usage when created"
# with a figure about twice the previous one (5.49, 10.01, 19.06, 37.15 MB
# with Redis 7.0.15).
# Then dump.rdb is deleted and the server starts once more with nothing to
# load (cold start after a lifetime that loaded 160000 keys), and is stopped
# with SHUTDOWN NOSAVE.
#
# Output: debian-7.0.15/redis.log (verbatim) and debian-7.0.15/steps.txt
# (or $OUT_NAME/redis.log and $OUT_NAME/steps.txt).
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
PORT=18640
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/${OUT_NAME:-debian-7.0.15}"
TMP=$(mktemp -d /tmp/redsleuth-11-memory-growth.XXXXXX)
PID=

cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

cli() { "$CLI" -h 127.0.0.1 -p "$PORT" "$@"; }
step() { echo "$(date +%H:%M:%S) $*" >>"$TMP/steps.txt"; }

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
appendonly no
save ""
loglevel notice
logfile $TMP/redis.log
enable-debug-command local
CONF

start() {
    "$SERVER" "$TMP/redis.conf" >>"$TMP/server.out" 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do
        if cli ping 2>/dev/null | grep -q PONG; then
            step "server started pid $PID, dbsize $(cli dbsize), used_memory $(used)"
            return
        fi
        sleep 0.1
    done
    echo "server pid $PID did not answer" >&2
    exit 1
}

used() { cli info memory | tr -d '\r' | sed -n 's/^used_memory_human://p'; }

stop() {
    local how=$1
    cli shutdown "$how" >/dev/null 2>&1 || true
    wait "$PID" || true
    step "server pid $PID stopped with SHUTDOWN $(echo "$how" | tr a-z A-Z)"
    PID=
}

populate() {
    cli debug populate "$1" key 128 >/dev/null
    step "DEBUG POPULATE $1 key 128: dbsize $(cli dbsize), used_memory $(used)"
}

start
for n in 20000 40000 80000 160000; do
    populate "$n"
    sleep 3
    stop save
    sleep 2
    start
    sleep 3
done
stop save
rm -f "$TMP/dump.rdb"
step "dump.rdb deleted"
sleep 2
start
sleep 3
stop nosave

mkdir -p "$OUT"
cp "$TMP/redis.log" "$OUT/redis.log"
cp "$TMP/steps.txt" "$OUT/steps.txt"
