from datetime import datetime, UTC

import numpy as np
import orjson
import pytest

from vectorize_nb.contract import errors, validation, wire
from vectorize_nb.contract.models import (IndexConfig, IndexDescription, IndexInfo, Match, QueryOptions, VectorPage,
                                         Vectors)

from ..helpers import TINY


def test_timestamps_use_each_fields_cloudflare_form():
    moment = datetime(2024, 7, 11, 13, 2, 18, 2680, tzinfo=UTC)
    description = IndexDescription("x", IndexConfig(32, "cosine"), "", moment, moment)
    assert wire.index_json(description)["created_on"] == "2024-07-11T13:02:18.002680Z"
    assert wire.info_json(IndexInfo(32, 1, "m", moment))["processedUpToDatetime"] == "2024-07-11T13:02:18.002Z"
    page = wire.page_json(VectorPage(["a"], 2, True, "c", moment))
    assert page["cursorExpirationTimestamp"] == "2024-07-11T13:02:18.002680000+00:00"


@pytest.mark.parametrize("text, expected", [
    ("2025-08-13T20:32:52.469144957+00:00", datetime(2025, 8, 13, 20, 32, 52, 469144, tzinfo=UTC)),
    ("2024-07-19T13:11:44.064Z", datetime(2024, 7, 19, 13, 11, 44, 64000, tzinfo=UTC)),
    ("2024-07-19T13:11:44Z", datetime(2024, 7, 19, 13, 11, 44, tzinfo=UTC)),
])
def test_any_rfc3339_fraction_parses(text, expected):
    assert wire.info_from_json({"dimensions": 2, "processedUpToDatetime": text}).processed_up_to_datetime == expected


def test_info_of_a_new_index_omits_the_mutation_fields():
    assert wire.info_json(IndexInfo(32, 0)) == {"dimensions": 32, "vectorCount": 0}


def test_float32_values_print_as_the_doubles_they_are():
    body = wire.dumps(wire.matches_json([Match("a", 0.5, np.array([58.8], np.float32))]))
    assert b"58.79999923706055" in body


def test_ndjson_round_trip_is_exact_for_float32():
    values = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    raw = Vectors(["a", "b", "c"], values, [{"k": 1}, None, {"k": "é"}], [None, "ns", None])
    batch = validation.check_vectors(raw, "upsert", 5, TINY)
    decoded = wire.decode_ndjson(wire.encode_ndjson(batch), 5)
    assert decoded.ids == ["a", "b", "c"] and np.array_equal(decoded.values, values)
    assert decoded.metadata == [{"k": 1}, None, {"k": "é"}] and decoded.namespaces == [None, "ns", None]


@pytest.mark.parametrize("body, line", [
    (b'{"id":"a","values":[1,2]}\n{"id":"b","values":[1,2]', 1),       # broken JSON
    (b'[{"id":"a","values":[1,2]}]', 0),                               # a JSON array, not NDJSON
    (b'"{\\"id\\":\\"a\\",\\"values\\":[1,2]}"', 0),                   # a JSON string literal (SDK 4.x)
    (b'{"id":"a","values":[1,2]}\n{"values":[1,2]}', 1),               # no id
])
def test_unparsable_lines_are_40023_naming_the_line(body, line):
    with pytest.raises(errors.UnparsableVectors) as info:
        wire.decode_ndjson(body, 2)
    assert info.value.message == wire.NDJSON_UNPARSABLE.format(line=line)


@pytest.mark.parametrize("values", [[0.5, False], [1, True], [True, False]])
def test_booleans_among_the_numbers_are_40023_naming_the_id(values):
    with pytest.raises(errors.UnparsableVectors, match='id="b"'):
        wire.decode_ndjson(b'{"id":"a","values":[0.0,1.0]}\n{"id":"b","values":%s}' % orjson.dumps(values), 2)
    assert wire.decode_ndjson(b'{"id":"a","values":[0.0,1]}', 2).values.tolist() == [[0.0, 1.0]]


def test_discard_skips_unparsable_lines():
    body = b'{"id":"a","values":[1,2]}\nnot json\n\n{"id":"b","values":[3,4]}\r\n'
    assert wire.decode_ndjson(body, 2, discard_unparsable=True).ids == ["a", "b"]


def test_query_body_is_camel_case_and_omits_what_is_unset():
    body = wire.query_json(np.array([1, 2], np.float32), QueryOptions(top_k=3, return_metadata="all"))
    assert set(body) == {"vector", "topK", "returnValues", "returnMetadata"}
    assert wire.query_json(None, QueryOptions(namespace="n", filter={"a": 1}), "v1")["vectorId"] == "v1"


@pytest.mark.parametrize("body, fragment", [
    ({"vector": [1], "topK": "5"}, "topK: expected a number"),
    ({"vector": [1], "returnMetadata": True}, "returnMetadata: expected value"),
    ({"vector": [1], "returnValues": "yes"}, "returnValues: expected a boolean"),
    ({"vector": ["a"]}, "vector: expected an array of numbers"),
    ({"vectorId": 5}, "vectorId: expected a string"),
])
def test_query_bodies_with_wrong_types_are_40026(body, fragment):
    with pytest.raises(errors.MalformedRequest, match=fragment):
        wire.query_from_json(body)


def test_failed_envelopes_become_exceptions():
    with pytest.raises(errors.IndexNotFound):
        wire.result_of(400, {"success": False, "errors": [{"code": 3000, "message": "x"}]})
    with pytest.raises(errors.InvalidRequest):  # success:false with a 200 is still a failure
        wire.result_of(200, {"success": False, "errors": [{"code": 40099, "message": "x"}]})
    with pytest.raises(errors.ServerError, match="HTTP 200 with no error message"):  # not the caller's mistake
        wire.result_of(200, {"success": False, "errors": []})
    assert wire.result_of(200, {"result": [1], "success": True}) == [1]


def test_the_streamed_body_is_the_ndjson_and_can_be_sent_twice(monkeypatch):
    monkeypatch.setattr(wire.NdjsonBody, "PIECE", 50)
    values = np.arange(60, dtype=np.float32).reshape(20, 3)
    batch = validation.check_vectors(Vectors([f"v{i}" for i in range(20)], values, [{"i": i} for i in range(20)],
                                             ["ns"] * 20), "upsert", 3, TINY)
    body = wire.NdjsonBody(wire.ndjson_lines(batch))
    first, second = b"".join(body), b"".join(body)
    assert first == second == wire.encode_ndjson(batch) and len(body) == len(first)
    assert len(list(body)) > 2  # really sent in pieces
    assert wire.decode_ndjson(first, 3).ids == batch.ids


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 10**300])
def test_an_integer_beyond_64_bits_goes_out_as_written_and_is_read_as_a_float64(number):
    """orjson refused it (TypeError: Integer exceeds 64-bit range), so a filter the engine answered crashed the
    REST client. JSON has no integer limit: the digits go out as they are, and a reader takes the number as
    float64, as a number index compares it."""
    body = wire.dumps({"filter": {"n": {"$lt": number}}, "vector": np.array([1.0, 0.5], np.float32)})
    assert body == b'{"filter":{"n":{"$lt":%d}},"vector":[1.0,0.5]}' % number
    assert wire.loads(body)["filter"]["n"]["$lt"] == float(number)
