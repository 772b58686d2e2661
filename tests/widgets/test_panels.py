"""The panels driven headlessly: set values, click, and check both the engine and what the panel says."""

import re

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.widgets import IndexManager, MetadataIndexPanel, UpsertPanel, panel

from ..helpers import TINY


@pytest.fixture
def client():
    with vz.connect("memory", limits=TINY) as c:
        yield c


def click(panel, description):
    [button] = [b for b in panel._buttons if b.description == description]
    button.click()


def ask_to_delete(manager, name):
    """Choose `name` in an IndexManager and click Delete: the confirmation's buttons (confirm, cancel)."""
    manager.selected.value = name
    click(manager, "Delete")
    return tuple(manager.confirmation.children[1:])


def text(widget):
    return widget.value


def test_index_manager_creates_lists_and_shows_info(client):
    manager = IndexManager(client)
    assert "no index yet" in text(manager.table)
    manager.name.value = "films"
    manager.dimensions.value = 3
    manager.metric.value = "euclidean"
    manager.description.value = "my films"
    click(manager, "Create")
    described = client.get_index("films").description
    assert (described.dimensions, described.metric, described.description) == (3, "euclidean", "my films")
    assert "<td>films</td>" in text(manager.table) and "<td>euclidean</td>" in text(manager.table)
    assert "created index 'films'" in text(manager.message).replace("&#x27;", "'")
    assert manager.selected.value == "films" and "none yet" in text(manager.info)


def test_the_indexes_tab_shows_its_times_alike_with_their_zone(client):
    """created_on had no zone ("2026-11-29 10:39:59"), "applied at" a raw datetime ("...10:39:59.049000+00:00")."""
    client.create_index("films", 3).upsert(["a"], [[1, 0, 0]], wait=True)
    manager = IndexManager(client)
    created = re.findall(r"<td>(\d{4}-[^<]*)</td>", text(manager.table))
    applied = re.findall(r"<td>(\d{4}-[^<]*)</td>", text(manager.info))
    assert len(created) == len(applied) == 1
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", when) for when in created + applied), (created,
                                                                                                      applied)


def test_index_manager_shows_engine_validation_inline_and_keeps_buttons_usable(client):
    manager = IndexManager(client)
    manager.name.value = "Bad Name"
    click(manager, "Create")
    assert "[40101]" in text(manager.message) and "is not valid" in text(manager.message)
    assert "Traceback" not in text(manager.message)
    assert not any(b.disabled for b in manager._buttons)
    manager.name.value = "tiny"
    manager.dimensions.value = 99999
    click(manager, "Create")
    assert "Dimensions must be in range" in text(manager.message)
    assert client.list_indexes().empty


def test_index_manager_creates_from_a_preset(client):
    manager = IndexManager(client)
    manager.how.value = "preset"
    assert manager.preset in manager.form.children and manager.dimensions not in manager.form.children
    manager.name.value = "small"
    manager.preset.value = "@cf/baai/bge-small-en-v1.5"
    click(manager, "Create")
    assert client.get_index("small").dimensions == 384


def test_delete_needs_a_confirmation(client):
    client.create_index("keep", 2)
    client.create_index("doomed", 2)
    manager = IndexManager(client)
    manager.selected.value = "doomed"
    click(manager, "Delete")
    assert sorted(client.list_indexes()["name"]) == ["doomed", "keep"]  # nothing yet
    confirm, cancel = manager.confirmation.children[1:]
    cancel.click()
    assert manager.confirmation.children == () or list(manager.confirmation.children) == []
    click(manager, "Delete")
    manager.confirmation.children[1].click()
    assert client.list_indexes()["name"].tolist() == ["keep"]
    assert "deleted index 'doomed'" in text(manager.message).replace("&#x27;", "'")


