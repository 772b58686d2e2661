"""A notebook moves from the embedded engine to a REST target by changing connect()'s argument: the same
call gives the same frame, the same error (class, code, message) and the same warnings on both, and
what the client refuses it refuses before sending anything."""

import numpy as np
import pytest

import vectorize_nb as vz
from vectorize_nb import F, errors

from .congruence.conftest import Clock, open_backend
from .helpers import made_after


@pytest.fixture(params=["local", "rest"])
def client(request):
    with open_backend(request.param, Clock()) as backend:
        yield vz.Client(backend, request.param)


@pytest.fixture
def requests_sent(client, monkeypatch):
    """How many requests the client has sent so far (always 0 on the embedded engine)."""
    sent = []
    transport = getattr(client.backend, "transport", None)
    if transport is not None:
        request = transport.request
        monkeypatch.setattr(transport, "request", lambda *a, **k: sent.append(a) or request(*a, **k))
    return sent


@pytest.fixture
def index(client):
    idx = client.create_index("films", 2)
    idx.upsert(["a", "b"], [[1, 0], [0, 1]], wait=True)
    return idx


def refused(action):
    with pytest.raises(errors.VectorizeError) as caught:
        action()
    return type(caught.value), caught.value.code, str(caught.value)


SHAPE = ("[40006] invalid query vector, expected one vector of 2 dimensions, and got an array of shape {} (during "
         "query on index 'films'). The query vector must have the index's dimensions")
MATRIX = ("[40112] query_many takes a 2-D array of vectors, got shape {} (during query on index 'films'). Give exactly "
          "one of vector or vectorId, and a whole-number topK of at least 1")


SCALAR = ("[40006] query takes one vector of 2 numbers or one text; got {} (during query on index 'films'). The query "
          "vector must have the index's dimensions")


@pytest.mark.parametrize("method, given, said", [
    # a missing text of a frame (None, NaN) or a number was "an array of shape ()", which the caller never gave
    ("query", None, SCALAR.format("None")), ("query", float("nan"), SCALAR.format("nan")),
    ("query", 0.5, SCALAR.format("0.5")), ("query", np.float32(3), SCALAR.format("3.0")),
    ("query", [[1, 0]], SHAPE.format("(1, 2); for several query vectors, query_many(vectors); for one row of a "
                                     "matrix X, X[i]")),
    ("query", [[[1, 0]]], SHAPE.format("(1, 1, 2)")),
    ("query_many", [1, 0], MATRIX.format("(2,)")), ("query_many", [], MATRIX.format("(0,)")),
    ("query_many", np.ones((1, 1, 2)), MATRIX.format("(1, 1, 2)")),
])
def test_query_vectors_of_the_wrong_shape_are_refused_alike_before_sending(index, requests_sent, method, given, said):
    before = len(requests_sent)
    kind = (errors.QueryDimensionMismatch, 40006) if method == "query" else (errors.InvalidQuery, 40112)
    assert refused(lambda: getattr(index, method)(given)) == (*kind, said)
    assert len(requests_sent) == before


def test_several_queries_given_to_query_say_what_takes_them(index, requests_sent):
    """A list of texts was "Failed to parse the request body as JSON", and a matrix of query rows did not
    say that query_many takes them."""
    before = len(requests_sent)
    with pytest.raises(errors.InvalidQuery, match=r"query takes one vector or one text, got a list of 2 texts; .*"
                                                  r"df\.vectorize\.query\(index, text=\.\.\.\)"):
        index.query(["a question", "another"])
    with pytest.raises(errors.QueryDimensionMismatch, match=r"shape \(3, 2\); for several query vectors, "
                                                            r"query_many\(vectors\)"):
        index.query(np.ones((3, 2)))
    assert len(requests_sent) == before


def test_a_column_or_list_of_vectors_given_to_query_says_what_takes_them(index, requests_sent):
    """idx.query(df["embedding"]) showed the Series' printout, cut and over lines, with no next step (a matrix
    got "for several query vectors, query_many(vectors)")."""
    stored = index.get_by_ids(["a", "b"])
    before = len(requests_sent)
    for column, shown in ((stored["values"], "a column 'values' of 2 vectors"),
                          (stored["values"].map(np.asarray).astype(object), "a column 'values' of 2 vectors"),
                          (stored["values"].map(list).astype(object).rename(None), "a column of 2 vectors"),
                          ([np.ones(2), np.ones(3)], "a list of 2 vectors")):
        said = refused(lambda column=column: index.query(column))
        assert said[:2] == (errors.MalformedRequest, 40026) and "\n" not in said[2]
        assert said[2].startswith(f"[40026] query takes one vector of 2 numbers or one text; got {shown}; for several "
                                  "query vectors, query_many(")
    assert ("query_many(df['values']) or df.vectorize.query(index, vector='values'); for one of them, "
            "df['values'].iloc[i] (during" in refused(lambda: index.query(stored["values"]))[2])
    assert "got a list of 2 vectors; for several query vectors, query_many(vectors) or df.vectorize.query(index, " \
        "vector=...); for one of them, vectors[i] (during" in refused(lambda: index.query([np.ones(2), [1]]))[2]
    assert "got a column of 1 vector;" in refused(lambda: index.query(stored["values"].head(1).rename(None)))[2]
    assert len(requests_sent) == before


