#!/usr/bin/env bash
# Scenario 16: a slow Lua script blocks a cluster primary's event loop long
# enough for the other nodes to mark it failing and for its replica to win a
# failover election (rule FC12: blocked event loop -> false failure
# detection; rule FC9: cluster failover whose root cause is the stall).
#
# Uses the Debian package's /usr/bin/redis-server (Redis 7.0.15) unless
# SERVER names another server binary, loopback only, ports 18740-18759 (the
# cluster bus uses port+10000, 28740-28759):
#   18740-18745 six cluster nodes (`cluster-node-timeout 1000`), created
#   with `redis-cli --cluster create ... --cluster-replicas 1`.
# The primary that serves slot 0 gets `busy-reply-threshold 500` and runs an
# EVAL busy loop of SCRIPT_SECONDS (6 s) that checks redis.call('TIME'); the
# script is left to finish on its own (SCRIPT KILL only if it runs 5 s
# longer than expected). The script then waits for the old primary to
# rejoin as a replica of its former replica.
#
# Why the loop has two phases: while a script runs, Redis only serves other
# connections (the -BUSY replies, and the cluster bus, whose PINGs it keeps
# answering) from the Lua count hook, which runs every 100000 Lua
# instructions, and only once busy-reply-threshold has passed. A first run with a
# plain loop of cheap iterations (about a million per second) answered the
# cluster bus all along: "Slow script detected" was logged and nobody marked
# the node failing. So the loop iterates cheaply for the first
# CHEAP_SECONDS (0.6 s: the hook fires, "Slow script detected" is logged
# after ~500 ms) and then builds a 1 MB string (string.rep) on each
# iteration, about 8 ms each on the machine that produced these logs: 100000
# instructions are then tens of seconds away, so the hook fires at most once
# more and the event loop is blocked for real until the script returns.
# Every server runs in a temp dir and is stopped by its PID before the script
# exits. The logs are copied verbatim to debian-7.0.15/node-<port>.log next
# to this script (or to $OUT_NAME/ if set), with steps.txt (wall-clock time
# and what the script did).
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
HOST=127.0.0.1
PORTS=(18740 18741 18742 18743 18744 18745)
SCRIPT_SECONDS=${SCRIPT_SECONDS:-6}
CHEAP_SECONDS=${CHEAP_SECONDS:-0.6}

HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/${OUT_NAME:-debian-7.0.15}"
WORK=$(mktemp -d /tmp/redsleuth-16.XXXXXX)
STEPS="$WORK/steps.txt"
: >"$STEPS"

declare -A PIDS=() # port -> pid
EVAL_PID=""

step() { echo "$(date +%H:%M:%S) $*" | tee -a "$STEPS"; }
cli() { "$CLI" -h "$HOST" -p "$1" "${@:2}"; }
alive() { kill -0 "$1" 2>/dev/null; }

# Stop one server by its PID: SHUTDOWN NOSAVE first, SIGKILL after 10 s.
stop_one() {
    local port=$1 pid=${PIDS[$1]:-}
    [[ -n $pid ]] || return 0
    if alive "$pid"; then
        cli "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
        for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
        if alive "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
            echo "$(date +%H:%M:%S) node :$port pid $pid did not exit, SIGKILLed" >>"$STEPS"
        fi
    fi
    wait "$pid" 2>/dev/null || true
    unset "PIDS[$port]"
}

