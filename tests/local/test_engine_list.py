import pytest

from vectorize_nb import errors
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.cursors import Cursors

from ..helpers import TINY, vectors


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def listed(clock):
    with LocalEngine(limits=TINY, clock=clock) as engine:
        engine.create_index("ids", dimensions=2, metric="cosine")
        engine.upsert("ids", vectors([f"v{i}" for i in range(5)], [[1, i] for i in range(5)]))
        yield engine


def test_pages_walk_every_id_in_insertion_order(listed):
    first = listed.list_vectors("ids", count=2)
    assert (first.ids, first.count, first.total_count, first.is_truncated) == (["v0", "v1"], 2, 5, True)
    assert first.cursor_expiration is not None
    second = listed.list_vectors("ids", count=2, cursor=first.next_cursor)
    last = listed.list_vectors("ids", count=2, cursor=second.next_cursor)
    assert second.ids == ["v2", "v3"]
    assert (last.ids, last.is_truncated, last.next_cursor, last.cursor_expiration) == (["v4"], False, None, None)


def test_default_count_is_100(listed):
    page = listed.list_vectors("ids")
    assert page.ids == [f"v{i}" for i in range(5)] and not page.is_truncated


def test_a_walk_sees_the_snapshot_it_started_with(listed):
    first = listed.list_vectors("ids", count=2)
    listed.upsert("ids", vectors(["late"], [[1, 1]]))
    listed.delete_by_ids("ids", ["v3"])
    rest = listed.list_vectors("ids", count=10, cursor=first.next_cursor)
    assert rest.ids == ["v2", "v3", "v4"] and rest.total_count == 5
    assert listed.list_vectors("ids").ids == ["v0", "v1", "v2", "v4", "late"]


def test_upsert_keeps_an_ids_place_in_the_order(listed):
    listed.upsert("ids", vectors(["v0"], [[0, 1]]))
    assert listed.list_vectors("ids").ids[0] == "v0"


def test_cursors_expire_after_an_hour(listed, clock):
    first = listed.list_vectors("ids", count=2)
    assert first.cursor_expiration.timestamp() == pytest.approx(clock.now + 3600)
    clock.now += 3601
    with pytest.raises(errors.InvalidCursor, match=r"cannot go on: it expired \(3600 s after it was issued\)"):
        listed.list_vectors("ids", count=2, cursor=first.next_cursor)


def test_the_last_page_can_be_asked_for_again_until_its_cursor_expires(listed, clock):
    first = listed.list_vectors("ids", count=4)
    last = listed.list_vectors("ids", count=4, cursor=first.next_cursor)
    again = listed.list_vectors("ids", count=4, cursor=first.next_cursor)
    assert last.ids == again.ids == ["v4"] and (again.total_count, again.next_cursor) == (5, None)
    clock.now += 3601
    with pytest.raises(errors.InvalidCursor, match="it expired"):
        listed.list_vectors("ids", count=4, cursor=first.next_cursor)


def test_64_walks_are_kept_finished_ones_leaving_first_and_a_pushed_out_cursor_says_so(listed):
    finished = listed.list_vectors("ids", count=4)
    listed.list_vectors("ids", count=4, cursor=finished.next_cursor)
    oldest = listed.list_vectors("ids", count=2)
    for _ in range(63):  # the finished walk and 62 others fill the 64 places with `oldest`
        listed.list_vectors("ids", count=2)
    with pytest.raises(errors.InvalidCursor, match="at most 64 walks, and newer ones pushed this one out"):
        listed.list_vectors("ids", count=4, cursor=finished.next_cursor)
    assert listed.list_vectors("ids", count=2, cursor=oldest.next_cursor).ids == ["v2", "v3"]
    for _ in range(64):
        listed.list_vectors("ids", count=2)
    with pytest.raises(errors.InvalidCursor, match="pushed this one out"):
        listed.list_vectors("ids", count=2, cursor=oldest.next_cursor)


@pytest.mark.parametrize("cursor", ["garbage", "abc.2", ""])
def test_bad_cursors_say_to_start_again(listed, cursor):
    listed.list_vectors("ids", count=2)
    with pytest.raises(errors.InvalidCursor, match="start a new walk without a cursor"):
        listed.list_vectors("ids", count=2, cursor=cursor)


def test_a_cursor_belongs_to_its_index(listed):
    listed.create_index("other", dimensions=2, metric="cosine")
    listed.upsert("other", vectors(["o1", "o2", "o3"], [[1, 0]] * 3))
    page = listed.list_vectors("ids", count=2)
    with pytest.raises(errors.InvalidCursor):
        listed.list_vectors("other", count=2, cursor=page.next_cursor)


def test_count_must_be_1_to_1000(listed):
    for bad in (0, 1001):
        with pytest.raises(errors.InvalidListCount, match=f"from 1 to 1000, got {bad}"):
            listed.list_vectors("ids", count=bad)


def test_a_list_done_in_one_page_keeps_no_walk_and_pushes_none_out(clock):
    cursors = Cursors(ttl=60, clock=clock, max_walks=2)
    ids = [f"v{i}" for i in range(10)]
    walks = [cursors.page(1, None, 3, lambda: ids) for _ in range(2)]
    assert cursors.page(2, None, 5, lambda: ["x"]).ids == ["x"]
    assert [cursors.page(1, walk.next_cursor, 3, lambda: ids).ids for walk in walks] == [["v3", "v4", "v5"]] * 2



@pytest.mark.parametrize("offset", ["\u00b2", "\u0663", "1" * 4301], ids=["superscript", "arabic-indic", "4301 digits"])
def test_a_cursor_whose_offset_is_no_decimal_number_is_refused_not_a_crash(listed, offset):
    token = listed.list_vectors("ids", count=2).next_cursor.rpartition(".")[0]
    with pytest.raises(errors.InvalidCursor, match="start a new walk without a cursor"):
        listed.list_vectors("ids", count=2, cursor=f"{token}.{offset}")
