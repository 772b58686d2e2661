"""close() frees a panel: every widget it made leaves ipywidgets' registry of live widgets, which otherwise keeps
each one, and through its callbacks the panel, its index and the client's engine, for the whole kernel."""

import gc
import weakref

import numpy as np
import pandas as pd
from ipywidgets.widgets.widget import _instances

import vectorize_nb as vz
from vectorize_nb.widgets import IndexManager, MetadataIndexPanel, QueryExplorer, UpsertPanel

from ..helpers import TINY
from .test_panels import click


def digits():
    rng = np.random.default_rng(4)
    return pd.DataFrame({"id": [f"d{i}" for i in range(30)], "label": [i % 3 for i in range(30)],
                         "embedding": list(rng.standard_normal((30, 4)).astype(np.float32))})


def used(bench):
    """The Workbench as a notebook uses it: an index chosen, a condition added and one removed, a query run twice,
    another index chosen and the first chosen again (each rebuilds the tabs)."""
    bench.manager.selected.value = "digits"
    explorer = bench.panels[3]
    for _ in range(2):
        explorer.source.value = "a stored id"
        explorer.stored_id.value = "d1"
        [run] = [b for b in explorer._buttons if b.description == "Run"]
        run.click()
    [add] = [b for b in explorer._buttons if b.description == "Add condition"]
    add.click()
    add.click()
    explorer.conditions.children[0].children[-1].click()  # its remove button
    bench.manager.selected.value = "other"
    bench.manager.selected.value = "digits"
    assert explorer.figure is not None and len(explorer.conditions.children) == 1


def test_closing_the_workbench_frees_every_widget_it_made_and_the_clients_engine(tmp_path):
    before = set(_instances)
    client = vz.connect(path=tmp_path / "folder", limits=TINY)
    index = client.create_index("digits", dimensions=4)
    index.create_metadata_index("label", "number")
    digits().vectorize.upsert(index, id="id", vector="embedding", metadata=["label"], wait=True)
    client.create_index("other", dimensions=4)
    engine = weakref.ref(client.backend)
    bench = vz.panel(client, digits())
    used(bench)
    bench.close()
    assert set(_instances) - before == set()
    del client, index, bench
    gc.collect()
    assert engine() is None


def test_closing_a_panel_made_on_its_own_frees_every_widget_it_made():
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("digits", dimensions=4)
        digits().vectorize.upsert(index, id="id", vector="embedding", wait=True)
        for make in (lambda: IndexManager(client), lambda: MetadataIndexPanel(index),
                     lambda: UpsertPanel(digits(), index), lambda: QueryExplorer(index, digits())):
            before = set(_instances)
            made = make()
            assert set(_instances) - before
            made.close()
            assert set(_instances) - before == set(), type(made).__name__


def test_a_click_in_the_figure_reaches_the_explorer_whose_figure_holds_it_weakly():
    """anywidget keeps every FigureWidget for the whole kernel, closed or not (manzt/anywidget#929): the figure's
    callbacks hold the explorer weakly, so the figure does not keep the explorer, its index and the engine."""
    from plotly.callbacks import Points

    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("digits", dimensions=4)
        digits().vectorize.upsert(index, id="id", vector="embedding", wait=True)
        explorer = QueryExplorer(index, digits())
        explorer.source.value = "a stored id"
        explorer.stored_id.value = "d1"
        explorer.run()
        trace = next(t for t in explorer.figure.data if t.customdata is not None and len(t.customdata))
        trace._dispatch_on_click(Points(point_inds=[0], trace_name=trace.name), None)
        assert f"<b>{trace.customdata[0]}</b>" in explorer.details.value
        figure, kept = explorer.figure, weakref.ref(explorer)
        explorer.close()
        del explorer
        gc.collect()
        assert kept() is None
        trace._dispatch_on_click(Points(point_inds=[0], trace_name=trace.name), None)  # does nothing
        assert figure.data


def test_the_buttons_of_a_question_answered_or_withdrawn_are_closed_with_it():
    """A Delete asked and cancelled, an offer to write the vectors again made and withdrawn: their buttons (whose
    callbacks hold the panel) left the page but stayed in ipywidgets' registry, beyond the panel's close()."""
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("films", 2)
        index.upsert(["a", "b"], [[1, 0], [0, 1]], metadata=[{"genre": "drama"}, {"genre": "noir"}], wait=True)
        before = set(_instances)
        manager, metadata = IndexManager(client), MetadataIndexPanel(index)
        for _ in range(2):
            manager.selected.value = "films"
            click(manager, "Delete")
            manager.confirmation.children[2].click()  # Cancel
            metadata.property.value = "genre"
            click(metadata, "Create")
            assert len(metadata.offer.children) == 1
            metadata.existing.value = "genre"
            click(metadata, "Delete")
        made = set(_instances) - before
        manager.close()
        metadata.close()
        assert made & set(_instances) == set()