def test_pending_writes_show_in_the_info(tmp_path):
    with vz.connect(path=tmp_path / "lag", limits=TINY, apply_delay=60) as lagging:
        index = lagging.create_index("lag", 2)
        index.upsert(["a"], [[1, 0]])
        manager = IndexManager(lagging)
        assert "<td>yes</td>" in text(manager.info) and "<td>0</td>" in text(manager.info)


def test_buttons_are_disabled_while_a_call_runs(client):
    manager = IndexManager(client)
    seen = []
    manager.client = type("Spy", (), {"create_index": lambda *a, **k: seen.append(
        [b.disabled for b in manager._buttons]), "list_indexes": client.list_indexes,
        "get_index": client.get_index, "target": "spy"})()
    manager.name.value = "spied"
    click(manager, "Create")
    assert seen and all(seen[0])


def test_metadata_panel_warns_about_vectors_that_predate_it_and_rewrites_them(client):
    index = client.create_index("films", 2)
    index.upsert(["a", "b"], [[1, 0], [0, 1]], metadata=[{"genre": "drama"}, {"genre": "noir"}])
    metadata = MetadataIndexPanel(index)
    assert "no metadata index" in text(metadata.table)
    metadata.property.value = "genre"
    click(metadata, "Create")
    assert index.list_metadata_indexes().values.tolist() == [["genre", "string"]]
    assert "2 vectors already in the index predate it" in text(metadata.message)
    with pytest.warns(vz.errors.VectorizeWarning, match="2 of the 2 vectors"):
        assert index.query([1, 0], filter={"genre": "drama"}).empty
    [rewrite] = metadata.offer.children
    rewrite.click()
    assert index.query([1, 0], filter={"genre": "drama"})["id"].tolist() == ["a"]
    assert "wrote 2 vectors again" in text(metadata.message)
    metadata.existing.value = "genre"
    click(metadata, "Delete")
    assert index.list_metadata_indexes().empty


def test_metadata_panel_errors_stay_in_the_panel(client):
    index = client.create_index("films", 2)
    metadata = MetadataIndexPanel(index)
    metadata.property.value = "$bad"
    click(metadata, "Create")
    assert "[40109]" in text(metadata.message)


def test_upsert_panel_writes_the_chosen_columns(client):
    index = client.create_index("films", 3)
    frame = pd.DataFrame({"film_id": ["a", "b"], "embedding": list(np.eye(3, dtype=np.float32)[:2]),
                          "genre": ["drama", "noir"], "tenant": ["t1", "t2"], "ignored": [1, 2]})
    upsert = UpsertPanel(frame, index)
    assert (upsert.id.value, upsert.vector.value) == ("film_id", "embedding")
    upsert.id.value = "film_id"
    upsert.metadata.value = ("genre",)
    upsert.namespace.value = "tenant"
    click(upsert, "Upsert")
    stored = index.get_by_ids(["a", "b"])
    assert stored["genre"].tolist() == ["drama", "noir"] and stored["namespace"].tolist() == ["t1", "t2"]
    assert "ignored" not in stored.columns
    assert "2 of 2 rows written" in text(upsert.summary)


DOCS = pd.DataFrame({"id": ["csv", "gzip", "smtp"], "genre": ["io", "io", "net"],
                     "body": ["read rows from a CSV file", "compress a file with gzip", "send an email over SMTP"]})


@pytest.mark.embeds
def test_upsert_panel_embeds_a_column_of_texts_with_the_model_chosen(client):
    """A frame of plain text had no way in through the panel: its Vector menu took vectors only."""
    index = client.create_index("docs", 256)
    upsert = UpsertPanel(DOCS, index)
    assert (upsert.source.value, upsert.vector.description, upsert.vector.value) == ("texts", "Text", "body")
    assert upsert.model.value == vz.SHIPPED_MODEL and upsert.model.layout.display is None
    assert upsert.metadata.value == ("genre",)
    click(upsert, "Upsert")
    assert "3 of 3 rows written" in text(upsert.summary)
    assert index.query("mail a message", top_k=1)["id"].tolist() == ["smtp"]  # the model is known from here on
    upsert.source.value = "vectors"
    assert (upsert.vector.description, upsert.model.layout.display) == ("Vector", "none")


def test_upsert_panel_offers_texts_only_where_a_model_fits(client):
    vectors_only = UpsertPanel(DOCS, client.create_index("small", 3))
    assert vectors_only.source.options == ("vectors",) and vectors_only.source.layout.display == "none"
    index = client.create_index("docs", 256)
    framed = DOCS.assign(embedding=list(np.ones((3, 256), np.float32)))
    assert UpsertPanel(framed, index).source.value == "vectors"  # a vector column: vectors first
    assert UpsertPanel(framed, index, model=vz.SHIPPED_MODEL).source.value == "texts"
    with pytest.raises(vz.errors.UnknownModel, match="No such model 'wordlama'"):
        UpsertPanel(DOCS, index, model="wordlama")
    with pytest.raises(vz.errors.VectorDimensionMismatch, match="makes 384-dimension vectors, but index 'docs'"):
        UpsertPanel(DOCS, index, model="@cf/baai/bge-small-en-v1.5")


def test_the_panels_start_on_the_column_that_holds_vectors_whatever_its_name(client):
    """A vector column named other than embedding/vector/values left the menus on the first column (the ids):
    Upsert said the vector in row 0 is 'p0', and the explorer showed numpy's "could not convert string to float"."""
    from vectorize_nb.widgets import QueryExplorer

    index = client.create_index("films", 3)
    frame = pd.DataFrame({"id": ["p0", "p1"], "tags": [["a", "b"], ["c", "d"]], "genre": ["drama", "noir"],
                          "emb": list(np.eye(3, dtype=np.float32)[:2])})
    upsert = UpsertPanel(frame, index)
    assert (upsert.id.value, upsert.vector.value, upsert.metadata.value) == ("id", "emb", ("genre",))
    explorer = QueryExplorer(index, frame)
    assert explorer.vector_column.value == "emb"
    explorer.vector_column.value = "id"  # the user's own wrong choice is said in the library's terms
    click(explorer, "Run")
    assert "of column &#x27;id&#x27; is &#x27;p0&#x27;, not a list or array of numbers" in text(explorer.message)


def test_the_upsert_panel_starts_on_texts_for_a_frame_of_texts_under_any_name(client):
    index = client.create_index("docs", 256)
    frame = DOCS.rename(columns={"body": "abstract"})
    upsert = UpsertPanel(frame, index)
    assert (upsert.source.value, upsert.vector.value) == ("texts", "abstract")


def test_upsert_panel_reports_bad_rows_without_writing(client):
    index = client.create_index("films", 3)
    frame = pd.DataFrame({"id": ["a", "a"], "embedding": list(np.eye(3, dtype=np.float32)[:2])})
    upsert = UpsertPanel(frame, index)
    click(upsert, "Upsert")
    assert "duplicate ids in the frame" in text(upsert.message)
    assert index.info().vector_count == 0


def test_upsert_panel_says_which_rows_may_have_been_written_when_an_answer_was_lost():
    from ..test_writes import LostAnswers

    with vz.Client(LostAnswers(lost={1}), "lost") as lossy:
        index = lossy.create_index("films", 3)
        frame = pd.DataFrame({"id": ["a", "b"], "embedding": list(np.eye(3, dtype=np.float32)[:2])})
        upsert = UpsertPanel(frame, index)
        click(upsert, "Upsert")
        said = text(upsert.message)
        assert "0 of 2 rows written (0 of 1 batches accepted), 2 may have been written (no answer came)" in said
        assert "bad gateway" in said and index.info().vector_count == 2


@pytest.mark.embeds
def test_the_query_tab_takes_a_question_once_the_upsert_tab_wrote_texts(client):
    """The Query tab was built with the index, before any text was written: it offered no question box until
    another index was chosen and this one again."""
    client.create_index("docs", 256)
    bench = panel(client, DOCS)
    bench.manager.selected.value = "docs"
    explorer = bench.panels[3]
    assert "a question" not in explorer.source.options
    bench.tabs.selected_index = 2
    click(bench.panels[2], "Upsert")
    bench.tabs.selected_index = 3
    assert explorer.source.options[0] == "a question" and explorer.source.value == "a row of the frame"
    assert "genre" in explorer.color_by.options
    explorer.source.value = "a question"
    explorer.typed.value = "mail a message"
    click(explorer, "Run")
    assert explorer.results["id"].tolist()[0] == "smtp"


def test_panel_puts_everything_in_tabs_that_follow_the_selected_index(client):
    client.create_index("one", 2)
    client.create_index("two", 2)
    bench = panel(client)
    assert [bench.tabs.get_title(i) for i in range(len(bench.tabs.children))] == [
        "Indexes", "Metadata indexes: one", "Upsert: one", "Query: one"]
    bench.manager.selected.value = "two"
    assert bench.tabs.get_title(3) == "Query: two"
    assert bench.panels[3].index.name == "two"


def test_no_panel_shows_the_token():
    from vectorize_nb.local.server import serve

    with serve(memory=True, limits=TINY, token="top-SECRET-token") as server, \
            vz.connect(server.url, api_token="top-SECRET-token", limits=TINY) as remote:
        remote.create_index("films", 2)
        bench = panel(remote)
        shown = [w.value for w in _descendants(bench) if isinstance(getattr(w, "value", None), str)]
        assert shown and not any("SECRET" in value for value in shown)
        assert "SECRET" not in repr(bench)


def _descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)


@pytest.fixture
def explored(client):
    index = client.create_index("films", 3)
    index.create_metadata_index("genre", "string")
    index.create_metadata_index("year", "number")
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"id": [f"f{i:02d}" for i in range(40)],
                          "embedding": list(rng.standard_normal((40, 3)).astype(np.float32)),
                          "genre": ["drama", "noir"] * 20, "year": list(range(1980, 2020))})
    frame.vectorize.upsert(index, id="id", vector="embedding", metadata=["genre", "year"])
    from vectorize_nb.widgets import QueryExplorer

    return QueryExplorer(index, frame, color="genre"), index, frame


class Points:
    def __init__(self, point_inds):
        self.point_inds = point_inds


def test_query_explorer_runs_a_row_and_draws_the_neighbourhood(explored):
    explorer, index, frame = explored
    explorer.row.value = 3
    explorer.top_k.value = 5
    click(explorer, "Run")
    expected = index.query(frame["embedding"].iloc[3], top_k=5, return_metadata="indexed")
    assert explorer.results["id"].tolist() == expected["id"].tolist() and explorer.results["id"].iloc[0] == "f03"
    assert "<td>f03</td>" in text(explorer.table) and "5 matches" in text(explorer.message)
    roles = [trace.legendgroup for trace in explorer.figure.data]
    assert {"index", "matches", "query"} <= set(roles)
    assert [t.name for t in explorer.figure.data if t.legendgroup == "index"] == ["drama", "noir"]
    assert explorer.figure.layout.title.text.startswith("Neighbours of f03 in 'films'<br>")  # the row's id
    matches = next(t for t in explorer.figure.data if t.name == "matches")
    assert list(matches.customdata) == expected["id"].tolist()


