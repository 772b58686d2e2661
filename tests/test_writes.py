import dataclasses
import errno
import inspect
import threading
import time

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb import errors, writes
from vectorize_nb.client import Client
from vectorize_nb.local import LocalEngine
from vectorize_nb.contract.models import CheckedVectors

from .helpers import TINY


class Flaky(LocalEngine):
    """The local engine, except that chosen write calls fail as a server would."""

    def __init__(self, fail_calls=(), concurrency=1, error=lambda: errors.ServerError("upstream timed out")):
        super().__init__(limits=TINY)
        self.fail_calls = set(fail_calls)
        self.error = error
        self.calls = 0
        self.max_concurrency = concurrency
        self.lock = threading.Lock()

    def write(self, name, kind, vectors):
        with self.lock:
            self.calls += 1
            call = self.calls
        if call in self.fail_calls:
            raise self.error()
        return super().write(name, kind, vectors)


@pytest.fixture
def flaky():
    backend = Flaky(fail_calls={7})
    client = Client(backend, "flaky")
    yield client, backend
    client.close()


def rows(n):
    return [f"r{i:05d}" for i in range(n)], np.arange(n * 2, dtype=np.float32).reshape(n, 2)


def test_a_failure_half_way_says_exactly_what_was_written_and_retries_the_rest(flaky):
    client, backend = flaky
    index = client.create_index("half", 2)
    ids, values = rows(20 * 100)
    with pytest.raises(writes.WriteIncomplete) as info:
        index.upsert(ids, values, batch_size=100)
    result = info.value.result
    assert "600 of 2000 rows written (6 of 20 batches accepted)" in str(info.value)
    assert isinstance(info.value.__cause__, errors.ServerError)
    frame = result.to_frame()
    assert frame["status"].tolist() == ["accepted"] * 6 + ["failed"] + ["not sent"] * 13
    assert frame.loc[6, ["first_id", "last_id"]].tolist() == ["r00600", "r00699"]
    assert result.written == 600 and len(result.mutation_ids) == 6
    assert result.unwritten_ids == ids[600:]
    assert index.info().vector_count == 600
    again = result.retry()
    assert again.ok and again.rows == 1400 and index.info().vector_count == 2000
    assert index.get_by_ids(["r01999"])["values"].iloc[0].tolist() == [3998.0, 3999.0]


def test_report_mode_returns_the_failures_instead_of_raising(flaky):
    client, _ = flaky
    index = client.create_index("report", 2)
    result = index.upsert(*rows(1000), batch_size=100, on_error="report")
    assert not result.ok and [b.number for b in result.failures] == [7]
    assert "WriteResult(upsert into 'report': 600 of 1000 rows written" in repr(result)


def disk_full():
    return OSError(errno.ENOSPC, "The disk holding '/data' is full: nothing of this batch was written")


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_failure_of_the_storage_half_way_says_what_was_written_and_why(concurrency):
    """Not a Vectorize error (the local engine's full disk, read-only folder, lock timeout): earlier batches are
    stored all the same, and the write says which, with the storage's error as its cause."""
    backend = Flaky(fail_calls={2}, concurrency=concurrency, error=disk_full)
    with Client(backend, "flaky") as client:
        index = client.create_index("full", 2)
        ids, values = rows(300)
        with pytest.raises(writes.WriteIncomplete) as info:
            index.upsert(ids, values, batch_size=100, progress=False)
        result = info.value.result
        cause = info.value.__cause__
        assert isinstance(cause, OSError) and cause.errno == errno.ENOSPC
        assert "is full" in str(info.value) and "fix the cause, then err.result.retry()" in str(info.value)
        assert [b.status for b in result.batches] == ["accepted", "failed", "not sent"]
        assert "100 of 300 rows written (1 of 3 batches accepted)" in str(info.value)
        assert index.info().vector_count == 100
        assert result.retry().ok and index.info().vector_count == 300
        backend.calls = 0
        reported = index.upsert(ids, values, batch_size=100, progress=False, on_error="report")
        assert reported.failures[0].error.errno == errno.ENOSPC and reported.written == 100


