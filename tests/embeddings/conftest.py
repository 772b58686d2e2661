"""Fixtures for the embeddings tests: a tiny open-weights model laid out as a Hub repository, and a
Hugging Face cache of its own for each test."""

from __future__ import annotations

import pytest

from vectorize_nb.embeddings import loader

from .tiny import build_repo


@pytest.fixture(autouse=True)
def _fresh_models():
    """Each test loads its own models: the process-wide cache would leak one test's tiny model."""
    loader.forget()
    yield
    loader.forget()


@pytest.fixture(scope="session")
def tiny_repo(tmp_path_factory):
    """onnx/model.onnx (384 values per token, as bge-small) and tokenizer.json, in one folder."""
    folder = tmp_path_factory.mktemp("tiny-bge")
    build_repo(folder, hidden=384)
    return folder


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache, offline: nothing here may reach the network."""
    from huggingface_hub import constants

    cache = tmp_path / "hf-hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache
