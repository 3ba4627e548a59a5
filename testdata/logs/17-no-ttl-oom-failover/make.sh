#!/usr/bin/env bash
# Scenario 17 (a key family without a TTL grows until the kernel OOM-kills
# the primary; Sentinel fails over; the old primary comes back from an old
# dump and resyncs in full), Debian Redis 7.0.15.
#
# A primary on 127.0.0.1:18760 in a cgroup v1 memory cgroup of its own
# (/sys/fs/cgroup/memory/redsleuth-17, limit LIMIT_MB, swappiness 0, memsw
# limited), with `maxmemory MAXMEMORY_MB` set above that limit (the container
# limit was lowered, maxmemory was not), `save ""` and `appendonly no`; a
# replica on :18761 and one Sentinel on :18762 (`sentinel monitor mymaster
# 127.0.0.1 18760 1`, down-after 1000 ms, failover-timeout 10000 ms), both
# outside the cgroup. The primary runs under a supervisor loop (systemd
# `Restart=always`, `RestartSec=RESTART_SEC`); the server is started by a
# shell that writes its own pid to the cgroup's cgroup.procs and then execs
# redis-server, so it is the only process in the cgroup.
#   1. a loader writes FEEDS lists `user:N:feed` (ITEMS items each, no TTL),
#      SESSIONS strings `session:<hex>` (SETEX 3600) and PRODUCTS strings
#      `cache:product:N` (SETEX 600); then BGSAVE (a nightly backup job)
#      writes dump.rdb;
#   2. a writer appends new feeds user:FEEDS:feed, user:FEEDS+1:feed, ...
#      (no TTL) as fast as the server answers: the primary grows until the
#      cgroup is full and the kernel kills it (maxmemory is never reached);
#   3. the Sentinel sees it down, fails over to the replica :18761;
#   4. the supervisor copies the dump.rdb the dead primary left (the file
#      kept beside the logs), raises the cgroup limit to RAISED_MB (what an
#      operator does to let it rejoin) and restarts it after RESTART_SEC s:
#      it loads the BGSAVE's dump.rdb (every feed written after it is lost
#      on that node), then the Sentinel converts it into a replica of
#      :18761, which sends it the new primary's dataset in a full resync;
#   5. DBSIZE on both, SHUTDOWN NOSAVE of both servers and the Sentinel.
# The kernel's lines printed during the run are taken from `dmesg -T`
# verbatim (every line after the last line printed before the run).
#
# Output: debian-7.0.15/{primary,replica,sentinel,kernel}.log, steps.txt
# (logs verbatim) and, beside that directory, debian-7.0.15.rdb (the
# primary's dump.rdb when it was killed).
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
P=18760
R=18761
S=18762
LIMIT_MB=${LIMIT_MB:-120}
RAISED_MB=${RAISED_MB:-400}
MAXMEMORY_MB=${MAXMEMORY_MB:-256}
FEEDS=${FEEDS:-1500}
ITEMS=${ITEMS:-20}
SESSIONS=${SESSIONS:-2000}
PRODUCTS=${PRODUCTS:-1000}
RESTART_SEC=${RESTART_SEC:-6}
CG=/sys/fs/cgroup/memory/redsleuth-17
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/${OUT_NAME:-debian-7.0.15}"
TMP=$(mktemp -d /tmp/redsleuth-17-no-ttl-oom-failover.XXXXXX)
SUP=
WRITER=
RPID=
SPID=

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
    stop_pid "$RPID"
    stop_pid "$SPID"
    if [ -d "$CG" ]; then
        for _ in $(seq 1 50); do
            rmdir "$CG" 2>/dev/null && break
            sleep 0.1
        done
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

cli() { local port=$1; shift; "$CLI" -h 127.0.0.1 -p "$port" "$@"; }
step() { echo "$(date +%H:%M:%S) $*" >>"$TMP/steps.txt"; }
info() { cli "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"; }
cg_mb() { echo $(($(cat "$CG/$1") / 1048576)); }

wait_ready() {
    for _ in $(seq 1 300); do
        cli "$1" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    echo "the server on :$1 did not become ready" >&2
    return 1
}

for port in $P $R $S; do
    if cli "$port" ping >/dev/null 2>&1; then
        echo "port $port is already in use" >&2
        exit 1
    fi
done
if [ -e "$CG" ]; then
    echo "$CG already exists" >&2
    exit 1
fi
mkdir -p "$TMP/p" "$TMP/r" "$TMP/s"

# RESP over one socket, pipelined; `load` writes the families of step 1,
# `grow` appends new feeds until the connection drops or SIGTERM and counts
# the replies by their first word.
cat >"$TMP/client.py" <<'PY'
import hashlib, signal, socket, sys, time
mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
feeds, items, sessions, products = (int(x) for x in sys.argv[4:8])
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
s = socket.create_connection(("127.0.0.1", port))
def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)
counts, last = {}, {}
def send(cmds):
    s.sendall(b"".join(cmds))
    got = b""
    while got.count(b"\r\n") < len(cmds):
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        got += chunk
    for line in got.split(b"\r\n")[:len(cmds)]:
        word = line.split(b" ", 1)[0].decode(errors="replace")
        word = ":n" if word.startswith(":") else word
        counts[word] = counts.get(word, 0) + 1
        last[word] = time.strftime("%H:%M:%S")