def test_a_lock_waited_out_half_way_says_a_retry_sends_the_rest():
    """It said "Sending them again would fail the same way", of a lock that another writer lets go of."""
    from vectorize_nb.local.readonly import FolderLocked

    backend = Flaky(fail_calls={2}, error=lambda: FolderLocked("The folder stayed locked: nothing was written", 0.2))
    with Client(backend, "flaky") as client:
        index = client.create_index("locked", 2)
        with pytest.raises(writes.WriteIncomplete) as info:
            index.upsert(*rows(300), batch_size=100, progress=False)
        assert str(info.value).endswith("stayed locked: nothing was written. err.result.retry() sends the 200 rows "
                                        "that were not written")


def test_a_failure_of_the_storage_at_the_first_batch_raises_as_it_is():
    """Nothing was written: the storage's own error says so (a full disk, a read-only folder)."""
    with Client(Flaky(fail_calls={1}, error=disk_full), "flaky") as client:
        index = client.create_index("full", 2)
        with pytest.raises(OSError, match="is full: nothing of this batch was written") as info:
            index.upsert(*rows(300), batch_size=100, progress=False)
        assert info.value.errno == errno.ENOSPC and index.info().vector_count == 0


def test_concurrent_sends_stop_starting_batches_after_a_failure():
    backend = Flaky(fail_calls={2}, concurrency=3)
    with Client(backend, "flaky") as client:
        index = client.create_index("conc", 2)
        result = index.upsert(*rows(3000), batch_size=100, on_error="report")
        statuses = [b.status for b in result.batches]
        assert statuses.count("failed") == 1 and statuses.count("not sent") > 0
        assert index.info().vector_count == result.written
        assert result.retry().ok and index.info().vector_count == 3000


def test_concurrent_sends_write_every_batch_when_nothing_fails():
    backend = Flaky(concurrency=4)
    with Client(backend, "flaky") as client:
        index = client.create_index("conc", 2)
        result = index.upsert(*rows(3000), batch_size=100, progress=False)
        assert [b.status for b in result.batches] == ["accepted"] * 30 and backend.calls == 30
        assert index.info().vector_count == 3000


def test_bad_input_anywhere_is_rejected_before_any_batch_is_sent(flaky):
    client, backend = flaky
    index = client.create_index("valid", 2)
    ids, values = rows(12000)
    values[11999, 0] = np.nan
    with pytest.raises(errors.InvalidVector, match='id="r11999"'):
        index.upsert(ids, values)
    assert backend.calls == 0 and index.info().vector_count == 0


@pytest.mark.parametrize("kind", ["delete", "upset", "UPSERT", None])
def test_a_write_of_another_kind_is_refused_before_any_batch_is_sent(flaky, kind):
    """Index.write's kind went unchecked: the embedded engine upserted and reported the kind given, REST sent the
    batch to /indexes/<name>/<kind>, and a folder's engine logged a mutation it could not read back."""
    client, backend = flaky
    index = client.create_index("valid", 2)
    ids, values = rows(3)
    with pytest.raises(errors.MalformedRequest, match=rf"kind must be one of 'insert', 'upsert'; got {kind!r} \(during "
                                                      rf"write on index 'valid'\)"):
        index.write(kind, vz.Vectors(ids, values))
    assert backend.calls == 0 and index.info().vector_count == 0


def checked(ids, width, metadata_json=None):
    return CheckedVectors(list(ids), np.zeros((len(ids), width), np.float32), None, None,
                          metadata_json or [None] * len(ids))


def test_batches_respect_the_count_and_body_size_limits():
    limits = TINY.with_changes(max_body_bytes=10_000)
    ids = [f"{i}" for i in range(100)]
    vectors = checked(ids, 32, [b'{"t":"' + b"x" * 500 + b'"}'] * 100)
    batches = writes.plan_batches(vectors, limits)
    assert all(b.rows * (96 + 2 + 508 + 32 * 16) <= 10_000 for b in batches)
    assert [b.start for b in batches][:3] == [0, 8, 16] and batches[-1].stop == 100
    assert [b.rows for b in writes.plan_batches(checked(ids, 32), TINY, batch_size=30)] == [30, 30, 30, 10]
    big = checked([str(i) for i in range(12000)], 2)
    assert [b.rows for b in writes.plan_batches(big, TINY)] == [5000, 5000, 2000]


def test_duplicate_ids_across_batches_keep_first_for_insert_and_last_for_upsert():
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("dups", 2)
        with pytest.warns(vz.errors.VectorizeWarning, match="3 rows hold 2 distinct ids"):
            index.insert(["a", "b", "a"], [[1, 0], [0, 1], [5, 5]], batch_size=1)
        with pytest.warns(vz.errors.VectorizeWarning, match="3 rows hold 2 distinct ids"):
            index.upsert(["b", "c", "b"], [[1, 1], [2, 2], [3, 3]], batch_size=1)
        frame = index.get_by_ids(["a", "b", "c"])
        assert [v.tolist() for v in frame["values"]] == [[1, 0], [3, 3], [2, 2]]


