"""The Workers AI client (`rest/ai.py` through `Client.embed` on a REST target) against the served engine
and under faults: requests of max_texts, several in flight, retries on 429/5xx and 3040 but not on 4006,
5006 or 5007, errors that name the model and the rows of the request, the token kept out of every
repr, error and log line, and Workers AI's rate limits. bge runs as the tiny stand-in, offline."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pandas as pd
import pytest

from vectorize_nb import errors
from vectorize_nb.contract import wire
from vectorize_nb.embeddings import embed_locally
from vectorize_nb.local import LocalEngine
from vectorize_nb.rest import ai
from vectorize_nb.rest.ratelimit import RateLimiter
from vectorize_nb.rest.target import Target

from ..embeddings.stand_in import SMALL, stand_in_cache
from .faults import PASS, FaultRig, Reply, Stall

TOKEN = "wai-secret-token-0123456789"
LARGE = "@cf/baai/bge-large-en-v1.5"
WORDS = ["read", "write", "the", "csv", "json", "file", "parse", "text", "vector", "search", "cat", "dog", "sun"]
QUOTA = "AiError: AiError: you have used up your daily free allocation of 10,000 neurons, please upgrade"


def texts(n: int, seed: int = 0) -> list[str]:
    """n distinct short texts of the stand-in's words."""
    return [f"{WORDS[(i + seed) % 13]} {WORDS[(i // 13 + seed) % 13]} {WORDS[(i // 169) % 13]} {i}" for i in range(n)]


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    with stand_in_cache(tmp_path_factory.mktemp("workers-ai-client"), [SMALL]) as cache:
        yield cache


