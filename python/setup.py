"""Installs the lauemap package with a copy of liblauemapc.so from the repository's release build.

Build the library first (`swift build -c release --product lauemapc` in the repository root), then
`pip install ./python`. The package's ctypes loader also finds the build folder directly, so an
editable install works without the copy.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
LIBRARY = HERE.parent / ".build" / "release" / "liblauemapc.so"


class BuildWithLibrary(build_py):
    def run(self):
        if not LIBRARY.exists():
            raise SystemExit(f"{LIBRARY} not found: run `swift build -c release --product lauemapc` in {HERE.parent} first")
        shutil.copy2(LIBRARY, HERE / "lauemap" / LIBRARY.name)
        super().run()


setup(cmdclass={"build_py": BuildWithLibrary})
