"""Each notebook cell run a second time, as a user reruns the cell they just ran, works as the first time did."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def _every_cell_twice(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    cells = []
    for cell in notebook.cells:
        cells.append(cell)
        if cell.cell_type == "code":
            cells.append(copy.deepcopy(cell))
    notebook.cells = cells
    return notebook


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_every_cell_runs_again_right_after_it_ran(path, tmp_path):
    """Notebook 5's create cell, run again, raised DuplicateIndexName."""
    folder = shutil.copytree(path.parent, tmp_path / "notebooks")
    notebook = _every_cell_twice(folder / path.name)
    where = {"metadata": {"path": str(folder)}}  # the notebooks' relative paths, in a copy
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources=where).execute()
