"""The embedding models the package knows: one table, shared by the local runtime, the Workers AI
client and the server. Standard library only (it is shared vocabulary).

Facts about Workers AI come from Cloudflare's model pages; facts about open weights from the
model cards on the Hugging Face Hub. `runs` says where a model can run: on Workers AI, here from
open weights fetched once into the Hugging Face cache, or here from a model shipped in a package.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .errors import UnknownModel, UnsupportedPooling

__all__ = ["EmbeddingModel", "HubWeights", "MODELS", "SHIPPED_MODEL", "get_model", "known_model", "model_records",
           "resolve_pooling"]


@dataclass(frozen=True)
class HubWeights:
    """Open weights on the Hugging Face Hub, in the form the local runtime reads: an ONNX graph whose
    output is the last hidden state, and the `tokenizers` library's tokenizer.json."""

    repo: str
    onnx: str = "onnx/model.onnx"
    tokenizer: str = "tokenizer.json"
    revision: str = "main"
    download_mb: int = 0
    """Approximate size of the files, for messages (the graph dominates)."""

    @property
    def files(self) -> tuple[str, str]:
        """The files to fetch, as paths inside the repository."""
        return self.onnx, self.tokenizer


@dataclass(frozen=True)
class EmbeddingModel:
    """One embedding model: what it produces, its limits, and where it can run."""

    model: str
    dimensions: int
    pooling: str
    """What the model does when the request names no pooling (Workers AI's default)."""
    poolings: tuple[str, ...] = ()
    """What a request may ask for; empty when the model takes no `pooling` input."""
    max_texts: int | None = None
    """Texts per Workers AI request (for the shipped model, per request to `vectorize-nb serve`, which would
    otherwise build an answer of hundreds of MB from a 600 KB body); None where none is documented."""
    max_tokens: int | None = None
    """Tokens per text, special tokens included; None when the model has no limit."""
    weights: HubWeights | None = None
    """Open weights the local runtime can fetch and run; None when it cannot run this model."""
    package: str | None = None
    """The installed package that carries the model, for a model that needs no download."""

    @property
    def workers_ai(self) -> bool:
        """True for a model Workers AI serves (its id starts with @cf/ or @hf/)."""
        return self.model.startswith(("@cf/", "@hf/"))

    @property
    def offline(self) -> bool:
        """True when the model runs here with no network and nothing downloaded."""
        return self.package is not None

    @property
    def runtime(self) -> str | None:
        """The local runtime that runs it: "static" (shipped), "onnx" (open weights) or None."""
        if self.package is not None:
            return "static"
        return "onnx" if self.weights is not None else None

    @property
    def runs(self) -> tuple[str, ...]:
        """Where it can run: "workers-ai", "local" (open weights, fetched once), "shipped"."""
        places: tuple[str, ...] = ("workers-ai",) if self.workers_ai else ()
        if self.weights is not None:
            places += ("local",)
        if self.package is not None:
            places += ("shipped",)
        return places


SHIPPED_MODEL = "wordllama/l2-supercat-256"
"""The model that ships inside the wordllama wheel (a static token-embedding model, not bge)."""


def _bge(size: str, dimensions: int, download_mb: int) -> EmbeddingModel:
    return EmbeddingModel(f"@cf/baai/bge-{size}-en-v1.5", dimensions, pooling="mean", poolings=("mean", "cls"),
                          max_texts=100, max_tokens=512,
                          weights=HubWeights(f"BAAI/bge-{size}-en-v1.5", download_mb=download_mb))


MODELS: tuple[EmbeddingModel, ...] = (
    _bge("small", 384, 134),
    _bge("base", 768, 437),
    _bge("large", 1024, 1338),
    # Workers AI only: their local form needs more than this runtime does (bge-m3's sparse and
    # multi-vector heads, Qwen3's last-token pooling and instruction, Gemma's gated licence, PLaMo's
    # own model code).
    EmbeddingModel("@cf/baai/bge-m3", 1024, pooling="cls", max_texts=100),
    EmbeddingModel("@cf/qwen/qwen3-embedding-0.6b", 1024, pooling="last-token", max_texts=32, max_tokens=8192),
    EmbeddingModel("@cf/google/embeddinggemma-300m", 768, pooling="mean"),
    EmbeddingModel("@cf/pfnet/plamo-embedding-1b", 2048, pooling="mean"),
    EmbeddingModel(SHIPPED_MODEL, 256, pooling="mean", poolings=("mean",), max_texts=100, package="wordllama"),
)

_BY_NAME: dict[str, EmbeddingModel] = {m.model: m for m in MODELS}
_BY_NAME.update({m.weights.repo: m for m in MODELS if m.weights is not None})


def get_model(model: str) -> EmbeddingModel:
    """The catalog entry for a model id (or the Hugging Face repository of its open weights).

    Raises
    ------
    UnknownModel
        The id is not in the catalog; the message lists the closest ids.
    """
    found = _BY_NAME.get(model) if isinstance(model, str) else None
    if found is None:
        close = difflib.get_close_matches(str(model), list(_BY_NAME), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "."
        raise UnknownModel(f"No such model {model!r}{hint} The package knows: {', '.join(m.model for m in MODELS)}")
    return found


def known_model(model: str) -> bool:
    """True for a model id (or Hugging Face repository) of the catalog."""
    return model in _BY_NAME


def resolve_pooling(model: EmbeddingModel, pooling: str | None) -> str:
    """The pooling a request for `model` gets: its default when `pooling` is None.

    Raises
    ------
    UnsupportedPooling
        The model does not offer the pooling asked for (or takes no pooling input at all).
    """
    if pooling is None:
        return model.pooling
    if pooling not in model.poolings:
        offered = f"one of {', '.join(model.poolings)}" if model.poolings else "no pooling input (leave it None)"
        raise UnsupportedPooling(f"{model.model} takes {offered}, not pooling={pooling!r}")
    return pooling


def model_records() -> list[dict[str, Any]]:
    """The catalog as plain records, one per model: model, dimensions, max_texts, max_tokens, pooling,
    poolings, offline, runs (comma-separated), weights (Hugging Face repository) and download_mb."""
    return [{"model": m.model, "dimensions": m.dimensions, "max_texts": m.max_texts, "max_tokens": m.max_tokens,
             "pooling": m.pooling, "poolings": ", ".join(m.poolings), "offline": m.offline,
             "runs": ", ".join(m.runs), "weights": m.weights.repo if m.weights else m.package,
             "download_mb": m.weights.download_mb if m.weights else 0}
            for m in MODELS]
