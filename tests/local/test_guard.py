"""`vectorize-nb serve` in a browser's neighbourhood: without a token, web pages (an Origin the user
did not allow, or a Host that is not the server's loopback name) are refused and write nothing;
programs (requests, Cloudflare's SDK, langchain-cloudflare) keep working; a server on another
address than loopback needs a token or a flag that says it is on purpose."""

from __future__ import annotations

import contextlib
import io
import socket
import traceback
import warnings

import numpy as np
import pytest
import requests
from werkzeug.test import Client

from vectorize_nb.contract import errors, wire
from vectorize_nb.cli import main
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.app import VectorizeApp
from vectorize_nb.local.guard import is_loopback, normalise_origin
from vectorize_nb.local.server import Server, serve

from ..helpers import TINY

BASE = "/client/v4/accounts/local/vectorize/v2/indexes"
NDJSON = b'{"id":"a","values":[1,0]}\n{"id":"b","values":[0,1]}'
PAGE = "http://evil.example"


@pytest.fixture
def engine():
    with LocalEngine(limits=TINY) as engine:
        engine.create_index("docs", dimensions=2, metric="cosine")
        yield engine


@pytest.fixture
def server(engine):
    with Server(engine, host="127.0.0.1", port=0, allowed_origins=["http://localhost:3000"]).start() as server:
        yield server


def refusal(response: requests.Response) -> tuple[int, int, str]:
    body = response.json()
    assert body["success"] is False and body["result"] is None
    return response.status_code, body["errors"][0]["code"], body["errors"][0]["message"]


def test_a_drive_by_text_plain_upsert_from_a_page_is_refused_and_writes_nothing(server, engine):
    response = requests.post(f"{server.url}/accounts/local/vectorize/v2/indexes/docs/upsert", data=NDJSON,
                             headers={"Content-Type": "text/plain", "Origin": PAGE}, timeout=10)
    status, code, message = refusal(response)
    assert (status, code) == (403, 10000)
    assert f"Origin '{PAGE}' is not allowed" in message and f"--allow-origin {PAGE}" in message
    assert engine.index_info("docs").vector_count == 0
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:{other}", "localhost",
                                  "127.0.0.1.evil.example:{port}"])
def test_a_request_for_another_host_is_refused_dns_rebinding(server, engine, host):
    host = host.format(port=server.port, other=server.port + 1)
    for method, path, data in [("GET", "", None), ("GET", "/docs/info", None), ("POST", "/docs/upsert", NDJSON)]:
        response = requests.request(method, f"{server.url}/accounts/local/vectorize/v2/indexes{path}", data=data,
                                    headers={"Host": host}, timeout=10)
        status, code, message = refusal(response)
        assert (status, code) == (403, 10000) and f"Host '{host}' is not this server's loopback name" in message
        assert f"on port {server.port}" in message
    assert engine.index_info("docs").vector_count == 0


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LOCALHOST:{port}"])
def test_loopback_names_with_the_servers_port_are_answered(server, host):
    response = requests.get(f"{server.url}/accounts/local/vectorize/v2/indexes",
                            headers={"Host": host.format(port=server.port)}, timeout=10)
    assert response.status_code == 200 and response.json()["result"][0]["name"] == "docs"


def test_an_allowed_origin_gets_cors_headers_and_preflight_answers(server, engine):
    origin = "http://localhost:3000"
    url = f"{server.url}/accounts/local/vectorize/v2/indexes/docs/upsert"
    preflight = requests.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "content-type"}, timeout=10)
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    response = requests.post(url, data=NDJSON, headers={"Origin": origin, "Content-Type": "application/x-ndjson"},
                             timeout=10)
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == origin
    assert engine.index_info("docs").vector_count == 2
    refused = requests.options(url, headers={"Origin": PAGE, "Access-Control-Request-Method": "POST"}, timeout=10)
    assert refusal(refused)[:2] == (403, 10000)


