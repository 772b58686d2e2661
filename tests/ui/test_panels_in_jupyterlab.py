"""The panels in a real JupyterLab: they render, and clicks in the browser reach the engine."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import OUTPUT

pytestmark = pytest.mark.browser

SETUP = """
import numpy as np, pandas as pd
import vectorize_nb as vz
tiny = vz.DEFAULT_LIMITS.with_changes(min_dimensions=2)
client = vz.connect("memory", limits=tiny)
"""


def test_index_manager_renders_and_creates_an_index(notebook):
    page = notebook([SETUP, "manager = vz.IndexManager(client)\nmanager"])
    name = page.locator(".vectorize-nb-new-name input")
    name.wait_for(state="visible", timeout=90_000)
    page.assert_rendered()
    name.fill("films-from-the-browser")
    page.locator("button.vectorize-nb-create").click()
    table = page.locator(".vectorize-nb-index-table")
    expect(table).to_contain_text("films-from-the-browser", timeout=30_000)
    expect(page.locator(".vectorize-nb-message")).to_contain_text("created index")


def test_metadata_panel_and_upsert_panel_render_and_act(notebook):
    page = notebook([SETUP, """
films = client.create_index("films", 3)
frame = pd.DataFrame({"id": ["a", "b"], "embedding": list(np.eye(3, dtype=np.float32)[:2]),
                      "genre": ["drama", "noir"]})
upsert = vz.UpsertPanel(frame, films)
upsert
""", "metadata = vz.MetadataIndexPanel(films)\nmetadata"])
    button = page.locator("button.vectorize-nb-upsert")
    button.wait_for(state="visible", timeout=90_000)
    page.assert_rendered()
    button.click()
    expect(page.locator(".vectorize-nb-upsert-summary")).to_contain_text("2 of 2 rows written", timeout=30_000)
    page.locator(".vectorize-nb-property input").fill("genre")
    page.locator(".vectorize-nb-panel:has(.vectorize-nb-metadata-table) button.vectorize-nb-create").click()
    expect(page.locator(".vectorize-nb-metadata-table")).to_contain_text("genre", timeout=30_000)
    expect(page.locator("button.vectorize-nb-rewrite")).to_be_visible()
    label = page.locator("button.vectorize-nb-rewrite").evaluate("e => [e.innerText, e.scrollWidth <= e.clientWidth]")
    assert label == ["Write the 2 vectors again", True]  # ipywidgets' 148px cut it: "Write the 2 vect…"


def test_upsert_panel_embeds_a_column_of_texts_from_a_click(notebook):
    page = notebook([SETUP, """
docs = client.create_index("docs", 256)
frame = pd.DataFrame({"id": ["csv", "smtp"], "body": ["read rows from a CSV file", "send an email over SMTP"]})
upsert = vz.UpsertPanel(frame, docs)
upsert
"""])
    button = page.locator("button.vectorize-nb-upsert")
    button.wait_for(state="visible", timeout=90_000)
    page.assert_rendered()
    expect(page.locator(".vectorize-nb-model select")).to_have_value(re.compile("wordllama"))
    page.locator(".vectorize-nb-source button:has-text('vectors')").click()
    expect(page.locator(".vectorize-nb-model")).to_be_hidden()
    page.locator(".vectorize-nb-source button:has-text('texts')").click()
    expect(page.locator(".vectorize-nb-model")).to_be_visible()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.locator(".vectorize-nb-panel").first.screenshot(path=str(OUTPUT / "upsert-texts.png"))
    button.click()
    expect(page.locator(".vectorize-nb-upsert-summary")).to_contain_text("2 of 2 rows written", timeout=60_000)


def test_query_explorer_shows_results_and_a_figure(notebook):
    page = notebook([SETUP, """
films = client.create_index("films", 3)
films.create_metadata_index("genre", "string")
rng = np.random.default_rng(2)
frame = pd.DataFrame({"id": [f"f{i:02d}" for i in range(60)], "genre": ["drama", "noir", "comedy"] * 20,
                      "embedding": list(rng.standard_normal((60, 3)).astype(np.float32))})
frame.vectorize.upsert(films, id="id", vector="embedding", metadata=["genre"])
explorer = vz.QueryExplorer(films, frame, color="genre")
explorer
"""])
    run = page.locator("button.vectorize-nb-run")
    run.wait_for(state="visible", timeout=90_000)
    page.assert_rendered()
    run.click()
    expect(page.locator(".vectorize-nb-results")).to_contain_text("f00", timeout=60_000)
    figure = page.locator(".vectorize-nb-panel .js-plotly-plot")
    expect(figure).to_have_count(1, timeout=60_000)
    expect(figure.locator(".scatterlayer .trace").first).to_be_visible()
    expect(page.locator(".vectorize-nb-message")).to_contain_text("10 matches")
    page.assert_rendered()


def test_the_tabbed_panel_renders(notebook):
    page = notebook([SETUP, 'client.create_index("one", 2)\nbench = vz.panel(client)\nbench'])
    tab = page.locator(".lm-TabBar-tab:has-text('Query: one'), .p-TabBar-tab:has-text('Query: one')")
    tab.first.wait_for(state="visible", timeout=90_000)
    page.assert_rendered()
    tab.first.click()
    expect(page.locator("button.vectorize-nb-run")).to_be_visible()
