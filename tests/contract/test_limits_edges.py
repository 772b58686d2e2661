"""Every limit of Vectorize at its exact boundary, on every target: the value at the limit is taken and
answered exactly, one past it is refused with the spec's class and code, a message naming the limit and
the value, and nothing written. Through the Python API in process and against a served engine, and as
raw REST requests where Cloudflare's own clients would send them (the Python client splits or refuses
before sending, so only raw requests reach the server's checks)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import requests

import vectorize_nb as vz
from vectorize_nb import errors

WIDTH = 32  # Cloudflare's smallest width: the default limits throughout
EMOJI_64, EMOJI_65 = "😀" * 16, "😀" * 16 + "a"  # four bytes a character
ACUTE_64, ACUTE_65 = "é" * 32, "é" * 32 + "a"  # two bytes a character
META_PAD = len('{"t":""}')


def row(*hot: int) -> list[float]:
    values = [0.0] * WIDTH
    for position in hot:
        values[position] = 1.0
    return values


@pytest.fixture(params=["memory", "served"])
def client(request):
    if request.param == "memory":
        with vz.connect("memory") as opened:
            yield opened
        return
    with vz.serve(memory=True, port=0) as server, vz.connect(server.url, max_retries=0) as opened:
        yield opened


@pytest.fixture
def index(client):
    return client.create_index("films", WIDTH, "cosine")


@dataclass(frozen=True)
class Edge:
    """One limit: `at(index)` is taken and returns what the test compares with `answer`; `past(index)` is
    refused with `error` (its code checked too), the message holding each of `said`."""

    name: str
    at: Callable[[Any], Any]
    answer: Any
    past: Callable[[Any], Any]
    error: type[errors.VectorizeError]
    said: tuple[str, ...]


def stored(index, vid, column="id", **write):
    index.upsert([vid], [row(0)], wait=True, **write)
    return index.get_by_ids([vid])[column].tolist()


def answered(index, method="query", **options):
    """How many matches a query of an index of 101 vectors gets."""
    index.upsert([f"v{n}" for n in range(101)], np.random.default_rng(7).random((101, WIDTH)), wait=True)
    if method == "query_many":
        return index.query_many([row(0), row(1)], **options).groupby("query").size().tolist()
    return len(getattr(index, method)(row(0) if method == "query" else "v0", **options))


def indexes_up_to(index, count):
    for number in range(count):
        index.create_metadata_index(f"p{number}", "string")
    return len(index.list_metadata_indexes())


def ids_of(frame):
    return frame["id"].tolist()


ACUTE_METADATA = "é" * ((10240 - META_PAD) // 2)  # compact JSON of exactly 10,240 bytes
FILTER_FILL = "x" * (2047 - len('{"p0":""}'))  # compact JSON of 2,047 bytes: under 2,048
TOP_K = "with returnValues=true or returnMetadata=all, max top K is 50, but got 51"

EDGES = [
    Edge("id of four-byte characters", lambda i: stored(i, EMOJI_64), [EMOJI_64],
         lambda i: i.upsert(["ok", EMOJI_65], [row(0), row(1)]), errors.IdTooLong,
         ("max is 64 bytes, got 65 bytes", f'id="{EMOJI_65}"')),
    Edge("id of two-byte characters", lambda i: stored(i, ACUTE_64), [ACUTE_64],
         lambda i: i.upsert(["ok", ACUTE_65], [row(0), row(1)]), errors.IdTooLong,
         ("max is 64 bytes, got 65 bytes", f'id="{ACUTE_65}"')),
    Edge("id asked for", lambda i: ids_of(i.get_by_ids([EMOJI_64])), [],
         lambda i: i.get_by_ids(["a", EMOJI_65]), errors.IdTooLong, ("max is 64 bytes, got 65 bytes",)),
    Edge("id deleted", lambda i: i.delete_by_ids([EMOJI_64], wait=True).written, 1,
         lambda i: i.delete_by_ids(["a", EMOJI_65]), errors.IdTooLong, ("max is 64 bytes, got 65 bytes",)),
    Edge("id queried by", lambda i: stored(i, EMOJI_64) and ids_of(i.query_by_id(EMOJI_64)), [EMOJI_64],
         lambda i: i.query_by_id(EMOJI_65), errors.IdTooLong, ("max is 64 bytes, got 65 bytes",)),
    Edge("namespace written", lambda i: stored(i, "n", "namespace", namespaces=[EMOJI_64]), [EMOJI_64],
         lambda i: i.upsert(["ok", "n"], [row(0), row(1)], namespaces=[None, EMOJI_65]), errors.NamespaceTooLong,
         ('for id="n"', "max is 64 bytes, got 65 bytes")),
    Edge("namespace queried", lambda i: stored(i, "n", namespaces=[ACUTE_64]) and ids_of(
        i.query(row(0), namespace=ACUTE_64)), ["n"],
         lambda i: i.query(row(0), namespace=ACUTE_65), errors.NamespaceTooLong, ("max is 64 bytes, got 65 bytes",)),
    Edge("metadata of two-byte characters", lambda i: stored(i, "m", "t", metadata=[{"t": ACUTE_METADATA}]),
         [ACUTE_METADATA],
         lambda i: i.upsert(["ok", "m"], [row(0), row(1)], metadata=[None, {"t": ACUTE_METADATA + "a"}]),
         errors.MetadataTooLarge, ('id="m"', "max is 10240 bytes, got 10241 bytes")),
    Edge("metadata indexes", lambda i: indexes_up_to(i, 10), 10,
         lambda i: indexes_up_to(i, 10) and i.create_metadata_index("p10", "string"), errors.TooManyMetadataIndexes,
         ("max is 10 per index", '"films" has 10')),
    Edge("topK without values", lambda i: answered(i, top_k=100, return_metadata="indexed"), 100,
         lambda i: i.query(row(0), top_k=101), errors.TopKTooLarge, ("max top K is 100, but got 101",)),
    Edge("topK with values", lambda i: answered(i, top_k=50, return_values=True), 50,
         lambda i: i.query(row(0), top_k=51, return_values=True), errors.TopKTooLarge, (TOP_K,)),
    Edge("topK with all metadata", lambda i: answered(i, "query_by_id", top_k=50, return_metadata="all"), 50,
         lambda i: i.query_by_id("a", top_k=51, return_metadata="all"), errors.TopKTooLarge, (TOP_K,)),
    Edge("topK of several queries", lambda i: answered(i, "query_many", top_k=50, return_values=True), [50, 50],
         lambda i: i.query_many([row(0), row(1)], top_k=51, return_values=True), errors.TopKTooLarge, (TOP_K,)),
    Edge("list page, largest", lambda i: i.list_vectors(1000).attrs["is_truncated"], False,
         lambda i: i.list_vectors(1001), errors.InvalidListCount, ("from 1 to 1000, got 1001",)),
    Edge("list page, smallest", lambda i: i.list_vectors(1).attrs["is_truncated"], False,
         lambda i: i.list_vectors(0), errors.InvalidListCount, ("from 1 to 1000, got 0",)),
    Edge("filter size", lambda i: len(i.query(row(0), filter={"p0": FILTER_FILL})), 0,
         lambda i: i.query(row(0), filter={"p0": FILTER_FILL + "x"}), errors.InvalidFilter,
         ("under 2048 bytes, got 2048 bytes",)),
    Edge("filter size in two-byte characters", lambda i: len(i.query(row(0), filter={"p0": "é" * 1019})), 0,
         lambda i: i.query(row(0), filter={"p0": "é" * 1019 + "x"}), errors.InvalidFilter,
         ("under 2048 bytes, got 2048 bytes",)),
    Edge("filter key in characters", lambda i: len(i.query(row(0), filter={"é" * 512: 1})), 0,
         lambda i: i.query(row(0), filter={"é" * 513: 1}), errors.InvalidFilter, ("max is 512 characters, got 513",)),
]


@pytest.mark.filterwarnings("ignore::vectorize_nb.errors.VectorizeWarning")
@pytest.mark.parametrize("edge", EDGES, ids=[edge.name for edge in EDGES])
def test_a_limit_is_taken_at_its_value_and_refused_one_past_it(index, edge):
    assert edge.at(index) == edge.answer
    before = (index.info().vector_count, index.list_metadata_indexes().to_dict("records"))
    with pytest.raises(errors.VectorizeError) as refused:
        edge.past(index)
    assert (type(refused.value), refused.value.code) == (edge.error, edge.error.code)
    for words in edge.said:
        assert words in refused.value.message
    assert (index.info().vector_count, index.list_metadata_indexes().to_dict("records")) == before


def test_a_metadata_index_already_there_is_created_again_at_the_limit(index):
    indexes_up_to(index, 10)
    assert index.create_metadata_index("p3", "string")
    assert len(index.list_metadata_indexes()) == 10


@pytest.mark.parametrize("name, error", [("a" * 64, None), ("a" * 65, errors.InvalidIndexName),
                                         ("aé", errors.InvalidIndexName)])
def test_an_index_name_is_at_most_64_bytes_of_its_alphabet(client, name, error):
    if error is None:
        assert client.create_index(name, WIDTH, "cosine").name == name
        return
    with pytest.raises(error, match=f"{name!r} is not valid; .* at most 64 bytes"):
        client.create_index(name, WIDTH, "cosine")
    assert len(client.list_indexes()) == 0


@pytest.mark.parametrize("dimensions, taken", [(32, True), (1536, True), (31, False), (1537, False)])
def test_dimensions_are_32_to_1536(client, dimensions, taken):
    if taken:
        assert client.create_index("films", dimensions, "cosine").dimensions == dimensions
        return
    with pytest.raises(errors.InvalidIndexConfig, match=rf"\[32, 1536\], got {dimensions}"):
        client.create_index("films", dimensions, "cosine")
    assert len(client.list_indexes()) == 0


def test_a_string_index_keeps_the_first_64_bytes_cut_on_a_character_and_filters_compare_those(index):
    index.create_metadata_index("title", "string")
    cut, whole = "a" * 63, "a" * 63 + "é" + "tail"  # the é spans bytes 64 and 65: the cut leaves it out
    index.upsert(["long", "short"], [row(0), row(1)], metadata=[{"title": whole}, {"title": "a" * 62}], wait=True)
    indexed = index.query(row(0), top_k=2, filter={"title": {"$gte": "a"}}, return_metadata="indexed")
    assert dict(zip(indexed["id"], indexed["title"])) == {"long": cut, "short": "a" * 62}
    assert ids_of(index.query(row(0), filter={"title": cut})) == ["long"]
    assert ids_of(index.query(row(0), filter={"title": {"$gt": "a" * 62}})) == ["long"]
    assert index.get_by_ids(["long"])["title"].tolist() == [whole]
    assert index.query(row(0), top_k=1, return_metadata="all")["title"].tolist() == [whole]


def test_the_client_splits_what_one_request_may_not_hold(index):
    ids = [f"v{number}" for number in range(5001)]
    result = index.upsert(ids, np.eye(5001, WIDTH, dtype=np.float32), wait=True)
    assert (result.written, len(result.batches), index.info().vector_count) == (5001, 2, 5001)
    assert ids_of(index.get_by_ids(ids[:21])) == ids[:21]
    assert index.delete_by_ids(ids[:101], wait=True).written == 101
    assert index.info().vector_count == 4900


# --- a DataFrame: a bad row deep in a frame of several batches --------------------------------------

FRAME_ROWS = 10_001  # three batches of 5,000


def big_frame():
    return pd.DataFrame({"id": [f"v{number}" for number in range(FRAME_ROWS)],
                         "vec": [np.eye(1, WIDTH, dtype=np.float32)[0]] * FRAME_ROWS,
                         "ns": ["n"] * FRAME_ROWS, "t": ["x"] * FRAME_ROWS, "nested": [{"a": 1}] * FRAME_ROWS},
                        index=[f"lab{number}" for number in range(FRAME_ROWS)])


def spoil(column, value):
    def spoiled():
        frame = big_frame()
        frame.at["lab10000", column] = value
        return frame
    return spoiled


@pytest.mark.parametrize("frame, columns, error, said", [
    (spoil("id", EMOJI_65), {}, errors.IdTooLong, "max is 64 bytes, got 65 bytes"),
    (spoil("ns", EMOJI_65), {"namespace": "ns"}, errors.NamespaceTooLong, "max is 64 bytes, got 65 bytes"),
    (spoil("t", "x" * 10240), {"metadata": ["t"]}, errors.MetadataTooLarge, "max is 10240 bytes, got 10248 bytes"),
    (spoil("nested", {"t": "x" * 10240}), {"metadata": "nested"}, errors.MetadataTooLarge,
     "max is 10240 bytes, got 10259 bytes"),
], ids=["id", "namespace", "flat metadata", "nested metadata"])
def test_a_frame_with_a_row_past_a_limit_is_refused_naming_its_label_before_any_batch(index, frame, columns, error,
                                                                                     said):
    with pytest.raises(error) as refused:
        frame().vectorize.upsert(index, id="id", vector="vec", wait=True, **columns)
    assert refused.value.code == error.code and refused.value.nothing_written
    assert said in refused.value.message and "row 'lab10000'" in refused.value.message
    assert index.info().vector_count == 0


def test_a_frame_at_every_limit_is_written_whole(index):
    frame = big_frame()
    frame.at["lab10000", "id"] = frame.at["lab10000", "ns"] = EMOJI_64
    frame.at["lab10000", "t"] = "x" * (10240 - META_PAD)
    frame.vectorize.upsert(index, id="id", vector="vec", namespace="ns", metadata=["t"], wait=True)
    assert index.info().vector_count == FRAME_ROWS
    fetched = index.get_by_ids([EMOJI_64])
    assert (fetched["namespace"].tolist(), len(fetched["t"][0])) == ([EMOJI_64], 10240 - META_PAD)


# --- raw REST: what Cloudflare's own clients send, where the Python client would split or refuse first ------

def ndjson(records):
    return "\n".join(json.dumps(record, ensure_ascii=False) for record in records).encode()


def vectors(count, **fields):
    return [{"id": f"v{number}", "values": row(0), **fields} for number in range(count)]


def meta(size):
    return {"t": "x" * (size - META_PAD)}


def long_filter(size):
    return {"p0": "x" * (size - len('{"p0":""}'))}


RAW = [  # (limit, route, body at the limit, body one past it, code, words of the message)
    ("index name", "", {"name": "a" * 64, "config": {"dimensions": 32, "metric": "cosine"}},
     {"name": "a" * 65, "config": {"dimensions": 32, "metric": "cosine"}}, 40101, "at most 64 bytes"),
    ("dimensions", "", {"name": "wide", "config": {"dimensions": 1536, "metric": "cosine"}},
     {"name": "wider", "config": {"dimensions": 1537, "metric": "cosine"}}, 40102, "[32, 1536], got 1537"),
    ("vectors per write", "/films/upsert", vectors(5000), vectors(5001), 40106, "max is 5000"),
    ("vectors per insert", "/films/insert", vectors(5000), vectors(5001), 40106, "max is 5000"),
    ("id", "/films/upsert", [{"id": EMOJI_64, "values": row(0)}], vectors(3) + [{"id": EMOJI_65, "values": row(0)}],
     40008, "max is 64 bytes, got 65 bytes"),
    ("namespace", "/films/upsert", vectors(1, namespace=EMOJI_64), vectors(2, namespace=EMOJI_65), 40104,
     "max is 64 bytes, got 65 bytes"),
    ("metadata", "/films/upsert", vectors(1, metadata=meta(10240)), vectors(2, metadata=meta(10241)), 40016,
     "max is 10240 bytes, got 10241 bytes"),
    ("ids per get", "/films/get_by_ids", {"ids": [f"v{n}" for n in range(20)]}, {"ids": [f"v{n}" for n in range(21)]},
     40007, "max id count is 20, got 21"),
    ("ids per delete", "/films/delete_by_ids", {"ids": [f"v{n}" for n in range(100)]},
     {"ids": [f"v{n}" for n in range(101)]}, 40007, "max id count is 100, got 101"),
    ("topK", "/films/query", {"vector": row(0), "topK": 100, "returnMetadata": "indexed"},
     {"vector": row(0), "topK": 101}, 40025, "max top K is 100, but got 101"),
    ("topK with values", "/films/query", {"vector": row(0), "topK": 50, "returnValues": True},
     {"vector": row(0), "topK": 51, "returnValues": True}, 40025, TOP_K),
    ("filter", "/films/query", {"vector": row(0), "filter": long_filter(2047)},
     {"vector": row(0), "filter": long_filter(2048)}, 40110, "under 2048 bytes, got 2048 bytes"),
    ("filter key", "/films/query", {"vector": row(0), "filter": {"é" * 512: 1}},
     {"vector": row(0), "filter": {"é" * 513: 1}}, 40110, "max is 512 characters, got 513"),
    ("list count", "/films/list?count=1000", None, "/films/list?count=1001", 40114, "from 1 to 1000, got 1001"),
    ("metadata indexes", "/films/metadata_index/create", {"propertyName": "p9", "indexType": "string"},
     {"propertyName": "p10", "indexType": "string"}, 40108, "max is 10 per index"),
]


@pytest.fixture
def served():
    with vz.serve(memory=True, port=0) as server, vz.connect(server.url, max_retries=0) as client:
        films = client.create_index("films", WIDTH, "cosine")
        for number in range(9):
            films.create_metadata_index(f"p{number}", "string")
        films.upsert(["a"], [row(0)], wait=True)
        yield server.url + "/accounts/local/vectorize/v2/indexes", films, client


def send(url, route, body):
    if body is None or isinstance(body, str):  # a GET: the route is the whole of it
        return requests.get(url + (body or route), timeout=60)
    if isinstance(body, list):
        return requests.post(url + route, data=ndjson(body), timeout=60)
    return requests.post(url + route, json=body, timeout=60)


def written(films, client):
    return films.info().vector_count, len(films.list_metadata_indexes()), len(client.list_indexes())


@pytest.mark.parametrize("limit, route, at, past, code, said", RAW, ids=[case[0] for case in RAW])
def test_a_raw_request_at_a_limit_is_answered_and_one_past_it_is_a_400(served, limit, route, at, past, code, said):
    url, films, client = served
    taken = send(url, route, at)
    assert (taken.status_code, taken.json()["success"]) == (200, True), taken.text
    before = written(films, client)
    refused = send(url, route, past)
    assert (refused.status_code, refused.json()["success"]) == (400, False)
    [error] = refused.json()["errors"]
    assert error["code"] == code and said in error["message"], error
    assert written(films, client) == before
