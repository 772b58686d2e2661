"""Shared fixtures: small engines with tiny vectors, and seeded data."""

from __future__ import annotations

import numpy as np
import pytest

from vectorize_nb.local import LocalEngine

from .helpers import TINY


@pytest.fixture(autouse=True)
def private_caches(tmp_path_factory, monkeypatch):
    """Embedding caches and downloaded weights go to this run's temporary folder, never the user's."""
    root = tmp_path_factory.getbasetemp() / "caches"
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
    monkeypatch.setenv("HF_HOME", str(root / "hf"))


@pytest.fixture
def engine():
    with LocalEngine(limits=TINY) as eng:
        yield eng


@pytest.fixture
def disk_engine(tmp_path):
    with LocalEngine(tmp_path / "store", limits=TINY) as eng:
        yield eng


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)
