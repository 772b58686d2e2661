"""The panels in a real JupyterLab: they render, and clicks in the browser reach the engine."""

import pytest
from playwright.sync_api import expect

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
