"""Fixtures of the Python tests: the repository, LaueMap's command-line tool, fixture files (xz
decompressed into .build/fixture-cache as the Swift tests do), a temporary folder."""
import json
import lzma
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / ".build" / "release" / "lauemap"


def fixture(name: str) -> str:
    """Path of a fixture, decompressing NAME.xz on first use."""
    plain = ROOT / "Fixtures" / name
    if plain.exists():
        return str(plain)
    compressed = plain.with_name(plain.name + ".xz")
    cache = ROOT / ".build" / "fixture-cache" / name.replace("/", "_")
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        temp = cache.with_name(cache.name + f".tmp{os.getpid()}")
        temp.write_bytes(lzma.decompress(compressed.read_bytes()))
        temp.replace(cache)
    return str(cache)


def cli(*args: str) -> str:
    """Runs `lauemap ARGS...`, returns its standard output; fails the test on a non-zero status."""
    done = subprocess.run([str(CLI), *args], capture_output=True, text=True)
    assert done.returncode == 0, f"lauemap {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def ge_frame() -> str:
    return fixture("lauetools/Ge_blanc_0000.mccd")


@pytest.fixture(scope="session")
def ge_calib() -> str:
    return fixture("lauetools/calibGe111.det")
