import time

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.client import TARGET_ENV

from .helpers import TINY, refusals_name_the_remade_index


@pytest.fixture
def client():
    with vz.connect("memory", limits=TINY) as c:
        yield c


def test_connect_defaults_to_a_persisted_engine_in_dot_vectorize(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(TARGET_ENV, raising=False)
    monkeypatch.delenv("VECTORIZE_NB_PATH", raising=False)
    with vz.connect(limits=TINY) as client:
        client.create_index("kept", 2)
        assert client.target == f"local:{tmp_path / '.vectorize'}"
    assert (tmp_path / ".vectorize" / "vectorize.sqlite3").exists()
    with vz.connect(limits=TINY) as again:
        assert again.list_indexes()["name"].tolist() == ["kept"]


def test_connect_and_serve_share_the_folder_the_environment_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(TARGET_ENV, raising=False)
    monkeypatch.setenv("VECTORIZE_NB_PATH", str(tmp_path / "shared"))
    with vz.connect(limits=TINY) as client:
        client.create_index("kept", 2)
    with vz.serve(limits=TINY) as server, vz.connect(server.url, account_id="local", api_token="unused") as remote:
        assert remote.list_indexes()["name"].tolist() == ["kept"]
    assert not (tmp_path / ".vectorize").exists()


def test_the_environment_picks_the_target(monkeypatch):
    monkeypatch.setenv(TARGET_ENV, "memory")
    with vz.connect(limits=TINY) as client:
        assert client.target == "memory"
    monkeypatch.setenv(TARGET_ENV, "somewhere-else")
    with pytest.raises(errors.ConfigurationError, match="unknown target 'somewhere-else'.*in VECTORIZE_NB_TARGET"):
        vz.connect()


def test_create_index_defaults_to_cosine_and_lists_as_a_frame(client):
    idx = client.create_index("docs", 3, description="d")
    assert (idx.name, idx.dimensions, idx.metric) == ("docs", 3, "cosine")
    client.create_index("small", preset="@cf/baai/bge-small-en-v1.5")
    frame = client.list_indexes()
    assert frame[["name", "dimensions", "metric", "description"]].values.tolist() == [
        ["docs", 3, "cosine", "d"], ["small", 384, "cosine", ""]]
    assert str(frame["created_on"].dtype).startswith("datetime64") and frame.attrs["operation"] == "list_indexes"
    assert [i.name for i in client.indexes()] == ["docs", "small"]


def test_errors_name_the_operation(client):
    with pytest.raises(errors.IndexNotFound) as info:
        client.get_index("missing")
    assert "(during get_index 'missing')" in str(info.value)
    idx = client.create_index("docs", 2)
    with pytest.raises(errors.QueryDimensionMismatch) as info:
        idx.query([1, 2, 3])
    assert "(during query on index 'docs')" in str(info.value)


@pytest.fixture
def idx(client):
    index = client.create_index("films", 2)
    index.create_metadata_index("genre", "string")
    index.upsert([{"id": "a", "values": [1, 0], "metadata": {"genre": "drama", "cast": {"lead": "x"}},
                   "namespace": "eu"},
                  {"id": "b", "values": [0, 1], "metadata": {"genre": "comedy", "score": 3}},
                  {"id": "c", "values": [1, 1]}])
    return index


def test_query_returns_a_tidy_frame(idx):
    hits = idx.query([1, 0.1], top_k=3, return_metadata="all", return_values=True)
    assert list(hits.columns) == ["rank", "id", "score", "namespace", "values", "genre", "cast.lead",
                                  'metadata["score"]']
    assert hits["id"].tolist() == ["a", "c", "b"] and hits["rank"].tolist() == [1, 2, 3]
    assert hits.loc[0, "namespace"] == "eu" and pd.isna(hits.loc[1, "namespace"])
    assert hits.loc[0, "values"].dtype == np.float32 and hits.loc[0, "cast.lead"] == "x"
    assert hits.loc[2, 'metadata["score"]'] == 3  # a metadata key named like a column
    assert hits.attrs["top_k"] == 3 and hits.attrs["index"] == "films" and hits.attrs["metric"] == "cosine"


def test_filters_may_be_given_as_json(idx):
    assert idx.query([1, 0], filter={"genre": "comedy"})["id"].tolist() == ["b"]


def test_query_by_id_and_query_many(idx):
    assert idx.query_by_id("b", top_k=1)["id"].tolist() == ["b"]
    many = idx.query_many(np.array([[1, 0], [0, 1]]), top_k=2, keys=["first", "second"])
    assert many[["query", "rank", "id"]].values.tolist() == [["first", 1, "a"], ["first", 2, "c"],
                                                          ["second", 1, "b"], ["second", 2, "c"]]


def test_query_many_wants_one_key_per_query(client):
    index = client.create_index("keyed", 2)
    index.upsert(["a"], [[1, 0]])
    for keys in (["x"], ["w", "x", "y", "z"]):
        with pytest.raises(errors.InvalidRequest, match=rf"one label per query vector \(3\), got {len(keys)}"):
            index.query_many(np.ones((3, 2)), keys=keys)
    labelled = index.query_many(np.ones((3, 2)), keys=pd.Series(["p", "q", "r"], index=[5, 6, 7]), top_k=1)
    assert labelled["query"].tolist() == ["p", "q", "r"]


def test_get_by_ids_batches_past_20_and_keeps_order(client):
    index = client.create_index("many", 2)
    ids = [f"v{i:02d}" for i in range(45)]
    index.upsert(ids, np.ones((45, 2)))
    frame = index.get_by_ids(list(reversed(ids)) + ["nope"])
    assert frame["id"].tolist() == list(reversed(ids))


def test_pages_and_whole_index_export(client):
    index = client.create_index("pages", 2)
    ids = [f"v{i:04d}" for i in range(2500)]
    index.upsert(ids, np.arange(5000, dtype=np.float32).reshape(2500, 2), metadata=[{"n": i} for i in range(2500)])
    page = index.list_vectors(count=1000)
    assert len(page) == 1000 and page.attrs["is_truncated"] and page.attrs["total_count"] == 2500
    assert index.list_ids() == ids
    frame = index.to_frame()
    assert frame["id"].tolist() == ids and frame["n"].tolist() == list(range(2500))
    assert frame.loc[2499, "values"].tolist() == [4998.0, 4999.0]


def test_delete_by_ids_batches_past_100(client):
    index = client.create_index("del", 2)
    index.upsert([str(i) for i in range(250)], np.ones((250, 2)))
    result = index.delete_by_ids([str(i) for i in range(240)])
    assert len(result.batches) == 3 and result.ok
    assert index.info().vector_count == 10


def test_ids_are_all_checked_before_any_delete(client):
    index = client.create_index("del", 2)
    index.upsert([str(i) for i in range(250)] + ["doc", "d", "o", "c"], np.ones((254, 2)))
    with pytest.raises(errors.InvalidVector, match=r"got NoneType None at row 120 .*Nothing was written"):
        index.delete_by_ids([str(i) for i in range(120)] + [None])
    with pytest.raises(errors.IdTooLong, match="got 65 bytes"):
        index.delete_by_ids(["0", "x" * 65])
    for method in (index.delete_by_ids, index.get_by_ids, index.rewrite):
        with pytest.raises(errors.MalformedRequest, match=r"ids must be a list of ids; got 'doc'; .* \['doc'\]") as one:
            method("doc")
        assert "request body" not in str(one.value)  # which a Python caller never wrote
    with pytest.raises(errors.MalformedRequest, match=r"ids must be a list of ids; got 5 \(during delete_by_ids"):
        index.delete_by_ids(5)
    assert index.info().vector_count == 254


def test_ids_asked_for_may_be_integers_arrays_or_series(client):
    index = client.create_index("ints", 2)
    index.upsert([1, 2, 3], np.ones((3, 2)))
    assert index.get_by_ids(pd.Series([3, 1]), values=False)["id"].tolist() == ["3", "1"]
    assert index.delete_by_ids(np.array([2, 2])).ok
    assert index.list_ids() == ["1", "3"]


def test_metadata_index_listing(idx):
    assert idx.list_metadata_indexes().values.tolist() == [["genre", "string"]]


def test_wait_returns_once_the_last_write_is_applied(tmp_path):
    with vz.connect(path=tmp_path / "lag", limits=TINY, apply_delay=0.3) as client:
        index = client.create_index("lag", 2)
        result = index.upsert(["a"], [[1, 0]])
        assert index.info().vector_count == 0
        info = index.wait(timeout=10, interval=0.05)
        assert info.processed_up_to_mutation == result.mutation_ids[-1] and info.vector_count == 1


def test_deletes_and_rewrites_can_wait_too(tmp_path):
    with vz.connect(path=tmp_path / "lag", limits=TINY, apply_delay=0.3) as client:
        index = client.create_index("lag", 2)
        index.upsert(["a", "b", "c"], np.eye(3, 2), wait=True)
        index.delete_by_ids(["a"], wait=True)
        assert index.list_ids() == ["b", "c"]
        index.create_metadata_index("g", "string")
        index.upsert(["b"], [[1, 1]], metadata=[{"g": "x"}], wait=True)
        pd.DataFrame({"id": ["b"]}).vectorize.delete(index, id="id", wait=True)
        assert index.list_ids() == ["c"]
        result = index.rewrite(wait=True)
        assert index.info().processed_up_to_mutation == result.mutation_ids[-1]


def test_wait_accepts_a_mutation_that_was_overtaken(tmp_path):
    with vz.connect(path=tmp_path / "lag2", limits=TINY, apply_delay=0.2) as client:
        index = client.create_index("lag", 2)
        first = index.upsert(["a"], [[1, 0]])
        index.upsert(["b"], [[0, 1]])
        time.sleep(0.5)  # both are due now: info will report the second one
        assert index.wait(first, timeout=5).vector_count == 2


def test_wait_times_out_with_a_clear_error(tmp_path):
    with vz.connect(path=tmp_path / "slow", limits=TINY, apply_delay=60) as client:
        index = client.create_index("slow", 2)
        index.upsert(["a"], [[1, 0]])
        with pytest.raises(errors.WaitTimeout, match="not applied after 0.2 s"):
            index.wait(timeout=0.2, interval=0.05)


def test_cloudflare_needs_both_credentials_and_names_both_variables(monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with pytest.raises(errors.ConfigurationError) as info:
        vz.connect("cloudflare")
    assert "CLOUDFLARE_ACCOUNT_ID" in str(info.value) and "CLOUDFLARE_API_TOKEN" in str(info.value)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "from-env")
    with pytest.raises(errors.ConfigurationError, match="missing: CLOUDFLARE_API_TOKEN"):
        vz.connect("cloudflare")


ENV_ACCOUNT, ARG_ACCOUNT = "e" * 32, "a" * 32
"""Cloudflare account ids: 32 hexadecimal characters."""


def test_arguments_win_over_the_environment_and_the_token_never_shows(monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ENV_ACCOUNT)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "env-token-SECRET")
    with vz.connect("cloudflare", account_id=ARG_ACCOUNT, api_token="arg-token-SECRET") as client:
        transport = client.backend.transport
        assert transport.account_url == f"https://api.cloudflare.com/client/v4/accounts/{ARG_ACCOUNT}"
        prepared = transport.session.prepare_request(__import__("requests").Request("GET", transport.account_url))
        assert prepared.headers["Authorization"] == "Bearer arg-token-SECRET"
        for text in (repr(client), repr(client.backend), repr(transport), repr(transport.session.auth),
                     client.target):
            assert "SECRET" not in text
    with vz.connect("cloudflare") as client:
        assert client.target == f"cloudflare:{ENV_ACCOUNT}"


