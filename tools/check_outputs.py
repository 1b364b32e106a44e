#!/usr/bin/env python3
"""Independent checks of LaueMap's outputs, with the Python tools users open them in.

    check_outputs.py nexus FILE.h5 ...      silx finds a valid default NXdata (2-D signal, or RGB) whose
                                            axes are in um, and every NXdata of /entry is valid
    check_outputs.py ctf FILE.ctf PATTERNS [TILT]
                                            orix reads the .ctf; every indexed point's orientation agrees
                                            with the orientation matrix of patterns.csv within 1e-3 deg
                                            (frames as in LaueMap's docs, computed here independently)

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
        if signal.ndim != 2 and not (signal.ndim == 3 and default.interpretation == "rgb-image"):
            fail(f"{path}: default signal {default.signal_name} has {signal.ndim} dimensions")
        units = [text(a.attrs.get("units", "")) if a is not None else "" for a in default.axes]
        if units[-2:] != ["um", "um"]:
            fail(f"{path}: default axes units {units}, expected um")
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
    lattice = xmap.phases[1].structure.lattice
    b0 = lauetools_b0(lattice.a, lattice.b, lattice.c, lattice.alpha, lattice.beta, lattice.gamma)
    direct = np.linalg.inv(b0).T                                   # columns a, b, c
    e1 = direct[:, 0] / np.linalg.norm(direct[:, 0])
    e3 = b0[:, 2] / np.linalg.norm(b0[:, 2])
    s = np.array([e1, np.cross(e3, e1), e3])                       # LaueTools crystal -> x||a, z||c*
    t = np.radians(tilt)
    p = np.array([[np.cos(t), 0, -np.sin(t)], [0, 1, 0], [np.sin(t), 0, np.cos(t)]])
    with open(patterns) as f:
        rows = list(csv.DictReader(f))
    xs = np.array([float(r["x_um"]) if r["x_um"] else np.nan for r in rows])
    ys = np.array([float(r["y_um"]) if r["y_um"] else np.nan for r in rows])
    step_x, step_y = float(np.unique(np.round(np.diff(np.unique(xmap.x)), 6))[0]), float(np.unique(np.round(np.diff(np.unique(xmap.y)), 6))[0])
    ctf_index = {(round(x / step_x), round(y / step_y)): k for k, (x, y) in enumerate(zip(xmap.x, xmap.y))}
    matrices = xmap.rotations.to_matrix()
    worst, checked = 0.0, 0
    indexed = [r for r in rows if r["status"] == "indexed" and r["u11"]]
    for r, x, y in zip(rows, xs, ys):
        if r["status"] != "indexed" or not r["u11"]:
            continue
        ub = np.array([float(r[f"u{i}{j}"]) for i in (1, 2, 3) for j in (1, 2, 3)]).reshape(3, 3)
        w, _, vt = np.linalg.svd(ub)
        u = w @ vt                                                  # nearest rotation
        g = s @ u.T @ p
        k = ctf_index.get((round((x - np.nanmin(xs)) / step_x), round((y - np.nanmin(ys)) / step_y)))
        if k is None or xmap.phase_id[k] != 1:
            fail(f"{path}: indexed pattern {r['pattern_index']} at ({x}, {y}) is not an indexed point of the .ctf")
        cosine = (np.trace(g @ matrices[k].T) - 1) / 2
        worst = max(worst, float(np.degrees(np.arccos(np.clip(cosine, -1, 1)))))
        checked += 1
    n_indexed = int(np.count_nonzero(xmap.phase_id == 1))
    if n_indexed != len(indexed):
        fail(f"{path}: {n_indexed} indexed points in the .ctf, {len(indexed)} in {patterns}")
    if worst > 1e-3:
        fail(f"{path}: orientations differ from patterns.csv by up to {worst:.5f} deg")
    print(json.dumps({"file": path, "points": int(xmap.size), "indexed": n_indexed, "checked": checked,
                      "max_difference_deg": worst, "phase": xmap.phases[1].name,
                      "point_group": xmap.phases[1].point_group.name}))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        fail(__doc__)
    if sys.argv[1] == "nexus":
        for p in sys.argv[2:]:
            check_nexus(p)
    elif sys.argv[1] == "ctf" and len(sys.argv) in (4, 5):
        check_ctf(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) == 5 else 0.0)
    else:
        fail(__doc__)