def test_query_many_with_a_row_of_other_dimensions_is_refused_alike_before_sending(index, requests_sent):
    before = len(requests_sent)
    assert refused(lambda: index.query_many([[1, 0, 0]]))[:2] == (errors.QueryDimensionMismatch, 40006)
    looked = requests_sent[before:]  # over REST, one look whether the index was made again with 3 dimensions
    assert looked in ([], [("GET", "/vectorize/v2/indexes/films")])
    assert index.query_many(np.zeros((0, 2))).empty


def test_query_many_takes_a_column_of_vectors(index, requests_sent):
    """A frame's vector column (`values` from get_by_ids or return_values, or a column of arrays) was
    "Failed to parse the request body as JSON: vector: expected an array of numbers"."""
    stored = index.get_by_ids(["a", "b"])
    expected = index.query_many(np.array([[1, 0], [0, 1]], np.float32), top_k=2)
    for column in (stored["values"], stored["values"].map(np.asarray).astype(object),
                   stored["values"].map(list).astype(object)):
        assert index.query_many(column, top_k=2).equals(expected)
    before = len(requests_sent)
    said = refused(lambda: index.query_many([[1, 0], [1, 0, 0]]))
    assert said == (errors.MalformedRequest, 40026, "[40026] query_many takes one vector of 2 numbers per row (a "
                    "matrix, a list of vectors or a column of them); row 1 is [1, 0, 0] (during query on index "
                    "'films')")  # no hint of a request body, which a Python caller never wrote
    assert ("row 0 is 'a question'; for texts, query_many(index.embed(texts)) (during"
            in refused(lambda: index.query_many(["a question", "another"]))[2])
    assert len(requests_sent) == before


@pytest.mark.parametrize("given, said", [
    ({"a": 1}, "query takes one vector of 2 numbers or one text; got {'a': 1}"),
    ([1, "b"], "query takes one vector of 2 numbers or one text; got [1, 'b']"),
])
def test_a_query_that_is_no_vector_is_refused_in_the_callers_terms(index, requests_sent, given, said):
    """It said "Failed to parse the request body as JSON: vector: expected an array of numbers ... The request
    body must be JSON of the documented shape", of a body the Python caller never wrote."""
    before = len(requests_sent)
    assert refused(lambda: index.query(given)) == (errors.MalformedRequest, 40026,
                                                   f"[40026] {said} (during query on index 'films')")
    assert refused(lambda: index.query([1.0, 0.0], top_k="3"))[2] == (
        "[40026] top_k must be a whole number; got '3' (during query on index 'films')")
    assert refused(lambda: index.query([1.0, 0.0], namespace=5)) == (  # was 40103 with a hint about ids
        errors.MalformedRequest, 40026, "[40026] namespace must be a string; got 5 (during query on index 'films')")
    assert len(requests_sent) == before


@pytest.mark.parametrize("saved", ["[1.0, 0.0]", " [1.  0.]\n", "[1e-3,\n -2]"])
def test_a_vector_saved_as_text_is_refused_not_embedded_as_a_question(index, requests_sent, saved):
    """A frame's vector read back from CSV (a list's or a numpy array's text) was embedded as a question, on an
    index with a known model, and answered with unrelated matches without a word."""
    before = len(requests_sent)
    kind, code, said = refused(lambda: index.query(saved))
    assert (kind, code) == (errors.MalformedRequest, 40026)
    assert said.startswith(f"[40026] query got a vector written as text ({saved!r}); vectors saved as text (to_csv) "
                           "do not read back as numbers")
    many = refused(lambda: index.query_many([saved, saved]))[2]
    assert f"row 0 is {saved!r}, a vector written as text; vectors saved as text (to_csv)" in many, many
    assert "index.embed" not in many  # it advised embedding them as texts
    assert len(requests_sent) == before
    assert refused(lambda: index.query("[2024]"))[0] is errors.UnknownModel  # one number: maybe a question


