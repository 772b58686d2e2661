"""One long scenario touching every operation and every documented error, recorded as a transcript
that holds no run-specific value (mutation ids and cursors are replaced by stable labels)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from collections.abc import Callable

import numpy as np

from vectorize_nb import errors
from vectorize_nb.contract.models import Mutation, QueryOptions, Vectors

D = 4


def vectors(ids, values, metadata=None, namespaces=None) -> Vectors:
    return Vectors(list(ids), np.asarray(values, dtype=np.float32), metadata, namespaces)


class Transcript:
    def __init__(self) -> None:
        self.entries: list[tuple[str, Any]] = []
        self.labels: dict[str, str] = {}

    def step(self, label: str, call: Callable[[], Any]) -> Any:
        try:
            value = call()
        except errors.VectorizeError as exc:
            self.entries.append((label, ("error", type(exc).__name__, exc.code, exc.status, exc.message)))
            return None
        self.entries.append((label, self.plain(value)))
        return value

    def label(self, token: str, kind: str) -> str:
        return self.labels.setdefault(token, f"{kind}-{sum(v.startswith(kind) for v in self.labels.values()) + 1}")

    def plain(self, value: Any) -> Any:
        if isinstance(value, Mutation):  # `applied`: the engine in process knows it, a REST client cannot
            return {"id": self.plain(value.id)}
        if dataclasses.is_dataclass(value):
            return {f.name: self.plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, np.ndarray):
            return ("float32", value.dtype.name, value.tolist())
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, (list, tuple)):
            return [self.plain(item) for item in value]
        if isinstance(value, dict):
            return {key: self.plain(item) for key, item in value.items()}
        if isinstance(value, str) and len(value) == 36 and value.count("-") == 4:
            return self.label(value, "mutation")
        if isinstance(value, str) and "." in value and len(value) > 30:
            return self.label(value, "cursor")
        return value


def run(backend: Any, clock: Any) -> list[tuple[str, Any]]:
    t = Transcript()
    step = t.step
    rng = np.random.default_rng(5)
    data = rng.standard_normal((30, D)).astype(np.float32)
    ids = [f"v{i:02d}" for i in range(30)]
    metadata = [{"genre": ["drama", "comedy", "noir"][i % 3], "year": 1990 + i, "ok": i % 2 == 0,
                 "url": "https://example.com/" + "p" * 60 + str(i), "nested": {"rank": i % 4}} for i in range(30)]
    namespaces = [None if i % 4 else "ns-a" for i in range(30)]

    # indexes
    step("list empty", backend.list_indexes)
    step("create", lambda: backend.create_index("films", dimensions=D, metric="cosine", description="d"))
    clock.now += 1
    step("create euclidean", lambda: backend.create_index("dist", dimensions=2, metric="euclidean"))
    step("create dot", lambda: backend.create_index("dots", dimensions=2, metric="dot-product"))
    step("create preset", lambda: backend.create_index("preset", preset="@cf/baai/bge-small-en-v1.5"))
    step("list", backend.list_indexes)
    step("get", lambda: backend.get_index("films"))
    step("duplicate 3002", lambda: backend.create_index("films", dimensions=D, metric="cosine"))
    step("bad name", lambda: backend.create_index("Films!", dimensions=D, metric="cosine"))
    step("bad dims", lambda: backend.create_index("wide", dimensions=99999, metric="cosine"))
    step("bad metric", lambda: backend.create_index("wide", dimensions=D, metric="hamming"))
    step("no config", lambda: backend.create_index("wide"))
    step("bad preset", lambda: backend.create_index("wide", preset="@cf/nope"))
    step("unknown 3000", lambda: backend.get_index("nope"))
    step("info empty", lambda: backend.index_info("films"))

    # metadata indexes, one before the data and one after part of it
    step("md create genre", lambda: backend.create_metadata_index("films", "genre", "string"))
    step("md create year", lambda: backend.create_metadata_index("films", "year", "number"))
    step("md create url", lambda: backend.create_metadata_index("films", "url", "string"))
    step("md create nested", lambda: backend.create_metadata_index("films", "nested.rank", "number"))
    step("md again", lambda: backend.create_metadata_index("films", "genre", "string"))
    step("md other type", lambda: backend.create_metadata_index("films", "genre", "number"))
    step("md bad type", lambda: backend.create_metadata_index("films", "x", "date"))
    step("md list", lambda: backend.list_metadata_indexes("films"))
    step("md delete unknown 40005", lambda: backend.delete_metadata_index("films", "ghost"))

    # writes
    clock.now += 1
    step("upsert 0..19", lambda: backend.upsert("films", vectors(ids[:20], data[:20], metadata[:20], namespaces[:20])))
    step("create md ok", lambda: backend.create_metadata_index("films", "ok", "boolean"))
    step("insert 15..29 keeps first", lambda: backend.insert("films", vectors(ids[15:], data[15:] * 2,
                                                                              metadata[15:], namespaces[15:])))
    step("upsert replaces v01 whole",
         lambda: backend.upsert("films", vectors(["v01"], data[1:2] * -1, [{"genre": "noir"}])))
    step("dup ids in batch", lambda: backend.upsert("films", vectors(["v02", "v02"], data[2:4])))
    step("float32", lambda: backend.upsert("dist", vectors(["p", "q", "r"], [[58.8, 6.7], [3, 4], [0, 0]])))
    step("dot data", lambda: backend.upsert("dots", vectors(["a", "b", "c"], [[1, 0], [10, 0], [-5, 0]])))
    step("info", lambda: backend.index_info("films"))
    step("wrong dims 40012", lambda: backend.upsert("films", vectors(["x1", "x2"], [[1, 2, 3], [4, 5, 6]])))
    step("id too long 40008", lambda: backend.upsert("films", vectors(["ok", "i" * 65], data[:2])))
    step("empty id", lambda: backend.upsert("films", vectors([""], data[:1])))
    step("nan", lambda: backend.upsert("films", vectors(["nan"], [[np.nan, 0, 0, 0]])))
    step("metadata key", lambda: backend.upsert("films", vectors(["m"], data[:1], [{"a.b": 1}])))
    step("metadata size 40016", lambda: backend.upsert("films", vectors(["m"], data[:1], [{"t": "x" * 10241}])))
    step("namespace long", lambda: backend.upsert("films", vectors(["m"], data[:1], None, ["n" * 65])))
    step("too many vectors", lambda: backend.upsert("films", vectors([str(i) for i in range(5001)],
                                                                     np.zeros((5001, D)))))
    step("write to unknown", lambda: backend.upsert("nope", vectors(["a"], data[:1])))
    step("info after rejects", lambda: backend.index_info("films"))

    # reads
    query = data[0] + 0.1
    for mode in ("none", "indexed", "all"):
        step(f"query {mode}", lambda mode=mode: backend.query("films", query, QueryOptions(
            top_k=8, return_metadata=mode)))
    step("query values", lambda: backend.query("films", query, QueryOptions(top_k=3, return_values=True)))
    step("query namespace", lambda: backend.query("films", query, QueryOptions(top_k=30, namespace="ns-a")))
    filters = [{"genre": "drama"}, {"genre": {"$ne": "drama"}}, {"genre": {"$in": ["comedy", "noir"]}},
               {"genre": {"$nin": ["comedy"]}}, {"year": {"$gte": 1995, "$lt": 2005}}, {"year": {"$gt": 2010}},
               {"ok": True}, {"ok": False}, {"nested.rank": 2}, {"url": "https://example.com/" + "p" * 60},
               {"genre": "drama", "year": {"$lte": 2000}}, {"unindexed": 1}, {"year": "1995"}, {},
               {"genre": {"$gte": "c", "$lt": "d"}}, {"genre": None}]
    for number, flt in enumerate(filters):
        step(f"filter {number}", lambda flt=flt: backend.query("films", query, QueryOptions(
            top_k=30, filter=flt, return_metadata="indexed")))
    step("bad filter", lambda: backend.query("films", query, QueryOptions(filter={"year": {"$gt": 1, "$gte": 2}})))
    step("bad op", lambda: backend.query("films", query, QueryOptions(filter={"year": {"$regex": "x"}})))
    step("by id", lambda: backend.query("films", None, QueryOptions(top_k=4), vector_id="v05"))
    step("by unknown id", lambda: backend.query("films", None, QueryOptions(), vector_id="ghost"))
    step("neither", lambda: backend.query("films", None, QueryOptions()))
    step("both", lambda: backend.query("films", query, QueryOptions(), vector_id="v05"))
    step("query dims 40006", lambda: backend.query("films", [1.0, 2.0], QueryOptions()))
    step("query nan", lambda: backend.query("films", [np.nan] * D, QueryOptions()))
    step("topK 101 40025", lambda: backend.query("films", query, QueryOptions(top_k=101)))
    step("topK 51 values 40025", lambda: backend.query("films", query, QueryOptions(top_k=51, return_values=True)))
    step("topK 0", lambda: backend.query("films", query, QueryOptions(top_k=0)))
    step("topK 2.5", lambda: backend.query("films", query, QueryOptions(top_k=2.5)))
    step("returnMetadata bool 40026", lambda: backend.query("films", query, QueryOptions(return_metadata=True)))
    step("euclidean", lambda: backend.query("dist", [0, 0], QueryOptions(top_k=3, return_values=True)))
    step("dot", lambda: backend.query("dots", [2, 0], QueryOptions(top_k=3)))
    step("many", lambda: backend.query_many("films", data[:3], QueryOptions(top_k=4, filter={"genre": "noir"})))
    step("get", lambda: backend.get_by_ids("films", ["v03", "ghost", "v01", "v19", "v29"]))
    step("get 21 40007", lambda: backend.get_by_ids("films", [str(i) for i in range(21)]))
    step("get bad id", lambda: backend.get_by_ids("films", ["x" * 65]))

    # listing
    first = step("list page 1", lambda: backend.list_vectors("films", 12))
    clock.now += 10
    step("delete during walk", lambda: backend.delete_by_ids("films", ["v00"]))
    second = step("list page 2", lambda: backend.list_vectors("films", 12, first.next_cursor))
    step("list page 3", lambda: backend.list_vectors("films", 12, second.next_cursor))
    step("list default", lambda: backend.list_vectors("films"))
    step("list count 0", lambda: backend.list_vectors("films", 0))
    step("list count 1001", lambda: backend.list_vectors("films", 1001))
    step("list bad cursor", lambda: backend.list_vectors("films", 5, "not-a-cursor"))
    expiring = step("list expiring", lambda: backend.list_vectors("films", 5))
    clock.now += 3601
    step("list expired", lambda: backend.list_vectors("films", 5, expiring.next_cursor))

    # deletes and limits
    step("delete 101 40007", lambda: backend.delete_by_ids("films", [str(i) for i in range(101)]))
    step("delete unknown ids", lambda: backend.delete_by_ids("films", ["ghost", "v04"]))
    step("md delete genre", lambda: backend.delete_metadata_index("films", "genre"))
    step("filter after md delete", lambda: backend.query("films", query, QueryOptions(filter={"genre": "drama"})))
    for n in range(7):
        step(f"md fill {n}", lambda n=n: backend.create_metadata_index("films", f"p{n}", "string"))
    step("md 11th", lambda: backend.create_metadata_index("films", "p7", "string"))
    step("info end", lambda: backend.index_info("films"))
    step("delete index", lambda: backend.delete_index("films"))
    step("deleted 3005", lambda: backend.index_info("films"))
    step("deleted query 3005", lambda: backend.query("films", query, QueryOptions()))
    step("recreate", lambda: backend.create_index("films", dimensions=2, metric="cosine"))
    step("list end", backend.list_indexes)
    return t.entries