def authorization(client) -> str | None:
    transport = client.backend.transport
    return transport.session.prepare_request(
        __import__("requests").Request("GET", transport.account_url)).headers.get("Authorization")


def test_the_cloudflare_variables_go_to_cloudflare_only(monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ENV_ACCOUNT)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "env-token-SECRET")
    monkeypatch.delenv("VECTORIZE_NB_SERVE_TOKEN", raising=False)
    with vz.serve(memory=True, limits=TINY) as server, vz.connect(server.url) as client:
        assert authorization(client) is None and client.backend.transport.account_url.endswith("/accounts/local")
        assert client.list_indexes().empty
    with vz.connect("http://api.cloudflare.com/client/v4") as client:  # not over plain http
        assert authorization(client) is None
    with vz.connect("https://api.cloudflare.com/client/v4") as client:  # Cloudflare by its URL is Cloudflare
        assert authorization(client) == "Bearer env-token-SECRET"
        assert client.backend.transport.account_url.endswith(f"/accounts/{ENV_ACCOUNT}")


def test_a_served_engines_token_comes_from_its_own_variable(monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "cloudflare-SECRET")
    monkeypatch.setenv("VECTORIZE_NB_SERVE_TOKEN", "team-SECRET")
    with vz.serve(memory=True, limits=TINY, token="team-SECRET") as server:
        monkeypatch.setenv("VECTORIZE_NB_TARGET", server.url)
        with vz.connect() as client:
            assert authorization(client) == "Bearer team-SECRET" and client.list_indexes().empty


