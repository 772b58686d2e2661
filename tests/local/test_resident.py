import numpy as np
import pytest

from vectorize_nb.contract.filters import parse_filter
from vectorize_nb.contract.limits import DEFAULT_LIMITS
from vectorize_nb.local import search
from vectorize_nb.local.resident import ResidentIndex
from vectorize_nb.local.vectorfile import VectorFile


def test_remove_leaves_a_hole_that_no_filter_or_search_returns():
    resident = ResidentIndex(2, "dot-product")
    resident.add_column("g", "string")
    resident.put(["a", "b", "c", "d"], np.array([[1, 0], [2, 0], [3, 0], [4, 0]], np.float32), ["x", None, "x", None],
              [{"g": "p"}, {"g": "q"}, {"g": "r"}, {"g": "s"}])
    assert resident.remove(["b", "missing"]) == 1
    assert resident.ids == ["a", None, "c", "d"] and resident.slots == {"a": 0, "c": 2, "d": 3}
    assert (resident.count, resident.end) == (3, 4)
    assert resident.namespace_of("c") == "x" and resident.namespace_of("d") is None
    rows = resident.candidates(None, parse_filter({"g": {"$ne": "zzz"}}, DEFAULT_LIMITS))
    assert [resident.ids[slot] for slot in rows.tolist()] == ["a", "c", "d"]
    [(ids, scores)] = resident.nearest(np.array([[1, 0]], np.float32), 4, None)
    assert ids == ["d", "c", "a"] and scores.tolist() == [-4.0, -3.0, -1.0]


def test_put_writes_a_replaced_row_to_a_new_slot():
    resident = ResidentIndex(2, "euclidean")
    resident.put(["a"], np.array([[3, 4]], np.float32), None, None)
    resident.put(["b", "a"], np.array([[1, 1], [0, 1]], np.float32), None, None)
    assert (resident.count, resident.end) == (2, 3) and resident.ids == [None, "b", "a"]
    assert resident.matrix[resident.slots["a"]].tolist() == [0, 1]
    assert resident.weights[resident.slots["a"]] == 1.0  # |x|², the euclidean bias


def test_compaction_moves_the_last_rows_into_the_holes():
    resident = ResidentIndex(2, "cosine")
    resident.add_column("g", "string")
    values = np.arange(12, dtype=np.float32).reshape(6, 2) + 1
    resident.put(list("abcdef"), values, list("xyxyxy"), [{"g": name} for name in "abcdef"])
    resident.remove(["b", "c"])
    compacted = VectorFile(2)
    compacted.write(0, values[[0, 4, 5, 3]])
    resident.compacted(np.array([4, 5]), np.array([1, 2]), compacted, 1)
    assert resident.ids == ["a", "e", "f", "d"] and resident.slots == {"a": 0, "e": 1, "f": 2, "d": 3}
    assert (resident.count, resident.end, resident.generation) == (4, 4, 1)
    assert resident.namespace_of("e") == "x" and resident.namespace_of("f") == "y"
    assert resident.matrix[resident.slots["f"]].tolist() == values[5].tolist()
    rows = resident.candidates(None, parse_filter({"g": {"$in": ["e", "f"]}}, DEFAULT_LIMITS))
    assert rows.tolist() == [1, 2]


def test_rows_put_without_indexing_stay_out_of_metadata_indexes():
    resident = ResidentIndex(2, "cosine")
    resident.add_column("g", "string")
    resident.put(["old"], np.ones((1, 2), np.float32), None, None, indexed=False)
    resident.put(["new"], np.ones((1, 2), np.float32), None, [None])
    rows = resident.candidates(None, parse_filter({"g": {"$ne": "x"}}, DEFAULT_LIMITS))
    assert [resident.ids[slot] for slot in rows.tolist()] == ["new"]


