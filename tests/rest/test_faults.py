"""The REST client under faults: rate limits, 5xx, dropped connections, a slow server, and the token.

Every scenario ends the same way: nothing is lost, the failure is reported, and nothing hangs. The
servers bind 127.0.0.1 on port 0 and stop with their fixture; clients use short timeouts, few
retries and a small backoff.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import types

import numpy as np
import pytest
import urllib3.exceptions
import urllib3.util.retry

import vectorize_nb as vz
from vectorize_nb import errors, writes
from vectorize_nb.local.server import serve
from vectorize_nb.contract.models import Vectors
from vectorize_nb.rest import RateLimiter
from vectorize_nb.rest.transport import RETRY_AFTER_MAX

from .faults import Pass, Reply, Stall, Swallow

HANG_GUARD = 20.0
"""Seconds no single client call may take here; the expected times are around one second. It only
turns a hang into a failure, it does not measure speed."""


def rows(n: int, prefix: str = "v") -> tuple[list[str], np.ndarray]:
    ids = [f"{prefix}{i:05d}" for i in range(n)]
    return ids, np.column_stack([np.arange(n), np.arange(n) + 0.5]).astype(np.float32)


def assert_stored_exactly(index, ids: list[str], values: np.ndarray) -> None:
    """Every id present once with its values; nothing else in the index."""
    assert index.info().vector_count == len(set(ids)) == len(ids)
    assert sorted(index.list_ids()) == sorted(ids)
    frame = index.get_by_ids(ids)
    assert frame["id"].tolist() == ids
    np.testing.assert_array_equal(np.stack(frame["values"].to_list()), values)


def timed(call):
    start = time.monotonic()
    try:
        return call(), time.monotonic() - start
    finally:
        assert time.monotonic() - start < HANG_GUARD


# --- a) 429, Retry-After and the rate-limit code ---------------------------------------------------

def test_429_with_retry_after_is_waited_out_and_the_upsert_lands(rig, retry_sleeps):
    rig.app.script("upsert", Reply(429, code=40041, message="Too many requests", retry_after="1"))
    index = rig.client(max_retries=2).get_index("docs")
    ids, values = rows(120)
    result, _ = timed(lambda: index.upsert(ids, values, batch_size=50))
    assert result.ok and result.written == 120 and len(result.mutation_ids) == 3
    assert rig.app.actions("upsert") == ["reply 429/40041", "pass", "pass", "pass"]
    assert retry_sleeps == [1]  # the server's Retry-After, not the backoff
    first, second = rig.app.requests("upsert")[:2]
    assert second.at - first.at >= 1.0  # the retry came after the wait the server asked for
    assert_stored_exactly(index, ids, values)


@pytest.mark.parametrize("fault", [
    Reply(400, code=40041, message="Too many requests"),
    Reply(429),                                            # no code, no Retry-After: the backoff
    Reply(429, body=b"slow down", content_type="text/plain"),
], ids=["400-40041", "429-bare", "429-text"])
def test_rate_limit_answers_are_retried(rig, fault):
    rig.app.script("upsert", fault, fault)
    index = rig.client(max_retries=2).get_index("docs")
    ids, values = rows(10)
    assert index.upsert(ids, values).ok
    assert rig.app.count("upsert") == 3
    assert_stored_exactly(index, ids, values)


def test_persistent_rate_limiting_gives_up_with_rate_limited(rig):
    rig.app.always("upsert", Reply(400, code=40041, message="Too many requests"))
    index = rig.client(max_retries=3).get_index("docs")
    result = index.upsert(*rows(10), on_error="report")
    [failed] = result.failures
    assert isinstance(failed.error, errors.RateLimited) and failed.error.code == 40041
    assert "gave up after 4 attempts" in str(failed.error)
    assert rig.app.count("upsert") == 4 and index.info().vector_count == 0


def test_deterministic_400s_are_not_retried(rig):
    client = rig.client(max_retries=3)
    with pytest.raises(errors.VectorDimensionMismatch) as wrong:
        client.backend.upsert("docs", Vectors(["x"], np.zeros((1, 3), np.float32)))
    assert wrong.value.code == 40012 and wrong.value.status == 400
    assert rig.app.count("upsert") == 1

    with pytest.raises(errors.IndexNotFound) as missing:
        client.get_index("nope")
    assert missing.value.code == 3000 and rig.app.count("index") == 1

    rig.app.script("query", Reply(400, code=40026, message="Failed to parse the request body as JSON"))
    with pytest.raises(errors.MalformedRequest):
        client.get_index("docs").query([1.0, 0.0])
    assert rig.app.count("query") == 1
    assert client.get_index("docs").info().vector_count == 0


def test_a_malformed_retry_after_is_still_retried(rig):
    rig.app.script("upsert", Reply(429, code=40041, retry_after="soon"))
    index = rig.client(max_retries=2).get_index("docs")
    ids, values = rows(10)
    assert index.upsert(ids, values, on_error="report").ok
    assert_stored_exactly(index, ids, values)


def test_a_huge_retry_after_does_not_block_for_hours(rig, monkeypatch):
    asked: list[float] = []
    monkeypatch.setattr(urllib3.util.retry, "time", types.SimpleNamespace(sleep=asked.append, time=time.time))
    rig.app.script("upsert", Reply(429, code=40041, retry_after="86400"))
    index = rig.client(max_retries=2).get_index("docs")
    result = index.upsert(*rows(10), on_error="report")
    assert result.ok or isinstance(result.failures[0].error, errors.RateLimited)
    assert max(asked, default=0) <= RETRY_AFTER_MAX, f"the client asked to sleep {asked} s"


# --- b) 5xx ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_then_success_is_retried(rig, status, caplog):
    rig.app.script("upsert", Reply(status), Reply(status, code=10001))
    index = rig.client(max_retries=2).get_index("docs")
    ids, values = rows(30)
    with caplog.at_level(logging.INFO, logger="vectorize_nb.rest"):
        assert index.upsert(ids, values).ok
    assert rig.app.actions("upsert") == [f"reply {status}", f"reply {status}/10001", "pass"]
    assert caplog.text.count(f"HTTP {status}; retrying") == 2, caplog.text
    assert_stored_exactly(index, ids, values)


def test_a_call_retrying_when_its_client_closes_stops_before_its_next_attempt(rig):
    """It went on sending every attempt its retry policy allowed, to a client the notebook had closed."""
    rig.app.always("info", Reply(503, retry_after="1"))
    client = rig.client(max_retries=5)
    index = client.get_index("docs")
    raised: list[BaseException] = []

    def ask() -> None:
        try:
            index.info()
        except errors.VectorizeError as exc:
            raised.append(exc)

    worker = threading.Thread(target=ask)
    worker.start()
    deadline = time.monotonic() + HANG_GUARD
    while rig.app.count("info") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    client.close()
    worker.join(HANG_GUARD)
    assert not worker.is_alive() and rig.app.count("info") == 1
    assert type(raised[0]) is errors.ClientClosed and raised[0].maybe_applied is False


@pytest.mark.parametrize("max_retries", [0, 2])
@pytest.mark.parametrize("fault, kind, code", [
    (Reply(503), errors.ServerError, 0),
    (Reply(500, code=10001, message="internal error in the local server"), errors.InternalError, 10001),
    (Reply(502, body=b"<html>502 Bad Gateway</html>", content_type="text/html"), errors.ServerError, 0),
], ids=["503", "500-10001", "502-html"])
def test_persistent_5xx_raises_after_max_retries_plus_one_attempts(rig, max_retries, fault, kind, code):
    rig.app.always("info", fault)
    client = rig.client(max_retries=max_retries)
    index = client.get_index("docs")
    with pytest.raises(errors.ServerError) as raised:
        timed(index.info)
    assert type(raised.value) is kind and raised.value.code == code
    assert raised.value.status == fault.status
    tries = "1 attempt" if max_retries == 0 else f"{max_retries + 1} attempts"  # not "1 attempts"
    assert f"gave up after {tries}" in str(raised.value)
    assert rig.app.count("info") == max_retries + 1
    if fault.body is not None:
        assert "not JSON" in str(raised.value)


def test_persistent_5xx_mid_write_is_reported_and_retry_writes_the_rest_once(rig):
    rig.app.script("upsert", Pass(), Pass(), Pass()).always("upsert", Reply(503, message="upstream unavailable"))
    index = rig.client(max_retries=2).get_index("docs")
    ids, values = rows(1000)
    result = index.upsert(ids, values, batch_size=100, on_error="report", progress=False)

    assert [b.status for b in result.batches] == ["accepted"] * 3 + ["failed"] + ["not sent"] * 6
    [failed] = result.failures
    assert failed.number == 4 and isinstance(failed.error, errors.ServerError) and failed.error.status == 503
    assert "gave up after 3 attempts" in str(failed.error)
    assert result.written == 300 and result.unwritten_ids == ids[300:]
    assert rig.app.count("upsert") == 3 + 3  # three batches, then one batch tried max_retries + 1 times
    assert index.info().vector_count == 300
    assert index.get_by_ids(ids[:300])["id"].tolist() == ids[:300]

    still = result.retry()  # while the server still fails: reported again, nothing changed
    assert not still.ok and still.written == 0 and still.unwritten_ids == ids[300:]
    with pytest.raises(writes.WriteIncomplete) as incomplete:  # on_error="raise" says the same
        index.upsert(ids[300:], values[300:], batch_size=100)
    assert isinstance(incomplete.value.__cause__, errors.ServerError)
    assert incomplete.value.result.written == 0 and index.info().vector_count == 300

    rig.app.heal()
    again = result.retry()
    assert again.ok and again.rows == 700 and again.ids == ids[300:]
    assert_stored_exactly(index, ids, values)


def test_persistent_5xx_with_concurrent_batches_loses_nothing(rig):
    rig.app.script("upsert", Pass(), Pass()).always("upsert", Reply(500))
    index = rig.client(max_retries=1, concurrency=3).get_index("docs")
    ids, values = rows(2000)
    result = index.upsert(ids, values, batch_size=100, on_error="report", progress=False)
    statuses = [b.status for b in result.batches]
    assert statuses.count("accepted") == 2 and statuses.count("failed") >= 1
    assert set(statuses) <= {"accepted", "failed", "not sent"}
    assert all(isinstance(b.error, errors.ServerError) for b in result.failures)
    assert index.info().vector_count == result.written == 200
    rig.app.heal()
    assert result.retry().ok
    assert_stored_exactly(index, ids, values)


@pytest.mark.parametrize("operation", ["upsert", "insert"])
def test_a_5xx_after_the_write_was_applied_is_retried_without_duplicates(rig, operation):
    rig.app.script(operation, Pass(), Swallow(Reply(500)))
    index = rig.client(max_retries=2).get_index("docs")
    ids, values = rows(300)
    result = getattr(index, operation)(ids, values, batch_size=100)
    assert result.ok and rig.app.actions(operation) == ["pass", "swallow then reply 500", "pass", "pass"]
    assert_stored_exactly(index, ids, values)


def test_a_200_that_is_not_an_envelope_is_reported(rig):
    rig.app.script("upsert", Reply(200, body=b"<html>welcome to the hotel wifi</html>", content_type="text/html"))
    index = rig.client(max_retries=2).get_index("docs")
    result = index.upsert(*rows(10), on_error="report")
    assert not result.ok and isinstance(result.failures[0].error, errors.VectorizeError)


# --- c) a connection dropped mid-request ------------------------------------------------------------

@pytest.mark.parametrize("mode, applied", [("mid_body", 0), ("before_response", 1)])
def test_a_dropped_connection_mid_batch_is_retried(rig, mode, applied):
    ids, values = rows(500)
    proxy = rig.proxy(drop=lambda n, line: "/upsert" in line and n == 4, mode=mode)
    index = rig.client(proxy.url, max_retries=2).get_index("docs")  # request 1 is get_index
    result = index.upsert(ids, values, batch_size=100)
    assert result.ok and len(result.mutation_ids) == 5
    assert proxy.dropped == [4]
    assert len(proxy.requests("upsert")) == 6  # five batches, one of them sent twice
    # the server saw the dropped batch only when the whole request got through before the drop
    assert rig.app.count("upsert") == 5 + applied
    assert_stored_exactly(index, ids, values)


def test_connections_dropped_every_time_end_in_a_transport_error_and_a_report(rig):
    ids, values = rows(300)
    proxy = rig.proxy(drop=lambda n, line: "/upsert" in line and n > 2, mode="mid_body")
    index = rig.client(proxy.url, max_retries=2).get_index("docs")
    result, _ = timed(lambda: index.upsert(ids, values, batch_size=100, on_error="report", progress=False))
    # the request went out whole, as far as the client can tell, before the connection dropped
    assert [b.status for b in result.batches] == ["accepted", "unconfirmed", "not sent"]
    assert result.unconfirmed_ids == ids[100:200] and "100 may have been written" in repr(result)
    error = result.failures[0].error
    assert isinstance(error, errors.TransportError) and "failed after 3 attempts" in str(error)
    assert "ConnectionError" in str(error)
    assert proxy.dropped == [3, 4, 5] and rig.app.count("upsert") == 1
    assert index.info().vector_count == 100 and result.unwritten_ids == ids[100:]
    direct = rig.client().get_index("docs")
    assert result.unwritten_ids == ids[100:] and direct.upsert(ids[100:], values[100:]).ok
    assert_stored_exactly(direct, ids, values)


def test_a_connection_dropped_mid_answer_is_retried(rig):
    ids, values = rows(300)
    proxy = rig.proxy(drop=lambda n, line: "/upsert" in line and n == 3, mode="mid_response")
    index = rig.client(proxy.url, max_retries=2).get_index("docs")
    result = index.upsert(ids, values, batch_size=100, on_error="report", progress=False)
    assert result.ok
    assert_stored_exactly(index, ids, values)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_nothing_listening_on_a_loopback_port_fails_at_once_and_says_so(host, caplog):
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago, and is closed again
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = vz.connect(f"http://{host}:{port}", account_id="acc", api_token="unused", max_retries=5)
    with caplog.at_level(logging.INFO, logger="vectorize_nb.rest"), pytest.raises(errors.TransportError) as raised:
        timed(client.list_indexes)
    message = str(raised.value)
    assert f"nothing listens at {host}:{port} (connection refused)" in message, message
    assert "no server runs on this machine at that port" in message and "attempt" not in message
    assert "retrying" not in caplog.text  # not five retries with backoff (16 s before)


# --- d) a server slower than the timeout -------------------------------------------------------------

def test_a_slow_server_times_out_with_a_transport_error(rig):
    rig.app.always("index", Stall(30))
    client = rig.client(timeout=0.3, max_retries=2)
    with pytest.raises(errors.TransportError) as raised:
        timed(lambda: client.get_index("docs"))
    message = str(raised.value)
    assert "failed after 3 attempts" in message and "did not answer within the timeout" in message
    assert message.startswith("GET http://127.0.0.1:") and "(during get_index 'docs')" in message
    assert rig.app.count("index") == 3


def test_a_slow_write_is_reported_and_nothing_written_is_lost(rig):
    # the stalled batch is applied late, after the client gave up on it: a retry must not duplicate it
    rig.app.script("upsert", Pass(), Pass()).always("upsert", Stall(30, then=Pass()))
    index = rig.client(timeout=0.3, max_retries=1).get_index("docs")
    ids, values = rows(500)
    result, _ = timed(lambda: index.upsert(ids, values, batch_size=100, on_error="report", progress=False))
    assert [b.status for b in result.batches] == ["accepted"] * 2 + ["unconfirmed"] + ["not sent"] * 2
    error = result.failures[0].error
    assert isinstance(error, errors.TransportError) and "failed after 2 attempts" in str(error)
    assert "did not answer within the timeout" in str(error)
    assert rig.app.count("upsert") == 2 + 2
    assert result.unwritten_ids == ids[200:] and result.unconfirmed_ids == ids[200:300]
    assert index.get_by_ids(ids[:200])["id"].tolist() == ids[:200]

    rig.app.heal()
    rig.app.release.set()           # the stalled requests now reach the engine, late
    assert rig.app.wait_idle(10)
    assert index.info().vector_count == 300
    assert result.retry().ok
    assert_stored_exactly(index, ids, values)


# --- e) the client-side rate limiter -------------------------------------------------------------------

class FakeTime:
    def __init__(self, advance_on_sleep: bool = True) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.advance_on_sleep = advance_on_sleep
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            if self.advance_on_sleep:
                self.now += seconds


def test_rate_limiter_bursts_then_spaces_requests_evenly():
    fake = FakeTime()
    limiter = RateLimiter(4, 2.0, clock=fake.clock, sleep=fake.sleep)  # 2 requests per second
    assert [limiter.acquire() for _ in range(4)] == [0.0] * 4       # the burst
    assert limiter.acquire() == pytest.approx(0.5)                  # then one every 0.5 s
    assert limiter.acquire() == pytest.approx(0.5)
    assert fake.slept == pytest.approx([0.5, 0.5])
    fake.now += 0.75                                                # 1.5 tokens back
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(0.25)
    fake.now += 60.0                                                # refills to the burst size only
    assert [limiter.acquire() for _ in range(4)] == [0.0] * 4
    assert limiter.acquire() == pytest.approx(0.5)
    assert "RateLimiter(4 per 2 s)" == repr(limiter)


def test_rate_limiter_is_thread_safe():
    fake = FakeTime(advance_on_sleep=False)  # time stands still: every wait is a reservation
    limiter = RateLimiter(10, 2.0, clock=fake.clock, sleep=fake.sleep)  # 5 per second
    start = threading.Barrier(8)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        start.wait(timeout=5)
        mine = [limiter.acquire() for _ in range(25)]
        with lock:
            waits.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    # 200 acquisitions: 10 free, then the k-th one past the burst waits exactly k / 5 s, each k once
    assert sorted(waits) == pytest.approx([0.0] * 10 + [k / 5 for k in range(1, 191)])
    assert sorted(fake.slept) == pytest.approx([k / 5 for k in range(1, 191)])


@pytest.mark.parametrize("requests, window", [(0, 1.0), (5, 0.0), (5, -1.0)])
def test_rate_limiter_rejects_impossible_limits(requests, window):
    with pytest.raises(ValueError, match="requests >= 1 and window > 0"):
        RateLimiter(requests, window)


def test_every_attempt_takes_a_token_from_the_limiter(rig):
    fake = FakeTime()
    client = rig.client(max_retries=2)
    client.backend.transport.limiter = RateLimiter(2, 1.0, clock=fake.clock, sleep=fake.sleep)
    rig.app.script("info", Reply(503))
    index = client.get_index("docs")   # 1 token
    index.info()                       # 2 attempts: 2 tokens
    assert fake.slept == pytest.approx([0.5])  # the third token had to wait


def test_cloudflares_rate_limit_is_kept_for_cloudflare_and_a_given_one_for_any_server(monkeypatch):
    """A served engine got Cloudflare's 1200 requests per 5 minutes too: exporting 30,000 vectors (1,500
    get-by-ids requests) took 83 s where 10,000 took 1.2 s, the last 300 requests at 4 a second."""
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "0" * 32)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "not-a-real-token")
    limiters = {}
    for target, given in [("cloudflare", {}), ("http://127.0.0.1:9", {}),
                          ("https://vectors.example", {"requests_per_window": 60})]:
        with vz.connect(target, **given) as client:
            limiters[target] = client.backend.transport.limiter
    assert repr(limiters["cloudflare"]) == "RateLimiter(1200 per 300 s)"
    assert limiters["http://127.0.0.1:9"] is None
    assert repr(limiters["https://vectors.example"]) == "RateLimiter(60 per 300 s)"


@pytest.mark.parametrize("target", ["cloudflare", "http://127.0.0.1:9"])
def test_a_rate_limit_of_zero_requests_is_refused_on_any_target(monkeypatch, target):
    """0 is falsy: it was taken as "not given", Cloudflare's 1200 there and no limit at all elsewhere."""
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "0" * 32)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "not-a-real-token")
    with pytest.raises(ValueError, match="requests >= 1 and window > 0, got 0 per 300"):
        vz.connect(target, requests_per_window=0)


