"""The compiled kernels behind search.py (see _kernels.c): buffers of float32 and int64, C-contiguous."""

import numpy as np

def gather_dots(matrix: np.ndarray, width: int, rows: np.ndarray, query: np.ndarray, out: np.ndarray, /) -> None:
    """out[i] = matrix[rows[i]] . query"""

def range_dots(matrix: np.ndarray, width: int, query: np.ndarray, out: np.ndarray, /) -> None:
    """out[i] = matrix[i] . query"""

def keep_best(sims: np.ndarray, queries: int, rows: np.ndarray, best_sims: np.ndarray, best_rows: np.ndarray,
              /) -> None:
    """Fold sims (len(rows) x queries) into the min-heaps best_sims / best_rows (queries x k) of each query."""
