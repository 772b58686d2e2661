"""The engine's exact search against numpy on a many-core machine, at several thread counts, in one run.

    python benchmarks/cores.py                                    # 1M and 10M x 384; all, 8 and 4 threads
    python benchmarks/cores.py --sizes 200000 --threads 2 1 --budget 120     # a quick check

Prints, per thread count and size: a single query against numpy's `X @ q` + `argpartition`, a
100-query batch against a bare `X @ Q.T`, and a query filtered to 10% against the unfiltered one
(goals: <= 1.15x, <= 1.2x, <= 0.3x). Each is measured twice: right after the other side's calls,
and 0.3 s after them. OpenBLAS's threads spin for a while after a call, on the cores the engine's own
threads then need (the engine itself never wakes them: its scans run in its own threads, its batch
in one BLAS thread per thread of its own), so numpy's calls slow the engine's next ones down on many
cores. The first figure is what a user who alternates the two sees; the second, each side's own
speed. Each thread
count runs in a process of its own with OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS
set to it, so numpy's BLAS and the engine (which follows those variables) get the same number of
threads. Install threadpoolctl (a dependency
of the package) first: without it a batch cannot give each of its threads a single-threaded BLAS,
and runs in one thread with BLAS's own. The data is built in memory in
parallel from a seeded generator, and the engine's resident index is built directly (no SQLite);
numpy and the engine scan the same array. Each ratio compares medians of runs interleaved in blocks.

Then, if the time left allows, the reopen of a folder of the largest size: written through the engine
in large batches, opened once (which writes its warm-start snapshot), then opened again in a new
process to its first answer (goal: < 3 s, resident memory <= 1.3x the float32 matrix, folder on disk
<= 1.2x). That part needs orjson; the search part needs only numpy.

The whole run stops itself within --budget seconds (default 450), printing as it goes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
D, K, GROUPS, BATCH = 384, 10, 10, 100
CHUNK_TRIAL_ROWS = 1_000_000
PAUSE, PAUSES = 0.3, 8
STARTED = float(os.environ.get("VECTORIZE_CORES_STARTED", time.time()))
"""When the run began (children get the parent's time, so that every line counts from one start)."""


def say(text: str) -> None:
    print(f"[{time.time() - STARTED:6.1f}s] {text}", flush=True)


def engine_modules(table_only: bool) -> None:
    """Import the engine from this working tree without the package's own __init__ (which needs
    pandas and the rest): only numpy for the resident index, numpy and orjson for the whole engine."""
    sys.path.insert(0, str(ROOT))
    names = ["vectorize_nb"] + (["vectorize_nb.local"] if table_only else [])
    for name in names:
        package = types.ModuleType(name)
        package.__path__ = [str(ROOT.joinpath(*name.split(".")))]
        sys.modules[name] = package


# --- data ----------------------------------------------------------------------------------------

def parts(n: int, threads: int, seed: int = 0) -> list[tuple[int, int, np.random.SeedSequence]]:
    """Row ranges of n (a few per thread), each with its own seed."""
    count = max(threads * 4, 1)
    bounds = np.linspace(0, n, count + 1).astype(int).tolist()
    return list(zip(bounds[:-1], bounds[1:], np.random.SeedSequence([384, seed]).spawn(count)))


def rows(lo: int, hi: int, seed: np.random.SeedSequence) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((hi - lo, D), dtype=np.float32)


def resident_of(n: int, threads: int):
    """The engine's resident index of n random rows (cosine), every row in one of GROUPS namespaces:
    the rows are made and written (with their norms) by `threads` threads, straight into the resident index."""
    from vectorize_nb.local.resident import ResidentIndex
    from vectorize_nb.local.vectorfile import row_norms

    resident = ResidentIndex(D, "cosine", capacity=n)
    resident.vectors.write(n - 1, np.zeros((1, D), dtype=np.float32))  # room for n rows, none touched yet

    def fill(part: tuple[int, int, np.random.SeedSequence]) -> None:
        values = rows(*part)
        resident.vectors.write(part[0], values, row_norms(values))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(fill, parts(n, threads)))
    names = [f"group-{g}" for g in range(GROUPS)]
    groups = np.random.default_rng(7).integers(0, GROUPS, n).tolist()
    for lo in range(0, n, 1_000_000):
        hi = min(n, lo + 1_000_000)
        resident.place([f"doc-{i}" for i in range(lo, hi)], np.arange(lo, hi), [names[g] for g in groups[lo:hi]], None,
                    new=True)
    return resident


# --- timing --------------------------------------------------------------------------------------

def side_by_side(a, b, repeat: int, block: int, pause: float = 0.0) -> tuple[float, float]:
    """Medians of a and b, run in alternating blocks of `block` calls, each block `pause` s after the other."""
    ta: list[float] = []
    tb: list[float] = []
    while len(ta) < repeat:
        for fn, times in ((a, ta), (b, tb)):
            time.sleep(pause)
            for _ in range(block):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