cleanup() {
    if [[ -n $EVAL_PID ]] && alive "$EVAL_PID"; then kill "$EVAL_PID" 2>/dev/null || true; fi
    for p in "${PORTS[@]}"; do stop_one "$p"; done
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() { # seconds, command...
    local t=$1; shift
    for _ in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done
    echo "timeout waiting for: $*" >&2
    return 1
}

# Refuse to run if any client or cluster bus port of the range is taken.
for p in $(seq 18740 18759) $(seq 28740 28759); do
    if (echo >"/dev/tcp/$HOST/$p") 2>/dev/null; then
        echo "port $p is in use; aborting" >&2
        exit 1
    fi
done

start_node() { # port
    local port=$1 d="$WORK/node-$1"
    mkdir -p "$d"
    {
        echo "port $port"
        echo "bind $HOST"
        echo "daemonize no"
        echo "dir $d"
        echo "logfile $d/node-$port.log"
        echo "loglevel notice"
        echo "save \"\""
        echo "appendonly no"
        echo "cluster-enabled yes"
        echo "cluster-config-file nodes.conf"
        echo "cluster-node-timeout 1000"
    } >"$d/redis.conf"
    "$SERVER" "$d/redis.conf" &
    PIDS[$port]=$!
    wait_for 10 sh -c "'$CLI' -h $HOST -p $port PING 2>/dev/null | grep -q PONG"
    step "node :$port started pid ${PIDS[$port]} id $(cli "$port" CLUSTER MYID)"
}

for p in "${PORTS[@]}"; do start_node "$p"; done

addrs=()
for p in "${PORTS[@]}"; do addrs+=("$HOST:$p"); done
"$CLI" --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$WORK/create.txt" 2>&1
step "redis-cli --cluster create ${addrs[*]} --cluster-replicas 1 --cluster-yes"

cluster_ok() {
    local p
    for p in "${PORTS[@]}"; do
        cli "$p" CLUSTER INFO 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok' || return 1
        cli "$p" CLUSTER INFO 2>/dev/null | tr -d '\r' | grep -qx 'cluster_known_nodes:6' || return 1
    done
}
wait_for 60 cluster_ok
step "cluster_state:ok and cluster_known_nodes:6 on every node"

# The primary serving slot 0 is blocked; find it and its replica.
BLOCKED_ID=$(cli "${PORTS[0]}" CLUSTER NODES | awk '$3 ~ /master/ && $9 ~ /^0-/ {print $1}')
BLOCKED_PORT=$(cli "${PORTS[0]}" CLUSTER NODES | awk -v id="$BLOCKED_ID" '$1 == id {split($2, a, "[:@]"); print a[2]}')
REPLICA_ID=$(cli "${PORTS[0]}" CLUSTER NODES | awk -v id="$BLOCKED_ID" '$4 == id {print $1}')
REPLICA_PORT=$(cli "${PORTS[0]}" CLUSTER NODES | awk -v id="$REPLICA_ID" '$1 == id {split($2, a, "[:@]"); print a[2]}')
[[ -n $BLOCKED_PORT && -n $REPLICA_PORT ]]
step "primary of slot 0: :$BLOCKED_PORT id $BLOCKED_ID; its replica: :$REPLICA_PORT id $REPLICA_ID"
cli "${PORTS[0]}" CLUSTER NODES | tr -d '\r' | sort -k2 >"$WORK/nodes-before.txt"
while read -r line; do step "  $line"; done <"$WORK/nodes-before.txt"

replicas_synced() {
    local p
    for p in "${PORTS[@]}"; do
        local info
        info=$(cli "$p" INFO replication | tr -d '\r')
        grep -qx 'role:master' <<<"$info" || continue
        local off
        off=$(sed -n 's/^master_repl_offset://p' <<<"$info")
        grep -q "^slave0:.*state=online,offset=$off," <<<"$info" || return 1
    done
}
wait_for 30 replicas_synced
step "every replica online"

for i in $(seq 1 3000); do echo "SET user:$i value-$i"; done | "$CLI" -c -h $HOST -p "$BLOCKED_PORT" >/dev/null
sizes=""
for p in "${PORTS[@]}"; do sizes+=" :$p=$(cli "$p" DBSIZE)"; done
step "wrote 3000 keys (user:1..user:3000) with redis-cli -c; dbsize$sizes"
wait_for 10 replicas_synced
step "every replica acknowledged its primary's offset"
sleep 3

cli "$BLOCKED_PORT" CONFIG SET busy-reply-threshold 500 >/dev/null
step "node :$BLOCKED_PORT: CONFIG SET busy-reply-threshold 500"

LUA="local t = redis.call('TIME')
local start = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n = 0
while true do
  n = n + 1
  local now = redis.call('TIME')
  local elapsed = tonumber(now[1]) + tonumber(now[2]) / 1000000 - start
  if elapsed >= tonumber(ARGV[1]) then break end
  if elapsed >= tonumber(ARGV[2]) then local s = string.rep('x', 1048576) end
end
return n"
cli "$BLOCKED_PORT" EVAL "$LUA" 0 "$SCRIPT_SECONDS" "$CHEAP_SECONDS" >"$WORK/eval-reply.txt" 2>&1 &
EVAL_PID=$!
step "node :$BLOCKED_PORT: EVAL busy loop of $SCRIPT_SECONDS s started (loops on redis.call('TIME'), cheap iterations for $CHEAP_SECONDS s, then a 1 MB string.rep per iteration)"

for _ in $(seq $(((SCRIPT_SECONDS + 5) * 10))); do alive "$EVAL_PID" || break; sleep 0.1; done
if alive "$EVAL_PID"; then
    step "EVAL still running after $((SCRIPT_SECONDS + 5)) s: SCRIPT KILL -> $(cli "$BLOCKED_PORT" SCRIPT KILL 2>&1)"
fi
wait "$EVAL_PID" || true
EVAL_PID=""
step "EVAL returned: $(tr '\n' ' ' <"$WORK/eval-reply.txt" | sed 's/ *$//')"

rejoined() {
    local info
    info=$(cli "$BLOCKED_PORT" INFO replication | tr -d '\r')
    grep -qx 'role:slave' <<<"$info" && grep -qx "master_port:$REPLICA_PORT" <<<"$info" &&
        grep -qx 'master_link_status:up' <<<"$info"
}
if wait_for 30 rejoined; then
    step "node :$BLOCKED_PORT is a replica of :$REPLICA_PORT, link up"
else
    step "node :$BLOCKED_PORT did not rejoin as a replica of :$REPLICA_PORT within 30 s"
fi
wait_for 30 cluster_ok || true
sleep 3
for p in "$BLOCKED_PORT" "$REPLICA_PORT"; do
    step "node :$p $(cli "$p" INFO replication | tr -d '\r' | grep -E '^(role|master_port|master_link_status|connected_slaves):' | tr '\n' ' ' | sed 's/ *$//')"
done
step "cluster_state on :$BLOCKED_PORT: $(cli "$BLOCKED_PORT" CLUSTER INFO | tr -d '\r' | sed -n 's/^cluster_state://p'), current_epoch $(cli "$BLOCKED_PORT" CLUSTER INFO | tr -d '\r' | sed -n 's/^cluster_current_epoch://p')"
cli "${PORTS[0]}" CLUSTER NODES | tr -d '\r' | sort -k2 >"$WORK/nodes-after.txt"
while read -r line; do step "  $line"; done <"$WORK/nodes-after.txt"

for p in "${PORTS[@]}"; do
    pid=${PIDS[$p]}
    stop_one "$p"
    step "node :$p pid $pid stopped (SHUTDOWN NOSAVE)"
done

mkdir -p "$OUT"
for p in "${PORTS[@]}"; do
    cp "$WORK/node-$p/node-$p.log" "$OUT/node-$p.log"
done
cp "$STEPS" "$OUT/steps.txt"
echo "logs written to $OUT"