def feed(n):
    # ITEMS post ids of the user's timeline, newest first.
    return cmd("RPUSH", "user:%d:feed" % n,
               *["post:%d:%d" % (n * 7919 % 100003, k) for k in range(items)])
why = "done"
n = feeds
try:
    if mode == "load":
        for a in range(0, feeds, 100):
            send([feed(k) for k in range(a, min(a + 100, feeds))])
        for a in range(0, sessions, 100):
            send([cmd("SETEX", "session:" + hashlib.sha1(b"%d" % k).hexdigest()[:16],
                      3600, "uid=%d;csrf=%s" % (k, hashlib.md5(b"%d" % k).hexdigest()))
                  for k in range(a, min(a + 100, sessions))])
        for a in range(0, products, 100):
            send([cmd("SETEX", "cache:product:%d" % k, 600,
                      '{"id":%d,"price":%d,"stock":%d}' % (k, k * 13 % 997, k % 50))
                  for k in range(a, min(a + 100, products))])
    else:
        while not stop:
            send([feed(k) for k in range(n, n + 200)])
            n += 200
except OSError as e:
    why = "%s at %s" % (e, time.strftime("%H:%M:%S"))
with open(out, "w") as f:
    for k in sorted(counts):
        f.write("%s %d last at %s\n" % (k, counts[k], last[k]))
    if mode == "grow":
        f.write("last feed acknowledged user:%d:feed, %s\n" % (n - 1, why))
PY

cat >"$TMP/primary.conf" <<CONF
bind 127.0.0.1
port $P
daemonize no
dir $TMP/p
dbfilename dump.rdb
save ""
appendonly no
maxmemory ${MAXMEMORY_MB}mb
maxmemory-policy noeviction
loglevel notice
logfile $TMP/primary.log
CONF
cat >"$TMP/replica.conf" <<CONF
bind 127.0.0.1
port $R
daemonize no
dir $TMP/r
dbfilename dump.rdb
save ""
appendonly no
replicaof 127.0.0.1 $P
loglevel notice
logfile $TMP/replica.log
CONF
cat >"$TMP/s/sentinel.conf" <<CONF
bind 127.0.0.1
port $S
daemonize no
dir $TMP/s
logfile $TMP/sentinel.log
sentinel monitor mymaster 127.0.0.1 $P 1
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 10000
CONF

supervise() {
    local n=0 spid rc
    while :; do
        n=$((n + 1))
        CGROUP_PROCS="$CG/cgroup.procs" bash -c 'echo $$ >"$CGROUP_PROCS" && exec "$0" "$1"' \
            "$SERVER" "$TMP/primary.conf" >>"$TMP/server.out" 2>&1 &
        spid=$!
        echo "$spid" >"$TMP/server.pid"
        step "supervisor: start $n, primary pid $spid"
        rc=0
        wait "$spid" || rc=$?
        step "supervisor: primary pid $spid exited with status $rc$( [ "$rc" -gt 128 ] && echo " (signal $((rc - 128)))")"
        if [ -e "$TMP/stop" ]; then
            step "supervisor: stop requested, not restarting"
            break
        fi
        if [ "$n" = 1 ]; then
            cp -p "$TMP/p/dump.rdb" "$TMP/dump-at-kill.rdb"
            step "supervisor: dump.rdb the killed primary left: $(stat -c %s "$TMP/dump-at-kill.rdb") bytes, mtime $(date -r "$TMP/dump-at-kill.rdb" +%H:%M:%S)"
            echo $((RAISED_MB * 1048576)) >"$CG/memory.memsw.limit_in_bytes" 2>/dev/null || true
            echo $((RAISED_MB * 1048576)) >"$CG/memory.limit_in_bytes"
            echo $((RAISED_MB * 1048576)) >"$CG/memory.memsw.limit_in_bytes" 2>/dev/null || true
            step "supervisor: cgroup limit raised to $(cg_mb memory.limit_in_bytes) MB"
        fi
        sleep "$RESTART_SEC"
    done
}

KMSG_BEFORE=$(dmesg -T | tail -n 1)

mkdir "$CG"
echo $((LIMIT_MB * 1048576)) >"$CG/memory.limit_in_bytes"
if [ -e "$CG/memory.memsw.limit_in_bytes" ]; then
    echo $((LIMIT_MB * 1048576)) >"$CG/memory.memsw.limit_in_bytes"
fi
echo 0 >"$CG/memory.swappiness"
step "memory cgroup $CG: limit_in_bytes $(cg_mb memory.limit_in_bytes) MB, swappiness $(cat "$CG/memory.swappiness")"

