import numpy as np
import pytest
import threadpoolctl

from vectorize_nb.local import search
from vectorize_nb.local.vectorfile import row_norms


KERNELS = ["numpy"] + (["compiled"] if search._kernels is not None else [])


@pytest.fixture(autouse=True, params=KERNELS)
def kernels(request, monkeypatch):
    """Every test here runs on numpy's passes and on the compiled kernels (where they were built)."""
    if request.param == "numpy":
        monkeypatch.setattr(search, "_kernels", None)
    return request.param


def brute(matrix, query, metric, k, rows=None):
    scorer = search.Scorer(metric)
    candidates = np.arange(len(matrix)) if rows is None else rows
    scores = scorer.score(matrix[candidates], query)
    order = np.argsort(-scores if scorer.higher_is_better else scores, kind="stable")
    return set(candidates[order[:k]].tolist())


def scan_of(data, metric, excluded=None):
    scorer = search.Scorer(metric)
    weights, _ = scorer.weights(row_norms(data))
    return scorer.scan(data, weights, excluded)


def prepared(metric, queries):
    ready, exact = search.Scorer(metric).prepare(queries)
    assert not exact.any()
    return ready


@pytest.fixture
def three_threads(monkeypatch):
    """The threaded kernels on small data, in three parts (more than this machine may have)."""
    monkeypatch.setattr(search, "THREADED_ROWS", 50)
    monkeypatch.setattr(search, "ROWS_PER_THREAD", {"scan": 50, "gather": 50, "batch": 50})
    monkeypatch.setattr(search, "threads", lambda: 3)
    monkeypatch.setattr(search, "BLAS_SCAN_THREADS", 99)  # our threads, not BLAS's


@pytest.fixture
def blas_scan(monkeypatch, three_threads):
    """A full scan as BLAS's gemv on BLAS's threads (what machines of many cores get)."""
    monkeypatch.setattr(search, "BLAS_SCAN_THREADS", 1)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
@pytest.mark.parametrize("parts", ["one thread", "three threads", "blas scan"])
def test_single_query_finds_the_exact_top_k(rng, metric, parts, request):
    if parts != "one thread":
        request.getfixturevalue(parts.replace(" ", "_"))
    data = rng.standard_normal((3000, 16)).astype(np.float32)
    query = rng.standard_normal(16).astype(np.float32)
    found = search.top_k(scan_of(data, metric), prepared(metric, query[None])[0], 10)
    assert set(found.tolist()) == brute(data, query, metric, 10)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
@pytest.mark.parametrize("share", [0.01, 0.1, 0.7])
def test_filtered_query_searches_only_the_given_rows(rng, metric, share, monkeypatch, three_threads):
    monkeypatch.setattr(search, "GATHER_CHUNK", 32)
    data = rng.standard_normal((4000, 16)).astype(np.float32)
    query = rng.standard_normal(16).astype(np.float32)
    rows = np.flatnonzero(rng.random(4000) < share)
    found = search.top_k(scan_of(data, metric), prepared(metric, query[None])[0], 10, rows)
    assert set(found.tolist()) == brute(data, query, metric, 10, rows)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
@pytest.mark.parametrize("filtered", [False, True])
@pytest.mark.parametrize("parts", ["one thread", "three threads"])
def test_batch_matches_single_queries(rng, metric, filtered, parts, monkeypatch, request):
    if parts == "three threads":
        request.getfixturevalue("three_threads")
    monkeypatch.setattr(search, "BATCH_VALUES", 256 * 7)  # many chunks: the running threshold really runs
    data = rng.standard_normal((3000, 16)).astype(np.float32)
    queries = rng.standard_normal((7, 16)).astype(np.float32)
    rows = np.flatnonzero(rng.random(3000) < 0.3) if filtered else None
    found = search.top_k_many(scan_of(data, metric), prepared(metric, queries), 12, rows)
    assert found.shape == (7, 12)
    for query, picked in zip(queries, found):
        assert set(picked.tolist()) == brute(data, query, metric, 12, rows)


def test_excluded_rows_are_never_picked(rng, three_threads):
    data = rng.standard_normal((500, 8)).astype(np.float32)
    query = data[7] * 3
    excluded = np.array([3, 7, 8, 499])
    scan = scan_of(data, "dot-product", excluded)
    single = search.top_k(scan, prepared("dot-product", query[None])[0], 5)
    batch = search.top_k_many(scan, prepared("dot-product", np.stack([query, data[8]])), 5)
    allowed = np.setdiff1d(np.arange(500), excluded)
    assert set(single.tolist()) == brute(data, query, "dot-product", 5, allowed)
    assert set(batch[0].tolist()) == set(single.tolist())
    assert set(batch[1].tolist()) == brute(data, data[8], "dot-product", 5, allowed)


def test_a_batch_marks_missing_candidates_when_too_many_rows_are_excluded(rng):
    data = rng.standard_normal((6, 4)).astype(np.float32)
    found = search.top_k_many(scan_of(data, "cosine", np.array([0, 1, 2, 3])), prepared("cosine", data[:2]), 6)
    assert [sorted(row) for row in found.tolist()] == [[-1, -1, -1, -1, 4, 5]] * 2


def test_k_larger_than_the_candidates(rng):
    data = rng.standard_normal((5, 4)).astype(np.float32)
    scan, query = scan_of(data, "dot-product"), prepared("dot-product", data[:1])[0]
    assert sorted(search.top_k(scan, query, 10).tolist()) == [0, 1, 2, 3, 4]
    rows = np.array([1, 3])
    assert sorted(search.top_k(scan, query, 10, rows).tolist()) == [1, 3]
    assert search.top_k_many(scan, prepared("dot-product", data), 10, rows).shape == (5, 2)


