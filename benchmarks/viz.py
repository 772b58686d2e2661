"""The views on a 10k x 384 local index, measured against the goals of issue 5.

    python benchmarks/viz.py [--rows 10000] [--repeat 5] [--no-umap]

Seeded random data (40 gaussian clusters, cosine), three metadata columns, an engine kept on disk in
a temporary folder. Goals:
    plot_neighbourhood, default method (auto: PCA for its 2,000-point background), warm kernel   < 1.5 s
    the same with the projection cached (another query, colour and filter)                        < 0.3 s
    after a kernel restart (a new process, a new engine on the same folder): the cached map       < 0.5 s
UMAP is measured too (no goal): the first fit in a new process (numba compiles) and a repeat fit.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from collections.abc import Callable

import numpy as np

import vectorize_nb as vz
from vectorize_nb import viz
from vectorize_nb.viz import cache_info, clear_cache, plot_neighbourhood
from vectorize_nb.viz.maps import cache_folder

D = 384
NAME = "bench"
GENRES = [f"genre-{i}" for i in range(10)]
GOALS = {"warm": 1.5, "cached": 0.3, "restart": 0.5}


def data(n: int) -> tuple[list[str], np.ndarray, list[dict]]:
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((40, D)).astype(np.float32)
    matrix = centres[rng.integers(0, 40, n)] + 0.6 * rng.standard_normal((n, D), dtype=np.float32)
    metadata = [{"genre": GENRES[i % 10], "year": 1950 + i % 70, "rating": round(float(rng.uniform(1, 10)), 1)}
                for i in range(n)]
    return [f"doc-{i:05d}" for i in range(n)], matrix, metadata


def build(folder: Path, n: int) -> np.ndarray:
    ids, matrix, metadata = data(n)
    with vz.connect("local", path=folder) as client:
        index = client.create_index(NAME, dimensions=D)
        index.create_metadata_index("genre", "string")
        index.upsert(ids, matrix, metadata=metadata, progress=False)
    return matrix


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def neighbourhood(index: vz.Index, query: np.ndarray) -> object:
    return plot_neighbourhood(index, query, color="genre", hover=["year", "rating"], filter={"genre": "genre-3"})


def warm_and_cached(folder: Path, queries: np.ndarray, repeat: int) -> dict[str, float]:
    with vz.connect("local", path=folder) as client:
        index = client.get_index(NAME)
        index.query(queries[0])  # the engine loads its table: not the views' cost
        neighbourhood(index, queries[0])  # imports plotly, warms numpy: a warm kernel
        warm, cached = [], []
        for query in queries[:repeat]:
            clear_cache()
            shutil.rmtree(cache_folder(index), ignore_errors=True)
            warm.append(timed(lambda: neighbourhood(index, query)))
            cached.append(timed(lambda: neighbourhood(index, query[::-1].copy())))
            assert (cache_info()["misses"], cache_info()["memory_hits"]) == (1, 1), cache_info()
    return {"warm": statistics.median(warm), "cached": statistics.median(cached)}


def child(task: str, folder: Path) -> dict[str, float]:
    """Run `task` in a new Python process (a restarted kernel) and return what it measured."""
    result = subprocess.run([sys.executable, __file__, "--child", task, str(folder)], capture_output=True,
                            text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def restart_task(folder: Path) -> dict[str, float]:
    import plotly.graph_objects  # noqa: F401  (imports are not the cache's cost)

    query = data(1)[1][0]
    with vz.connect("local", path=folder) as client:
        index = client.get_index(NAME)
        first = timed(lambda: neighbourhood(index, query))
        assert cache_info()["disk_hits"] == 1 and cache_info()["misses"] == 0, cache_info()
        clear_cache()
        again = timed(lambda: neighbourhood(index, query))
    return {"restart": first, "restart, engine already loaded": again}


def umap_task(folder: Path) -> dict[str, float]:
    with vz.connect("local", path=folder) as client:
        index = client.get_index(NAME)
        vectors = np.asarray(index.to_frame()["values"].tolist(), dtype=np.float32)
    first = timed(lambda: viz.project(vectors, "umap", metric="cosine", progress=False))
    repeat = timed(lambda: viz.project(vectors, "umap", metric="cosine", progress=False))
    return {"umap first fit": first, "umap repeat fit": repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-umap", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("TASK", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, folder = args.child
        print(json.dumps({"restart": restart_task, "umap": umap_task}[task](Path(folder))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "store"
        matrix = build(folder, args.rows)
        print(f"plot_neighbourhood on {args.rows:,} x {D} (cosine), background 2,000, top_k 20, colour and filter; "
              f"medians of {args.repeat}")
        results = warm_and_cached(folder, matrix[:: max(1, args.rows // args.repeat)], args.repeat)
        results.update(child("restart", folder))
        for name, seconds in results.items():
            goal = GOALS.get(name)
            verdict = "" if goal is None else f"goal < {goal:.1f} s  {'ok' if seconds < goal else 'MISSED'}"
            print(f"  {name:<34} {seconds:7.3f} s   {verdict}")
        if not args.no_umap:
            print(f"UMAP of all {args.rows:,} vectors in a new process (exact neighbour graph, n_jobs=1, seeded)")
            for name, seconds in child("umap", folder).items():
                print(f"  {name:<34} {seconds:7.3f} s")


if __name__ == "__main__":
    main()
