#!/usr/bin/env python3
"""Independent checks of LaueMap's outputs, with the Python tools users open them in.

    check_outputs.py nexus FILE.h5 ...      silx finds a valid default NXdata (2-D signal, RGB, or a XANES
                                            stack on eV, um, um) whose axes are in um, and every NXdata of
                                            /entry is valid
    check_outputs.py ctf FILE.ctf PATTERNS [TILT]
    check_outputs.py ang FILE.ang PATTERNS [TILT]
                                            orix reads the .ctf (.ang); every indexed point's orientation agrees
                                            with the orientation matrix of patterns.csv within 1e-3 deg
                                            (frames as in LaueMap's docs, computed here independently)
    check_outputs.py analytics SUMMARY.dat RESULTS.h5
                                            KAM, grains and GROD of a cubic LaueTools summary computed
                                            here from their definitions (docs/scan-pipeline.md) equal
                                            LaueMap's maps in results.h5 (1e-5 deg, same partition)

Prints one JSON line per file checked; exits 1 with a message on the first failure. The Swift tests
run it with the Python of tools/install-deps --test (.build/python-venv) when there is one.
"""
import csv
import json
import sys

import h5py
import numpy as np


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def check_nexus(path):
    from silx.io import nxdata

    with h5py.File(path, "r") as f:
        default = nxdata.get_default(f)
        if default is None or not default.is_valid:
            fail(f"{path}: silx finds no valid default NXdata")
        signal = default.signal
        units = [text(a.attrs.get("units", "")) if a is not None else "" for a in default.axes]
        stack = signal.ndim == 3 and units == ["eV", "um", "um"]          # a XANES stack [energy, y, x]
        if signal.ndim != 2 and not (signal.ndim == 3 and default.interpretation == "rgb-image") and not stack:
            fail(f"{path}: default signal {default.signal_name} has {signal.ndim} dimensions")
        if units[-2:] != ["um", "um"]:
            fail(f"{path}: default axes units {units}, expected um")
        if stack and [len(a) for a in default.axes] != list(signal.shape):
            fail(f"{path}: stack axes of lengths {[len(a) for a in default.axes]} for a signal of shape {signal.shape}")
        groups = [name for name, g in f["entry"].items()
                  if isinstance(g, h5py.Group) and text(g.attrs.get("NX_class", "")) == "NXdata"]
        invalid = [name for name in groups if not nxdata.is_valid_nxdata(f["entry"][name])]
        if invalid:
            fail(f"{path}: invalid NXdata {invalid}")
        print(json.dumps({"file": path, "default": default.signal_name, "shape": list(signal.shape),
                          "axes_units": units, "nxdata": len(groups)}))


def lauetools_b0(a, b, c, alpha, beta, gamma):
    """LaueTools' B0 (Busing & Levy): upper triangular, columns a*, b*, c* (1/angstrom, no 2 pi)."""
    al, be, ga = np.radians([alpha, beta, gamma])
    volume = a * b * c * np.sqrt(1 - np.cos(al) ** 2 - np.cos(be) ** 2 - np.cos(ga) ** 2
                                 + 2 * np.cos(al) * np.cos(be) * np.cos(ga))
    astar, bstar, cstar = b * c * np.sin(al) / volume, a * c * np.sin(be) / volume, a * b * np.sin(ga) / volume
    cos_als = (np.cos(be) * np.cos(ga) - np.cos(al)) / (np.sin(be) * np.sin(ga))
    cos_bes = (np.cos(al) * np.cos(ga) - np.cos(be)) / (np.sin(al) * np.sin(ga))
    cos_gas = (np.cos(al) * np.cos(be) - np.cos(ga)) / (np.sin(al) * np.sin(be))
    sin_bes, sin_gas = np.sqrt(1 - cos_bes ** 2), np.sqrt(1 - cos_gas ** 2)
    return np.array([[astar, bstar * cos_gas, cstar * cos_bes],
                     [0, bstar * sin_gas, -cstar * sin_bes * cos_als],
                     [0, 0, 1 / c]])


