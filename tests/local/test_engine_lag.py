"""apply_delay: mutations are acknowledged at once and applied later, as on the real service."""

import numpy as np
import pytest

from vectorize_nb.local import LocalEngine
from vectorize_nb.contract.models import QueryOptions

from ..helpers import TINY, vectors
from .test_engine_list import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def lagging(clock, tmp_path):
    with LocalEngine(tmp_path / "lag", limits=TINY, apply_delay=2.0, clock=clock) as engine:
        engine.create_index("lag", dimensions=2, metric="cosine")
        yield engine


def test_info_lags_until_the_delay_has_passed(lagging, clock):
    first = lagging.upsert("lag", vectors(["a", "b"], [[1, 0], [0, 1]]))
    info = lagging.index_info("lag")
    assert (info.vector_count, info.processed_up_to_mutation) == (0, None)
    assert lagging.query("lag", [1, 0], QueryOptions()) == []
    assert lagging.get_by_ids("lag", ["a"]) == []
    clock.now += 1.0
    second = lagging.upsert("lag", vectors(["c"], [[1, 1]]))
    clock.now += 1.0  # the first is due, the second is not
    info = lagging.index_info("lag")
    assert (info.vector_count, info.processed_up_to_mutation) == (2, first.id)
    assert info.processed_up_to_datetime.timestamp() == pytest.approx(clock.now)
    clock.now += 1.0
    info = lagging.index_info("lag")
    assert (info.vector_count, info.processed_up_to_mutation) == (3, second.id)
    assert [m.id for m in lagging.query("lag", [1, 0], QueryOptions(top_k=3))] == ["a", "c", "b"]


def test_mutations_apply_in_order(lagging, clock):
    lagging.upsert("lag", vectors(["a"], [[1, 0]], [{"v": 1}]))
    lagging.delete_by_ids("lag", ["a"])
    lagging.upsert("lag", vectors(["a"], [[0, 1]], [{"v": 3}]))
    clock.now += 5
    [record] = lagging.get_by_ids("lag", ["a"])
    assert record.metadata == {"v": 3} and record.values.tolist() == [0, 1]
    log = lagging.mutation_log("lag")
    assert [m["kind"] for m in log] == ["upsert", "delete", "upsert"]
    assert all(m["appliedAt"] is not None for m in log)


def test_pending_mutations_survive_a_restart(tmp_path, clock):
    with LocalEngine(tmp_path / "restart", limits=TINY, apply_delay=10.0, clock=clock) as engine:
        engine.create_index("lag", dimensions=2, metric="cosine")
        mutation = engine.upsert("lag", vectors(["a"], [[1, 0]]))
    with LocalEngine(tmp_path / "restart", limits=TINY, clock=clock) as reopened:
        assert reopened.index_info("lag").vector_count == 0
        clock.now += 10
        info = reopened.index_info("lag")
        assert (info.vector_count, info.processed_up_to_mutation) == (1, mutation.id)


def test_a_metadata_index_queued_after_a_write_does_not_cover_it(lagging, clock):
    lagging.upsert("lag", vectors(["early"], [[1, 0]], [{"g": "x"}]))
    lagging.create_metadata_index("lag", "g", "string")
    lagging.upsert("lag", vectors(["late"], [[1, 0]], [{"g": "x"}]))
    assert lagging.list_metadata_indexes("lag") == []
    clock.now += 2
    matches = lagging.query("lag", np.array([1, 0]), QueryOptions(filter={"g": "x"}))
    assert [m.id for m in matches] == ["late"]
