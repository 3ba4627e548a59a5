#!/usr/bin/env bash
# Scenario 14 (the server process killed by the kernel OOM killer, then
# restarted by a supervisor), Debian Redis 7.0.15.
#
# One standalone server on 127.0.0.1:18700 in a cgroup v1 memory cgroup of
# its own (/sys/fs/cgroup/memory/redsleuth-14, limit LIMIT_MB, swappiness 0
# and memsw limited as well, so the kernel kills instead of swapping). The
# server is started by a shell that first writes its own pid to the cgroup's
# cgroup.procs and then execs redis-server, so the server (same pid) is
# charged to the cgroup from the first allocation and is the only process
# in it. `maxmemory 0` (no limit: the usual misconfiguration of a server in
# a container), no `oom-score-adj`, `save ""`, `appendonly no`.
#
# A supervisor loop (what systemd `Restart=always`, `RestartSec=RESTART_SEC`
# does) runs the server, waits for it, logs its exit status and starts it
# again in the same cgroup after RESTART_SEC seconds, until told to stop.
#   1. DEBUG POPULATE writes KEYS keys `key:N` of SIZE bytes, then SAVE
#      (in the foreground, no fork) writes dump.rdb;
#   2. a writer (python, one connection, pipelined SETs of SIZE bytes to new
#      keys key:KEYS, key:KEYS+1, ...) writes as fast as the server answers;
#      with no maxmemory the server grows until the cgroup is full, and the
#      kernel kills it (the main process: nothing else is in the cgroup).
#      The writer counts the acknowledged SETs until the connection drops;
#   3. the supervisor sees the server die (status 137, SIGKILL) and starts
#      it again: it loads the dump.rdb of step 1, so every key written after
#      the SAVE is lost;
#   4. once it is ready: DBSIZE, a SET, a GET, then SHUTDOWN (clean, no save
#      point so nothing is saved) and the supervisor stops.
# The kernel's lines printed during the run are taken from `dmesg -T`
# verbatim (every line after the last line printed before the run).
#
# Output: debian-7.0.15/{redis.log,kernel.log,steps.txt} (logs verbatim).
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
PORT=18700
LIMIT_MB=${LIMIT_MB:-300}
KEYS=${KEYS:-300000}
SIZE=${SIZE:-100}
RESTART_SEC=${RESTART_SEC:-2}
CG=/sys/fs/cgroup/memory/redsleuth-14
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/${OUT_NAME:-debian-7.0.15}"
TMP=$(mktemp -d /tmp/redsleuth-14-server-oom-killed.XXXXXX)
SUP=
WRITER=

# Stops a process by its pid (a child or not) and waits until it is gone.
stop_pid() {
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        kill "$1" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$1" 2>/dev/null || break
            sleep 0.1
        done
        wait "$1" 2>/dev/null || true
    fi
}

server_pid() { cat "$TMP/server.pid" 2>/dev/null || true; }

cleanup() {
    touch "$TMP/stop"
    stop_pid "$WRITER"
    stop_pid "$SUP"
    stop_pid "$(server_pid)"
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
cg_mb() { echo $(($(cat "$CG/$1") / 1048576)); }

wait_ready() {
    for _ in $(seq 1 300); do
        cli ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    echo "the server did not become ready" >&2
    return 1
}

if cli ping >/dev/null 2>&1; then
    echo "port $PORT is already in use" >&2
    exit 1
fi
if [ -e "$CG" ]; then
    echo "$CG already exists" >&2
    exit 1
fi

# The writer: pipelined SETs of SIZE bytes to new keys key:FIRST, ... as
# fast as the server answers, until the connection drops or SIGTERM; counts
# the replies by their first word.
cat >"$TMP/writer.py" <<'PY'
import signal, socket, sys, time
port, first_key, size, out = (int(sys.argv[1]), int(sys.argv[2]),
                              int(sys.argv[3]), sys.argv[4])
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
s = socket.create_connection(("127.0.0.1", port))
val = b"w" * size
counts = {}
last = {}
batch = 1000
n = first_key
why = "stopped"
def report():
    with open(out, "w") as f:
        for k in sorted(counts):
            f.write("%s %d last at %s\n" % (k, counts[k], last[k]))
        f.write("last key acknowledged key:%d, %s\n" % (n - 1, why))
try:
    while not stop:
        cmds = []
        for i in range(batch):
            k = b"key:%d" % (n + i)
            cmds.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                        % (len(k), k, size, val))
        s.sendall(b"".join(cmds))
        got = b""
        while got.count(b"\r\n") < batch:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            got += chunk
        for line in got.split(b"\r\n")[:batch]:
            word = line.split(b" ", 1)[0].decode(errors="replace")
            counts[word] = counts.get(word, 0) + 1
            last[word] = time.strftime("%H:%M:%S")
        n += batch