def test_a_token_read_with_its_line_break_is_trimmed_and_an_unfit_one_refused_unshown():
    with vz.connect("cloudflare", account_id=ARG_ACCOUNT, api_token="tok-SECRET\n") as client:
        transport = client.backend.transport
        prepared = transport.session.prepare_request(__import__("requests").Request("GET", transport.account_url))
        assert prepared.headers["Authorization"] == "Bearer tok-SECRET"
    for token in ("tok-SECRET\nsecond-line", "tok-SECRÉT", "tok SECRET"):
        with pytest.raises(errors.ConfigurationError, match=r"cannot carry .* at position (3|8|10)") as refused:
            vz.connect("cloudflare", account_id=ARG_ACCOUNT, api_token=token)
        assert "SECR" not in "".join(__import__("traceback").format_exception(refused.value))


@pytest.mark.parametrize("target", ["http://user:s3cret@127.0.0.1:9/client/v4", "HTTP://user:s3cret@127.0.0.1:9",
                                    "ftp://user:s3cret@host/x", "user:s3cret@127.0.0.1:9",
                                    "http://user:pw@127.0.0.1:9/client/v4?token=s3cret"])
def test_a_password_in_the_target_is_refused_without_showing_it(target):
    with pytest.raises(errors.ConfigurationError, match=r"\*\*\*@") as refused:
        vz.connect(target)
    assert "s3cret" not in str(refused.value)


