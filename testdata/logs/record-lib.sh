# Helpers shared by the replication recordings' make.sh (scenarios 19-21),
# sourced after each script sets CLI, SERVER and TMP: start servers on
# loopback, wait for them and for log lines, stop them by PID.

stop_pid() { # pid port
    local pid=$1 port=$2
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    "$CLI" -h 127.0.0.1 -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
step() { echo "$(date +%H:%M:%S.%3N) $*" | tee -a "$TMP/steps.txt" >&2; }
cli() { local p=$1; shift; "$CLI" -h 127.0.0.1 -p "$p" "$@"; }
wait_ready() {
    for _ in $(seq 100); do
        [ "$(cli "$1" PING 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    echo "server on :$1 did not start" >&2; return 1
}
wait_log() { # file pattern
    for _ in $(seq 300); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "no '$2' in $1" >&2; return 1
}
start() { # name port -> sets LAST_PID
    "$SERVER" "$TMP/$1/redis.conf" &
    LAST_PID=$!
    wait_ready "$2"
}
