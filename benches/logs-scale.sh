#!/usr/bin/env bash
# logs-scale.sh [SIZES="0.5 1 4"] [OUT=benches/results/<date>-vm-logs.md]
#
# Whole-process scale benchmark of `redsleuth logs` on archives made by
# ../shared/corpus/gen-big-logs.sh (every scenario log of the corpus replayed
# with shifted times and pids), side by side with the tools that set the
# floor: `grep -c fork FILE` for a plain file (one pass over the bytes) and
# `zcat FILE | wc -l` for its gzip copy (one decompression). Each command runs
# RUNS times (default 3) in the same run, warm cache; the table holds the
# medians of wall time and of peak RSS as /usr/bin/time reports it
# (file-backed pages of a memory map count). GNU grep whose output is
# /dev/null stops at the first match, so the peers write into a pipe.
#
# Environment: BIN (default target/release/redsleuth), GEN (the generator),
# WORK (where archives are made; default /tmp/redsleuth-logs-scale, several
# GB free needed), RUNS, KEEP=1 keeps the archives.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/measure.sh
need_time
SIZES=${1:-"0.5 1 4"}
OUT=${2:-benches/results/$(date -u +%Y-%m-%d)-vm-logs.md}
BIN=${BIN:-target/release/redsleuth}
GEN=${GEN:-../shared/corpus/gen-big-logs.sh}
WORK=${WORK:-/tmp/redsleuth-logs-scale}
RUNS=${RUNS:-3}
[ -x "$BIN" ] || cargo build --release
[ -f "$GEN" ] || { echo "no generator at $GEN (set GEN=)" >&2; exit 2; }

gb() { python3 -c "import sys; print(f'{int(sys.argv[1]) / float(sys.argv[2]) / 1e9:.2f}')" "$1" "$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}x')" "$1" "$2"; }
mib() { echo $(($1 / 1024)); }

rows=()
for size in $SIZES; do
  dir="$WORK/$size"
  if [ ! -s "$dir/redis-big.log.gz" ]; then
    bash "$GEN" "$size" "$dir" >&2
  fi
  plain="$dir/redis-big.log"
  gz="$dir/redis-big.log.gz"
  bytes=$(stat -c %s "$plain")
  gzbytes=$(stat -c %s "$gz")
  cat "$plain" "$gz" > /dev/null # warm the page cache
  echo "size $size GiB: measuring ($RUNS runs each)" >&2
  read -r lw lr < <(measure "$RUNS" "$BIN" logs --quiet --format json "$plain")
  # Through a pipe: GNU grep writing to /dev/null stops at the first match.
  read -r gw gr < <(measure "$RUNS" sh -c 'grep -c fork "$1" | cat' grep "$plain")
  read -r zw zr < <(measure "$RUNS" "$BIN" logs --quiet --format json "$gz")
  read -r cw cr < <(measure "$RUNS" sh -c 'zcat "$1" | wc -l' zcat "$gz")
  rows+=("| $size | plain $bytes | $lw | $(gb "$bytes" "$lw") | $(mib "$lr") | \`grep -c fork\` $gw | $(ratio "$lw" "$gw") |")
  rows+=("| $size | gzip $gzbytes | $zw | $(gb "$bytes" "$zw") | $(mib "$zr") | \`zcat \| wc -l\` $cw | $(ratio "$zw" "$cw") |")
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
done

{
  echo "# redsleuth logs at archive scale, $(nproc) cores, median of $RUNS, warm cache, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Archives from \`gen-big-logs.sh SIZE\`; \`logs --quiet --format json\`, output to /dev/null."
  echo "GB/s is decompressed bytes over wall time. Peak RSS is /usr/bin/time's maximum resident set."
  echo
  echo "| GiB | input [bytes] | logs wall [s] | GB/s | logs peak RSS [MiB] | peer wall [s] | logs / peer |"
  echo "|---|---|---:|---:|---:|---|---:|"
  printf '%s\n' "${rows[@]}"
} > "$OUT"
cat "$OUT"
