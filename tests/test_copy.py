"""Index.copy_to: an index copied to another target (a folder, a served engine standing in for Cloudflare,
and back), with its configuration, metadata indexes, vectors and embedding record; refusals; a copy that
stops half-way, and the run that completes it."""

import contextlib

import numpy as np
import pytest

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.client import Client
from vectorize_nb.local import LocalEngine

from .helpers import TINY
from .rest.faults import FaultRig, Pass, Reply

DIMS = 32
COUNT = 60
GENRES = ("drama", "comedy", "horror")


def _metadata(i):
    if i % 7 == 0:
        return None  # a vector without metadata
    return {"genre": GENRES[i % 3], "year": 1990 + i, "score": i / 7, "seen": i % 2 == 0, "note": None,
            "tags": ["a", i, None, {"deep": [True, 1.5]}], "cast": {"lead": f"actor {i}", "extras": {"n": i}},
            "title": f"film {i} é"}


@pytest.fixture
def source():
    """A memory client holding "films": metadata of every JSON type, namespaces, two metadata indexes."""
    with vz.connect("memory") as client:
        films = client.create_index("films", dimensions=DIMS, metric="euclidean", description="my films")
        films.create_metadata_index("genre", "string")
        films.create_metadata_index("year", "number")
        rng = np.random.default_rng(7)
        values = rng.standard_normal((COUNT, DIMS)).astype(np.float32)
        values[5] = np.nextafter(values[5], np.float32(np.inf))  # bits a decimal round trip could lose
        films.upsert([f"f{i}" for i in range(COUNT)], values, metadata=[_metadata(i) for i in range(COUNT)],
                     namespaces=[None if i % 4 else f"ns{i % 3}" for i in range(COUNT)], wait=True)
        yield client


@contextlib.contextmanager
def _served():
    with vz.serve(memory=True) as server, vz.connect(server.url, max_retries=0) as client:
        yield client


def _same_index(a, b):
    """The two indexes hold the same: config, metadata indexes, vectors (bit for bit), metadata JSON
    (nulls included), namespaces, and the same query answers with and without a filter."""
    assert (b.dimensions, b.metric, b.description.description) == (a.dimensions, a.metric, a.description.description)
    assert a.list_metadata_indexes().equals(b.list_metadata_indexes())
    # by id: writes in flight together may land in any order, and a copy promises no insertion order
    fa, fb = (index.to_frame().sort_values("id", kind="stable").reset_index(drop=True) for index in (a, b))
    assert fa["id"].tolist() == fb["id"].tolist() and set(fa.columns) == set(fb.columns)
    fb = fb[fa.columns]
    assert fa["namespace"].tolist() == fb["namespace"].tolist()
    assert fa["values"].array.matrix.tobytes() == fb["values"].array.matrix.tobytes()
    assert fa.drop(columns="values").equals(fb.drop(columns="values"))
    ids = fa["id"].tolist()
    raw_a = {r.id: r.metadata for r in a.backend.get_by_ids(a.name, ids[:20])}
    raw_b = {r.id: r.metadata for r in b.backend.get_by_ids(b.name, ids[:20])}
    assert raw_a == raw_b and raw_a["f1"]["note"] is None and raw_a["f0"] is None
    queries = fa["values"].array.matrix[:4] + np.float32(0.1)
    for flt in (None, vz.F("genre") == "drama", vz.F("year") >= 2020):
        qa = a.query_many(queries, top_k=10, filter=flt, return_metadata="all")
        qb = b.query_many(queries, top_k=10, filter=flt, return_metadata="all")
        assert len(qa) > 0
        assert qa[["query", "rank", "id", "namespace"]].equals(qb[["query", "rank", "id", "namespace"]])
        assert qa["score"].tolist() == qb["score"].tolist()


