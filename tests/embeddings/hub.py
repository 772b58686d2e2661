"""A stand-in for the Hugging Face Hub on 127.0.0.1: serves a folder's files at /{repo}/resolve/{rev}/{path}
the way huggingface_hub expects (commit and ETag headers), or answers every request with one status.
It counts the requests it gets."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "1234567890abcdef1234567890abcdef12345678"


class FakeHub(ThreadingHTTPServer):
    """The server; `requests` lists (method, path) of every request received."""

    def __init__(self, repo: str, folder: Path | None, status: int | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.repo, self.folder, self.status = repo, folder, status
        self.requests: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        """The base URL, to use as huggingface_hub's endpoint."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeHub

    def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        self.server.requests.append((self.command, self.path))
        prefix = f"/{self.server.repo}/resolve/main/"
        file = self.server.folder / self.path[len(prefix):] if self.server.folder else None
        if self.server.status is not None or file is None or not self.path.startswith(prefix) or not file.is_file():
            self.send_response(self.server.status or 404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = file.read_bytes()
        self.send_response(200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read `requests` instead."""


@contextmanager
def serving(repo: str, folder: Path | None = None, status: int | None = None) -> Iterator[FakeHub]:
    """Run a FakeHub in a thread for the length of the block."""
    hub = FakeHub(repo, folder, status)
    thread = threading.Thread(target=hub.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        hub.shutdown()
        hub.server_close()
        thread.join(5)
