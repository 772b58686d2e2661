"""One client used from several threads at once, as a notebook does (a thread pool over queries, a write in a
background thread, a widget's callback while a cell runs): every answer is one the index held at some point,
every error is one the API documents, and nothing hangs (each thread is joined with a timeout)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.contract.embedding_models import SHIPPED_MODEL
from vectorize_nb.local.server import serve

from .helpers import TINY, cosine

DIMS = 8
IDS = [f"v{i}" for i in range(24)]
JOIN_SECONDS = 60


def value(vid: str, version: int) -> np.ndarray:
    """The vector of id `vid` as written the `version`-th time: distinct for every (id, version)."""
    seed = int(vid[1:]) * 1000 + version
    return np.random.default_rng(seed).standard_normal(DIMS).astype(np.float32)


def together(*work: Callable[[], None]) -> list[BaseException]:
    """Run each callable in a thread of its own, all at once; the exceptions they raised (none left alive)."""
    failures: list[BaseException] = []
    start = threading.Barrier(len(work))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait(JOIN_SECONDS)
            job()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(job,), daemon=True) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running: a deadlock"
    return failures


def open_files(folder: Path) -> list[str]:
    """The files under `folder` this process holds open."""
    fds = Path("/proc/self/fd")
    held = []
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(folder)):
            held.append(target)
    return held


# Queries here race other threads' upserts on purpose: "not applied yet, this answer may not show it" is true of them.
pytestmark = pytest.mark.filterwarnings("ignore:this client's last upsert or insert:UserWarning")

def connected(kind: str, folder: Path) -> Iterator[vz.Client]:
    """A client of the engine in memory, in a folder, served, or in memory applying writes a while after them."""
    server = serve(memory=True, limits=TINY) if kind == "served" else None
    target = {"memory": "memory", "delayed": "memory", "folder": "local", "served": server and server.url}[kind]
    client = vz.connect(target, path=folder, limits=TINY, account_id="local",
                        apply_delay=0.02 if kind == "delayed" else 0.0)
    yield client
    client.close()
    if server is not None:
        server.close()


@pytest.fixture(params=["memory", "folder", "served"])
def client(request, tmp_path) -> Iterator[vz.Client]:
    yield from connected(request.param, tmp_path / "account")


@pytest.fixture(params=["memory", "delayed", "folder", "served"])
def any_client(request, tmp_path) -> Iterator[vz.Client]:
    yield from connected(request.param, tmp_path / "account")


def check_answer(frame: pd.DataFrame, query: np.ndarray, written: dict[str, list[np.ndarray]]) -> None:
    """Every match an id that was written, with the score of one of the vectors written under it, best first."""
    assert frame["score"].is_monotonic_decreasing
    for vid, score in zip(frame["id"], frame["score"]):
        assert vid in written, vid
        assert any(abs(score - cosine(row, query)) < 1e-5 for row in written[vid]), (vid, score)


def expected(state: dict[str, np.ndarray], query: np.ndarray, top_k: int) -> list[str]:
    scores = {vid: cosine(row, query) for vid, row in state.items()}
    return sorted(scores, key=lambda vid: (-scores[vid], vid))[:top_k]


# --- queries while another thread writes ----------------------------------------------------------------


def test_queries_while_another_thread_upserts_and_deletes_see_stored_vectors_then_the_final_state(any_client):
    idx = any_client.create_index("ix", dimensions=DIMS)
    written = {vid: [value(vid, 0)] for vid in IDS}
    idx.upsert(IDS, np.stack([written[vid][0] for vid in IDS]), wait=True)
    state = {vid: rows[0] for vid, rows in written.items()}
    for version in range(1, 6):  # every vector the writer will write, known before any thread reads
        for vid in IDS[version::3]:
            written[vid].append(value(vid, version))
    queries = np.random.default_rng(7).standard_normal((30, DIMS)).astype(np.float32)

    def writer() -> None:
        for version in range(1, 6):
            changed = IDS[version::3]
            idx.upsert(changed, np.stack([value(vid, version) for vid in changed]))
            state.update({vid: value(vid, version) for vid in changed})
            idx.delete_by_ids(IDS[version - 1::7])
            for vid in IDS[version - 1::7]:
                state.pop(vid, None)

    def reader(first: int) -> Callable[[], None]:
        def read() -> None:
            for query in queries[first::3]:
                check_answer(idx.query(query, top_k=5), query, written)
        return read

    assert together(writer, reader(0), reader(1), reader(2)) == []
    idx.wait()
    finals: list[list[str]] = []

    def final(query: np.ndarray) -> Callable[[], None]:
        return lambda: finals.append(idx.query(query, top_k=5)["id"].tolist())

    assert together(*(final(queries[0]) for _ in range(3))) == []
    assert finals == [expected(state, queries[0], 5)] * 3


def test_several_indexes_of_one_client_written_and_queried_at_once(client):
    indexes = [client.create_index(f"ix{n}", dimensions=DIMS, metric="euclidean") for n in range(3)]
    query = np.zeros(DIMS, np.float32)
    found: dict[str, list[str]] = {}

    def work(idx: vz.Index, n: int) -> Callable[[], None]:
        def run() -> None:
            for version in range(8):
                idx.upsert([f"{idx.name}-{version}"], np.full((1, DIMS), version + 1, np.float32))
                matches = idx.query(query, top_k=100)["id"].tolist()
                assert matches == [f"{idx.name}-{v}" for v in range(version + 1)]
            found[idx.name] = idx.query(query, top_k=100)["id"].tolist()
        return run

    assert together(*(work(idx, n) for n, idx in enumerate(indexes))) == []
    assert found == {idx.name: [f"{idx.name}-{v}" for v in range(8)] for idx in indexes}


def test_a_frame_upserted_in_one_thread_while_another_queries(client):
    idx = client.create_index("ix", dimensions=DIMS)
    rows = np.stack([value(vid, 0) for vid in IDS])
    frame = pd.DataFrame({"doc": IDS, "embedding": list(rows), "n": range(len(IDS))})
    written = {vid: [row] for vid, row in zip(IDS, rows)}
    queries = np.random.default_rng(3).standard_normal((20, DIMS)).astype(np.float32)

    frame.iloc[:4].vectorize.upsert(idx, id="doc", vector="embedding", metadata=["n"])  # no "nothing stored" warning

    def write() -> None:
        for start in range(4, len(IDS), 4):
            frame.iloc[start:start + 4].vectorize.upsert(idx, id="doc", vector="embedding", metadata=["n"])

    def read() -> None:
        for query in queries:
            check_answer(idx.query(query, top_k=10, return_metadata="all"), query, written)

    assert together(write, read) == []
    idx.wait()
    assert idx.query(queries[0], top_k=3)["id"].tolist() == expected(dict(zip(IDS, rows)), queries[0], 3)


def test_query_many_from_several_threads_answers_each_as_alone(client):
    idx = client.create_index("ix", dimensions=DIMS)
    rows = np.stack([value(vid, 0) for vid in IDS])
    idx.upsert(IDS, rows, wait=True)
    state = dict(zip(IDS, rows))
    queries = np.random.default_rng(5).standard_normal((12, DIMS)).astype(np.float32)
    answers: dict[int, pd.DataFrame] = {}

    def ask(n: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(5):
                answers[n] = idx.query_many(queries[n::3], top_k=4)
        return run

    assert together(*(ask(n) for n in range(3))) == []
    for n, frame in answers.items():
        for key, matches in frame.groupby("query"):
            assert matches["id"].tolist() == expected(state, queries[n::3][key], 4)


# --- an index deleted, a client closed, while other threads use them --------------------------------------


def gone_or_done(exc: BaseException) -> bool:
    """What a call on an index deleted under it may raise: IndexNotFound (3005 included), or a write's
    WriteIncomplete whose cause is that."""
    cause = exc.__cause__ if isinstance(exc, vz.WriteIncomplete) else exc
    return isinstance(cause, errors.IndexNotFound)


def test_an_index_deleted_while_other_threads_use_it_says_not_found_and_its_writes_stay_out_of_a_new_one(client):
    idx = client.create_index("ix", dimensions=DIMS)
    idx.upsert(IDS, np.stack([value(vid, 0) for vid in IDS]), wait=True)
    deleted = threading.Event()
    refusals: list[BaseException] = []

    def user(n: int) -> Callable[[], None]:
        def run() -> None:
            for step in range(200):
                try:
                    if step % 2:
                        idx.upsert([f"old-{n}-{step}"], value("v1", step)[None, :])
                    else:
                        idx.query(value("v2", step), top_k=3)
                except Exception as exc:
                    assert gone_or_done(exc), repr(exc)
                    assert deleted.wait(JOIN_SECONDS)
                    refusals.append(exc)
                    return
        return run

    def delete() -> None:
        client.delete_index("ix")
        deleted.set()

    assert together(user(0), user(1), user(2), delete) == []
    again = client.create_index("ix", dimensions=DIMS)
    assert again.list_ids() == [] and again.info().vector_count == 0


@pytest.mark.parametrize("where", ["folder", "served"])
def test_close_while_other_threads_are_mid_call_finishes_them_or_says_closed_and_releases_the_files(tmp_path, where):
    folder = tmp_path / "account"
    server = serve(path=folder, limits=TINY) if where == "served" else None
    client = vz.connect(server.url if server else "local", path=folder, limits=TINY, account_id="local")
    idx = client.create_index("ix", dimensions=DIMS)
    idx.upsert(IDS, np.stack([value(vid, 0) for vid in IDS]), wait=True)
    client.embed(["warm the cache file"], SHIPPED_MODEL)
    under_way = [threading.Event() for _ in range(3)]

    def busy(call: Callable[[int], object], n: int) -> Callable[[], None]:
        def run() -> None:
            for step in range(300):
                if step == 3:
                    under_way[n].set()
                try:
                    call(step)
                except (errors.ClientClosed, vz.WriteIncomplete) as exc:
                    closed = exc.__cause__ if isinstance(exc, vz.WriteIncomplete) else exc
                    assert isinstance(closed, errors.ClientClosed), repr(exc)
                    return
            raise AssertionError("no call after close() said the client was closed")
        return run

    def close() -> None:
        assert all(event.wait(JOIN_SECONDS) for event in under_way)  # each thread has made calls, and makes more
        client.close()

    assert together(busy(lambda step: idx.query(value("v1", step), top_k=3), 0),
                    busy(lambda step: idx.upsert([f"w{step}"], value("v2", step)[None, :]), 1),
                    busy(lambda step: client.embed([f"text number {step}"], SHIPPED_MODEL), 2),
                    close) == []
    if server is not None:
        server.close()
    assert open_files(folder) == []


# --- texts ---------------------------------------------------------------------------------------------


def test_texts_embedded_and_written_from_two_threads_at_once_are_those_of_one_thread_and_cached_once(tmp_path):
    texts = [f"how do I read file number {n}?" for n in range(40)]
    with vz.connect("memory", limits=TINY) as alone:
        reference = alone.embed(texts, SHIPPED_MODEL, cache=False)
    client = vz.connect(path=tmp_path / "account", limits=TINY)
    docs = client.create_index("docs", dimensions=reference.shape[1])
    frame = pd.DataFrame({"doc": [f"d{n}" for n in range(len(texts))], "text": texts})
    got: dict[int, list[np.ndarray]] = {0: [], 1: []}

    def embed(n: int) -> Callable[[], None]:
        def run() -> None:
            for start in range(0, len(texts), 8):
                got[n].append(client.embed(texts[start:start + 8], SHIPPED_MODEL))
                frame.iloc[start:start + 8].vectorize.upsert(docs, id="doc", text="text", model=SHIPPED_MODEL)
        return run

    assert together(embed(0), embed(1)) == []
    for n in got:
        np.testing.assert_array_equal(np.concatenate(got[n]), reference)
    stored = docs.get_by_ids(frame["doc"].tolist())
    np.testing.assert_array_equal(np.stack(stored["values"].tolist()), reference)
    assert len(client.embedder.cache) == len(texts)
    np.testing.assert_array_equal(client.embed(texts, SHIPPED_MODEL), reference)
    assert client.embedder.report.cached == len(texts)
    client.close()


def held_in(monkeypatch, module: object, name: str) -> tuple[threading.Event, threading.Event]:
    """Make `module.name` wait, once entered, until released: (entered, release)."""
    entered, release = threading.Event(), threading.Event()
    original = getattr(module, name)

    def held(*args: object, **kwargs: object) -> object:
        entered.set()
        assert release.wait(JOIN_SECONDS)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return entered, release


def closed_under(client: vz.Client, entered: threading.Event, release: threading.Event,
                 call: Callable[[], object]) -> list[object]:
    """Run `call` in a thread, close the client once the call is inside, then let the call go on: what it
    returned or raised."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert entered.wait(JOIN_SECONDS)
    client.close()
    release.set()
    thread.join(JOIN_SECONDS)
    assert not thread.is_alive()
    return outcome