def test_a_window_without_a_request_count_is_refused_off_cloudflare_and_kept_on_it(monkeypatch):
    """window_seconds=60 alone was silently no limit at all on another server."""
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "0" * 32)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "not-a-real-token")
    with pytest.raises(errors.ConfigurationError, match=r"window_seconds=60 .* requests_per_window="):
        vz.connect("http://127.0.0.1:9", window_seconds=60)
    with vz.connect("cloudflare", window_seconds=60) as client:
        assert repr(client.backend.transport.limiter) == "RateLimiter(1200 per 60 s)"
    with vz.connect("http://127.0.0.1:9", requests_per_window=10, window_seconds=60) as client:
        assert repr(client.backend.transport.limiter) == "RateLimiter(10 per 60 s)"
    with pytest.raises(ValueError, match="window > 0, got 1200 per 0"):  # 0 is falsy: not taken for "not given"
        vz.connect("cloudflare", window_seconds=0)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_whole_index_is_read_with_requests_in_flight_together_in_its_order(rig, concurrency):
    """to_frame and copy_to read an index over REST 20 vectors a request, one request after the other: 24,000
    vectors from Cloudflare were 1,200 round trips in a row."""
    ids, values = rows(500)
    rig.client().get_index("docs").upsert(ids, values, metadata=[{"n": i} for i in range(500)], wait=True)
    rig.app.always("get_by_ids", Stall(0.05, then=Pass()))
    index = rig.client(concurrency=concurrency).get_index("docs")
    frame, _ = timed(lambda: index.to_frame(values=True))
    assert frame["id"].tolist() == index.list_ids() and sorted(frame["id"]) == ids
    np.testing.assert_array_equal(np.stack(frame["values"].to_list()), values[[int(i[1:]) for i in frame["id"]]])
    assert frame["n"].tolist() == [int(i[1:]) for i in frame["id"]]
    assert rig.app.count("get_by_ids") == 25 and rig.app.peak == concurrency
    gathered, _ = timed(lambda: index.get_by_ids(ids[::-1]))
    assert gathered["id"].tolist() == ids[::-1]