def test_memory_to_a_folder(source, tmp_path):
    films = source.get_index("films")
    with vz.connect(path=tmp_path / "engine") as folder:
        copied = films.copy_to(folder, wait=True)
        assert copied.target == folder.target and copied.name == "films"
        _same_index(films, copied)
    with vz.connect(path=tmp_path / "engine") as reopened:  # on disk, not only in the handle
        _same_index(films, reopened.get_index("films"))


def test_local_to_a_served_engine_and_back_under_another_name(source):
    films = source.get_index("films")
    with _served() as cloud:
        copied = films.copy_to(cloud, wait=True, batch_size=25)
        _same_index(films, copied)
        with vz.connect("memory") as laptop:
            back = copied.copy_to(laptop, name="films-v2", wait=True)
            assert back.name == "films-v2"
            _same_index(films, back)


def test_a_copy_waits_for_its_metadata_indexes_before_the_vectors_on_a_delayed_target(source, tmp_path):
    films = source.get_index("films")
    with vz.connect(path=tmp_path, apply_delay=0.3) as delayed:
        copied = films.copy_to(delayed, wait=True)
        assert copied.explain_filter(vz.F("genre") == "drama")["vectors_predating_index"].tolist() == [0]
        _same_index(films, copied)


def test_a_target_that_applies_the_metadata_indexes_too_late_says_no_vector_was_written(source, monkeypatch):
    """A bare "mutation ... not applied after 60 s (during wait on index 'films')" ended the copy, and said
    nothing of the copy, nor of the empty index it left there."""
    films, wait = source.get_index("films"), vz.Index.wait
    monkeypatch.setattr(vz.Index, "wait", lambda self, *a, **k: wait(self, *a, **{**k, "timeout": 0.2}))
    with vz.connect("memory", apply_delay=30) as slow:
        with pytest.raises(errors.WaitTimeout) as late:
            films.copy_to(slow)
        assert str(late.value).startswith("the copy's metadata indexes on index 'films' on memory were not applied "
                                          "in time, so no vector was written there; ")
        assert late.value.hint == "Run copy_to(..., exist_ok=True) again once the target has applied them"


def test_an_index_made_from_a_preset_is_copied_as_that_preset():
    with vz.connect("memory") as a, vz.connect("memory") as b:
        docs = a.create_index("docs", preset="@cf/baai/bge-small-en-v1.5")
        copied = docs.copy_to(b)
        assert copied.description.config == docs.description.config
        assert copied.description.config.preset == "@cf/baai/bge-small-en-v1.5"


def test_an_empty_index_is_copied_with_its_metadata_indexes():
    with vz.connect("memory") as a, vz.connect("memory") as b:
        empty = a.create_index("empty", dimensions=DIMS)
        empty.create_metadata_index("genre", "string")
        copied = empty.copy_to(b, wait=True)
        assert copied.info().vector_count == 0
        assert copied.list_metadata_indexes()["property_name"].tolist() == ["genre"]


def test_copying_onto_itself_is_refused_before_anything_happens(source, tmp_path):
    films = source.get_index("films")
    with pytest.raises(errors.InvalidRequest, match="onto itself"):
        films.copy_to(source)
    assert source.list_indexes()["name"].tolist() == ["films"]
    with vz.connect(path=tmp_path) as one, vz.connect(path=tmp_path) as two:  # two clients, one folder
        kept = one.create_index("kept", dimensions=DIMS)
        with pytest.raises(errors.InvalidRequest, match="onto itself"):
            kept.copy_to(two)
        assert kept.copy_to(two, name="beside").name == "beside"
    spelled_otherwise = tmp_path.parent / tmp_path.name / "." / ".." / tmp_path.name
    with vz.connect(path=tmp_path) as one, vz.connect(path=spelled_otherwise) as two:
        with pytest.raises(errors.InvalidRequest, match="onto itself"):
            one.get_index("kept").copy_to(two)


