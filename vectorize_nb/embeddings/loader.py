"""Loading a model's local runtime once per process: the shipped model, or open weights."""

from __future__ import annotations

import threading
from pathlib import Path
from types import ModuleType
from typing import Protocol

import numpy as np

from ..contract.embedding_models import EmbeddingModel
from ..contract.errors import ModelNotAvailable
from ..extras import require

__all__ = ["LoadedModel", "load", "loaded", "forget", "require_runtime"]

_OPEN_WEIGHTS_RUNTIME = ("huggingface_hub", "onnxruntime", "tokenizers")  # the download, the graph, the tokenizer


class LoadedModel(Protocol):
    """A loaded local model: checked texts in, unit-length float32 rows out."""

    def embed(self, texts: list[str], pooling: str = "mean") -> np.ndarray:
        """One row per text, pooled with `pooling`."""
        ...

    def check(self, texts: list[str]) -> None:
        """Refuse (TextTooLong) texts over the model's token limit, every text counted first."""
        ...


_LOADED: dict[tuple[str, str | None], LoadedModel] = {}
_LOCK = threading.Lock()


def load(model: EmbeddingModel, cache_dir: str | Path | None = None) -> LoadedModel:
    """The model's runtime, loaded on first use and kept for the life of the process. Open weights
    are fetched into the Hugging Face cache (or `cache_dir`) the first time.

    Raises
    ------
    ModelNotAvailable
        The model has no local runtime, its weights are missing and cannot be fetched, or its runtime (the
        embeddings extra) is not installed.
    """
    key = (model.model, None if cache_dir is None else str(cache_dir))
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(model, cache_dir)
        return _LOADED[key]


def loaded() -> list[str]:
    """The ids of the models loaded in this process."""
    return sorted({model for model, _ in _LOADED})


def forget() -> None:
    """Drop every loaded model (the next call loads again)."""
    with _LOCK:
        _LOADED.clear()


def _load(model: EmbeddingModel, cache_dir: str | Path | None) -> LoadedModel:
    if model.runtime == "static":
        from .static import StaticModel

        return StaticModel.load()
    if model.runtime == "onnx":
        from .transformer import TransformerModel
        from .weights import fetch_weights

        for module in _OPEN_WEIGHTS_RUNTIME:  # all of them before a download they could not run
            require_runtime(module, model.model)
        onnx, tokenizer = fetch_weights(model, cache_dir)
        return TransformerModel.load(onnx, tokenizer, name=model.model, max_tokens=model.max_tokens,
                                     dimensions=model.dimensions)
    raise ModelNotAvailable(f"{model.model} runs only on Workers AI: the local runtime has no form of it. "
                            f"Connect to Cloudflare to use it, or pick a model whose 'runs' includes 'local' or "
                            f"'shipped' in vz.embedding_models()")


def require_runtime(module: str, purpose: str) -> ModuleType:
    """`extras.require`, refusing as Workers AI refuses a model that cannot run: ModelNotAvailable, whose
    message says whether `module` is missing or fails to import, and which extra installs it."""
    try:
        return require(module, purpose)
    except ImportError as exc:
        raise ModelNotAvailable(str(exc)) from exc