def test_serve_is_available_from_the_package():
    with vz.serve(memory=True, limits=TINY) as server, vz.connect(server.url, limits=TINY) as client:
        client.create_index("served", 2)
        assert client.list_indexes()["name"].tolist() == ["served"]


def test_rewrite_puts_predating_vectors_into_a_new_metadata_index(client):
    index = client.create_index("old", 2)
    index.upsert(["a", "b"], [[1, 0], [0, 1]], metadata=[{"g": "x", "deep": {"k": 1}}, None], namespaces=["n", None])
    index.create_metadata_index("g", "string")
    with pytest.warns(errors.VectorizeWarning, match='2 of the 2 vectors of .old. were written before the metadata '
                                                       'index on "g" was created'):
        assert index.query([1, 0], filter={"g": "x"}).empty
    result = index.rewrite()
    assert result.ok and result.rows == 2
    assert index.query([1, 0], filter={"g": "x"})["id"].tolist() == ["a"]
    again = index.get_by_ids(["a", "b"])
    assert again["namespace"].tolist()[0] == "n" and again.loc[0, "deep.k"] == 1
    assert client.backend.get_by_ids("old", ["a"])[0].metadata == {"g": "x", "deep": {"k": 1}}


def test_rewrite_waits_for_this_clients_writes_before_reading_what_it_writes_again():
    """With writes applied later, rewrite() read what was applied and wrote it back after a pending upsert,
    reverting it; and after an upsert then a metadata index not applied yet it rewrote nothing (0 of 0 rows)."""
    with vz.connect("memory", limits=TINY, apply_delay=0.3) as client:
        index = client.create_index("late", 2)
        index.upsert(["a", "b"], [[1, 0], [0, 1]], metadata=[{"label": 1}, {"label": 2}], wait=True)
        index.upsert(["a"], [[1, 0]], metadata=[{"label": 99}])
        index.rewrite(wait=True)
        assert index.get_by_ids(["a", "b"])["label"].tolist() == [99, 2]
        fresh = client.create_index("fresh", 2)
        fresh.upsert(["c"], [[1, 1]], metadata=[{"label": 5}])
        fresh.create_metadata_index("label", "number")
        result = fresh.rewrite(wait=True)
        assert result.rows == 1 and fresh.query([1, 1], filter={"label": 5})["id"].tolist() == ["c"]


@pytest.mark.parametrize("given, used", [
    ("http://127.0.0.1:8787", "http://127.0.0.1:8787/client/v4"),
    ("http://127.0.0.1:8787/", "http://127.0.0.1:8787/client/v4"),
    ("http://127.0.0.1:8787/client/v4/", "http://127.0.0.1:8787/client/v4"),
    ("https://proxy.example/vectorize/client/v4", "https://proxy.example/vectorize/client/v4"),
])
def test_a_base_url_without_the_api_path_is_completed_at_connect(given, used):
    with vz.connect(given) as client:
        assert client.target == used