@pytest.mark.parametrize("target", ["cloudflare", None])
def test_a_target_that_is_not_a_client_says_how_to_make_one(source, target):
    """copy_to("cloudflare") raised AttributeError: 'str' object has no attribute 'backend'."""
    with pytest.raises(TypeError) as raised:
        source.get_index("films").copy_to(target)
    how = "'cloudflare'" if target else "'cloudflare' or a server's URL"
    assert str(raised.value) == f"copy_to takes a client, vz.connect({how}), got {target!r}"


@pytest.mark.parametrize("target", ["./copyfolder", "copyfolder", "~/backups/films"])
def test_a_folder_given_as_the_target_is_told_to_connect_with_path(source, target):
    """copy_to("./folder") said to pass vz.connect('./folder'), which raises: a folder is vz.connect(path=...)."""
    with pytest.raises(TypeError) as raised:
        source.get_index("films").copy_to(target)
    assert str(raised.value) == f"copy_to takes a client, vz.connect(path={target!r}), got {target!r}"


@pytest.mark.parametrize("url, shown", [("https://user:s3cret@vectorize.example.com", "https://***@vectorize.example.com"),
                                       ("http://127.0.0.1:8787?token=s3cret", "http://127.0.0.1:8787?***")])
def test_a_url_given_as_the_target_is_quoted_without_its_secrets(source, url, shown):
    """copy_to(url) quoted it whole, password and query included, twice."""
    with pytest.raises(TypeError) as raised:
        source.get_index("films").copy_to(url)
    assert str(raised.value) == f"copy_to takes a client, vz.connect({shown!r}), got {shown!r}"


def test_an_existing_index_is_refused_naming_exist_ok_and_nothing_is_written(source):
    films = source.get_index("films")
    with vz.connect("memory") as target:
        target.create_index("films", dimensions=DIMS, metric="euclidean")
        with pytest.raises(errors.DuplicateIndexName) as refused:
            films.copy_to(target)
        assert refused.value.code == 3002 and "exist_ok=True" in str(refused.value)
        assert "Nothing was written" in str(refused.value)
        existing = target.get_index("films")
        assert existing.info().vector_count == 0 and existing.list_metadata_indexes().empty


def test_exist_ok_writes_into_a_matching_index_and_creates_its_missing_metadata_indexes(source):
    films = source.get_index("films")
    with vz.connect("memory") as target:
        existing = target.create_index("films", dimensions=DIMS, metric="euclidean", description="my films")
        existing.create_metadata_index("year", "number")
        copied = films.copy_to(target, exist_ok=True, wait=True)
        assert sorted(copied.list_metadata_indexes()["property_name"]) == ["genre", "year"]
        assert copied.info().vector_count == COUNT


def test_exist_ok_refuses_an_index_of_other_dimensions_or_metric_with_nothing_written(source):
    films = source.get_index("films")
    with vz.connect("memory") as target:
        target.create_index("films", dimensions=DIMS, metric="cosine")
        with pytest.raises(errors.DuplicateIndexName) as refused:
            films.copy_to(target, exist_ok=True)
        assert "another configuration: metric 'cosine' (asked for 'euclidean') (during" in str(refused.value)
        assert str(refused.value).endswith(". exist_ok=True reopens only an index of the same configuration: pick "
                                           "another name=, or delete it first")  # not "exist_ok=True" again
        existing = target.get_index("films")
        assert existing.info().vector_count == 0 and existing.list_metadata_indexes().empty


def test_a_taken_name_is_refused_before_the_source_is_read(source, monkeypatch):
    """The whole source was read (from Cloudflare, 20 vectors a request) before a target index of that name was
    refused."""
    films = source.get_index("films")
    monkeypatch.setattr(films.backend, "export", lambda *a, **k: pytest.fail("the source was read"))
    with vz.connect("memory") as target:
        target.create_index("films", dimensions=DIMS, metric="euclidean")
        with pytest.raises(errors.DuplicateIndexName, match="exist_ok=True"):
            films.copy_to(target)
        target.create_index("other", dimensions=DIMS, metric="cosine")
        with pytest.raises(errors.DuplicateIndexName, match="metric 'cosine' \\(asked for 'euclidean'\\)"):
            films.copy_to(target, "other", exist_ok=True)


