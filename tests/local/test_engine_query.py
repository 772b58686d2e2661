import numpy as np
import pytest

from vectorize_nb import errors
from vectorize_nb.contract.models import QueryOptions

from ..helpers import vectors


def q(**options):
    return QueryOptions(**options)


def test_cosine_scores_are_similarities_best_first(engine):
    engine.create_index("c3", dimensions=3, metric="cosine")
    engine.upsert("c3", vectors(["doc", "far"], [[58.8, 6.7, 3.4], [-1, 0, 0]]))
    matches = engine.query("c3", [54.8, 5.5, 3.1], q(top_k=2))
    assert [m.id for m in matches] == ["doc", "far"]
    assert matches[0].score == pytest.approx(0.999909486, abs=1e-7)  # the docs' own example
    assert matches[1].score == pytest.approx(-54.8 / np.linalg.norm([54.8, 5.5, 3.1]), rel=1e-6)


def test_a_cosine_score_never_passes_one(engine):
    rows = np.random.default_rng(3).standard_normal((200, 32)).astype(np.float32)
    rows64 = rows.astype(np.float64)
    rounded = (rows64 * rows64).sum(axis=1) / np.square(np.linalg.norm(rows64, axis=1))
    assert (rounded > 1).any() and (rounded < 1).any()  # float64 rounding takes some self-scores past 1
    engine.create_index("unit", dimensions=32, metric="cosine")
    engine.upsert("unit", vectors([f"v{i:03d}" for i in range(200)], rows))
    best = [engine.query("unit", rows[i], q(top_k=1))[0] for i in range(200)]
    assert [m.id for m in best] == [f"v{i:03d}" for i in range(200)]
    assert max(m.score for m in best) == 1.0 and min(m.score for m in best) > 0.999999


def test_euclidean_scores_are_l2_distances_lowest_first(engine):
    engine.create_index("e2", dimensions=2, metric="euclidean")
    engine.upsert("e2", vectors(["near", "far", "same"], [[3, 4], [30, 40], [0, 0]]))
    matches = engine.query("e2", [0, 0], q(top_k=3))
    assert [(m.id, m.score) for m in matches] == [("same", 0.0), ("near", 5.0), ("far", 50.0)]


def test_dot_product_scores_are_negative_dot_products_lowest_first(engine):
    engine.create_index("d2", dimensions=2, metric="dot-product")
    engine.upsert("d2", vectors(["small", "big", "against"], [[1, 0], [10, 0], [-5, 0]]))
    matches = engine.query("d2", [2, 0], q(top_k=3))
    assert [(m.id, m.score) for m in matches] == [("big", -20.0), ("small", -2.0), ("against", 10.0)]


@pytest.fixture
def catalog(engine, rng):
    engine.create_index("cat", dimensions=8, metric="cosine")
    engine.create_metadata_index("cat", "genre", "string")
    engine.create_metadata_index("cat", "year", "number")
    data = rng.standard_normal((200, 8)).astype(np.float32)
    metadata = [{"genre": ["drama", "comedy", "noir"][i % 3], "year": 1950 + i % 70, "title": f"t{i}"}
                for i in range(200)]
    namespaces = ["eu" if i % 2 else "us" for i in range(200)]
    engine.upsert("cat", vectors([f"m{i}" for i in range(200)], data, metadata, namespaces))
    return engine, data, metadata, namespaces


def expected(data, query, allowed, k):
    unit = data / np.linalg.norm(data, axis=1, keepdims=True)
    scores = unit @ (query / np.linalg.norm(query))
    ranked = sorted((i for i in range(len(data)) if allowed(i)), key=lambda i: -scores[i])[:k]
    return [f"m{i}" for i in ranked], [float(scores[i]) for i in ranked]


def test_unfiltered_query_matches_brute_force(catalog, rng):
    engine, data, _, _ = catalog
    query = rng.standard_normal(8).astype(np.float32)
    ids, scores = expected(data, query, lambda i: True, 10)
    matches = engine.query("cat", query, q(top_k=10))
    assert [m.id for m in matches] == ids
    np.testing.assert_allclose([m.score for m in matches], scores, rtol=1e-6)


