"""LaueMap from Python: Laue X-ray microdiffraction defect mapping at native speed on numpy arrays.

    import lauemap
    frame = lauemap.read_image("Ge_blanc_0000.mccd")            # numpy array (uint16 for MarCCD)
    peaks = lauemap.peaks(frame, calib="calibGe111.det")          # pandas DataFrame, `lauemap peaks --csv`
    result = lauemap.index(peaks, calib="calibGe111.det", material="Ge")  # dict, `lauemap index --json`
    row, spots = lauemap.classify(frame, calib="calibGe111.det", material="Ge")  # a scan row + its spots
    run = lauemap.load_run("runs/p7")                             # patterns, peaks, maps (xarray)
    lauemap.xanes.normalize(energy, mu, pre1=-150, pre2=-30)      # Larch's pre_edge

The functions call liblauemapc.so (LaueMap's C interface) through ctypes: the GIL is released during
each call, errors raise ``LaueMapError`` naming the file and the reason. docs/python.md.
"""
from __future__ import annotations

import ctypes
import io
import json
import os
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _native
from ._native import DTYPES, LaueMapError
from .run import Run, load_run, read_table
from . import xanes

__all__ = ["read_image", "peaks", "index", "classify", "simulate", "load_run", "Run", "LaueMapError", "xanes", "__version__"]

__version__: str = _native.lib.lauemap_version().decode()

PathLike = Union[str, "os.PathLike[str]"]


def read_image(path: PathLike, frame: int = 0, dataset: Optional[str] = None) -> np.ndarray:
    """A detector frame (TIFF, MarCCD, HDF5) as a 2-D numpy array in the file's sample type (uint16 for
    MarCCD and 16-bit TIFFs, float32 for float data): rows first, as LaueMap and LaueTools read it."""
    pixels = ctypes.POINTER(ctypes.c_float)()
    width, height, dtype = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int32()
    _native.call(_native.lib.lauemap_read_image, _native.encode(path), int(frame), _native.encode(dataset),
                 ctypes.byref(pixels), ctypes.byref(width), ctypes.byref(height), ctypes.byref(dtype))
    try:
        values = np.ctypeslib.as_array(pixels, shape=(height.value, width.value)).copy()
    finally:
        _native.lib.lauemap_free(pixels)
    kind = DTYPES[dtype.value]
    return values if kind in ("float32", "float64") else values.astype(kind)


def _frame(image: np.ndarray) -> Tuple[np.ndarray, int]:
    """A C-contiguous 2-D array of a supported dtype and its dtype code."""
    array = np.asarray(image)
    if array.ndim != 2:
        raise LaueMapError(5, {"message": f"image: a 2-D array is needed, not {array.ndim}-D {array.shape}",
                               "reason": "not a 2-D array"})
    if array.dtype.kind == "c":
        raise LaueMapError(5, {"message": f"image: complex pixels ({array.dtype}) are not a detector frame", "reason": "complex pixels"})
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))     # swapped bytes would reach C as they are
    if array.dtype.name not in DTYPES:
        array = array.astype(np.float32)
    return np.ascontiguousarray(array), DTYPES.index(array.dtype.name)


