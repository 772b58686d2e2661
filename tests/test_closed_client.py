"""A closed client: closing again is harmless, and any later call, from any thread, says the client is closed."""

import threading

import numpy as np
import pytest
import requests

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.contract.embedding_models import SHIPPED_MODEL
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.server import serve

from .helpers import TINY

CALLS = {
    "query": lambda c, idx: idx.query(np.ones(2), top_k=1),
    "upsert": lambda c, idx: idx.upsert(["z"], np.ones((1, 2))),
    "info": lambda c, idx: idx.info(),
    "to_frame": lambda c, idx: idx.to_frame(),
    "list_indexes": lambda c, idx: c.list_indexes(),
    "create_index": lambda c, idx: c.create_index("other", dimensions=2),
    "embed": lambda c, idx: c.embed(["a text"], SHIPPED_MODEL),  # a local model: the backend is not asked
}


@pytest.fixture(params=["memory", "folder", "served"])
def client(request, tmp_path):
    server = serve(memory=True, limits=TINY) if request.param == "served" else None
    target = {"memory": "memory", "folder": "local", "served": server and server.url}[request.param]
    client = vz.connect(target, path=tmp_path / "account", limits=TINY, account_id="local", max_retries=0)
    yield client
    client.close()
    if server is not None:
        server.close()


def ready(client):
    idx = client.create_index("ix", dimensions=2, metric="euclidean")
    idx.upsert(["a", "b"], np.float32([[1, 0], [0, 1]]))
    return idx


@pytest.mark.parametrize("call", list(CALLS))
def test_a_call_after_close_raises_client_closed(client, call):
    idx = ready(client)
    client.close()
    with pytest.raises((errors.ClientClosed, vz.WriteIncomplete), match="this client was closed") as caught:
        CALLS[call](client, idx)
    closed = caught.value.__cause__ if isinstance(caught.value, vz.WriteIncomplete) else caught.value  # a write's
    assert isinstance(closed, errors.ClientClosed) and str(closed).endswith("Open a new client with vz.connect()")


def test_closing_twice_or_on_leaving_a_with_block_after_close_is_harmless(client):
    ready(client)
    with client:
        client.close()
    client.close()


def test_a_query_in_flight_when_another_thread_closes_finishes_and_the_next_says_closed(tmp_path, monkeypatch):
    client = vz.connect(path=tmp_path / "account", limits=TINY)
    idx = ready(client)
    inside, release = threading.Event(), threading.Event()
    answer = LocalEngine._answer

    def held(engine, *args):
        inside.set()
        release.wait(10)
        return answer(engine, *args)

    monkeypatch.setattr(LocalEngine, "_answer", held)
    found: list[object] = []
    querying = threading.Thread(target=lambda: found.append(idx.query(np.float32([1, 0]), top_k=1)["id"].tolist()))
    querying.start()
    assert inside.wait(10)
    closing = threading.Thread(target=client.close)
    closing.start()
    release.set()
    querying.join(10)
    closing.join(10)
    assert found == [["a"]] and not closing.is_alive()
    with pytest.raises(errors.ClientClosed):
        idx.query(np.float32([1, 0]), top_k=1)


def test_a_write_whose_client_is_closed_half_way_says_what_was_written(tmp_path, monkeypatch):
    client = vz.connect(path=tmp_path / "account", limits=TINY)
    idx = client.create_index("ix", dimensions=2)
    write = LocalEngine.write
    batches = []

    def then_closed(engine, *args):  # a widget's callback, say, closes the client between two batches
        batches.append(write(engine, *args))
        if len(batches) == 2:
            client.close()
        return batches[-1]

    monkeypatch.setattr(LocalEngine, "write", then_closed)
    ids = [f"v{i}" for i in range(5)]
    with pytest.raises(vz.WriteIncomplete) as caught:
        idx.upsert(ids, np.ones((5, 2)), batch_size=1)
    assert caught.value.result.unwritten_ids == ids[2:]
    assert isinstance(caught.value.__cause__, errors.ClientClosed)
    with LocalEngine(tmp_path / "account", limits=TINY) as reopened:
        assert [r.id for r in reopened.get_by_ids("ix", ids)] == ids[:2]


def test_an_engine_closed_under_its_server_answers_507_that_no_client_retries_not_a_broken_status_line():
    engine = LocalEngine(limits=TINY)
    with serve(engine=engine, limits=TINY) as server:
        engine.close()
        response = requests.get(f"{server.url}/accounts/local/vectorize/v2/indexes", timeout=10)
        assert response.status_code == 507
        assert response.json()["errors"][0]["message"] == ("this server's engine was closed: it reads and writes "
                                                           "nothing more")
        client = vz.connect(server.url, account_id=server.account_id, limits=TINY, max_retries=5)
        with pytest.raises(errors.StorageRefused) as refused:
            client.list_indexes()
        assert refused.value.retryable is False and "gave up after" not in str(refused.value)

