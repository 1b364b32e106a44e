"""A finished scan run folder (``lauemap scan run``/``scan merge``/``import``) as pandas and xarray."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

import pandas as pd

from ._native import LaueMapError


@dataclass
class Run:
    """patterns: one row per pattern (patterns.csv); peaks: the indexed spots (peaks.csv); maps: an
    xarray Dataset of the maps of results.h5 on (y_um, x_um) in µm (class, streak_extent_deg,
    misorientation_deg, kam_deg, ipf_rgb with a third dimension rgb, ...), with their units and legends
    as attributes; phases: the maps of every other phase of a run of several materials, by name;
    metadata: run.json (provenance, settings, invocations)."""
    folder: Path
    patterns: pd.DataFrame
    peaks: pd.DataFrame
    maps: "Optional[object]"
    phases: Dict[str, object] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)


# Text columns of patterns.csv and peaks.csv: read as text, empty as "" (numbers: empty as NaN).
TEXT_COLUMNS = {"file": str, "status": str, "class": str, "reason": str, "tilts_deg": str, "indexed_by": str, "phase": str,
                "other_grains": str, "label": str, "subpeak_offsets_px": str}


def read_table(source) -> pd.DataFrame:
    """A patterns.csv or peaks.csv (path or text buffer) as LaueMap writes it: numbers as float (empty:
    NaN), text columns as text (empty: "")."""
    frame = pd.read_csv(source, keep_default_na=False, na_values=[""], dtype=TEXT_COLUMNS)
    for column in TEXT_COLUMNS:
        if column in frame:
            frame[column] = frame[column].fillna("")
    return frame


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _dataset(group) -> "object":
    import numpy as np
    import xarray as xr

    x = np.asarray(group["x_um"][()])
    y = np.asarray(group["y_um"][()])
    variables = {}
    for name, item in group.items():
        if name in ("x_um", "y_um", "phases") or not hasattr(item, "shape") or len(item.shape) < 2:
            continue
        if item.shape[:2] != (len(y), len(x)) or not _text(item.attrs.get("axes", "")).startswith("y_um,x_um"):
            continue                                           # not a map (e.g. the 3x3 mean orientation)
        dims = ("y_um", "x_um") + (("rgb",) if len(item.shape) == 3 else ())
        attrs = {k: _text(v) for k, v in item.attrs.items() if k in ("units", "legend", "description")}
        variables[name] = xr.DataArray(item[()], dims=dims, attrs=attrs)
    coords = {"x_um": ("x_um", x, {"units": "um"}), "y_um": ("y_um", y, {"units": "um"})}
    return xr.Dataset(variables, coords=coords)


def load_run(folder: "os.PathLike[str] | str") -> Run:
    """Loads a run folder: patterns.csv and peaks.csv as DataFrames (empty cells as NaN, text columns as
    text), the maps of results.h5 as an xarray Dataset with µm coordinates (None when the run has no
    results.h5: a shard), run.json as a dict. Raises LaueMapError naming the file when one is missing or
    unreadable."""
    root = Path(folder)
    patterns_path, peaks_path = root / "patterns.csv", root / "peaks.csv"
    for path in (patterns_path, peaks_path):
        if not path.is_file():
            raise LaueMapError(4, {"file": str(path), "reason": "missing: not a finished scan run folder",
                                   "message": f"{path}: missing: not a finished scan run folder"})
    try:
        patterns, peaks = read_table(patterns_path), read_table(peaks_path)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise LaueMapError(2, {"file": str(root), "reason": str(e), "message": f"{root}: {e}"}) from e
    metadata = {}
    if (root / "run.json").is_file():
        metadata = json.loads((root / "run.json").read_text())
    maps, phases = None, {}
    results = root / "results.h5"
    if results.is_file():
        import h5py

        try:
            with h5py.File(results, "r") as f:
                maps = _dataset(f["maps"])
                if "phases" in f["maps"]:
                    phases = {name: _dataset(group) for name, group in f["maps/phases"].items()}
        except OSError as e:
            raise LaueMapError(1, {"file": str(results), "reason": str(e), "message": f"{results}: {e}"}) from e
    return Run(folder=root, patterns=patterns, peaks=peaks, maps=maps, phases=phases, metadata=metadata)
