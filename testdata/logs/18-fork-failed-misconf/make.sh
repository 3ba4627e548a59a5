#!/usr/bin/env bash
# Scenario 18 (automatic BGSAVEs refused by fork(), writes refused with
# -MISCONF while a key family without a TTL keeps growing), Debian Redis
# 7.0.15.
#
# One server on 127.0.0.1:18780 in a cgroup v1 pids cgroup of its own
# (/sys/fs/cgroup/pids/redsleuth-18); the server is started by a shell that
# writes its own pid to the cgroup's cgroup.procs and then execs it, so the
# server, its threads and every fork child are counted by the cgroup.
# `save "5 100"` (a save point a busy server reaches every 5 s),
# `stop-writes-on-bgsave-error yes` (the default), `appendonly no`.
#   1. a loader writes FEEDS lists `user:N:feed` (ITEMS items each, no TTL),
#      SESSIONS strings `session:<hex>` (SETEX 3600) and PRODUCTS strings
#      `cache:product:N` (SETEX 600); the save point's automatic BGSAVE
#      writes dump.rdb, which is copied out (the file kept beside the log:
#      what a restart would have loaded during the outage);
#   2. pids.max is set to the number of tasks already in the cgroup (a
#      container's pids limit reached), so fork() fails with EAGAIN;
#   3. a writer adds one new feed and one session every 20 ms for
#      WRITE_SEC s: the save point fires, the BGSAVE cannot fork, and from
#      then on every write gets -MISCONF while the server retries the
#      BGSAVE every 5 s (the replies are counted in steps.txt);
#   4. pids.max is set back to `max`: the next retry forks and succeeds,
#      writes are accepted again; the writer stops after WRITE_SEC s more;
#   5. SHUTDOWN NOSAVE.
#
# Output: debian-7.0.15/{redis.log,steps.txt} (the log verbatim) and
# beside that directory, debian-7.0.15.rdb (the dump.rdb of step 1).
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
PORT=18780
FEEDS=${FEEDS:-1500}
ITEMS=${ITEMS:-20}
SESSIONS=${SESSIONS:-2000}
PRODUCTS=${PRODUCTS:-1000}
WRITE_SEC=${WRITE_SEC:-16}
CG=/sys/fs/cgroup/pids/redsleuth-18
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/${OUT_NAME:-debian-7.0.15}"
TMP=$(mktemp -d /tmp/redsleuth-18-fork-failed-misconf.XXXXXX)
PID=
WRITER=

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

if cli ping >/dev/null 2>&1; then
    echo "port $PORT is already in use" >&2
    exit 1
fi
if [ -e "$CG" ]; then
    echo "$CG already exists" >&2
    exit 1
fi

# RESP over one socket; `load` writes the families of step 1 (pipelined),
# `write` one new feed and one session every 20 ms until SIGTERM, counting
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
counts, first, last = {}, {}, {}
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
        first.setdefault(word, time.strftime("%H:%M:%S"))
        last[word] = time.strftime("%H:%M:%S")
def feed(n):
    return cmd("RPUSH", "user:%d:feed" % n,
               *["post:%d:%d" % (n * 7919 % 100003, k) for k in range(items)])
def session(k):
    return cmd("SETEX", "session:" + hashlib.sha1(b"%d" % k).hexdigest()[:16],
               3600, "uid=%d;csrf=%s" % (k, hashlib.md5(b"%d" % k).hexdigest()))
if mode == "load":
    for a in range(0, feeds, 100):
        send([feed(k) for k in range(a, min(a + 100, feeds))])
    for a in range(0, sessions, 100):
        send([session(k) for k in range(a, min(a + 100, sessions))])
    for a in range(0, products, 100):
        send([cmd("SETEX", "cache:product:%d" % k, 600,
                  '{"id":%d,"price":%d,"stock":%d}' % (k, k * 13 % 997, k % 50))
              for k in range(a, min(a + 100, products))])
else:
    n = 0
    while not stop:
        send([feed(feeds + n), session(sessions + n)])
        n += 1
        time.sleep(0.02)
