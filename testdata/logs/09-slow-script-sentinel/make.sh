#!/usr/bin/env bash
# Scenario 09: a slow Lua script blocks the primary's event loop while three
# sentinels watch it (rule FC12: blocked event loop -> false failure
# detection).
#
# Uses the Debian package's /usr/bin/redis-server (Redis 7.0.15) unless
# SERVER names another server binary (e.g. a valkey-server, which is also
# run with --sentinel for the sentinels), loopback only, ports 18600-18619:
#   18600 primary, 18601 replica, 18610-18612 sentinels (quorum 2,
#   down-after-milliseconds 1000, failover-timeout 10000).
# Every server runs in a temp dir and is stopped by its PID before the script
# exits. The logs are copied verbatim to debian-7.0.15/ next to this script
# (or to $OUT_NAME/ if set, e.g. SERVER=/path/valkey-server
# OUT_NAME=valkey-9.1.2 ./make.sh), with steps.txt (wall-clock time and what
# the script did).
set -euo pipefail

SERVER=${SERVER:-/usr/bin/redis-server}
CLI=/usr/bin/redis-cli
HOST=127.0.0.1
P_PRIMARY=18600
P_REPLICA=18601
P_SENTINELS=(18610 18611 18612)
SCRIPT_SECONDS=5

HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/${OUT_NAME:-debian-7.0.15}"
WORK=$(mktemp -d /tmp/redsleuth-09.XXXXXX)
STEPS="$WORK/steps.txt"
: >"$STEPS"

declare -A PIDS=() # name -> pid
declare -A PORTS=( [primary]=$P_PRIMARY [replica]=$P_REPLICA
    [sentinel-1]=${P_SENTINELS[0]} [sentinel-2]=${P_SENTINELS[1]}
    [sentinel-3]=${P_SENTINELS[2]} )
EVAL_PID=""

step() { echo "$(date +%H:%M:%S) $*" | tee -a "$STEPS"; }
cli() { "$CLI" -h "$HOST" -p "$1" "${@:2}"; }
alive() { kill -0 "$1" 2>/dev/null; }

# Stop one process by its PID: SHUTDOWN NOSAVE first, SIGKILL after 10 s.
stop_one() {
    local name=$1 pid=${PIDS[$1]:-}
    [[ -n $pid ]] || return 0
    if alive "$pid"; then
        cli "${PORTS[$name]}" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
        for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
        if alive "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
            echo "$(date +%H:%M:%S) $name pid $pid did not exit, SIGKILLed" >>"$STEPS"
        fi
    fi
    wait "$pid" 2>/dev/null || true
    unset "PIDS[$name]"
}

