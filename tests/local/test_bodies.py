"""What the served engine says about bodies it cannot take, and about indexes it does not have:
Cloudflare's statuses and codes, messages that name the field, and nothing written."""

from __future__ import annotations

import io

import pytest
from werkzeug.test import Client, encode_multipart

from vectorize_nb.contract import wire
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.app import VectorizeApp
from vectorize_nb.local.bodies import MAX_JSON_BYTES

from ..helpers import TINY

BASE = "/client/v4/accounts/0123abc/vectorize/v2/indexes"
PARSE = "Failed to parse the request body as JSON: "


@pytest.fixture
def http():
    with LocalEngine(limits=TINY) as engine:
        engine.create_index("docs", dimensions=2, metric="cosine")
        yield Client(VectorizeApp(engine, limits=TINY)), engine


def answer(response) -> tuple[int, int, str]:
    body = wire.loads(response.data)
    assert body["success"] is False and body["result"] is None
    return response.status_code, body["errors"][0]["code"], body["errors"][0]["message"]


@pytest.mark.parametrize("path, body, message", [
    ("/docs/metadata_index/delete", {}, "propertyName: missing field, expected a string"),
    ("/docs/metadata_index/delete", {"propertyName": None}, "propertyName: missing field, expected a string"),
    ("/docs/metadata_index/create", {"indexType": "string"}, "propertyName: missing field, expected a string"),
    ("/docs/metadata_index/create", {"propertyName": 5, "indexType": "string"},
     "propertyName: expected a string, got a number"),
    ("/docs/metadata_index/create", {"propertyName": "g"}, "indexType: missing field, expected a string"),
    ("/docs/metadata_index/create", {"propertyName": "g", "indexType": ["string"]},
     "indexType: expected a string, got an array"),
    ("", {"name": "films", "config": {"preset": {}}}, "config.preset: expected a string, got an object"),
    ("", {"name": "films", "config": {"dimensions": "32", "metric": "cosine"}},
     "config.dimensions: expected a number, got a string"),
    ("", {"name": "films", "config": {"dimensions": 32, "metric": True}},
     "config.metric: expected a string, got a boolean"),
    ("", {"name": "films", "config": {"dimensions": 32}}, "config.metric: missing field, expected a string"),
    ("", {"name": "films", "config": {"metric": "cosine"}}, "config.dimensions: missing field, expected a number"),
    ("", {"config": {"dimensions": 32, "metric": "cosine"}}, "name: missing field, expected a string"),
    ("", {"name": "films", "description": 7, "config": {"dimensions": 32, "metric": "cosine"}},
     "description: expected a string, got a number"),
    ("/docs/get_by_ids", {"ids": "a"}, "ids: expected an array, got a string"),
    ("/docs/delete_by_ids", {"ids": {"a": 1}}, "ids: expected an array, got an object"),
    ("/docs/query", [1, 0], "expected an object, got an array"),
    ("/docs/get_by_ids", {"ids": ["a", 1]}, "ids[1]: expected a string, got a number"),
    ("/docs/delete_by_ids", {"ids": [None]}, "ids[0]: expected a string, got null"),
    ("/docs/delete_by_ids", {"ids": [{"id": "a"}]}, "ids[0]: expected a string, got an object"),
    ("/docs/query", {"vector": [1, 0], "topK": None}, "topK: expected a number, got null"),
    ("/docs/query", {"vector": [1, 0], "returnValues": "yes"}, 'returnValues: expected a boolean, got "yes"'),
    ("/docs/query", {"vector": [1, 0], "namespace": 5}, "namespace: expected a string"),
])
def test_a_missing_or_ill_typed_field_is_40026_naming_it(http, path, body, message):
    client, engine = http
    status, code, text = answer(client.post(BASE + path, json=body))
    assert (status, code, text) == (400, 40026, PARSE + message)
    assert "None" not in text
    assert [d.name for d in engine.list_indexes()] == ["docs"]


