#!/usr/bin/env bash
# Scenario 20: a replica that stalls, and output-buffer closes of three
# client classes on the primary.
#
# A primary on 127.0.0.1:18810 (`repl-timeout 3`, `repl-backlog-size
# 256kb`, `client-output-buffer-limit replica 1mb 512kb 10`, `pubsub 256kb
# 128kb 10`, `normal 1mb 0 0`) holding P_KEYS keys `shard:N` (DEBUG
# POPULATE, 128 bytes) and a replica on :18811 (`save ""`).
#   1. the replica starts empty: its first sync is a full one;
#   2. the replica is stopped with SIGSTOP (no writes): after repl-timeout
#      the primary logs "Disconnecting timedout replica"; SIGCONT 1 s later,
#      the replica sees the link gone and resumes with a partial resync;
#   3. a pub/sub client SUBSCRIBEs to `feed:alerts` and never reads: 1000
#      PUBLISHes of 32 KB close it (flags=P); a normal client sends 400
#      `GET blob:big1` (256 KB) without reading its replies: closed (flags=N);
#   4. the replica is killed with SIGKILL and started again with no data:
#      a full resync;
#   5. the replica is stopped with SIGSTOP and 300 SETs `blob:N` of 100 KB
#      are written: the primary closes the replica for its output buffer
#      (flags=S); SIGCONT, the replica's partial resync is refused for lack
#      of backlog and it resyncs in full;
#   6. 4 s after that sync, SHUTDOWN NOSAVE of the primary (planned), then
#      of the replica 2.5 s later.
# Uses the Debian /usr/bin/redis-server 7.0.15, or SERVER (a valkey-server)
# with OUT_NAME=valkey-9.1.2. Logs copied verbatim to
# $OUT_NAME/{primary,replica}.log with steps.txt.
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
P=18810
R=18811
P_KEYS=${P_KEYS:-40000}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/${OUT_NAME:-debian-7.0.15}
TMP=$(mktemp -d /tmp/redsleuth-20.XXXXXX)
P_PID=
R_PID=
SUB_PID=
NRM_PID=

. "$HERE/../record-lib.sh"
cleanup() {
    for x in $SUB_PID $NRM_PID; do kill "$x" 2>/dev/null || true; done
    if [ -n "$R_PID" ]; then kill -CONT "$R_PID" 2>/dev/null || true; fi
    stop_pid "$R_PID" $R
    stop_pid "$P_PID" $P
    [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
count() { grep -c -- "$2" "$1" 2>/dev/null || true; }
wait_count() { # file pattern n
    for _ in $(seq 300); do
        [ "$(count "$1" "$2")" -ge "$3" ] && return 0
        sleep 0.1
    done
    echo "fewer than $3 '$2' in $1" >&2; return 1
}
# A client that sends a command N times (RESP) and never reads a reply.
deaf_client() { # port n args...
    python3 - "$@" <<'PY' &
import socket, sys, time
port, n, args = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
cmd = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.sendall(cmd * n)
time.sleep(60)
PY
    LAST_PID=$!
}
# SET <prefix>1..<prefix>n to values of size bytes, reading each reply.
writer() { # port prefix n size
    python3 - "$@" <<'PY'
import socket, sys
port, prefix, n, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.create_connection(("127.0.0.1", port))
v = b"x" * size
f = s.makefile("rb")
for i in range(1, n + 1):
    k = b"%s%d" % (prefix.encode(), i)
    s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
    f.readline()
PY
}
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
repl-timeout 3
repl-backlog-size 256kb
client-output-buffer-limit replica 1mb 512kb 10
client-output-buffer-limit pubsub 256kb 128kb 10
client-output-buffer-limit normal 1mb 0 0
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
cli $P DEBUG POPULATE "$P_KEYS" shard 128 >/dev/null
step "primary pid $P_PID on :$P, DEBUG POPULATE $P_KEYS shard 128"
sleep 1.3
start replica $R; R_PID=$LAST_PID
wait_count "$TMP/replica/node.log" "Finished with success" 1
step "replica pid $R_PID on :$R synced in full (first sync, empty replica)"
sleep 2.2
kill -STOP "$R_PID"
step "replica pid $R_PID stopped with SIGSTOP"
wait_count "$TMP/primary/node.log" "timedout replica" 1
sleep 1
kill -CONT "$R_PID"
step "replica pid $R_PID resumed with SIGCONT"
wait_count "$TMP/replica/node.log" "Successful partial resynchronization" 1
sleep 2.7
deaf_client $P 1 SUBSCRIBE feed:alerts; SUB_PID=$LAST_PID
sleep 0.5
MSG=$(head -c 32768 /dev/zero | tr '\0' m)
for _ in $(seq 1000); do echo "PUBLISH feed:alerts $MSG"; done | cli $P >/dev/null
step "pub/sub client pid $SUB_PID (SUBSCRIBE feed:alerts, never reads), 1000 PUBLISH of 32 KB"
wait_count "$TMP/primary/node.log" "flags=P" 1
sleep 1.9
writer $P blob:big 1 262144
deaf_client $P 400 GET blob:big1; NRM_PID=$LAST_PID
step "normal client pid $NRM_PID sends 400 GET blob:big1 (256 KB) and never reads"
wait_count "$TMP/primary/node.log" "flags=N" 1
kill "$SUB_PID" "$NRM_PID" 2>/dev/null || true
SUB_PID= NRM_PID=
sleep 3.1
kill -KILL "$R_PID"; wait "$R_PID" 2>/dev/null || true
step "replica pid $R_PID killed with SIGKILL"
sleep 1.6
start replica $R; R_PID=$LAST_PID
wait_count "$TMP/replica/node.log" "Finished with success" 2
step "replica restarted pid $R_PID, synced in full (no data after the kill)"
sleep 3.3
kill -STOP "$R_PID"
step "replica pid $R_PID stopped with SIGSTOP"
writer $P blob: 300 102400
step "300 SET blob:N of 100 KB on the primary"
wait_count "$TMP/primary/node.log" "flags=S" 1
sleep 0.4
kill -CONT "$R_PID"
step "replica pid $R_PID resumed with SIGCONT"
wait_count "$TMP/replica/node.log" "Finished with success" 3
step "replica synced in full again ($(cli $R DBSIZE) keys)"
sleep 4
stop_pid "$P_PID" $P; step "primary pid $P_PID stopped with SHUTDOWN NOSAVE"; P_PID=
sleep 2.5
stop_pid "$R_PID" $R; step "replica pid $R_PID stopped with SHUTDOWN NOSAVE"; R_PID=

mkdir -p "$OUT"
cp "$TMP/primary/node.log" "$OUT/primary.log"
cp "$TMP/replica/node.log" "$OUT/replica.log"
cp "$TMP/steps.txt" "$OUT/steps.txt"
ls -l "$OUT" >&2
