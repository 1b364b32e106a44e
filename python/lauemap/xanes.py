"""Micro-XANES with LaueMap: Larch's ``pre_edge`` normalisation, ported step for step (docs/xanes.md)."""
from __future__ import annotations

import ctypes
import json
from types import SimpleNamespace
from typing import Optional

import numpy as np

from . import _native

ARRAYS = ("energy", "norm", "flat", "pre_edge", "post_edge")


def normalize(energy, mu, *, e0: Optional[float] = None, pre1: Optional[float] = None, pre2: Optional[float] = None,
              norm1: Optional[float] = None, norm2: Optional[float] = None, nnorm: Optional[int] = None) -> SimpleNamespace:
    """Normalises one spectrum as Larch's ``pre_edge`` does, with Larch's keyword names (ranges relative
    to e0, eV; None: Larch's default). Returns a namespace like Larch's group: e0, edge_step, pre1, pre2,
    norm1, norm2, nnorm, npre, pre_offset, pre_slope, norm_coefs, half_height_e, white_line_e and the
    arrays energy, norm, flat, pre_edge, post_edge (numpy)."""
    e = np.ascontiguousarray(np.asarray(energy, dtype=np.float64).ravel())
    m = np.ascontiguousarray(np.asarray(mu, dtype=np.float64).ravel())
    if e.shape != m.shape:
        raise _native.LaueMapError(5, {"message": f"energy and mu differ in length ({e.size} and {m.size})",
                                       "reason": "energy and mu differ in length"})
    pointer = ctypes.POINTER(ctypes.c_double)
    out = ctypes.c_void_p()
    opts = _native.options({"e0": e0, "pre1": pre1, "pre2": pre2, "norm1": norm1, "norm2": norm2, "nnorm": nnorm})
    _native.call(_native.lib.lauemap_xanes_normalize, e.ctypes.data_as(pointer), m.ctypes.data_as(pointer), e.size, opts,
                 ctypes.byref(out))
    result = json.loads(_native.take_string(out))
    for key in ARRAYS:
        result[key] = np.asarray(result[key], dtype=np.float64)
    result["mu"] = m
    return SimpleNamespace(**result)
