# Sourced by the benchmarks run beside LaueTools (tools/bench/*_vs_lauetools.sh, python_peaks.sh):
# the repository as working folder, REPEAT from $1 (default 7), the peer venv's Python ($py, see
# tools/peers/setup.sh), the shared data ($shared, $data) and LaueTools' driver ($driver).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repeat=${1:-7}
peers=${LAUEMAP_PEERS:-$(pwd)/../peers-venv}
py=$peers/lt/bin/python
shared=${LAUEMAP_SHARED:-$(pwd)/../shared}
data=$shared/data/lauetools
driver=$shared/peers/lauetools/run_lauetools.py
