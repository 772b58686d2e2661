"""Helpers shared by the tests."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from vectorize_nb import WriteIncomplete, errors
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


def refusals_name_the_remade_index(kept, dimensions: int) -> None:
    """`kept`'s own checks of a vector's width, once another client or process deleted its index and made it again
    with `dimensions`, refuse one of the new width and say so (each refusal said "expected <the old width>" and no
    more, while the engine's refusal of the old width named the new index)."""
    name, old, new = kept.name, kept.dimensions, np.ones(dimensions)
    frame = pd.DataFrame({"id": ["x"], "vector": [new]})
    note = (f"; index {name!r} was deleted and made again since this Index was made (by another client or process), "
            f"with {dimensions} dimensions: client.get_index({name!r}) gives the new one")
    upsert_frame = lambda: frame.vectorize.upsert(kept, id="id", vector="vector")
    for refused, call in [(errors.QueryDimensionMismatch, lambda: kept.query(new)),
                          (errors.QueryDimensionMismatch, lambda: kept.query_many([new])),
                          (errors.QueryDimensionMismatch, lambda: frame.vectorize.query(kept, vector="vector")),
                          (errors.VectorDimensionMismatch, lambda: kept.upsert(["x"], [new])),
                          (errors.VectorDimensionMismatch, lambda: kept.insert([{"id": "x", "values": new}])),
                          (errors.VectorDimensionMismatch, lambda: kept.write("upsert", vectors(["x"], [new]))),
                          (errors.VectorDimensionMismatch, upsert_frame)]:
        with pytest.raises(refused) as raised:
            call()
        assert raised.value.message.endswith(f"expected {old} dimensions, and got {dimensions} dimensions{note}")
    with pytest.raises(WriteIncomplete) as incomplete:  # the engine's refusal of the old width
        kept.upsert(["x"], [np.ones(old)])
    assert f"expected {dimensions} dimensions, and got {old} dimensions{note} (during" in str(incomplete.value)
