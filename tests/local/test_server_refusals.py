"""Refusals waitress makes before the application sees a request (a body over its cap, an over-long
URL, a request it cannot parse) come back in Cloudflare's JSON envelope, like every other answer."""

from __future__ import annotations

import socket

import pytest

from vectorize_nb.contract import wire
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.server import Server

from ..helpers import TINY

PATH = "/client/v4/accounts/local/vectorize/v2/indexes"


@pytest.fixture
def server():
    limits = TINY.with_changes(max_body_bytes=1000)
    with LocalEngine(limits=limits) as engine:
        engine.create_index("docs", dimensions=2, metric="cosine")
        with Server(engine, host="127.0.0.1", port=0).start() as server:
            yield server


def exchange(server: Server, raw: bytes) -> tuple[int, str, dict]:
    """Send raw bytes, read the whole answer (waitress closes after a refusal)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(raw)
        received = b""
        while chunk := conn.recv(1 << 16):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers["Content-Type"], wire.loads(body)


def request(server: Server, target: str, *extra: str, method: str = "POST") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Connection: close", *extra, "", ""]
    return "\r\n".join(lines).encode()


def test_a_body_over_waitress_cap_is_413_in_the_envelope(server):
    status, kind, body = exchange(server, request(server, f"{PATH}/docs/upsert", "Content-Length: 5000000"))
    assert (status, kind, body["success"], body["result"]) == (413, "application/json", False, None)
    assert body["errors"] == [{"code": 40107, "message": "request body too large; max is 1000 bytes"}]


def test_an_over_long_url_is_431_in_the_envelope(server):
    # just over waitress's 256 KiB, so that it has read the whole request when it answers (a request it
    # stops reading would leave bytes behind, and closing on them resets the connection)
    status, kind, body = exchange(server, request(server, f"{PATH}/docs/list?cursor={'x' * 262_144}", method="GET"))
    assert (status, kind) == (431, "application/json")
    assert body["errors"][0]["code"] == 40107 and "request line and headers too large" in body["errors"][0]["message"]


def test_a_request_waitress_cannot_read_is_400_in_the_envelope(server):
    raw = request(server, f"{PATH}/docs/upsert", "Transfer-Encoding: chunked") + b"zz\r\nnot a chunk\r\n"
    status, kind, body = exchange(server, raw)
    assert (status, kind, body["success"]) == (400, "application/json", False)
    assert body["errors"][0]["code"] == 40026 and body["errors"][0]["message"].startswith("the request could not")


@pytest.mark.parametrize("encoding", ["gzip", "identity", "gzip, chunked"])
def test_a_transfer_encoding_waitress_does_not_take_is_400_not_an_internal_error(server, encoding):
    raw = request(server, f"{PATH}/docs/upsert", f"Transfer-Encoding: {encoding}") + b"0\r\n\r\n"
    status, kind, body = exchange(server, raw)
    assert (status, kind, body["errors"][0]["code"]) == (400, "application/json", 40026), body
    assert body["errors"][0]["message"].startswith("the request could not be read")
    assert server.engine.index_info("docs").vector_count == 0


def test_a_body_over_the_limit_but_under_waitress_cap_is_the_applications_400(server):
    ndjson = b"\n".join(b'{"id":"v%d","values":[1,0]}' % i for i in range(100))
    raw = request(server, f"{PATH}/docs/upsert", f"Content-Length: {len(ndjson)}") + ndjson
    status, kind, body = exchange(server, raw)
    assert (status, kind, body["errors"][0]["code"]) == (400, "application/json", 40107)
    assert server.engine.index_info("docs").vector_count == 0


def ndjson_of(size: int) -> bytes:
    """One vector, padded with blank lines to `size` bytes."""
    line = b'{"id":"edge","values":[1,0]}'
    return line + b"\n" * (size - len(line))


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_of_exactly_the_limit_is_taken_and_one_byte_more_refused(server, chunked):
    def send(body: bytes) -> tuple[int, str, dict]:
        if chunked:
            framing, data = "Transfer-Encoding: chunked", b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        else:
            framing, data = f"Content-Length: {len(body)}", body
        return exchange(server, request(server, f"{PATH}/docs/upsert", framing) + data)

    status, _, body = send(ndjson_of(1001))
    assert (status, body["errors"][0]["code"]) == (400, 40107)
    assert body["errors"][0]["message"] == "request body too large; max is 1000 bytes, got 1001 bytes"
    assert server.engine.index_info("docs").vector_count == 0
    status, _, body = send(ndjson_of(1000))
    assert (status, body["success"]) == (200, True)
    assert server.engine.index_info("docs").vector_count == 1


@pytest.mark.parametrize("port", ["\u00b2", "1" * 4301], ids=["a superscript digit", "4,301 digits"])
def test_a_host_whose_port_is_no_decimal_number_is_refused_not_a_crash(server, port):
    """`int(port) if port.isdigit()` took "²" for a digit, and int() refuses over 4,300 digits: both were 500."""
    raw = request(server, PATH, method="GET").replace(f"Host: 127.0.0.1:{server.port}".encode(),
                                                      f"Host: 127.0.0.1:{port}".encode("latin-1"))
    status, kind, body = exchange(server, raw)
    assert (status, body["errors"][0]["code"]) == (403, 10000)
    assert "is not this server's loopback name" in body["errors"][0]["message"]
