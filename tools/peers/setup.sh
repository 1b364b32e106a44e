#!/usr/bin/env bash
# Creates the peer Python environments used for side-by-side checks and benchmarks (never at run time):
#   $PEERS/lt     LaueTools 3.2.19 (no GUI deps) + numpy<2.4, tifffile, h5py, fabio, Pillow
#   $PEERS/larch  xraylarch
# Usage: tools/peers/setup.sh [PEERS_DIR]   (default: ../peers-venv next to the repository)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
PEERS=${1:-${LAUEMAP_PEERS:-$here/../peers-venv}}
mkdir -p "$PEERS"
if [ ! -x "$PEERS/lt/bin/python" ]; then
  python3 -m venv "$PEERS/lt"
  "$PEERS/lt/bin/pip" install -q -U pip
  "$PEERS/lt/bin/pip" install -q --no-deps lauetools==3.2.19
  "$PEERS/lt/bin/pip" install -q docutils "numpy<2.4" scipy matplotlib networkx tqdm h5py scikit-image astropy fabio PyYAML tifffile pandas
fi
if [ ! -x "$PEERS/larch/bin/python" ]; then
  python3 -m venv "$PEERS/larch"
  "$PEERS/larch/bin/pip" install -q -U pip
  "$PEERS/larch/bin/pip" install -q xraylarch
fi
echo "peer environments ready in $PEERS"