supervise &
SUP=$!
wait_ready $P
PID=$(server_pid)
grep -qx "$PID" "$CG/cgroup.procs"
step "primary pid $PID ready in $CG (maxmemory $(cli $P config get maxmemory | tail -1), save \"\", appendonly no)"
"$SERVER" "$TMP/replica.conf" >>"$TMP/replica.out" 2>&1 &
RPID=$!
wait_ready $R
for _ in $(seq 1 100); do
    [ "$(info $R replication master_link_status)" = up ] && break
    sleep 0.1
done
step "replica pid $RPID: master_link_status $(info $R replication master_link_status)"
"$SERVER" "$TMP/s/sentinel.conf" --sentinel >>"$TMP/sentinel.out" 2>&1 &
SPID=$!
wait_ready $S
sleep 2
step "sentinel pid $SPID: $(cli $S sentinel get-master-addr-by-name mymaster | tr '\n' ' ')"

# 1. The families, then the backup BGSAVE.
python3 "$TMP/client.py" load $P "$TMP/load.txt" "$FEEDS" "$ITEMS" "$SESSIONS" "$PRODUCTS"
step "loaded: $(tr '\n' ';' <"$TMP/load.txt"); dbsize $(cli $P dbsize), used_memory $(info $P memory used_memory_human)"
step "BGSAVE: $(cli $P bgsave)"
while [ "$(info $P persistence rdb_bgsave_in_progress)" = 1 ]; do sleep 0.1; done
step "BGSAVE done: rdb_last_bgsave_status $(info $P persistence rdb_last_bgsave_status), dump.rdb $(stat -c %s "$TMP/p/dump.rdb") bytes, dbsize $(cli $P dbsize)"
sleep 2

# 2. New feeds until the kernel kills the primary.
python3 "$TMP/client.py" grow $P "$TMP/grow.txt" "$FEEDS" "$ITEMS" 0 0 &
WRITER=$!
step "writer pid $WRITER started (RPUSH of $ITEMS items to new keys user:$FEEDS:feed, ...)"
for _ in $(seq 1 1800); do
    kill -0 "$WRITER" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$WRITER" 2>/dev/null; then
    echo "the primary was not killed in 180 s: tune LIMIT_MB" >&2
    exit 1
fi
wait "$WRITER" || true
WRITER=
step "writer stopped: $(tr '\n' ';' <"$TMP/grow.txt" | sed 's/;$//; s/;/; /g')"
KILLED=$PID

# 3-4. Failover, restart, resync.
for _ in $(seq 1 300); do
    [ "$(cli $S sentinel get-master-addr-by-name mymaster | tail -1)" = $R ] && break
    sleep 0.1
done
step "sentinel: master is now $(cli $S sentinel get-master-addr-by-name mymaster | tr '\n' ' ')"
for _ in $(seq 1 300); do
    [ "$(server_pid)" != "$KILLED" ] && break
    sleep 0.1
done
wait_ready $P
PID=$(server_pid)
step "primary restarted pid $PID: role $(info $P replication role), dbsize $(cli $P dbsize)"
for _ in $(seq 1 600); do
    [ "$(info $P replication role)" = slave ] && [ "$(info $P replication master_link_status)" = up ] && break
    sleep 0.1
done
step "old primary pid $PID: role $(info $P replication role), master_port $(info $P replication master_port), link $(info $P replication master_link_status), dbsize $(cli $P dbsize); new primary :$R dbsize $(cli $R dbsize)"

# 5. Stop.
touch "$TMP/stop"
cli $S shutdown >/dev/null 2>&1 || true
wait "$SPID" || true
SPID=
cli $P shutdown nosave >/dev/null 2>&1 || true
for _ in $(seq 1 100); do
    kill -0 "$SUP" 2>/dev/null || break
    sleep 0.1
done
wait "$SUP" || true
SUP=
cli $R shutdown nosave >/dev/null 2>&1 || true
wait "$RPID" || true
RPID=
step "all stopped (SHUTDOWN NOSAVE, sentinel SHUTDOWN)"
rmdir "$CG"
sleep 1

dmesg -T >"$TMP/dmesg.txt"
FROM=$(grep -nxF -- "$KMSG_BEFORE" "$TMP/dmesg.txt" | tail -n 1 | cut -d: -f1)
if [ -z "$FROM" ]; then
    echo "the kernel's last line before the run is no longer in dmesg" >&2
    exit 1
fi
tail -n +"$((FROM + 1))" "$TMP/dmesg.txt" >"$TMP/kernel.log"
step "kernel: $(grep -c . "$TMP/kernel.log") line(s); killed: $(sed -n 's/.*Killed process \([0-9]*\) .*/\1/p' "$TMP/kernel.log" | tr '\n' ' ')(primary pid $KILLED)"
if ! grep -q "Killed process $KILLED " "$TMP/kernel.log"; then
    echo "the kernel did not kill the primary pid $KILLED" >&2
    exit 1
fi

mkdir -p "$OUT"
for f in primary replica sentinel kernel; do
    cp "$TMP/$f.log" "$OUT/$f.log"
done
cp "$TMP/steps.txt" "$OUT/steps.txt"
cp -p "$TMP/dump-at-kill.rdb" "$OUT.rdb"
