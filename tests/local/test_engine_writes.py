import gc
import uuid

import numpy as np
import pytest

from vectorize_nb import errors
from vectorize_nb.contract.models import QueryOptions

from ..helpers import vectors


@pytest.fixture
def docs(engine):
    engine.create_index("docs", dimensions=2, metric="cosine")
    return engine


def stored(engine, ids):
    return {r.id: (r.values.tolist(), r.metadata, r.namespace) for r in engine.get_by_ids("docs", ids)}


def test_insert_keeps_the_first_write(docs):
    docs.insert("docs", vectors(["a"], [[1, 0]], [{"v": 1}], ["n1"]))
    docs.insert("docs", vectors(["a", "b"], [[0, 1], [1, 1]], [{"v": 2}, None]))
    assert stored(docs, ["a", "b"]) == {"a": ([1, 0], {"v": 1}, "n1"), "b": ([1, 1], None, None)}


def test_upsert_replaces_the_whole_vector(docs):
    docs.upsert("docs", vectors(["a"], [[1, 0]], [{"v": 1, "keep": "me"}], ["n1"]))
    docs.upsert("docs", vectors(["a"], [[0, 1]], [{"v": 2}]))
    assert stored(docs, ["a"]) == {"a": ([0, 1], {"v": 2}, None)}  # no merge: namespace and "keep" are gone


def test_duplicate_ids_in_one_batch_first_wins_for_insert_last_for_upsert(docs):
    docs.insert("docs", vectors(["a", "a"], [[1, 0], [0, 1]]))
    docs.upsert("docs", vectors(["b", "b"], [[1, 0], [0, 1]]))
    assert stored(docs, ["a", "b"]) == {"a": ([1, 0], None, None), "b": ([0, 1], None, None)}
    assert docs.index_info("docs").vector_count == 2


def test_values_are_stored_and_returned_as_float32(docs):
    docs.upsert("docs", vectors(["a"], [[58.8, 6.7]]))
    [record] = docs.get_by_ids("docs", ["a"])
    assert record.values.dtype == np.float32
    assert float(record.values[0]) == 58.79999923706055
    [match] = docs.query("docs", [1, 0], QueryOptions(top_k=1, return_values=True))
    assert match.values.tolist() == record.values.tolist()


def test_each_write_returns_a_fresh_uuid_and_info_reports_it(docs):
    first = docs.upsert("docs", vectors(["a"], [[1, 0]]))
    second = docs.delete_by_ids("docs", ["a"])
    assert uuid.UUID(first.id).version == 4 and first.id != second.id
    info = docs.index_info("docs")
    assert info.processed_up_to_mutation == second.id and info.vector_count == 0


def test_delete_by_ids_ignores_unknown_ids(docs):
    docs.upsert("docs", vectors(["a", "b"], [[1, 0], [0, 1]]))
    docs.delete_by_ids("docs", ["a", "never-there"])
    assert [r.id for r in docs.get_by_ids("docs", ["a", "b"])] == ["b"]
    with pytest.raises(errors.TooManyIds, match="max id count is 100, got 101"):
        docs.delete_by_ids("docs", [str(i) for i in range(101)])


def test_get_by_ids_keeps_request_order_and_skips_unknown(docs):
    docs.upsert("docs", vectors(["a", "b", "c"], [[1, 0], [0, 1], [1, 1]]))
    assert [r.id for r in docs.get_by_ids("docs", ["c", "zz", "a", "c"])] == ["c", "a"]
    with pytest.raises(errors.TooManyIds) as info:
        docs.get_by_ids("docs", [str(i) for i in range(21)])
    assert info.value.message == "too many ids in payload; max id count is 20, got 21"




@pytest.mark.parametrize("make, error", [
    (lambda: vectors(["ok", "x" * 65], [[1, 0], [0, 1]]), errors.IdTooLong),
    (lambda: vectors(["ok", ""], [[1, 0], [0, 1]]), errors.InvalidVector),
    (lambda: vectors(["ok", "bad"], [[1, 0, 0], [0, 1, 0]]), errors.VectorDimensionMismatch),
    (lambda: vectors(["ok", "bad"], [[1, 0], [np.nan, 1]]), errors.InvalidVector),
    (lambda: vectors(["ok", "bad"], [[1, 0], [0, 1]], [None, {"a.b": 1}]), errors.InvalidMetadata),
    (lambda: vectors(["ok", "bad"], [[1, 0], [0, 1]], [None, {"t": "x" * 10241}]), errors.MetadataTooLarge),
    (lambda: vectors(["ok", "bad"], [[1, 0], [0, 1]], None, [None, "n" * 65]), errors.NamespaceTooLong),
    (lambda: vectors([str(i) for i in range(5001)], np.ones((5001, 2))), errors.TooManyVectors),
])
def test_a_rejected_batch_writes_nothing(docs, make, error):
    docs.upsert("docs", vectors(["before"], [[1, 1]]))
    info = docs.index_info("docs")
    with pytest.raises(error):
        docs.upsert("docs", make())
    after = docs.index_info("docs")
    assert (after.vector_count, after.processed_up_to_mutation) == (1, info.processed_up_to_mutation)
    assert [r.id for r in docs.get_by_ids("docs", ["ok", "before"])] == ["before"]
    assert len(docs.mutation_log("docs")) == 1


def test_a_full_batch_does_not_set_off_the_garbage_collector(docs):
    # Each pass walks every object the caller holds (a frame of Python lists: tens of millions), so a
    # write must not keep its rows alive all at once. Before the rows were streamed: 21 passes.
    ids = [f"v{i}" for i in range(5000)]
    values = np.random.default_rng(0).standard_normal((5000, 2)).astype(np.float32)
    docs.upsert("docs", vectors(ids, values))
    passes = []

    def count(phase, info):
        if phase == "start":
            passes.append(info["generation"])

    gc.collect()
    gc.callbacks.append(count)
    try:
        docs.upsert("docs", vectors(ids, values))
    finally:
        gc.callbacks.remove(count)
    assert len(passes) <= 2, passes
