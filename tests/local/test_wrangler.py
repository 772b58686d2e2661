"""Cloudflare's own CLI, wrangler, against `vectorize-nb serve`: every `wrangler vectorize` command
that touches an index, on a real loopback socket, with a token the server requires.

wrangler is a Node.js program: `.ci/run` installs it and names it in VECTORIZE_NB_WRANGLER (the
test then fails if it is missing); elsewhere the test runs when `wrangler` is on PATH.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from vectorize_nb.local import LocalEngine
from vectorize_nb.local.server import serve

WRANGLER_ENV = "VECTORIZE_NB_WRANGLER"
TOKEN = "wrangler-test-token"
D = 32


@pytest.fixture(scope="module")
def wrangler():
    named = os.environ.get(WRANGLER_ENV)
    if named:
        assert os.access(named, os.X_OK), f"{WRANGLER_ENV}={named!r} is not an executable wrangler"
        return named
    found = shutil.which("wrangler")
    if found is None:
        pytest.skip(f"wrangler not found (npm install wrangler, or set {WRANGLER_ENV})")
    return found


@pytest.fixture
def engine():
    with LocalEngine() as engine:
        yield engine


@contextlib.contextmanager
def wrangler_against(wrangler: str, engine: LocalEngine, folder, token: str | None):
    """`run("create", "docs", ...)` runs `wrangler vectorize create docs ...` against the served engine."""
    server = serve(engine=engine, token=token)
    env = {**os.environ, "CLOUDFLARE_API_BASE_URL": server.url, "CLOUDFLARE_API_TOKEN": token or "unused",
           "CLOUDFLARE_ACCOUNT_ID": server.account_id, "XDG_CONFIG_HOME": str(folder), "CI": "1",
           "NO_COLOR": "1", "WRANGLER_SEND_METRICS": "false",
           "WRANGLER_HIDE_BANNER": "true"}  # the banner is also what asks the npm registry for updates

    def run(*args: str, ok: bool = True) -> str:
        done = subprocess.run([wrangler, "vectorize", *args], env=env, cwd=folder, capture_output=True,
                              text=True, timeout=60)
        assert (done.returncode == 0) == ok, done.stdout + done.stderr
        return done.stdout + done.stderr

    with server:
        yield run


@pytest.fixture
def run(wrangler, engine, tmp_path):
    with wrangler_against(wrangler, engine, tmp_path, TOKEN) as run:
        yield run


def json_in(output: str):
    """The JSON document in what wrangler prints (some commands print a line before it)."""
    starts = [i for i in (output.find("{"), output.find("[")) if i >= 0]
    return json.loads(output[min(starts):])


def write_vectors(folder) -> list[list[float]]:
    rows = np.zeros((3, D))
    rows[0, 0], rows[1, :2], rows[2, 1] = 1.0, (0.9, 0.1), 1.0
    records = [{"id": f"v{i + 1}", "values": row.tolist(), "metadata": {"genre": genre}}
               for i, (row, genre) in enumerate(zip(rows, ["drama", "comedy", "drama"]))]
    (folder / "vectors.ndjson").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return rows.tolist()


def test_index_lifecycle_and_errors(run, engine):
    created = json_in(run("create", "docs", "--dimensions", str(D), "--metric", "cosine", "--json"))
    assert created["name"] == "docs" and created["config"] == {"dimensions": D, "metric": "cosine"}
    assert "[code: 3002]" in run("create", "docs", "--dimensions", str(D), "--metric", "cosine", ok=False)
    assert "[code: 40102]" in run("create", "tiny", "--dimensions", "3", "--metric", "cosine", ok=False)
    run("create", "small", "--preset", "@cf/baai/bge-small-en-v1.5")
    assert [i["name"] for i in json_in(run("list", "--json"))] == ["docs", "small"]
    assert json_in(run("get", "small", "--json"))["config"]["dimensions"] == 384
    run("delete", "small", "--force")
    assert [i.name for i in engine.list_indexes()] == ["docs"]
    assert "[code: 3005]" in run("info", "small", ok=False)  # deleted, as Cloudflare says it
    assert "[code: 3000]" in run("info", "never", ok=False)


def test_vectors_metadata_indexes_and_queries(run, engine, tmp_path):
    rows = write_vectors(tmp_path)
    run("create", "docs", "--dimensions", str(D), "--metric", "cosine")
    run("create-metadata-index", "docs", "--propertyName", "genre", "--type", "string")
    assert "Successfully enqueued 3 vectors" in run("insert", "docs", "--file", "vectors.ndjson")
    assert engine.index_info("docs").vector_count == 3

    best = json_in(run("query", "docs", "--vector-id", "v1", "--top-k", "2", "--return-metadata", "all"))
    assert [(m["id"], m["metadata"]) for m in best["matches"]] == [("v1", {"genre": "drama"}),
                                                                  ("v2", {"genre": "comedy"})]
    assert best["matches"][0]["score"] == 1
    assert best["matches"][1]["score"] == pytest.approx(0.9 / np.hypot(0.9, 0.1), abs=1e-6)
    dramas = json_in(run("query", "docs", "--vector-id", "v1", "--top-k", "3", "--filter", '{"genre":"drama"}'))
    assert [m["id"] for m in dramas["matches"]] == ["v1", "v3"]
    listed = json_in(run("list-metadata-index", "docs", "--json"))
    assert [(m["propertyName"], m["indexType"]) for m in listed] == [("genre", "string")]

    fetched = json_in(run("get-vectors", "docs", "--ids", "v2"))
    stored = np.float32(rows[1]).tolist()  # read back as float32, as Cloudflare does: 0.9 -> 0.8999999761581421
    assert [(v["id"], v["values"], v["metadata"]) for v in fetched] == [("v2", stored, {"genre": "comedy"})]
    run("delete-vectors", "docs", "--ids", "v3")
    info = json_in(run("info", "docs", "--json"))
    assert info["vectorCount"] == 2 and info["dimensions"] == D
    assert [v["id"] for v in json_in(run("list-vectors", "docs", "--json"))["vectors"]] == ["v1", "v2"]
    assert [r.id for r in engine.get_by_ids("docs", ["v1", "v2", "v3"])] == ["v1", "v2"]


def test_wrangler_passes_the_guard_of_a_server_without_a_token(wrangler, engine, tmp_path):
    """wrangler sends no Origin and a loopback Host, so a server without a token answers it."""
    write_vectors(tmp_path)
    with wrangler_against(wrangler, engine, tmp_path, None) as run:
        run("create", "docs", "--dimensions", str(D), "--metric", "cosine")
        assert "Successfully enqueued 3 vectors" in run("upsert", "docs", "--file", "vectors.ndjson")
        best = json_in(run("query", "docs", "--vector-id", "v1", "--top-k", "1"))
        assert [m["id"] for m in best["matches"]] == ["v1"]
    assert engine.index_info("docs").vector_count == 3
