#!/usr/bin/env bash
# What salvage costs: the same dump whole and with FAULTS seeded damages
# (8-byte deletions, evenly spread, seeded), read by `check` and
# `rdb --format json`, side by side in one run, median of RUNS, with peak RSS
# (`/usr/bin/time -v`, file-backed pages of the map included).
#
#   benches/salvage-cost.sh DUMP.rdb [FAULTS=10] [RUNS=3] [SEED=1]
#
# The damaged copy goes to $TMPDIR; results to benches/results/<date>-<host>-salvage.md.
set -euo pipefail
DUMP=${1:?usage: salvage-cost.sh DUMP.rdb [FAULTS] [RUNS] [SEED]}
FAULTS=${2:-10}
RUNS=${3:-3}
SEED=${4:-1}
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/redsleuth
DAMAGED=${TMPDIR:-/tmp}/salvage-cost-$$.rdb
trap 'rm -f "$DAMAGED"' EXIT
python3 - "$DUMP" "$DAMAGED" "$FAULTS" "$SEED" <<'PY'
import os, random, sys
src, dst, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
size = os.path.getsize(src)
rng = random.Random(seed)
# One fault in each of n equal slices of the body (header and trailer left
# alone), at a seeded place inside it: 8 bytes deleted there. An overwrite
# mostly lands inside a string's payload, which only the checksum notices;
# a deletion shifts everything after it, so the framer meets a bad record
# and has to resynchronise, which is the cost measured here.
cuts = [rng.randrange(9 + (size - 18) * i // n, 9 + (size - 18) * (i + 1) // n - 8) for i in range(n)]
with open(src, "rb") as f, open(dst, "wb") as g:
    pos = 0
    for c in cuts + [size]:
        while pos < c:
            chunk = f.read(min(1 << 24, c - pos))
            g.write(chunk)
            pos += len(chunk)
        if c < size:
            f.seek(8, 1)
            pos += 8
PY
mkdir -p benches/results
out=benches/results/$(date +%Y-%m-%d)-$(hostname)-salvage.md
# shellcheck source=benches/measure.sh
. benches/measure.sh
need_time
declare -A wall rss
cmds=("check" "rdb --format json")
for c in "${cmds[@]}"; do
  for f in "$DUMP" "$DAMAGED"; do
    # shellcheck disable=SC2086
    read -r w r < <(measure "$RUNS" "$BIN" $c --quiet "$f")
    wall["$c|$f"]=$w
    rss["$c|$f"]=$r
  done
done
faults=$(set +o pipefail; "$BIN" check --format json --quiet "$DAMAGED" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
k = d["keyspace"]["keys"]
lost = sum(s["keys_lost_estimate"] for s in d["skipped"])
e, s = len(d["errors"]), len(d["skipped"])
print(f"{e} faults reported, {s} ranges skipped, {k} keys read, ~{lost} estimated lost")' || true)
whole=$(set +o pipefail; "$BIN" check --format json --quiet "$DUMP" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["keyspace"]["keys"])' || true)
{
  echo "# Salvage cost: $(basename "$DUMP") ($(stat -c %s "$DUMP") bytes, $whole keys), $FAULTS seeded 8-byte deletions (seed $SEED), $(nproc) cores, median of $RUNS, warm cache"
  echo
  echo "Damaged copy: $faults."
  echo
  echo "| command | whole [s] | damaged [s] | extra | peak RSS whole (KiB) | peak RSS damaged (KiB) |"
  echo "|---|---:|---:|---:|---:|---:|"
  for c in "${cmds[@]}"; do
    a=${wall["$c|$DUMP"]}; b=${wall["$c|$DAMAGED"]}
    echo "| redsleuth $c | $a | $b | $(python3 -c "print(f'{($b/$a-1)*100:+.1f} %' if $a > 0 else 'n/a')") | ${rss["$c|$DUMP"]} | ${rss["$c|$DAMAGED"]} |"
  done
} > "$out"
cat "$out"