def test_progress_bar_only_for_several_batches(capsys):
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("bar", 2)
        index.upsert(*rows(50), batch_size=10)
        assert "vectors" in capsys.readouterr().err
        index.upsert(*rows(50), batch_size=10, progress=False)
        index.upsert(*rows(20), batch_size=10)
        assert capsys.readouterr().err == ""


def test_a_bug_in_a_concurrent_sender_is_raised_not_hung():
    class Broken(Flaky):
        def write(self, name, kind, vectors):
            raise RuntimeError("a bug, not a service error")

    with Client(Broken(concurrency=3), "broken") as client:
        index = client.create_index("bug", 2)
        with pytest.raises(RuntimeError, match="a bug"):
            index.upsert(*rows(2000), batch_size=100, progress=False)


def test_one_sender_gets_the_next_body_built_while_its_request_is_in_flight():
    batches = [writes.Batch(n + 1, n * 10, n * 10 + 10) for n in range(3)]
    second_built = threading.Event()
    overlapped, sent = [], []

    def prepare(batch):
        if batch.number == 2:
            second_built.set()
        return batch.number

    def send(number):
        if number == 1:
            overlapped.append(second_built.wait(timeout=5))
        sent.append(number)
        return vz.Mutation(f"m{number}")

    outcomes = writes.send_batches(batches, send, concurrency=1, prepare=prepare)
    assert overlapped == [True] and sent == [1, 2, 3]
    assert [b.mutation_id for b in outcomes] == ["m1", "m2", "m3"]


def test_one_sender_sends_nothing_it_built_ahead_after_a_failure():
    batches = [writes.Batch(n + 1, n * 10, n * 10 + 10) for n in range(4)]
    sent = []

    def send(number):
        sent.append(number)
        if number == 2:
            raise errors.ServerError("upstream timed out")
        return vz.Mutation(f"m{number}")

    outcomes = writes.send_batches(batches, send, concurrency=1, prepare=lambda batch: batch.number)
    assert sent == [1, 2]
    assert [b.mutation_id for b in outcomes] == ["m1", None, None, None]
    assert isinstance(outcomes[1].error, errors.ServerError) and outcomes[2].error is None


@pytest.mark.parametrize("method", [vz.Index.insert, vz.Index.upsert, pd.DataFrame.vectorize.insert,
                                    pd.DataFrame.vectorize.upsert])
def test_every_public_write_takes_the_write_options_with_their_defaults(method):
    parameters = inspect.signature(method).parameters
    for option in dataclasses.fields(writes.WriteOptions):
        assert parameters[option.name].default == option.default, (method.__qualname__, option.name)
        assert f"{option.name} : " in method.__doc__


class Reordering(LocalEngine):
    """Two senders; the first batch reaches the engine late and the second answers late: the engine
    accepts the second batch first, and the client hears of the first batch first."""

    def __init__(self):
        super().__init__(limits=TINY)
        self.max_concurrency = 2
        self.accepted = []

    def write(self, name, kind, vectors):
        first = vectors.ids[0] == "r00000"
        if first:
            time.sleep(0.2)
        mutation = super().write(name, kind, vectors)
        self.accepted.append(vectors.ids[0])
        if not first:
            time.sleep(0.4)
        return mutation


def test_the_last_batch_of_a_concurrent_write_is_applied_last():
    backend = Reordering()
    with Client(backend, "reordering") as client:
        index = client.create_index("order", 2)
        result = index.upsert(*rows(3), batch_size=2, progress=False)
        assert backend.accepted == ["r00000", "r00002"]  # the last batch waits for the others to answer
        assert index.info().processed_up_to_mutation == result.last_mutation.id
        index.wait(result)  # returned at once: waiting for the last batch is waiting for the write


def test_index_upsert_can_wait_until_the_write_is_applied():
    with vz.connect("memory", limits=TINY, apply_delay=0.05) as client:
        index = client.create_index("waits", 2)
        result = index.upsert(*rows(10), wait=True)
        assert index.info().processed_up_to_mutation == result.last_mutation.id
        assert index.info().vector_count == 10


