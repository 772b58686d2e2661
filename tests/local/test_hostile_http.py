"""The served engine under hostile or malformed HTTP, sent as raw bytes: every answer is Cloudflare's
envelope with a 4xx status, none repeats the token, and the server answers a normal request afterwards."""

from __future__ import annotations

import gzip

import pytest

from vectorize_nb.local import LocalEngine
from vectorize_nb.local.server import Server

from ..helpers import TINY
from .test_server_refusals import PATH, exchange

TOKEN = "s3cret-T0KEN"
AUTH = b"Authorization: Bearer " + TOKEN.encode()
ROW = b'{"id":"a","values":[1,0]}\n'


@pytest.fixture
def server():
    with LocalEngine(limits=TINY) as engine:
        engine.create_index("docs", dimensions=2, metric="cosine")
        with Server(engine, host="127.0.0.1", port=0, token=TOKEN).start() as server:
            yield server


def raw_request(server: Server, target: str, *headers: bytes, method: str = "GET", body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1".encode(), f"Host: 127.0.0.1:{server.port}".encode(), b"Connection: close",
             *headers]
    if body:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def still_serves(server: Server) -> bool:
    status, _, body = exchange(server, raw_request(server, f"{PATH}/docs/info", AUTH))
    return status == 200 and body["result"]["dimensions"] == 2


@pytest.mark.parametrize("head", [
    b"Authorization: Bearer " + TOKEN.encode() + b"\rX",  # waitress: Bare CR or LF found in header line "..."
    b"Authorization: Bearer " + TOKEN.encode() + b"\nX-Other: 1",
    b" Authorization: Bearer " + TOKEN.encode(),  # waitress: Malformed header line "..." (a fold with nothing above)
], ids=["bare CR", "bare LF", "fold of nothing"])
def test_a_header_waitress_cannot_read_is_not_repeated_in_the_answer(server, head):
    status, kind, body = exchange(server, f"GET {PATH} HTTP/1.1\r\n".encode() + head + b"\r\n\r\n")
    assert (status, kind, body["errors"][0]["code"]) == (400, "application/json", 40026)
    assert body["errors"][0]["message"].startswith("the request could not be read: ")
    assert TOKEN not in str(body)
    assert still_serves(server)


@pytest.mark.parametrize("route, body, content_type, coding", [
    ("docs/upsert", gzip.compress(ROW), b"application/x-ndjson", b"gzip"),
    ("docs/upsert", ROW, b"application/x-ndjson", b"br"),  # labelled compressed, sent plain: not read as plain
    ("docs/query", gzip.compress(b'{"vector":[1,0]}'), b"application/json", b"GZIP"),
    ("docs/query", b"\x1f\x8b not gzip", b"application/json", b"deflate"),
], ids=["gzip NDJSON", "plain NDJSON labelled br", "gzip JSON", "broken JSON labelled deflate"])
def test_a_compressed_body_is_415_naming_the_encoding_and_nothing_is_written(server, route, body, content_type,
                                                                             coding):
    raw = raw_request(server, f"{PATH}/{route}", AUTH, b"Content-Type: " + content_type,
                      b"Content-Encoding: " + coding, method="POST", body=body)
    status, kind, answer = exchange(server, raw)
    assert (status, kind, answer["errors"][0]["code"]) == (415, "application/json", 40026)
    assert answer["errors"][0]["message"] == (f'Content-Encoding "{coding.decode().lower()}" is not supported: '
                                              f'send the body uncompressed, with no Content-Encoding header')
    assert server.engine.index_info("docs").vector_count == 0
    assert still_serves(server)


def test_content_encoding_identity_is_a_plain_body(server):
    raw = raw_request(server, f"{PATH}/docs/upsert", AUTH, b"Content-Encoding: identity", method="POST", body=ROW)
    status, _, answer = exchange(server, raw)
    assert (status, answer["success"]) == (200, True)
    assert server.engine.index_info("docs").vector_count == 1


FORGED = "/client/v4/accounts/a%0AERROR%20forged%20line%0D/vectorize/v2/indexes"


def test_a_path_cannot_forge_a_line_of_the_servers_log(caplog, monkeypatch):
    with LocalEngine(limits=TINY) as engine, Server(engine, host="127.0.0.1", port=0).start() as server:
        refused = raw_request(server, FORGED, b"Origin: http://elsewhere.example")
        assert exchange(server, refused)[0] == 403
        monkeypatch.setattr(engine, "list_indexes", lambda: 1 / 0)
        assert exchange(server, raw_request(server, FORGED))[0] == 500
    said = [record.getMessage() for record in caplog.records if record.name == "vectorize_nb.server"]
    assert [line.split(" '")[0] for line in said] == ["refused GET", "unexpected error serving GET"]
    assert not any("\n" in line or "\r" in line for line in said)


@pytest.mark.parametrize("route, body, detail", [
    ("docs/query", b'{"vector":[1,0],"namespace":"caf\xe9"}', "not UTF-8: byte 0xe9 at offset 32"),
    ("docs/get_by_ids", b'{"ids":["\xc0\xaf"]}', "not UTF-8: byte 0xc0 at offset 9"),
    ("docs/query", '{"vector":[1,0]}'.encode("utf-16"), "not UTF-8: byte 0xff at offset 0"),
], ids=["latin-1", "overlong slash", "utf-16"])
def test_a_json_body_that_is_not_utf8_names_the_byte(server, route, body, detail):
    raw = raw_request(server, f"{PATH}/{route}", AUTH, b"Content-Type: application/json", method="POST", body=body)
    status, _, answer = exchange(server, raw)
    assert (status, answer["errors"][0]["code"]) == (400, 40026)
    assert answer["errors"][0]["message"] == f"Failed to parse the request body as JSON: {detail}"
    assert still_serves(server)
