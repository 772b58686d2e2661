"""Requests the server carried out whose answer was lost (a gateway's 502, a connection dropped after
the request went out): the transport says so, and a retry that finds the work done is no error."""

from __future__ import annotations

import numpy as np
import pytest

from vectorize_nb import errors, writes

from .faults import Pass, Reply, Stall, Swallow


# --- what the transport knows ---------------------------------------------------------------------

@pytest.mark.parametrize("fault, uncertain", [
    (Reply(502), True),
    (Reply(504), True),
    (Reply(500), False),
    (Reply(503), False),
    (Reply(500, code=10001), False),
    (Stall(30), True),               # the request went out, the attempt timed out
], ids=["502", "504", "500", "503", "500-10001", "timeout"])
def test_an_error_says_whether_an_attempt_may_have_been_carried_out(rig, fault, uncertain):
    rig.app.always("info", fault)
    backend = rig.client(timeout=0.3 if isinstance(fault, Stall) else 10, max_retries=1).backend  # a stall times out
    with pytest.raises(errors.VectorizeError) as raised:
        backend.index_info("docs")
    assert raised.value.maybe_applied is uncertain
    assert rig.app.count("info") == 2


def test_an_earlier_unanswered_attempt_marks_the_final_error(rig):
    rig.app.script("info", Reply(502), Reply(503), Reply(503))
    with pytest.raises(errors.ServerError) as raised:
        rig.client(max_retries=2).backend.index_info("docs")
    assert raised.value.status == 503 and raised.value.maybe_applied


def test_a_connection_dropped_after_the_request_went_out_may_have_been_carried_out(rig):
    proxy = rig.proxy(drop=lambda n, line: "/info" in line, mode="before_response")
    with pytest.raises(errors.TransportError) as raised:
        rig.client(proxy.url, max_retries=1).backend.index_info("docs")
    assert raised.value.maybe_applied and len(proxy.dropped) == 2


def test_a_refused_connection_was_not_carried_out(rig):
    proxy = rig.proxy()
    url = proxy.url
    proxy.close()
    with pytest.raises(errors.TransportError) as raised:
        rig.client(url, max_retries=1).backend.index_info("docs")
    assert not raised.value.maybe_applied


# --- create_index ---------------------------------------------------------------------------------

def test_create_index_whose_answer_was_lost_returns_the_index_it_created(rig):
    rig.app.script("indexes", Swallow(Reply(502)))
    client = rig.client(max_retries=2)
    created = client.create_index("new", 4, "euclidean", description="d")
    assert (created.name, created.dimensions, created.metric, created.description.description) == \
        ("new", 4, "euclidean", "d")
    assert rig.app.actions("indexes") == ["swallow then reply 502", "pass"]  # the retry got 3002
    assert rig.app.count("index") == 1  # then one get_index
    assert [d.name for d in rig.engine.list_indexes()] == ["docs", "new"]


def test_create_index_whose_connection_dropped_after_sending_returns_the_index_it_created(rig):
    proxy = rig.proxy(drop={1}, mode="before_response")
    created = rig.client(proxy.url, max_retries=2).create_index("new", 4)
    assert (created.name, created.dimensions, created.metric) == ("new", 4, "cosine")
    assert [r.operation for r in proxy.relayed] == ["indexes", "indexes", "index"]
    assert rig.engine.get_index("new").dimensions == 4


def test_create_index_keeps_3002_when_the_index_found_is_not_the_one_asked_for(rig):
    rig.app.script("indexes", Reply(502))  # not carried out: "docs" is another client's, with 2 dimensions
    with pytest.raises(errors.DuplicateIndexName) as raised:
        rig.client(max_retries=2).create_index("docs", 4)
    assert raised.value.code == 3002 and raised.value.maybe_applied
    assert rig.app.count("indexes") == 2 and rig.app.count("index") == 1
    assert rig.engine.get_index("docs").dimensions == 2


def test_create_index_keeps_3002_when_every_attempt_was_answered(rig):
    rig.app.script("indexes", Reply(500))  # the server's own failure: it did not create the index
    with pytest.raises(errors.DuplicateIndexName):
        rig.client(max_retries=2).create_index("docs", 2)
    assert rig.app.count("indexes") == 2 and rig.app.count("index") == 0  # no second look


# --- delete_index ---------------------------------------------------------------------------------

def test_delete_index_whose_answer_was_lost_succeeds(rig):
    rig.app.script("index", Swallow(Reply(502)))
    client = rig.client(max_retries=2)
    assert client.delete_index("docs") is None
    assert rig.app.actions("index") == ["swallow then reply 502", "pass"]  # the retry got 3005 (or 3000)
    assert rig.engine.list_indexes() == []


def test_delete_index_whose_connection_dropped_after_sending_succeeds(rig):
    proxy = rig.proxy(drop={1}, mode="before_response")
    rig.client(proxy.url, max_retries=2).delete_index("docs")
    assert len(proxy.requests("index")) == 2 and rig.engine.list_indexes() == []


def test_delete_index_of_an_unknown_index_still_raises(rig):
    with pytest.raises(errors.IndexNotFound) as raised:
        rig.client(max_retries=2).delete_index("nope")
    assert raised.value.code == 3000 and not raised.value.maybe_applied
    rig.app.script("index", Reply(503))
    with pytest.raises(errors.IndexNotFound):
        rig.client(max_retries=2).delete_index("nope")


