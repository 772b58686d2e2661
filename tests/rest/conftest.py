"""Fixtures of the REST client's fault tests."""

from __future__ import annotations

import time
import types

import pytest
import urllib3.util.retry

from vectorize_nb.local import LocalEngine

from ..helpers import TINY
from .faults import FaultRig


@pytest.fixture
def rig():
    """A fault rig in front of an engine holding the index "docs" (2 dimensions, cosine)."""
    with LocalEngine(limits=TINY) as engine:
        engine.create_index("docs", dimensions=2, metric="cosine")
        with FaultRig(engine) as rig:
            yield rig


@pytest.fixture
def retry_sleeps(monkeypatch):
    """Every sleep urllib3's retry policy asks for (Retry-After or backoff), still really slept."""
    asked: list[float] = []

    def sleep(seconds: float) -> None:
        asked.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(urllib3.util.retry, "time", types.SimpleNamespace(sleep=sleep, time=time.time))
    return asked
