"""Exact nearest-neighbour kernels over a float32 matrix.

Every metric is turned into a similarity where higher is better, so one top-k serves all:
    cosine       rows are stored unit-length:   sim = x·q̂
    dot-product                                  sim = x·q
    euclidean    |x-q|² = |x|² - 2x·q + |q|²:    sim = 2x·q - |x|²   (|q|² is the same for every row)
The fast pass picks `k + MARGIN` candidates in float32; `rescore` then computes the exact score of
each candidate in float64, so rounding in the fast pass cannot change the reported scores.

Three kernels:
- one query, all rows: one BLAS gemv, then argpartition;
- one query, a filtered subset: rows gathered in cache-sized chunks by two threads (a gather of
  10% of the rows costs about a quarter of a full scan, where `X[mask] @ q` costs 85%);
- many queries: row chunks times the query block (gemm), keeping a running top-k per query with
  a threshold (seeded from a sample of rows), so the top-k costs a compare per score instead of a
  partition of the whole score matrix.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterator

import numpy as np

__all__ = ["MARGIN", "Scorer", "top_k", "top_k_many"]

MARGIN = 8
GATHER_CHUNK = 256
BATCH_CHUNK = 16384
SEED_ROWS = 2048
FULL_SCAN_SHARE = 0.5
THREADED_ROWS = 4096
BLAS_SCAN_VALUES = 1 << 26

_pool: ThreadPoolExecutor | None = None


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="vectorize-search")
    return _pool


class Scorer:
    """How one index turns rows and queries into similarities (and back into Vectorize scores)."""

    def __init__(self, metric: str) -> None:
        self.metric = metric

    def prepare(self, queries: np.ndarray) -> np.ndarray:
        """Queries (m, d) in the form the matrix is multiplied by."""
        queries = np.asarray(queries, dtype=np.float32)
        if self.metric == "cosine":
            norms = np.linalg.norm(queries, axis=-1, keepdims=True)
            return np.divide(queries, norms, out=np.zeros_like(queries), where=norms > 0)
        if self.metric == "euclidean":
            return queries * np.float32(2.0)
        return queries

    def score(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Vectorize's score of each row (float64): cosine similarity, L2 distance, or -dot."""
        rows64 = rows.astype(np.float64)
        q64 = np.asarray(query, dtype=np.float64)
        if self.metric == "euclidean":
            return np.sqrt(((rows64 - q64) ** 2).sum(axis=1))
        if self.metric == "dot-product":
            return -(rows64 @ q64)
        norms = np.linalg.norm(rows64, axis=1) * np.linalg.norm(q64)
        return np.divide(rows64 @ q64, norms, out=np.zeros(len(rows64)), where=norms > 0)

    @property
    def higher_is_better(self) -> bool:
        return self.metric == "cosine"


