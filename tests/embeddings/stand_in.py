"""Workers AI's bge models with no network: the tiny encoder of tiny.py (random weights, bge's widths)
laid out in a Hugging Face cache of its own under the repository names of the real weights, with
huggingface_hub pointed at that cache and offline. Whatever loads a bge model in this process (the
runtime, `vectorize-nb serve` in a thread) then loads the stand-in, and nothing reaches the network.

    with stand_in_cache(tmp_path, ["@cf/baai/bge-small-en-v1.5"]):
        embed_locally(["read a csv file"], "@cf/baai/bge-small-en-v1.5")   # the stand-in's vectors
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from vectorize_nb.contract.embedding_models import get_model
from vectorize_nb.embeddings import loader

from .tiny import build_repo, fill_hub_cache

SMALL = "@cf/baai/bge-small-en-v1.5"
BASE = "@cf/baai/bge-base-en-v1.5"


@contextmanager
def stand_in_cache(folder: Path, models: Iterable[str] = (SMALL,)) -> Iterator[Path]:
    """An offline Hugging Face cache under `folder` holding a stand-in for each model; yields the cache."""
    from huggingface_hub import constants

    cache = folder / "hf-hub"
    for model in models:
        spec = get_model(model)
        assert spec.weights is not None, f"{model} has no open weights to stand in for"
        source = folder / f"tiny-{spec.dimensions}"
        if not source.exists():
            build_repo(source, hidden=spec.dimensions)
        fill_hub_cache(cache, spec.weights.repo, source)
    loader.forget()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(constants, "HF_HUB_CACHE", str(cache))
        patch.setattr(constants, "HF_HUB_OFFLINE", True)
        patch.setenv("HF_HUB_OFFLINE", "1")
        try:
            yield cache
        finally:
            loader.forget()