def test_an_invalid_name_is_refused_before_the_source_is_read(source, monkeypatch):
    """An engine target knows its name rules: `Films!` was refused only when the copy was made, after the export."""
    films = source.get_index("films")
    monkeypatch.setattr(films.backend, "export", lambda *a, **k: pytest.fail("the source was read"))
    with vz.connect("memory") as target:
        with pytest.raises(errors.InvalidIndexName, match=r"Index name 'Films!' is not valid.*\(during copy_to"):
            films.copy_to(target, "Films!")
        assert target.list_indexes().empty


def test_a_metadata_index_of_another_type_on_the_target_is_refused_before_any_vector(source):
    films = source.get_index("films")
    with vz.connect("memory") as target:
        target.create_index("films", dimensions=DIMS, metric="euclidean").create_metadata_index("genre", "number")
        with pytest.raises(errors.InvalidMetadataIndex, match="genre"):
            films.copy_to(target, exist_ok=True)
        assert target.get_index("films").info().vector_count == 0


def test_a_copy_that_stops_half_way_says_what_was_copied_and_a_rerun_completes_it(source):
    films = source.get_index("films")
    with LocalEngine(limits=TINY) as engine, FaultRig(engine) as rig:
        rig.app.script("upsert", Pass(), Pass(), *[Reply(503)] * 5)  # the server stops answering writes
        target = rig.client(max_retries=0)
        with pytest.raises(vz.WriteIncomplete) as stopped:
            films.copy_to(target, batch_size=20)
        assert stopped.value.result.written == 40
        assert "40 of 60 vectors copied. Running copy_to(..., exist_ok=True) again" in str(stopped.value)
        assert engine.index_info("films").vector_count == 40
        rig.app.heal()
        copied = films.copy_to(target, exist_ok=True, batch_size=20, wait=True)
        _same_index(films, copied)


def test_a_copy_stopped_by_a_refusal_says_to_fix_the_cause_before_running_it_again(source):
    """A 401 half-way said "Running copy_to(..., exist_ok=True) again copies them all", then that sending them
    again would fail the same way."""
    films = source.get_index("films")
    with LocalEngine(limits=TINY) as engine, FaultRig(engine) as rig:
        rig.app.script("upsert", Pass(), Reply(401))
        with pytest.raises(vz.WriteIncomplete) as stopped:
            films.copy_to(rig.client(max_retries=0), batch_size=20)
        said = str(stopped.value)
        assert "20 of 60 vectors copied. Once the cause is fixed, running copy_to(..., exist_ok=True) again" in said
        assert ". Sending them again would fail the same way: fix the cause" in said


@pytest.mark.embeds
def test_the_embedding_record_goes_with_the_copy(source):
    with vz.connect("memory") as a, vz.connect("memory") as b:
        docs = a.create_index("docs", dimensions=256)
        docs.upsert(["d"], np.ones((1, 256), np.float32))
        a.embedder.wrote(docs.description, vz.SHIPPED_MODEL, None)
        docs.copy_to(b)
        assert b.embedder.written(b.get_index("docs").description) == (vz.SHIPPED_MODEL, "mean")
        assert b.get_index("docs").query("a question", model=vz.SHIPPED_MODEL)["id"].tolist() == ["d"]