def test_an_embed_under_way_when_its_client_closes_finishes_without_opening_the_cache_again(tmp_path, monkeypatch):
    import vectorize_nb.embeddings as embeddings

    with vz.connect("memory", limits=TINY) as elsewhere:
        reference = elsewhere.embed(["a new text"], SHIPPED_MODEL, cache=False)
    client = vz.connect(path=tmp_path / "account", limits=TINY)
    client.embed(["a text"], SHIPPED_MODEL)  # the cache file is open
    entered, release = held_in(monkeypatch, embeddings, "embed_locally")
    outcome = closed_under(client, entered, release, lambda: client.embed(["a new text"], SHIPPED_MODEL))
    np.testing.assert_array_equal(outcome[0], reference)
    assert open_files(tmp_path / "account") == []
    with pytest.raises(errors.ClientClosed):
        client.embed(["a new text"], SHIPPED_MODEL)


def test_an_embed_that_began_before_close_opens_no_cache_after_it(tmp_path, monkeypatch):
    import vectorize_nb.embedder as embedder

    client = vz.connect(path=tmp_path / "account", limits=TINY)  # its cache not opened yet
    entered, release = held_in(monkeypatch, embedder, "check_texts")
    outcome = closed_under(client, entered, release, lambda: client.embed(["a text"], SHIPPED_MODEL))
    assert isinstance(outcome[0], errors.ClientClosed)
    assert open_files(tmp_path / "account") == []