def test_a_failure_that_cannot_succeed_again_does_not_suggest_a_retry(flaky):
    client, _ = flaky
    index = client.create_index("gone", 2)
    Client(client.backend, "another").delete_index("gone")  # elsewhere: the write goes out and is refused
    with pytest.raises(writes.WriteIncomplete) as info:
        index.upsert(*rows(10))
    assert isinstance(info.value.__cause__, errors.IndexDeleted)
    assert "0 of 10 rows written" in str(info.value)
    assert "Sending them again would fail the same way: fix the cause" in str(info.value)


def test_a_failure_that_can_succeed_again_suggests_a_retry():
    with Client(Flaky(fail_calls={2}), "flaky") as client:
        index = client.create_index("flaky", 2)
        with pytest.raises(writes.WriteIncomplete) as info:
            index.upsert(*rows(300), batch_size=100, progress=False)
        assert str(info.value).endswith("err.result.retry() sends the 200 rows that were not written")


def test_a_checked_batch_is_not_checked_again():
    checked_batch = checked(["a", "b"], 2)
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("once", 2)
        assert index._writer.check("upsert", checked_batch) is checked_batch
        assert index.write("upsert", checked_batch).ok and index.info().vector_count == 2


def test_records_with_ragged_or_missing_values():
    with pytest.raises(errors.VectorDimensionMismatch, match='id="b", expected 2 dimensions, and got 3'):
        writes.vectors_from_records([{"id": "a", "values": [1, 2]}, {"id": "b", "values": [1, 2, 3]}])
    for bad in ({"id": "b"}, {"id": "b", "values": np.ones((1, 2))}, {"values": [1, 2]}, "b", 5):
        with pytest.raises(errors.InvalidVector, match='record 1 is not a vector: a dict with an "id" and "values"'):
            writes.vectors_from_records([{"id": "a", "values": [1, 2]}, bad])
    with pytest.raises(errors.InvalidVector, match='record 0 \\(id="a"\\): its values are not all numbers'):
        writes.vectors_from_records([{"id": "a", "values": [1, "x"]}])


NOT_NUMBERS = "its values are not all numbers"


@pytest.mark.parametrize("values, said", [
    ([[1.0, "x"], [0.0, 1.0]], (errors.InvalidVector, f'values row 0 (id="a"): {NOT_NUMBERS}')),
    (np.array([["x", "y"], ["1", "2"]]), (errors.InvalidVector, f'values row 0 (id="a"): {NOT_NUMBERS}')),
    ([[1.0, 0.0], [{"a": 1}, 2.0]], (errors.InvalidVector, f'values row 1 (id="b"): {NOT_NUMBERS}')),
    ([[1.0, 0.0], None], (errors.InvalidVector, f'values row 1 (id="b"): {NOT_NUMBERS}')),
    ([[1.0, 0.0], [1.0, 0.0, 0.0]], (errors.VectorDimensionMismatch, 'id="b", expected 2 dimensions, and got 3')),
])
def test_ids_and_values_that_are_not_numbers_are_refused_naming_the_row(values, said):
    """index.upsert(ids, values) with a text among the values raised numpy's bare ValueError ("could not convert
    string to float"), naming no id; a ragged row "setting an array element with a sequence"."""
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("films", 2)
        with pytest.raises(said[0]) as refused:
            index.upsert(["a", "b"], values)
        assert said[1] in str(refused.value) and "Nothing was written" in str(refused.value)
        assert index.info().vector_count == 0


def test_a_frame_given_to_index_writes_names_the_accessor():
    """index.upsert(index.to_frame()) said 'record 0 is not a vector': a frame iterates as its column names."""
    frame = pd.DataFrame({"id": ["a"], "values": [np.ones(2, np.float32)], "genre": ["drama"]})
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("frames", 2)
        for kind in ("insert", "upsert"):
            with pytest.raises(errors.InvalidVector, match=(
                    rf"^\[40103\] {kind} takes records, ids and values, or a Vectors batch; a DataFrame goes through "
                    rf"df\.vectorize\.{kind}\(index, id=\.\.\., vector=\.\.\., metadata=\[\.\.\.\]\) "
                    rf"\(during {kind} on index 'frames'\)\. Nothing was written")):
                getattr(index, kind)(frame)
        assert index.info().vector_count == 0


