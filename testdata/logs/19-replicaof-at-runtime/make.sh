#!/usr/bin/env bash
# Scenario 19: a primary turned into a replica at run time (REPLICAOF), and
# that replica restarted cleanly, resuming with a partial resync.
#
# Two standalone primaries on 127.0.0.1:18800 (node A) and :18801 (node B).
#   1. B gets B_KEYS keys `ledger:N` (DEBUG POPULATE, 96-byte values);
#   2. A gets A_KEYS keys `draft:N` (64 bytes), is stopped with SHUTDOWN SAVE
#      and started again: it loads its own dump.rdb;
#   3. `REPLICAOF 127.0.0.1 18801` and CONFIG REWRITE on A: A full-resyncs from B and flushes
#      its own A_KEYS keys (they exist nowhere else);
#   4. A's log is rotated (renamed to node-a.log.1, later gzipped; the
#      server opens its log file for every line, so it goes on in a new
#      node-a.log);
#   5. 300 writes on B, A stopped with SHUTDOWN SAVE (its RDB keeps the
#      replication ID and offset), 400 writes `ledger:late:N` on B while A is
#      down, A started again: it loads its RDB and resumes with a partial
#      resynchronization, B sending the 400 writes from its backlog;
#   6. SHUTDOWN NOSAVE of A, then of B 2 s later.
# Uses the Debian /usr/bin/redis-server 7.0.15, or SERVER (a valkey-server)
# with OUT_NAME=valkey-9.1.2. Logs copied verbatim to
# $OUT_NAME/{node-a.log.1.gz,node-a.log,node-b.log} with steps.txt.
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
A=18800
B=18801
A_KEYS=${A_KEYS:-12000}
B_KEYS=${B_KEYS:-30000}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/${OUT_NAME:-debian-7.0.15}
TMP=$(mktemp -d /tmp/redsleuth-19.XXXXXX)
A_PID=
B_PID=

. "$HERE/../record-lib.sh"
cleanup() {
    stop_pid "$A_PID" $A
    stop_pid "$B_PID" $B
    [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
for p in $A $B; do
    if cli $p PING >/dev/null 2>&1; then echo "port $p in use" >&2; exit 1; fi
done
"$SERVER" --version >&2
for n in a:$A b:$B; do
    name=${n%%:*} port=${n##*:}
    mkdir -p "$TMP/$name"
    cat >"$TMP/$name/redis.conf" <<EOF
bind 127.0.0.1
port $port
daemonize no
dir $TMP/$name
logfile $TMP/$name/node.log
loglevel notice
save ""
appendonly no
enable-debug-command local
EOF
done

start b $B; B_PID=$LAST_PID
cli $B DEBUG POPULATE "$B_KEYS" ledger 96 >/dev/null
step "node B pid $B_PID on :$B, DEBUG POPULATE $B_KEYS ledger 96 ($(cli $B DBSIZE) keys)"
start a $A; A_PID=$LAST_PID
cli $A DEBUG POPULATE "$A_KEYS" draft 64 >/dev/null
step "node A pid $A_PID on :$A, DEBUG POPULATE $A_KEYS draft 64 ($(cli $A DBSIZE) keys)"
sleep 1.5
cli $A SHUTDOWN SAVE >/dev/null 2>&1 || true
wait "$A_PID" 2>/dev/null || true
step "node A pid $A_PID stopped with SHUTDOWN SAVE"
sleep 1.2
start a $A; A_PID=$LAST_PID
step "node A restarted pid $A_PID ($(cli $A DBSIZE) keys loaded)"
sleep 2.3
cli $A REPLICAOF 127.0.0.1 $B >/dev/null
cli $A CONFIG REWRITE >/dev/null
step "node A: REPLICAOF 127.0.0.1 $B, CONFIG REWRITE (the replicaof line is kept for restarts)"
wait_log "$TMP/a/node.log" "Finished with success"
sleep 0.5
step "node A synced: $(cli $A DBSIZE) keys (its $A_KEYS draft keys are gone)"
sleep 1.7
mv "$TMP/a/node.log" "$TMP/a/node.log.1"
step "node A log rotated to node-a.log.1"
for i in $(seq 300); do echo "SET ledger:mid:$i v$i"; done | cli $B >/dev/null
sleep 2.1
step "300 writes on B"
cli $A SHUTDOWN SAVE >/dev/null 2>&1 || true
wait "$A_PID" 2>/dev/null || true
step "node A pid $A_PID stopped with SHUTDOWN SAVE"
for i in $(seq 400); do echo "SET ledger:late:$i value-$i"; done | cli $B >/dev/null
step "400 writes ledger:late:N on B while A is down"
sleep 3.4
start a $A; A_PID=$LAST_PID
wait_log "$TMP/a/node.log" "partial resynchronization"
sleep 0.5
step "node A restarted pid $A_PID: $(cli $A DBSIZE) keys, B $(cli $B DBSIZE) keys"
sleep 2.6
stop_pid "$A_PID" $A; step "node A pid $A_PID stopped with SHUTDOWN NOSAVE"; A_PID=
sleep 2
stop_pid "$B_PID" $B; step "node B pid $B_PID stopped with SHUTDOWN NOSAVE"; B_PID=

mkdir -p "$OUT"
cp "$TMP/a/node.log.1" "$OUT/node-a.log.1"
gzip -n -f "$OUT/node-a.log.1"
cp "$TMP/a/node.log" "$OUT/node-a.log"
cp "$TMP/b/node.log" "$OUT/node-b.log"
cp "$TMP/steps.txt" "$OUT/steps.txt"
ls -l "$OUT" >&2
