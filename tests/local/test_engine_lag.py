"""apply_delay: mutations are acknowledged at once and applied later, as on the real service."""

import numpy as np
import pytest

from vectorize_nb.contract import errors
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.mutations import VectorWrite
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


def test_a_write_queued_forever_by_an_older_version_is_applied_by_the_next_engine(tmp_path, clock):
    """An older version took apply_delay=inf: its writes were due at infinity, and every later write to the index,
    by any process, was queued behind them for ever."""
    with LocalEngine(tmp_path / "inf", limits=TINY, apply_delay=10.0, clock=clock) as engine:
        engine.create_index("lag", dimensions=2, metric="cosine")
        engine.upsert("lag", vectors(["a"], [[1, 0]]))
        engine.store._run("UPDATE mutations SET due_at = 9e999")  # what `due_at = now + inf` stored
    with LocalEngine(tmp_path / "inf", limits=TINY, clock=clock) as reopened:
        reopened.upsert("lag", vectors(["b"], [[0, 1]]))
        assert [r.id for r in reopened.get_by_ids("lag", ["a", "b"])] == ["a", "b"]


def test_a_write_of_another_kind_than_insert_or_upsert_is_refused_and_not_logged(lagging):
    with pytest.raises(errors.MalformedRequest, match=r"kind must be one of 'insert', 'upsert'; got 'delete'"):
        lagging.write("lag", "delete", vectors(["a"], [[1, 0]]))
    assert lagging.mutation_log("lag") == []


def logged_by_an_older_version(engine, name, kind):
    """What a version that did not check the kind of a write logged for `write(kind, ...)`: vectors staged
    under a kind that no write has, or that another change has (a "delete" with no ids)."""
    change = VectorWrite("upsert", ["x"], np.ones((1, 2), dtype=np.float32), [None], [None])
    change.write_kind = kind
    return engine._mutate(engine._find(name), change)


@pytest.mark.parametrize("kind", ["delete", "upset"])
def test_a_logged_mutation_that_cannot_be_read_back_stops_its_index_only(tmp_path, clock, kind):
    with LocalEngine(tmp_path / "odd", limits=TINY, apply_delay=1.0, clock=clock) as engine:
        engine.create_index("lag", dimensions=2, metric="cosine")
        engine.create_index("other", dimensions=2, metric="cosine")
        engine.upsert("other", vectors(["o"], [[1, 0]]))
        odd = logged_by_an_older_version(engine, "lag", kind)
    clock.now += 5
    with LocalEngine(tmp_path / "odd", limits=TINY, clock=clock) as reopened:
        assert [m.id for m in reopened.query("other", [1, 0], QueryOptions())] == ["o"]
        assert [i.name for i in reopened.list_indexes()] == ["lag", "other"]
        with pytest.raises(errors.FolderUnusable, match=f"{odd.id}.*{kind!r}.*delete it") as refused:
            reopened.index_info("lag")
        assert str(refused.value).startswith("Index 'lag' cannot apply mutation")
        reopened.delete_index("lag")  # the way out: its queued mutations go with it
        reopened.create_index("lag", dimensions=2, metric="cosine")
        reopened.upsert("lag", vectors(["a"], [[1, 0]]))
        assert reopened.index_info("lag").vector_count == 1


def test_a_metadata_index_queued_after_a_write_does_not_cover_it(lagging, clock):
    lagging.upsert("lag", vectors(["early"], [[1, 0]], [{"g": "x"}]))
    lagging.create_metadata_index("lag", "g", "string")
    lagging.upsert("lag", vectors(["late"], [[1, 0]], [{"g": "x"}]))
    assert lagging.list_metadata_indexes("lag") == []
    clock.now += 2
    matches = lagging.query("lag", np.array([1, 0]), QueryOptions(filter={"g": "x"}))
    assert [m.id for m in matches] == ["late"]


class TwoEngines:
    """Two engines on one folder (two notebooks), each with its own clock, and a hook for what the second
    commits while the first lists the mutations that are due, after it caught up with the catalog."""

    def __init__(self, folder):
        self.now = {"a": 100.0, "b": 100.0}
        self.a = LocalEngine(folder, limits=TINY, apply_delay=1.0, clock=lambda: self.now["a"])
        self.b = LocalEngine(folder, limits=TINY, apply_delay=1.0, clock=lambda: self.now["b"])

    def when_a_lists_the_due(self, meanwhile, *, after: bool):
        listed = self.a.store.pending

        def pending(*args, **kwargs):
            if kwargs.get("due_by") is None:
                return listed(*args, **kwargs)
            self.a.store.pending = listed
            if not after:
                meanwhile()
            rows = listed(*args, **kwargs)
            if after:
                meanwhile()
            return rows

        self.a.store.pending = pending


@pytest.fixture
def two(tmp_path):
    engines = TwoEngines(tmp_path / "shared")
    yield engines
    engines.a.close()
    engines.b.close()


def test_a_write_another_process_applied_first_is_not_lost_to_this_one(two):
    two.a.create_index("lag", dimensions=2, metric="cosine")
    two.a.query("lag", [1, 0], QueryOptions()), two.b.query("lag", [1, 0], QueryOptions())
    two.a.upsert("lag", vectors(["m1"], [[1, 0]]))                      # due at 101
    two.now["a"] = two.now["b"] = 100.5
    two.a.upsert("lag", vectors(["m2"], [[0.9, 0.1]]))                  # due at 101.5

    def b_applies_the_first():
        two.now["b"] = 101.2
        assert two.b.index_info("lag").vector_count == 1

    two.when_a_lists_the_due(b_applies_the_first, after=True)
    two.now["a"] = 102.0
    assert two.a.index_info("lag").vector_count == 2
    assert [m.id for m in two.a.query("lag", [1, 0], QueryOptions(top_k=2))] == ["m1", "m2"]


def test_a_write_to_an_index_another_process_just_created_is_applied(two):
    two.a.create_index("old", dimensions=2, metric="cosine")
    two.a.upsert("old", vectors(["x"], [[1, 0]]))

    def b_creates_and_writes():
        two.b.create_index("new", dimensions=2, metric="cosine")
        two.b.upsert("new", vectors(["y"], [[0, 1]]))                   # due at 101

    two.when_a_lists_the_due(b_creates_and_writes, after=False)
    two.now["a"] = 102.0
    two.a.index_info("old")  # applies what is due: b's write as well
    two.now["b"] = 102.0
    assert [r.id for r in two.b.get_by_ids("new", ["y"])] == ["y"]
    assert two.b.index_info("new").vector_count == 1 == two.a.index_info("new").vector_count
