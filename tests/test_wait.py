"""`Index.wait` with more than one writer: writes made while waiting, answers that come back in another
order than the service received the requests, and another client's writes. The engine runs on a clock
the tests move, so what is applied when is decided here, not by timing."""

from __future__ import annotations

import threading
import warnings

import pytest

from vectorize_nb import errors
from vectorize_nb.client import Client
from vectorize_nb.local import LocalEngine
from vectorize_nb.mutation_log import MutationLog

from .helpers import TINY


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class LateAnswer(LocalEngine):
    """An engine whose answer to a write of the id "late" comes back only once `release` is set."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(limits=TINY, apply_delay=10, clock=clock)
        self.queued = threading.Event()
        self.release = threading.Event()

    def write(self, name, kind, vectors):
        mutation = super().write(name, kind, vectors)
        if vectors.ids[0] == "late":
            self.queued.set()
            assert self.release.wait(10)
        return mutation


@pytest.fixture
def lagging():
    """A client of an engine that applies writes 10 s (of its clock) late, with an index and its clock."""
    clock = Clock()
    with Client(LocalEngine(limits=TINY, apply_delay=10, clock=clock), "lag") as client:
        yield client, client.create_index("lag", 2), clock


# --- the log ------------------------------------------------------------------------------------

def test_a_mutation_follows_ours_only_if_its_request_went_out_after_our_answer_came():
    now = [0.0]
    log = MutationLog(clock=lambda: now[0])

    def issue(mutation_id: str, sent: float, answered: float) -> None:
        now[0] = answered
        log.record("docs", mutation_id, sent)

    issue("x", 0.0, 1.0)
    issue("z", 0.5, 4.0)   # in flight with x and with y: its answer came last
    issue("y", 2.0, 3.0)   # sent after x's answer
    assert [log.find("docs", m).sent for m in "xyz"] == [0.0, 2.0, 0.5]
    assert log.since("docs", "x") == {"x", "y"}
    assert log.since("docs", "y") == {"y"} and log.since("docs", "z") == {"z"}
    assert log.since("docs", "unknown") == {"unknown"} and log.find("docs", "unknown") is None
    assert log.last("docs") == "y" and sorted(log.latest("docs")) == ["y", "z"]
    issue("w", 5.0, 6.0)
    assert log.latest("docs") == ["w"] and log.since("docs", "z") == {"z", "w"}


# --- a) a write of the same client while waiting ---------------------------------------------------

def test_a_write_made_while_waiting_counts_as_applied_after_ours(lagging):
    client, index, clock = lagging
    engine = client.backend
    first = index.upsert(["a"], [[1, 0]])
    looks = []
    real_info = engine.index_info

    def info(name):  # another thread of this client writes while this one waits; both get applied
        if not looks:
            index.upsert(["b"], [[0, 1]])
            clock.now += 20
        looks.append(name)
        return real_info(name)

    engine.index_info = info
    applied = index.wait(first, timeout=2, interval=0.01)
    assert applied.processed_up_to_mutation == client.log.last("lag") != first.last_mutation.id
    assert applied.vector_count == 2 and len(looks) == 1


# --- b) answers that come back out of order --------------------------------------------------------

def test_wait_does_not_take_a_mutation_answered_later_but_queued_earlier_for_a_later_one():
    clock = Clock()
    engine = LateAnswer(clock)
    with Client(engine, "late") as client:
        index = client.create_index("late", 2)
        earlier = threading.Thread(target=lambda: index.upsert(["late"], [[1, 0]]))
        earlier.start()                              # queued first, due at +10; its answer is held
        assert engine.queued.wait(10)
        clock.now += 1
        ours = index.upsert(["x"], [[0, 1]])         # queued second, due at +11, answered at once
        engine.release.set()
        earlier.join(10)
        late = client.log.last("late")
        assert late != ours.last_mutation.id         # the log holds ours first, the late answer after

        clock.now += 9.5                             # only the earlier request is applied
        with pytest.raises(errors.WaitTimeout) as raised:
            index.wait(ours, timeout=0.2, interval=0.05)
        assert index.info().processed_up_to_mutation == late
        with pytest.warns(errors.VectorizeWarning, match="so this frame may not show it"):
            assert index.get_by_ids(["x"]).empty      # ours is not applied: the wait was right not to return
        message = str(raised.value)
        assert message.startswith(f"mutation {ours.last_mutation.id} not applied after 0.2 s; the index has "
                                  f"processed up to {late}")  # the engine knows: over REST it could not tell
        with pytest.raises(errors.WaitTimeout):       # nor does a wait for this client's last writes
            index.wait(timeout=0.2, interval=0.05)

        clock.now += 1                               # now ours is applied too
        assert index.wait(ours, timeout=2, interval=0.05).processed_up_to_mutation == ours.last_mutation.id
        assert index.get_by_ids(["x"])["id"].tolist() == ["x"]


# --- c) another client's write --------------------------------------------------------------------

def test_over_rest_another_writers_mutation_last_applied_ends_the_wait_saying_it_cannot_tell():
    from tests.rest.faults import FaultRig

    with LocalEngine(limits=TINY) as engine, FaultRig(engine) as rig:  # the engine applies at once
        mine, theirs = rig.client(), rig.client()
        index = mine.create_index("shared", 2)
        ours = index.upsert(["mine"], [[1, 0]])
        theirs.get_index("shared").upsert(["theirs"], [[0, 1]])
        other = theirs.log.last("shared")
        with pytest.raises(errors.WaitTimeout) as raised:
            index.wait(timeout=0.2, interval=0.05)
        message = str(raised.value)
        assert f"mutation {ours.last_mutation.id} not known to be applied after 0.2 s" in message
        assert f"the last mutation the index applied, {other}, is not one this client made (another writer's)" \
            in message
        assert "this client cannot tell which came first; get_by_ids shows whether the vectors are stored" in message
        index.upsert(["mine2"], [[1, 1]])            # a later write of ours, once applied, settles it
        assert index.wait(ours, timeout=2, interval=0.05).vector_count == 3


def test_on_the_engine_a_write_another_writer_followed_is_known_applied():
    """Two kernels on one folder: once the other wrote after ours, wait() ran to its timeout (60 s for
    upsert(wait=True)) and the next query warned that our applied write was not, though the engine records when
    each mutation is applied."""
    clock = Clock()
    engine = LocalEngine(limits=TINY, apply_delay=10, clock=clock)
    with Client(engine, "a") as mine, Client(engine, "b") as theirs:
        index = mine.create_index("shared", 2)
        ours = index.upsert(["mine"], [[1, 0]])
        theirs.get_index("shared").upsert(["theirs"], [[0, 1]])
        clock.now += 20
        assert index.wait(timeout=0.2, interval=0.05).vector_count == 2
        again = index.upsert(["mine2"], [[1, 1]])
        theirs.get_index("shared").upsert(["theirs2"], [[1, 1]])
        with pytest.raises(errors.WaitTimeout, match=f"mutation {again.last_mutation.id} not applied after 0.2 s"):
            index.wait(again, timeout=0.2, interval=0.05)  # due in 10 s of the engine's clock: not applied
        assert ours.last_mutation is not None and index.wait(ours, timeout=0.2).vector_count == 2


def test_a_query_after_our_applied_write_that_another_writer_followed_does_not_warn():
    engine = LocalEngine(limits=TINY)  # applies at once
    with Client(engine, "a") as mine, Client(engine, "b") as theirs:
        index = mine.create_index("shared", 2)
        index.upsert(["mine"], [[1, 0]])
        theirs.get_index("shared").upsert(["theirs"], [[0, 1]])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert index.query([1, 0], top_k=2)["id"].tolist() == ["mine", "theirs"]


def test_a_write_not_yet_applied_after_one_of_ours_says_where_the_index_is(lagging):
    _, index, clock = lagging
    first = index.upsert(["a"], [[1, 0]])
    clock.now += 20
    second = index.upsert(["b"], [[0, 1]])
    with pytest.raises(errors.WaitTimeout) as raised:
        index.wait(timeout=0.2, interval=0.05)
    assert str(raised.value).startswith(f"mutation {second.last_mutation.id} not applied after 0.2 s; the "
                                        f"index has processed up to {first.last_mutation.id}")


# --- d) an id that is not the index's ------------------------------------------------------------

def test_an_id_the_engine_never_issued_for_the_index_is_refused_at_once():
    """A mistyped id, or another index's, waited out the whole timeout (60 s by default) on the embedded
    engine, which knows every mutation it issued."""
    engine = LocalEngine(limits=TINY)
    with Client(engine, "a") as mine, Client(engine, "b") as theirs:
        docs, other = mine.create_index("docs", 2), mine.create_index("other", 2)
        elsewhere = other.upsert(["x"], [[1, 0]]).last_mutation.id
        for wrong in ["not-a-mutation", elsewhere]:
            with pytest.raises(errors.InvalidRequest) as raised:
                docs.wait(wrong, timeout=5)
            assert f"mutation {wrong!r} was never issued for index 'docs' (another index's id" in str(raised.value)
        theirs_id = theirs.get_index("docs").upsert(["y"], [[0, 1]]).last_mutation.id  # another writer's: known
        assert docs.wait(theirs_id, timeout=5).processed_up_to_mutation == theirs_id


def test_over_rest_an_id_not_of_this_client_ends_the_wait_saying_so():
    from tests.rest.faults import FaultRig

    with LocalEngine(limits=TINY) as engine, FaultRig(engine) as rig:
        client = rig.client()
        index = client.create_index("docs", 2)
        index.upsert(["x"], [[1, 0]], wait=True)
        with pytest.raises(errors.WaitTimeout) as raised:
            index.wait("not-a-mutation", timeout=0.3, interval=0.05)
        message = str(raised.value)
        assert "mutation not-a-mutation not known to be applied after 0.3 s" in message
        assert "is not one this client made (another writer's, or another index's id)" in message


class HookedLock:
    """A lock that runs `hook` once, before it is first taken: another thread's work landing at that point."""

    def __init__(self, hook) -> None:
        self.lock, self.hook = threading.Lock(), hook

    def __enter__(self):
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


