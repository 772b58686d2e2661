"""The `backend` fixture: the same scenario on the engine in process, and on the engine served over a
real loopback socket and reached through RestBackend."""

from __future__ import annotations

import contextlib

import pytest

from vectorize_nb.local import LocalEngine
from vectorize_nb.local.server import Server
from vectorize_nb.rest import connect_rest

from ..helpers import TINY


class Clock:
    """A clock the test moves by hand (creation times, mutation times, cursor expiry)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@contextlib.contextmanager
def open_backend(kind: str, clock: Clock, apply_delay: float = 0.0):
    engine = LocalEngine(limits=TINY, clock=clock, apply_delay=apply_delay)
    try:
        if kind == "local":
            yield engine
            return
        with Server(engine, host="127.0.0.1", port=0).start() as server:
            rest, _ = connect_rest(server.url, limits=TINY, max_retries=0, timeout=30)
            try:
                yield rest
            finally:
                rest.close()
    finally:
        engine.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(params=["local", "rest"])
def backend(request, clock):
    with open_backend(request.param, clock) as opened:
        yield opened