def _block_sims(rows: np.ndarray, prepared: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    sims = rows @ prepared
    if bias is not None:
        sims -= bias if sims.ndim == 1 else bias[:, None]
    return sims


def top_k(matrix: np.ndarray, bias: np.ndarray | None, query: np.ndarray, k: int,
          rows: np.ndarray | None = None) -> np.ndarray:
    """Row numbers of the best `k` (unordered) for one prepared query, among `rows` if given."""
    if rows is None or len(rows) > FULL_SCAN_SHARE * len(matrix):
        sims = _scanned_sims(matrix, bias, query)
        if rows is not None:
            keep = np.zeros(len(matrix), dtype=bool)
            keep[rows] = True
            sims[~keep] = -np.inf
            k = min(k, len(rows))
        return _best(sims, k)
    sims = _split(_gather_part, matrix, query, rows)
    if bias is not None:
        sims -= bias[rows]
    return rows[_best(sims, k)]


def _best(sims: np.ndarray, k: int) -> np.ndarray:
    if k >= len(sims):
        return np.arange(len(sims))
    return np.argpartition(sims, len(sims) - k)[len(sims) - k:]


def _scanned_sims(matrix: np.ndarray, bias: np.ndarray | None, query: np.ndarray) -> np.ndarray:
    if matrix.size <= BLAS_SCAN_VALUES:
        sims = matrix @ query  # small enough to be cache-resident, where BLAS computes fastest
    else:
        sims = _split(_scan_part, matrix, query, np.arange(len(matrix)))
    if bias is not None:
        sims -= bias
    return sims


def _split(work: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None], matrix: np.ndarray,
           query: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Run `work(matrix, query, rows_part, out_part)` over parts of `rows` on the worker threads."""
    sims = np.empty(len(rows), dtype=np.float32)
    if len(rows) < THREADED_ROWS:
        work(matrix, query, rows, sims)
        return sims
    bounds = np.linspace(0, len(rows), _workers() + 1).astype(int)
    parts = [(rows[a:b], sims[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    futures = [_thread_pool().submit(work, matrix, query, r, s) for r, s in parts[1:]]
    work(matrix, query, *parts[0])
    for future in futures:
        future.result()
    return sims


def _scan_part(matrix: np.ndarray, query: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    # `rows` is a contiguous range here. einsum, not BLAS: a large scan is bound by memory either way,
    # and OpenBLAS's worker threads spin for ~0.1 s after a call, taking the cores the next query needs.
    np.einsum("ij,j->i", matrix[rows[0]:rows[-1] + 1], query, out=out)


def _gather_part(matrix: np.ndarray, query: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    buffer = np.empty((GATHER_CHUNK, matrix.shape[1]), dtype=matrix.dtype)
    for start in range(0, len(rows), GATHER_CHUNK):
        chunk = rows[start:start + GATHER_CHUNK]
        block = buffer[:len(chunk)]
        np.take(matrix, chunk, axis=0, out=block, mode="clip")  # "raise" would buffer `out`
        np.einsum("ij,j->i", block, query, out=out[start:start + len(chunk)])


def top_k_many(matrix: np.ndarray, bias: np.ndarray | None, queries: np.ndarray, k: int,
               rows: np.ndarray | None = None) -> np.ndarray:
    """(m, k') row numbers of the best k' = min(k, candidates) per prepared query, unordered."""
    total = len(matrix) if rows is None else len(rows)
    k = min(k, total)
    if k == 0:
        return np.empty((len(queries), 0), dtype=np.int64)
    prepared = np.ascontiguousarray(queries.T)
    best_sims = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), k), dtype=np.int64)
    threshold = _seed_threshold(matrix, bias, prepared, k, rows)
    sims_buffer = np.empty((min(BATCH_CHUNK, total), len(queries)), dtype=np.float32)
    hits_buffer = np.empty(sims_buffer.shape, dtype=bool)
    for block, block_rows in _blocks(matrix, rows):
        sims, hits = sims_buffer[:len(block)], hits_buffer[:len(block)]
        np.matmul(block, prepared, out=sims)
        if bias is not None:
            sims -= bias[block_rows][:, None]
        np.greater_equal(sims, threshold, out=hits)
        flat = np.flatnonzero(hits)
        if len(flat):
            hit_rows, hit_queries = np.divmod(flat, len(queries))
            best_sims, best_rows = _merge(best_sims, best_rows, hit_queries, sims.ravel()[flat],
                                          block_rows[hit_rows])
            threshold = np.maximum(threshold, best_sims[:, -1])
    return best_rows


def _seed_threshold(matrix: np.ndarray, bias: np.ndarray | None, prepared: np.ndarray, k: int,
                    rows: np.ndarray | None) -> np.ndarray:
    """Per query, the k-th best similarity in a sample of rows: no row of the true top-k is below it,
    so every block can skip all rows under it from the start."""
    sample = np.arange(min(SEED_ROWS, len(matrix))) if rows is None else rows[:SEED_ROWS]
    if len(sample) < k:
        return np.full(prepared.shape[1], -np.inf, dtype=np.float32)
    sims = np.ascontiguousarray(_block_sims(matrix[sample], prepared, None if bias is None else bias[sample]).T)
    return np.partition(sims, len(sample) - k, axis=1)[:, len(sample) - k]


def _blocks(matrix: np.ndarray, rows: np.ndarray | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Blocks of rows (views of the matrix, or gathered into one reused buffer) and their row numbers."""
    if rows is None:
        for start in range(0, len(matrix), BATCH_CHUNK):
            block = matrix[start:start + BATCH_CHUNK]
            yield block, np.arange(start, start + len(block))
        return
    buffer = np.empty((min(BATCH_CHUNK, len(rows)), matrix.shape[1]), dtype=matrix.dtype)
    for start in range(0, len(rows), BATCH_CHUNK):
        chunk = rows[start:start + BATCH_CHUNK]
        block = buffer[:len(chunk)]
        np.take(matrix, chunk, axis=0, out=block, mode="clip")  # "raise" would buffer `out`
        yield block, chunk


def _merge(best_sims: np.ndarray, best_rows: np.ndarray, queries: np.ndarray, sims: np.ndarray,
           rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fold candidates into each query's top-k; rows of the result are sorted best first."""
    m, k = best_sims.shape
    all_queries = np.concatenate([np.repeat(np.arange(m), k), queries])
    all_sims = np.concatenate([best_sims.ravel(), sims])
    all_rows = np.concatenate([best_rows.ravel(), rows])
    order = np.lexsort((-all_sims, all_queries))
    starts = np.searchsorted(all_queries[order], np.arange(m))
    take = order[(starts[:, None] + np.arange(k)).ravel()]
    return all_sims[take].reshape(m, k), all_rows[take].reshape(m, k)