def test_a_copy_into_texts_embedded_otherwise_is_refused_before_any_vector(source):
    """copy_to(exist_ok=True) replaced the target's record of its texts' model and pooling without a word, and
    mixed vectors that do not compare into one index."""
    bge = "@cf/baai/bge-small-en-v1.5"
    with vz.connect("memory") as a, vz.connect("memory") as b:
        docs, there = a.create_index("docs", preset=bge), b.create_index("docs", preset=bge)
        docs.upsert(["d"], np.ones((1, 384), np.float32))
        a.embedder.wrote(docs.description, bge, "cls")
        b.embedder.wrote(there.description, bge, "mean")
        with pytest.raises(errors.InvalidRequest) as refused:
            docs.copy_to(b, exist_ok=True)
        assert str(refused.value).startswith(
            f"index 'docs' on memory holds texts embedded with {bge} and mean pooling, and 'docs' texts embedded "
            f"with {bge} and cls pooling, whose vectors do not compare with theirs: copy under another name=")
        assert b.embedder.written(there.description) == (bge, "mean") and there.info().vector_count == 0


def test_a_model_that_cannot_run_on_the_target_is_said_at_the_copy(source):
    with _served() as cloud, vz.connect("memory") as laptop:
        big = cloud.create_index("big", dimensions=1024)
        big.upsert(["d"], np.ones((1, 1024), np.float32))
        cloud.embedder.wrote(big.description, "@cf/baai/bge-m3", None)  # texts embedded on Workers AI
        with pytest.warns(errors.VectorizeWarning, match="bge-m3, which runs on Workers AI only"):
            copied = big.copy_to(laptop)
        assert laptop.embedder.written(copied.description) == ("@cf/baai/bge-m3", "cls")
        with pytest.raises(errors.ModelNotAvailable):
            copied.query("a question", model="@cf/baai/bge-m3")


def test_the_target_is_any_client(source):
    assert isinstance(source, Client)
    films = source.get_index("films")
    with vz.connect("memory") as target:
        assert type(films.copy_to(target)) is type(films)


def test_vectors_the_target_refuses_leave_no_index_there(source):
    films = source.get_index("films")
    small = vz.DEFAULT_LIMITS.with_changes(max_metadata_bytes=100)
    with vz.connect("memory", limits=small) as target:
        with pytest.raises(errors.MetadataTooLarge, match="max is 100 bytes") as refused:
            films.copy_to(target)
        assert "Nothing was written" in str(refused.value)
        assert target.list_indexes().empty


def test_a_copy_holds_this_clients_writes_not_yet_applied_at_the_source():
    with vz.connect("memory", apply_delay=0.3) as a, vz.connect("memory") as b:
        films = a.create_index("films", dimensions=DIMS)
        films.upsert(["a", "b"], np.ones((2, DIMS), np.float32))  # acknowledged, not applied yet
        copied = films.copy_to(b, wait=True)
        assert copied.to_frame()["id"].tolist() == ["a", "b"]


def test_metadata_indexes_past_the_targets_most_are_refused_before_any_is_created(source):
    films = source.get_index("films")  # indexes genre and year
    with vz.connect("memory") as target:
        existing = target.create_index("films", dimensions=DIMS, metric="euclidean")
        for name in "abcdefghi":
            existing.create_metadata_index(name, "string")
        with pytest.raises(errors.TooManyMetadataIndexes) as refused:
            films.copy_to(target, exist_ok=True)
        assert '"genre", "year"' in str(refused.value) and "max is 10" in str(refused.value)
        assert "copy_to" in str(refused.value) and "Nothing was written" in str(refused.value)
        assert sorted(existing.list_metadata_indexes()["property_name"]) == list("abcdefghi")


def test_metadata_indexes_past_a_new_targets_most_leave_no_index_there(source):
    """The index was created there first, then the metadata indexes refused: an empty index was left behind
    an error saying that nothing was written."""
    films = source.get_index("films")  # indexes genre and year
    with vz.connect("memory", limits=vz.DEFAULT_LIMITS.with_changes(max_metadata_indexes=1)) as target:
        with pytest.raises(errors.TooManyMetadataIndexes) as refused:
            films.copy_to(target)
        assert '2 metadata indexes ("genre", "year")' in str(refused.value) and "max is 1" in str(refused.value)
        assert "copy_to" in str(refused.value) and "Nothing was written" in str(refused.value)
        assert target.list_indexes().empty
