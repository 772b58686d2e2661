"""The committed notebooks hold their sources and the outputs nbval compares, nothing from a past run."""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_carries_no_state_of_the_run_that_made_it(path):
    notebook = nbformat.read(path, as_version=4)
    assert "widgets" not in notebook.metadata  # widget models of a past kernel: dead weight
    for cell in notebook.cells:
        assert "execution" not in cell.metadata
        if cell.cell_type == "code" and cell.outputs:
            assert cell.source.startswith("# NBVAL_CHECK_OUTPUT"), cell.source[:60]
