# Sourced by the whole-process benchmarks: runs a command RUNS times under
# /usr/bin/time and prints "median-wall-seconds median-peak-rss-KiB".
# Peak RSS is what `time` reports: file-backed pages of a memory map count.
measure() {
  local runs=$1; shift
  local tf ws=() rs=()
  tf=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$tf" -f "%e %M" "$@" > /dev/null 2>&1 || true
    local line
    line=$(tail -1 "$tf")
    ws+=("${line% *}"); rs+=("${line#* }")
  done
  rm -f "$tf"
  python3 -c '
import statistics, sys
n = (len(sys.argv) - 1) // 2
w, r = sys.argv[1:1 + n], sys.argv[1 + n:]
print(f"{statistics.median(map(float, w)):.3f} {int(statistics.median(map(float, r)))}")' "${ws[@]}" "${rs[@]}"
}

# Installs /usr/bin/time when it is missing (Debian's `time` package).
need_time() {
  [ -x /usr/bin/time ] && return
  apt-get update -qq && apt-get install -y -qq time >/dev/null
}
