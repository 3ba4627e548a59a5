#!/usr/bin/env bash
# Scenario 13 (BGSAVE child killed by the kernel OOM killer), Debian Redis
# 7.0.15 by default; SERVER names another server binary (e.g. a
# valkey-server) and OUT_NAME the output directory: valkey-9.1.2/ was made
# with SERVER=/path/valkey-server OUT_NAME=valkey-9.1.2 KEYS=1550000
# ./make.sh.
#
# One standalone server on 127.0.0.1:18680 in a cgroup v1 memory cgroup of
# its own (/sys/fs/cgroup/memory/redsleuth-13, limit LIMIT_MB, swappiness 0
# and memsw limited as well, so the kernel kills instead of swapping). The
# server is started by a shell that first writes its own pid to the cgroup's
# cgroup.procs and then execs the server, so the server (same pid) and
# every fork child are charged to the cgroup from the first allocation.
# `oom-score-adj yes` (default values 0 200 800, the same in Valkey) raises
# the oom_score_adj of a BGSAVE child to 800, so the kernel chooses the
# child, not the server.
# `save ""`, `appendonly no`, so the only children are the BGSAVEs below.
#
# DEBUG POPULATE fills the server to about 60 % of the limit with KEYS keys
# `key:N` of SIZE bytes (1300000 keys: 250 MB of RSS with Redis 7.0.15,
# 203 MB with Valkey 9.1.2 and its libc malloc, hence KEYS=1550000, 240 MB,
# for Valkey). A writer (python, one connection, pipelined SETs of
# SIZE bytes over random existing `key:N`) rewrites the keys:
#   1. a first BGSAVE while the writer runs slowly (RATE_SLOW SET/s): it
#      succeeds and logs its copy-on-write peak ("Fork CoW for RDB");
#   2. a second BGSAVE while the writer rewrites keys as fast as it can:
#      every rewritten page is copied for the child, the cgroup goes over its
#      limit and the kernel kills the child ("Background saving terminated
#      by signal 9" in redis.log, "Memory cgroup out of memory: Killed
#      process <child pid>" in the kernel log);
#   3. with `save ""` a failed BGSAVE does not stop writes; CONFIG SET save
#      "3600 1" (a save point, no save due) makes stop-writes-on-bgsave-error
#      (default yes) refuse them with -MISCONF: a probe SET records the
#      reply, and so does the writer, which is then stopped. The dataset is
#      not reduced: FLUSHALL and DEL are writes and are refused as well, and
#      with no writer there is no copy-on-write;
#   4. a third BGSAVE succeeds; the probe SET is accepted again;
#   5. SHUTDOWN NOSAVE.
# The kernel's lines printed during the run are taken from `dmesg -T`
# verbatim (every line after the last line printed before the run).
#
# Output: debian-7.0.15/{redis.log,kernel.log,steps.txt} (logs verbatim;
# $OUT_NAME/ instead if set).
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
PORT=18680
LIMIT_MB=${LIMIT_MB:-400}
KEYS=${KEYS:-1300000}
SIZE=${SIZE:-100}
RATE_SLOW=${RATE_SLOW:-2000}
CG=/sys/fs/cgroup/memory/redsleuth-13
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/${OUT_NAME:-debian-7.0.15}"
TMP=$(mktemp -d /tmp/redsleuth-13-bgsave-child-oom.XXXXXX)
PID=
WRITER=