def test_filter_and_namespace_apply_before_the_top_k_cut(catalog, rng):
    engine, data, metadata, namespaces = catalog
    query = rng.standard_normal(8).astype(np.float32)
    allowed = lambda i: metadata[i]["genre"] == "noir" and 1960 <= metadata[i]["year"] < 2000 and namespaces[i] == "eu"
    ids, _ = expected(data, query, allowed, 5)
    matches = engine.query("cat", query, q(top_k=5, namespace="eu",
                                            filter={"genre": "noir", "year": {"$gte": 1960, "$lt": 2000}}))
    assert [m.id for m in matches] == ids and len(ids) == 5
    assert {m.namespace for m in matches} == {"eu"}


def test_a_filter_that_matches_nothing_and_an_unknown_namespace_give_no_matches(catalog):
    engine, *_ = catalog
    assert engine.query("cat", np.ones(8), q(filter={"genre": "western"})) == []
    assert engine.query("cat", np.ones(8), q(namespace="asia")) == []
    assert engine.query("cat", np.ones(8), q(filter={"title": "t1"})) == []  # title has no metadata index


def test_return_modes(catalog):
    engine, data, metadata, _ = catalog
    [plain] = engine.query("cat", data[3], q(top_k=1))
    assert (plain.id, plain.values, plain.metadata, plain.namespace) == ("m3", None, None, "eu")
    [full] = engine.query("cat", data[3], q(top_k=1, return_values=True, return_metadata="all"))
    assert full.metadata == metadata[3] and full.values.tolist() == data[3].tolist()
    [indexed] = engine.query("cat", data[3], q(top_k=1, return_metadata="indexed"))
    assert indexed.metadata == {"genre": metadata[3]["genre"], "year": metadata[3]["year"]}


def test_query_by_vector_id_uses_the_stored_vector(catalog):
    engine, data, _, _ = catalog
    by_id = engine.query("cat", None, q(top_k=3), vector_id="m7")
    by_vector = engine.query("cat", data[7], q(top_k=3))
    assert [m.id for m in by_id] == [m.id for m in by_vector] and by_id[0].id == "m7"
    assert by_id[0].score == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(errors.VectorNotFound, match='no vector with id="ghost"'):
        engine.query("cat", None, q(), vector_id="ghost")
    with pytest.raises(errors.InvalidQuery, match="exactly one of vector or vectorId"):
        engine.query("cat", data[7], q(), vector_id="m7")
    with pytest.raises(errors.InvalidQuery, match="exactly one of vector or vectorId"):
        engine.query("cat", None, q())


def test_top_k_limits(catalog):
    engine, *_ = catalog
    assert len(engine.query("cat", np.ones(8), q(top_k=100))) == 100
    assert len(engine.query("cat", np.ones(8), q(top_k=100, return_metadata="indexed"))) == 100
    assert len(engine.query("cat", np.ones(8), q(top_k=50, return_values=True))) == 50
    with pytest.raises(errors.TopKTooLarge, match="max top K is 100, but got 101"):
        engine.query("cat", np.ones(8), q(top_k=101))
    with pytest.raises(errors.TopKTooLarge, match="max top K is 50, but got 51"):
        engine.query("cat", np.ones(8), q(top_k=51, return_values=True))


def test_wrong_query_length_is_40006(catalog):
    engine, *_ = catalog
    with pytest.raises(errors.QueryDimensionMismatch) as info:
        engine.query("cat", [1, 2, 3], q())
    assert info.value.message == "invalid query vector, expected 8 dimensions, and got 3 dimensions"


def test_malformed_filter_is_rejected(catalog):
    engine, *_ = catalog
    with pytest.raises(errors.InvalidFilter, match="cannot be combined"):
        engine.query("cat", np.ones(8), q(filter={"year": {"$gt": 1, "$gte": 2}}))


def test_query_many_answers_like_single_queries(catalog, rng):
    engine, *_ = catalog
    queries = rng.standard_normal((6, 8)).astype(np.float32)
    options = q(top_k=7, filter={"genre": {"$ne": "drama"}}, namespace="us", return_metadata="all")
    many = engine.query_many("cat", queries, options)
    singles = [engine.query("cat", query, options) for query in queries]
    assert many == singles


def test_empty_index_answers_with_no_matches(engine):
    engine.create_index("empty", dimensions=2, metric="cosine")
    assert engine.query("empty", [1, 0], q()) == []
    assert engine.query_many("empty", np.ones((3, 2)), q()) == [[], [], []]
