"""Token vectors to one vector per text, and unit length (numpy only)."""

from __future__ import annotations

import numpy as np

__all__ = ["POOLINGS", "pool", "normalise"]


def _mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Attention-mask-weighted mean over the tokens: padding counts for nothing."""
    weights = mask.astype(np.float32)
    counts = np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
    pooled: np.ndarray = np.matmul(weights[:, None, :], hidden)[:, 0, :] / counts
    return pooled


def _cls(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The first token's vector ([CLS] in a BERT model)."""
    return hidden[:, 0, :]


POOLINGS = {"mean": _mean, "cls": _cls}
"""Poolings the open-weights runtime computes, by the name Workers AI gives them."""


def pool(hidden: np.ndarray, mask: np.ndarray, pooling: str) -> np.ndarray:
    """Pool a batch's last hidden state (batch, tokens, hidden) into (batch, hidden) float32."""
    return np.ascontiguousarray(POOLINGS[pooling](hidden, mask), dtype=np.float32)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Scale each row to unit L2 length, in place; an all-zero row stays zero. Returns `vectors`."""
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))  # a few times faster than np.linalg.norm here
    norms[norms == 0] = 1.0
    vectors /= norms[:, None]
    return vectors