def peaks(image: np.ndarray, calib: Optional[PathLike] = None, *, detection_sigma: Optional[float] = None,
          psf_sigma: Optional[float] = None, broad_spots: Optional[bool] = None, fit: Optional[str] = None) -> pd.DataFrame:
    """Peak search and shapes on a frame: one row per peak with the columns of ``lauemap peaks --csv``
    (x, y, intensity, background, fwhm_major, fwhm_minor, angle_deg, model, eta, streak_length_px, ...;
    with ``calib`` also two_theta, chi, streak_deg), the numbers at full precision (the CSV rounds
    them). Definitions: docs/peaks.md."""
    array, code = _frame(image)
    values, rows, header = ctypes.c_void_p(), ctypes.c_int64(), ctypes.c_void_p()
    opts = _native.options({"detection_sigma": detection_sigma, "psf_sigma": psf_sigma, "broad_spots": broad_spots, "fit": fit})
    _native.call(_native.lib.lauemap_peaks_columns, array.ctypes.data_as(ctypes.c_void_p), code, array.shape[1], array.shape[0],
                 _native.encode(calib), opts, ctypes.byref(values), ctypes.byref(rows), ctypes.byref(header))
    try:
        columns = json.loads(_native.take_string(header))
        n, names = rows.value, columns["names"]
        data = np.ctypeslib.as_array(ctypes.cast(values, ctypes.POINTER(ctypes.c_double)), shape=(len(names), max(n, 1)))[:, :n].copy()
    finally:
        _native.lib.lauemap_free(values)
    models = np.array(columns["models"], dtype=object)
    table = {}
    for k, (name, digits) in enumerate(zip(names, columns["digits"])):
        if name == "model":
            table[name] = models[data[k].astype(np.int64)]
        elif digits is None:
            table[name] = data[k].astype(np.int64)
        else:
            table[name] = data[k]
    return pd.DataFrame(table)


def _indexing(values: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()}


def index(spots: Union[pd.DataFrame, np.ndarray], calib: PathLike, material: str, *, energy: Optional[Tuple[float, float]] = None,
          strain: Optional[bool] = None, grains: Optional[int] = None, min_peaks: Optional[int] = None,
          min_indexed: Optional[int] = None, unambiguous_indexed: Optional[int] = None, retry_seed_spots: Optional[int] = None,
          max_chance: Optional[float] = None,
          max_deviation: Optional[float] = None, max_deviation_deg: Optional[float] = None, min_fraction: Optional[float] = None,
          side_calib: Sequence[PathLike] = ()) -> dict:
    """Indexes a peak list (a DataFrame as ``peaks`` returns: its index_x, index_y and intensity columns,
    or x, y, intensity; or an (n, 3) array):
    the document of ``lauemap index --json`` (status, reason, grains with phase, orientation_matrix,
    n_indexed, mean_deviation_px, strain, spots). ``material``: a built-in name or JSON file, or several
    comma-separated for several phases. Peaks of several detectors of one point (34-ID-E's top and side
    detectors) index jointly: a ``detector`` column (or a fourth array column) gives each peak's detector,
    0 for ``calib``'s, k for ``side_calib[k - 1]``'s; the spots then carry their detector. docs/indexing.md."""
    detector = None
    if isinstance(spots, pd.DataFrame):
        # The peaks table's index_x, index_y: the position that stands for each peak in indexing (a
        # streak's moment centre), as `lauemap index` uses it; x, y in tables without them.
        names = ("index_x", "index_y", "intensity") if {"index_x", "index_y"} <= set(spots.columns) else ("x", "y", "intensity")
        columns = [spots[c].to_numpy(dtype=np.float64) for c in names]
        if "detector" in spots.columns:
            detector = spots["detector"].to_numpy()
    else:
        table = np.asarray(spots, dtype=np.float64)
        if table.ndim != 2 or table.shape[1] < 3:
            raise LaueMapError(5, {"message": f"spots: an (n, 3) array of x, y, intensity is needed, not {table.shape}"})
        columns = [np.ascontiguousarray(table[:, k]) for k in range(3)]
        if table.shape[1] >= 4:
            detector = table[:, 3]
    columns = [np.ascontiguousarray(c) for c in columns]
    if detector is not None:
        if not np.all(np.isfinite(detector)) or np.any(detector != np.round(detector)) or np.any(np.abs(detector) > 1000):
            raise LaueMapError(5, {"message": "spots: detector must hold whole numbers (0 main, k side_calib[k - 1])"})
        detector = np.ascontiguousarray(detector, dtype=np.int32)
    pointer = ctypes.POINTER(ctypes.c_double)
    out = ctypes.c_void_p()
    opts = _native.options(_indexing({"energy": energy, "strain": strain, "grains": grains, "min_peaks": min_peaks,
                                      "min_indexed": min_indexed, "unambiguous_indexed": unambiguous_indexed, "retry_seed_spots": retry_seed_spots, "max_chance": max_chance, "max_deviation": max_deviation,
                                      "max_deviation_deg": max_deviation_deg, "min_fraction": min_fraction})
                           | ({"side_calib": [os.fspath(p) for p in side_calib]} if side_calib else {}))
    _native.call(_native.lib.lauemap_index, *[c.ctypes.data_as(pointer) for c in columns],
                 None if detector is None else detector.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), len(columns[0]),
                 _native.encode(calib), _native.encode(material), opts, ctypes.byref(out))
    return json.loads(_native.take_string(out))


