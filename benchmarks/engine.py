"""The local engine against a plain numpy baseline on the same matrix, measured side by side.

    python benchmarks/engine.py                 # N = 100k and 1M, d = 384 (needs ~2 GB of disk)
    python benchmarks/engine.py --sizes 100000  # quicker

Everything is built here from a seeded generator. Each ratio compares medians of runs interleaved
in blocks in this process, so machine-wide noise hits both sides alike. Goals (issue 2):
    single exact query at 1M           <= 1.15 x  (X @ q + argpartition)
    query filtered to 10% by a string  <= 0.30 x  the engine's own unfiltered query
    100 queries in one batch           <= 1.20 x  (bare X @ Q.T)
    upsert into the durable store      >= 100k vectors/s
    reopening a store to its first answer, also straight after its ingest and after its writer was
    killed (issue 15)                  <  3 s, resident memory <= 1.3 x the float32 matrix,
                                       the folder on disk <= 1.2 x the raw float32 matrix
The ingests run in child processes: one closes its engine, the other is killed after its last batch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import median_time

from vectorize_nb.local import LocalEngine
from vectorize_nb.contract.models import QueryOptions, Vectors

D, K, GENRES, BATCH = 384, 10, 10, 5000


def data(n: int) -> tuple[np.ndarray, list[str], list[dict]]:
    rng = np.random.default_rng(384)
    matrix = rng.standard_normal((n, D), dtype=np.float32)
    ids = [f"doc-{i}" for i in range(n)]
    genres = rng.integers(0, GENRES, n)
    metadata = [{"genre": f"genre-{g}", "year": 1950 + i % 70, "lang": "en"} for i, g in enumerate(genres)]
    return matrix, ids, metadata


def side_by_side(a, b, repeat: int, block: int = 5) -> tuple[float, float]:
    """Medians of a and b, run in alternating blocks of `block` calls, so that drift hits both alike
    while each side runs warm, as a repeated query does."""
    ta: list[float] = []
    tb: list[float] = []
    while len(ta) < repeat:
        ta.extend(median_time(a, 1) for _ in range(block))
        tb.extend(median_time(b, 1) for _ in range(block))
    return statistics.median(ta), statistics.median(tb)


def ingest(folder: Path, n: int, kill: bool = False) -> float:
    """Upsert the data set into a new store in a child process; returns vectors per second. With
    `kill`, the child is killed (SIGKILL) after its last batch instead of closing its engine."""
    command = [sys.executable, __file__, "--ingest", str(folder), str(n)] + (["--kill"] if kill else [])
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        rate = float(child.stdout.readline())
        if kill:
            os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
        child.stdout.close()
    return rate


def ingest_child(folder: Path, n: int, kill: bool) -> None:
    matrix, ids, metadata = data(n)
    engine = LocalEngine(folder)
    engine.create_index("bench", dimensions=D, metric="cosine")
    engine.create_metadata_index("bench", "genre", "string")
    start = time.perf_counter()
    for at in range(0, len(ids), BATCH):
        engine.upsert("bench", Vectors(ids[at:at + BATCH], matrix[at:at + BATCH], metadata[at:at + BATCH]))
    print(len(ids) / (time.perf_counter() - start), flush=True)
    if kill:
        time.sleep(600)
    engine.close()


def disk(folder: Path, n: int) -> dict[str, float]:
    """The folder's size on disk (allocated blocks) and its files' apparent size, over the raw matrix."""
    files = [path for path in folder.rglob("*") if path.is_file()]
    raw = n * D * 4
    return {"folder on disk / raw matrix": sum(f.stat().st_blocks * 512 for f in files) / raw,
            "folder apparent size / raw matrix": sum(f.stat().st_size for f in files) / raw}


def search(folder: Path, matrix: np.ndarray, metadata: list[dict], repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(7)
    query = rng.standard_normal(D, dtype=np.float32)
    queries = rng.standard_normal((100, D), dtype=np.float32)
    out: dict[str, float] = {}
    with LocalEngine(folder) as engine:
        engine.query("bench", query, QueryOptions(top_k=K))  # load into memory

        def baseline():
            scores = matrix @ query
            np.argpartition(scores, len(scores) - K)[-K:]

        unfiltered = lambda: engine.query("bench", query, QueryOptions(top_k=K))
        filtered = lambda: engine.query("bench", query, QueryOptions(top_k=K, filter={"genre": "genre-3"}))
        base, ours = side_by_side(baseline, unfiltered, repeat)
        out["single query / numpy"] = ours / base
        mask = np.array([m["genre"] == "genre-3" for m in metadata], dtype=bool)
        gather = lambda: np.argpartition(matrix[mask] @ query, int(mask.sum()) - K)[-K:]
        ours_unfiltered, ours_filtered = side_by_side(unfiltered, filtered, repeat)
        out["filtered 10% / unfiltered"] = ours_filtered / ours_unfiltered
        naive, _ = side_by_side(gather, filtered, repeat)
        out["numpy X[mask] @ q / unfiltered"] = naive / ours_unfiltered
        gemm = lambda: matrix @ queries.T
        batched = lambda: engine.query_many("bench", queries, QueryOptions(top_k=K))
        base_batch, ours_batch = side_by_side(gemm, batched, max(3, repeat // 3), block=1)
        out["100-query batch / bare gemm"] = ours_batch / base_batch
        out["single query ms"] = ours * 1e3
        out["batch ms"] = ours_batch * 1e3
    return out


REOPEN = """
import json, sys, time
import numpy as np
from vectorize_nb.local import LocalEngine
from vectorize_nb.contract.models import QueryOptions

