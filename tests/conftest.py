"""Shared fixtures: small engines with tiny vectors, and seeded data."""

from __future__ import annotations

import numpy as np
import pytest

from vectorize_nb.local import LocalEngine

from .helpers import TINY


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
