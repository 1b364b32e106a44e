"""ctypes binding of liblauemapc.so, LaueMap's C interface (Sources/LaueMapC/lauemap.h).

The library is looked for, in order: the path in the LAUEMAP_LIBRARY environment variable, a copy
installed with the package (``pip install ./python`` after ``swift build -c release --product
lauemapc``), and the build folder of the repository this package sits in (``.build/release``).
ctypes releases the GIL for the duration of every call, so other Python threads run meanwhile.
"""
from __future__ import annotations

import ctypes
import json
import os
from pathlib import Path
from typing import Any, Optional

LIBRARY_NAME = "liblauemapc.so"
ERROR_CAPACITY = 4096

# dtype codes of the C interface, in LaueMap's PixelType order.
DTYPES = ["uint8", "uint16", "uint32", "int16", "int32", "float32", "float64"]


class LaueMapError(Exception):
    """An error LaueMap reported: ``kind`` (e.g. ``unreadable``, ``invalid_argument``), the ``file``
    and ``item`` concerned when known, and the ``reason``; ``str()`` is LaueMap's one-line message."""

    KINDS = {1: "unreadable", 2: "invalid_format", 3: "unsupported", 4: "missing_data", 5: "invalid_argument",
             6: "unknown_material", 7: "numerical", 8: "external", 99: "internal"}

    def __init__(self, status: int, detail: dict):
        self.status = status
        self.kind: str = self.KINDS.get(status, "internal")
        self.file: Optional[str] = detail.get("file")
        self.item: Optional[str] = detail.get("item")
        self.reason: str = detail.get("reason", "")
        super().__init__(detail.get("message") or self.reason or f"LaueMap error {status}")


def _candidates():
    env = os.environ.get("LAUEMAP_LIBRARY")
    if env:
        yield Path(env)
    here = Path(__file__).resolve().parent
    yield here / LIBRARY_NAME
    for parent in here.parents:
        if (parent / "Package.swift").exists():
            yield parent / ".build" / "release" / LIBRARY_NAME
            break


def _load() -> ctypes.CDLL:
    tried = []
    for path in _candidates():
        tried.append(str(path))
        if path.exists():
            return ctypes.CDLL(str(path))
    raise ImportError("liblauemapc.so not found (build it with `swift build -c release --product lauemapc`, "
                      "then `pip install ./python`, or set LAUEMAP_LIBRARY); looked in: " + ", ".join(tried))


lib = _load()

_c_char_pp = ctypes.POINTER(ctypes.c_char_p)
_float_pp = ctypes.POINTER(ctypes.POINTER(ctypes.c_float))
_i64p = ctypes.POINTER(ctypes.c_int64)
_i32p = ctypes.POINTER(ctypes.c_int32)
_dp = ctypes.POINTER(ctypes.c_double)
_err = [ctypes.c_char_p, ctypes.c_int64]

lib.lauemap_version.restype = ctypes.c_char_p
lib.lauemap_version.argtypes = []
lib.lauemap_free.restype = None
lib.lauemap_free.argtypes = [ctypes.c_void_p]
for name, args in {
    "lauemap_read_image": [ctypes.c_char_p, ctypes.c_int64, ctypes.c_char_p, _float_pp, _i64p, _i64p, _i32p],
    "lauemap_peaks": [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64, ctypes.c_int64, ctypes.c_char_p, ctypes.c_char_p,
                      ctypes.POINTER(ctypes.c_void_p)],
    "lauemap_peaks_columns": [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64, ctypes.c_int64, ctypes.c_char_p, ctypes.c_char_p,
                              ctypes.POINTER(ctypes.c_void_p), _i64p, ctypes.POINTER(ctypes.c_void_p)],
    "lauemap_peaks_search_seconds": [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64, ctypes.c_int64, ctypes.c_char_p,
                                     ctypes.POINTER(ctypes.c_double)],
    "lauemap_index": [_dp, _dp, _dp, _i32p, ctypes.c_int64, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                      ctypes.POINTER(ctypes.c_void_p)],
    "lauemap_classify": [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64, ctypes.c_int64, ctypes.c_char_p, ctypes.c_char_p,
                         ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)],
    "lauemap_simulate": [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, _float_pp, _i64p, _i64p,
                         ctypes.POINTER(ctypes.c_void_p)],
    "lauemap_xanes_normalize": [_dp, _dp, ctypes.c_int64, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)],
}.items():
    function = getattr(lib, name)
    function.restype = ctypes.c_int32
    function.argtypes = args + _err


def encode(value: Optional[Any]) -> Optional[bytes]:
    """A str or path as a C string (None stays NULL)."""
    if value is None:
        return value
    data = value if isinstance(value, bytes) else os.fsencode(os.fspath(value)) if isinstance(value, os.PathLike) else str(value).encode()
    if b"\0" in data:
        # C would read the text only up to the NUL: "Si\0x" would silently be "Si".
        raise ValueError(f"{value!r}: text passed to LaueMap cannot hold a NUL character")
    return data


def options(values: dict) -> bytes:
    """Named options as the JSON object the C functions take (None values left out)."""
    return json.dumps({k: v for k, v in values.items() if v is not None}).encode()


def call(function, *args) -> None:
    """Calls a C function with an error buffer; raises LaueMapError on a non-zero status."""
    buffer = ctypes.create_string_buffer(ERROR_CAPACITY)
    status = function(*args, buffer, ERROR_CAPACITY)
    if status != 0:
        text = buffer.value.decode("utf-8", "replace")
        try:
            detail = json.loads(text)
        except ValueError:
            detail = {"message": text}
        raise LaueMapError(status, detail)


def take_string(pointer: ctypes.c_void_p) -> str:
    """The text of a malloc'ed C string the library returned, freed."""
    try:
        return ctypes.string_at(pointer.value).decode("utf-8")
    finally:
        lib.lauemap_free(pointer)
