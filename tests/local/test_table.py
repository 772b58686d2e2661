import numpy as np

from vectorize_nb.contract.filters import parse_filter
from vectorize_nb.contract.limits import DEFAULT_LIMITS
from vectorize_nb.local.table import VectorTable


def test_remove_moves_the_last_row_into_the_hole_and_keeps_columns_in_step():
    table = VectorTable(2, "dot-product")
    table.add_column("g", "string")
    table.put(["a", "b", "c", "d"], np.array([[1, 0], [2, 0], [3, 0], [4, 0]], np.float32), ["x", None, "x", None],
              [{"g": "p"}, {"g": "q"}, {"g": "r"}, {"g": "s"}])
    assert table.remove(["b", "missing"]) == 1
    assert table.ids == ["a", "d", "c"] and table.slots == {"a": 0, "d": 1, "c": 2}
    assert table.matrix[:3, 0].tolist() == [1, 4, 3]
    assert table.namespace_of("c") == "x" and table.namespace_of("d") is None
    rows = table.candidates(None, parse_filter({"g": "s"}, DEFAULT_LIMITS))
    assert [table.ids[slot] for slot in rows.tolist()] == ["d"]


def test_put_replaces_rows_in_place_and_grows():
    table = VectorTable(2, "euclidean")
    table.put(["a"], np.array([[3, 4]], np.float32), None, None)
    table.put(["b", "a"], np.array([[1, 1], [0, 1]], np.float32), None, None)
    assert table.count == 2 and table.capacity >= 2
    assert table.matrix[table.slots["a"]].tolist() == [0, 1]
    assert table.sqnorms[table.slots["a"]] == 1.0


def test_rows_put_without_indexing_stay_out_of_metadata_indexes():
    table = VectorTable(2, "cosine")
    table.add_column("g", "string")
    table.put(["old"], np.ones((1, 2), np.float32), None, None, indexed=False)
    table.put(["new"], np.ones((1, 2), np.float32), None, [None])
    rows = table.candidates(None, parse_filter({"g": {"$ne": "x"}}, DEFAULT_LIMITS))
    assert [table.ids[slot] for slot in rows.tolist()] == ["new"]


def test_nearest_returns_ids_and_exact_scores_best_first_with_ties_broken_by_id():
    table = VectorTable(2, "cosine")
    table.put(["b", "a", "c"], np.array([[1, 0], [2, 0], [0, 1]], np.float32), None, None)
    [(ids, scores)] = table.nearest(np.array([[1, 0]], np.float32), 3, None)
    assert ids == ["a", "b", "c"] and scores.tolist() == [1.0, 1.0, 0.0]
