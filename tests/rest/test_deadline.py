"""Deadlines of the REST client: a server that answers a byte at a time cannot hold a call past
`timeout` (one attempt) or `total_timeout` (every attempt and the waits between them).

The trickling server would take about a minute to send its whole answer; each test ends with the
client's error and counts what the server managed to send, so a missing deadline fails the test
(the call would succeed) instead of making it slow to pass.
"""

from __future__ import annotations

import time
import types

import numpy as np
import pytest
import urllib3.util.retry

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.contract import validation
from vectorize_nb.local import LocalEngine
from vectorize_nb.rest import connect_rest, deadline, transport

from ..helpers import TINY
from .faults import FaultRig, Reply, TrickleServer

PADDING = 1000
"""Blanks after the envelope: with one byte every 0.05 s, the whole answer takes about a minute."""


@pytest.fixture
def slow():
    with TrickleServer(interval=0.05, padding=PADDING) as server:
        yield server


def test_a_trickling_server_cannot_hold_one_attempt_past_the_timeout(slow):
    with vz.connect(slow.url, timeout=1, max_retries=0) as client:
        with pytest.raises(errors.TransportError) as raised:
            client.list_indexes()
    message = str(raised.value)
    assert "failed after 1 attempt:" in message and "did not answer within the timeout (1 s per attempt)" in message
    slow.close()
    assert len(slow.sent) == 1 and slow.sent[0] < len(slow.answer) // 2


def test_retries_end_at_the_total_timeout(slow):
    backend, _ = connect_rest(slow.url, timeout=1, max_retries=5, total_timeout=2.5, backoff=0.01)
    with vz.Client(backend, "slow") as client:
        with pytest.raises(errors.TransportError) as raised:
            client.list_indexes()
    message = str(raised.value)
    assert "did not answer within the timeout" in message and "at the total timeout of 2.5 s" in message
    slow.close()
    assert 2 <= len(slow.sent) < 6  # 1 s, 1 s and what is left: not every attempt the retries allow
    assert all(sent < len(slow.answer) // 2 for sent in slow.sent)


def test_a_retry_after_past_the_total_timeout_is_not_waited_for(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(urllib3.util.retry, "time", types.SimpleNamespace(sleep=slept.append, time=time.time))
    with LocalEngine(limits=TINY) as engine, FaultRig(engine) as rig:
        rig.app.always("indexes", Reply(503, code=10001, retry_after="30"))
        client = rig.client(max_retries=5, total_timeout=5)
        with pytest.raises(errors.InternalError) as raised:
            client.list_indexes()
    assert "gave up after 1 attempt at the total timeout of 5 s" in str(raised.value)
    assert slept == [] and rig.app.count("indexes") == 1


def test_the_10001_hint_speaks_of_the_server_that_answered():
    with LocalEngine(limits=TINY) as engine, FaultRig(engine) as rig:
        rig.app.always("indexes", Reply(500, code=10001, message="internal error"))
        with pytest.raises(errors.InternalError) as raised:
            rig.client(max_retries=0).list_indexes()
    text = str(raised.value)
    assert "The server that answered failed unexpectedly" in text and "bug in the local server" not in text


def test_a_write_gets_a_second_per_megabyte_on_both_deadlines(monkeypatch):
    seconds: list[float] = []
    original = deadline.attempt

    def recorded(limit: float):
        seconds.append(limit)
        return original(limit)

    monkeypatch.setattr(transport, "attempt", recorded)
    with LocalEngine(limits=TINY) as engine, FaultRig(engine) as rig:
        engine.create_index("docs", dimensions=256, metric="cosine")
        client = rig.client(timeout=3, total_timeout=4)
        index = client.get_index("docs")
        values = np.random.default_rng(3).standard_normal((1000, 256)).astype(np.float32)
        index.upsert([f"v{i}" for i in range(1000)], values, progress=False)
        batch = validation.check_vectors(vz.Vectors([f"v{i}" for i in range(1000)], values), "upsert", 256, TINY)
        prepared = client.backend.prepare_write("docs", "upsert", batch)
    size = len(prepared.body)
    assert size > 2_000_000
    assert seconds[0] == 3  # get_index: no body to speak of
    assert seconds[1] == pytest.approx(3 + size / 1e6, abs=0.05)


def test_the_defaults_bound_a_call_to_two_minutes():
    with vz.connect("http://127.0.0.1:9/client/v4") as client:
        sent = client.backend.transport
        assert (sent.timeout, sent.total_timeout) == (30.0, 120.0)
