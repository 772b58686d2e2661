"""Fault injection for the REST client: a WSGI middleware over the real VectorizeApp that answers
chosen requests with scripted faults, a waitress server for it, and a TCP proxy that drops chosen
connections mid-request.

    with FaultRig(engine) as rig:                       # 127.0.0.1, port 0; stops by itself
        rig.app.script("upsert", Reply(429, code=40041, retry_after="1"))   # 1st upsert: 429, then pass
        rig.app.always("info", Reply(503))              # every info request: 503 (until rig.app.heal())
        client = rig.client(max_retries=2)              # short timeouts and backoff
        proxy = rig.proxy(drop={3}, mode="before_response")   # requests through it: the 3rd one dropped

    with TrickleServer(interval=0.05) as slow:         # answers every request a byte at a time
        client = vz.connect(slow.url, timeout=1, max_retries=0)

Requests are counted per operation: the path after the index name ("upsert", "info", "get_by_ids",
"metadata_index/list"...), "index" for /indexes/<name> and "indexes" for /indexes itself; Workers AI's
"ai/run" (any model) and "ai/v1/embeddings". The bodies of the operations in `app.keep_bodies` are kept
in `Seen.body`; `app.peak` is the most requests handled at once.
"""

from __future__ import annotations

import contextlib
import io
import selectors
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from collections.abc import Callable, Iterable

import orjson
from waitress.server import create_server

from vectorize_nb.client import Client
from vectorize_nb.local.app import VectorizeApp
from vectorize_nb.local.engine import LocalEngine
from vectorize_nb.local.server import stop_serving
from vectorize_nb.rest import connect_rest

__all__ = ["Pass", "Reply", "Swallow", "Stall", "Seen", "FaultyApp", "FaultServer", "DropProxy", "FaultRig",
           "TrickleServer", "operation_of"]

_MARK = "/vectorize/v2/indexes"


def operation_of(path: str) -> str:
    """'upsert' for .../indexes/docs/upsert, 'index' for .../indexes/docs, 'indexes' for .../indexes,
    'ai/run' for .../ai/run/<model>, 'ai/v1/embeddings' for .../ai/v1/embeddings."""
    for ai in ("/ai/run/", "/ai/v1/embeddings"):
        if ai in path:
            return ai.strip("/")
    _, found, tail = path.partition(_MARK)
    parts = [p for p in tail.split("/") if p] if found else []
    if not parts:
        return "indexes" if found else path
    return "/".join(parts[1:]) or "index"


def _drain(environ: dict[str, Any]) -> None:
    """Read (and drop) the request body, as a server that answers without looking at it would."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    while length > 0:
        chunk = stream.read(min(length, 1 << 16))
        if not chunk:
            break
        length -= len(chunk)


def _keep(environ: dict[str, Any]) -> bytes:
    """Read the request body, and put it back for whoever handles the request."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    return bytes(body)


# --- actions: what the middleware does with one request -------------------------------------------

