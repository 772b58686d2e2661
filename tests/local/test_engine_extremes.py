"""Vectors and queries whose norms overflow float32 (a component of 1e20 is a valid float32, its square
is not) or underflow it: every metric still ranks and scores them exactly, with no numpy warning
(pytest turns warnings into errors)."""

import numpy as np
import pytest

from vectorize_nb.contract.models import QueryOptions

from ..helpers import vectors

HUGE = [1e20, -2e20, 5e19, 1e20]
HUGE64 = np.array(HUGE, np.float32).astype(np.float64)  # what is stored
TINY_VALUES = [1e-30, 3e-30, 0.0, -2e-30]
ORDINARY = [[1, 2, 3, 4], [4, 3, 2, 1], [-1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]]


@pytest.fixture(params=["memory", "disk"])
def any_engine(request):
    return request.getfixturevalue("engine" if request.param == "memory" else "disk_engine")


def stored(engine, metric):
    engine.create_index("big", dimensions=4, metric=metric)
    engine.upsert("big", vectors(["huge", "tiny", "a", "b", "c", "d"], [HUGE, TINY_VALUES] + ORDINARY,
                               namespaces=["n"] * 6))
    return engine


def answers(engine, query, **options):
    single = engine.query("big", query, QueryOptions(top_k=6, **options))
    [batch, _] = engine.query_many("big", np.array([query, ORDINARY[0]], np.float32), QueryOptions(top_k=6, **options))
    assert [(m.id, m.score) for m in single] == [(m.id, m.score) for m in batch]
    return [(m.id, m.score) for m in single]


def test_a_cosine_vector_with_huge_components_is_its_own_best_match(any_engine):
    engine = stored(any_engine, "cosine")
    for options in ({}, {"namespace": "n"}):
        got = answers(engine, HUGE, **options)
        assert got[0] == ("huge", pytest.approx(1.0))
        assert answers(engine, TINY_VALUES, **options)[0] == ("tiny", pytest.approx(1.0))
    expected = np.array(HUGE) @ np.array(ORDINARY[0]) / np.linalg.norm(HUGE) / np.linalg.norm(ORDINARY[0])
    assert dict(answers(engine, ORDINARY[0]))["huge"] == pytest.approx(expected, rel=1e-6)


def test_euclidean_distances_to_and_from_huge_vectors(any_engine):
    engine = stored(any_engine, "euclidean")
    got = answers(engine, HUGE)
    assert got[0] == ("huge", 0.0)
    assert got[1][1] == pytest.approx(np.linalg.norm(HUGE64), rel=1e-12)
    near = answers(engine, ORDINARY[0])
    assert near[0] == ("a", 0.0)
    assert near[-1] == ("huge", pytest.approx(np.linalg.norm(HUGE64 - ORDINARY[0]), rel=1e-12))
    assert answers(engine, TINY_VALUES)[0][0] == "tiny"


def test_dot_products_with_huge_vectors(any_engine):
    engine = stored(any_engine, "dot-product")
    got = answers(engine, HUGE)
    assert got[0] == ("huge", pytest.approx(-float(HUGE64 @ HUGE64), rel=1e-12))
    assert answers(engine, [1e20, 1e20, 1e20, 1e20])[0][0] == "huge"
    assert answers(engine, [-1e20, 2e20, -1e20, -1e20])[-1][0] == "huge"


def test_a_query_of_the_largest_float32_values(any_engine):
    biggest = float(np.finfo(np.float32).max)
    for metric in ["cosine", "euclidean", "dot-product"]:
        engine = any_engine
        engine.create_index(metric, dimensions=4, metric=metric)
        engine.upsert(metric, vectors(["max", "a"], [[biggest] * 4, ORDINARY[0]]))
        matches = engine.query(metric, [biggest] * 4, QueryOptions(top_k=2))
        assert matches[0].id == "max" and all(np.isfinite(m.score) for m in matches)
