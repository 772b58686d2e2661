"""`vectorize-nb serve`: the local engine on a real socket, behind a production WSGI server (waitress).

    with serve(path="./.vectorize") as server:          # a free port on 127.0.0.1, in a thread
        client = vz.connect(server.url, account_id=server.account_id)

The server binds 127.0.0.1 unless told otherwise and caps request bodies at Cloudflare's 100 MB.
"""

from __future__ import annotations

import threading
from pathlib import Path

from waitress import wasyncore
from waitress.server import create_server

from ..contract.limits import DEFAULT_LIMITS, Limits
from .app import ACCOUNT_ID, VectorizeApp
from .engine import LocalEngine

__all__ = ["Server", "serve", "open_server", "DEFAULT_PORT", "ACCOUNT_ID"]

DEFAULT_PORT = 8787


class Server:
    """A running (or ready to run) HTTP server over one engine."""

    def __init__(self, engine: LocalEngine, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 token: str | None = None, threads: int = 8, owns_engine: bool = False) -> None:
        self.engine = engine
        self._owns_engine = owns_engine
        app = VectorizeApp(engine, token, engine.limits)
        # waitress itself refuses bodies past this; the app answers 100 MB + 1 with Cloudflare's envelope
        self._wsgi = create_server(app, host=host, port=port, threads=threads, ident="vectorize-nb",
                                   max_request_body_size=engine.limits.max_body_bytes + (1 << 20))
        self.host = host
        self.port = int(self._wsgi.effective_port)
        self.account_id = ACCOUNT_ID
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL a Cloudflare client takes (Cloudflare's is https://api.cloudflare.com/client/v4)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/client/v4"

    def __repr__(self) -> str:
        state = "running" if self._thread is not None and self._thread.is_alive() else "stopped"
        return f"Server({self.url!r}, {state})"

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C, or SIGTERM turned into SystemExit)."""
        try:
            self._wsgi.run()
        finally:
            self.close()

    def start(self) -> Server:
        self._thread = threading.Thread(target=self._wsgi.run, name="vectorize-nb-serve", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting, finish what is in flight, and stop (the engine too, if the server opened it)."""
        wsgi = self._wsgi
        if self._thread is not None:
            wsgi.trigger.pull_trigger(lambda: wasyncore.close_all(wsgi._map))  # runs in the server's loop
            self._thread.join(timeout=10)
            self._thread = None
        else:
            wasyncore.close_all(wsgi._map)
        wsgi.task_dispatcher.shutdown(timeout=10)
        if self._owns_engine:
            self.engine.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_server(path: str | Path | None = None, *, memory: bool = False, host: str = "127.0.0.1",
                port: int = DEFAULT_PORT, token: str | None = None, apply_delay: float = 0.0,
                limits: Limits = DEFAULT_LIMITS, engine: LocalEngine | None = None) -> Server:
    """A server, not yet started, over `engine` or over an engine it opens on `path` (default
    ./.vectorize) or in memory."""
    owns = engine is None
    if engine is None:
        folder = None if memory else Path(path if path is not None else ".vectorize")
        engine = LocalEngine(folder, limits=limits, apply_delay=apply_delay)
    return Server(engine, host=host, port=port, token=token, owns_engine=owns)


def serve(path: str | Path | None = None, *, memory: bool = False, host: str = "127.0.0.1", port: int = 0,
          token: str | None = None, apply_delay: float = 0.0, limits: Limits = DEFAULT_LIMITS,
          engine: LocalEngine | None = None) -> Server:
    """Start a server in a background thread (on a free port by default) and return it. Use it as a
    context manager so that it stops."""
    return open_server(path, memory=memory, host=host, port=port, token=token, apply_delay=apply_delay,
                       limits=limits, engine=engine).start()