def check_ctf(path, patterns, tilt):
    from orix import io

    xmap = io.load(path)
    ids = {xmap.phases[i].name: i for i in xmap.phases.ids if i > 0}
    frames = {}                                                    # phase id -> LaueTools crystal -> x||a, z||c*
    for name, i in ids.items():
        lattice = xmap.phases[i].structure.lattice
        b0 = lauetools_b0(lattice.a, lattice.b, lattice.c, lattice.alpha, lattice.beta, lattice.gamma)
        direct = np.linalg.inv(b0).T                               # columns a, b, c
        e1 = direct[:, 0] / np.linalg.norm(direct[:, 0])
        e3 = b0[:, 2] / np.linalg.norm(b0[:, 2])
        frames[i] = np.array([e1, np.cross(e3, e1), e3])
    first = min(ids.values())
    t = np.radians(tilt)
    p = np.array([[np.cos(t), 0, -np.sin(t)], [0, 1, 0], [np.sin(t), 0, np.cos(t)]])
    with open(patterns) as f:
        rows = list(csv.DictReader(f))
    xs = np.array([float(r["x_um"]) if r["x_um"] else np.nan for r in rows])
    ys = np.array([float(r["y_um"]) if r["y_um"] else np.nan for r in rows])
    def step(values):                                              # one line or column: the .ctf writes 1
        d = np.unique(np.round(np.diff(np.unique(values)), 6))
        return float(d[0]) if d.size else 1.0
    map_x = xmap.x if xmap.x is not None else np.zeros(xmap.size)   # orix has no y for a single row
    map_y = xmap.y if xmap.y is not None else np.zeros(xmap.size)
    step_x, step_y = step(map_x), step(map_y)
    ctf_index = {(round(x / step_x), round(y / step_y)): k for k, (x, y) in enumerate(zip(map_x, map_y))}
    matrices = xmap.rotations.to_matrix()
    worst, checked = 0.0, 0
    indexed = [r for r in rows if r["status"] == "indexed" and r["u11"]]
    for r, x, y in zip(rows, xs, ys):
        if r["status"] != "indexed" or not r["u11"]:
            continue
        phase = ids.get(r.get("phase") or "", first)
        ub = np.array([float(r[f"u{i}{j}"]) for i in (1, 2, 3) for j in (1, 2, 3)]).reshape(3, 3)
        w, _, vt = np.linalg.svd(ub)
        u = w @ vt                                                  # nearest rotation
        g = frames[phase] @ u.T @ p
        k = ctf_index.get((round((x - np.nanmin(xs)) / step_x), round((y - np.nanmin(ys)) / step_y)))
        if k is None or xmap.phase_id[k] != phase:
            fail(f"{path}: indexed pattern {r['pattern_index']} at ({x}, {y}) is not a point of phase {phase} in the map")
        cosine = (np.trace(g @ matrices[k].T) - 1) / 2
        worst = max(worst, float(np.degrees(np.arccos(np.clip(cosine, -1, 1)))))
        checked += 1
    n_indexed = int(np.count_nonzero(xmap.phase_id > 0))
    if n_indexed != len(indexed):
        fail(f"{path}: {n_indexed} indexed points in the .ctf, {len(indexed)} in {patterns}")
    if worst > 1e-3:
        fail(f"{path}: orientations differ from patterns.csv by up to {worst:.5f} deg")
    print(json.dumps({"file": path, "points": int(xmap.size), "indexed": n_indexed, "checked": checked,
                      "max_difference_deg": worst, "phase": xmap.phases[first].name,
                      "point_group": xmap.phases[first].point_group.name,
                      "phases": {name: int(np.count_nonzero(xmap.phase_id == i)) for name, i in ids.items()}}))


def cubic_rotations():
    """The 24 proper rotations of the cubic group: signed permutation matrices of determinant +1."""
    import itertools
    out = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            m = np.zeros((3, 3))
            for i in range(3):
                m[i, perm[i]] = signs[i]
            if np.linalg.det(m) > 0:
                out.append(m)
    return np.array(out)


def polar_rotation(m):
    w, _, vt = np.linalg.svd(m)
    r = w @ vt
    if np.linalg.det(r) < 0:
        r = w @ np.diag([1, 1, -1]) @ vt
    return r


def misorientation(a, b, symmetry):
    """Smallest rotation angle (deg) of a^T b s over the crystal symmetry s (crystal-side)."""
    delta = a.T @ b
    traces = np.einsum("ij,kji->k", delta, symmetry)           # trace(delta @ s) for every s
    q = quaternion(delta @ symmetry[int(np.argmax(traces))])
    return float(np.degrees(2 * np.arctan2(np.linalg.norm(q[1:]), abs(q[0]))))   # accurate near 0


def quaternion(m):
    """Unit quaternion (w, x, y, z) of a rotation matrix."""
    w = np.sqrt(max(0.0, 1 + m[0, 0] + m[1, 1] + m[2, 2])) / 2
    x = np.copysign(np.sqrt(max(0.0, 1 + m[0, 0] - m[1, 1] - m[2, 2])) / 2, m[2, 1] - m[1, 2])
    y = np.copysign(np.sqrt(max(0.0, 1 - m[0, 0] + m[1, 1] - m[2, 2])) / 2, m[0, 2] - m[2, 0])
    z = np.copysign(np.sqrt(max(0.0, 1 - m[0, 0] - m[1, 1] + m[2, 2])) / 2, m[1, 0] - m[0, 1])
    q = np.array([w, x, y, z])
    return q / np.linalg.norm(q)


