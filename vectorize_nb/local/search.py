"""Exact nearest-neighbour kernels over the float32 rows of a vector file.

Every metric is turned into a similarity where higher is better, so one top-k serves all. The rows
are the vectors as written; per row a scale or a bias (from norms computed in float64) finishes it:
    cosine       sim = x·q̂ / |x|           q̂ = q / |q|
    dot-product  sim = x·q̂                 (the order of x·q)
    euclidean    sim = 2x·q - |x|²         |x-q|² = |x|² - 2x·q + |q|², and |q|² is the same for all
Queries are normalised in float64, so the float32 pass cannot overflow for rows whose norm is within
[2^-60, 2^60]. Rows outside that range ("extreme": a component of 1e20 is a valid float32) and holes
(slots of no vector) are excluded from the float32 pass; the resident index scores extreme rows
exactly, as it does euclidean queries too large for float32. The fast pass picks `k + MARGIN`
candidates, which the resident index rescores in float64, so rounding in the fast pass cannot change
a reported score.

Three kernels, each split over `threads()` threads, each thread keeping its own top-k. Their inner
loops are the compiled kernels of `_kernels.c` where the package was built with a C compiler (they
run without the interpreter lock and never call BLAS, whose idle threads spin for a while after a
call, on the cores our threads need); otherwise numpy does the same work in more passes:
- one query, all rows: a dot product per row, bound by memory: `range_dots`, which prefetches the
  rows ahead (1M x 384 on 16 cores: 0.93x numpy's threaded X @ q; 0.5-0.7x on 2 cores). Without
  it, einsum on our threads on two cores, BLAS's gemv on its own threads on more
  (`BLAS_SCAN_THREADS`);
- one query, a filtered subset: `gather_dots` reads the rows where they lie (10% of 1M rows on 16
  cores: 3.8 ms, 0.23x of the full scan). Without it, rows gathered in cache-sized chunks (a
  gather of 10% of the rows costs about a quarter of a full scan, where `X[mask] @ q` costs 85%);
- many queries: row chunks times the query block (gemm, one BLAS thread per thread of ours), each
  chunk folded into a top-k per query by `keep_best`, a min-heap per query behind one compare per
  score. Without it, a running threshold (seeded from a sample of rows) and a merge of the hits.
The thread count follows the machine: the CPUs this process may use (a container's CPU quota included),
capped by the BLAS thread limit (threadpoolctl's `threadpool_limits`, or OPENBLAS_NUM_THREADS and the
like at start-up) and by OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import cpus

try:
    from . import _kernels
except ImportError:  # installed without a C compiler: numpy does the same work in more passes
    _kernels = None  # type: ignore[assignment]

__all__ = ["MARGIN", "EXTREME", "COMPILED", "Scan", "Scorer", "top_k", "top_k_many", "best_exact", "threads"]

COMPILED = _kernels is not None
"""Whether this install has the compiled kernels."""

MARGIN = 8
EXTREME = 2.0 ** 60
"""Rows (and euclidean queries) with a norm above this, or a non-zero norm below its inverse, are
scored exactly in float64 instead of in the float32 pass."""
GATHER_CHUNK = 2048
"""Rows gathered per step: on 16 cores 2,048 made a 10%-filtered query at 10M 4.5x faster than 256
(41 ms against 200 ms); on 2 cores 1.4x."""
SEED_ROWS = 2048
FULL_SCAN_SHARE = 0.5
THREADED_ROWS = 16384
ROWS_PER_THREAD = {"scan": THREADED_ROWS, "gather": 4096, "batch": THREADED_ROWS}
"""The fewest rows a thread of each kernel takes: a part smaller than this costs more in handing it
out (and in the interpreter lock its thread takes back) than it saves."""
BLAS_SCAN_THREADS = 3
"""Without the compiled kernels, from this many threads on a full scan of one query is BLAS's gemv on
BLAS's own threads: on 16 cores einsum on our threads read memory at 48 GB/s where gemv reached 74
(1M x 384: 1.49x numpy's X @ q against 1.02x); on 2 cores einsum is the faster (0.86x against 1.03x)."""
BLAS_BATCH = False
"""Whether a batch is one thread of ours driving BLAS's threads rather than our threads each a BLAS
(slower on every machine measured: kept to measure it again)."""
BATCH_VALUES = 1 << 19
"""Similarities per chunk of a batch (rows x queries): 2 MB of float32, which stays in cache, in chunks
few enough that the Python between them is a small share of the time on many cores."""
EXACT_ROWS = 4096
LIMIT_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# --- threads -----------------------------------------------------------------------------------

class _Blas:
    """The BLAS libraries numpy loaded, seen through threadpoolctl when it is installed."""

    def __init__(self) -> None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            self.controller = None
        else:
            blas = ThreadpoolController().select(user_api="blas")
            self.controller = blas if blas.lib_controllers else None  # a BLAS threadpoolctl cannot steer
        self.lock = threading.Lock()

    def threads(self) -> int | None:
        """The BLAS's thread limit now (None when unknown)."""
        if self.controller is None:
            return None
        return min(int(lib.num_threads) for lib in self.controller.lib_controllers)

    def single_threaded(self) -> AbstractContextManager[Any]:
        """While inside, BLAS calls run in the calling thread (so that our threads can each make one)."""
        return nullcontext() if self.controller is None else self.controller.limit(limits=1)


_blas: _Blas | None = None
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _blas_libraries() -> _Blas:
    global _blas
    with _pool_lock:  # one _Blas, and so one lock on the BLAS's thread limit, for every engine of the process
        if _blas is None:
            _blas = _Blas()
        return _blas


def _variable_limit(name: str) -> int | None:
    value = os.environ.get(name, "").split(",")[0].strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def threads() -> int:
    """How many threads a scan uses: the CPUs this process may keep busy (`cpus.available`: its affinity and its
    container's CPU quota), capped by the BLAS thread limit (which `threadpool_limits` sets) and by the usual
    environment variables."""
    limits = [cpus.available(), _blas_libraries().threads()] + [_variable_limit(name) for name in LIMIT_VARIABLES]
    return max(1, min(limit for limit in limits if limit is not None))


def _thread_pool(size: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < size:  # the smaller pool's threads end once the searches using it let go
            _pool, _pool_size = ThreadPoolExecutor(max_workers=size, thread_name_prefix="vectorize-search"), size
        return _pool


def _parts(total: int, kernel: str) -> int:
    """How many threads a kernel's `total` rows are split over."""
    return max(1, min(threads(), total // ROWS_PER_THREAD[kernel]))


def _in_parts(work: Callable[[int, int], Any], total: int, count: int) -> list[Any]:
    """work(lo, hi) over `count` equal parts of 0..total: the first in this thread, the rest on the pool."""
    if count == 1:
        return [work(0, total)]
    bounds = [total * part // count for part in range(count + 1)]
    parts = list(zip(bounds[:-1], bounds[1:]))
    futures = [_thread_pool(count - 1).submit(work, lo, hi) for lo, hi in parts[1:]]
    first = work(*parts[0])
    return [first] + [future.result() for future in futures]


# --- metrics -----------------------------------------------------------------------------------

class Scorer:
    """How one index turns rows and queries into similarities (and back into Vectorize scores)."""

    def __init__(self, metric: str) -> None:
        self.metric = metric

    def prepare(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Queries (m, d) as the float32 pass multiplies them, and which of them need an exact pass
        instead (a euclidean query whose norm is beyond EXTREME)."""
        queries64 = np.asarray(queries, dtype=np.float64)
        norms = np.sqrt(np.square(queries64).sum(axis=1))
        if self.metric == "euclidean":
            exact = norms > EXTREME
            return np.where(exact[:, None], 0.0, 2.0 * queries64).astype(np.float32), exact
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return (queries64 * inverse[:, None]).astype(np.float32), np.zeros(len(norms), dtype=bool)

    def weights(self, norms: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Per row, from its norm: the scale (cosine) or bias (euclidean) of the float32 pass, and
        whether the row is extreme."""
        extreme = (norms > EXTREME) | ((norms > 0) & (norms < 1 / EXTREME))
        if self.metric == "dot-product":
            return None, extreme
        safe = np.where(extreme, 0.0, norms)
        if self.metric == "euclidean":
            return (safe * safe).astype(np.float32), extreme
        return np.divide(1.0, safe, out=np.zeros_like(safe), where=safe > 0).astype(np.float32), extreme

    def scan(self, matrix: np.ndarray, weights: np.ndarray | None, excluded: np.ndarray | None) -> Scan:
        """What the float32 pass scans for this metric."""
        return Scan(matrix, weights if self.metric == "cosine" else None,
                    weights if self.metric == "euclidean" else None, excluded)

    def score(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Vectorize's score of each row (float64): cosine similarity, L2 distance, or -dot."""
        rows64 = rows.astype(np.float64)
        q64 = np.asarray(query, dtype=np.float64)
        scores: np.ndarray
        if self.metric == "euclidean":
            scores = np.sqrt(((rows64 - q64) ** 2).sum(axis=1))
            return scores
        # a row's own sum, not BLAS's `rows64 @ q64`, whose rounding depends on where the row lies in the
        # matrix: copies of one vector must score alike, whatever the candidates around them
        dots = (rows64 * q64).sum(axis=1)
        if self.metric == "dot-product":
            scores = -dots
        else:
            norms = np.linalg.norm(rows64, axis=1) * np.linalg.norm(q64)
            scores = np.divide(dots, norms, out=np.zeros(len(rows64)), where=norms > 0)
            np.clip(scores, -1.0, 1.0, out=scores)  # rounding takes a vector's score with itself to 1 + 2e-16
        return scores

    @property
    def higher_is_better(self) -> bool:
        return self.metric == "cosine"


@dataclass(frozen=True, slots=True)
class Scan:
    """What the float32 pass scans: the rows, what turns each row's x·q into a similarity (a scale
    and/or a bias per row), and the rows it never picks (holes, extreme rows; sorted)."""

    matrix: np.ndarray
    scale: np.ndarray | None = None
    bias: np.ndarray | None = None
    excluded: np.ndarray | None = None

    def finish(self, sims: np.ndarray, lo: int, hi: int) -> None:
        """Dot products of rows lo..hi (one query, or one column per query) into similarities."""
        self.weigh(sims, slice(lo, hi))
        if self.excluded is not None:
            first, last = np.searchsorted(self.excluded, [lo, hi])
            sims[self.excluded[first:last] - lo] = -np.inf

    def weigh(self, sims: np.ndarray, rows: slice | np.ndarray) -> None:
        """Dot products of `rows` (none excluded) into similarities."""
        if self.scale is not None:
            scale = self.scale[rows]
            sims *= scale if sims.ndim == 1 else scale[:, None]
        if self.bias is not None:
            bias = self.bias[rows]
            sims -= bias if sims.ndim == 1 else bias[:, None]


def _best(sims: np.ndarray, k: int) -> np.ndarray:
    if k >= len(sims):
        return np.arange(len(sims))
    return np.argpartition(sims, len(sims) - k)[len(sims) - k:]


# --- one query ---------------------------------------------------------------------------------

def top_k(scan: Scan, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Row numbers of the best `k` (unordered) for one prepared query, among `rows` if given."""
    query = np.ascontiguousarray(query, dtype=np.float32)
    rows = None if rows is None else np.ascontiguousarray(rows, dtype=np.int64)
    total = len(scan.matrix) if rows is None else len(rows)
    k = min(k, total)
    if k == 0:
        return np.empty(0, dtype=np.int64)
    kernel = "scan"
    if rows is not None and total <= FULL_SCAN_SHARE * len(scan.matrix):
        work: Callable[[int, int], Any] = lambda lo, hi: _gathered_best(scan, query, rows[lo:hi], k)
        kernel = "gather"
    else:
        allowed = None
        if rows is not None:
            allowed = np.zeros(len(scan.matrix), dtype=bool)
            allowed[rows] = True
        work, total = (lambda lo, hi: _range_best(scan, query, lo, hi, k, allowed)), len(scan.matrix)
        if _kernels is None and total >= THREADED_ROWS and threads() >= BLAS_SCAN_THREADS:
            return _range_best(scan, query, 0, total, k, allowed, blas=True)[0]
    results = _in_parts(work, total, _parts(total, kernel))  # few rows: BLAS, in this thread
    found: np.ndarray = np.concatenate([found for found, _ in results])
    best: np.ndarray = found[_best(np.concatenate([sims for _, sims in results]), k)]
    return best


def _range_best(scan: Scan, query: np.ndarray, lo: int, hi: int, k: int,
                allowed: np.ndarray | None, blas: bool = False) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(over="ignore", invalid="ignore"):  # extreme rows overflow here; they are excluded
        rows = scan.matrix[lo:hi]
        if len(scan.matrix) < THREADED_ROWS or blas:
            sims = rows @ query
        elif _kernels is not None:
            sims = np.empty(hi - lo, dtype=np.float32)
            _kernels.range_dots(rows, rows.shape[1], query, sims)
        else:
            sims = np.einsum("ij,j->i", rows, query)
        scan.finish(sims, lo, hi)
    if allowed is not None:
        sims[~allowed[lo:hi]] = -np.inf
    best = _best(sims, k)
    return best + lo, sims[best]


def _gathered_best(scan: Scan, query: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sims = np.empty(len(rows), dtype=np.float32)
    if _kernels is not None:
        _kernels.gather_dots(scan.matrix, scan.matrix.shape[1], rows, query, sims)
    else:
        _gathered_dots(scan, query, rows, sims)
    scan.weigh(sims, rows)
    best = _best(sims, k)
    return rows[best], sims[best]


def _gathered_dots(scan: Scan, query: np.ndarray, rows: np.ndarray, sims: np.ndarray) -> None:
    buffer = np.empty((GATHER_CHUNK, scan.matrix.shape[1]), dtype=np.float32)
    for start in range(0, len(rows), GATHER_CHUNK):
        chunk = rows[start:start + GATHER_CHUNK]
        block = buffer[:len(chunk)]
        np.take(scan.matrix, chunk, axis=0, out=block, mode="clip")  # "raise" would buffer `out`
        np.einsum("ij,j->i", block, query, out=sims[start:start + len(chunk)])


# --- many queries ------------------------------------------------------------------------------

def top_k_many(scan: Scan, queries: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """(m, k') row numbers of the best k' = min(k, candidates) per prepared query, unordered; -1 where a
    query has fewer candidates than that (only when rows are excluded)."""
    total = len(scan.matrix) if rows is None else len(rows)
    k = min(k, total)
    if k == 0:
        return np.empty((len(queries), 0), dtype=np.int64)
    prepared = np.ascontiguousarray(queries.T, dtype=np.float32)
    rows = None if rows is None else np.ascontiguousarray(rows, dtype=np.int64)
    blas = _blas_libraries()
    count = _parts(total, "batch") if blas.controller is not None and not BLAS_BATCH else 1
    with blas.lock, blas.single_threaded() if count > 1 else nullcontext():
        if _kernels is not None:
            part: Callable[[int, int], Any] = lambda lo, hi: _kept_best(scan, prepared, k, lo, hi, rows)
        else:
            # seeded here, in one BLAS thread: BLAS's own threads, woken by a call just before ours
            # start, spin on the cores ours need (a batch at 200k on 2 cores took 171 ms so, 123 ms without)
            threshold = _seed_threshold(scan, prepared, k, rows)
            part = lambda lo, hi: _batch_part(scan, prepared, k, threshold, lo, hi, rows)
        results = _in_parts(part, total, count)
    sims = np.concatenate([sims for sims, _ in results], axis=1)
    found = np.concatenate([found for _, found in results], axis=1)
    best = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return np.take_along_axis(found, best, axis=1)


def _kept_best(scan: Scan, prepared: np.ndarray, k: int, lo: int, hi: int,
               rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The top-k per query over rows lo..hi (of `rows` when given), a min-heap per query kept by the
    compiled kernel: (m, k) similarities and rows, -1 where fewer than k rows could be picked."""
    m = prepared.shape[1]
    best_sims = np.full((m, k), -np.inf, dtype=np.float32)
    best_rows = np.full((m, k), -1, dtype=np.int64)
    for sims, block_rows in _scored_chunks(scan, prepared, lo, hi, rows):
        _kernels.keep_best(sims, m, block_rows, best_sims, best_rows)
    return best_sims, best_rows


def _seed_threshold(scan: Scan, prepared: np.ndarray, k: int, rows: np.ndarray | None) -> np.ndarray:
    """Per query, the k-th best similarity in a sample of rows: no row of the true top-k is below it,
    so every chunk can skip all rows under it from the start."""
    sample = np.arange(min(SEED_ROWS, len(scan.matrix))) if rows is None else rows[:SEED_ROWS]
    if len(sample) < k:
        return np.full(prepared.shape[1], -np.inf, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        sims = scan.matrix[sample] @ prepared
        if rows is None:
            scan.finish(sims, 0, len(sample))
        else:
            scan.weigh(sims, sample)
    return np.partition(sims.T, len(sample) - k, axis=1)[:, len(sample) - k]


def _batch_part(scan: Scan, prepared: np.ndarray, k: int, threshold: np.ndarray, lo: int, hi: int,
                rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The running top-k per query over rows lo..hi (of `rows` when given): (m, k) similarities and rows."""
    m = prepared.shape[1]
    best_sims = np.full((m, k), -np.inf, dtype=np.float32)
    best_rows = np.full((m, k), -1, dtype=np.int64)
    threshold = threshold.copy()
    hits: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    held = 0
    for sims, block_rows in _scored_chunks(scan, prepared, lo, hi, rows):
        flat = np.flatnonzero(sims >= threshold)
        if not len(flat):
            continue
        hit_rows, hit_queries = np.divmod(flat, m)
        hits.append((hit_queries, sims.ravel()[flat], block_rows[hit_rows]))
        held += len(flat)
        if held >= m * k:
            best_sims, best_rows = _merge(best_sims, best_rows, hits)
            threshold = np.maximum(threshold, best_sims[:, -1])
            hits, held = [], 0
    return _merge(best_sims, best_rows, hits) if hits else (best_sims, best_rows)


def _scored_chunks(scan: Scan, prepared: np.ndarray, lo: int, hi: int,
                   rows: np.ndarray | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(similarities, row numbers) of cache-sized chunks of rows lo..hi, in buffers reused per chunk."""
    chunk = max(256, BATCH_VALUES // prepared.shape[1])
    sims_buffer = np.empty((min(chunk, hi - lo), prepared.shape[1]), dtype=np.float32)
    gathered = None if rows is None else np.empty((len(sims_buffer), scan.matrix.shape[1]), dtype=np.float32)
    for start in range(lo, hi, chunk):
        stop = min(start + chunk, hi)
        sims = sims_buffer[:stop - start]
        with np.errstate(over="ignore", invalid="ignore"):
            if rows is None or gathered is None:
                np.matmul(scan.matrix[start:stop], prepared, out=sims)
                scan.finish(sims, start, stop)
                yield sims, np.arange(start, stop, dtype=np.int64)  # the kernel takes int64 rows
                continue
            block_rows = rows[start:stop]
            block = gathered[:len(block_rows)]
            np.take(scan.matrix, block_rows, axis=0, out=block, mode="clip")
            np.matmul(block, prepared, out=sims)
            scan.weigh(sims, block_rows)
        yield sims, block_rows


def _merge(best_sims: np.ndarray, best_rows: np.ndarray,
           hits: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Fold hits (query, similarity, row) into each query's top-k; rows of the result are sorted best first."""
    m, k = best_sims.shape
    all_queries = np.concatenate([np.repeat(np.arange(m), k)] + [queries for queries, _, _ in hits])
    all_sims = np.concatenate([best_sims.ravel()] + [sims for _, sims, _ in hits])
    all_rows = np.concatenate([best_rows.ravel()] + [found for _, _, found in hits])
    order = np.lexsort((-all_sims, all_queries))
    starts = np.searchsorted(all_queries[order], np.arange(m))
    take = order[(starts[:, None] + np.arange(k)).ravel()]
    return all_sims[take].reshape(m, k), all_rows[take].reshape(m, k)


# --- exact scoring -----------------------------------------------------------------------------

def best_exact(scorer: Scorer, matrix: np.ndarray, rows: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """The `k` rows among `rows` with the best exact (float64) scores for one raw query, unordered."""
    found, keys = [np.empty(0, dtype=np.int64)], [np.empty(0)]
    for start in range(0, len(rows), EXACT_ROWS):
        chunk = rows[start:start + EXACT_ROWS]
        scores = scorer.score(matrix[chunk], query)
        found.append(chunk)
        keys.append(-scores if scorer.higher_is_better else scores)
        if start and start % (16 * EXACT_ROWS) == 0:  # keep the candidates few on a long scan
            kept = _best(-np.concatenate(keys), k)
            found, keys = [np.concatenate(found)[kept]], [np.concatenate(keys)[kept]]
    best: np.ndarray = np.concatenate(found)[_best(-np.concatenate(keys), k)]
    return best