def test_query_explorer_filter_builder_compiles_typed_conditions(explored):
    explorer, index, frame = explored
    click(explorer, "Add condition")
    click(explorer, "Add condition")
    first, second = explorer.conditions.children
    first.property.value, first.operator.value, first.value.value = "genre", "in", "noir, western"
    second.property.value, second.operator.value, second.value.value = "year", ">=", "2000"
    assert explorer.filter().to_json() == {"genre": {"$in": ["noir", "western"]}, "year": {"$gte": 2000}}
    explorer.source.value = "a stored id"
    explorer.stored_id.value = "f10"
    explorer.top_k.value = 40
    click(explorer, "Run")
    assert set(explorer.results["genre"]) == {"noir"} and explorer.results["year"].min() >= 2000
    second.children[-1].click()  # remove the year condition
    assert explorer.filter().to_json() == {"genre": {"$in": ["noir", "western"]}}


def test_query_explorer_clicks_and_lasso(explored):
    explorer, index, frame = explored
    explorer.source.value = "a vector"
    explorer.pasted.value = "0.5, -1, 2"
    click(explorer, "Run")
    matches = next(t for t in explorer.figure.data if t.name == "matches")
    explorer._on_point_click(matches, Points([0]))
    assert f"<b>{matches.customdata[0]}</b>" in text(explorer.details) and "genre" in text(explorer.details)
    query = next(t for t in explorer.figure.data if t.name == "query")
    explorer._on_point_click(query, Points([0]))  # the pasted vector has no id: nothing happens
    background = next(t for t in explorer.figure.data if t.legendgroup == "index")
    explorer._on_points_selected(background, Points([0, 1]))
    explorer._on_points_selected(matches, Points([1]))
    picked = explorer.selection
    assert picked["id"].tolist() == [background.customdata[0], background.customdata[1], matches.customdata[1]]
    assert "values" not in picked.columns and "genre" in picked.columns
    explorer._on_points_selected(background, Points([]))  # a new selection replaces the old one
    explorer._on_points_selected(matches, Points([]))
    assert explorer.selection.empty
    assert background.uid and background.uid != matches.uid
    with explorer.figure.batch_update():
        background.name = matches.name  # legend names are cut to 40 characters: two may read the same
    explorer._on_points_selected(background, Points([0]))
    explorer._on_points_selected(matches, Points([1]))
    assert explorer.selection["id"].tolist() == [background.customdata[0], matches.customdata[1]]


def test_query_explorer_reports_bad_input_in_the_panel(explored):
    explorer, _, _ = explored
    explorer.source.value = "a vector"
    explorer.pasted.value = "1, two"
    click(explorer, "Run")
    assert "the pasted vector must be numbers separated by commas or spaces; &#x27;two&#x27; is not a number" in (
        text(explorer.message))
    explorer.pasted.value = "1, 2"
    click(explorer, "Run")
    assert "[40006]" in text(explorer.message) and "expected 3 dimensions" in text(explorer.message)


@pytest.mark.embeds
def test_the_query_explorer_takes_a_typed_question_when_it_knows_the_model(client):
    from vectorize_nb.widgets import QueryExplorer

    docs = pd.DataFrame({"id": ["csv", "gzip", "smtp"],
                         "body": ["read rows from a CSV file", "compress a file with gzip", "send an email over SMTP"]})
    index = client.create_index("docs", 256)
    index.upsert(["x"], np.ones((1, 256), np.float32))
    assert "a question" not in QueryExplorer(index).source.options  # the model of these vectors is not known
    docs.vectorize.upsert(index, id="id", text="body", model=vz.SHIPPED_MODEL)
    assert QueryExplorer(index).source.value == "a question"  # the model the texts were written with
    with pytest.raises(vz.errors.QueryDimensionMismatch, match="makes 384-dimension vectors, but index 'docs'"):
        QueryExplorer(index, model="@cf/baai/bge-small-en-v1.5")  # refused at the first Run before
    explorer = QueryExplorer(index, model=vz.SHIPPED_MODEL)
    assert explorer.source.value == "a question"
    click(explorer, "Run")
    assert "type a question first" in text(explorer.message)
    explorer.typed.value = "mail a message"
    click(explorer, "Run")
    assert explorer.results["id"].tolist()[0] == "smtp" and "4 matches" in text(explorer.message)  # and "x"