# --- delete_metadata_index ------------------------------------------------------------------------

def test_delete_metadata_index_whose_answer_was_lost_succeeds_with_an_unknown_mutation(rig):
    client = rig.client(max_retries=2)
    index = client.get_index("docs")
    index.create_metadata_index("g", "string")
    index.upsert(["a"], np.ones((1, 2)))
    before = client.log.last("docs")
    rig.app.script("metadata_index/delete", Swallow(Reply(502)))
    mutation = index.delete_metadata_index("g")
    assert mutation.id == "" and rig.engine.list_metadata_indexes("docs") == []
    assert rig.app.actions("metadata_index/delete") == ["swallow then reply 502", "pass"]  # the retry got 40005
    assert client.log.last("docs") == before  # nothing to wait for by id
    with pytest.raises(errors.InvalidRequest, match="this mutation's id is unknown"):
        index.wait(mutation)


def test_delete_metadata_index_of_an_unknown_property_still_raises(rig):
    index = rig.client(max_retries=2).get_index("docs")
    rig.app.script("metadata_index/delete", Reply(500))
    with pytest.raises(errors.MetadataIndexNotFound) as raised:
        index.delete_metadata_index("nope")
    assert raised.value.code == 40005 and not raised.value.maybe_applied
    assert rig.app.count("metadata_index/delete") == 2


# --- writes: batches whose answer was lost ----------------------------------------------------------

def stored(rig) -> set[str]:
    return set(rig.engine.list_vectors("docs", 1000).ids)


def test_a_write_whose_answers_were_lost_says_which_rows_may_have_been_written(rig):
    rig.app.script("upsert", Pass(), Pass()).always("upsert", Swallow(Reply(502)))  # applied, answer lost
    index = rig.client(max_retries=2, concurrency=4).get_index("docs")
    ids, values = [f"v{i:04d}" for i in range(1000)], np.random.default_rng(0).random((1000, 2))
    with pytest.raises(writes.WriteIncomplete) as raised:
        index.upsert(ids, values, batch_size=100, progress=False)
    result = raised.value.result
    statuses = [b.status for b in result.batches]
    maybe, unsent = statuses.count("unconfirmed"), statuses.count("not sent")
    assert statuses.count("accepted") == 2 and maybe >= 1 and "failed" not in statuses
    assert rig.app.count("upsert") == 2 + 3 * maybe  # each unanswered batch tried max_retries + 1 times
    accepted = {i for b in result.accepted for i in ids[b.start:b.stop]}
    assert stored(rig) == accepted | set(result.unconfirmed_ids)  # all that was said "may have been", was
    assert result.written == 200 and set(result.unwritten_ids) == set(ids) - accepted
    assert len(result.unconfirmed_ids) == 100 * maybe and not set(result.unconfirmed_ids) & accepted
    message = str(raised.value)
    assert (f"200 of 1000 rows written (2 of 10 batches accepted), {100 * maybe} may have been written "
            f"(no answer came), {100 * unsent} not sent; first failure: ") in message
    assert message.endswith(f"err.result.retry() sends the 800 rows not known to be written, the {100 * maybe} "
                            f"that may have been included (a row sent twice is stored once)")
    assert f"{100 * maybe} may have been written" in repr(result)
    assert result.to_frame()["status"].tolist() == statuses

    rig.app.heal()
    again = result.retry()
    assert again.ok and again.ids == result.unwritten_ids
    assert stored(rig) == set(ids) and rig.engine.index_info("docs").vector_count == 1000


def test_a_write_refused_by_the_server_still_says_exactly_what_was_written(rig):
    rig.app.script("upsert", Pass(), Pass()).always("upsert", Reply(500))  # the server's own failure
    index = rig.client(max_retries=2, concurrency=4).get_index("docs")
    ids, values = [f"v{i:04d}" for i in range(1000)], np.random.default_rng(0).random((1000, 2))
    with pytest.raises(writes.WriteIncomplete) as raised:
        index.upsert(ids, values, batch_size=100, progress=False)
    result = raised.value.result
    assert "unconfirmed" not in [b.status for b in result.batches] and result.unconfirmed_ids == []
    assert "200 of 1000 rows written (2 of 10 batches accepted); first failure" in str(raised.value)
    assert str(raised.value).endswith("err.result.retry() sends the 800 rows that were not written")
    assert stored(rig) == set(ids) - set(result.unwritten_ids) and result.written == 200


@pytest.mark.parametrize("answer", [b'{"success": true, "resu', b'{"success": true, "result": {}, "errors": []}',
                                    b"<html>ok</html>"], ids=["cut JSON", "no mutationId", "HTML"])
def test_a_write_whose_success_answer_cannot_be_read_may_have_been_written(rig, answer):
    """The server applied the batch and its 200 came back unreadable: the batch was "failed", its rows "not
    written", though they were stored."""
    rig.app.script("upsert", Pass(), Swallow(Reply(200, body=answer)))
    index = rig.client(max_retries=0).get_index("docs")
    ids, values = [f"v{i}" for i in range(4)], np.random.default_rng(0).random((4, 2))
    with pytest.raises(writes.WriteIncomplete) as raised:
        index.upsert(ids, values, batch_size=2, progress=False)
    result = raised.value.result
    assert [b.status for b in result.batches] == ["accepted", "unconfirmed"]
    assert result.unconfirmed_ids == ["v2", "v3"] and stored(rig) == set(ids)