def classify(image: np.ndarray, calib: PathLike, material: str, *, label: str = "frame", beam_size: Optional[float] = None,
             psf_sigma: Optional[float] = None, **indexing: Any) -> Tuple[pd.Series, pd.DataFrame]:
    """The pipeline of ``lauemap scan run`` on one frame: peak search, indexing, defect classification.
    Returns the pattern's row (a Series with the columns of patterns.csv: class, confidence, axis, spread,
    tilt, orientation u11-u33, ...) and its indexed spots (the columns of peaks.csv). Keyword options:
    beam_size (µm), psf_sigma (px) and those of ``index``. docs/classification.md."""
    array, code = _frame(image)
    out = ctypes.c_void_p()
    opts = _native.options(_indexing({"beam_size": beam_size, "psf_sigma": psf_sigma, **indexing}))
    _native.call(_native.lib.lauemap_classify, array.ctypes.data_as(ctypes.c_void_p), code, array.shape[1], array.shape[0],
                 _native.encode(calib), _native.encode(material), _native.encode(label), opts, ctypes.byref(out))
    result = json.loads(_native.take_string(out))
    return read_table(io.StringIO(result["pattern"])).iloc[0], read_table(io.StringIO(result["spots"]))


def simulate(material: str, detector: PathLike = "aps", *, matrix: Optional[np.ndarray] = None, defect: str = "no_defect",
             axis: Optional[Tuple[float, ...]] = None, spread: Optional[float] = None, tilt: Optional[Union[float, Tuple[float, ...]]] = None,
             orientations: Optional[int] = None, weight: Optional[float] = None, profile: Optional[str] = None,
             energy: Optional[Tuple[float, float]] = None, noise: bool = True, seed: int = 1) -> Tuple[np.ndarray, dict]:
    """Simulates one pattern as ``lauemap simulate pattern`` does: a float32 frame and its truth (class,
    orientation_matrix, axis_lab, spots). ``detector``: a built-in name (aps, marccd, medium, ...) or a
    .det file; ``matrix``: LaueTools UB (3x3), default a random orientation drawn from ``seed``.
    docs/simulation.md."""
    values = {"matrix": None if matrix is None else [float(v) for v in np.asarray(matrix, dtype=float).ravel()],
              "defect": defect, "axis": None if axis is None else [float(v) for v in axis], "spread": spread,
              "tilt": None if tilt is None else ([float(tilt)] if np.isscalar(tilt) else [float(v) for v in tilt]),
              "orientations": orientations, "weight": weight, "profile": profile,
              "energy": None if energy is None else [float(v) for v in energy], "noise": bool(noise), "seed": int(seed)}
    pixels = ctypes.POINTER(ctypes.c_float)()
    width, height, truth = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_void_p()
    _native.call(_native.lib.lauemap_simulate, _native.encode(detector), _native.encode(material), _native.options(values),
                 ctypes.byref(pixels), ctypes.byref(width), ctypes.byref(height), ctypes.byref(truth))
    try:
        frame = np.ctypeslib.as_array(pixels, shape=(height.value, width.value)).copy()
    finally:
        _native.lib.lauemap_free(pixels)
    return frame, json.loads(_native.take_string(truth))
