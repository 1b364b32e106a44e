#!/usr/bin/env bash
# Peak search from Python (issue 16): lauemap.peaks beside LaueTools' PeakSearch in one Python process,
# and the library's own time (lauemap-bench peaks, image already read), one core, same run.
# Usage: tools/bench/python_peaks.sh [REPEAT]   (needs the peer venv: tools/peers/setup.sh)
source "$(dirname "$0")/peers.sh"
swift build -c release --product lauemapc >/dev/null 2>&1
swift build -c release --product lauemap-bench >/dev/null 2>&1
bin=$(swift build -c release --show-bin-path)
"$py" -c "import pandas, h5py, xarray" 2>/dev/null || "$py" -m pip install -q pandas h5py xarray
ge=$data/Ge_blanc_0000.mccd; sc=$data/img_Ge_sCMOS_0000.tif
echo "== from Python (median of $repeat for LaueTools, $((repeat * 2)) for LaueMap; one core) =="
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=python LAUEMAP_LIBRARY="$bin/liblauemapc.so" taskset -c 0 \
  "$py" tools/bench/python_peaks.py "$driver" "$repeat" "$ge:MARCCD165" \
  "$sc:sCMOS:boxsize=5,Fit_with_Data_for_localMaxima=False"
echo "== the library's own (lauemap-bench peaks, median of $((repeat * 2)), image already read) =="
taskset -c 0 "$bin/lauemap-bench" peaks "$ge" "$sc" --repeat $((repeat * 2))