except OSError as e:
    why = "%s at %s" % (e, time.strftime("%H:%M:%S"))
report()
PY

cat >"$TMP/redis.conf" <<CONF
bind 127.0.0.1
port $PORT
daemonize no
dir $TMP
dbfilename dump.rdb
save ""
appendonly no
maxmemory 0
loglevel notice
logfile $TMP/redis.log
enable-debug-command local
CONF

# The supervisor: start the server in the cgroup, wait for it, restart it
# after RESTART_SEC seconds unless $TMP/stop exists.
supervise() {
    local n=0 spid rc
    while :; do
        n=$((n + 1))
        CGROUP_PROCS="$CG/cgroup.procs" bash -c 'echo $$ >"$CGROUP_PROCS" && exec "$0" "$1"' \
            "$SERVER" "$TMP/redis.conf" >>"$TMP/server.out" 2>&1 &
        spid=$!
        echo "$spid" >"$TMP/server.pid"
        step "supervisor: start $n, server pid $spid"
        rc=0
        wait "$spid" || rc=$?
        step "supervisor: server pid $spid exited with status $rc$( [ "$rc" -gt 128 ] && echo " (signal $((rc - 128)))")"
        if [ -e "$TMP/stop" ]; then
            step "supervisor: stop requested, not restarting"
            break
        fi
        sleep "$RESTART_SEC"
    done
}

# The last kernel line before the run: everything after it is the run's.
KMSG_BEFORE=$(dmesg -T | tail -n 1)

mkdir "$CG"
echo $((LIMIT_MB * 1048576)) >"$CG/memory.limit_in_bytes"
if [ -e "$CG/memory.memsw.limit_in_bytes" ]; then
    echo $((LIMIT_MB * 1048576)) >"$CG/memory.memsw.limit_in_bytes"
fi
echo 0 >"$CG/memory.swappiness"
step "memory cgroup $CG: limit_in_bytes $(cg_mb memory.limit_in_bytes) MB, memsw.limit_in_bytes $(cg_mb memory.memsw.limit_in_bytes) MB, swappiness $(cat "$CG/memory.swappiness")"

supervise &
SUP=$!
step "supervisor pid $SUP started (restart after $RESTART_SEC s)"
wait_ready
PID=$(server_pid)
grep -qx "$PID" "$CG/cgroup.procs"
step "server pid $PID ready in $CG (maxmemory $(cli config get maxmemory | tail -1), save \"\", appendonly no), oom_score_adj $(cat /proc/"$PID"/oom_score_adj), processes in the cgroup: $(tr '\n' ' ' <"$CG/cgroup.procs")"

# 1. A first batch of keys, saved.
cli debug populate "$KEYS" key "$SIZE" >/dev/null
step "DEBUG POPULATE $KEYS key $SIZE: dbsize $(cli dbsize), used_memory $(info memory used_memory_human), cgroup usage $(cg_mb memory.usage_in_bytes) MB of $LIMIT_MB MB"
step "SAVE: $(cli save)"
step "dump.rdb $(stat -c %s "$TMP/dump.rdb") bytes, rdb_changes_since_last_save $(info persistence rdb_changes_since_last_save)"