def test_a_base_url_with_another_path_is_refused_at_connect():
    with pytest.raises(vz.errors.ConfigurationError, match=r"does not end in /client/v4: .*'http://h:1/client/v4'"):
        vz.connect("http://h:1/api")


@pytest.mark.parametrize("target", ["http://h:1/client/v4?token=s3cret", "http://h:1/client/v4#s3cret",
                                    "http://h:1?key=s3cret", "http://h:1/api?key=s3cret"])
def test_a_base_url_with_a_query_or_fragment_is_refused_without_showing_it(target):
    with pytest.raises(vz.errors.ConfigurationError, match=r"holds a query or a fragment") as refused:
        vz.connect(target)
    assert "s3cret" not in str(refused.value) and "'http://h:1" in str(refused.value)


def test_create_index_with_exist_ok_returns_the_same_index_or_names_the_difference():
    with vz.connect("memory") as client:
        first = client.create_index("films", 32, description="demo")
        again = client.create_index("films", 32, exist_ok=True)
        assert again.description == first.description and again.name == "films"
        with pytest.raises(vz.errors.DuplicateIndexName) as info:
            client.create_index("films", 64, "euclidean", exist_ok=True)
        assert "dimensions 32 (asked for 64), metric 'cosine' (asked for 'euclidean')" in str(info.value)
        with pytest.raises(vz.errors.DuplicateIndexName, match="description 'demo' \\(asked for 'other'\\)"):
            client.create_index("films", 32, description="other", exist_ok=True)
        with pytest.raises(vz.errors.DuplicateIndexName) as rerun:  # a notebook's create cell run again
            client.create_index("films", 32)
        assert "open it with get_index(name) or create_index(..., exist_ok=True)" in str(rerun.value)


def test_integer_ids_become_strings_on_every_write_path():
    with vz.connect("memory", limits=vz.DEFAULT_LIMITS.with_changes(min_dimensions=2)) as client:
        index = client.create_index("ints", 2)
        index.upsert([1, np.int64(2)], np.eye(2))
        index.insert([{"id": 3, "values": [1.0, 1.0]}])
        pd.DataFrame({"id": [4], "v": [[0.5, 0.5]]}).vectorize.upsert(index, id="id", vector="v")
        assert index.list_ids() == ["1", "2", "3", "4"]
        with pytest.raises(vz.errors.InvalidVector, match="must be a string, got bool True"):
            index.upsert([True], [[1.0, 0.0]])


def test_query_options_are_checked_in_python_terms():
    with vz.connect("memory") as client:
        index = client.create_index("opts", 32)
        with pytest.raises(vz.errors.MalformedRequest) as info:
            index.query(np.ones(32), return_metadata="al")
        assert "return_metadata must be one of 'none', 'indexed', 'all'; got 'al'" in str(info.value)
        assert "Nothing was written" not in str(info.value)


def test_a_server_given_without_its_scheme_is_shown_the_form_that_works():
    """The message asked for a URL "ending in /client/v4", which connect() adds itself to a bare host."""
    with pytest.raises(errors.ConfigurationError) as refused:
        vz.connect("localhost:8787")
    message = str(refused.value)
    assert "unknown target 'localhost:8787'" in message and "'http://localhost:8787'" in message
    assert "ending in" not in message


