"""The example notebook runs top to bottom (docs/examples/lauemap.ipynb): the demo, then a real frame."""
import pytest

from conftest import ROOT


def test_example_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(ROOT / "docs" / "examples" / "lauemap.ipynb", as_version=4)
    # Run in a temporary folder (the demo writes its scans there), the repository named by LAUEMAP_REPO.
    monkeypatch.setenv("LAUEMAP_REPO", str(ROOT))
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
