#!/usr/bin/env python3
"""A .fit written by LaueMap parses in LaueTools' own readers and agrees with LaueMap's reading.

    tools/peers/check_fit_with_lauetools.py [LAUEMAP_BINARY]

Runs `lauemap predict --fit-out` on the shipped Ge calibration, then reads the written .fit with
LaueTools' `IOLaueTools.readfitfile_multigrains` and `fitfilereader.parsed_fitfile`, and with LaueMap
itself (`lauemap predict --fit` on the written file); checks UB, hkl, X/Y and the detector parameters.
Exit status 0 when everything agrees. Run it with the LaueTools peer Python (tools/peers/setup.sh).
"""
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

warnings.filterwarnings("ignore")
with contextlib.redirect_stdout(io.StringIO()):
    import LaueTools.IOLaueTools as IOLT
    import LaueTools.fitfilereader as FFR

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
lauemap = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, ".build", "release", "lauemap")
fix = os.path.join(root, "Fixtures", "lauetools")
out = os.path.join(tempfile.mkdtemp(), "lauemap_predicted.fit")
args = ["predict", "--calib", os.path.join(fix, "calibGe111.det"), "--material", "Ge", "--emax", "22", "--csv"]
first = subprocess.run([lauemap] + args + ["--fit", os.path.join(fix, "Ge_blanc_0000_LT_5.fit"), "--fit-out", out],
                       check=True, capture_output=True, text=True).stdout
rows = np.array([[float(v) for v in l.split(",")] for l in first.splitlines()[1:] if l])

# 1. LaueTools' multigrain reader.
res = IOLT.readfitfile_multigrains(out, return_columnheaders=True)
(indices, nb_peaks, starts, ubs, spots, calib, pixdev), cols = res
ub_lt = ubs[0].reshape(3, 3)
ok = True
def check(cond, what):
    global ok
    print(("ok   " if cond else "FAIL ") + what)
    ok &= bool(cond)
check(nb_peaks[0] == len(rows), f"readfitfile_multigrains: {nb_peaks[0]} spots (lauemap printed {len(rows)})")
hkl = spots[:, [cols["h"], cols["k"], cols["l"]]]
check(np.array_equal(hkl, rows[:, :3]), "hkl identical")
check(np.abs(spots[:, cols["Xtheo"]] - rows[:, 3]).max() < 1e-3, "Xtheo within 1e-3 px")
check(np.abs(spots[:, cols["Ytheo"]] - rows[:, 4]).max() < 1e-3, "Ytheo within 1e-3 px")

# 2. LaueTools' object reader (used by its map tools).
with contextlib.redirect_stdout(io.StringIO()):
    parsed = FFR.parsed_fitfile(out)
ub_ref = np.array([[-0.071476709, -0.99582593, -0.056760883], [0.720618491, -0.012210383, -0.693224276],
                   [0.689637637, -0.090452332, 0.718483337]])
check(np.abs(np.array(parsed.UB) - ub_ref).max() < 1e-9, "parsed_fitfile: UB equals the source .fit's UB")
check(np.abs(ub_lt - ub_ref).max() < 1e-6, "readfitfile_multigrains: same UB (float32)")
check(len(parsed.peak) == len(rows), f"parsed_fitfile: {len(parsed.peak)} spots")
check(parsed.CCDLabel.strip() == "MARCCD165" and np.allclose(parsed.DetectorParameters, [70.775, 941.74, 1082.56, 0.63, -0.682]),
      "parsed_fitfile: detector label and parameters")

# 3. Round trip through LaueMap: predicting from the written .fit gives the same spots.
second = subprocess.run([lauemap] + args + ["--fit", out], check=True, capture_output=True, text=True).stdout
rows2 = np.array([[float(v) for v in l.split(",")] for l in second.splitlines()[1:] if l])
check(rows.shape == rows2.shape and np.abs(rows - rows2).max() < 1e-3, "LaueMap re-reads its .fit: same spots")
print("all checks passed" if ok else "some checks FAILED")
sys.exit(0 if ok else 1)
