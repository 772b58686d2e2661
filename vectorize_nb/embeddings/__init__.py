"""Text to vectors on this machine: the open weights of Workers AI's bge models, and a model that ships.

    from vectorize_nb.embeddings import embed_locally
    X = embed_locally(["read a CSV file", "parse JSON"], "wordllama/l2-supercat-256")   # (2, 256) float32
    X = embed_locally(texts, "@cf/baai/bge-small-en-v1.5")                # mean pooling, as Workers AI
    X = embed_locally(texts, "@cf/baai/bge-small-en-v1.5", pooling="cls") # the model card's recipe

Every vector is float32 and unit length. Open weights are fetched once into the Hugging Face cache
and used offline afterwards; the shipped model needs nothing. Importing this package loads neither
ONNX Runtime, tokenizers, huggingface_hub nor wordllama: they load with the first model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..contract.embedding_models import get_model, resolve_pooling
from .loader import load, require_runtime
from .texts import check_texts

__all__ = ["embed_locally", "check_lengths", "download"]


def embed_locally(texts: str | Iterable[str], model: str, pooling: str | None = None) -> np.ndarray:
    """Embed texts on this machine with `model`, never another one.

    Parameters
    ----------
    texts
        The texts; a single str is one text. Every row must be a non-empty str.
    model
        A model id from `model_records()` whose `runs` includes "local" or "shipped" (a Workers AI
        id such as "@cf/baai/bge-small-en-v1.5" runs from its open weights), or the Hugging Face
        repository of those weights.
    pooling
        "mean" or "cls" where the model offers them; None for the model's default (Workers AI's).

    Returns
    -------
    numpy.ndarray
        float32 (len(texts), dimensions), one unit-length row per text, in order.

    Raises
    ------
    UnknownModel
        The model is not in the catalog.
    UnsupportedPooling, TextNotString, EmptyText, TextTooLong
        Checked for every text before anything runs; the message names the row.
    ModelNotAvailable
        The model cannot run here (Workers AI only), its weights are missing and cannot be fetched, or the
        embeddings extra is not installed.
    """
    spec = get_model(model)
    chosen = resolve_pooling(spec, pooling)
    rows = check_texts(texts)
    embedder = load(spec)
    return embedder.embed(rows, chosen) if rows else np.empty((0, spec.dimensions), np.float32)


def check_lengths(texts: list[str], model: str) -> None:
    """Refuse texts over `model`'s token limit before any is embedded, every text counted (the model's tokenizer
    alone runs): TextTooLong names the first row (0-based) and how many more are over it.

    Raises
    ------
    ModelNotAvailable
        As for `embed_locally`.
    """
    load(get_model(model)).check(texts)


def download(model: str, cache_dir: str | Path | None = None) -> tuple[Path, Path]:
    """Fetch a model's open weights into the Hugging Face cache now (with a progress bar), so that
    it runs offline later. Returns the (graph, tokenizer) paths.

    Raises
    ------
    ModelNotAvailable
        The model has no open weights, the Hub cannot be reached, or huggingface_hub is not installed.
    """
    from .weights import fetch_weights

    spec = get_model(model)
    require_runtime("huggingface_hub", f"downloading {spec.model}")
    return fetch_weights(spec, cache_dir)