def test_with_a_token_the_token_decides_and_pages_cannot_have_it(engine):
    client = Client(VectorizeApp(engine, token="t0ken", limits=TINY))
    page = client.post(f"{BASE}/docs/upsert", data=NDJSON, headers={"Origin": PAGE, "Content-Type": "text/plain"})
    assert page.status_code == 401 and engine.index_info("docs").vector_count == 0
    holder = client.post(f"{BASE}/docs/upsert", data=NDJSON, headers={"Authorization": "Bearer t0ken",
                                                                      "Host": "my-laptop.lan:8787"})
    assert holder.status_code == 200 and engine.index_info("docs").vector_count == 2


def test_a_wildcard_address_accepts_any_host_but_still_refuses_pages(engine):
    client = Client(VectorizeApp(engine, limits=TINY, host="0.0.0.0", port=8787))
    assert client.get(BASE, headers={"Host": "my-laptop.lan:8787"}).status_code == 200
    assert client.get(BASE, headers={"Origin": PAGE}).status_code == 403


def test_serving_another_address_without_a_token_needs_the_flag(engine):
    with pytest.raises(errors.ConfigurationError) as refused:
        Server(engine, host="0.0.0.0", port=0)
    assert "--allow-remote-without-token" in str(refused.value) and "0.0.0.0" in str(refused.value)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert main(["serve", "--memory", "--host", "192.0.2.1", "--port", "0"]) == 2
    assert "refusing to serve on 192.0.2.1 without a token" in stderr.getvalue()
    assert "--allow-remote-without-token" in stderr.getvalue()
    with contextlib.redirect_stderr(stderr):
        assert main(["serve", "--memory", "--allow-origin", "localhost:3000"]) == 2
    assert "http://localhost:3000 (no path)" in stderr.getvalue()


@pytest.mark.parametrize("token", ["", "  "])
def test_an_empty_token_is_no_token_so_pages_and_remote_hosts_are_still_refused(engine, token):
    client = Client(VectorizeApp(engine, token=token, limits=TINY))
    page = client.post(f"{BASE}/docs/upsert", data=NDJSON,
                       headers={"Origin": PAGE, "Content-Type": "text/plain", "Authorization": "Bearer"})
    assert page.status_code == 403 and engine.index_info("docs").vector_count == 0
    assert client.get(BASE).status_code == 200  # a program without any Authorization header is answered
    with pytest.raises(errors.ConfigurationError, match="refusing to serve on 0.0.0.0 without a token"):
        Server(engine, host="0.0.0.0", port=0, token=token)
    with Server(engine, host="127.0.0.1", port=0, token=token) as server:
        assert server.token_required is False


