"""The model that ships: WordLlama's 256-dimension static model, inside the wordllama wheel.

A static model looks each token up in one embedding table and averages the vectors (no word
order, no attention), which is why it runs at tens of thousands of texts a second on a laptop.
It needs no download, but wordllama's loader looks for its tokenizer in a folder the wheel does
not have; pointing its cache at the package's own folder loads the shipped files with no network.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .loader import require_runtime
from .pooling import normalise

__all__ = ["StaticModel"]

BATCH_TOKENS = 64 * 512
"""Token slots a batch may take: wordllama pads each batch to its longest text, so one long text among
63 short ones would otherwise cost 64 times its own size (gigabytes for a book)."""


class StaticModel:
    """WordLlama's shipped model: mean of token vectors, then unit length (wordllama's default is no
    normalisation; every vector of this package is unit length)."""

    dimensions = 256

    def __init__(self, inference: Any):
        self.inference = inference

    @classmethod
    def load(cls) -> StaticModel:
        """Load the weights and tokenizer from the installed wordllama package, with no network.

        Raises
        ------
        ModelNotAvailable
            wordllama is not installed, or fails to import (a dependency missing, the process out of memory).
        """
        with _root_logger_kept():
            wordllama = require_runtime("wordllama", "The shipped model")
        folder = Path(str(wordllama.__file__)).parent
        return cls(wordllama.WordLlama.load(cache_dir=folder, disable_download=True))

    def embed(self, texts: list[str], pooling: str = "mean") -> np.ndarray:
        """One unit-length float32 row per text, in order (`pooling` is always "mean"). Texts go to
        wordllama shortest first, in batches of like length; a text too long for a batch alone is
        averaged a slice of tokens at a time."""
        rows = np.empty((len(texts), self.dimensions), np.float32)
        lengths = [(len(text) if text.isascii() else len(text.encode("utf-8"))) + 2 for text in texts]
        for batch in _batches(lengths):  # a token is at least a byte of UTF-8 (its byte fallback)
            if len(batch) == 1 and lengths[batch[0]] > BATCH_TOKENS:
                rows[batch[0]] = self._long(texts[batch[0]])
            else:
                rows[batch] = self.inference.embed([texts[i] for i in batch], norm=False, batch_size=len(batch))
        return normalise(rows)

    def check(self, texts: list[str]) -> None:
        """Nothing to refuse: the shipped model takes texts of any length."""

    def _long(self, text: str) -> np.ndarray:
        table = self.inference.embedding
        ids = np.clip(np.asarray(self.inference.tokenize([text])[0].ids, dtype=np.int64), 0, len(table) - 1)
        total = np.zeros(self.dimensions, np.float64)
        for start in range(0, len(ids), BATCH_TOKENS):
            total += table[ids[start:start + BATCH_TOKENS]].sum(axis=0, dtype=np.float64)
        return total / max(len(ids), 1)


def _batches(lengths: list[int]) -> Iterator[list[int]]:
    """Positions in batches of at most 64 texts whose count times the longest stays within BATCH_TOKENS."""
    batch: list[int] = []
    for position in np.argsort(lengths, kind="stable").tolist():
        if batch and (len(batch) == 64 or (len(batch) + 1) * lengths[position] > BATCH_TOKENS):
            yield batch
            batch = []
        batch.append(position)
    if batch:
        yield batch


@contextmanager
def _root_logger_kept() -> Iterator[None]:
    """Undo what importing wordllama does to the root logger (it calls logging.basicConfig(level=INFO),
    which would print every library's INFO records in the user's notebook)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