def test_both_backends_refuse_a_query_that_is_not_one_vector(client):
    client.create_index("films", 2)
    assert refused(lambda: client.backend.query("films", 0.5))[:2] == (errors.QueryDimensionMismatch, 40006)
    assert refused(lambda: client.backend.query_many("films", [1, 0]))[:2] == (errors.InvalidQuery, 40112)


@pytest.mark.parametrize("action", [
    lambda idx: idx.create_metadata_index("genre", "date"),
    lambda idx: idx.delete_metadata_index("never"),
])
def test_metadata_index_errors_name_the_operation_alike(index, action):
    assert refused(lambda: action(index))[2].endswith(
        ("indexType must be one of string, number, boolean, got 'date' (during create_metadata_index on index "
         "'films')",
         "(during delete_metadata_index on index 'films'). list_metadata_indexes() shows the properties that have "
         "one"))


@pytest.mark.parametrize("name, dimensions, description, said", [
    ("films", "3", "", "dimensions must be a whole number or None; got '3'"),
    ("films", True, "", "dimensions must be a whole number or None; got True"),
    (5, 3, "", "name must be a string; got 5"),
    ("films", 3, 5, "description must be a string; got 5"),
])
def test_create_index_arguments_of_the_wrong_type_are_refused_alike_before_sending(client, requests_sent, name,
                                                                                  dimensions, description, said):
    assert refused(lambda: client.create_index(name, dimensions, description=description)) == (
        errors.MalformedRequest, 40026,
        f"[40026] {said} (during create_index {name!r})")
    assert requests_sent == [] and client.list_indexes().empty


def test_a_description_of_none_is_none_and_a_numpy_name_a_plain_one_on_every_target(client):
    assert client.create_index("films", 2, description=None).description.description == ""
    assert repr(client.create_index(np.str_("docs"), 2)) == f"Index('docs', dimensions=2, metric='cosine', " \
                                                            f"target={client.target!r})"


@pytest.mark.parametrize("property_name, index_type, said", [
    (5, "string", "property_name must be a string; got 5"),
    ("genre", None, "index_type must be a string; got None"),
])
def test_metadata_index_arguments_of_the_wrong_type_are_refused_alike_before_sending(index, requests_sent,
                                                                                    property_name, index_type, said):
    before = len(requests_sent)
    assert refused(lambda: index.create_metadata_index(property_name, index_type)) == (
        errors.MalformedRequest, 40026, f"[40026] {said} (during create_metadata_index on index 'films')")
    assert len(requests_sent) == before and index.list_metadata_indexes().empty


@pytest.mark.parametrize("flt", [{"genre": "x" * 3000}, {"genre": {"$bogus": 1}}])
def test_a_bad_filter_is_refused_alike_before_sending_even_on_an_unknown_index(client, requests_sent, flt):
    films = client.create_index("films", 2)
    films.create_metadata_index("genre", "string")
    gone = client.create_index("gone", 2)
    vz.Client(client.backend, "another").delete_index("gone")  # deleted elsewhere: this handle cannot know
    retired = client.create_index("retired", 2)
    client.delete_index("retired")  # deleted through this client: the handle says so first
    before = len(requests_sent)
    for idx in (films, gone):
        assert refused(lambda: idx.query([1, 0], filter=flt))[:2] == (errors.InvalidFilter, 40110)  # noqa: B023
    assert refused(lambda: retired.query([1, 0], filter=flt))[:2] == (errors.IndexDeleted, 3005)
    assert len(requests_sent) == before


def test_an_index_created_again_under_its_name_has_no_metadata_index_to_filter_on(client):
    first = client.create_index("films", 2)
    first.create_metadata_index("genre", "string")
    with errors.heard_warnings() as said:
        first.query([1, 0], filter={"genre": "drama"})
    assert said == []
    client.delete_index("films")
    again = client.create_index("films", 2)  # a notebook run a second time
    with errors.heard_warnings() as said:
        again.query([1, 0], filter={"genre": "drama"})
    assert said == ['filter on "genre": index \'films\' has no metadata index for "genre", so this clause matches '
                    'nothing; create one with create_metadata_index("genre", type), then write the vectors again '
                    "(rewrite()); explain_filter() says more"]


@pytest.mark.parametrize("model", ["@cf/baai/bge-m3", "@cf/qwen/qwen3-embedding-0.6b"])
def test_a_model_that_runs_only_on_workers_ai_says_so_on_every_target(client, model):
    kind, code, message = refused(lambda: client.embed(["a question"], model=model))
    assert (kind, code) == (errors.ModelNotAvailable, 40115)
    assert f"{model} runs only on Workers AI: the local runtime has no form of it" in message


