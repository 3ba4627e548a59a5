#!/usr/bin/env bash
# logs-fleet.sh [NODES="2 4"] [SIZE=0.5] [OUT=benches/results/<date>-vm-logs-fleet.md]
#
# Whole-process benchmark of `redsleuth logs` on a fleet: N nodes' logs of
# the same hours, laid out as a fleet's archive is (node-K/redis.log.gz),
# each the gzip archive `gen-big-logs.sh SIZE` makes (hard links of one
# file, so N nodes cost no disk). The floor is decompressing every file
# once, as many at a time as there are cores
# (`xargs -P nproc … zcat FILE | wc -l`). With BASE set to another build,
# it runs side by side in the same run (say, one from before the lanes,
# which read a fleet's files one after the other). Each command runs RUNS
# times (default 3); the table holds medians of wall time and of peak RSS
# as /usr/bin/time reports it, and the windows the analysis took.
#
# Environment: BIN (default target/release/redsleuth), BASE, GEN, WORK
# (default /tmp/redsleuth-logs-fleet), RUNS, KEEP=1 keeps the archive.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/measure.sh
need_time
NODES=${1:-"2 4"}
SIZE=${2:-0.5}
OUT=${3:-benches/results/$(date -u +%Y-%m-%d)-vm-logs-fleet.md}
BIN=${BIN:-target/release/redsleuth}
GEN=${GEN:-../shared/corpus/gen-big-logs.sh}
WORK=${WORK:-/tmp/redsleuth-logs-fleet}
RUNS=${RUNS:-3}
[ -x "$BIN" ] || cargo build --release
[ -f "$GEN" ] || { echo "no generator at $GEN (set GEN=)" >&2; exit 2; }

mib() { echo $(($1 / 1024)); }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}x')" "$1" "$2"; }
windows() {
  "$1" logs --quiet --format json "$2" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["metrics"]["windows"])'
}

src="$WORK/src/redis-big.log.gz"
if [ ! -s "$src" ]; then
  bash "$GEN" "$SIZE" "$WORK/src" >&2
fi
srcbytes=$(stat -c %s "$src")
rows=()
for n in $NODES; do
  fleet="$WORK/fleet-$n"
  rm -rf "$fleet"
  for k in $(seq "$n"); do
    mkdir -p "$fleet/node-$k"
    ln "$src" "$fleet/node-$k/redis.log.gz"
  done
  cat "$src" > /dev/null # warm the page cache
  echo "$n nodes: measuring ($RUNS runs each)" >&2
  read -r pw pr < <(measure "$RUNS" sh -c \
    'find "$1" -name "*.gz" | xargs -P "$(nproc)" -I{} sh -c "zcat {} | wc -l"' zcat "$fleet")
  for bin in "$BIN" ${BASE:+"$BASE"}; do
    read -r lw lr < <(measure "$RUNS" "$bin" logs --quiet --format json "$fleet")
    rows+=("| $n | $(basename "$bin") | $lw | $(mib "$lr") | $(windows "$bin" "$fleet") | $pw | $(ratio "$lw" "$pw") |")
  done
  rm -rf "$fleet"
done
[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK/src"

{
  echo "# redsleuth logs on a fleet, $(nproc) cores, median of $RUNS, warm cache, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Each node's log is the gzip archive of \`gen-big-logs.sh $SIZE\` ($srcbytes bytes), all of the same hours;"
  echo "\`logs --quiet --format json FLEET_DIR\`, output to /dev/null. Peak RSS is /usr/bin/time's maximum resident set."
  echo "The floor decompresses every file once, \`nproc\` at a time."
  echo
  echo "| nodes | build | logs wall [s] | logs peak RSS [MiB] | windows | floor wall [s] | logs / floor |"
  echo "|---:|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} > "$OUT"
cat "$OUT"