def test_a_record_with_keys_that_are_not_a_vectors_is_refused_naming_them():
    """{"id", "values", "genre": ...} was written without its genre, and a misspelled namespace without
    one: keys other than a vector's were dropped without a word."""
    with pytest.raises(errors.InvalidVector, match=(
            r'^\[40103\] record 1 \(id="b"\) has keys that are not a vector.s: "genre", "year"; a record holds "id", '
            r'"values", and optionally "metadata" \(a dict: \{"genre": \.\.\.\}\) and "namespace"\. ')):
        writes.vectors_from_records([{"id": "a", "values": [1, 2]}, {"id": "b", "values": [1, 2], "genre": "noir",
                                                                      "year": 1950}])
    with pytest.raises(errors.InvalidVector, match=r'record 0 \(id="a"\) has keys that are not .+: "namesapce"'):
        writes.vectors_from_records([{"id": "a", "values": [1, 2], "namesapce": "eu"}])
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("records", 2)
        with pytest.raises(errors.InvalidVector, match="Nothing was written"):
            index.upsert([{"id": "a", "values": [1, 2], "metadata": {"genre": "noir"}}, {"id": "b", "values": [1, 2],
                                                                                        "genre": "noir"}])
        assert index.info().vector_count == 0


def test_records_values_may_be_lists_tuples_or_arrays():
    batch_ = writes.vectors_from_records([{"id": "a", "values": np.array([1, 2])}, {"id": "b", "values": (3, 4)}])
    assert batch_.values.tolist() == [[1, 2], [3, 4]] and batch_.values.dtype == np.float32


class LostAnswers(LocalEngine):
    """The local engine, except that chosen write calls are carried out and their answer lost, marked as
    the REST transport marks an error whose request may have been carried out."""

    def __init__(self, lost=()):
        super().__init__(limits=TINY)
        self.lost = set(lost)
        self.calls = 0

    def write(self, name, kind, vectors):
        self.calls += 1
        mutation = super().write(name, kind, vectors)
        if self.calls in self.lost:
            error = errors.ServerError("bad gateway", status=502)
            error.maybe_applied = True
            raise error
        return mutation


def test_a_batch_whose_answer_was_lost_is_unconfirmed_not_failed():
    with Client(LostAnswers(lost={3}), "lost") as client:
        index = client.create_index("lost", 2)
        ids, values = rows(500)
        result = index.upsert(ids, values, batch_size=100, on_error="report", progress=False)
        assert [b.status for b in result.batches] == ["accepted"] * 2 + ["unconfirmed"] + ["not sent"] * 2
        assert [b.number for b in result.failures] == [3] and [b.number for b in result.unconfirmed] == [3]
        assert result.written == 200 and not result.ok
        assert result.unconfirmed_ids == ids[200:300] and result.unwritten_ids == ids[200:]
        assert index.info().vector_count == 300  # the unconfirmed batch was written
        assert "200 of 500 rows written (2 of 5 batches accepted), 100 may have been written (no answer came), " \
               "200 not sent" in str(writes.WriteIncomplete(result))
        again = result.retry()
        assert again.ok and again.ids == ids[200:] and index.info().vector_count == 500


class LostDeletes(LocalEngine):
    """The local engine, except that every delete is carried out and its answer lost."""

    def delete_by_ids(self, name, ids):
        super().delete_by_ids(name, ids)
        error = errors.ServerError("bad gateway", status=502)
        error.maybe_applied = True
        raise error


def test_a_delete_whose_answer_was_lost_is_worded_as_a_delete():
    with Client(LostDeletes(limits=TINY), "lost") as client:
        index = client.create_index("lost", 2)
        index.upsert(["a", "b"], [[1, 0], [0, 1]])
        with pytest.raises(writes.WriteIncomplete) as raised:
            index.delete_by_ids(["a", "b"])
        message = str(raised.value)
        assert message.startswith("delete on 'lost' is incomplete: 0 of 2 ids accepted (0 of 1 batches accepted), "
                                  "2 may have been accepted (no answer came)"), message
        assert "deleting an id twice is harmless" in message and "written" not in message
        assert repr(raised.value.result) == "WriteResult(delete on 'lost': 0 of 2 ids accepted in 0 of 1 batches, " \
                                            "2 may have been accepted; an id not stored is accepted too, and ignored)"
        assert index.info().vector_count == 0


