#!/usr/bin/env bash
# Scenario 10: replica full-resync loop caused by a small
# `client-output-buffer-limit replica` (log-events.md FC6 with K01 flags=S).
#
# A primary holding ~500 MB (disk-based sync, no RDB compression, so a full
# sync takes several seconds) keeps taking ~300 writes/s of 1 KB while a new
# replica is attached. The replication stream queued for the syncing replica
# stays above the 64kb soft limit for more than 1 s (256kb hard), so about 2 s
# into each sync the primary closes the replica (flags=S) and the replica
# retries with another full resync. After a few attempts the write load stops,
# the limit is raised with CONFIG SET and the sync finally succeeds. Both
# servers are then shut down.
#
# Uses the Debian /usr/bin/redis-server 7.0.15 (or the server binary named by
# SERVER, e.g. a valkey-server) on 127.0.0.1:18620 (primary) and
# 127.0.0.1:18621 (replica) only. Writes the logs verbatim to
# debian-7.0.15/{primary,replica}.log and the wall-clock steps to
# debian-7.0.15/steps.txt next to this script (OUT_NAME replaces the
# directory name). valkey-9.1.2/ was made with SERVER=/path/valkey-server
# OUT_NAME=valkey-9.1.2 KEYS=1500000 REPL_BACKLOG_SIZE=1mb ./make.sh.
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
P_PORT=18620
R_PORT=18621
ATTEMPTS=5 # full resyncs to let happen before stopping the write load
# Valkey 9.1.2 needs two changes to loop the same way (the default run sets
# neither): a replica's hard output buffer limit is never below
# repl-backlog-size, 1mb in Redis but 10mb in Valkey 9, so
# REPL_BACKLOG_SIZE=1mb adds that directive to the primary's config; and
# Valkey closed the syncing replica only at ~1 MB of output buffer (3.3-3.6 s
# into a sync), later than its sync of 500000 keys took (~2 s), so
# KEYS=1500000 (~1.5 GB) makes each sync longer.
KEYS=${KEYS:-500000} # keys of 1000 bytes written with DEBUG POPULATE
REPL_BACKLOG_SIZE=${REPL_BACKLOG_SIZE:-}
# The replica's R14 line: "from master" in Redis, "from primary" in Valkey.
RESYNC_RE='Full resync from \(master\|primary\)'

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/${OUT_NAME:-debian-7.0.15}
TMP=$(mktemp -d /tmp/redsleuth-resync-loop.XXXXXX)
P_PID=
R_PID=
W_PID=

stop_pid() { # pid port
    local pid=$1 port=$2
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    if [ -n "$port" ]; then
        "$CLI" -h 127.0.0.1 -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    fi
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    stop_pid "$W_PID" ""
    stop_pid "$R_PID" "$R_PORT"
    stop_pid "$P_PID" "$P_PORT"
    rm -rf "$TMP"
}
trap cleanup EXIT

step() {
    echo "$(date +%H:%M:%S) $*" >>"$TMP/steps.txt"
    echo "$(date +%H:%M:%S) $*" >&2
}

cli() { # port args...
    local port=$1
    shift
    "$CLI" -h 127.0.0.1 -p "$port" "$@"
}

wait_ready() { # port
    for _ in $(seq 100); do
        if [ "$(cli "$1" PING 2>/dev/null)" = PONG ]; then return 0; fi
        sleep 0.1
    done
    echo "server on port $1 did not start" >&2
    return 1
}

count() { # pattern file
    grep -c -- "$1" "$2" || true
}

for port in $P_PORT $R_PORT; do
    if cli "$port" PING >/dev/null 2>&1; then
        echo "port $port is already in use" >&2
        exit 1
    fi
done

"$SERVER" --version >&2

mkdir -p "$TMP/primary" "$TMP/replica"
cat >"$TMP/primary/redis.conf" <<EOF
bind 127.0.0.1
port $P_PORT
daemonize no
dir $TMP/primary
logfile $TMP/primary/redis.log
loglevel notice
save ""
appendonly no
rdbcompression no
repl-diskless-sync no
client-output-buffer-limit replica 256kb 64kb 1
enable-debug-command local
EOF
P_EXTRA=
if [ -n "$REPL_BACKLOG_SIZE" ]; then
    echo "repl-backlog-size $REPL_BACKLOG_SIZE" >>"$TMP/primary/redis.conf"
    P_EXTRA=", repl-backlog-size $REPL_BACKLOG_SIZE"