cleanup() {
    if [[ -n $EVAL_PID ]] && alive "$EVAL_PID"; then kill "$EVAL_PID" 2>/dev/null || true; fi
    for n in sentinel-1 sentinel-2 sentinel-3 replica primary; do stop_one "$n"; done
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() { # seconds, command...
    local t=$1; shift
    for _ in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done
    echo "timeout waiting for: $*" >&2
    return 1
}

# Refuse to run if any port of the range is already taken.
for p in $(seq 18600 18619); do
    if (echo >"/dev/tcp/$HOST/$p") 2>/dev/null; then
        echo "port $p is in use; aborting" >&2
        exit 1
    fi
done

start_data_node() { # name port [replicaof-port]
    local name=$1 port=$2 d="$WORK/$1"
    mkdir -p "$d"
    {
        echo "port $port"
        echo "bind $HOST"
        echo "daemonize no"
        echo "dir $d"
        echo "logfile $d/$name.log"
        echo "loglevel notice"
        echo "save \"\""
        echo "appendonly no"
        if [[ -n ${3:-} ]]; then echo "replicaof $HOST $3"; fi
    } >"$d/redis.conf"
    "$SERVER" "$d/redis.conf" &
    PIDS[$name]=$!
    wait_for 10 sh -c "'$CLI' -h $HOST -p $port PING 2>/dev/null | grep -q PONG"
    step "$name started on :$port pid ${PIDS[$name]}"
}

start_sentinel() { # name port
    local name=$1 port=$2 d="$WORK/$1"
    mkdir -p "$d"
    cat >"$d/sentinel.conf" <<EOF
port $port
bind $HOST
daemonize no
protected-mode no
dir $d
logfile $d/$name.log
loglevel notice
sentinel monitor mymaster $HOST $P_PRIMARY 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 10000
sentinel parallel-syncs mymaster 1
EOF
    "$SERVER" "$d/sentinel.conf" --sentinel &
    PIDS[$name]=$!
    wait_for 10 sh -c "'$CLI' -h $HOST -p $port PING 2>/dev/null | grep -q PONG"
    step "$name started on :$port pid ${PIDS[$name]}"
}

start_data_node primary $P_PRIMARY
start_data_node replica $P_REPLICA $P_PRIMARY
wait_for 20 sh -c "'$CLI' -h $HOST -p $P_REPLICA INFO replication | grep -q 'master_link_status:up'"
step "replica in sync with the primary"

for i in 1 2 3; do start_sentinel "sentinel-$i" "${P_SENTINELS[$((i - 1))]}"; done
sentinels_ready() {
    local p
    for p in "${P_SENTINELS[@]}"; do
        local m
        m=$("$CLI" -h $HOST -p "$p" SENTINEL MASTER mymaster 2>/dev/null | tr -d '\r') || return 1
        grep -A1 -x 'num-other-sentinels' <<<"$m" | tail -1 | grep -qx 2 || return 1
        grep -A1 -x 'num-slaves' <<<"$m" | tail -1 | grep -qx 1 || return 1
    done
}
wait_for 40 sentinels_ready
step "each sentinel sees the replica and the 2 other sentinels"

for i in $(seq 1 2000); do echo "SET user:$i value-$i"; done | cli $P_PRIMARY >/dev/null
step "wrote 2000 keys (user:1..user:2000) on the primary, dbsize $(cli $P_PRIMARY DBSIZE)"
synced() {
    local info
    info=$(cli $P_PRIMARY INFO replication | tr -d '\r')
    local off
    off=$(sed -n 's/^master_repl_offset://p' <<<"$info")
    grep -q "^slave0:.*offset=$off," <<<"$info"
}
wait_for 10 synced
step "replica acknowledged the primary's offset"
sleep 3

cli $P_PRIMARY CONFIG SET busy-reply-threshold 500 >/dev/null
step "primary: CONFIG SET busy-reply-threshold 500"

LUA="local t = redis.call('TIME')
local start = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n = 0
while true do
  n = n + 1
  local now = redis.call('TIME')
  if tonumber(now[1]) + tonumber(now[2]) / 1000000 - start >= tonumber(ARGV[1]) then break end
end
return n"
cli $P_PRIMARY EVAL "$LUA" 0 $SCRIPT_SECONDS >"$WORK/eval-reply.txt" 2>&1 &
EVAL_PID=$!
step "primary: EVAL busy loop of $SCRIPT_SECONDS s started (loops on redis.call('TIME'))"

# Let the script run its course; kill it only if it is still running later
# than expected.
for _ in $(seq $(((SCRIPT_SECONDS + 5) * 10))); do alive "$EVAL_PID" || break; sleep 0.1; done
if alive "$EVAL_PID"; then
    step "EVAL still running after $((SCRIPT_SECONDS + 5)) s: SCRIPT KILL -> $(cli $P_PRIMARY SCRIPT KILL 2>&1)"
fi
wait "$EVAL_PID" || true
EVAL_PID=""
step "EVAL returned: $(tr '\n' ' ' <"$WORK/eval-reply.txt" | sed 's/ *$//')"

sleep 8
for p in "${P_SENTINELS[@]}"; do
    step "sentinel :$p get-master-addr-by-name mymaster -> $(cli "$p" SENTINEL GET-MASTER-ADDR-BY-NAME mymaster | tr '\n' ' ' | sed 's/ *$//')"
done
for n in primary replica; do
    step "$n :${PORTS[$n]} $(cli "${PORTS[$n]}" INFO replication | tr -d '\r' | grep -E '^(role|master_port|master_link_status|connected_slaves):' | tr '\n' ' ' | sed 's/ *$//')"
done

for n in sentinel-1 sentinel-2 sentinel-3 replica primary; do
    pid=${PIDS[$n]}
    stop_one "$n"
    step "$n pid $pid stopped (SHUTDOWN NOSAVE)"
done

mkdir -p "$OUT"
for n in primary replica sentinel-1 sentinel-2 sentinel-3; do
    cp "$WORK/$n/$n.log" "$OUT/$n.log"
done
cp "$STEPS" "$OUT/steps.txt"
echo "logs written to $OUT"
