"""A client-side rate limiter: a token bucket shared by every thread of one backend.

Cloudflare's API allows 1200 requests per 5 minutes per user; staying under it on the client
avoids the 429s (and the 40041s) in the first place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most `requests` per `window` seconds on average, with bursts up to `requests`."""

    def __init__(self, requests: int, window: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if requests < 1 or window <= 0:
            raise ValueError(f"a rate limit needs requests >= 1 and window > 0, got {requests} per {window}")
        self.capacity = float(requests)
        self.rate = requests / window
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._stamp = clock()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RateLimiter({int(self.capacity)} per {self.capacity / self.rate:g} s)"

    def acquire(self) -> float:
        """Take one request's token, waiting as long as needed; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait:
            self._sleep(wait)
        return wait