with open(out, "w") as f:
    for k in sorted(counts):
        f.write("%s %d first at %s last at %s\n" % (k, counts[k], first[k], last[k]))
PY

cat >"$TMP/redis.conf" <<CONF
bind 127.0.0.1
port $PORT
daemonize no
dir $TMP
dbfilename dump.rdb
save "5 100"
stop-writes-on-bgsave-error yes
appendonly no
loglevel notice
logfile $TMP/redis.log
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
step "server started pid $PID in $CG (save \"$(cli config get save | tail -1)\", appendonly no)"

# 1. The families; the save point's BGSAVE writes dump.rdb.
python3 "$TMP/client.py" load $PORT "$TMP/load.txt" "$FEEDS" "$ITEMS" "$SESSIONS" "$PRODUCTS"
step "loaded: $(tr '\n' ';' <"$TMP/load.txt"); dbsize $(cli dbsize), used_memory $(info memory used_memory_human)"
for _ in $(seq 1 200); do
    [ "$(info persistence rdb_changes_since_last_save)" = 0 ] && [ "$(info persistence rdb_bgsave_in_progress)" = 0 ] && break
    sleep 0.1
done
if [ "$(info persistence rdb_changes_since_last_save)" != 0 ]; then
    echo "the save point did not save the load" >&2
    exit 1
fi
cp "$TMP/dump.rdb" "$TMP/dump-kept.rdb"
step "automatic BGSAVE done: rdb_last_bgsave_status $(info persistence rdb_last_bgsave_status), dump.rdb $(stat -c %s "$TMP/dump.rdb") bytes, rdb_last_save_time $(info persistence rdb_last_save_time), copied"

# 2. No new task can be created in the cgroup.
CUR=$(cat "$CG/pids.current")
NTASKS=$(grep -c . "$CG/tasks")
if [ "$CUR" != "$NTASKS" ]; then
    echo "pids.current $CUR but $NTASKS tasks" >&2
    exit 1
fi
echo "$CUR" >"$CG/pids.max"
step "pids.max set to $(cat "$CG/pids.max") (pids.current $(cat "$CG/pids.current"))"

# 3. Writes while the save point's BGSAVE cannot fork.
python3 "$TMP/client.py" write $PORT "$TMP/write.txt" "$FEEDS" "$ITEMS" "$SESSIONS" 0 &
WRITER=$!
step "writer pid $WRITER started (every 20 ms: RPUSH of $ITEMS items to a new user:N:feed from user:$FEEDS:feed, SETEX of a new session)"
sleep "$WRITE_SEC"
FAILED=$(grep -c "Can't save in background: fork: Resource temporarily unavailable" "$TMP/redis.log" || true)
step "after $WRITE_SEC s: rdb_last_bgsave_status $(info persistence rdb_last_bgsave_status), rdb_changes_since_last_save $(info persistence rdb_changes_since_last_save), probe SET: $(cli set probe 1 2>&1); $FAILED fork failure line(s) in the log; pids.events: $(tr '\n' ' ' <"$CG/pids.events")"
if [ "$FAILED" -lt 2 ]; then
    echo "fork did not fail twice ($FAILED)" >&2
    exit 1
fi

# 4. The limit lifted: the next retry succeeds.
echo max >"$CG/pids.max"
step "pids.max set back to $(cat "$CG/pids.max")"
sleep "$WRITE_SEC"
kill "$WRITER"
wait "$WRITER" || true
WRITER=
step "writer stopped: $(tr '\n' ';' <"$TMP/write.txt" | sed 's/;$//; s/;/; /g')"
step "rdb_last_bgsave_status $(info persistence rdb_last_bgsave_status), dbsize $(cli dbsize), probe SET: $(cli set probe 2 2>&1)"

# 5. Stop.
cli shutdown nosave >/dev/null 2>&1 || true
wait "$PID" || true
step "server pid $PID stopped with SHUTDOWN NOSAVE"
PID=
rmdir "$CG"

mkdir -p "$OUT"
cp "$TMP/redis.log" "$OUT/redis.log"
cp "$TMP/steps.txt" "$OUT/steps.txt"
cp -p "$TMP/dump-kept.rdb" "$OUT.rdb"
