#!/usr/bin/env bash
# Whole-process figures of `check`, `rdb` and `keys` on generated dumps,
# against the rdb crate and `cat`: every command runs once per round, RUNS
# rounds in turn (so a noisy neighbour slows all of them alike), and the
# table gives the median wall, throughput, peak RSS as /usr/bin/time reports
# it (file-backed pages of the map count) and the rdb crate's wall over
# each one's.
#
#   benches/rdb-scale.sh [RUNS=3] DUMP.rdb...
#
# Dumps come from ../shared/corpus/gen-big-rdb.sh (`gen-big-rdb.sh 2 big-2g.rdb`).
# `rdb` also runs on one core (`taskset -c 0 … --threads 1`): its wall over
# the two-core wall is what the second core gives, since with `--threads 1`
# the framer, checksum and sink threads still use both cores.
# The rdb crate installs on first use under ${PEERS:-~/.cache/redsleuth-peers}.
# Results go to benches/results/<date>-<host>-rdb-scale.md.
set -euo pipefail
RUNS=3
if [[ ${1:-} =~ ^[0-9]+$ ]]; then RUNS=$1; shift; fi
[ $# -gt 0 ] || { echo "usage: rdb-scale.sh [RUNS] DUMP.rdb..." >&2; exit 2; }
dumps=()
for d in "$@"; do dumps+=("$(realpath "$d")"); done
cd "$(dirname "$0")/.."
# shellcheck source=benches/measure.sh
. benches/measure.sh
need_time
command -v taskset >/dev/null || { apt-get update -qq && apt-get install -y -qq util-linux >/dev/null; }
cargo build --release --quiet
BIN=$PWD/target/release/redsleuth
PEERS=${PEERS:-$HOME/.cache/redsleuth-peers}
mkdir -p "$PEERS"
[ -x "$PEERS/bin/rdb" ] || cargo install --quiet --locked rdb --root "$PEERS"

mkdir -p benches/results
out=benches/results/$(date +%Y-%m-%d)-$(hostname)-rdb-scale.md
tf=$(mktemp)
trap 'rm -f "$tf"' EXIT
{
  echo "# Generated dumps, $(nproc) cores, median of $RUNS in turn, warm cache, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "At $(git rev-parse --short HEAD 2>/dev/null || echo '?'). The rdb crate is \`cargo install rdb\`, \`-f nil\` (parse only)."
  echo
  echo "| dump | command | wall [s] | GB/s | peak RSS [MiB] | rdb crate / this |"
  echo "|---|---|---:|---:|---:|---:|"
} > "$out"
for dump in "${dumps[@]}"; do
  size=$(stat -c %s "$dump")
  names=("cat" "redsleuth check" "redsleuth rdb --format json"
    "redsleuth rdb --format json --threads 1"
    "redsleuth rdb --format json, one core"
    "redsleuth keys --format ndjson" "rdb crate -f nil")
  # Shell-quoted, so paths with spaces survive the eval below.
  q() { printf '%q ' "$@"; }
  cmds=("$(q cat "$dump")"
    "$(q "$BIN" check --quiet "$dump")"
    "$(q "$BIN" rdb --quiet --format json "$dump")"
    "$(q "$BIN" rdb --quiet --format json --threads 1 "$dump")"
    "$(q taskset -c 0 "$BIN" rdb --quiet --format json --threads 1 "$dump")"
    "$(q "$BIN" keys --quiet --format ndjson "$dump")"
    "$(q "$PEERS/bin/rdb" -f nil "$dump")")
  declare -A walls=() rsss=()
  for _ in $(seq "$RUNS"); do
    for i in "${!cmds[@]}"; do
      eval "/usr/bin/time -o \"\$tf\" -f '%e %M' ${cmds[$i]}" > /dev/null 2>&1 || true
      read -r w r < <(tail -1 "$tf")
      walls[$i]="${walls[$i]:-} $w"; rsss[$i]="${rsss[$i]:-} $r"
    done
  done
  crate=$(python3 -c 'import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))' ${walls[6]})
  for i in "${!cmds[@]}"; do
    # shellcheck disable=SC2086
    python3 -c '
import statistics, sys
name, size, crate, n = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
vals = sys.argv[5:]
w = statistics.median(map(float, vals[:n]))
r = statistics.median(map(float, vals[n:]))
print(f"| {size / 2**30:.1f} GiB | {name} | {w:.2f} | {size / w / 1e9:.2f} | {r / 1024:.0f} | {crate / w:.2f}x |")' \
      "${names[$i]}" "$size" "$crate" "$RUNS" ${walls[$i]} ${rsss[$i]} >> "$out"
  done
  unset walls rsss
done
cat "$out"
