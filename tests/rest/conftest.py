"""Fixtures of the REST client's fault tests."""

from __future__ import annotations

import time
import types

import pytest
import urllib3.util.retry


@pytest.fixture
def retry_sleeps(monkeypatch):
    """Every sleep urllib3's retry policy asks for (Retry-After or backoff), still really slept."""
    asked: list[float] = []

    def sleep(seconds: float) -> None:
        asked.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(urllib3.util.retry, "time", types.SimpleNamespace(sleep=sleep, time=time.time))
    return asked
