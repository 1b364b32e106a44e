#!/usr/bin/env python3
"""Compare a LaueMap peak list with a LaueTools one (.dat or .cor): the fraction of LaueTools peaks
that LaueMap finds within a radius, and the median position difference.

    tools/peers/compare_peaks.py LAUEMAP.dat|.csv LAUETOOLS.dat|.cor [--radius 0.5]
"""
import argparse
import numpy as np


def load(path):
    lines = [l for l in open(path) if l.strip()]
    header = None
    rows = []
    for l in lines:
        if l.startswith("#"):
            if "peak_X" in l:
                header = l[l.index("peak_X"):].split()
            continue
        if header is None:
            header = l.replace(",", " ").split()
            if "peak_X" in l:
                header = l[l.index("peak_X"):].split()
            continue
        rows.append([float(v) for v in l.replace(",", " ").split()])
    a = np.array(rows)
    cols = {n: i for i, n in enumerate(header)}
    for xn, yn in (("peak_X", "peak_Y"), ("X", "Y"), ("x", "y")):
        if xn in cols:
            return a[:, cols[xn]], a[:, cols[yn]]
    raise SystemExit(f"{path}: no X/Y columns in {header}")


p = argparse.ArgumentParser()
p.add_argument("lauemap")
p.add_argument("lauetools")
p.add_argument("--radius", type=float, default=0.5)
p.add_argument("--verbose", action="store_true")
a = p.parse_args()
mx, my = load(a.lauemap)
lx, ly = load(a.lauetools)
d = np.array([np.min(np.hypot(mx - x, my - y)) for x, y in zip(lx, ly)])
found = d <= a.radius
print(f"compared list {len(mx)} peaks, reference {len(lx)} peaks")
print(f"found within {a.radius} px: {found.sum()}/{len(lx)} = {100 * found.mean():.1f} %")
print(f"median distance of found peaks: {np.median(d[found]):.4f} px; mean {np.mean(d[found]):.4f} px")
missed = np.where(~found)[0]
for i in missed[:20]:
    if a.verbose: print(f"  missed LaueTools peak {i}: X {lx[i]:.2f} Y {ly[i]:.2f}, nearest LaueMap peak at {d[i]:.2f} px")
