#!/usr/bin/env bash
# XANES map normalisation and registration speed, beside Larch on the same map (docs/performance.md).
# Usage: tools/bench/xanes_vs_larch.sh [WORKDIR=/tmp/lauemap-xanes-bench] [PEERS=../peers-venv]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/lauemap-xanes-bench}
peers=${2:-${LAUEMAP_PEERS:-$(pwd)/../peers-venv}}
swift build -c release --product lauemap-bench >/dev/null
"$(swift build -c release --show-bin-path)/lauemap-bench" xanes "$work" --repeat 7
"$peers/larch/bin/python" tools/peers/xanes_map_larch.py "$work"