stop_pid() {
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        kill "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}

cleanup() {
    stop_pid "$WRITER"
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
cg_mb() { echo $(($(cat "$CG/$1") / 1048576)); }

if cli ping >/dev/null 2>&1; then
    echo "port $PORT is already in use" >&2
    exit 1
fi
if [ -e "$CG" ]; then
    echo "$CG already exists" >&2
    exit 1
fi

# The writer: pipelined SETs of SIZE bytes over random key:0..KEYS-1, at
# RATE SET/s (0: as fast as the server answers), until SIGTERM; counts the
# replies by their first word.
cat >"$TMP/writer.py" <<'PY'
import os, random, signal, socket, sys, time
port, keys, size, rate, out = (int(sys.argv[1]), int(sys.argv[2]),
                               int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
s = socket.create_connection(("127.0.0.1", port))
val = b"w" * size
counts = {}
first = {}
batch = 100
t0 = time.time()
sent = 0
def report():
    with open(out, "w") as f:
        for k in sorted(counts):
            f.write("%s %d first at %s\n" % (k, counts[k], first[k]))
while not stop:
    cmds = []
    for _ in range(batch):
        k = b"key:%d" % random.randrange(keys)
        cmds.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                    % (len(k), k, size, val))
    s.sendall(b"".join(cmds))
    got = b""
    while got.count(b"\r\n") < batch:
        chunk = s.recv(65536)
        if not chunk:
            stop = True
            break
        got += chunk
    for line in got.split(b"\r\n")[:batch]:
        word = line.split(b" ", 1)[0].decode(errors="replace")
        counts[word] = counts.get(word, 0) + 1
        first.setdefault(word, time.strftime("%H:%M:%S"))
    sent += batch
    if rate > 0:
        ahead = sent / rate - (time.time() - t0)
        if ahead > 0:
            time.sleep(ahead)
    if sent % 10000 == 0:
        report()
report()
PY

start_writer() {
    python3 "$TMP/writer.py" "$PORT" "$KEYS" "$SIZE" "$1" "$TMP/writer-$2.txt" &
    WRITER=$!
}

stop_writer() {
    stop_pid "$WRITER"
    step "writer pid $WRITER stopped, replies: $(tr '\n' ';' <"$TMP/writer-$1.txt" | sed 's/;$//; s/;/; /g')"
    WRITER=
}

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
oom-score-adj yes
CONF

# The last kernel line before the run: everything after it is the run's.
KMSG_BEFORE=$(dmesg -T | tail -n 1)

mkdir "$CG"
echo $((LIMIT_MB * 1048576)) >"$CG/memory.limit_in_bytes"
if [ -e "$CG/memory.memsw.limit_in_bytes" ]; then
    echo $((LIMIT_MB * 1048576)) >"$CG/memory.memsw.limit_in_bytes"
fi
echo 0 >"$CG/memory.swappiness"
step "memory cgroup $CG: limit_in_bytes $(cg_mb memory.limit_in_bytes) MB, memsw.limit_in_bytes $(cg_mb memory.memsw.limit_in_bytes) MB, swappiness $(cat "$CG/memory.swappiness")"

CGROUP_PROCS="$CG/cgroup.procs" bash -c 'echo $$ >"$CGROUP_PROCS" && exec "$0" "$1"' \
    "$SERVER" "$TMP/redis.conf" >"$TMP/server.out" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
    cli ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
cli ping | grep -q PONG
grep -qx "$PID" "$CG/cgroup.procs"
step "server started pid $PID in $CG (oom-score-adj yes, save \"\", appendonly no), oom_score_adj $(cat /proc/"$PID"/oom_score_adj)"

cli debug populate "$KEYS" key "$SIZE" >/dev/null
step "DEBUG POPULATE $KEYS key $SIZE: dbsize $(cli dbsize), used_memory $(info memory used_memory_human), used_memory_rss $(info memory used_memory_rss_human), cgroup usage $(cg_mb memory.usage_in_bytes) MB of $LIMIT_MB MB"

# 1. A BGSAVE under a slow writer: succeeds.
start_writer "$RATE_SLOW" slow
step "writer pid $WRITER started ($RATE_SLOW SET/s of $SIZE bytes over key:0..key:$((KEYS - 1)))"
sleep 2
cli bgsave >/dev/null
step "BGSAVE (child pid $(last_child))"
wait_bgsave
step "BGSAVE done: rdb_last_bgsave_status $(info persistence rdb_last_bgsave_status), cgroup max_usage $(cg_mb memory.max_usage_in_bytes) MB"
stop_writer slow
sleep 2

# 2. A BGSAVE under the fast writer: the kernel kills the child.
echo 0 >"$CG/memory.max_usage_in_bytes"
start_writer 0 fast
step "writer pid $WRITER started (SETs of $SIZE bytes over key:0..key:$((KEYS - 1)) as fast as the server answers)"
sleep 2
cli bgsave >/dev/null
CHILD=$(last_child)
step "BGSAVE (child pid $CHILD, oom_score_adj $(cat /proc/"$CHILD"/oom_score_adj 2>/dev/null || echo gone))"
wait_bgsave
STATUS=$(info persistence rdb_last_bgsave_status)
step "BGSAVE done: rdb_last_bgsave_status $STATUS, cgroup max_usage $(cg_mb memory.max_usage_in_bytes) MB, $(grep oom_kill "$CG/memory.oom_control" | tr '\n' ' ')"
if [ "$STATUS" != err ]; then
    echo "the BGSAVE child was not killed: tune LIMIT_MB/KEYS/SIZE" >&2
    exit 1
fi
step "probe SET with save \"\": $(cli set probe 1 2>&1)"

# 3. A save point makes the failed BGSAVE refuse writes.
cli config set save "3600 1" >/dev/null
step "CONFIG SET save \"3600 1\""
step "probe SET: $(cli set probe 2 2>&1)"
sleep 2
stop_writer fast

# 4. With no writer, a BGSAVE succeeds and writes are accepted again.
cli bgsave >/dev/null
step "BGSAVE (child pid $(last_child))"
wait_bgsave
step "BGSAVE done: rdb_last_bgsave_status $(info persistence rdb_last_bgsave_status)"
step "probe SET: $(cli set probe 3 2>&1)"

cli shutdown nosave >/dev/null 2>&1 || true
wait "$PID" || true
step "server pid $PID stopped with SHUTDOWN NOSAVE"
PID=
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
step "kernel: $(grep -c . "$TMP/kernel.log") line(s) after the last line before the run; killed: $(sed -n 's/.*Killed process \([0-9]*\) .*/\1/p' "$TMP/kernel.log" | tr '\n' ' ')(BGSAVE child pid $CHILD from redis.log)"

mkdir -p "$OUT"
cp "$TMP/redis.log" "$OUT/redis.log"
cp "$TMP/kernel.log" "$OUT/kernel.log"
cp "$TMP/steps.txt" "$OUT/steps.txt"