@pytest.mark.parametrize("given", ["./films", "data/films", "~/films", "films.vectorize"])
def test_a_folder_given_as_the_target_says_to_pass_it_as_path(given, tmp_path, monkeypatch):
    """`vz.connect("./films")` for an engine folder was told only of 'local', 'memory' and URLs."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "films.vectorize").mkdir()
    with pytest.raises(errors.ConfigurationError) as refused:
        vz.connect(given)
    assert f"for an engine folder, vz.connect(path={given!r})" in str(refused.value)
    assert not any(tmp_path.iterdir()) or [p.name for p in tmp_path.iterdir()] == ["films.vectorize"]


def test_a_word_given_as_the_target_is_not_taken_for_a_folder():
    with pytest.raises(errors.ConfigurationError) as refused:
        vz.connect("somewhere-else")
    assert "path=" not in str(refused.value)


@pytest.mark.parametrize("given, hint", [("flims", "; did you mean 'films'?"), ("Films", "; did you mean 'films'?"),
                                         ("docs", "; memory holds 'films'")])
def test_an_index_not_found_names_the_index_of_a_close_name(client, given, hint):
    """`get_index("flims")` said only that the index does not exist, when a typo away there is one."""
    client.create_index("films", 32)
    with pytest.raises(errors.IndexNotFound) as refused:
        client.get_index(given)
    assert str(refused.value).startswith(f'[3000] vectorize.index.not_found - Index name "{given}"{hint} (during')


def test_a_model_without_a_preset_given_as_preset_says_how_to_make_its_index(client):
    """create_index's docs call a preset "an embedding model's name": the shipped model, which Vectorize has no
    preset for, was answered with the list of presets alone."""
    with pytest.raises(errors.InvalidIndexConfig) as refused:
        client.create_index("docs", preset=vz.SHIPPED_MODEL)
    assert (f"; {vz.SHIPPED_MODEL} is not among Vectorize's presets: create_index('docs', dimensions=256, "
            "metric='cosine') makes an index for it") in str(refused.value)
    with pytest.raises(errors.InvalidIndexConfig) as unknown:
        client.create_index("docs", preset="@cf/nope")
    assert "not among" not in str(unknown.value)


def test_an_index_not_found_in_an_empty_folder_says_where_the_client_looked(tmp_path):
    """A notebook run from another folder opens another ./.vectorize: "Index name 'films'" alone left the user
    to wonder where the index went."""
    with vz.connect(path=tmp_path / "elsewhere") as client:
        with pytest.raises(errors.IndexNotFound) as refused:
            client.get_index("films")
    assert (f'Index name "films"; local:{tmp_path / "elsewhere"} holds no index (vz.connect(path=...) opens another '
            "folder) (during get_index 'films')") in str(refused.value)


def test_an_index_kept_from_before_its_delete_says_so_even_once_the_name_is_made_again(client):
    """A handle kept across delete_index and a new create_index of the name went on working on the new index
    with the old one's description: its dimensions, its texts' model (a question embedded for other vectors)."""
    old = client.create_index("rec", dimensions=2)
    old.upsert(["a"], [[1.0, 0.0]], wait=True)
    client.delete_index("rec")
    new = client.create_index("rec", dimensions=3)
    wide = pd.DataFrame({"id": ["b"], "vector": [np.ones(3)]})  # the new index's width: refused by the old one's
    for call in (lambda: old.query([1.0, 0.0]), lambda: old.upsert(["b"], [[0.0, 1.0]]), old.info,
                 lambda: old.get_by_ids(["a"]), lambda: old.delete_by_ids(["a"]), lambda: old.query(np.ones(3)),
                 lambda: wide.vectorize.query(old, vector="vector"), lambda: old.upsert(["b"], [np.ones(3)]),
                 lambda: wide.vectorize.upsert(old, id="id", vector="vector")):
        with pytest.raises(errors.IndexDeleted) as raised:
            call()
        assert raised.value.message == ("index 'rec' was deleted (delete_index) after this Index was made; "
                                               "client.get_index('rec') gives the index of that name now, if any")
    assert repr(old) == "Index('rec', dimensions=2, metric='cosine', target='memory')"
    assert new.info().vector_count == 0 and new.dimensions == 3


def test_an_index_made_again_elsewhere_with_other_dimensions_is_named_in_the_mismatch(client):
    """A handle of an index another client or process deleted and made again: its query checked against the old
    dimensions, the engine against the new, and the two errors contradicted each other."""
    kept = client.create_index("shared", dimensions=2)
    elsewhere = vz.Client(client.backend, "another")
    elsewhere.delete_index("shared")
    with pytest.raises(errors.IndexNotFound):  # deleted, not made again yet: its absence, not a width
        kept.query([1.0, 0.0, 0.0])
    with pytest.raises(errors.IndexNotFound) as gone:  # said of the call, as every refusal of a write is
        kept.upsert(["b"], [[1.0, 0.0, 0.0]])
    assert str(gone.value).endswith("(during upsert on index 'shared'). Nothing was written. " + gone.value.hint)
    elsewhere.create_index("shared", dimensions=3)
    for call in (lambda: kept.query([1.0, 0.0]), lambda: kept.query_many([[1.0, 0.0]])):
        with pytest.raises(errors.QueryDimensionMismatch) as raised:
            call()
        assert raised.value.message.endswith(
            "; index 'shared' was deleted and made again since this Index was made (by another client or process), "
            "with 3 dimensions: client.get_index('shared') gives the new one")


def test_a_vector_of_the_width_of_an_index_made_again_elsewhere_is_refused_saying_so(tmp_path):
    """Two kernels on one folder: one deleted the index and made it again with 4 dimensions, where the other's kept
    handle refused 4-d vectors with "expected 2" and no word of it (its info() said 4)."""
    with vz.connect(path=tmp_path, limits=TINY) as mine, vz.connect(path=tmp_path, limits=TINY) as other:
        kept = mine.create_index("films", dimensions=2)
        other.delete_index("films")
        other.create_index("films", dimensions=4, metric="euclidean")
        refusals_name_the_remade_index(kept, 4)
        assert kept.info().dimensions == 4 and other.get_index("films").info().vector_count == 0


def test_a_model_given_with_a_query_vector_is_refused_not_ignored(idx):
    """index.query(vector, model=...) searched with the vector and dropped the model without a word, where
    df.vectorize.upsert(vector=..., model=...) refuses the same."""
    with pytest.raises(ValueError, match="model= and pooling= embed a text question; a vector is searched as it is"):
        idx.query([1, 0], model=vz.SHIPPED_MODEL)
    with pytest.raises(ValueError, match="model= and pooling= embed a text question"):
        idx.query([1, 0], pooling="cls")


def test_exist_ok_refused_for_another_configuration_does_not_advise_exist_ok_again():
    """Editing notebook 01's description and running its create_index(..., exist_ok=True) again was told "or
    create_index(..., exist_ok=True)", which it had just passed."""
    with vz.connect("memory") as client:
        client.create_index("digits", 64, "cosine", description="sklearn digits")
        with pytest.raises(vz.errors.DuplicateIndexName) as edited:
            client.create_index("digits", 64, "cosine", description="sklearn digits, 8x8", exist_ok=True)
        said = str(edited.value)
        assert "description 'sklearn digits' (asked for 'sklearn digits, 8x8')" in said, said
        assert said.endswith("exist_ok=True reopens only an index of the same configuration: ask for the existing "
                             "one's description 'sklearn digits', or delete it with client.delete_index('digits') "
                             "to make it anew"), said
        with pytest.raises(vz.errors.DuplicateIndexName) as preset:
            client.create_index("digits", preset="@cf/baai/bge-small-en-v1.5", exist_ok=True)
        assert "ask for the existing one's dimensions 64, or delete it" in str(preset.value), str(preset.value)


