"""Identical answers from both backends for every operation and every documented error."""

import numpy as np

from vectorize_nb.writes import vectors_from_records

from .conftest import Clock, open_backend
from .scenario import run


def test_every_operation_and_error_answers_identically_in_process_and_over_http():
    with open_backend("local", Clock()) as local:
        in_process = run(local, local.clock)
    served_clock = Clock()
    with open_backend("rest", served_clock) as rest:
        over_http = run(rest, served_clock)
    assert len(in_process) == len(over_http) > 100
    for (label, here), (_, there) in zip(in_process, over_http):
        assert here == there, label


def test_the_transcript_records_what_the_spec_says(backend, clock):
    entries = dict(run(backend, clock))
    assert entries["duplicate 3002"][:3] == ("error", "DuplicateIndexName", 3002)
    assert entries["unknown 3000"][:4] == ("error", "IndexNotFound", 3000, 404)
    assert entries["deleted 3005"][:4] == ("error", "IndexDeleted", 3005, 410)
    assert entries["wrong dims 40012"][2] == 40012 and entries["query dims 40006"][2] == 40006
    assert entries["get 21 40007"][2] == entries["delete 101 40007"][2] == 40007
    assert entries["topK 101 40025"][2] == 40025 and entries["returnMetadata bool 40026"][2] == 40026
    assert entries["metadata size 40016"][2] == 40016 and entries["id too long 40008"][2] == 40008
    assert entries["md delete unknown 40005"][2] == 40005
    assert entries["md 11th"][:3] == ("error", "TooManyMetadataIndexes", 40108)
    assert [m["id"] for m in entries["dot"]] == ["b", "a", "c"]
    assert [m["score"] for m in entries["euclidean"]] == [0.0, 5.0, np_float(58.8, 6.7)]
    assert entries["euclidean"][2]["values"][2][0] == 58.79999923706055
    assert entries["list page 2"]["ids"] == [f"v{i:02d}" for i in range(12, 24)]  # v00's deletion does not show
    assert entries["list expired"][1] == "InvalidCursor"
    assert entries["get"] and [r["id"] for r in entries["get"]] == ["v03", "v01", "v19", "v29"]


def np_float(x: float, y: float) -> float:
    import numpy as np
    return float(np.sqrt(np.float64(np.float32(x)) ** 2 + np.float64(np.float32(y)) ** 2))


def test_writes_lag_identically_with_an_apply_delay(clock):
    from vectorize_nb.contract.models import QueryOptions

    from .scenario import vectors

    results = []
    for kind in ("local", "rest"):
        lag_clock = type(clock)()
        with open_backend(kind, lag_clock, apply_delay=5.0) as backend:
            backend.create_index("lag", dimensions=2, metric="cosine")
            mutation = backend.upsert("lag", vectors(["a", "b"], [[1, 0], [0, 1]]))
            before = backend.index_info("lag")
            hidden = backend.query("lag", [1, 0], QueryOptions())
            lag_clock.now += 5
            after = backend.index_info("lag")
            results.append((before.vector_count, before.processed_up_to_mutation, len(hidden),
                            after.vector_count, after.processed_up_to_mutation == mutation.id,
                            after.processed_up_to_datetime.timestamp()))
    assert results[0] == results[1] == (0, None, 0, 2, True, lag_clock.now)


def test_matches_filter_agrees_in_process_and_over_http(clock):
    import vectorize_nb as vz

    from .scenario import vectors

    answers = []
    for kind in ("local", "rest"):
        with open_backend(kind, type(clock)()) as backend:
            client = vz.Client(backend, kind)
            index = client.create_index("mf", 2)
            index.create_metadata_index("genre", "string")
            index.create_metadata_index("year", "number")
            backend.upsert("mf", vectors(["a", "b", "c", "d"], [[1, 0]] * 4,
                                         [{"genre": "drama", "year": 1999}, {"genre": ["noir", "drama"]},
                                          {"year": 2001}, None], ["n1", None, "n1", None]))
            got = {}
            for label, flt, ns in [("eq", {"genre": "drama"}, None), ("ne", {"genre": {"$ne": "drama"}}, None),
                                   ("range", {"year": {"$gte": 2000}}, None), ("none", None, "n1"),
                                   ("unindexed", {"title": "x"}, None), ("null", {"genre": None}, None)]:
                got[label] = index.matches_filter(["a", "b", "c", "d", "ghost"], flt, ns).tolist()
            answers.append(got)
    assert answers[0] == answers[1]
    assert answers[0]["eq"] == [True, True, False, False, False]
    assert answers[0]["ne"] == [False, False, True, True, False]
    assert answers[0]["none"] == [True, False, True, False, False]


def test_an_export_agrees_in_process_and_over_http(clock):
    """The engine reads its store at once; REST walks list-vectors and get-by-ids: the same columns."""
    exports = []
    for kind in ("local", "rest"):
        with open_backend(kind, clock) as backend:
            backend.create_index("docs", dimensions=2, metric="euclidean")
            rows = [{"id": f"v{i}", "values": [i, -i], **({"metadata": {"n": i, "deep": {"k": "x"}}} if i % 2 else {}),
                     **({"namespace": "ns"} if i % 3 == 0 else {})} for i in range(45)]
            backend.upsert("docs", vectors_from_records(rows, 2))
            backend.delete_by_ids("docs", ["v7", "v8"])
            exports.append(backend.export("docs"))
    local, rest = exports
    assert local.ids == rest.ids == [f"v{i}" for i in range(45) if i not in (7, 8)]
    assert local.namespaces == rest.namespaces and local.metadata == rest.metadata
    kept = [i for i in range(45) if i not in (7, 8)]
    assert local.metadata == {"n": [i if i % 2 else None for i in kept],
                              "deep.k": ["x" if i % 2 else None for i in kept]}
    assert np.array_equal(local.values, rest.values) and local.values.dtype == np.float32
