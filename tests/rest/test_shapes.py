"""A success envelope whose `result` is not of the answer's shape: a ServerError naming the operation,
never a raw AttributeError, TypeError, KeyError or ValueError from reading it."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from vectorize_nb import errors
from vectorize_nb.contract.models import QueryOptions
from vectorize_nb.local import LocalEngine

from ..helpers import TINY
from .faults import FaultRig, Reply

READS = {
    "get_index": ("index", lambda backend: backend.get_index("docs")),
    "info": ("info", lambda backend: backend.index_info("docs")),
    "query": ("query", lambda backend: backend.query("docs", np.ones(2, np.float32))),
    "list_vectors": ("list", lambda backend: backend.list_vectors("docs")),
    "get_by_ids": ("get_by_ids", lambda backend: backend.get_by_ids("docs", ["a"])),
    "list_metadata_indexes": ("metadata_index/list", lambda backend: backend.list_metadata_indexes("docs")),
    "list_indexes": ("indexes", lambda backend: backend.list_indexes()),
}
ODD = {
    "null": None,
    "a string": "x",
    "an empty object": {},
    "a list of numbers": [1],
    "fields of other types": {"matches": "x", "vectors": 5, "metadataIndexes": 3, "name": None},
}


@pytest.fixture(scope="module")
def rig():
    with LocalEngine(limits=TINY) as engine:
        engine.create_index("docs", dimensions=2, metric="cosine")
        with FaultRig(engine) as rig:
            yield rig


def envelope(result) -> Reply:
    return Reply(200, body=orjson.dumps({"result": result, "success": True, "errors": [], "messages": []}))


@pytest.mark.parametrize("odd", ODD, ids=list(ODD))
@pytest.mark.parametrize("read", READS, ids=list(READS))
def test_an_odd_result_is_a_server_error_or_an_answer_never_a_raw_exception(rig, read, odd):
    operation, call = READS[read]
    rig.app.script(operation, envelope(ODD[odd]))
    backend = rig.client(max_retries=0).backend
    try:
        call(backend)
    except errors.ServerError as exc:
        assert exc.status == 502 and exc.code == 0
        assert "is not the answer" in exc.message and "expects" in exc.message
        assert str(ODD[odd])[:20] in exc.message  # a snippet of what came
        assert f"(during {read.replace('info', 'info on index')}" in str(exc)
    assert rig.app.count(operation) >= 1


@pytest.mark.parametrize("read, odd, says", [
    ("get_index", "an empty object", "KeyError: 'name'"),
    ("get_index", "null", "AttributeError"),
    ("info", "a string", "AttributeError"),
    ("query", "null", "AttributeError"),
    ("list_vectors", "null", "TypeError"),
    ("list_vectors", "an empty object", "KeyError: 'vectors'"),  # read as an empty index, copied as one
    ("list_vectors", "fields of other types", "TypeError"),
    ("list_metadata_indexes", "fields of other types", "TypeError"),
    ("get_by_ids", "a list of numbers", "TypeError"),
])
def test_the_error_says_what_was_wrong_with_the_result(rig, read, odd, says):
    operation, call = READS[read]
    rig.app.script(operation, envelope(ODD[odd]))
    with pytest.raises(errors.ServerError) as raised:
        call(rig.client(max_retries=0).backend)
    assert says in raised.value.message
    assert raised.value.message.startswith(f"the server's result is not the answer {read}")


def record(vid: str, values=(1.0, 0.0)) -> dict:
    return {"id": vid, "values": list(values), "metadata": {}, "namespace": None}


@pytest.mark.parametrize("answer, says", [
    ([record("a"), record("zz")], "id 'zz', which was not asked for"),
    ([record("a"), record("a")], "'a', twice"),
    ([record("a"), record("b", (1e39, 0.0))], "values of id 'b' that are not finite numbers"),  # past float32
    ([record("a", (None, 0.0))], "values of id 'a' that are not finite numbers"),  # became NaN without a word
])
def test_get_by_ids_answering_other_records_than_asked_is_a_server_error(rig, answer, says):
    rig.app.script("get_by_ids", envelope(answer))
    with pytest.raises(errors.ServerError) as raised:
        rig.client(max_retries=0).backend.get_by_ids("docs", ["a", "b"])
    assert raised.value.status == 502 and raised.value.operation == "get_by_ids on index 'docs'"
    assert says in raised.value.message


def test_an_export_given_records_of_other_dimensions_is_a_server_error_naming_the_id(rig):
    client = rig.client(max_retries=0)
    client.get_index("docs").upsert(["a", "b"], np.eye(2, dtype=np.float32), wait=True)
    rig.app.script("get_by_ids", envelope([record("a"), record("b", (1.0, 0.0, 0.0))]))
    with pytest.raises(errors.ServerError) as raised:
        client.backend.export("docs")
    assert raised.value.status == 502
    assert "'b' has 3 dimensions where index 'docs' has 2" in raised.value.message


def match(vid: str, values) -> dict:
    return {"id": vid, "score": 0.5, "values": list(values)}


@pytest.mark.parametrize("values", [(1e39, 0.0), (None, 0.0), (float("nan"), 0.0)], ids=["past float32", "null", "NaN"])
def test_a_query_answer_with_values_that_are_not_finite_is_a_server_error(rig, values):
    rig.app.script("query", envelope({"count": 2, "matches": [match("a", (1.0, 0.0)), match("b", values)]}))
    with pytest.raises(errors.ServerError) as raised:
        rig.client(max_retries=0).backend.query("docs", np.ones(2, np.float32), QueryOptions(return_values=True))
    assert raised.value.status == 502 and raised.value.operation == "query on index 'docs'"
    assert "values of id 'b' that are not finite numbers" in raised.value.message


def test_a_write_whose_metadata_indexes_cannot_be_listed_goes_on_unwarned(rig, recwarn):
    """The listing behind the metadata warnings is no part of the write: its failure loses the warning only."""
    import pandas as pd

    client = rig.client(max_retries=0)
    index = client.get_index("docs")
    index.create_metadata_index("genre", "string")
    recwarn.clear()  # the vectors the rig's index holds predate "genre": said, and no part of this test
    rig.app.always("metadata_index/list", Reply(500, code=10001))
    listed = rig.app.count("metadata_index/list")
    frame = pd.DataFrame({"id": ["p", "q"], "v": [[1.0, 0.0], [0.0, 1.0]], "genre": [1, 2]})
    try:
        assert frame.vectorize.upsert(index, id="id", vector="v", metadata=["genre"], wait=True).written == 2
        assert index.upsert([{"id": "r", "values": [1, 1], "metadata": {"genre": 3}}], wait=True).written == 1
    finally:
        rig.app.heal()
    assert rig.app.count("metadata_index/list") == listed + 2 and not [w for w in recwarn if "genre" in str(w.message)]
    assert sorted(index.get_by_ids(["p", "q", "r"])["id"]) == ["p", "q", "r"]
