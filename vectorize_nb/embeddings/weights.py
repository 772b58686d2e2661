"""Open weights from the Hugging Face Hub: found in its standard cache, or fetched once into it.

The cache is huggingface_hub's own (HF_HOME, HF_HUB_CACHE), so weights fetched by any other tool
are reused, and HF_HUB_OFFLINE=1 is honoured. Without network and without the files, the first
request fails at once: huggingface_hub by itself retries for about 20 seconds before giving up.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..contract.embedding_models import SHIPPED_MODEL, EmbeddingModel, HubWeights, get_model
from ..contract.errors import ModelNotAvailable

__all__ = ["PROBE_TIMEOUT", "cached_weights", "fetch_weights", "how_to_get"]

PROBE_TIMEOUT = 5.0
"""Seconds one look-up on the Hub may take before the model counts as unreachable."""


def cached_weights(hub: HubWeights, cache_dir: str | Path | None = None) -> tuple[Path, Path] | None:
    """The (graph, tokenizer) paths when both files are in the cache, else None. Never touches the network."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        onnx, tokenizer = (Path(hf_hub_download(hub.repo, name, revision=hub.revision, cache_dir=cache_dir,
                                                local_files_only=True))
                           for name in hub.files)
    except LocalEntryNotFoundError:
        return None
    return onnx, tokenizer


def fetch_weights(model: EmbeddingModel, cache_dir: str | Path | None = None) -> tuple[Path, Path]:
    """The (graph, tokenizer) paths of `model`'s open weights, downloading them first if needed
    (huggingface_hub shows a progress bar per file).

    Raises
    ------
    ModelNotAvailable
        The files are not in the cache and the Hub cannot be reached (or offline mode is on); the
        message says how to get them, or which model needs no download.
    """
    hub = _hub(model)
    found = cached_weights(hub, cache_dir)
    if found is not None:
        return found
    _check_reachable(model, hub)
    from huggingface_hub import hf_hub_download

    onnx, tokenizer = (Path(hf_hub_download(hub.repo, name, revision=hub.revision, cache_dir=cache_dir))
                       for name in hub.files)
    return onnx, tokenizer


def how_to_get(model: EmbeddingModel) -> str:
    """What to run, with network, so that `model` runs here offline afterwards."""
    hub, shipped = _hub(model), get_model(SHIPPED_MODEL)
    return (f"with network, run vectorize_nb.embeddings.download({model.model!r}) once (or the shell command "
            f"`hf download {hub.repo} {' '.join(hub.files)}`, about {hub.download_mb} MB) and it runs offline "
            f"afterwards; or use {SHIPPED_MODEL!r}, which needs no download ({shipped.dimensions} dimensions, not bge)")


def _check_reachable(model: EmbeddingModel, hub: HubWeights) -> None:
    """One HEAD request, no retries: fail in seconds rather than after huggingface_hub's backoff."""
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url

    where = f"{model.model} needs its open weights ({hub.repo}), which are not in the Hugging Face cache"
    if constants.HF_HUB_OFFLINE or _truthy(os.environ.get("HF_HUB_OFFLINE")):
        raise ModelNotAvailable(f"{where}, and HF_HUB_OFFLINE is set: {how_to_get(model)}")
    try:
        get_hf_file_metadata(hf_hub_url(hub.repo, hub.onnx, revision=hub.revision), timeout=PROBE_TIMEOUT)
    except Exception as exc:  # any failure of the probe means the download cannot start
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        raise ModelNotAvailable(f"{where}, and the Hugging Face Hub cannot be reached ({reason}): "
                                f"{how_to_get(model)}") from exc


def _hub(model: EmbeddingModel) -> HubWeights:
    if model.weights is None:
        raise ModelNotAvailable(f"{model.model} has no open weights this package can run")
    return model.weights


def _truthy(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE"}