@pytest.mark.parametrize("path, body, code, message", [
    ("/docs/query", {"vector": [1, 0], "filter": [1]}, 40110, "filter must be a JSON object, got an array"),
    ("/docs/query", {"vector": [1, 0], "filter": {"g": {"$gt": None}}}, 40110,
     "filter on 'g': $gt takes a string or a number, got null"),
    ("/docs/query", {"vector": [1, 0], "filter": {"g": {"$lt": True}}}, 40110,
     "filter on 'g': $lt takes a string or a number, got a boolean true"),
    ("/docs/query", {"vector": [1, 0], "filter": {"g": {"$in": "x"}}}, 40110,
     "filter on 'g': $in takes a list, got a string \"x\""),
    ("/docs/query", {"vector": [1, 0], "filter": {"g": [1]}}, 40110,
     "filter on 'g': a list needs an operator, e.g. {\"$in\": [...]}"),
    ("/docs/query", {"vector": [1, 0], "filter": {"g": {"$eq": {"x": 1}}}}, 40110,
     "filter on 'g': $eq takes a string, number, boolean or null, got an object"),
    ("/docs/upsert", {"id": "a", "values": [1, 0], "metadata": [1]}, 40105,
     'invalid metadata for id="a": expected an object, got an array'),
    ("/docs/upsert", {"id": "a", "values": [1, 0], "namespace": 5}, 40103,
     'namespace must be a string for id="a", got a number 5'),
])
def test_values_are_named_as_json_names_them(http, path, body, code, message):
    client, engine = http
    kind = "application/json" if path.endswith("query") else "application/x-ndjson"
    assert answer(client.post(BASE + path, data=wire.dumps(body), content_type=kind)) == (400, code, message)
    assert engine.index_info("docs").vector_count == 0


def test_create_without_config_keeps_the_services_words(http):
    client, _ = http
    assert answer(client.post(BASE, json={"name": "films"})) == (
        400, 40102, "vectorize.index.invalid_config - Config must be provided")


