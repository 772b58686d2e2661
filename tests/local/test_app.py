"""The HTTP face of the local engine: routes, content types, statuses and envelopes."""

import io

import pytest
import requests
from werkzeug.test import Client

from vectorize_nb.contract import wire
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.app import VectorizeApp
from vectorize_nb.local.server import serve

from ..helpers import TINY

BASE = "/client/v4/accounts/0123abc/vectorize/v2/indexes"
NDJSON = b'{"id":"a","values":[1,0],"metadata":{"g":"x"}}\n{"id":"b","values":[0,1],"namespace":"n"}\n'


@pytest.fixture
def http():
    engine = LocalEngine(limits=TINY)
    client = Client(VectorizeApp(engine, limits=TINY))
    client.post(BASE, json={"name": "docs", "config": {"dimensions": 2, "metric": "cosine"}})
    yield client, engine
    engine.close()


def envelope(response):
    return response.status_code, wire.loads(response.data)


def test_success_envelope(http):
    client, _ = http
    status, body = envelope(client.get(BASE))
    assert status == 200 and body["success"] is True and body["errors"] == [] and body["messages"] == []
    assert body["result"][0]["config"] == {"dimensions": 2, "metric": "cosine"}
    assert "result_info" not in body


@pytest.mark.parametrize("content_type", ["application/x-ndjson", "application/json", "text/plain", None])
def test_raw_ndjson_is_accepted_under_any_content_type(http, content_type):
    client, engine = http
    headers = {} if content_type is None else {"Content-Type": content_type}
    status, body = envelope(client.post(f"{BASE}/docs/upsert", data=NDJSON, headers=headers))
    assert status == 200 and len(body["result"]["mutationId"]) == 36
    assert engine.index_info("docs").vector_count == 2


def test_multipart_vectors_part_as_wrangler_sends_it(http):
    client, engine = http
    data = {"vectors": (io.BytesIO(NDJSON), "vectors.ndjson", "application/x-ndjson")}
    status, _ = envelope(client.post(f"{BASE}/docs/insert", data=data, content_type="multipart/form-data"))
    assert status == 200 and [r.id for r in engine.get_by_ids("docs", ["a", "b"])] == ["a", "b"]


def test_unparsable_behavior(http):
    client, engine = http
    bad = NDJSON + b"{not json}\n"
    status, body = envelope(client.post(f"{BASE}/docs/upsert", data=bad))
    assert (status, body["errors"][0]["code"]) == (400, 40023)
    assert engine.index_info("docs").vector_count == 0
    status, _ = envelope(client.post(f"{BASE}/docs/upsert?unparsable-behavior=discard", data=bad))
    assert status == 200 and engine.index_info("docs").vector_count == 2


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8;",
                                          "application/json;charset=UTF-8"])
def test_json_with_charset_parameters_and_unknown_headers(http, content_type):
    client, _ = http
    client.post(f"{BASE}/docs/upsert", data=NDJSON)
    headers = {"Content-Type": content_type, "api-version": "2026-11-25", "X-Stainless-Lang": "python",
               "cf-whatever": "1"}
    status, body = envelope(client.post(f"{BASE}/docs/query", data=b'{"vector":[1,0],"topK":1}', headers=headers))
    assert status == 200 and body["result"]["matches"][0]["id"] == "a"


def test_a_json_endpoint_without_json_is_40026(http):
    client, _ = http
    status, body = envelope(client.post(f"{BASE}/docs/query", data=b"vector=1", content_type="text/plain"))
    assert (status, body["errors"][0]) == (400, {"code": 40026, "message":
                                                 "Expected request with `Content-Type: application/json`"})
    status, body = envelope(client.post(f"{BASE}/docs/query", data=b"{oops", content_type="application/json"))
    assert status == 400 and body["errors"][0]["message"].startswith("Failed to parse the request body as JSON")


def test_metadata_index_list_on_get_and_post(http):
    client, _ = http
    client.post(f"{BASE}/docs/metadata_index/create", json={"propertyName": "g", "indexType": "string"})
    for method in (client.get, client.post):
        status, body = envelope(method(f"{BASE}/docs/metadata_index/list"))
        assert status == 200 and body["result"] == {"metadataIndexes": [{"propertyName": "g", "indexType": "string"}]}


def test_delete_with_an_empty_json_body_as_the_sdk_sends_it(http):
    client, engine = http
    status, body = envelope(client.delete(f"{BASE}/docs", data=b"", content_type="application/json"))
    assert (status, body["result"]) == (200, None) and engine.list_indexes() == []


