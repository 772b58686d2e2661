"""Every benchmark still runs against the code, on tiny sizes (a script that drifted from the code
fails here rather than on the day its figures are needed). Timings are not checked: the figures live
in the benchmarks' own output, as ratios from one run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

RUNS = {
    "engine.py": ["--sizes", "3000", "--repeat", "1"],
    "copy_index.py": ["--rows", "2000"],
    "cores.py": ["--sizes", "20000", "--threads", "1", "--repeat", "1", "--budget", "60"],
    "frames.py": ["--rows", "2000", "--repeat", "1"],
    "api.py": ["--sizes", "1000", "2000", "5000"],
    "rest.py": ["--cpu-vectors", "5000", "--stdlib-rows", "100", "--concurrency", "1", "--rounds", "2",
                "--latency", "0.01", "--query-vectors", "2000", "--queries", "3", "--repeat", "1",
                "--export-vectors", "200"],
    "rest_deadline.py": ["--interval", "0.01"],
    "viz.py": ["--rows", "1000", "--repeat", "1", "--no-umap"],
    "notebooks.py": ["--notebooks", "01_quickstart.ipynb", "--session"],
    "embeddings.py": ["--texts", "300", "--repeat", "1"],
    "workers_ai.py": ["--concurrency", "1", "--rounds", "2", "--repeat", "1", "--latency", "0.01"],
}
"""serve_memory.py is left out: it builds 99 MB request bodies, and drives only the public HTTP API."""
EMBEDS = {"embeddings.py", "notebooks.py"}
"""The runs that embed text with the shipped model."""


def test_every_benchmark_has_a_smoke_run():
    scripts = {path.name for path in BENCHMARKS.glob("*.py")} - {"timing.py", "serve_memory.py"}
    assert scripts == set(RUNS)


@pytest.mark.slow
@pytest.mark.parametrize("script", [pytest.param(script, marks=[pytest.mark.embeds] if script in EMBEDS else [])
                                    for script in sorted(RUNS)])
def test_a_benchmark_runs_on_tiny_sizes(script, tmp_path):
    env = {**os.environ, "VECTORIZE_NB_PATH": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, script, *RUNS[script]], cwd=BENCHMARKS, capture_output=True, text=True,
                            timeout=240, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()