def test_nearest_returns_ids_and_exact_scores_best_first_with_ties_broken_by_id():
    resident = ResidentIndex(2, "cosine")
    resident.put(["b", "a", "c"], np.array([[1, 0], [2, 0], [0, 1]], np.float32), None, None)
    [(ids, scores)] = resident.nearest(np.array([[1, 0]], np.float32), 3, None)
    assert ids == ["a", "b", "c"] and scores.tolist() == [1.0, 1.0, 0.0]


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
def test_extreme_rows_are_found_on_every_path(rng, metric):
    values = rng.standard_normal((40, 4)).astype(np.float32)
    values[5] = [1e20, -3e19, 2e20, 1e20]
    values[9] = [1e-30, 2e-30, 0, -1e-30]
    resident = ResidentIndex(4, metric)
    resident.put([f"v{i}" for i in range(40)], values, ["n"] * 40, None)
    rows = resident.candidates("n", parse_filter(None, DEFAULT_LIMITS))
    for query in (values[5], values[9]):
        single = resident.nearest(query[None], 1, None)
        batch = resident.nearest(np.stack([query, query]), 1, rows)
        assert single[0] == batch[0] == batch[1]
    assert resident.nearest(values[5][None], 1, None)[0][0] == ["v5"]
    if metric == "cosine":
        assert resident.nearest(values[9][None], 1, None)[0] == (["v9"], pytest.approx([1.0]))


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
def test_a_tie_larger_than_the_candidates_is_broken_by_id_on_every_path(rng, metric, monkeypatch):
    """61 copies of one vector tie for the best score: the fast pass keeps only k + MARGIN of them, in
    no particular order, and the answer must still be the lowest ids, whichever kernel ran."""
    values = rng.standard_normal((3000, 8)).astype(np.float32)
    values[5] *= 10  # the best of every metric for a query of itself
    values[100:161] = values[5]
    order = rng.permutation(3000)  # ids in no relation to the slots
    resident = ResidentIndex(8, metric)
    resident.put([f"id{i:05d}" for i in order], values[order], ["n"] * 3000, None)
    tied = sorted(f"id{i:05d}" for i in [5, *range(100, 161)])
    rows = resident.candidates("n", parse_filter(None, DEFAULT_LIMITS))
    query = values[5]
    for kernels in (search._kernels, None):
        monkeypatch.setattr(search, "_kernels", kernels)
        answers = [resident.nearest(query[None], 5, None)[0], resident.nearest(query[None], 5, rows)[0],
                   *resident.nearest(np.stack([query, query]), 5, None),
                   resident.nearest(np.stack([query, query]), 5, rows)[0]]
        for ids, scores in answers:
            assert ids == tied[:5]
            assert len(set(scores.tolist())) == 1


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
def test_a_tie_among_rows_scored_exactly_is_broken_by_id(rng, metric):
    """Rows beyond float32's fast pass (and, for euclidean, a query beyond it) are scored in float64:
    a tie there larger than the candidates is broken by id too."""
    values = rng.standard_normal((500, 4)).astype(np.float32)
    values[200:230] = [1e20, -3e19, 2e20, 1e20]
    order = rng.permutation(500)
    resident = ResidentIndex(4, metric)
    resident.put([f"id{i:03d}" for i in order], values[order], None, None)
    ids, scores = resident.nearest(values[200][None], 3, None)[0]
    assert ids == ["id200", "id201", "id202"] and len(set(scores.tolist())) == 1


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
def test_copies_of_one_vector_score_alike_whatever_top_k(rng, metric):
    """Texts embedded twice give copies of one vector: each copy has one score, the same for every top_k
    and wherever it lies among the candidates, so copies tie and are ordered by id."""
    values = rng.standard_normal((300, 384)).astype(np.float32)
    values[[7, 40, 41, 90, 200, 250]] = values[7]
    resident = ResidentIndex(384, metric)
    resident.put([f"id{i:03d}" for i in range(300)], values, None, None)
    copies = ["id007", "id040", "id041", "id090", "id200", "id250"]
    for k in range(1, 13):
        ids, scores = resident.nearest(values[7][None], k, None)[0]
        assert ids[:6] == copies[:k]
        assert len(set(scores[:6].tolist())) == 1