def test_a_write_to_a_new_index_landing_as_the_old_one_is_deleted_stays_in_the_log():
    """delete_index cleared the log after the engine's answer: a write to a new index of the name made
    from another thread in between lost its record, so wait() and the pending-write warning missed it."""
    with Client(LocalEngine(limits=TINY), "race") as client:
        client.create_index("docs", 2).upsert(["old"], [[1.0, 0.0]])
        new = []
        client.log._lock = HookedLock(lambda: new.append(client.create_index("docs", 2).upsert(["new"], [[0.0, 1.0]])))
        client.delete_index("docs")
        assert client.log.last("docs") == new[0].last_mutation.id
        assert [e.id for e in client.log._entries("docs")] == [new[0].last_mutation.id]


def test_an_add_answered_out_of_the_engines_order_is_still_seen_pending():
    """Two threads writing through one client: A's upsert taken first by the engine, B's after another writer's,
    B's recorded in the log before A's. Once A's and the other's were applied and B's not, asking the engine of the
    log's newest add only (A's) said nothing was pending."""
    from vectorize_nb.mutation_log import adds_pending

    clock = Clock()
    engine = LocalEngine(limits=TINY, apply_delay=10, clock=clock)
    with Client(engine, "mine") as client, Client(engine, "theirs") as other:
        index = client.create_index("films", 2)
        a_answered, b_recorded = threading.Event(), threading.Event()
        write = engine.write

        def held(name, kind, vectors):
            mutation = write(name, kind, vectors)
            if threading.current_thread().name == "A":
                a_answered.set()
                assert b_recorded.wait(5)
            return mutation

        engine.write = held
        first = threading.Thread(name="A", target=lambda: index.upsert(["a"], [[1, 0]]))
        first.start()
        assert a_answered.wait(5)
        clock.now += 1
        other.get_index("films").upsert(["x"], [[0, 1]])
        clock.now += 1
        index.upsert(["b"], [[1, 1]])
        b_recorded.set()
        first.join(5)
        clock.now += 9.5                     # A's and the other's are applied, B's is not
        processed = index.info().processed_up_to_mutation
        assert adds_pending(engine, client.log, "films", processed)
