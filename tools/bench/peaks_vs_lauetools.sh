#!/usr/bin/env bash
# Peak search + shape, single-threaded, in one run beside LaueTools' PeakSearch on the same real images.
# Usage: tools/bench/peaks_vs_lauetools.sh [REPEAT]   (needs the peer venv: tools/peers/setup.sh)
source "$(dirname "$0")/peers.sh"
swift build -c release --product lauemap-bench >/dev/null 2>&1
swift build -c release --product lauemap >/dev/null 2>&1
bin=$(swift build -c release --show-bin-path)
ge=$data/Ge_blanc_0000.mccd; sc=$data/img_Ge_sCMOS_0000.tif
echo "== LaueTools PeakSearch (median of $repeat, single process) =="
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 "$py" "$driver" "$ge" "$data/calibGe111.det" Ge --repeat "$repeat" --outdir /tmp/lt-bench 2>&1 | grep -E "peaks found|wall time"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 "$py" "$driver" "$sc" "$data/img_Ge_sCMOS_0000_181peaks.cor" Ge --repeat "$repeat" \
  --ps boxsize=5 Fit_with_Data_for_localMaxima=False --outdir /tmp/lt-bench 2>&1 | grep -E "peaks found|wall time"
echo "== LaueMap (median of $((repeat * 2)), one thread) =="
taskset -c 0 "$bin/lauemap-bench" peaks "$ge" "$sc" --repeat $((repeat * 2))
echo "== agreement with LaueTools' reference peak lists =="
"$bin/lauemap" peaks "$ge" --dat /tmp/lm_ge.dat >/dev/null
"$bin/lauemap" peaks "$sc" --dat /tmp/lm_sc.dat >/dev/null
python3 tools/peers/compare_peaks.py /tmp/lm_ge.dat "$data/Ge_blanc_0000_LT_5.dat" | head -3
python3 tools/peers/compare_peaks.py /tmp/lm_sc.dat "$data/img_Ge_sCMOS_0000_181peaks.cor" | head -3
for f in /tmp/lt-bench/Ge_blanc_0000_LTscript.cor /tmp/lt-bench/img_Ge_sCMOS_0000_LTscript.cor; do :; done
echo "LaueTools' own batch peak lists against the same references:"
python3 tools/peers/compare_peaks.py /tmp/lt-bench/Ge_blanc_0000_LTscript.cor "$data/Ge_blanc_0000_LT_5.dat" | head -3
python3 tools/peers/compare_peaks.py /tmp/lt-bench/img_Ge_sCMOS_0000_LTscript.cor "$data/img_Ge_sCMOS_0000_181peaks.cor" | head -3