class Pass:
    """Hand the request to the real application."""

    name = "pass"

    def respond(self, owner: FaultyApp, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return owner.app(environ, start_response)


@dataclass
class Reply:
    """Answer with `status` and Cloudflare's error envelope (or a raw `body`), without touching the engine."""

    status: int
    code: int | None = None
    message: str = "injected fault"
    retry_after: str | None = None
    body: bytes | None = None
    content_type: str = "application/json"

    @property
    def name(self) -> str:
        return f"reply {self.status}" + (f"/{self.code}" if self.code is not None else "")

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        error: dict[str, Any] = {"message": self.message}
        if self.code is not None:
            error["code"] = self.code
        return orjson.dumps({"result": None, "success": False, "errors": [error], "messages": []})

    def respond(self, owner: FaultyApp, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        _drain(environ)
        return self.send(start_response)

    def send(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = self.payload()
        headers = [("Content-Type", self.content_type), ("Content-Length", str(len(body)))]
        if self.retry_after is not None:
            headers.append(("Retry-After", self.retry_after))
        start_response(f"{self.status} {HTTPStatus(self.status).phrase}", headers)
        return [body]


@dataclass
class Swallow:
    """Let the application do the work (a write is applied), then lose its answer and send `reply`."""

    reply: Reply = field(default_factory=lambda: Reply(500))

    @property
    def name(self) -> str:
        return f"swallow then {self.reply.name}"

    def respond(self, owner: FaultyApp, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = owner.app(environ, lambda status, headers, exc_info=None: None)
        try:
            for _ in answer:
                pass
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        return self.reply.send(start_response)


@dataclass
class Stall:
    """Wait `seconds` (cut short when the rig shuts down), then do `then`: a slow server."""

    seconds: float
    then: Any = field(default_factory=lambda: Reply(504))

    @property
    def name(self) -> str:
        return f"stall {self.seconds:g}s then {self.then.name}"

    def respond(self, owner: FaultyApp, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        owner.release.wait(self.seconds)
        return self.then.respond(owner, environ, start_response)


PASS = Pass()


@dataclass(frozen=True)
class Seen:
    """One request the middleware received: its number among requests of that operation."""

    number: int
    method: str
    operation: str
    at: float
    action: str
    body: bytes = b""


class FaultyApp:
    """WSGI middleware: scripted faults per operation, in front of the real application."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.release = threading.Event()
        self.seen: list[Seen] = []
        self._scripts: dict[str, deque[Any]] = {}
        self._always: dict[str, Any] = {}
        self._lock = threading.Condition()
        self._in_flight = 0
        self.keep_bodies: set[str] = set()
        self.peak = 0

    def script(self, operation: str, *actions: Any) -> FaultyApp:
        """The next requests of `operation` get these actions, in order; later ones the default."""
        with self._lock:
            self._scripts.setdefault(operation, deque()).extend(actions)
        return self

    def always(self, operation: str, action: Any) -> FaultyApp:
        """Every request of `operation` past its script gets `action` (until `heal`)."""
        with self._lock:
            self._always[operation] = action
        return self

    def heal(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._always.clear()

    def requests(self, operation: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.operation == operation]

    def count(self, operation: str) -> int:
        return len(self.requests(operation))

    def actions(self, operation: str) -> list[str]:
        return [s.action for s in self.requests(operation)]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled (e.g. stalls released); False if `timeout` passed."""
        with self._lock:
            return self._lock.wait_for(lambda: self._in_flight == 0, timeout)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        operation = operation_of(environ.get("PATH_INFO", ""))
        body = _keep(environ) if operation in self.keep_bodies else b""
        with self._lock:
            queue = self._scripts.get(operation)
            action = queue.popleft() if queue else self._always.get(operation, PASS)
            number = sum(1 for s in self.seen if s.operation == operation) + 1
            self.seen.append(Seen(number, environ["REQUEST_METHOD"], operation, time.monotonic(), action.name, body))
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        try:
            # materialise the answer here so that "in flight" covers all the work the request does
            answer = action.respond(self, environ, start_response)
            try:
                return [b"".join(answer)]
            finally:
                close = getattr(answer, "close", None)
                if close is not None:
                    close()
        finally:
            with self._lock:
                self._in_flight -= 1
                self._lock.notify_all()


class FaultServer:
    """waitress serving a WSGI app on 127.0.0.1, a free port, in a daemon thread."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *, threads: int = 8) -> None:
        self._wsgi = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="faults")
        self.port = int(self._wsgi.effective_port)
        self.url = f"http://127.0.0.1:{self.port}/client/v4"
        self._thread = threading.Thread(target=self._wsgi.run, name="faults-serve", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            stop_serving(self._wsgi, self._thread)
            self._thread = None


# --- a TCP proxy that drops chosen requests -------------------------------------------------------

DROP_MODES = ("mid_body", "before_response", "mid_response")


class _RequestReader:
    """Splits the bytes a client sends into whole HTTP/1.1 requests (Content-Length bodies only)."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[tuple[bytes, int, str]]:
        """Whole requests now complete: (raw bytes, length of the head, request line)."""
        self.buffer += data
        done = []
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return done
            head = self.buffer[:end + 4]
            lines = head.decode("latin-1").split("\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
                elif name.strip().lower() == "transfer-encoding":
                    raise ValueError("the drop proxy handles Content-Length bodies only")
            total = len(head) + length
            if len(self.buffer) < total:
                return done
            done.append((self.buffer[:total], len(head), lines[0]))
            self.buffer = self.buffer[total:]


@dataclass(frozen=True)
class Relayed:
    number: int
    request_line: str
    dropped: bool

    @property
    def operation(self) -> str:
        parts = self.request_line.split(" ")
        return operation_of(parts[1].split("?")[0]) if len(parts) > 1 else ""


class _Listener:
    """A TCP listener on 127.0.0.1 (port 0) that hands each connection to `_handle` in its own thread,
    and stops (joining those threads) on close."""

    name = "listener"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/client/v4"
        self._acceptor = threading.Thread(target=self._accept, name=self.name, daemon=True)
        self._acceptor.start()

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._handle, args=(conn,), name=f"{self.name}-conn", daemon=True)
            self._threads.append(thread)
            thread.start()

    def close(self) -> None:
        self._stop.set()
        self._acceptor.join(timeout=5)
        self._listener.close()
        for thread in list(self._threads):
            thread.join(timeout=5)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DropProxy(_Listener):
    """Forwards TCP connections to 127.0.0.1:`upstream`, except that the requests numbered in `drop`
    (1-based, over all connections, in arrival order) are cut off:

    - "mid_body": the head and half the body are forwarded, then both sides are closed (the server
      never gets the whole request, so nothing is applied);
    - "before_response": the whole request is forwarded and the server's answer awaited, then both
      sides are closed before any byte of it reaches the client (the write is applied, the client
      cannot know);
    - "mid_response": as before_response, but the head and a part of the body of the answer reach
      the client before the connection closes.

    `drop` may also be a callable taking (number, request_line).
    """

    name = "drop-proxy"

    def __init__(self, upstream: int, drop: Any = (), mode: str = "before_response") -> None:
        if mode not in DROP_MODES:
            raise ValueError(f"mode is one of {DROP_MODES}, got {mode!r}")
        self.upstream = upstream
        self.mode = mode
        self._drop = drop if callable(drop) else (lambda n, line, chosen=frozenset(drop): n in chosen)
        self.relayed: list[Relayed] = []
        super().__init__()

    @property
    def dropped(self) -> list[int]:
        with self._lock:
            return [r.number for r in self.relayed if r.dropped]

    def requests(self, operation: str) -> list[Relayed]:
        with self._lock:
            return [r for r in self.relayed if r.operation == operation]

    def _handle(self, client: socket.socket) -> None:
        upstream = None
        try:
            client.settimeout(5)
            upstream = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
            self._relay(client, upstream)
        except OSError:
            pass  # either side went away: the connection simply ends, as it would on a real network
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        reader = _RequestReader()
        dropping = False
        answer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.05):
                    sock = key.fileobj
                    data = sock.recv(1 << 16)  # type: ignore[union-attr]
                    if not data:
                        return
                    if sock is upstream:
                        if not dropping:
                            client.sendall(data)
                            continue
                        if self.mode == "before_response":
                            return  # the answer exists; the client never gets a byte of it
                        answer += data
                        end = answer.find(b"\r\n\r\n") + 4
                        if end >= 4 and len(answer) > end:  # the head and some of the body are here
                            client.sendall(answer[:end + (len(answer) - end) // 2])
                            return
                        continue
                    for raw, head, line in reader.feed(data):
                        with self._lock:
                            number = len(self.relayed) + 1
                            drop = bool(self._drop(number, line))
                            self.relayed.append(Relayed(number, line, drop))
                        if drop and self.mode == "mid_body":
                            upstream.sendall(raw[:head + (len(raw) - head) // 2])
                            return
                        upstream.sendall(raw)
                        dropping = dropping or drop


# --- a server that answers a byte at a time ----------------------------------------------------------

class TrickleServer(_Listener):
    """A raw HTTP server on 127.0.0.1 (port 0) that reads each request whole, then sends its answer
    (by default a success envelope holding an empty list, `padding` blanks after it), head included,
    one byte every `interval` seconds: every socket read of the client succeeds, so only an overall
    deadline can end the call. `sent` counts the bytes each connection got before it ended.
    """

    name = "trickle"

    def __init__(self, interval: float = 1.0, body: bytes = b'{"result":[],"success":true,"errors":[],"messages":[]}',
                 padding: int = 0) -> None:
        body = body + b" " * padding  # JSON allows trailing blanks: a longer trickle of the same answer
        self.answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                       b"Connection: close\r\n\r\n%b" % (len(body), body))
        self.interval = interval
        self.sent: list[int] = []
        super().__init__()

    def _handle(self, conn: socket.socket) -> None:
        sent = 0
        try:
            conn.settimeout(5)
            reader = _RequestReader()
            while not reader.feed(data := conn.recv(1 << 16)):
                if not data:
                    return
            for byte in self.answer:
                if self._stop.wait(self.interval):
                    break
                conn.sendall(bytes([byte]))
                sent += 1
        except (OSError, ValueError):
            pass  # the client went away: what matters is how much it was sent
        finally:
            with self._lock:
                self.sent.append(sent)
            conn.close()


# --- all of it together ---------------------------------------------------------------------------

class FaultRig:
    """An engine behind FaultyApp behind FaultServer, plus clients and proxies that close with it."""

    def __init__(self, engine: LocalEngine, *, token: str | None = None, threads: int = 8) -> None:
        self.engine = engine
        self.app = FaultyApp(VectorizeApp(engine, token, engine.limits))
        self.server = FaultServer(self.app, threads=threads)
        self.url = self.server.url
        self._closers: list[Callable[[], None]] = []

    def client(self, url: str | None = None, *, timeout: float = 5.0, max_retries: int = 2, backoff: float = 0.01,
               concurrency: int = 1, api_token: str | None = None, requests_per_window: int = 10_000,
               window_seconds: float = 1.0, total_timeout: float = 120.0) -> Client:
        backend, label = connect_rest(url or self.url, api_token=api_token, timeout=timeout, concurrency=concurrency,
                                      max_retries=max_retries, requests_per_window=requests_per_window,
                                      window_seconds=window_seconds, limits=self.engine.limits, backoff=backoff,
                                      total_timeout=total_timeout)
        client = Client(backend, label)
        self._closers.append(client.close)
        return client

    def proxy(self, drop: Any = (), mode: str = "before_response") -> DropProxy:
        proxy = DropProxy(self.server.port, drop, mode)
        self._closers.append(proxy.close)
        return proxy

    def close(self) -> None:
        self.app.heal()
        self.app.release.set()  # every stall ends now
        for close in reversed(self._closers):
            close()
        self.app.wait_idle(10)
        self.server.close()

    def __enter__(self) -> FaultRig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