@pytest.mark.parametrize("kind", ["insert", "upsert"])
@pytest.mark.parametrize("data, values, error", [
    ([{"id": "a", "values": [1.0, 0.0, 0.0]}], None, errors.VectorDimensionMismatch),
    ([{"idx": "a", "values": [1.0, 0.0]}], None, errors.InvalidVector),
    (["a", "b"], np.ones((3, 2)), errors.InvalidRequest),
])
def test_a_batch_refused_as_it_is_read_says_so_as_any_refused_batch(kind, data, values, error):
    """Records were refused without "(during upsert on index ...). Nothing was written", which the same
    refusal of a DataFrame's rows, or of a value checked later, says."""
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("films", 2)
        with pytest.raises(error) as refused:
            getattr(index, kind)(data, values)
        assert f"(during {kind} on index 'films'). Nothing was written" in str(refused.value)
        assert index.info().vector_count == 0


def test_an_insert_over_stored_ids_says_its_rows_were_accepted_not_written():
    """It said "10 of 10 rows written" though an insert leaves each stored id's vector as it was."""
    from vectorize_nb.write_result import INSERT_RULE
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("docs", 3, "cosine")
        ids = [f"d{k}" for k in range(10)]
        upserted = index.upsert(ids, np.ones((10, 3), np.float32), wait=True)
        inserted = index.insert(ids, np.full((10, 3), 2.0, np.float32), wait=True)
        assert np.array_equal(index.get_by_ids(["d0"])["values"][0], [1.0, 1.0, 1.0])
    assert repr(upserted) == "WriteResult(upsert into 'docs': 10 of 10 rows written and applied in 1 of 1 batches)"
    assert repr(inserted) == ("WriteResult(insert into 'docs': 10 of 10 rows accepted and applied in 1 of 1 batches; "
                              "an id already stored keeps its vector and metadata)")
    assert INSERT_RULE in repr(inserted) and "written" not in inserted.tally() + inserted._repr_html_()
    assert inserted.tally() == "10 of 10 rows accepted (1 of 1 batches accepted)"


def test_a_delete_of_ids_not_stored_says_they_were_accepted_not_deleted():
    """It said "3 of 3 ids deleted" where one of the three was stored: Vectorize accepts the ids it does not
    hold and ignores them, and its answer does not say which."""
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("docs", 3, "cosine")
        index.upsert(["a", "b"], np.ones((2, 3), np.float32), wait=True)
        deleted = index.delete_by_ids(["a", "zz", "yy"], wait=True)
        assert index.info().vector_count == 1
    assert repr(deleted) == ("WriteResult(delete on 'docs': 3 of 3 ids accepted and applied in 1 of 1 batches; "
                             "an id not stored is accepted too, and ignored)")
    assert deleted.tally() == "3 of 3 ids accepted (1 of 1 batches accepted)"


def test_one_string_for_the_ids_of_a_write_is_refused_not_read_letter_by_letter():
    """index.upsert("ab", X) wrote two vectors with ids "a" and "b", over those stored, where delete_by_ids("ab")
    and get_by_ids("ab") are refused with the one-id hint."""
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("films", 2)
        index.upsert(["a", "b"], np.eye(2), wait=True)
        for write in (index.upsert, index.insert):
            with pytest.raises(errors.MalformedRequest) as refused:
                write("ab", np.ones((2, 2)))
            assert "ids must be a list of ids; got 'ab'; for the one id pass ['ab']" in str(refused.value)
        assert np.array_equal(np.stack(index.get_by_ids(["a", "b"], values=True)["values"]), np.eye(2))


DICT_GIVEN = ("records are a list of dicts, got a dict of 2 entries: for a dict of id to vector, pass list(d) and "
              "list(d.values()) as ids and values; for one record, put it in a list")


@pytest.mark.parametrize("data, says", [
    (["a", "b"], 'record 0 is not a vector: a dict with an "id" and "values" (a list, a tuple or a 1-D NumPy array); '
                 "got 'a': for ids, pass their values too, index.upsert(ids, values)"),
    ({"a": [1.0, 0.0], "b": [0.0, 1.0]}, DICT_GIVEN),
    ({"id": "a", "values": [1.0, 0.0]}, DICT_GIVEN),
])
def test_ids_without_values_or_a_dict_say_what_to_pass(data, says):
    """upsert(["a", "b"]) and upsert({"a": [...]}) said only 'record 0 is not a vector'."""
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("once", 2)
        with pytest.raises(errors.InvalidVector) as raised:
            index.upsert(data)
        assert raised.value.message == says and index.info().vector_count == 0


