"""`vectorize-nb serve`: the local engine on a real socket, behind a production WSGI server (waitress).

    with serve(path="./.vectorize") as server:          # a free port on 127.0.0.1, in a thread
        client = vz.connect(server.url, account_id=server.account_id)

The server binds 127.0.0.1 unless told otherwise and caps request bodies at Cloudflare's 100 MB.
Without a token it answers only this machine's programs, not web pages (see `guard.py`), and it will
not listen on another address without a token unless told to on purpose. Every refusal, waitress's
own included (a body over its cap, an over-long URL or header), is Cloudflare's JSON envelope.

A server started again over the same folder, engine or port (`server = vz.serve()` in a cell run twice) closes
the one this process started earlier, which no variable may hold any more, and warns with its URL.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from http import HTTPStatus
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask, ThreadedTaskDispatcher

from ..contract import errors, wire
from ..contract.notices import warn_once
from ..contract.limits import DEFAULT_LIMITS, Limits
from ..rest_options import REST_DEFAULTS
from ..secret import Secret
from ..environment import (ENGINE_TARGETS, SERVE_PORT as DEFAULT_PORT, SERVE_TOKEN_ENV, SERVED_ACCOUNT_ID as ACCOUNT_ID,
                           engine_folder)
from .app import VectorizeApp
from .engine import LocalEngine
from .guard import given_token, is_loopback

__all__ = ["Server", "serve", "open_server", "DEFAULT_PORT", "ACCOUNT_ID"]

_BODY_SLACK = 1 << 20
"""waitress refuses bodies this much over the limit unread; the application refuses the ones in between."""
SERVED_LOCK_PATIENCE = REST_DEFAULTS.timeout / 2
"""How long a served engine's write waits for the write lock another process holds: well within a REST client's
timeout, so that the client hears the 503 and retries rather than giving up and sending the write again."""
DRAIN_SECONDS = 10.0
"""How long a stopping server lets the requests in flight finish before it closes their connections."""
_OPEN: list[Server] = []
"""The servers of this process that hold a socket, until their close()."""
_OPEN_LOCK = threading.Lock()


class _EnvelopeErrorTask(ErrorTask):  # type: ignore[misc, unused-ignore]  # waitress is untyped
    """waitress's own refusals, made before the application sees the request, in Cloudflare's envelope
    (waitress writes plain text): 413 for a body over its cap, 431 for an over-long request line or
    headers, 400 for a request it cannot read (a transfer encoding or HTTP version it does not take
    included: waitress says 501 or 505, but the request, not the server, is at fault)."""

    def execute(self) -> None:
        problem = self.request.error
        if problem.code == 413:
            limit = self.channel.server.adj.max_request_body_size - _BODY_SLACK
            error: errors.VectorizeError = errors.PayloadTooLarge(
                f"request body too large; max is {limit} bytes", status=413)
        elif problem.code == 431:
            error = errors.PayloadTooLarge(f"request line and headers too large; max is "
                                           f"{self.channel.server.adj.max_request_header_size} bytes", status=431)
        elif problem.code < 500 or problem.code in (501, 505):
            error = errors.MalformedRequest(f"the request could not be read: {_unquoted(problem.body)}",
                                            status=400 if problem.code >= 500 else problem.code)
        else:
            error = errors.InternalError("internal error in the local server", status=problem.code)
        body = wire.dumps(error.to_envelope())
        self.status = f"{error.status} {HTTPStatus(error.status).phrase}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


def _unquoted(problem: str) -> str:
    """waitress's reason for a request it cannot read, less the line of the request it quotes (`Bare CR or LF
    found in header line "Authorization: Bearer ..."`): that line may carry the token."""
    return problem.split(' "', 1)[0]


class _EnvelopeChannel(HTTPChannel):  # type: ignore[misc, unused-ignore]
    error_task_class = _EnvelopeErrorTask


def _check_exposure(host: str, token: Secret | None, allow_remote_without_token: bool) -> None:
    if token is None and not is_loopback(host) and not allow_remote_without_token:
        raise errors.ConfigurationError(
            f"refusing to serve on {host} without a token: anyone who can reach this machine could read and "
            f"write every index. Set a token ({SERVE_TOKEN_ENV}, or --token / token=), or pass "
            "--allow-remote-without-token (allow_remote_without_token=True) to do it on purpose")


def _check_port(port: int) -> None:
    """The socket would take a port modulo 65536 (99999 as 34463, 65536 as a free one)."""
    if not 0 <= port <= 65535:
        raise errors.ConfigurationError(f"port {port} is not a TCP port: give one from 0 to 65535 (0 picks a free one)")


class Server:
    """A running (or ready to run) HTTP server over one engine.

    Without `token`, `host` must be a loopback address unless `allow_remote_without_token`; web pages
    are refused unless their origin is in `allowed_origins` (e.g. "http://localhost:3000").
    """

    def __init__(self, engine: LocalEngine, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 token: str | Secret | None = None, threads: int = 8, owns_engine: bool = False,
                 allowed_origins: Iterable[str] = (), allow_remote_without_token: bool = False) -> None:
        token = Secret.of(token)  # no local holds the token in clear from here, even if it is refused
        host, token = _unbracketed(host), given_token(token)
        _check_exposure(host, token, allow_remote_without_token)
        _check_port(port)
        self.engine = engine
        self._owns_engine = owns_engine
        self.token_required = token is not None
        app = VectorizeApp(engine, token, engine.limits, allowed_origins=allowed_origins, host=host)
        self._wsgi = _listening(app, host, port, threads, engine.limits.max_body_bytes + _BODY_SLACK)
        self._wsgi.channel_class = _EnvelopeChannel
        self.host = host
        self.port = int(self._wsgi.effective_port)
        app.guard.listen(host, self.port)
        self.account_id = ACCOUNT_ID
        self._thread: threading.Thread | None = None
        with _OPEN_LOCK:
            _OPEN.append(self)

    @property
    def url(self) -> str:
        """The base URL a Cloudflare client takes (Cloudflare's is https://api.cloudflare.com/client/v4)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/client/v4"

    def __repr__(self) -> str:
        state = "running" if self._thread is not None and self._thread.is_alive() else "stopped"
        return f"Server({self.url!r}, {state})"

    def serve_forever(self) -> None:
        """Serve until interrupted (KeyboardInterrupt or SystemExit: `vectorize-nb serve` turns Ctrl-C, SIGTERM
        and SIGBREAK into SystemExit), then stop as close() does. The loop runs in a thread of its own: run in
        this one, waitress would take the interruption itself and cut the requests in flight after 5 s. Start()
        it first where an interruption may come before this call: one that stops a thread as it starts leaves
        it neither started nor stopped."""
        try:
            if self._thread is None:
                self.start()
            while self._thread is not None and self._thread.is_alive():
                time.sleep(0.5)  # not join(): a join interrupted marks the thread as ended (before Python 3.13)
        finally:
            self.close()

    def start(self) -> Server:
        """Serve in a background thread; returns the server (use it as a context manager to stop it)."""
        self._thread = threading.Thread(target=self._wsgi.run, name="vectorize-nb-serve", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting, finish what is in flight, and stop (the engine too, if the server opened it). Closing
        again does nothing."""
        with _OPEN_LOCK:
            if self not in _OPEN:
                return
            _OPEN.remove(self)
        try:
            stop_serving(self._wsgi, self._thread)
        finally:  # a second Ctrl-C cuts the wait for the requests in flight short, not the engine's close
            self._thread = None
            if self._owns_engine:
                self.engine.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _listening(app: VectorizeApp, host: str, port: int, threads: int, max_body: int) -> Any:
    """waitress's server, listening on host:port. A port it cannot have (another program holds it) is a
    ConfigurationError naming it, with nothing left running: waitress would start its task threads before it
    binds, and leave them."""
    sockets: dict[int, Any] = {}
    tasks = ThreadedTaskDispatcher()
    try:
        wsgi = create_server(app, map=sockets, _dispatcher=tasks, host=host, port=port, ident="vectorize-nb",
                             max_request_body_size=max_body)
    except OSError as exc:
        wasyncore.close_all(sockets)
        raise _refused(host, port, exc) from None
    except ValueError:  # waitress's "Invalid host/port specified.": the host resolves to no address
        wasyncore.close_all(sockets)
        raise _unbindable(host, "no such name or address") from None
    tasks.set_thread_count(threads)
    return wsgi


def _refused(host: str, port: int, exc: OSError) -> errors.ConfigurationError:
    if isinstance(exc, socket.gaierror) or exc.errno in (errno.EADDRNOTAVAIL, errno.EINVAL):  # EINVAL: fe80::1
        return _unbindable(host, exc.strerror)
    problem = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be listened on ({exc.strerror})"
    return errors.ConfigurationError(
        f"port {port} on {host} {problem}: stop the program that holds it, or pass port=0 (--port 0) for a free one")


def _unbindable(host: str, why: str | None) -> errors.ConfigurationError:
    return errors.ConfigurationError(
        f"{host!r} cannot be listened on ({why}): it is not an address of this machine. Give one that is, such as "
        "127.0.0.1 (the default; an address other than loopback needs a token)")


def _unbracketed(host: str) -> str:
    """An IPv6 address as a URL writes it ("[::1]"), as the socket takes it."""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _check_free(host: str, port: int) -> None:
    """A fixed port that no server of this process holds must be free before an earlier server is closed for the
    new one: a port another program holds would cost both."""
    if port == 0:
        return
    with _OPEN_LOCK:
        if any(server.port == port for server in _OPEN):
            return
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        raise _refused(host, port, exc) from None


def stop_serving(wsgi: Any, thread: threading.Thread | None, patience: float = DRAIN_SECONDS) -> None:
    """Stop a waitress server whose loop runs in `thread` (None: never started): stop accepting, let the
    requests in flight be answered (for up to `patience` seconds), closing each connection once it has
    nothing in flight, then close what is left from inside the loop, then, once the loop has ended, its task
    threads, then its trigger. The trigger is what a task thread writes to wake the loop once it has sent an
    answer: closed any earlier (from inside the loop, or before the task threads are done), that write meets a
    closed descriptor (EBADF) or whatever file took its number."""
    if thread is not None:
        wsgi.trigger.pull_trigger(lambda: wasyncore.dispatcher.close(wsgi))  # the listening socket only
        deadline = time.monotonic() + patience
        while thread.is_alive() and time.monotonic() < deadline:
            wsgi.trigger.pull_trigger(lambda: _close_idle(wsgi))
            thread.join(timeout=0.01)
        wsgi.trigger.pull_trigger(lambda: _leave_loop(wsgi))
        thread.join(timeout=10)
    _leave_loop(wsgi)
    wsgi.task_dispatcher.shutdown(timeout=10)
    wsgi.trigger.close()
    wsgi._map.clear()


def _close_idle(wsgi: Any) -> None:
    """Inside the loop: close the connections with no request in flight (being read, served or answered);
    once none is left, end the loop."""
    busy = False
    for channel in list(wsgi._map.values()):
        if channel is wsgi or channel is wsgi.trigger:
            continue
        if channel.requests or channel.request is not None or channel.total_outbufs_len:
            busy = True
        else:
            channel.close()
    if not busy:
        wsgi.trigger.del_channel()


def _leave_loop(wsgi: Any) -> None:
    for dispatcher in list(wsgi._map.values()):
        if dispatcher is wsgi:
            wasyncore.dispatcher.close(wsgi)  # the listening socket only: wsgi.close() closes the trigger too
        elif dispatcher is not wsgi.trigger:
            dispatcher.close()
    wsgi.trigger.del_channel()  # with nothing left to watch, the loop ends


def open_server(path: str | Path | None = None, *, memory: bool = False, host: str = "127.0.0.1",
                port: int = DEFAULT_PORT, token: str | Secret | None = None, apply_delay: float = 0.0,
                limits: Limits = DEFAULT_LIMITS, engine: LocalEngine | None = None,
                allowed_origins: Iterable[str] = (), allow_remote_without_token: bool = False) -> Server:
    """A server, not yet started, over `engine` or over an engine it opens on `path` (default
    `$VECTORIZE_NB_PATH`, else ./.vectorize, as `connect()`) or in memory. The other arguments are `Server`'s."""
    token = Secret.of(token)  # no local holds the token in clear from here, even if it is refused
    host, token = _unbracketed(host), given_token(token)
    _check_exposure(host, token, allow_remote_without_token)  # before an engine is opened for nothing
    _check_port(port)
    owns = engine is None or _take_over(engine)
    if engine is not None:
        folder = engine.folder
    else:
        folder = None if memory else engine_folder(path)
    _check_free(host, port)
    replaced = _close_earlier(folder, engine, port)
    if engine is None:
        engine = LocalEngine(folder, limits=limits, apply_delay=apply_delay, lock_patience=SERVED_LOCK_PATIENCE)
    try:
        server = Server(engine, host=host, port=port, token=token, owns_engine=owns, allowed_origins=allowed_origins,
                        allow_remote_without_token=allow_remote_without_token)
    except BaseException:
        if owns:
            engine.close()
        raise
    for url, why in replaced:
        warn_once(server, url, f"closed the server this process started earlier at {url}, which served {why}; "
                               f"this one serves it at {server.url}")
    return server


def _take_over(engine: LocalEngine) -> bool:
    """Whether a server of this process opened `engine`: it is closed as the new server's is, not with its own."""
    with _OPEN_LOCK:
        owners = [server for server in _OPEN if server.engine is engine and server._owns_engine]
        for server in owners:
            server._owns_engine = False
    return bool(owners)


def _close_earlier(folder: Path | None, engine: LocalEngine | None, port: int) -> list[tuple[str, str]]:
    """Close the servers of this process over the same engine, folder or (non-zero) port as a new one; their URLs,
    each with what it had in common with the new one."""
    with _OPEN_LOCK:
        found = [(server, why) for server in _OPEN if (why := _shared(server, folder, engine, port))]
    for server, _ in found:
        server.close()
    return [(server.url, why) for server, why in found]


def _shared(server: Server, folder: Path | None, engine: LocalEngine | None, port: int) -> str:
    """What `server` has in common with a new server over `engine` or `folder` on `port` ("" for nothing)."""
    if engine is not None and server.engine is engine:
        return "the same engine"
    theirs = server.engine.folder
    if folder is not None and theirs is not None and theirs.resolve() == folder.resolve():
        return f"the same folder {str(folder)!r}"
    return f"port {port}" if port and server.port == port else ""


def serve(path: str | Path | None = None, *, memory: bool = False, host: str = "127.0.0.1", port: int = 0,
          token: str | Secret | None = None, apply_delay: float = 0.0, limits: Limits = DEFAULT_LIMITS,
          engine: LocalEngine | None = None, allowed_origins: Iterable[str] = (),
          allow_remote_without_token: bool = False) -> Server:
    """Start a server in a background thread and return it; `server.url` is the base URL Cloudflare's
    clients take. Use it as a context manager so that it stops, or call `server.close()`. Run again over the
    same folder, engine or port (a notebook cell run twice), it closes the server this process started there
    earlier, with a warning naming its URL; servers of other folders and of memory engines run side by side.

    Parameters
    ----------
    path : path, optional
        The engine's folder (default `$VECTORIZE_NB_PATH`, else ./.vectorize, as `connect()`); not "memory"
        or "local", which are `connect()`'s targets ("./memory" is a folder of that name).
    memory : bool, default False
        Keep everything in memory instead.
    host : str, default "127.0.0.1"
        The address to listen on (an IPv6 one with or without brackets: "::1" or "[::1]"); one other than
        loopback needs `token` (or `allow_remote_without_token`).
    port : int, default 0
        The port; 0 picks a free one.
    token : str, optional
        Require `Authorization: Bearer <token>` of every request. Without one (or an empty one) the
        server answers only this machine's programs: requests from web pages are refused.
    apply_delay : float, default 0
        Seconds the engine waits before applying a write, as Vectorize does.
    limits : Limits, optional
        The rules to enforce (Cloudflare's published limits by default).
    engine : LocalEngine, optional
        Serve this engine (for example `client.backend` of a `connect("memory")`) instead of opening one.
    allowed_origins : iterable of str
        Web pages allowed to call the server without a token, by origin ("http://localhost:3000").
    allow_remote_without_token : bool, default False
        Listen on another address than loopback without a token: anyone who reaches the port can read
        and write every index.

    Raises
    ------
    ConfigurationError
        The port is in use or not a TCP port, `host` is not an address of this machine, or it is not loopback
        and there is no `token`; `path` is "memory" or "local".
    FolderUnusable
        The engine's folder is a file, is damaged, or was written by a newer vectorize-nb.
    """
    token = Secret.of(token)  # no local holds the token in clear from here, even if it is refused
    token = given_token(token)
    if isinstance(path, str) and path in ENGINE_TARGETS:
        raise _target_word(path)
    return open_server(path, memory=memory, host=host, port=port, token=token, apply_delay=apply_delay,
                       limits=limits, engine=engine, allowed_origins=allowed_origins,
                       allow_remote_without_token=allow_remote_without_token).start()


def _target_word(word: str) -> errors.ConfigurationError:
    """The refusal of `connect()`'s target word given to `serve()` as its folder: it says both readings."""
    engine = "vz.serve(memory=True) serves an engine in memory" if word == "memory" else \
        "vz.serve() serves the engine's default folder"
    return errors.ConfigurationError(f"serve({word!r}) would serve a folder named {word!r}: {engine} (what "
                                     f"vz.connect({word!r}) opens), vz.serve('./{word}') that folder")