def test_a_json_body_over_a_megabyte_is_refused_before_it_is_parsed(http):
    client, _ = http
    big = b'{"vector":[' + b"0," * (MAX_JSON_BYTES // 2) + b"0]}"
    status, code, message = answer(client.post(f"{BASE}/docs/query", data=big, content_type="application/json"))
    assert (status, code) == (400, 40107) and f"max is {MAX_JSON_BYTES} bytes" in message


def test_two_records_on_one_line_are_40023_and_nothing_is_written(http):
    client, engine = http
    body = b'{"id":"a","values":[1,0]},{"id":"b","values":[0,1]}\n'
    status, code, message = answer(client.post(f"{BASE}/docs/upsert", data=body))
    assert (status, code) == (400, 40023) and message == wire.NDJSON_UNPARSABLE.format(line=0)
    assert engine.index_info("docs").vector_count == 0


@pytest.mark.parametrize("levels", [300, 600])
def test_metadata_nested_too_deep_is_40105_not_a_crash(http, levels):
    client, engine = http
    body = b'{"id":"d","values":[1,0],"metadata":' + b'{"a":' * levels + b'1' + b'}' * levels + b'}'
    status, code, message = answer(client.post(f"{BASE}/docs/upsert", data=body))
    assert (status, code) == (400, 40105)
    assert 'id="d"' in message and "nested 255 levels deep; objects and arrays may nest at most 254" in message
    assert engine.index_info("docs").vector_count == 0


def test_a_multipart_upload_is_read_a_line_at_a_time_too(http):
    client, engine = http
    body = b'{"id":"a","values":[1,0]}\n{"id":"b","values":[0,1,2]}\n{"id":"c","values":[0,1]}'
    data = {"vectors": (io.BytesIO(body), "vectors.ndjson", "application/x-ndjson")}
    status, code, message = answer(client.post(f"{BASE}/docs/insert", data=data, content_type="multipart/form-data"))
    assert (status, code) == (400, 40012) and 'id="b", expected 2 dimensions, and got 3' in message
    assert engine.index_info("docs").vector_count == 0


def test_a_multipart_vectors_field_without_a_filename_is_read_and_two_parts_refused(http):
    """`curl -F 'vectors=<file'` sends a part without a filename, refused as 'no part named "vectors"'; a
    second part of that name was left unread without a word."""
    client, engine = http
    lines = "".join(f'{{"id":"{i}","values":[1,0],"metadata":{{"t":"é{"x" * 200}"}}}}\n' for i in range(3000))
    boundary, form = encode_multipart({"vectors": lines})  # in memory: the test client's spool is never closed
    sent = client.post(f"{BASE}/docs/insert", data=form, content_type=f"multipart/form-data; boundary={boundary}")
    assert sent.status_code == 200 and len(lines) > 500_000  # werkzeug's default limit of a field
    assert engine.index_info("docs").vector_count == 3000 and engine.get_by_ids("docs", ["7"])[0].metadata == {
        "t": "é" + "x" * 200}
    two = {"vectors": [(io.BytesIO(b'{"id":"b","values":[0,1]}'), "a.ndjson"), (io.BytesIO(b""), "b.ndjson")]}
    status, code, message = answer(client.post(f"{BASE}/docs/upsert", data=two, content_type="multipart/form-data"))
    assert (status, code) == (400, 40023) and 'has 2 parts named "vectors"; send the vectors in one' in message
    assert engine.get_by_ids("docs", ["b"]) == []


def test_over_5000_vectors_are_refused_and_nothing_is_written(http):
    client, engine = http
    body = b"\n".join(b'{"id":"v%d","values":[1,0]}' % i for i in range(5001))
    status, code, message = answer(client.post(f"{BASE}/docs/upsert", data=body))
    assert (status, code) == (400, 40106) and "max is 5000" in message and "id='v5000'" in message
    assert engine.index_info("docs").vector_count == 0


ROUTES = [("GET", ""), ("DELETE", ""), ("GET", "/info"), ("POST", "/insert"), ("POST", "/upsert"),
          ("POST", "/query"), ("POST", "/get_by_ids"), ("POST", "/delete_by_ids"), ("GET", "/list"),
          ("POST", "/metadata_index/create"), ("GET", "/metadata_index/list"), ("POST", "/metadata_index/list"),
          ("POST", "/metadata_index/delete")]


@pytest.mark.parametrize("method, suffix", ROUTES)
def test_an_unknown_index_is_404_3000_and_a_deleted_one_410_3005_on_every_route(http, method, suffix):
    client, engine = http
    body = {"vector": [1, 0], "ids": ["a"], "propertyName": "g", "indexType": "string"}
    kwargs = {"data": b'{"id":"a","values":[1,0]}'} if suffix in ("/insert", "/upsert") else {"json": body}
    if method == "GET":
        kwargs = {}
    assert answer(client.open(f"{BASE}/ghost{suffix}", method=method, **kwargs)) == (
        404, 3000, 'vectorize.index.not_found - Index name "ghost"')
    engine.delete_index("docs")
    assert answer(client.open(f"{BASE}/docs{suffix}", method=method, **kwargs)) == (
        410, 3005, 'vectorize.index.deleted - Index name "docs" was deleted')


def test_a_list_count_too_long_for_int_is_40114_not_a_crash(http):
    client, _ = http
    status, code, message = answer(client.get(f"{BASE}/docs/list?count={'1' * 4301}"))
    assert (status, code) == (400, 40114) and message.startswith("count must be a whole number from 1 to 1000")


def test_metadata_nested_as_deep_as_allowed_reads_back_from_every_answer(http):
    """254 levels are stored, but orjson stops at 254 levels in all: the envelope around a record's metadata
    made get_by_ids and a query returning it answer 500."""
    client, _ = http
    deepest = b'{"a":' * 253 + b'1' + b'}' * 253
    body = b'{"id":"d","values":[1,0],"metadata":' + deepest + b'}'
    assert client.post(f"{BASE}/docs/upsert", data=body).status_code == 200
    got = client.post(f"{BASE}/docs/get_by_ids", json={"ids": ["d"]})
    assert got.status_code == 200 and wire.dumps(got.json["result"][0]["metadata"]) == deepest
    found = client.post(f"{BASE}/docs/query", json={"vector": [1, 0], "topK": 1, "returnMetadata": "all"})
    assert found.status_code == 200 and wire.dumps(found.json["result"]["matches"][0]["metadata"]) == deepest
