#!/usr/bin/env bash
# Per-core throughput and sharding overhead for docs/cluster.md, on a throw-away local SLURM cluster:
#   1. lauemap scan run --jobs 1 on the 1,024-pattern 1024x1024 scan and the 144-pattern 2048x2048
#      scan of tools/bench/scan_throughput.sh (patterns/s per core);
#   2. lauemap scan submit --shards S --cpus-per-task 1 --wait on the same scans and on the
#      10,000-pattern scan (wall time from submission to merged results, merge time from its log).
# Needs root, slurm-wlm and munge (tools/install-deps). Stop nothing else: the cluster it starts is
# stopped by PID at the end.
# Usage: tools/bench/cluster_throughput.sh [SHARDS=2] [WORKDIR=/tmp/lauemap-scan-bench]
set -euo pipefail
cd "$(dirname "$0")/../.."
shards=${1:-2}
work=${2:-/tmp/lauemap-scan-bench}
swift build -c release --product lauemap >/dev/null
bin=$(swift build -c release --show-bin-path)/lauemap
# The scans of the scan benchmark (simulated once, reused).
if [ ! -f "$work/scan10k/scan.csv" ] || [ ! -f "$work/aps/truth.csv" ]; then
  echo "simulating the benchmark scans (tools/bench/scan_throughput.sh)..." >&2
  tools/bench/scan_throughput.sh 2 "$work" >/dev/null
fi
cluster=/tmp/lauemap-bench-slurm
tools/slurm/local-cluster.sh start "$cluster"
trap 'tools/slurm/local-cluster.sh stop "$cluster"' EXIT
export SLURM_CONF=$cluster/etc/slurm.conf

seconds() { date +%s.%N; }
echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "| scan | patterns | mode | wall s | patterns/s | patterns/s per core | merge s |"
echo "|---|---|---|---|---|---|---|"
one_core() {  # name scan
  local out="$work/cluster-$1-single" t0 t1 n
  t0=$(seconds)
  "$bin" scan run "$2" --material LiCoO2 --out "$out" --jobs 1 --overwrite --quiet >/dev/null
  t1=$(seconds)
  n=$(($(wc -l < "$out/patterns.csv") - 1))
  awk -v n="$n" -v a="$t0" -v b="$t1" -v s="$1" 'BEGIN { w=b-a; printf "| %s | %d | scan run --jobs 1 | %.1f | %.1f | %.1f | - |\n", s, n, w, n/w, n/w }'
}
sharded() {  # name scan
  local out="$work/cluster-$1-shards" t0 t1 n merge
  rm -rf "$out"
  t0=$(seconds)
  "$bin" scan submit "$2" --material LiCoO2 --out "$out" --shards "$shards" --cpus-per-task 1 --wait --timeout 3600 >/dev/null 2>&1
  t1=$(seconds)
  n=$(($(wc -l < "$out/patterns.csv") - 1))
  cmp -s "$out/patterns.csv" "$work/out-$1/patterns.csv" 2>/dev/null && same="" || same=" (differs from scan_throughput run!)"
  # Merge time: between the start and exit lines of its log.
  merge=$(awk '/^lauemap merge: (job|exit)/ { t[++i]=$NF } END { if (i>=2) { cmd="date -d " t[1] " +%s.%N"; cmd | getline a; close(cmd);
          cmd="date -d " t[2] " +%s.%N"; cmd | getline b; close(cmd); printf "%.1f", b-a } else print "?" }' "$out/cluster/logs/merge.log")
  awk -v n="$n" -v a="$t0" -v b="$t1" -v s="$1" -v k="$shards" -v m="$merge" -v x="$same" \
    'BEGIN { w=b-a; printf "| %s | %d | scan submit --shards %d --cpus-per-task 1%s | %.1f | %.1f | %.1f | %s |\n", s, n, k, x, w, n/w, n/w/k, m }'
}
one_core medium-1k "$work/scan1k"
one_core aps-144 "$work/aps"
sharded medium-1k "$work/scan1k"
sharded aps-144 "$work/aps"
sharded medium-10k "$work/scan10k"
