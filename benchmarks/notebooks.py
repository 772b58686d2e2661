"""The shipped notebooks within a Binder-sized session: each run top to bottom in a fresh kernel.

    python benchmarks/notebooks.py [--notebooks 01_quickstart.ipynb ...] [--session 01 02 03]

For each notebook: the kernel's peak resident memory (VmHWM, read after every cell) and its slowest
cell; for `--session`, the same for those notebooks run one after another in one kernel, as in a
JupyterLab session that keeps its kernel. Each run starts in a copy of notebooks/ with its own cache
folder, so the local engine and the embedding cache start empty. Binder gives a session 1-4 GB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def peak_mb(pid: int) -> float:
    """The process's peak resident memory so far, in MB (Linux)."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def run(names: list[str]) -> tuple[float, float, str]:
    """(peak MB, seconds of the slowest cell, that cell's first line) of `names` run in one new kernel."""
    with tempfile.TemporaryDirectory() as work:
        folder = Path(shutil.copytree(NOTEBOOKS, Path(work) / "notebooks"))
        os.environ["XDG_CACHE_HOME"] = str(Path(work) / "cache")
        notebook = nbformat.read(folder / names[0], as_version=4)
        notebook.cells = [cell for name in names for cell in nbformat.read(folder / name, as_version=4).cells
                          if cell.cell_type == "code"]
        client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                                resources={"metadata": {"path": str(folder)}})
        cells: list[tuple[float, float, str]] = []
        started = [0.0]

        def before(**_: Any) -> None:
            started[0] = time.perf_counter()

        def after(cell: Any, **_: Any) -> None:
            pid = client.km.provisioner.process.pid  # type: ignore[union-attr]
            cells.append((time.perf_counter() - started[0], peak_mb(pid), cell.source.splitlines()[0][:60]))

        client.on_cell_execute, client.on_cell_executed = before, after
        client.execute()
    seconds, _, line = max(cells)
    return max(peak for _, peak, _ in cells), seconds, line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", nargs="*", default=sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")))
    parser.add_argument("--session", nargs="*", default=["01", "02", "03"],
                        help="prefixes of the notebooks run one after another in one kernel (none: skip)")
    options = parser.parse_args()
    runs = [[name] for name in options.notebooks]
    if options.session:
        runs.append([name for prefix in options.session for name in sorted(path.name for path in
                                                                            NOTEBOOKS.glob(f"{prefix}*.ipynb"))])
    print(f"{'notebooks':<60} {'peak RSS':>9}  slowest cell")
    for names in runs:
        peak, seconds, line = run(names)
        print(f"{' + '.join(names):<60} {peak:>6.0f} MB  {seconds:5.1f} s  {line}", flush=True)


if __name__ == "__main__":
    main()
