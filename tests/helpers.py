"""Helpers shared by the tests."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from vectorize_nb.contract.limits import DEFAULT_LIMITS
from vectorize_nb.contract.models import Vectors
from vectorize_nb.contract.notices import VectorizeWarning

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


def made_after(index, property_name: str, index_type: str):
    """A metadata index made on an index whose vectors predate it, where a test is about something else: over REST
    that is said when it is made (tests/test_warnings.py tests the warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VectorizeWarning)
        return index.create_metadata_index(property_name, index_type)
