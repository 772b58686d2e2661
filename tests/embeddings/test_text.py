"""Text wherever vectors go: Client.embed, df.vectorize.upsert/query/embed(text=...), Index.query("...")."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.contract.embedding_models import SHIPPED_MODEL
from vectorize_nb.contract.models import UNKNOWN_TIME
from vectorize_nb.embeddings import embed_locally

from ..helpers import TINY
from .tiny import fill_hub_cache

BGE = "@cf/baai/bge-small-en-v1.5"
DOCS = pd.DataFrame({
    "id": ["csv", "gzip", "smtp", "json"],
    "body": ["read a CSV file into rows and columns", "compress a file with gzip",
             "send an email message over SMTP", "parse and write JSON documents"],
}, index=[10, 11, 12, 13])


@pytest.fixture
def client(tmp_path):
    with vz.connect("local", path=tmp_path / "store", limits=TINY) as opened:
        yield opened


def test_embed_returns_unit_rows_of_the_model_and_pays_for_each_text_once(client):
    texts = DOCS["body"].tolist()
    first = client.embed(texts, SHIPPED_MODEL)
    assert first.dtype == np.float32 and first.shape == (4, 256)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.allclose(first, embed_locally(texts, SHIPPED_MODEL), atol=1e-6)
    assert (client.embedder.report.cached, client.embedder.report.runs) == (0, "local")
    again = client.embed(texts[::-1] + ["a new text"], SHIPPED_MODEL)
    assert np.array_equal(again[:4], first[::-1]) and client.embedder.report.cached == 4
    client.embed(texts, SHIPPED_MODEL, cache=False)
    assert client.embedder.report.cached == 0
    assert (client.path / "embeddings").is_dir() if hasattr(client, "path") else True


def test_the_stop_button_keeps_the_parts_embedded_before_it(client, monkeypatch):
    import vectorize_nb.embeddings as local
    from vectorize_nb import embedder

    texts = [f"text number {i}" for i in range(10)]
    made = embed_locally(texts, SHIPPED_MODEL)
    monkeypatch.setattr(embedder, "LOCAL_PART", 4)
    calls = []
    real = local.embed_locally

    def stopped_at_the_third_part(batch, model, pooling):
        calls.append(batch)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(batch, model, pooling)

    monkeypatch.setattr(local, "embed_locally", stopped_at_the_third_part)
    with pytest.raises(KeyboardInterrupt, match="made before the stop are cached, so running this again embeds only"):
        client.embed(texts, SHIPPED_MODEL)
    again = client.embed(texts, SHIPPED_MODEL)
    assert calls[3:] == [texts[8:]] and client.embedder.report.cached == 8
    assert np.allclose(again, made, atol=1e-6)


def test_the_cache_sits_beside_the_engines_folder(client):
    client.embed(["one text"], SHIPPED_MODEL)
    assert (client.backend.folder / "embeddings" / "embeddings.sqlite3").is_file()


def test_a_text_column_is_upserted_and_queried_by_free_text(client):
    index = client.create_index("docs", 256)
    result = DOCS.vectorize.upsert(index, id="id", text="body", model=SHIPPED_MODEL, metadata=["body"])
    assert result.ok and index.info().vector_count == 4
    stored = index.get_by_ids(["csv"])["values"].iloc[0]
    assert np.allclose(stored, embed_locally([DOCS.loc[10, "body"]], SHIPPED_MODEL)[0], atol=1e-6)
    hits = index.query("how do I read a csv file", model=SHIPPED_MODEL, top_k=2, return_metadata="all")
    assert hits["id"].tolist()[0] == "csv" and hits["body"].tolist()[0].startswith("read a CSV")
    questions = pd.DataFrame({"question": ["zip a file", "mail someone"]}, index=["q1", "q2"])
    answers = questions.vectorize.query(index, text="question", model=SHIPPED_MODEL, top_k=1)
    assert answers["query"].tolist() == ["q1", "q2"] and answers["id"].tolist() == ["gzip", "smtp"]
    with pytest.raises(errors.EmptyText) as empty:  # said where, as a query of vectors does
        questions.assign(question=["zip a file", ""]).vectorize.query(index, text="question", top_k=1)
    assert "row 'q2' is empty (during query on index 'docs')" in str(empty.value)


def test_questions_default_to_the_model_this_client_wrote_the_texts_with(client):
    """An index made with dimensions=256 for the shipped model (no preset of Vectorize's names it): its texts
    written with model=SHIPPED_MODEL, a question without model= was refused with "pass model=". The
    client knows the model: it is the default where the index has no preset."""
    index = client.create_index("docs", 256)
    DOCS.vectorize.upsert(index, id="id", text="body", model=SHIPPED_MODEL, wait=True)
    assert index.query("how do I read a csv file", top_k=1)["id"].tolist() == ["csv"]
    questions = pd.DataFrame({"question": ["zip a file", "mail someone"]}, index=["q1", "q2"])
    assert questions.vectorize.query(index, text="question", top_k=1)["id"].tolist() == ["gzip", "smtp"]
    with pytest.raises(errors.UnknownModel, match="index 'other' was not created from an embedding model's preset"):
        client.create_index("other", 256).query("a question")  # no texts written there


def test_a_frame_embedded_for_an_index_defaults_to_the_model_its_texts_were_written_with(client):
    """Index.embed and Index.query knew the model an index's texts were written with; df.vectorize.embed(index)
    said "its model is not known: pass model=" all the same."""
    index = client.create_index("docs", 256)
    DOCS.vectorize.upsert(index, id="id", text="body", model=SHIPPED_MODEL, wait=True)
    column = DOCS.vectorize.embed(index, text="body")
    assert client.embedder.report.model == SHIPPED_MODEL
    np.testing.assert_array_equal(column.array.matrix, client.embed(DOCS["body"].tolist(), SHIPPED_MODEL))
    with pytest.raises(errors.VectorDimensionMismatch, match="index 'docs' holds 256-dimension vectors"):
        DOCS.vectorize.embed(index, text="body", model=BGE)


def test_a_new_kernel_knows_the_model_an_index_texts_were_written_with(client, tmp_path):
    """The record was the client's alone: after a kernel restart, a question on the same folder needed model=
    again, and texts written with another pooling went in without a word. It lives in the cache file now, for
    that index as created: a new index of the same name starts with none."""
    index = client.create_index("docs", 256)
    DOCS.vectorize.upsert(index, id="id", text="body", model=SHIPPED_MODEL, wait=True)
    client.create_index("gone", 256).upsert(["a"], client.embed(["a text"], SHIPPED_MODEL), wait=True)
    DOCS.vectorize.upsert(client.get_index("gone"), id="id", text="body", model=SHIPPED_MODEL, wait=True)
    client.close()
    with vz.connect("local", path=tmp_path / "store", limits=TINY) as restarted:
        again = restarted.get_index("docs")
        assert again.query("how do I read a csv file", top_k=1)["id"].tolist() == ["csv"]
        restarted.delete_index("gone")
        with pytest.raises(errors.UnknownModel, match="was not created from an embedding model's preset"):
            restarted.create_index("gone", 256).query("a question")


def test_a_new_kernel_refuses_texts_embedded_otherwise_than_the_index_texts(client, tmp_path, hf_cache, tiny_repo):
    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    DOCS.vectorize.upsert(client.create_index("preset", preset=BGE), id="id", text="body", pooling="cls", wait=True)
    client.close()
    with vz.connect("local", path=tmp_path / "store", limits=TINY) as restarted:
        with pytest.raises(errors.InvalidRequest, match=f"holds texts embedded with {BGE} and cls pooling"):
            DOCS.vectorize.upsert(restarted.get_index("preset"), id="id", text="body", pooling="mean")
        assert DOCS.vectorize.upsert(restarted.get_index("preset"), id="id", text="body").ok  # cls, as written
        assert restarted.embedder.report.pooling == "cls"


def test_a_new_client_of_the_same_server_knows_the_model_but_not_another_servers(tmp_path, monkeypatch):
    """Over REST the record is in the user's cache file, keyed by the server: a server elsewhere whose index has
    the same name and creation time is another index."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with vz.serve(tmp_path / "served", port=0) as server:
        with vz.connect(server.url, max_retries=0) as first:
            index = first.create_index("docs", 256)
            DOCS.vectorize.upsert(index, id="id", text="body", model=SHIPPED_MODEL, wait=True)
        with vz.connect(server.url, max_retries=0) as second:
            assert second.get_index("docs").query("read a csv file", top_k=1)["id"].tolist() == ["csv"]
            assert second.embedder.written(index.description) == (SHIPPED_MODEL, "mean")
            elsewhere = vz.connect("http://127.0.0.1:9", max_retries=0)
            assert elsewhere.embedder.written(index.description) is None
            elsewhere.close()


def test_an_index_whose_creation_time_the_server_omits_keeps_its_record_in_the_client_only(client, tmp_path):
    """The record is keyed by the index as created: of a server that gives no `created_on`, every index of a name
    looks the same, so a record kept in the cache file would pass to a new index of a deleted one's name."""
    undated = dataclasses.replace(client.create_index("docs", 256).description, created_on=UNKNOWN_TIME)
    client.embedder.wrote(undated, SHIPPED_MODEL, None)
    assert client.embedder.written(undated) == (SHIPPED_MODEL, "mean")
    client.close()
    with vz.connect("local", path=tmp_path / "store", limits=TINY) as restarted:
        assert restarted.embedder.written(undated) is None


def test_the_models_that_fit_an_index_are_those_that_run_where_its_client_embeds(client, tmp_path):
    index = client.create_index("big", 1024)
    assert client.embedder.models_for(index.description) == ["@cf/baai/bge-large-en-v1.5"]  # no local bge-m3
    with vz.serve(tmp_path / "served", port=0) as server, vz.connect(server.url, max_retries=0) as remote:
        assert remote.embedder.models_for(remote.create_index("big", 1024).description) == [
            "@cf/baai/bge-large-en-v1.5", "@cf/baai/bge-m3", "@cf/qwen/qwen3-embedding-0.6b"]
        small = remote.create_index("small", preset=BGE)
        assert remote.embedder.models_for(small.description) == [BGE]


def test_a_memory_target_keeps_no_record_past_its_client(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with vz.connect("memory", limits=TINY) as memory:
        index = memory.create_index("docs", 256)
        DOCS.vectorize.upsert(index, id="id", text="body", model=SHIPPED_MODEL, wait=True)
        assert index.query("read a csv file", top_k=1)["id"].tolist() == ["csv"]
    import sqlite3

    with sqlite3.connect(tmp_path / "cache" / "vectorize-nb" / "embeddings.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM written").fetchone() == (0,)


def test_embed_gives_a_column_aligned_to_the_frame(client):
    column = DOCS.vectorize.embed(client, text="body", model=SHIPPED_MODEL)
    assert column.index.tolist() == [10, 11, 12, 13] and column.name == "embedding"
    assert column.iloc[0].shape == (256,) and "4 texts with wordllama/l2-supercat-256" in column.attrs["embedding"]
    assert column.dtype == vz.VectorDtype(256) and column.array.matrix.shape == (4, 256)
    framed = DOCS.assign(embedding=column)
    index = client.create_index("framed", 256)
    assert framed.vectorize.upsert(index, id="id", vector="embedding").ok


@pytest.mark.parametrize("body, error, message", [
    (["a", None, "c", "d"], errors.TextNotString, "text column 'body' has no text in row 11: row 11 is missing"),
    (["a", "b", "", "d"], errors.EmptyText, "text column 'body' has no text in row 12: row 12 is empty"),
])
def test_a_missing_or_empty_text_is_named_by_its_row_and_nothing_is_written(client, body, error, message):
    index = client.create_index("bad", 256)
    with pytest.raises(error, match=message) as caught:
        DOCS.assign(body=body).vectorize.upsert(index, id="id", text="body", model=SHIPPED_MODEL)
    assert caught.value.code == 5006 and "Nothing was written" in str(caught.value)
    assert index.info().vector_count == 0 and client.embedder.report is None


def test_a_text_with_a_lone_surrogate_is_named_by_its_row(client):
    with pytest.raises(errors.BadEmbeddingInput, match="row 1 holds a lone surrogate") as caught:
        client.embed(["fine", "bad \udcff byte", "fine too"], model=SHIPPED_MODEL)  # bytes read with surrogateescape
    assert caught.value.row == 1 and client.embedder.report is None


def test_a_model_of_other_dimensions_is_refused_before_anything_is_embedded(client):
    index = client.create_index("small", 384)
    with pytest.raises(errors.VectorDimensionMismatch, match="model 'wordllama/l2-supercat-256' makes 256-dimension "
                                                              "vectors, but index 'small' holds 384-dimension"):
        DOCS.vectorize.upsert(index, id="id", text="body", model=SHIPPED_MODEL)
    with pytest.raises(errors.QueryDimensionMismatch, match="index 'small' holds 384"):
        index.query("a question", model=SHIPPED_MODEL)
    assert client.embedder.report is None and index.info().vector_count == 0


def test_an_index_made_from_a_preset_knows_its_model(client, hf_cache, tiny_repo):
    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)  # a tiny stand-in for bge-small's weights
    index = client.create_index("preset", preset=BGE)
    assert DOCS.vectorize.upsert(index, id="id", text="body").ok  # no model=: the preset's
    assert client.embedder.report.model == BGE and client.embedder.report.pooling == "mean"
    assert index.query("read a CSV file into rows and columns", top_k=1)["id"].tolist() == ["csv"]
    plain = client.create_index("plain", 256)
    with pytest.raises(errors.UnknownModel, match="index 'plain' was not created from an embedding model's preset") \
            as refused:
        plain.query("a question")
    assert str(refused.value).count("vz.embedding_models()") == 1  # the message, then its hint, said it twice


@pytest.mark.parametrize(("preset", "dimensions"), [("openai/text-embedding-ada-002", 1536),
                                                    ("cohere/embed-multilingual-v2.0", 768)])
def test_an_index_made_from_another_providers_preset_says_its_texts_are_embedded_there(client, preset, dimensions):
    index = client.create_index("provider", preset=preset)
    for ask in (lambda: index.query("a question"),
                lambda: DOCS.vectorize.upsert(index, id="id", text="body"),
                lambda: DOCS.vectorize.query(index, text="body")):
        with pytest.raises(errors.UnknownModel) as refused:
            ask()
        message = str(refused.value)
        assert f"index 'provider' was created from the preset {preset!r}" in message
        assert "did you mean" not in message and "@cf/" not in message  # no model of another vector space
        assert f"pass its {dimensions}-dimension vectors" in message


def test_a_text_over_the_token_limit_names_the_callers_row(client, hf_cache, tiny_repo):
    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    index = client.create_index("long", preset=BGE)
    client.embed(DOCS["body"].tolist()[:2], BGE)  # cached: the long text is row 3 of the frame, not of what is left
    long = DOCS.assign(body=DOCS["body"].tolist()[:3] + ["word " * 600])
    with pytest.raises(errors.TextTooLong, match=r"row 13 has \d+ tokens"):
        long.vectorize.upsert(index, id="id", text="body")
    with pytest.raises(errors.TextTooLong, match=r"^\[5006\] row 4 has \d+ tokens"):
        client.embed(["a", "b", "c", "d", "word " * 600], BGE)


def test_a_text_over_the_token_limit_past_the_first_part_is_named_by_its_row(client, hf_cache, tiny_repo,
                                                                              monkeypatch):
    from vectorize_nb import embedder

    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    monkeypatch.setattr(embedder, "LOCAL_PART", 4)  # texts embedded here go four at a time
    texts = [f"read the file {i}" for i in range(10)]
    texts[6] = "word " * 600  # the third text of the second part
    for cache in (False, True):
        with pytest.raises(errors.TextTooLong, match=r"^\[5006\] row 6 has 602 tokens"):
            client.embed(texts, BGE, cache=cache)


def test_every_text_is_counted_before_any_part_is_embedded(client, hf_cache, tiny_repo, monkeypatch):
    """Texts embedded here were counted a part of LOCAL_PART at a time: a text over the limit in the third part
    was refused after the first two had gone through the model, and "N more rows" counted its part alone."""
    import vectorize_nb.embeddings as local
    from vectorize_nb import embedder

    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    monkeypatch.setattr(embedder, "LOCAL_PART", 4)
    embedded = []
    real = local.embed_locally
    monkeypatch.setattr(local, "embed_locally", lambda batch, *args: embedded.append(batch) or real(batch, *args))
    texts = [f"read the file {i}" for i in range(12)]
    texts[9], texts[11] = "word " * 600, "read " * 600
    with pytest.raises(errors.TextTooLong, match=r"^\[5006\] row 9 has 602 tokens.*\(1 more row is over it too: "
                                                 r"row 11\)"):
        client.embed(texts, BGE)
    assert embedded == []


def test_an_empty_or_overlong_query_text_is_called_the_query_text_not_row_0(client, hf_cache, tiny_repo):
    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    index = client.create_index("asked", preset=BGE)
    with pytest.raises(errors.EmptyText) as empty:
        index.query("")
    assert str(empty.value).startswith("[5006] the query text is empty") and "row" not in str(empty.value)
    with pytest.raises(errors.TextTooLong, match=r"^\[5006\] the query text has 602 tokens"):
        index.query("word " * 600)


def test_model_and_pooling_go_with_text_only(client):
    index = client.create_index("args", 256)
    with pytest.raises(ValueError, match="model= and pooling= go with text="):
        DOCS.assign(v=list(np.eye(4, 256))).vectorize.upsert(index, id="id", vector="v", model=SHIPPED_MODEL)
    with pytest.raises(ValueError, match="give one of vector=.*or text="):
        DOCS.vectorize.query(index, vector="body", text="body", model=SHIPPED_MODEL)


def test_embedding_models_lists_the_catalog():
    models = vz.embedding_models()
    assert {"model", "dimensions", "max_texts", "offline", "runs"} <= set(models.columns)
    shipped = models.set_index("model").loc[SHIPPED_MODEL]
    assert (shipped["dimensions"], shipped["offline"], shipped["runs"]) == (256, True, "shipped")
    assert models.set_index("model").loc[BGE, "max_texts"] == 100


def test_a_long_job_embedded_here_shows_its_progress_and_a_short_one_does_not(client, monkeypatch, capsys):
    from vectorize_nb import embedder

    monkeypatch.setattr(embedder, "LOCAL_PART", 4)
    texts = [f"text number {i}" for i in range(20)]  # five parts of four
    client.embed(texts, SHIPPED_MODEL, cache=False)
    assert f"embedding with {SHIPPED_MODEL}" in capsys.readouterr().err
    client.embed(texts, SHIPPED_MODEL, cache=False, progress=False)
    client.embed(texts[:12], SHIPPED_MODEL, cache=False)  # three parts
    frame = pd.DataFrame({"id": [str(i) for i in range(20)], "body": texts})
    index = client.create_index("quiet", dimensions=256)
    frame.vectorize.upsert(index, id="id", text="body", model=SHIPPED_MODEL, progress=False)
    assert capsys.readouterr().err == ""


def test_questions_to_a_preset_index_default_to_the_pooling_its_texts_were_written_with(client, hf_cache,
                                                                                        tiny_repo):
    """Texts written with cls pooling to a bge preset index were asked with mean pooling (the preset's default),
    with a warning to pass pooling='cls': the package knew the pooling and did not use it."""
    import warnings

    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    index = client.create_index("preset", preset=BGE)
    assert DOCS.vectorize.upsert(index, id="id", text="body", pooling="cls", wait=True).ok
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert index.query("read a CSV file into rows and columns", top_k=1)["id"].tolist() == ["csv"]
        assert client.embedder.report.pooling == "cls"
        np.testing.assert_array_equal(index.embed(["gzip"]), client.embed(["gzip"], BGE, pooling="cls"))
        DOCS.vectorize.query(index, text="body", top_k=1)
        assert client.embedder.report.pooling == "cls"
        DOCS.vectorize.embed(index, text="body", model=BGE)
        assert client.embedder.report.pooling == "cls"
        assert DOCS.vectorize.upsert(index, id="id", text="body", wait=True).ok  # written as the texts before
        assert client.embedder.report.pooling == "cls"


def test_a_text_asked_otherwise_than_the_texts_written_warns_once(client, hf_cache, tiny_repo):
    """Texts written with cls pooling and asked with mean pooling scored quietly worse: Workers AI
    documents the two as not compatible."""
    import warnings

    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    index = client.create_index("preset", preset=BGE)
    assert DOCS.vectorize.upsert(index, id="id", text="body", pooling="cls", wait=True).ok
    said = ("index 'preset' holds texts embedded with @cf/baai/bge-small-en-v1.5 and cls pooling; these "
            "are embedded with @cf/baai/bge-small-en-v1.5 and mean pooling, whose vectors do not compare with "
            "theirs: pass model='@cf/baai/bge-small-en-v1.5', pooling='cls'")
    with pytest.warns(vz.errors.VectorizeWarning) as heard:
        index.query("read a CSV file", pooling="mean")
    assert [str(w.message) for w in heard] == [said]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        index.query("read a CSV file", pooling="mean")  # said once
        assert index.query("read a CSV file", pooling="cls", top_k=1)["id"].tolist() == ["csv"]
        pd.DataFrame({"q": ["gzip"]}).vectorize.query(index, text="q", pooling="cls")
        other = client.create_index("other", preset=BGE)
        DOCS.vectorize.upsert(other, id="id", text="body", pooling="cls", wait=True)
        client.delete_index("other")  # a new index of that name holds none of those texts
        again = client.create_index("other", preset=BGE)
        again.upsert(["a"], client.embed(["a text"], BGE), wait=True)
        again.query("read a CSV file")


def test_texts_refused_before_they_were_written_leave_nothing_to_warn_of(client, hf_cache, tiny_repo):
    """A write refused after its texts were embedded (a metadata column that is not there) was remembered as
    written, and a query with the other pooling warned of texts the index did not hold."""
    import warnings

    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    index = client.create_index("preset", preset=BGE)
    with pytest.raises(KeyError):
        DOCS.vectorize.upsert(index, id="id", text="body", pooling="cls", metadata=["no such column"])
    assert index.info().vector_count == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        index.upsert(["a"], client.embed(["a text"], BGE), wait=True)
        index.query("read a CSV file")


def test_texts_written_otherwise_than_those_already_written_are_refused(client, hf_cache, tiny_repo):
    """Texts written with mean pooling, then more with cls pooling, went into one index without a word:
    their vectors do not compare (Workers AI documents the two as not compatible), so every query afterwards
    ranked one half against the other."""
    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    index = client.create_index("preset", preset=BGE)
    assert DOCS.vectorize.upsert(index, id="id", text="body", wait=True).ok  # mean, the preset's default
    before = index.get_by_ids(["csv"])["values"].iloc[0]
    with pytest.raises(errors.InvalidRequest) as refused:
        DOCS.vectorize.upsert(index, id="id", text="body", pooling="cls", wait=True)
    assert refused.value.message == (
        "index 'preset' holds texts embedded with @cf/baai/bge-small-en-v1.5 and mean pooling; these "
        "would be embedded with @cf/baai/bge-small-en-v1.5 and cls pooling, whose vectors do not compare with "
        "theirs: pass model='@cf/baai/bge-small-en-v1.5', pooling='mean', or write them to another index")
    assert np.array_equal(index.get_by_ids(["csv"])["values"].iloc[0], before)
    assert DOCS.vectorize.upsert(index, id="id", text="body", pooling="mean", wait=True).ok  # the same: fine


def _failing_write(monkeypatch, at, error):
    """The `at`-th write call of the engine raises `error()` instead of writing (the stop button, a server's 5xx)."""
    from vectorize_nb.local import LocalEngine

    original, calls = LocalEngine.write, []

    def write(*args, **kwargs):
        calls.append(1)
        if len(calls) == at:
            raise error()
        return original(*args, **kwargs)

    monkeypatch.setattr(LocalEngine, "write", write)


@pytest.mark.parametrize("at, error, raised", [(1, KeyboardInterrupt, vz.WriteInterrupted),
                                               (2, lambda: errors.ServerError("upstream timed out"),
                                                errors.WriteIncomplete)])
def test_texts_written_by_a_write_stopped_part_way_and_retried_are_recorded(client, hf_cache, tiny_repo, monkeypatch,
                                                                            at, error, raised):
    """A write of texts stopped in its write phase (the stop button, a batch refused by the server), then finished
    with the `result.retry()` its error suggests, left the index's model and pooling unrecorded: texts of another
    pooling went in without a word, and a question without model= was refused with UnknownModel."""
    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    index = client.create_index("texts", 384)
    _failing_write(monkeypatch, at, error)
    with pytest.raises(raised) as stopped:
        DOCS.vectorize.upsert(index, id="id", text="body", model=BGE, batch_size=2, wait=True)
    monkeypatch.undo()
    assert stopped.value.result.retry().ok and index.info().vector_count == 4
    assert index.query("how do I read a csv file", top_k=1)["id"].tolist() == ["csv"]
    with pytest.raises(errors.InvalidRequest, match=f"index 'texts' holds texts embedded with {BGE} and mean pooling"):
        DOCS.vectorize.upsert(index, id="id", text="body", model=BGE, pooling="cls", wait=True)


@pytest.mark.parametrize("changed, options, error, said", [
    ({"id": ["csv", "gzip", "smtp", "x" * 65]}, {}, errors.IdTooLong, "max is 64 bytes, got 65 bytes (id='xxx"),
    ({"note": ["a", "b", "c", "x" * 11_000]}, {"metadata": ["note"]}, errors.MetadataTooLarge,
     'metadata too large for id="json"; max is 10240 bytes, got 11011 bytes (row 13)'),
    ({"ns": ["a", "b", "c", "n" * 65]}, {"namespace": "ns"}, errors.NamespaceTooLong,
     'namespace too long for id="json"; max is 64 bytes, got 65 bytes (row 13)'),
])
def test_a_bad_id_metadata_or_namespace_is_refused_before_any_text_is_embedded(client, monkeypatch, changed, options,
                                                                               error, said):
    """Every text of a write was embedded (on Workers AI: paid requests) before its ids, metadata and namespaces
    were checked, and then the write was refused for its last row's."""
    import vectorize_nb.embeddings as local

    embedded = []
    real = local.embed_locally
    monkeypatch.setattr(local, "embed_locally", lambda batch, *args: embedded.append(batch) or real(batch, *args))
    index = client.create_index("docs", 256)
    with pytest.raises(error) as refused:
        DOCS.assign(**changed).vectorize.upsert(index, id="id", text="body", model=SHIPPED_MODEL, **options)
    assert said in str(refused.value) and refused.value.nothing_written and "row 13" in str(refused.value)
    assert embedded == [] and len(client.embedder.cache) == 0 and index.info().vector_count == 0
    with pytest.raises(errors.TextNotString, match="row 11 is missing"):  # a bad text is still told first
        DOCS.assign(body=["a", None, "c", "d"], **changed).vectorize.upsert(index, id="id", text="body",
                                                                             model=SHIPPED_MODEL, **options)


def test_every_row_over_the_token_limit_is_counted_and_the_first_ones_named(client, hf_cache, tiny_repo):
    """TextTooLong counted the distinct texts over the limit, not the rows: fifty rows of one long text were told
    as "row 0" alone, without "(49 more rows are over it too)"; it named no row but the first."""
    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    index = client.create_index("long", preset=BGE)
    bodies = [f"read the file {i}" for i in range(60)]
    for at in range(10, 60, 5):
        bodies[at] = "word " * 600  # ten rows of one text
    bodies[12] = "read " * 600
    frame = pd.DataFrame({"id": [f"doc-{i}" for i in range(60)], "body": bodies}, index=[f"d{i}" for i in range(60)])
    with pytest.raises(errors.TextTooLong) as refused:
        frame.vectorize.upsert(index, id="id", text="body")
    assert refused.value.message.startswith("row 'd10' has 602 tokens; @cf/baai/bge-small-en-v1.5 takes at most 512")
    assert refused.value.message.endswith(
        " (10 more rows are over it too: row 'd12', row 'd15', row 'd20', row 'd25', row 'd30' and 5 more)")
    for cache in (True, False):
        with pytest.raises(errors.TextTooLong) as refused:
            client.embed(bodies, BGE, cache=cache)
        assert refused.value.message.startswith("row 10 has 602 tokens") and refused.value.row == 10
        assert refused.value.message.endswith(
            " (10 more rows are over it too: row 12, row 15, row 20, row 25, row 30 and 5 more)")
    with pytest.raises(errors.TextTooLong) as refused:
        frame.iloc[:14].vectorize.upsert(index, id="id", text="body")
    assert refused.value.message.endswith(" included (1 more row is over it too: row 'd12')")


def test_each_part_embedded_here_is_in_the_cache_as_it_is_made(client, monkeypatch):
    """LOCAL_PART said texts embedded here were cached a part at a time; they were held until 4 MiB of them, so a
    kernel that died (SIGKILL, out of memory) lost up to 4,096 of the shipped model's vectors."""
    import vectorize_nb.embeddings as local
    from vectorize_nb import embedder

    monkeypatch.setattr(embedder, "LOCAL_PART", 4)
    cached = []
    real = local.embed_locally
    monkeypatch.setattr(local, "embed_locally",
                        lambda batch, *args: cached.append(len(client.embedder.cache)) or real(batch, *args))
    client.embed([f"text number {i}" for i in range(10)], SHIPPED_MODEL)
    assert cached == [0, 4, 8]