def paused(fn) -> float:
    """Seconds of one call of fn, made PAUSE seconds after anything else."""
    time.sleep(PAUSE)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(n: int, threads: int, repeat: int) -> None:
    from vectorize_nb.contract.filters import parse_filter
    from vectorize_nb.contract.limits import DEFAULT_LIMITS
    from vectorize_nb.local import search

    start = time.perf_counter()
    resident = resident_of(n, threads)
    X = resident.matrix  # numpy scans the very array the engine scans
    say(f"  N = {n:,}: table built in {time.perf_counter() - start:.1f} s; the engine uses {search.threads()} threads")
    rng = np.random.default_rng(11)
    query = rng.standard_normal(D, dtype=np.float32)
    queries = rng.standard_normal((BATCH, D), dtype=np.float32)

    def numpy_single() -> None:
        scores = X @ query
        np.argpartition(scores, len(scores) - K)[-K:]

    single = lambda: resident.nearest(query[None], K, None)
    group = resident.candidates("group-3", parse_filter(None, DEFAULT_LIMITS))
    filtered = lambda: resident.nearest(query[None], K, group)
    numpy_time, ours = side_by_side(numpy_single, single, repeat, 5)
    say(f"  N = {n:,}: single / numpy        {ours / numpy_time:6.3f}   "
        f"({ours * 1e3:.1f} ms vs {numpy_time * 1e3:.1f} ms)")
    numpy_time, ours = side_by_side(numpy_single, single, repeat, 5, PAUSE)
    say(f"  N = {n:,}: single / numpy, each side {PAUSE} s after the other {ours / numpy_time:6.3f}   "
        f"({ours * 1e3:.1f} ms vs {numpy_time * 1e3:.1f} ms)")
    unfiltered, ours_filtered = side_by_side(single, filtered, repeat, 5)
    say(f"  N = {n:,}: filtered / unfiltered {ours_filtered / unfiltered:6.3f}   ({ours_filtered * 1e3:.1f} ms)")
    rested = statistics.median(paused(filtered) for _ in range(PAUSES))
    say(f"  N = {n:,}: filtered, {PAUSE} s after any call / unfiltered {rested / unfiltered:6.3f}   "
        f"({rested * 1e3:.1f} ms)")
    many = lambda: resident.nearest(queries, K, None)
    gemm, batch = side_by_side(lambda: X @ queries.T, many, max(2, repeat // 4), 1)
    say(f"  N = {n:,}: batch {BATCH} / gemm       {batch / gemm:6.3f}   ({batch * 1e3:.1f} ms vs {gemm * 1e3:.1f} ms)")
    gemm, batch = side_by_side(lambda: X @ queries.T, many, max(2, repeat // 4), 1, PAUSE)
    say(f"  N = {n:,}: batch {BATCH} / gemm, each call {PAUSE} s after the other {batch / gemm:6.3f}   "
        f"({batch * 1e3:.1f} ms vs {gemm * 1e3:.1f} ms)")
    if n <= CHUNK_TRIAL_ROWS:  # how the batch's chunk size does on this machine, for tuning BATCH_VALUES
        default = search.BATCH_VALUES
        for values in (default // 4, default * 4):
            search.BATCH_VALUES = values
            gemm, batch = side_by_side(lambda: X @ queries.T, lambda: resident.nearest(queries, K, None), 3, 1, PAUSE)
            say(f"  N = {n:,}: batch / gemm with chunks of {values:,} similarities: {batch / gemm:6.3f}")
        search.BATCH_VALUES = default


def child(threads: int, sizes: list[int], repeat: int) -> None:
    engine_modules(table_only=True)
    for n in sizes:
        measure(n, threads, repeat)


# --- reopening a folder ------------------------------------------------------------------------

def status(field: str) -> int:
    """A line of /proc/self/status in bytes (VmHWM, not ru_maxrss: that one is inherited across exec)."""
    with open("/proc/self/status", encoding="utf-8") as lines:
        return int(next(line for line in lines if line.startswith(field)).split()[1]) * 1024


def reopen_child(folder: Path) -> None:
    """Open the folder and answer one query; print the time and the resident memory as JSON."""
    engine_modules(table_only=False)
    from vectorize_nb.local import LocalEngine
    from vectorize_nb.contract.models import QueryOptions

    before = status("VmRSS")
    start = time.perf_counter()
    engine = LocalEngine(folder)
    engine.query("bench", np.ones(D, np.float32), QueryOptions(top_k=10))
    elapsed = time.perf_counter() - start
    print(json.dumps({"seconds": elapsed, "rss": status("VmRSS"), "rss_before": before, "peak": status("VmHWM")}))


def build_folder(folder: Path, n: int, threads: int) -> None:
    """Write n vectors through the engine (batches of a million), close it, then open it once (reading
    SQLite and writing the snapshot) and close it again."""
    engine_modules(table_only=False)
    from vectorize_nb.contract.limits import DEFAULT_LIMITS
    from vectorize_nb.local import LocalEngine
    from vectorize_nb.contract.models import QueryOptions, Vectors

    limits = DEFAULT_LIMITS.with_changes(max_vectors_per_write=1_000_000)
    start = time.perf_counter()
    with LocalEngine(folder, limits=limits) as engine, ThreadPoolExecutor(threads) as pool:
        engine.create_index("bench", dimensions=D, metric="cosine")
        for lo in range(0, n, 1_000_000):
            hi = min(n, lo + 1_000_000)
            values = np.concatenate(list(pool.map(lambda part: rows(*part), parts(hi - lo, threads, lo))))
            engine.upsert("bench", Vectors([f"doc-{i}" for i in range(lo, hi)], values))
            say(f"  written {hi:,} vectors ({hi / (time.perf_counter() - start):,.0f}/s)")
    start = time.perf_counter()
    with LocalEngine(folder, limits=limits) as engine:
        engine.query("bench", np.ones(D, np.float32), QueryOptions(top_k=10))
    say(f"  first open (from SQLite, writing the snapshot) to the first answer: {time.perf_counter() - start:.1f} s")


def reopen(folder: Path, n: int, deadline: float) -> None:
    result = subprocess.run([sys.executable, __file__, "--reopen", str(folder)], capture_output=True, text=True,
                            check=True, timeout=max(10.0, deadline - time.time()))
    measured = json.loads(result.stdout)
    raw = n * D * 4
    files = [path for path in folder.rglob("*") if path.is_file()]
    say(f"  reopen + first query {measured['seconds']:.2f} s; resident {measured['rss'] / raw:.3f}x the matrix "
        f"(added {(measured['rss'] - measured['rss_before']) / raw:.3f}x, peak {measured['peak'] / raw:.3f}x); "
        f"folder on disk {sum(f.stat().st_blocks * 512 for f in files) / raw:.3f}x "
        f"(apparent {sum(f.stat().st_size for f in files) / raw:.3f}x)")


# --- the run -------------------------------------------------------------------------------------

def run_child(arguments: list[str], threads: int, deadline: float) -> bool:
    """Run this script in a child with the thread variables set (it prints to our output); False when it
    failed or ran past the deadline."""
    env = dict(os.environ, VECTORIZE_CORES_STARTED=str(STARTED),
               **{name: str(threads) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")})
    process = subprocess.Popen([sys.executable, __file__, *arguments], env=env)
    try:
        return process.wait(timeout=max(1.0, deadline - time.time())) == 0
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        say("  stopped: out of time")
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--threads", type=int, nargs="+", default=sorted({cpus, min(cpus, 8), min(cpus, 4)},
                                                                          reverse=True))
    parser.add_argument("--budget", type=float, default=450.0, help="seconds for the whole run")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--reopen-reserve", type=float, default=170.0,
                        help="seconds the reopen part needs at 10M; it is skipped when fewer are left")
    parser.add_argument("--folder", type=Path, default=None, help="where to write the folder (default: a temp dir)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reopen", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.sizes, args.repeat)
    if args.reopen:
        return reopen_child(args.reopen)
    if args.build:
        return build_folder(args.build, max(args.sizes), len(os.sched_getaffinity(0)))
    deadline = STARTED + args.budget
    say(f"{cpus} CPUs; numpy {np.__version__}; sizes {args.sizes}; threads {args.threads}; budget {args.budget:.0f} s")
    try:
        import threadpoolctl

        say(f"threadpoolctl {threadpoolctl.__version__}: {threadpoolctl.threadpool_info()}")
    except ImportError:
        say("threadpoolctl is not installed: a batch then runs as one thread of ours, and BLAS's own threads")
    search_deadline = deadline - args.reopen_reserve * max(args.sizes) / 10_000_000
    for threads in args.threads:
        say(f"{threads} threads")
        if not run_child(["--child", str(threads), "--repeat", str(args.repeat), "--sizes", *map(str, args.sizes)],
                         threads, search_deadline):
            break
    try:
        import orjson  # noqa: F401
    except ImportError:
        say("orjson is not installed: the reopen part is skipped")
        return
    if time.time() > search_deadline:
        say("no time left for the reopen part")
        return
    root = Path(tempfile.mkdtemp(prefix="vectorize-cores-", dir=args.folder))
    try:
        n = max(args.sizes)
        say(f"reopening a folder of {n:,} x {D}")
        if run_child(["--build", str(root / "bench"), "--sizes", str(n)], cpus, deadline - 15):
            reopen(root / "bench", n, deadline)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    say("done")


if __name__ == "__main__":
    main()