fi
cat >"$TMP/replica/redis.conf" <<EOF
bind 127.0.0.1
port $R_PORT
daemonize no
dir $TMP/replica
logfile $TMP/replica/redis.log
loglevel notice
save ""
appendonly no
replicaof 127.0.0.1 $P_PORT
EOF

"$SERVER" "$TMP/primary/redis.conf" &
P_PID=$!
wait_ready $P_PORT
step "primary started pid $P_PID on :$P_PORT (client-output-buffer-limit replica 256kb 64kb 1, repl-diskless-sync no, rdbcompression no$P_EXTRA)"

cli $P_PORT DEBUG POPULATE "$KEYS" key 1000 >/dev/null
step "primary populated with DEBUG POPULATE $KEYS key 1000 ($(cli $P_PORT DBSIZE) keys, used_memory_human $(cli $P_PORT INFO memory | tr -d '\r' | sed -n 's/^used_memory_human://p'))"

VALUE=$(head -c 1000 /dev/zero | tr '\0' v)
"$CLI" -h 127.0.0.1 -p $P_PORT -r -1 -i 0.003 SET load:key "$VALUE" >/dev/null 2>&1 &
W_PID=$!
sleep 1
step "write load started pid $W_PID: redis-cli -r -1 -i 0.003 SET load:key <1000 bytes> (about 300 writes/s, continuous)"

"$SERVER" "$TMP/replica/redis.conf" &
R_PID=$!
wait_ready $R_PORT
step "replica started pid $R_PID on :$R_PORT (replicaof 127.0.0.1 $P_PORT)"

deadline=$((SECONDS + 120))
while [ "$(count "$RESYNC_RE" "$TMP/replica/redis.log")" -lt "$ATTEMPTS" ]; do
    if [ $SECONDS -ge $deadline ]; then
        echo "no resync loop after 120 s" >&2
        exit 1
    fi
    sleep 0.2
done
# Let the last attempt fail too before stopping the load.
while [ "$(count 'overcoming of output buffer limits' "$TMP/primary/redis.log")" -lt "$ATTEMPTS" ]; do
    if [ $SECONDS -ge $deadline ]; then
        echo "attempt $ATTEMPTS was not dropped" >&2
        exit 1
    fi
    sleep 0.2
done
step "replica log shows $(count "$RESYNC_RE" "$TMP/replica/redis.log") full resyncs, primary log $(count 'overcoming of output buffer limits' "$TMP/primary/redis.log") output buffer closes"

kill "$W_PID"
wait "$W_PID" 2>/dev/null || true
step "write load pid $W_PID stopped with SIGTERM"
W_PID=

cli $P_PORT CONFIG SET client-output-buffer-limit "replica 256mb 64mb 60" >/dev/null
step "primary CONFIG SET client-output-buffer-limit \"replica 256mb 64mb 60\""

while [ "$(count 'sync: Finished with success' "$TMP/replica/redis.log")" -lt 1 ]; do
    if [ $SECONDS -ge $((deadline + 60)) ]; then
        echo "the replica never finished its sync" >&2
        exit 1
    fi
    sleep 0.2
done
step "replica sync finished ($(cli $R_PORT DBSIZE) keys on the replica, $(cli $P_PORT DBSIZE) on the primary)"

stop_pid "$R_PID" "$R_PORT"
step "replica pid $R_PID stopped with SHUTDOWN NOSAVE"
R_PID=
stop_pid "$P_PID" "$P_PORT"
step "primary pid $P_PID stopped with SHUTDOWN NOSAVE"
P_PID=

mkdir -p "$OUT"
cp "$TMP/primary/redis.log" "$OUT/primary.log"
cp "$TMP/replica/redis.log" "$OUT/replica.log"
cp "$TMP/steps.txt" "$OUT/steps.txt"
ls -l "$OUT" >&2
