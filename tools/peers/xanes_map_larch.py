#!/usr/bin/env python3
"""Larch side of the XANES map benchmark (docs/performance.md): normalises every pixel of the
map written by `lauemap-bench xanes DIR` with xraylarch's pre_edge, (1) with the fixed ranges LaueMap
used (ranges.txt) and (2) with Larch's defaults, times both, and compares edge step and half-height
energy with LaueMap's per-pixel values (lauemap_edge.csv).

    python tools/peers/xanes_map_larch.py DIR      # the larch peer venv (tools/peers/setup.sh)
"""
import sys
import time

import h5py
import numpy as np
from larch import Group
from larch.xafs import pre_edge

d = sys.argv[1]
with h5py.File(d + "/map100.h5", "r") as f:
    data = f["/xanes/data"][()].astype(float)          # [energies, rows, cols]
    energy = f["/xanes/energy"][()]
e0, pre1, pre2, norm1, norm2, nnorm = np.loadtxt(d + "/ranges.txt")
ne, ny, nx = data.shape
spectra = data.reshape(ne, ny * nx).T
ours = np.loadtxt(d + "/lauemap_edge.csv", delimiter=",", skiprows=1)
pixels = ours[:, 0].astype(int)


def half_height(norm, start):
    above = np.where(norm[start:] >= 0.5)[0]
    if len(above) == 0 or above[0] + start == 0:
        return np.nan
    i = above[0] + start
    return energy[i - 1] + (0.5 - norm[i - 1]) * (energy[i] - energy[i - 1]) / (norm[i] - norm[i - 1])


start = int(np.where(energy <= e0 + pre2)[0].max())
t0 = time.perf_counter()
steps, halves = [], []
for p in range(ny * nx):
    g = Group(energy=energy, mu=spectra[p])
    pre_edge(g, e0=e0, pre1=pre1, pre2=pre2, norm1=norm1, norm2=norm2, nnorm=int(nnorm), make_flat=False)
    steps.append(g.edge_step)
    halves.append(half_height(g.norm, max(start, 1)))
fixed = time.perf_counter() - t0
steps, halves = np.array(steps), np.array(halves)
t0 = time.perf_counter()
for p in range(ny * nx):
    g = Group(energy=energy, mu=spectra[p])
    pre_edge(g)
default = time.perf_counter() - t0
ds = np.abs(steps[pixels] - ours[:, 1]) / steps[pixels]
dh = np.abs(halves[pixels] - ours[:, 2])
print("larch pre_edge, %d spectra x %d energies: fixed ranges %.2f s (%.2f ms/pixel), defaults %.2f s (%.2f ms/pixel)"
      % (ny * nx, ne, fixed, 1000 * fixed / (ny * nx), default, 1000 * default / (ny * nx)))
print("LaueMap vs Larch over %d valid pixels: edge step max rel. diff %.2e, half-height max abs diff %.2e eV"
      % (len(pixels), ds.max(), np.nanmax(dh)))
