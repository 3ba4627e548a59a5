#!/usr/bin/env bash
# Scenario 21: a primary killed and restarted from an older RDB while its
# replica is ahead of it.
#
# A primary on 127.0.0.1:18820 (`save ""`) holding P_KEYS keys `parcel:N`
# (DEBUG POPULATE, 80 bytes) and a replica on :18821.
#   1. the replica syncs; then SAVE on the primary writes dump.rdb;
#   2. NEW_KEYS writes `parcel:fresh:N` on the primary, replicated: the
#      replica is now ahead of that dump.rdb;
#   3. the primary is killed with SIGKILL and started again 2.4 s later: it
#      loads the older dump.rdb (without the NEW_KEYS keys);
#   4. the replica asks to continue from its offset; the primary can reply
#      only up to the offset of its RDB ("Requested offset for second ID
#      ... I can reply up to ..."), so the replica resyncs in full and its
#      newer writes are discarded;
#   5. SHUTDOWN NOSAVE of the replica, then of the primary 1.5 s later.
# Uses the Debian /usr/bin/redis-server 7.0.15, or SERVER (a valkey-server)
# with OUT_NAME=valkey-9.1.2. Logs copied verbatim to
# $OUT_NAME/{primary,replica}.log with steps.txt.
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
P=18820
R=18821
P_KEYS=${P_KEYS:-20000}
NEW_KEYS=${NEW_KEYS:-500}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/${OUT_NAME:-debian-7.0.15}
TMP=$(mktemp -d /tmp/redsleuth-21.XXXXXX)
P_PID=
R_PID=

. "$HERE/../record-lib.sh"
cleanup() {
    stop_pid "$R_PID" $R
    stop_pid "$P_PID" $P
    [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
for p in $P $R; do
    if cli $p PING >/dev/null 2>&1; then echo "port $p in use" >&2; exit 1; fi
done
"$SERVER" --version >&2
mkdir -p "$TMP/primary" "$TMP/replica"
cat >"$TMP/primary/redis.conf" <<EOF
bind 127.0.0.1
port $P
daemonize no
dir $TMP/primary
logfile $TMP/primary/node.log
loglevel notice
save ""
appendonly no
enable-debug-command local
EOF
cat >"$TMP/replica/redis.conf" <<EOF
bind 127.0.0.1
port $R
daemonize no
dir $TMP/replica
logfile $TMP/replica/node.log
loglevel notice
save ""
appendonly no
replicaof 127.0.0.1 $P
EOF
start primary $P; P_PID=$LAST_PID
cli $P DEBUG POPULATE "$P_KEYS" parcel 80 >/dev/null
step "primary pid $P_PID on :$P, DEBUG POPULATE $P_KEYS parcel 80"
sleep 0.8
start replica $R; R_PID=$LAST_PID
wait_log "$TMP/replica/node.log" "Finished with success"
step "replica pid $R_PID on :$R synced"
sleep 1.4
cli $P SAVE >/dev/null
step "primary SAVE (dump.rdb: $(cli $P DBSIZE) keys)"
sleep 1.1
for i in $(seq "$NEW_KEYS"); do echo "SET parcel:fresh:$i scan-$i"; done | cli $P >/dev/null
sleep 0.5
step "$NEW_KEYS SET parcel:fresh:N on the primary (primary $(cli $P DBSIZE) keys, replica $(cli $R DBSIZE) keys)"
sleep 1.6
kill -KILL "$P_PID"; wait "$P_PID" 2>/dev/null || true
step "primary pid $P_PID killed with SIGKILL"
P_PID=
sleep 2.4
start primary $P; P_PID=$LAST_PID
step "primary restarted pid $P_PID from the dump.rdb of the SAVE ($(cli $P DBSIZE) keys)"
for _ in $(seq 300); do
    [ "$(grep -c 'Finished with success' "$TMP/replica/node.log")" -ge 2 ] && break
    sleep 0.1
done
sleep 0.5
step "replica resynced: $(cli $R DBSIZE) keys, primary $(cli $P DBSIZE) keys"
sleep 3
stop_pid "$R_PID" $R; step "replica pid $R_PID stopped with SHUTDOWN NOSAVE"; R_PID=
sleep 1.5
stop_pid "$P_PID" $P; step "primary pid $P_PID stopped with SHUTDOWN NOSAVE"; P_PID=

mkdir -p "$OUT"
cp "$TMP/primary/node.log" "$OUT/primary.log"
cp "$TMP/replica/node.log" "$OUT/replica.log"
cp "$TMP/steps.txt" "$OUT/steps.txt"
ls -l "$OUT" >&2