def test_best_exact_ranks_by_the_float64_score(rng, monkeypatch):
    monkeypatch.setattr(search, "EXACT_ROWS", 16)  # many chunks, with the candidates cut on the way
    data = (rng.standard_normal((1000, 8)) * 1e30).astype(np.float32)
    rows = np.arange(3, 1000, 2)
    for metric in ["cosine", "euclidean", "dot-product"]:
        found = search.best_exact(search.Scorer(metric), data, rows, data[11], 5)
        assert set(found.tolist()) == brute(data, data[11], metric, 5, rows)


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
    ready, exact = scorer.prepare(np.zeros((1, 3), np.float32))
    assert ready.tolist() == [[0.0, 0.0, 0.0]] and exact.tolist() == [False]
    weights, extreme = scorer.weights(np.zeros(1))
    assert weights.tolist() == [0.0] and extreme.tolist() == [False]


def test_norms_beyond_float32_are_prepared_without_overflow():
    huge = np.full((1, 384), 1e20, dtype=np.float32)
    for metric in ["cosine", "dot-product"]:
        ready, exact = search.Scorer(metric).prepare(huge)
        assert np.allclose(ready, 1 / np.sqrt(384)) and exact.tolist() == [False]
    ready, exact = search.Scorer("euclidean").prepare(huge)
    assert exact.tolist() == [True] and np.isfinite(ready).all()
    norms = row_norms(np.concatenate([huge, np.full((1, 384), 1e-30, np.float32), np.ones((1, 384), np.float32)]))
    assert norms.tolist() == pytest.approx([1e20 * np.sqrt(384), 1e-30 * np.sqrt(384), np.sqrt(384)], rel=1e-6)
    for metric in ["cosine", "euclidean", "dot-product"]:
        weights, extreme = search.Scorer(metric).weights(norms)
        assert extreme.tolist() == [True, True, False]
        assert weights is None or np.isfinite(weights).all()


def test_the_thread_count_follows_the_machine_and_the_limits(monkeypatch):
    cpus = len(search.os.sched_getaffinity(0))
    for name in search.LIMIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with threadpoolctl.threadpool_limits(cpus):
        assert search.threads() == cpus
    with threadpoolctl.threadpool_limits(1):
        assert search.threads() == 1
    monkeypatch.setattr(search.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6, 7})
    with threadpoolctl.threadpool_limits(8):
        assert search.threads() == 8
        monkeypatch.setenv("OMP_NUM_THREADS", "3")
        assert search.threads() == 3
        monkeypatch.setenv("MKL_NUM_THREADS", "2")
        assert search.threads() == 2


def test_without_threadpoolctl_a_batch_runs_in_one_thread_and_the_variables_still_count(rng, monkeypatch):
    blind = search._Blas.__new__(search._Blas)
    blind.controller, blind.lock = None, search.threading.Lock()
    monkeypatch.setattr(search, "_blas", blind)
    monkeypatch.setattr(search, "THREADED_ROWS", 50)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert search.threads() == 1
    data = rng.standard_normal((500, 8)).astype(np.float32)
    found = search.top_k_many(scan_of(data, "euclidean"), prepared("euclidean", data[:3]), 4)
    for query, picked in zip(data[:3], found):
        assert set(picked.tolist()) == brute(data, query, "euclidean", 4)


def test_a_threaded_batch_makes_every_blas_call_in_one_blas_thread(rng, monkeypatch, three_threads, kernels):
    """BLAS's own threads, once woken, spin for a while on the cores our threads need: a batch split
    over our threads must not wake them, the seed of its threshold (numpy's passes) included."""
    blas = search._blas_libraries()
    if blas.controller is None:
        pytest.skip("threadpoolctl cannot steer this BLAS")
    seen = []
    for name in ("_seed_threshold", "_scored_chunks"):
        step = getattr(search, name)
        monkeypatch.setattr(search, name, lambda *args, step=step, name=name: seen.append((name, blas.threads()))
                            or step(*args))
    data = rng.standard_normal((500, 8)).astype(np.float32)
    with threadpoolctl.threadpool_limits(2):
        search.top_k_many(scan_of(data, "cosine"), prepared("cosine", data[:3]), 4)
    expected = [("_scored_chunks", 1)] + ([("_seed_threshold", 1)] if kernels == "numpy" else [])
    assert sorted(set(seen)) == expected


def test_a_pool_handed_to_one_search_still_takes_its_parts_when_another_search_makes_a_larger_one(monkeypatch):
    """Two engines of one process search at once (a served engine and a client's own, say): one that took the pool
    and has yet to hand it its parts must not find it shut down by the other's need for more threads."""
    monkeypatch.setattr(search, "_pool", None)
    monkeypatch.setattr(search, "_pool_size", 0)
    taken = search._thread_pool(1)
    search._thread_pool(3)
    assert taken.submit(lambda: "done").result(timeout=30) == "done"


def test_the_blas_libraries_are_looked_up_once_when_two_threads_first_ask_at_once(monkeypatch):
    """One lock guards the BLAS's thread limit: two looked up at once would give two engines' batches a lock each, and
    their limits, set and restored across each other, could leave BLAS on one thread for good."""
    monkeypatch.setattr(search, "_blas", None)
    made: list[object] = []
    both = search.threading.Event()

    class Looked(search._Blas):
        def __init__(self) -> None:
            made.append(self)
            if len(made) == 2:
                both.set()
            both.wait(1)  # a window for a second thread to look them up too
            super().__init__()

    monkeypatch.setattr(search, "_Blas", Looked)
    found: list[object] = []
    threads = [search.threading.Thread(target=lambda: found.append(search._blas_libraries())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(made) == 1 and found == [made[0], made[0]]