@pytest.mark.parametrize("account", ["tok-SECRET-pasted-in-the-wrong-place-0123456789", "0" * 31, "g" * 32])
def test_a_cloudflare_account_id_of_another_shape_is_refused_without_quoting_it(monkeypatch, account):
    """It went into every URL, the client's label and the logs: a token pasted there by mistake showed."""
    says = rf"account id \({{}}\) is {len(account)} characters long, .*32 hexadecimal characters"
    with pytest.raises(errors.ConfigurationError, match=says.format("account_id=")) as refused:
        vz.connect("cloudflare", account_id=account, api_token="tok")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", account)
    with pytest.raises(errors.ConfigurationError, match=says.format("CLOUDFLARE_ACCOUNT_ID")) as from_env:
        vz.connect("https://api.cloudflare.com/client/v4", api_token="tok")
    assert account.strip() not in str(refused.value) + str(from_env.value)
    with vz.connect("http://127.0.0.1:9", account_id=account) as served:  # a served engine takes any account id
        assert served.backend.transport.account_id == account


def test_an_account_id_pasted_with_a_newline_or_spaces_is_trimmed_as_the_token_is(monkeypatch):
    """It was refused as "33 characters long, not one of Cloudflare's account ids", not naming the newline."""
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", " " + "a" * 32 + "\n")
    with vz.connect("cloudflare", api_token="tok") as client:
        assert client.backend.transport.account_id == "a" * 32


def test_a_folder_given_as_a_path_where_the_target_goes_says_path(tmp_path):
    """vz.connect(Path("./x")) raised AttributeError: 'PosixPath' object has no attribute 'lower'."""
    from pathlib import Path

    with pytest.raises(errors.ConfigurationError, match=r"got PosixPath 'x'; for an engine folder, "
                                                        r"vz.connect\(path='x'\)"):
        vz.connect(Path("x"))