def matrix(q):
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def check_analytics(summary, results, kam_threshold=5.0, grain_threshold=5.0):
    with open(summary) as f:
        f.readline()
        names = f.readline().split()
    data = np.loadtxt(summary, skiprows=2, ndmin=2)[:, :len(names)]
    col = {n: data[:, k] for k, n in enumerate(names) if n not in ()}
    xs, ys = col["dxymicrons_0"], col["dxymicrons_1"]
    ux, uy = np.unique(xs), np.unique(ys)
    columns, rows = len(ux), len(uy)
    symmetry = cubic_rotations()
    rot = [None] * (columns * rows)
    for k in range(len(xs)):
        v = [col[f"matstarlab_{i}"][k] for i in range(9)]
        if col["npeaks"][k] <= 0 or not np.any(v):
            continue
        # matstarlab: a*, b*, c* triples in the OR frame (x_OR = -y_LT, y_OR = x_LT); cubic: B0 ~ identity.
        ubb0 = np.array([[v[3 * j + 1], -v[3 * j], v[3 * j + 2]] for j in range(3)]).T
        cell = int(np.searchsorted(uy, ys[k])) * columns + int(np.searchsorted(ux, xs[k]))
        rot[cell] = polar_rotation(ubb0)
    n = columns * rows
    right, down = [None] * n, [None] * n
    for p in range(n):
        if rot[p] is None:
            continue
        i, j = p % columns, p // columns
        if i + 1 < columns and rot[p + 1] is not None:
            right[p] = misorientation(rot[p], rot[p + 1], symmetry)
        if j + 1 < rows and rot[p + columns] is not None:
            down[p] = misorientation(rot[p], rot[p + columns], symmetry)
    kam = np.full(n, np.nan)
    for p in range(n):
        if rot[p] is None:
            continue
        i, j = p % columns, p // columns
        near = [d for d in (right[p - 1] if i > 0 else None, right[p], down[p - columns] if j > 0 else None, down[p])
                if d is not None and d < kam_threshold]
        if near:
            kam[p] = np.mean(near)
    # Grains: breadth-first flood fill through neighbours below the threshold, numbered in raster order.
    grain = np.full(n, -1)
    next_id = 0
    for start in range(n):
        if rot[start] is None or grain[start] >= 0:
            continue
        grain[start] = next_id
        queue = [start]
        while queue:
            p = queue.pop()
            i, j = p % columns, p // columns
            for q, d in ((p + 1, right[p] if i + 1 < columns else None), (p - 1, right[p - 1] if i > 0 else None),
                         (p + columns, down[p] if j + 1 < rows else None), (p - columns, down[p - columns] if j > 0 else None)):
                if d is not None and d < grain_threshold and grain[q] < 0:
                    grain[q] = next_id
                    queue.append(q)
        next_id += 1
    grod = np.full(n, np.nan)
    for g in range(next_id):
        cells = [p for p in range(n) if grain[p] == g]            # raster order: the first is the reference
        reference = rot[cells[0]]
        q0 = quaternion(reference)
        total = np.zeros(4)
        for p in cells:
            delta = reference.T @ rot[p]
            s = symmetry[int(np.argmax(np.einsum("ij,kji->k", delta, symmetry)))]
            q = quaternion(rot[p] @ s)
            total += q if q @ q0 >= 0 else -q
        mean = matrix(total / np.linalg.norm(total))
        for p in cells:
            grod[p] = misorientation(rot[p], mean, symmetry)
    with h5py.File(results, "r") as f:
        lm_kam, lm_grod, lm_grain = f["maps/kam_deg"][()].ravel(), f["maps/grod_deg"][()].ravel(), f["maps/grain_id"][()].ravel()
    if lm_kam.shape != kam.shape:
        fail(f"{results}: map of {lm_kam.shape} cells, the summary has {columns} x {rows}")
    for name, a, b in (("KAM", lm_kam, kam), ("GROD", lm_grod, grod)):
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            fail(f"{results}: {name} defined on different cells")
        worst = float(np.nanmax(np.abs(a - b))) if np.any(~np.isnan(a)) else 0.0
        if worst > 1e-5:
            fail(f"{results}: {name} differs by up to {worst} deg")
    pairs = set(zip(lm_grain.tolist(), grain.tolist()))
    if len(pairs) != len(set(grain.tolist())) or len({a for a, _ in pairs}) != len(pairs):
        fail(f"{results}: grains differ ({len(set(lm_grain.tolist()))} in LaueMap, {len(set(grain.tolist()))} here)")
    print(json.dumps({"file": results, "cells": n, "indexed": int(sum(r is not None for r in rot)), "grains": next_id,
                      "kam_median_deg": float(np.nanmedian(kam)), "kam_p98_deg": float(np.nanpercentile(kam, 98)),
                      "grod_max_deg": float(np.nanmax(grod))}))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        fail(__doc__)
    if sys.argv[1] == "nexus":
        for p in sys.argv[2:]:
            check_nexus(p)
    elif sys.argv[1] == "analytics" and len(sys.argv) == 4:
        check_analytics(sys.argv[2], sys.argv[3])
    elif sys.argv[1] in ("ctf", "ang") and len(sys.argv) in (4, 5):
        check_ctf(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) == 5 else 0.0)
    else:
        fail(__doc__)