@pytest.fixture
def rig(stand_in, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the embedding cache of this test alone
    with LocalEngine() as engine, FaultRig(engine, token=TOKEN) as rig:
        rig.app.keep_bodies.add("ai/run")
        yield rig


def sizes(rig) -> list[int]:
    """Texts per Workers AI request the server received, in arrival order."""
    return [len(wire.loads(seen.body)["text"]) for seen in rig.app.requests("ai/run")]


def embed(client, rows, **options):
    return client.embed(rows, SMALL, cache=False, progress=False, **options)


# --- batches, concurrency, the vectors themselves --------------------------------------------------

def test_250_texts_go_as_requests_of_100_100_50_and_come_back_in_order(rig):
    rows = texts(250)
    client = rig.client(api_token=TOKEN, concurrency=1)
    vectors = embed(client, rows)
    assert sizes(rig) == [100, 100, 50]
    assert [wire.loads(s.body)["pooling"] for s in rig.app.requests("ai/run")] == ["mean"] * 3
    assert vectors.shape == (250, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, embed_locally(rows, SMALL), rtol=1e-6, atol=1e-7)
    assert client.embedder.report.runs == "served" and client.embedder.report.texts == 250  # not Cloudflare's


def answer(data) -> Reply:
    """Workers AI's answer holding `data` as its vectors."""
    result = {"shape": [len(data), len(data[0])], "data": data}
    return Reply(200, body=wire.dumps({"result": result, "success": True, "errors": [], "messages": []}))


@pytest.mark.parametrize("cell", [None, "NaN", float("inf"), 1e39])  # orjson writes inf as null; 1e39 is inf in float32
def test_an_answer_holding_no_number_is_a_server_error_naming_the_row(rig, cell):
    """A null or "NaN" in Workers AI's answer became a row of zeros, written to the index without a word; it is
    the server's fault, named as such with the row."""
    data = [[0.5] * 384 for _ in range(100)]
    data[1][7] = cell
    rig.app.script("ai/run", PASS, answer(data))
    with pytest.raises(errors.ServerError) as raised:
        embed(rig.client(api_token=TOKEN, concurrency=1), texts(200))
    assert raised.value.status == 502
    assert ("Workers AI answered the request's text 1 (from 0) with a vector holding null, NaN or an infinity, not "
            "finite numbers (the request of rows 100-199)") in str(raised.value)


def test_an_answer_of_another_shape_is_a_server_error(rig):
    rig.app.script("ai/run", answer([[0.5] * 384 for _ in range(2)]))
    with pytest.raises(errors.ServerError) as raised:
        embed(rig.client(api_token=TOKEN), texts(3))
    assert raised.value.status == 502
    assert "Workers AI answered 3 texts with data of shape (2, 384), not (3, 384)" in str(raised.value)


def test_cls_pooling_is_sent_and_honoured(rig):
    client = rig.client(api_token=TOKEN)
    vectors = embed(client, texts(3), pooling="cls")
    assert wire.loads(rig.app.requests("ai/run")[0].body) == {"text": texts(3), "pooling": "cls"}
    np.testing.assert_allclose(vectors, embed_locally(texts(3), SMALL, "cls"), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("concurrency", [2, 4])
def test_max_concurrency_requests_are_in_flight_and_no_more(rig, concurrency):
    rig.app.always("ai/run", Stall(0.3, then=PASS))  # long enough that every request sent overlaps
    client = rig.client(api_token=TOKEN, concurrency=concurrency, timeout=5)
    vectors = embed(client, texts(400))
    assert sorted(sizes(rig)) == [100] * 4 and vectors.shape == (400, 384)
    assert rig.app.peak == concurrency


# --- retries --------------------------------------------------------------------------------------

def test_capacity_429_and_5xx_are_retried_with_backoff_then_succeed(rig, retry_sleeps):
    rig.app.script("ai/run", Reply(429, code=3040, message="Capacity temporarily exceeded, please try again.",
                                   retry_after="1"),
                   Reply(503), Reply(500))
    client = rig.client(api_token=TOKEN, concurrency=1, max_retries=3)
    vectors = embed(client, texts(150))
    assert rig.app.actions("ai/run") == ["reply 429/3040", "reply 503", "reply 500", "pass", "pass"]
    assert sizes(rig) == [100, 100, 100, 100, 50]  # the same request again each time
    assert retry_sleeps[0] == 1.0 and len(retry_sleeps) == 3  # Retry-After honoured, then backoff
    np.testing.assert_allclose(vectors, embed_locally(texts(150), SMALL), rtol=1e-6, atol=1e-7)


def test_capacity_past_the_retries_is_capacity_exceeded_naming_the_model_and_rows(rig):
    rig.app.script("ai/run", PASS)
    rig.app.always("ai/run", Reply(429, code=3040, message="Capacity temporarily exceeded, please try again."))
    client = rig.client(api_token=TOKEN, concurrency=1, max_retries=2)
    with pytest.raises(errors.CapacityExceeded) as raised:
        embed(client, texts(250))
    assert rig.app.count("ai/run") == 1 + 3  # the third request is never sent
    assert raised.value.code == 3040 and raised.value.status == 429
    assert SMALL in str(raised.value) and "(the request of rows 100-199)" in str(raised.value)
    assert "gave up after 3 attempts" in str(raised.value)


@pytest.mark.parametrize("code", [4006, 3036])
def test_a_spent_daily_allowance_is_not_retried_and_stops_the_job(rig, code):
    """4006 is what the live service answers; 3036 is the code Workers AI's error page gives for the same case,
    which was taken for a plain 429: retried, then told to slow down."""
    rig.app.script("ai/run", PASS)
    rig.app.always("ai/run", Reply(429, code=code, message=QUOTA))
    client = rig.client(api_token=TOKEN, concurrency=1, max_retries=5)
    with pytest.raises(errors.QuotaExceeded) as raised:
        embed(client, texts(500))
    assert rig.app.count("ai/run") == 2  # one answered, one refused, the other three never sent
    assert raised.value.code == code and raised.value.retryable is False
    assert "daily free allocation" in str(raised.value) and "Slow down" not in str(raised.value)
    assert SMALL in str(raised.value) and "rows 100-199" in str(raised.value)


@pytest.mark.parametrize("code", [3007, 3008])
def test_a_workers_ai_timeout_is_retried_and_past_the_retries_a_request_timeout(rig, code):
    """408/3007 "Request timeout" (and 3008, aborted) was an InvalidRequest, the class of "fix your request",
    and never retried; Cloudflare's own SDK retries a 408."""
    timeout = Reply(408, code=code, message="Request timeout")
    rig.app.script("ai/run", timeout)
    client = rig.client(api_token=TOKEN, concurrency=1, max_retries=2)
    np.testing.assert_allclose(embed(client, texts(50)), embed_locally(texts(50), SMALL), rtol=1e-6, atol=1e-7)
    assert rig.app.actions("ai/run") == [f"reply 408/{code}", "pass"]
    rig.app.always("ai/run", timeout)
    with pytest.raises(errors.RequestTimeout) as raised:
        embed(client, texts(50, seed=1))
    assert (raised.value.code, raised.value.status, raised.value.retryable) == (code, 408, True)
    assert not isinstance(raised.value, errors.InvalidRequest) and "gave up after 3 attempts" in str(raised.value)


@pytest.mark.parametrize(("reply", "error", "hint"), [
    (Reply(413, code=3006, message="Request is too large"), errors.PayloadTooLarge, "Send smaller batches"),
    (Reply(404, code=3042, message="The model name is invalid"), errors.UnknownModel, "vz.embedding_models()"),
    (Reply(404, code=7003, message="Could not route to /client/v4/accounts/x/ai/run, perhaps your object "
                                   "identifier is invalid?"), errors.RouteNotFound, "check the account id"),
    (Reply(404), errors.RouteNotFound, "check the account id"),
])
def test_workers_ais_other_refusals_are_told_as_such(rig, reply, error, hint):
    """413/3006 was a plain InvalidRequest, and a 404 on /ai/run carried the hint "The URL does not name a
    Vectorize v2 operation"."""
    rig.app.script("ai/run", reply)
    with pytest.raises(error) as raised:
        embed(rig.client(api_token=TOKEN, max_retries=2), texts(10))
    assert rig.app.count("ai/run") == 1 and raised.value.code == (reply.code or error.code)
    assert raised.value.status == reply.status
    assert hint in str(raised.value) and "Vectorize" not in str(raised.value)


@pytest.mark.parametrize(("reply", "error"), [
    (Reply(400, code=5006, message="AiError: Bad input: Error: oneOf at '/' not met"), errors.BadEmbeddingInput),
    (Reply(400, code=5007, message=f"No such model {SMALL} or task"), errors.UnknownModel),
])
def test_bad_input_and_unknown_model_are_not_retried(rig, reply, error):
    rig.app.script("ai/run", PASS, reply)
    client = rig.client(api_token=TOKEN, concurrency=1, max_retries=5)
    with pytest.raises(error) as raised:
        embed(client, texts(300))
    assert rig.app.count("ai/run") == 2 and raised.value.code == reply.code
    assert "(the request of rows 100-199)" in str(raised.value) and SMALL in str(raised.value)


def test_a_text_over_the_token_limit_is_named_by_the_server_and_by_the_callers_row(rig):
    """The client named only the request ("the request of rows 100-199"), where the local path names the row."""
    rows = texts(250)
    rows[130] = " ".join(["read"] * 600)
    client = rig.client(api_token=TOKEN, concurrency=1)
    with pytest.raises(errors.BadEmbeddingInput) as raised:
        embed(client, rows)
    message = str(raised.value)
    assert "'/text/30' has 602 tokens" in message and "at most 512" in message
    assert "(row 130)" in message and "the request of" not in message and raised.value.row == 130
    assert rig.app.count("ai/run") == 2


def test_a_long_text_of_a_frame_is_named_by_its_label_and_past_the_cache(rig):
    rows = texts(250)
    rows[130] = " ".join(["read"] * 600)
    client = rig.client(api_token=TOKEN, concurrency=1)
    client.embed(rows[100:120], SMALL, progress=False)  # cached: the second request holds rows 120-219
    index = client.create_index("notes", preset=SMALL)
    frame = pd.DataFrame({"id": [f"n{i}" for i in range(250)], "body": rows}, index=range(1000, 1250))
    with pytest.raises(errors.BadEmbeddingInput) as raised:
        frame.vectorize.upsert(index, id="id", text="body", progress=False)
    message = str(raised.value)
    assert "'/text/10' has 602 tokens" in message and "(row 1130)" in message and "the request of" not in message
    assert rig.engine.index_info("notes").vector_count == 0


@pytest.mark.parametrize("wording", ["AiError: Bad input: Error: '/text/100' is too long",
                                     "AiError: Bad input: Error: text 30 is too long"])
def test_a_position_that_cannot_be_read_leaves_the_request_named(rig, wording):
    rig.app.script("ai/run", PASS, Reply(400, code=5006, message=wording))
    with pytest.raises(errors.BadEmbeddingInput) as raised:
        embed(rig.client(api_token=TOKEN, concurrency=1), texts(250))
    assert "(the request of rows 100-199)" in str(raised.value) and raised.value.row is None


def test_with_the_cache_the_rows_named_are_the_callers(rig):
    rows = texts(250)
    client = rig.client(api_token=TOKEN, concurrency=1)
    client.embed(rows[:100], SMALL, progress=False)  # cached: the next job sends rows 100-249 only
    rig.app.script("ai/run", PASS, Reply(400, code=5006, message="AiError: Bad input: Error: too long"))
    with pytest.raises(errors.BadEmbeddingInput) as raised:
        client.embed(rows, SMALL, progress=False)
    assert sizes(rig) == [100, 100, 50] and "(the request of rows 200-249)" in str(raised.value)


@pytest.mark.parametrize(("labels", "named"), [
    (range(1000, 1250), "(the request of rows 1200-1249)"),
    ([f"doc-{i}" for i in range(250)], "(the request of rows 'doc-200' to 'doc-249')"),
])
def test_a_refused_request_of_a_frame_names_its_rows_by_label(rig, labels, named):
    """A frame's request-level error named positions ("rows 200-249") where every other error about a frame's
    rows names its labels; a frame indexed from 1000 has no row 200."""
    client = rig.client(api_token=TOKEN, concurrency=1)
    index = client.create_index("notes", preset=SMALL)
    rig.app.script("ai/run", PASS, PASS, Reply(400, code=5006, message="AiError: Bad input: Error: too long"))
    frame = pd.DataFrame({"id": [f"n{i}" for i in range(250)], "body": texts(250)}, index=labels)
    with pytest.raises(errors.BadEmbeddingInput) as raised:
        frame.vectorize.upsert(index, id="id", text="body", progress=False)
    assert named in str(raised.value) and rig.engine.index_info("notes").vector_count == 0


def test_vectors_a_served_engine_made_are_not_taken_for_cloudflares(rig):
    """The cache keyed both as Workers AI's: after a switch from `vectorize-nb serve` to Cloudflare, texts came
    back as this machine's runtime had made them (cosine ~0.99 to Workers AI's), not as Cloudflare makes them."""
    rows = texts(5)
    served = rig.client(api_token=TOKEN)
    for _ in range(2):
        served.embed(rows, SMALL, progress=False)
    assert len(rig.app.requests("ai/run")) == 1  # the second time from the cache
    cloudflare = rig.client(api_token=TOKEN)
    transport = cloudflare.backend.transport
    transport.target = Target(transport.target.base_url, cloudflare=True)  # this server taken for Cloudflare's API
    for _ in range(2):
        cloudflare.embed(rows, SMALL, progress=False)
    assert len(rig.app.requests("ai/run")) == 2
    assert (served.embedder.report.runs, cloudflare.embedder.report.runs) == ("served", "workers-ai")
    assert "(mean pooling, served)" in str(served.embedder.report)


def test_a_job_stopped_part_way_keeps_what_it_paid_for_and_a_rerun_sends_only_the_rest(rig):
    rows = texts(500)
    rig.app.script("ai/run", PASS, PASS)
    rig.app.always("ai/run", Reply(429, code=4006, message=QUOTA))
    client = rig.client(api_token=TOKEN, concurrency=1)
    with pytest.raises(errors.QuotaExceeded):
        client.embed(rows, SMALL, progress=False)
    rig.app.heal()
    again = client.embed(rows, SMALL, progress=False)
    assert sizes(rig) == [100] * 6 and client.embedder.report.cached == 200
    np.testing.assert_array_equal(again, embed(client, rows))  # uncached: the same vectors


def test_answers_that_came_back_beside_a_failed_request_are_kept(rig):
    """Requests answered while another of the job failed were dropped: only the answers before the failed one
    were cached, so the rerun paid again for the texts of the requests after it."""
    rows = texts(400)
    rig.app.script("ai/run", Stall(0.3, Reply(429, code=4006, message=QUOTA)), PASS, PASS, PASS)
    client = rig.client(api_token=TOKEN, concurrency=4)
    with pytest.raises(errors.QuotaExceeded):
        client.embed(rows, SMALL, progress=False)
    rig.app.heal()
    again = client.embed(rows, SMALL, progress=False)
    assert sizes(rig) == [100] * 5 and client.embedder.report.cached == 300  # the refused request's texts only
    np.testing.assert_array_equal(again, embed(client, rows))


def test_the_stop_button_while_an_answer_is_cached_sends_no_further_request(rig, monkeypatch):
    from vectorize_nb.embeddings import cache

    def interrupted(keeper, start, vectors):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache._Keeper, "__call__", interrupted)
    client = rig.client(api_token=TOKEN, concurrency=1)
    with pytest.raises(KeyboardInterrupt):
        client.embed(texts(500), SMALL, progress=False)
    assert rig.app.wait_idle() and rig.app.count("ai/run") <= 2  # the first answered, the next perhaps in flight


def test_a_single_request_job_names_no_rows(rig):
    rig.app.script("ai/run", Reply(400, code=5006, message="AiError: Bad input: Error: nope"))
    with pytest.raises(errors.BadEmbeddingInput) as raised:
        embed(rig.client(api_token=TOKEN), texts(40))
    assert "the request of" not in str(raised.value)


# --- the token ------------------------------------------------------------------------------------

def test_the_token_is_in_no_repr_error_or_log_line(rig, caplog):
    caplog.set_level(logging.DEBUG)
    client = rig.client(api_token=TOKEN, concurrency=2)
    rig.app.script("ai/run", Reply(503), Reply(400, code=5006, message="AiError: Bad input: Error: nope"))
    with pytest.raises(errors.BadEmbeddingInput) as raised:
        embed(client, texts(150))
    backend = client.backend
    shown = [repr(client), repr(backend), repr(backend.workers_ai), repr(backend.transport),
             repr(backend.transport.session.auth), repr(client.embedder), str(raised.value), repr(raised.value),
             caplog.text]
    assert caplog.records and all(TOKEN not in text for text in shown)
    wrong = rig.client(api_token="wrong-" + TOKEN)
    with pytest.raises(errors.AuthenticationError) as refused:
        embed(wrong, texts(3))
    assert refused.value.status == 401 and TOKEN not in str(refused.value) and TOKEN not in caplog.text


# --- Workers AI's rate limits ----------------------------------------------------------------------

def test_text_embeddings_share_one_limit_but_a_model_with_its_own_figure_apart_from_vectorizes(rig):
    """Workers AI's limits are per task type unless a model has its own figure: bge-small and bge-base share
    Text Embeddings' 3000 requests a minute (each had 3000 of its own); bge-large has 1500."""
    backend = rig.client(api_token=TOKEN).backend
    workers_ai = backend.workers_ai
    small, large = workers_ai.limiter(SMALL), workers_ai.limiter(LARGE)
    assert workers_ai.limiter("@cf/baai/bge-base-en-v1.5") is small is workers_ai.limiter("@cf/baai/bge-m3")
    assert small is not large and small is not backend.transport.limiter
    assert (small.capacity, small.rate) == (3000, 50.0) and (large.capacity, large.rate) == (1500, 25.0)


def test_requests_wait_for_their_models_limit(rig, monkeypatch):
    now, waits = [0.0], []

    def sleep(seconds: float) -> None:  # a clock that moves only when the limiter waits
        waits.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(ai, "REQUESTS_PER_MINUTE", 2)
    monkeypatch.setattr(ai, "RateLimiter", lambda requests, window: RateLimiter(requests, window,
                                                                                clock=lambda: now[0], sleep=sleep))
    client = rig.client(api_token=TOKEN, concurrency=1)
    embed(client, texts(500))  # five requests: two within the burst, then one every 30 s
    assert rig.app.count("ai/run") == 5 and waits == [30.0, 30.0, 30.0]


def test_the_threads_of_one_job_share_one_limiter(rig, monkeypatch):
    def slow(requests: int, window: float) -> RateLimiter:
        time.sleep(0.05)  # widens the window in which two threads could each make one
        return RateLimiter(requests, window)

    monkeypatch.setattr(ai, "RateLimiter", slow)
    workers_ai = rig.client(api_token=TOKEN).backend.workers_ai
    found: list[RateLimiter] = []
    threads = [threading.Thread(target=lambda: found.append(workers_ai.limiter(SMALL))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(found) == 6 and len({id(limiter) for limiter in found}) == 1


# --- text in, end to end over REST ----------------------------------------------------------------

def test_text_upserted_and_queried_through_the_served_engine(rig):
    client = rig.client(api_token=TOKEN, concurrency=2)
    index = client.create_index("notes", preset=SMALL)
    frame = pd.DataFrame({"id": [f"n{i}" for i in range(150)], "body": texts(150)})
    frame.vectorize.upsert(index, id="id", text="body", progress=False, wait=True)
    assert sorted(sizes(rig)) == [50, 100]
    found = index.query(texts(150)[42], top_k=3)
    assert found["id"].iloc[0] == "n42"
    np.testing.assert_allclose(found["score"].iloc[0], 1.0, rtol=1e-5)
    stored = rig.engine.get_by_ids("notes", ["n7"])[0].values
    np.testing.assert_allclose(stored, embed_locally(texts(150)[7], SMALL)[0], rtol=1e-6, atol=1e-7)