# --- f) the API token never shows ----------------------------------------------------------------------

TOKEN = "s3cr3t-token"


def test_the_token_never_appears_in_reprs_errors_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with serve(memory=True, token=TOKEN) as server:
        with vz.connect(server.url, api_token=TOKEN, timeout=2, max_retries=1) as client:
            index = client.create_index("docs", 32)
            index.upsert(["a"], np.ones((1, 32), np.float32))
            texts += [repr(client), str(client.target), repr(client.backend), repr(client.backend.transport),
                      repr(client.backend.transport.session.auth), repr(index), repr(index.info())]
        with vz.connect(server.url, api_token="wrong-token", timeout=2, max_retries=1) as client:
            with pytest.raises(errors.AuthenticationError) as denied:
                client.get_index("docs")
            texts.append(repr(client.backend))
        with vz.connect(server.url, timeout=2, max_retries=1) as client:
            with pytest.raises(errors.AuthenticationError) as anonymous:
                client.list_indexes()
    with vz.connect(server.url, api_token=TOKEN, timeout=0.5, max_retries=0) as client:  # server gone now
        with pytest.raises(errors.TransportError) as unreachable:
            client.get_index("docs")

    assert denied.value.code == 10000 and denied.value.status == 401
    assert anonymous.value.status == 401
    for exc in (denied.value, anonymous.value, unreachable.value):
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(exc.__reduce__())]
    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(record.args) for record in caplog.records]
    assert any("HTTP/1.1" in record.getMessage() for record in caplog.records)  # requests were logged
    assert [t for t in texts if TOKEN in t] == []


def test_a_server_that_asks_for_a_token_none_was_sent_to_says_where_it_goes(monkeypatch):
    """It said "Check the API token and that it has the Vectorize permissions" when no token was sent."""
    monkeypatch.delenv("VECTORIZE_NB_SERVE_TOKEN", raising=False)
    with serve(memory=True, token=TOKEN) as server:
        with vz.connect(server.url, timeout=2, max_retries=0) as client:
            with pytest.raises(errors.AuthenticationError) as anonymous:
                client.list_indexes()
        with vz.connect(server.url, api_token="wrong-token", timeout=2, max_retries=0) as client:
            with pytest.raises(errors.AuthenticationError) as denied:
                client.list_indexes()
    assert "No API token was sent" in str(anonymous.value) and "VECTORIZE_NB_SERVE_TOKEN" in str(anonymous.value)
    assert "No API token was sent" not in str(denied.value)
