"""Helpers shared by the tests."""

from __future__ import annotations

import os

import numpy as np
import pytest

from vectorize_nb.contract.limits import DEFAULT_LIMITS
from vectorize_nb.contract.models import Vectors

TINY = DEFAULT_LIMITS.with_changes(min_dimensions=2)
"""Cloudflare's limits, except that 2-dimensional vectors are allowed so tests can be read by eye."""


def vectors(ids, values, metadata=None, namespaces=None) -> Vectors:
    return Vectors(list(ids), np.asarray(values, dtype=np.float32), metadata, namespaces)


def cosine(row, query) -> float:
    """Vectorize's cosine score of a stored row for a query, computed in float64 as the engine does."""
    row64, query64 = np.asarray(row, dtype=np.float64), np.asarray(query, dtype=np.float64)
    return float(row64 @ query64 / (np.linalg.norm(row64) * np.linalg.norm(query64)))


REQUIRE_BROWSER = "VECTORIZE_NB_REQUIRE_BROWSER"


def browser_unavailable(reason: str) -> None:
    """Skip a test that needs a browser, or fail it where the browser is required (CI sets the variable)."""
    if os.environ.get(REQUIRE_BROWSER) == "1":
        pytest.fail(f"{REQUIRE_BROWSER}=1 but {reason}")
    pytest.skip(reason)