def test_numpy_booleans_are_taken_for_return_values(index):
    """A flag computed with numpy (a widget's or a Series' value) asks what True and False ask."""
    with_values = index.query([1, 0], top_k=2, return_values=np.bool_(True))
    assert list(with_values["id"]) == ["a", "b"]
    assert [list(v) for v in with_values["values"]] == [[1, 0], [0, 1]]
    assert "values" not in index.query([1, 0], top_k=2, return_values=np.bool_(False)).columns


def test_every_result_frame_says_when_it_was_retrieved(client, index):
    made_after(index, "genre", "string")
    frames = {"query": index.query([1, 0]), "get_by_ids": index.get_by_ids(["a"]), "to_frame": index.to_frame(),
              "list_vectors": index.list_vectors(), "explain_filter": index.explain_filter({"genre": "noir"}),
              "list_indexes": client.list_indexes(), "metadata_indexes": index.list_metadata_indexes()}
    assert {name: "retrieved_at" in frame.attrs for name, frame in frames.items()} == dict.fromkeys(frames, True)
    assert frames["list_vectors"]["id"].tolist() == ["a", "b"]


def test_a_preset_with_other_dimensions_or_metric_is_refused_alike_before_sending(client, requests_sent):
    """The preset won, and 32 and euclidean were dropped without a word (the REST client sends the preset alone),
    also with exist_ok."""
    small = "@cf/baai/bge-small-en-v1.5"
    for _ in range(2):
        before = len(requests_sent)
        said = refused(lambda: client.create_index("docs", 32, "euclidean", preset=small, exist_ok=True))
        assert said == (errors.InvalidIndexConfig, 40102, (
            f"[40102] vectorize.index.invalid_config - Preset '{small}' makes an index of 384 dimensions and metric "
            "cosine, got dimensions=32 and metric='euclidean' with it (during create_index 'docs'). Give dimensions "
            "and a metric (cosine, euclidean, dot-product), or a preset")) and len(requests_sent) == before
        client.create_index("docs", preset=small, exist_ok=True)
    same = client.create_index("docs", 384, "cosine", preset=small, exist_ok=True)
    assert (same.dimensions, same.metric) == (384, "cosine")


def test_too_few_dimensions_on_the_embedded_engine_say_how_to_allow_them(client):
    """create_index(dimensions=8) said the range alone; the embedded engine takes fewer for teaching, which
    docs/fidelity.md describes and the refusal did not say. Over REST the server's range stands."""
    said = refused(lambda: client.create_index("tiny", 1))[2]
    assert said.startswith("[40102] vectorize.index.invalid_config - Dimensions must be in range: [2, 1536], got 1")
    hint = "on the embedded engine, vz.connect(..., limits=vz.Limits(min_dimensions=1)) allows it"
    assert (hint in said) == (client.target != "rest")
    assert "vz.Limits" not in refused(lambda: client.create_index("tiny", 2000))[2]


def test_a_metadata_index_of_another_type_is_refused_without_the_list_of_types_alike(index):
    """"already has a metadata index of type number; delete it before ..." went on "indexType is 'string', 'number'
    or 'boolean'; propertyName is a non-empty key", as if the type asked for were not one."""
    made_after(index, "label", "number")
    said = refused(lambda: index.create_metadata_index("label", "string"))
    assert said[:2] == (errors.InvalidMetadataIndex, 40109)
    assert said[2].endswith('property "label" already has a metadata index of type number; delete it before creating '
                            "one of type string (during create_metadata_index on index 'films')"), said[2]


GRAMMAR = ". Filters are {key: value} or {key: {$op: value}} with $eq $ne $in $nin $lt $lte $gt $gte, keys joined by " \
          "AND"


@pytest.mark.parametrize("flt, said, grammar", [
    (F("genre") == "drama", 'has no metadata index for "genre"', False),
    (F("label") == "1", 'its metadata index holds number values, so $eq \'1\' matches nothing', False),
    ({"genre": {"$contains": "dr"}}, "unknown operator '$contains'", True),
    ("label == 1", 'filter must be a JSON object, got a string; build it with F: F("label") == 1', True),
    ("genre=='drama' and label>1", 'got a string; build it with F, e.g. (F("genre") == "drama") & (F("year") > 1990)',
     True),
    ("label == 1e400", 'got a string; build it with F, e.g. (F("genre")', True),  # not F("label") == inf
])
def test_a_filter_refused_gets_the_grammar_only_where_the_grammar_is_the_trouble(index, flt, said, grammar):
    """Every InvalidFilter went on "Filters are {key: value} ...", a "no metadata index" or a value of the index's
    wrong type too; and a pandas query string was told only that a filter is a JSON object."""
    made_after(index, "label", "number")
    index.wait()
    message = refused(lambda: index.query([1, 0], filter=flt))[2]
    assert said in message and message.endswith(GRAMMAR) == grammar, message