@pytest.mark.parametrize("method, path", [("GET", "/client/v4/nowhere"), ("GET", f"{BASE}/docs/query"),
                                          ("PUT", f"{BASE}/docs"), ("GET", BASE.replace("/v2/", "/v1/"))])
def test_unknown_routes_are_404_7003(http, method, path):
    client, _ = http
    status, body = envelope(client.open(path, method=method))
    assert (status, body["success"]) == (404, False)
    assert body["errors"] == [{"code": 7003, "message": "No route for the URI"}]


def test_the_accounts_wrangler_asks_for_without_an_account_id(http):
    client, _ = http
    status, body = envelope(client.get("/client/v4/memberships?page=1"))
    assert status == 200 and body["result"][0]["account"]["id"] == "local"
    assert envelope(client.get("/client/v4/accounts"))[1]["result"] == [{"id": "local", "name": "vectorize-nb local"}]


def test_errors_travel_with_their_status(http):
    client, _ = http
    status, body = envelope(client.get(f"{BASE}/ghost/info"))
    assert (status, body["errors"][0]["code"], body["result"]) == (404, 3000, None)
    client.delete(f"{BASE}/docs")
    status, body = envelope(client.get(f"{BASE}/docs"))
    assert (status, body["errors"][0]["code"]) == (410, 3005)


def test_list_vectors_query_parameters(http):
    client, _ = http
    client.post(f"{BASE}/docs/upsert", data=NDJSON)
    status, body = envelope(client.get(f"{BASE}/docs/list?count=1"))
    assert status == 200 and body["result"]["vectors"] == [{"id": "a"}] and body["result"]["isTruncated"]
    status, body = envelope(client.get(f"{BASE}/docs/list?count=1&cursor={body['result']['nextCursor']}"))
    assert body["result"]["vectors"] == [{"id": "b"}] and body["result"]["nextCursor"] is None
    for count in ("many", "+1", "1_0", "%201%20", "\uff11", "1.0", ""):
        status, body = envelope(client.get(f"{BASE}/docs/list?count={count}"))
        assert (status, body["errors"][0]["code"]) == (400, 40114), count


def test_a_body_over_the_limit_is_rejected_with_an_envelope():
    limits = TINY.with_changes(max_body_bytes=100)
    with LocalEngine(limits=limits) as engine:
        engine.create_index("small", dimensions=2, metric="cosine")
        client = Client(VectorizeApp(engine, limits=limits))
        status, body = envelope(client.post(f"{BASE}/small/upsert", data=NDJSON * 10))
        assert (status, body["errors"][0]["code"]) == (400, 40107)
        assert engine.index_info("small").vector_count == 0


def test_a_token_when_configured():
    with LocalEngine(limits=TINY) as engine:
        client = Client(VectorizeApp(engine, token="t0ken", limits=TINY))
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic t0ken"}):
            status, body = envelope(client.get(BASE, headers=headers))
            assert (status, body["errors"]) == (401, [{"code": 10000, "message": "Authentication error"}])
            assert b"t0ken" not in client.get(BASE, headers=headers).data
        assert client.get(BASE, headers={"Authorization": "Bearer t0ken"}).status_code == 200


def test_serve_runs_on_a_real_socket_and_stops():
    with serve(memory=True, limits=TINY) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/client/v4")
        response = requests.get(f"{server.url}/accounts/any/vectorize/v2/indexes", timeout=10)
        assert response.status_code == 200 and response.json()["result"] == []
        assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/accounts/any/vectorize/v2/indexes", timeout=2)


# The stand-in runs the loop's part on this thread, so the loop's own thread may meet the sockets it closes
# in its select (EBADF) and end on that: an artefact of the stand-in, as the real loop runs it itself.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_stopping_survives_the_loop_running_the_stop_before_the_pull_writes(monkeypatch):
    """The loop may already be awake, take the stop from the trigger's list and run it before the thread
    that pulled the trigger writes its byte to the pipe: the pipe must still be open then."""
    server = serve(memory=True, limits=TINY)
    trigger = server._wsgi.trigger
    write = trigger._physical_pull

    def loop_runs_first():
        for thunk in trigger.thunks:
            thunk()
        write()

    monkeypatch.setattr(trigger, "_physical_pull", loop_runs_first)
    server.close()
    assert not server._wsgi._map
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/accounts/any/vectorize/v2/indexes", timeout=2)
