#!/usr/bin/env bash
# Whole-process comparison against other RDB analyzers, side by side in one
# run (hyperfine medians), plus peak RSS of one run each.
#
#   benches/compare-peers.sh DUMP.rdb [RUNS]
#
# Peers are used when installed: redis-rdb-tools (`pip install rdbtools
# python-lzf`, command `rdb`), HDT3213/rdb (`rdb` Go binary, set RDB_GO=path),
# rdr (set RDR=path). Results go to benches/results/<date>-<host>.md.
set -euo pipefail
DUMP=${1:?usage: compare-peers.sh DUMP.rdb [RUNS]}
RUNS=${2:-5}
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/redsleuth
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }

cmds=(
  "$BIN check --quiet $DUMP"
  "$BIN rdb --quiet $DUMP"
  "$BIN keys --quiet $DUMP"
)
names=("redsleuth check" "redsleuth rdb" "redsleuth keys")
if command -v rdb >/dev/null && rdb --help 2>&1 | grep -q -- '--command'; then
  cmds+=("rdb --command memory $DUMP")
  names+=("redis-rdb-tools memory")
fi
if [ -n "${RDB_GO:-}" ]; then
  cmds+=("$RDB_GO -c memory -o /dev/null $DUMP")
  names+=("HDT3213/rdb memory")
fi
if [ -n "${RDR:-}" ]; then
  cmds+=("$RDR keys $DUMP")
  names+=("rdr keys")
fi

mkdir -p benches/results
out=benches/results/$(date +%Y-%m-%d)-$(hostname).md
{
  echo "# $(basename "$DUMP") ($(stat -c %s "$DUMP") bytes), $(nproc) cores, $RUNS runs, warm cache"
  echo
} > "$out"
args=()
for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine --warmup 1 --runs "$RUNS" --export-json /tmp/peers.json --output=null "${args[@]}"
python3 - "$out" <<'PY'
import json, statistics, sys
r = json.load(open("/tmp/peers.json"))["results"]
base = statistics.median(r[0]["times"])
with open(sys.argv[1], "a") as f:
    f.write("| command | median [ms] | min [ms] | max [ms] | vs first |\n|---|---:|---:|---:|---:|\n")
    for x in r:
        m = statistics.median(x["times"])
        f.write(f"| {x['command']} | {m*1000:.1f} | {min(x['times'])*1000:.1f} | {max(x['times'])*1000:.1f} | {m/base:.2f}x |\n")
PY
echo >> "$out"
echo "| command | peak RSS (KiB) |" >> "$out"
echo "|---|---:|" >> "$out"
for i in "${!cmds[@]}"; do
  rss=$( { /usr/bin/time -f "%M" ${cmds[$i]} > /dev/null; } 2>&1 | tail -1 )
  echo "| ${names[$i]} | $rss |" >> "$out"
done
cat "$out"
