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

from ..contract.errors import ModelNotAvailable
from .pooling import normalise

__all__ = ["StaticModel"]


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
            wordllama is not installed.
        """
        try:
            with _root_logger_kept():
                import wordllama
        except ImportError as exc:
            raise ModelNotAvailable("The shipped model needs the wordllama package: "
                                    "pip install 'vectorize-nb[embeddings]'") from exc
        folder = Path(wordllama.__file__).parent
        return cls(wordllama.WordLlama.load(cache_dir=folder, disable_download=True))

    def embed(self, texts: list[str], pooling: str = "mean") -> np.ndarray:
        """One unit-length float32 row per text, in order (`pooling` is always "mean")."""
        if not texts:
            return np.empty((0, self.dimensions), np.float32)
        return normalise(self.inference.embed(texts, norm=False))


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
