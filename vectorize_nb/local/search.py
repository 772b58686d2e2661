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
  a threshold, so the top-k costs a compare per score instead of a partition of the whole matrix.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import numpy as np

__all__ = ["MARGIN", "Scorer", "top_k", "top_k_many"]

MARGIN = 8
GATHER_CHUNK = 256
BATCH_CHUNK = 16384
FULL_SCAN_SHARE = 0.5
THREADED_GATHER_ROWS = 20000

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
        sims = _block_sims(matrix, query, bias)
        if rows is not None:
            keep = np.zeros(len(matrix), dtype=bool)
            keep[rows] = True
            sims[~keep] = -np.inf
            k = min(k, len(rows))
        return _best(sims, k)
    sims = _gathered_sims(matrix, bias, query, rows)
    return rows[_best(sims, k)]


def _best(sims: np.ndarray, k: int) -> np.ndarray:
    if k >= len(sims):
        return np.arange(len(sims))
    return np.argpartition(sims, len(sims) - k)[len(sims) - k:]


def _gathered_sims(matrix: np.ndarray, bias: np.ndarray | None, query: np.ndarray,
                   rows: np.ndarray) -> np.ndarray:
    sims = np.empty(len(rows), dtype=np.float32)
    if len(rows) < THREADED_GATHER_ROWS:
        _gather_part(matrix, query, rows, sims)
    else:
        bounds = np.linspace(0, len(rows), _workers() + 1).astype(int)
        parts = [(rows[a:b], sims[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        futures = [_thread_pool().submit(_gather_part, matrix, query, r, s) for r, s in parts[1:]]
        _gather_part(matrix, query, *parts[0])
        for future in futures:
            future.result()
    if bias is not None:
        sims -= bias[rows]
    return sims


def _gather_part(matrix: np.ndarray, query: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    buffer = np.empty((GATHER_CHUNK, matrix.shape[1]), dtype=matrix.dtype)
    for start in range(0, len(rows), GATHER_CHUNK):
        chunk = rows[start:start + GATHER_CHUNK]
        block = buffer[:len(chunk)]
        np.take(matrix, chunk, axis=0, out=block)
        np.dot(block, query, out=out[start:start + len(chunk)])


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
    threshold = np.full(len(queries), -np.inf, dtype=np.float32)
    for offset, block, block_rows in _blocks(matrix, rows):
        sims = _block_sims(block, prepared, None if bias is None else bias[block_rows])
        hit_rows, hit_queries = np.nonzero(sims > threshold)
        if len(hit_rows) > 4 * k * len(queries):  # early blocks: partition instead of merging
            part = np.argpartition(sims, len(sims) - k, axis=0)[len(sims) - k:] if len(sims) > k \
                else np.broadcast_to(np.arange(len(sims))[:, None], (len(sims), len(queries)))
            hit_rows = part.ravel()
            hit_queries = np.tile(np.arange(len(queries)), len(part))
        if len(hit_rows):
            best_sims, best_rows = _merge(best_sims, best_rows, hit_queries,
                                          sims[hit_rows, hit_queries], block_rows[hit_rows])
            threshold = best_sims[:, -1]
    return best_rows


def _blocks(matrix: np.ndarray, rows: np.ndarray | None) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    if rows is None:
        for start in range(0, len(matrix), BATCH_CHUNK):
            block = matrix[start:start + BATCH_CHUNK]
            yield start, block, np.arange(start, start + len(block))
        return
    buffer = np.empty((min(BATCH_CHUNK, len(rows)), matrix.shape[1]), dtype=matrix.dtype)
    for start in range(0, len(rows), BATCH_CHUNK):
        chunk = rows[start:start + BATCH_CHUNK]
        block = buffer[:len(chunk)]
        np.take(matrix, chunk, axis=0, out=block)
        yield start, block, chunk


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