def test_help_says_the_token_is_best_given_in_the_environment(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "$VECTORIZE_NB_SERVE_TOKEN" in help_text and "visible to other users in ps" in help_text
    assert "--allow-origin ORIGIN" in help_text and "--allow-remote-without-token" in help_text


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True),
                                            ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("::", False),
                                            ("192.168.1.5", False), ("my-laptop.lan", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("origin", ["localhost:3000", "http://localhost:3000/app", "ftp://x", "http://"])
def test_an_allowed_origin_is_an_origin(origin):
    with pytest.raises(ValueError, match="no path"):
        normalise_origin(origin)
    assert normalise_origin("HTTP://LocalHost:3000/") == "http://localhost:3000"


# --- real clients send no Origin and a loopback Host ----------------------------------------------

def test_requests_and_the_rest_backend_work_without_a_token(server):
    import vectorize_nb as vz

    with vz.connect(server.url, timeout=10, max_retries=0) as client:
        index = client.get_index("docs")
        index.upsert(["x"], np.array([[1.0, 0.0]], np.float32))
        assert index.query([1.0, 0.0], top_k=1)["id"].tolist() == ["x"]


def test_cloudflares_python_sdk_works_without_a_token(server):
    cloudflare = pytest.importorskip("cloudflare")
    sdk = cloudflare.Cloudflare(api_token="unused", base_url=server.url, max_retries=0)
    try:
        sdk.vectorize.indexes.create(account_id="local", name="sdk", config={"dimensions": 32, "metric": "cosine"})
        with warnings.catch_warnings():  # SDK 5.9 warns that raw bytes will go in another argument one day
            warnings.simplefilter("ignore", DeprecationWarning)
            mutation = sdk.vectorize.indexes.upsert(
                "sdk", account_id="local", body=b'{"id":"a","values":[%s]}' % b",".join([b"0.5"] * 32),
                extra_headers={"Content-Type": "application/x-ndjson"})
        assert len(mutation.mutation_id) == 36
        found = sdk.vectorize.indexes.query("sdk", account_id="local", vector=[0.5] * 32, top_k=1)
        assert [m.id for m in found.matches] == ["a"]
        with pytest.raises(cloudflare.NotFoundError):
            sdk.vectorize.indexes.get("ghost", account_id="local")
    finally:
        sdk.close()


def test_langchain_cloudflare_creates_an_index_after_a_404(server, engine):
    with warnings.catch_warnings():  # its imports warn about their own dependencies
        warnings.simplefilter("ignore")
        vectorstores = pytest.importorskip("langchain_cloudflare.vectorstores")
        from langchain_core.embeddings import FakeEmbeddings
    store = vectorstores.CloudflareVectorize(embedding=FakeEmbeddings(size=32), account_id="local",
                                             api_token="unused", base_url=server.url)
    created = store.create_index(dimensions=32, metric="cosine", index_name="langchain", include_d1=False)
    assert created["name"] == "langchain" and created["config"] == {"dimensions": 32, "metric": "cosine"}
    assert engine.get_index("langchain").dimensions == 32
    engine.delete_index("langchain")  # a deleted index answers 410, which it also takes as "create it"
    assert store.create_index(dimensions=32, index_name="langchain", include_d1=False)["name"] == "langchain"
    with pytest.raises(ValueError, match="already exists"):
        store.create_index(dimensions=32, index_name="langchain", include_d1=False)


def test_the_openapi_document_is_served(server):
    response = requests.get(f"{server.url}/openapi.json", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    document = wire.loads(response.content)
    assert document["openapi"].startswith("3.") and document["servers"][0]["url"] == "/client/v4"
    assert "/accounts/{account_id}/vectorize/v2/indexes/{index_name}/upsert" in document["paths"]


def test_serve_keeps_its_keyword_arguments():
    with serve(memory=True, limits=TINY, allowed_origins=["http://localhost:5173"]) as running:
        response = requests.get(f"{running.url}/accounts/local/vectorize/v2/indexes",
                                headers={"Origin": "http://localhost:5173"}, timeout=10)
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


def test_a_servers_token_is_in_no_frames_locals_nor_in_its_guards_vars():
    """serve(token=...) refused (the port taken) showed the token in the locals of serve, open_server and
    Server.__init__ to a traceback that prints them (IPython's %xmode Verbose); the guard kept it in clear."""
    token = "SERVE-abc123XYZ"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(errors.ConfigurationError, match="in use") as refused:
            serve(memory=True, port=taken.getsockname()[1], token=token)
    shown = "".join(traceback.TracebackException(type(refused.value), refused.value,
                                                 refused.value.__traceback__.tb_next, capture_locals=True).format())
    assert "serve" in shown and token not in shown
    with pytest.raises(errors.ConfigurationError, match="cannot carry") as unfit:  # refused itself: no local holds it
        serve(memory=True, port=0, token=token + "\nx")
    shown = "".join(traceback.TracebackException(type(unfit.value), unfit.value, unfit.value.__traceback__.tb_next,
                                                 capture_locals=True).format())
    assert "serve" in shown and token not in shown
    guard = VectorizeApp(LocalEngine(limits=TINY), token=token).guard
    assert token not in repr(vars(guard)) and "Secret(***)" in repr(vars(guard))
    with serve(memory=True, port=0, token=token) as server:
        indexes = server.url + BASE.removeprefix("/client/v4")
        answered = requests.get(indexes, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        refused_answer = requests.get(indexes, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert answered.status_code == 200 and refused_answer.status_code == 401
