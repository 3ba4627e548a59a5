#!/usr/bin/env bash
# rotation-peek.sh [FILES=200] [OUT=benches/results/<date>-vm-rotation.md]
#
# Whole-process cost of ordering a rotation set by content: every scenario
# log of testdata/logs concatenated REPEAT times (default 40, about 14 MB),
# cut into FILES pieces of real lines and
# written as one set (`redis.log`, `redis.log.1`, `redis.log.2.gz` … every
# other piece gzipped), numbered against their order so that every file
# moves. `redsleuth logs` of the set runs RUNS times (default 3) with BIN
# (the build under test) and BASE (a build without the content ordering),
# side by side in the same run, warm cache; the table holds the medians of
# wall time and peak RSS as /usr/bin/time reports them.
#
# Environment: BIN (default target/release/redsleuth), BASE (required),
# WORK (default /tmp/redsleuth-rotation-peek), RUNS, REPEAT, KEEP=1 keeps
# the set.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/measure.sh
need_time
FILES=${1:-200}
OUT=${2:-benches/results/$(date -u +%Y-%m-%d)-vm-rotation.md}
BIN=${BIN:-target/release/redsleuth}
BASE=${BASE:?set BASE= to a build without the content ordering}
WORK=${WORK:-/tmp/redsleuth-rotation-peek}
RUNS=${RUNS:-3}
REPEAT=${REPEAT:-40}
[ -x "$BIN" ] || cargo build --release

rm -rf "$WORK" && mkdir -p "$WORK"
python3 - "$FILES" "$WORK" "$REPEAT" <<'PY'
import glob, gzip, sys
n, out = int(sys.argv[1]), sys.argv[2]
lines = []
for f in sorted(glob.glob("testdata/logs/*/*/*.log")):
    lines += open(f, "rb").read().splitlines(keepends=True)
lines *= int(sys.argv[3])
per = max(1, len(lines) // n)
for k in range(n):
    piece = b"".join(lines[k * per:(k + 1) * per])
    # Piece 0 is the oldest but gets the live file's name.
    name = f"{out}/redis.log" + (f".{k}" if k else "")
    if k % 2:
        with gzip.open(name + ".gz", "wb") as g:
            g.write(piece)
    else:
        open(name, "wb").write(piece)
PY
cat "$WORK"/* > /dev/null
read -r bw br < <(measure "$RUNS" "$BASE" logs --quiet --format json "$WORK")
read -r nw nr < <(measure "$RUNS" "$BIN" logs --quiet --format json "$WORK")
read -r bw2 br2 < <(measure "$RUNS" "$BASE" logs --quiet --format json "$WORK")
{
  echo "# Rotation set ordered by content, $(nproc) cores, median of $RUNS, warm cache, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "One set of $FILES files (corpus logs x$REPEAT, $(du -sb "$WORK" | cut -f1) bytes stored, half gzipped), \`logs --quiet --format json\`."
  echo
  echo "| build | wall s | peak RSS KiB |"
  echo "|---|---|---|"
  echo "| name order (BASE) | $bw | $br |"
  echo "| content order | $nw | $nr |"
  echo "| name order (BASE, again) | $bw2 | $br2 |"
} | tee "$OUT"
[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
