"""Run notebooks afresh and keep what the repository holds of them: their sources, and the outputs of
the cells nbval compares (`# NBVAL_CHECK_OUTPUT`), nothing else of the run.

    python tools/refresh_notebooks.py notebooks/02_dataframes_and_filters.ipynb [...]

Each notebook runs in a temporary copy of the notebooks folder (so the engine it opens starts empty,
as in CI), with the interpreter running this script as its kernel.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CHECKED = "# NBVAL_CHECK_OUTPUT"


def refresh(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder) / "notebooks"
        shutil.copytree(path.parent, work, ignore=shutil.ignore_patterns(".vectorize", ".ipynb_checkpoints"))
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(work)}}).execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code" and not cell.source.startswith(CHECKED):
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)
    print(f"refreshed {path}")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        refresh(Path(name))