# 2. Writes to new keys until the kernel kills the server.
python3 "$TMP/writer.py" "$PORT" "$KEYS" "$SIZE" "$TMP/writer.txt" &
WRITER=$!
step "writer pid $WRITER started (SETs of $SIZE bytes to new keys key:$KEYS, key:$((KEYS + 1)), ... as fast as the server answers)"
for _ in $(seq 1 1200); do
    kill -0 "$WRITER" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$WRITER" 2>/dev/null; then
    echo "the server was not killed in 120 s: tune LIMIT_MB" >&2
    exit 1
fi
wait "$WRITER" || true
WRITER=
OK=$(sed -n 's/^+OK \([0-9]*\) .*/\1/p' "$TMP/writer.txt")
step "writer stopped, replies: $(tr '\n' ';' <"$TMP/writer.txt" | sed 's/;$//; s/;/; /g')"
step "keys written and acknowledged: $KEYS + ${OK:-0} = $((KEYS + ${OK:-0})); cgroup max_usage $(cg_mb memory.max_usage_in_bytes) MB, $(grep oom_kill "$CG/memory.oom_control" | tr '\n' ' ')"

# 3. The supervisor restarts the server; it loads the older dump.rdb.
for _ in $(seq 1 100); do
    [ "$(server_pid)" != "$PID" ] && break
    sleep 0.1
done
if [ "$(server_pid)" = "$PID" ]; then
    echo "the server pid $PID was not restarted" >&2
    exit 1
fi
KILLED=$PID
wait_ready
PID=$(server_pid)
LOADED=$(cli dbsize)
step "server pid $PID ready: dbsize $LOADED (keys written $((KEYS + ${OK:-0})), lost $((KEYS + ${OK:-0} - LOADED))), processes in the cgroup: $(tr '\n' ' ' <"$CG/cgroup.procs")"

# 4. A few commands, then a clean shutdown.
step "SET probe 1: $(cli set probe 1); GET probe: $(cli get probe); GET key:0: $(cli get key:0 | tr -d '\0'); DBSIZE: $(cli dbsize); GET key:$KEYS: $(cli --no-raw get "key:$KEYS")"
touch "$TMP/stop"
cli shutdown >/dev/null 2>&1 || true
for _ in $(seq 1 100); do
    kill -0 "$SUP" 2>/dev/null || break
    sleep 0.1
done
wait "$SUP" || true
SUP=
step "server pid $PID stopped with SHUTDOWN"
rmdir "$CG"
step "memory cgroup $CG removed"
sleep 1

dmesg -T >"$TMP/dmesg.txt"
FROM=$(grep -nxF -- "$KMSG_BEFORE" "$TMP/dmesg.txt" | tail -n 1 | cut -d: -f1)
if [ -z "$FROM" ]; then
    echo "the kernel's last line before the run is no longer in dmesg" >&2
    exit 1
fi
tail -n +"$((FROM + 1))" "$TMP/dmesg.txt" >"$TMP/kernel.log"
step "kernel: $(grep -c . "$TMP/kernel.log") line(s) after the last line before the run; killed: $(sed -n 's/.*Killed process \([0-9]*\) .*/\1/p' "$TMP/kernel.log" | tr '\n' ' ')(server pid $KILLED)"
if ! grep -q "Killed process $KILLED " "$TMP/kernel.log"; then
    echo "the kernel did not kill the server pid $KILLED" >&2
    exit 1
fi

mkdir -p "$OUT"
cp "$TMP/redis.log" "$OUT/redis.log"
cp "$TMP/kernel.log" "$OUT/kernel.log"
cp "$TMP/steps.txt" "$OUT/steps.txt"
