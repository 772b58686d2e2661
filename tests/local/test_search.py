import numpy as np
import pytest

from vectorize_nb.local import search


def brute(matrix, query, metric, k, rows=None):
    scorer = search.Scorer(metric)
    candidates = np.arange(len(matrix)) if rows is None else rows
    scores = scorer.score(matrix[candidates], query)
    order = np.argsort(-scores if scorer.higher_is_better else scores, kind="stable")
    return set(candidates[order[:k]].tolist())


def prepared_matrix(data, metric):
    if metric == "cosine":
        return data / np.linalg.norm(data, axis=1, keepdims=True), None
    if metric == "euclidean":
        return data, np.einsum("ij,ij->i", data, data)
    return data, None


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
@pytest.mark.parametrize("kernel", ["blas", "threaded einsum"])
def test_single_query_finds_the_exact_top_k(rng, metric, kernel, monkeypatch):
    if kernel == "threaded einsum":  # the path of large matrices, on small data
        monkeypatch.setattr(search, "BLAS_SCAN_VALUES", 0)
        monkeypatch.setattr(search, "THREADED_ROWS", 50)
    data = rng.standard_normal((3000, 16)).astype(np.float32)
    query = rng.standard_normal(16).astype(np.float32)
    matrix, bias = prepared_matrix(data, metric)
    scorer = search.Scorer(metric)
    found = search.top_k(matrix, bias, scorer.prepare(query[None])[0], 10)
    assert set(found.tolist()) == brute(data, query, metric, 10)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
@pytest.mark.parametrize("share", [0.01, 0.1, 0.7])
def test_filtered_query_searches_only_the_given_rows(rng, metric, share, monkeypatch):
    monkeypatch.setattr(search, "THREADED_ROWS", 50)  # exercise the threaded gather on small data
    monkeypatch.setattr(search, "GATHER_CHUNK", 32)
    data = rng.standard_normal((4000, 16)).astype(np.float32)
    query = rng.standard_normal(16).astype(np.float32)
    rows = np.flatnonzero(rng.random(4000) < share)
    matrix, bias = prepared_matrix(data, metric)
    found = search.top_k(matrix, bias, search.Scorer(metric).prepare(query[None])[0], 10, rows)
    assert set(found.tolist()) == brute(data, query, metric, 10, rows)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
@pytest.mark.parametrize("filtered", [False, True])
def test_batch_matches_single_queries(rng, metric, filtered, monkeypatch):
    monkeypatch.setattr(search, "BATCH_CHUNK", 256)  # many chunks: the running threshold really runs
    data = rng.standard_normal((3000, 16)).astype(np.float32)
    queries = rng.standard_normal((7, 16)).astype(np.float32)
    rows = np.flatnonzero(rng.random(3000) < 0.3) if filtered else None
    matrix, bias = prepared_matrix(data, metric)
    scorer = search.Scorer(metric)
    found = search.top_k_many(matrix, bias, scorer.prepare(queries), 12, rows)
    assert found.shape == (7, 12)
    for query, picked in zip(queries, found):
        assert set(picked.tolist()) == brute(data, query, metric, 12, rows)


def test_k_larger_than_the_candidates(rng):
    data = rng.standard_normal((5, 4)).astype(np.float32)
    scorer = search.Scorer("dot-product")
    assert sorted(search.top_k(data, None, scorer.prepare(data[:1])[0], 10).tolist()) == [0, 1, 2, 3, 4]
    rows = np.array([1, 3])
    assert sorted(search.top_k(data, None, scorer.prepare(data[:1])[0], 10, rows).tolist()) == [1, 3]
    assert search.top_k_many(data, None, scorer.prepare(data), 10, rows).shape == (5, 2)


def test_scores_follow_the_documented_metric_definitions():
    rows = np.array([[58.8, 6.7, 3.4]], dtype=np.float32)
    query = np.array([54.8, 5.5, 3.1], dtype=np.float32)
    assert search.Scorer("cosine").score(rows, query)[0] == pytest.approx(0.999909486, abs=1e-8)
    assert search.Scorer("euclidean").score(rows, query)[0] == pytest.approx(
        np.sqrt((4.0 ** 2) + (1.2 ** 2) + (0.3 ** 2)), rel=1e-6)
    assert search.Scorer("dot-product").score(rows, query)[0] == pytest.approx(-(58.8 * 54.8 + 6.7 * 5.5 + 3.4 * 3.1),
                                                                              rel=1e-6)


def test_zero_vectors_score_zero_under_cosine():
    scorer = search.Scorer("cosine")
    assert scorer.score(np.zeros((1, 3), np.float32), np.ones(3, np.float32)).tolist() == [0.0]
    assert scorer.prepare(np.zeros((1, 3), np.float32)).tolist() == [[0.0, 0.0, 0.0]]