@pytest.mark.parametrize("kind, kept", [("upsert", "last"), ("insert", "first")])
def test_a_batch_repeating_an_id_says_which_row_of_it_is_kept(kind, kept):
    """upsert(["a", "a", "b"], ...) answered "2 of 2 rows written" for three rows, without a word."""
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("once", 2)
        with pytest.warns(vz.errors.VectorizeWarning) as heard:
            result = getattr(index, kind)(["a", "a", "b"], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], wait=True)
        assert [str(w.message) for w in heard] == [
            f"3 rows hold 2 distinct ids ('a' is repeated): {kind} keeps the {kept} row of each, as Vectorize does"]
        assert result.ok and index.info().vector_count == 2
        stored = index.get_by_ids(["a"])["values"].iloc[0].tolist()
        assert stored == ([0.0, 1.0] if kept == "last" else [1.0, 0.0])


def test_a_results_display_says_whether_it_was_waited_for_and_shows_no_none():
    """"10 of 10 rows written" read alike with wait=True and without, never naming index.wait(result); and the
    HTML table showed None in the error column of every accepted batch."""
    with vz.connect("memory", limits=TINY, apply_delay=0.2) as client:
        index = client.create_index("docs", 3, "cosine")
        waited = index.upsert(["a", "b"], np.ones((2, 3), np.float32), wait=True)
        sent = index.upsert(["c"], np.ones((1, 3), np.float32))
    assert repr(waited) == "WriteResult(upsert into 'docs': 2 of 2 rows written and applied in 1 of 1 batches)"
    assert repr(sent) == "WriteResult(upsert into 'docs': 1 of 1 rows written in 1 of 1 batches)"
    later = "Vectorize applies a write a few seconds after accepting it: <code>index.wait(result)</code> waits for that"
    assert later in sent._repr_html_() and later not in waited._repr_html_()
    for html in (waited._repr_html_(), sent._repr_html_()):
        assert "None" not in html and "<td></td>" in html, html


def test_a_write_the_engine_applied_before_answering_says_so_without_a_wait():
    """With no apply_delay the engine applies a write before it answers, yet its display told the user to wait for
    it (and index.wait)."""
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("docs", 3, "cosine")
        sent = index.upsert(["a", "b", "c"], np.ones((3, 3), np.float32), batch_size=2)
        deleted = index.delete_by_ids(["a"])
    assert sent.applied and [b.applied for b in sent.batches] == [True, True]
    assert repr(sent) == "WriteResult(upsert into 'docs': 3 of 3 rows written and applied in 2 of 2 batches)"
    assert "index.wait" not in sent._repr_html_()
    assert repr(deleted).startswith("WriteResult(delete on 'docs': 1 of 1 ids accepted and applied in 1 of 1")


def test_a_result_waited_for_with_index_wait_says_applied_too():
    with vz.connect("memory", limits=TINY, apply_delay=0.2) as client:
        index = client.create_index("docs", 3, "cosine")
        sent = index.upsert(["a"], np.ones((1, 3), np.float32))
        index.wait(sent)
    assert repr(sent) == "WriteResult(upsert into 'docs': 1 of 1 rows written and applied in 1 of 1 batches)"


def test_a_long_writes_display_shows_some_batches_and_its_last_mutation_says_applied():
    """5,000 batches made an HTML table of 5,000 rows (0.9 MB in the notebook), and last_mutation dropped `applied`."""
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("docs", 3, "cosine")
        result = index.upsert([str(n) for n in range(300)], np.ones((300, 3), np.float32), batch_size=1)
    html = result._repr_html_()
    assert html.count("<tr>") < 30 and "300 batches: <code>result.to_frame()</code> lists every one" in html
    assert ">1<" in html and ">300<" in html and len(result.to_frame()) == 300
    assert result.last_mutation is not None and result.last_mutation.applied


def test_a_mutation_is_its_id_whether_or_not_its_answer_said_it_was_applied():
    """Mutation("m") and the engine's Mutation("m", applied=True) compared unequal (and hashed apart in a set)."""
    with vz.connect("memory", limits=TINY) as client:
        result = client.create_index("docs", 3, "cosine").upsert(["a"], np.ones((1, 3), np.float32))
    mutation = result.last_mutation
    assert mutation is not None and mutation.applied
    assert mutation == vz.Mutation(mutation.id) and {mutation} == {vz.Mutation(mutation.id)}
