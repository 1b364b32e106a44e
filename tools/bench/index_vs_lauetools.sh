#!/usr/bin/env bash
# Indexing + refinement, single-threaded, in one run beside LaueTools' IndexSpotsSet on the same images.
# Usage: tools/bench/index_vs_lauetools.sh [REPEAT]   (needs the peer venv: tools/peers/setup.sh)
source "$(dirname "$0")/peers.sh"
swift build -c release --product lauemap-bench >/dev/null 2>&1
bin=$(swift build -c release --show-bin-path)
echo "== LaueTools IndexSpotsSet: indexing + refinement (median of $repeat, one core) =="
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 "$py" "$driver" "$data/Ge_blanc_0000.mccd" "$data/calibGe111.det" Ge \
  --repeat "$repeat" --ref-fit "$data/Ge_blanc_0000_LT_5.fit" --outdir /tmp/lt-bench 2>&1 | grep -E "indexed:|wall time|misorientation"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 "$py" "$driver" "$data/img_Ge_sCMOS_0000.tif" "$data/img_Ge_sCMOS_0000_181peaks.cor" Ge \
  --repeat "$repeat" --ps boxsize=5 Fit_with_Data_for_localMaxima=False --outdir /tmp/lt-bench 2>&1 | grep -E "indexed:|wall time"
echo "== LaueMap Indexer.index on its own peak list (median of $((repeat * 2)), one core) =="
echo "| image | peaks | indexed | mean deviation px | index + refine ms |"
echo "|---|---|---|---|---|"
taskset -c 0 "$bin/lauemap-bench" index "$data/Ge_blanc_0000.mccd" "$data/calibGe111.det" Ge --repeat $((repeat * 2))
taskset -c 0 "$bin/lauemap-bench" index "$data/img_Ge_sCMOS_0000.tif" "$data/img_Ge_sCMOS_0000_181peaks.cor" Ge --repeat $((repeat * 2))
