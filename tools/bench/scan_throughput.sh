#!/usr/bin/env bash
# End-to-end scan throughput and peak memory (docs/performance.md):
#   - a simulated 32x32 LiCoO2 scan on the 1024x1024 'medium' detector (1,024 patterns);
#   - a 10,000-pattern scan.csv that cycles through those 1,024 images (distinct positions on a
#     100x100 grid): same per-pattern work, ten times the scan, for the memory comparison;
#   - a simulated 12x12 scan on the 2048x2048 'aps' detector.
# Each run: lauemap scan run --jobs N under /usr/bin/time -v (wall time, maximum RSS).
# Usage: tools/bench/scan_throughput.sh [JOBS=2] [WORKDIR=/tmp/lauemap-scan-bench]
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=${1:-2}
work=${2:-/tmp/lauemap-scan-bench}
swift build -c release --product lauemap >/dev/null
bin=$(swift build -c release --show-bin-path)/lauemap
mkdir -p "$work"
[ -f "$work/scan1k/truth.csv" ] || "$bin" simulate scan --grid 32x32 --seed 31 --out "$work/scan1k" --jobs "$jobs" >/dev/null 2>&1
[ -f "$work/aps/truth.csv" ] || "$bin" simulate scan --detector aps --grid 12x12 --seed 32 --out "$work/aps" --jobs "$jobs" >/dev/null 2>&1
if [ ! -f "$work/scan10k/scan.csv" ]; then
  mkdir -p "$work/scan10k"
  ln -sfn "$work/scan1k/images" "$work/scan10k/images"
  cp "$work/scan1k/calib.det" "$work/scan10k/"
  awk -F, 'NR>1 {f[n++]=$1} END {print "file,x_um,y_um"; for (i=0;i<10000;i++) printf "%s,%.1f,%.1f\n", f[i%n], (i%100)*0.5, int(i/100)*0.5}' \
    "$work/scan1k/scan.csv" > "$work/scan10k/scan.csv"
fi
run() {  # name scan
  local out="$work/out-$1"
  /usr/bin/time -v "$bin" scan run "$2" --material LiCoO2 --out "$out" --jobs "$jobs" --overwrite --quiet \
    > "$work/$1.log" 2> "$work/$1.time"
  local n wall rss inside
  n=$(($(wc -l < "$out/patterns.csv") - 1))
  inside=$(awk -F, 'NR>1 && $4=="indexed"' "$out/patterns.csv" | wc -l)
  wall=$(grep "Elapsed (wall" "$work/$1.time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident" "$work/$1.time" | awk '{print $NF}')
  printf "| %s | %d | %d | %.1f | %.1f | %.0f |\n" "$1" "$n" "$inside" "$wall" "$(echo "$n / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}
echo "scan run, $jobs jobs, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "| scan | patterns | indexed | wall s | patterns/s | max RSS MB |"
echo "|---|---|---|---|---|---|"
run medium-1k "$work/scan1k"
run medium-10k "$work/scan10k"
run aps-144 "$work/aps"