def status(field):
    return int(next(l for l in open("/proc/self/status") if l.startswith(field)).split()[1]) * 1024

before = status("VmRSS")
start = time.perf_counter()
engine = LocalEngine(sys.argv[1])
engine.query("bench", np.ones(384, np.float32), QueryOptions(top_k=10))
elapsed = time.perf_counter() - start
# VmHWM, not ru_maxrss: the latter is inherited from the parent across fork and exec
print(json.dumps({"seconds": elapsed, "rss": status("VmRSS"), "rss_before": before, "peak": status("VmHWM")}))
"""


def reopen(folder: Path, n: int, label: str = "reopen") -> dict[str, float]:
    result = json.loads(subprocess.run([sys.executable, "-c", REOPEN, str(folder)], capture_output=True,
                                       text=True, check=True).stdout)
    raw = n * D * 4
    return {f"{label} + first query s": result["seconds"], f"{label}: resident / raw matrix": result["rss"] / raw,
            f"{label}: resident added / raw": (result["rss"] - result["rss_before"]) / raw,
            f"{label}: peak resident / raw": result["peak"] / raw}


def report(values: dict[str, float]) -> None:
    for name, value in values.items():
        print(f"  {name:<42} {value:8.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--folder", type=Path, default=None, help="where to build the stores (default: a temp dir)")
    parser.add_argument("--ingest", nargs=2, metavar=("FOLDER", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--kill", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest:
        return ingest_child(Path(args.ingest[0]), int(args.ingest[1]), args.kill)
    root = Path(tempfile.mkdtemp(prefix="vectorize-bench-", dir=args.folder))
    try:
        for n in args.sizes:
            print(f"\nN = {n:,} x d = {D}, topK = {K}", flush=True)
            killed = root / f"killed{n}"
            print(f"  upsert, writer killed after its last batch: {ingest(killed, n, kill=True):,.0f} vectors/s")
            report({**reopen(killed, n, "first open after a killed writer"), **disk(killed, n)})
            shutil.rmtree(killed)
            folder = root / f"n{n}"
            print(f"  upsert into the durable store: {ingest(folder, n):,.0f} vectors/s")
            report({**reopen(folder, n, "first open after ingest"), **disk(folder, n)})
            matrix, _, metadata = data(n)
            report(search(folder, matrix, metadata, args.repeat))
            del matrix, metadata
            report({**reopen(folder, n), **disk(folder, n)})
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
