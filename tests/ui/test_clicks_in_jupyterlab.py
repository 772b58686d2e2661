"""What only a real notebook shows: a double click reaches the kernel as two clicks, Output widgets swallow
exceptions under IPython, and an exception in an observer goes to the log console, not the panel."""

import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SETUP = """
import numpy as np, pandas as pd
import vectorize_nb as vz
client = vz.connect("memory")
"""


def messages(page):
    return page.locator(".vectorize-nb-message")


def test_double_clicks_on_create_and_on_the_delete_confirmation_act_once(notebook):
    page = notebook([SETUP + "client.create_index('doomed', 32)", "manager = vz.IndexManager(client)\nmanager"])
    name = page.locator(".vectorize-nb-new-name input")
    name.wait_for(state="visible", timeout=90_000)
    name.fill("films")
    page.locator(".vectorize-nb-panel .widget-inline-hbox:has-text('Dimensions') input").fill("32")
    page.locator("button.vectorize-nb-create").dblclick()
    expect(page.locator(".vectorize-nb-index-table")).to_contain_text("films", timeout=30_000)
    time.sleep(2)  # the second click's answer, if any, comes after the first's
    expect(messages(page)).to_have_text("created index 'films'")
    page.locator(".vectorize-nb-panel select").first.select_option("doomed")
    page.locator("button.vectorize-nb-delete").click()
    page.locator("button.vectorize-nb-confirm-delete").dblclick()
    expect(page.locator(".vectorize-nb-index-table")).not_to_contain_text("doomed", timeout=30_000)
    time.sleep(2)
    expect(messages(page)).to_have_text("deleted index 'doomed'")


def test_a_rejected_upsert_shows_the_library_error(notebook):
    page = notebook([SETUP + """
films = client.create_index("films", 32)
frame = pd.DataFrame({"id": ["a", "b"], "embedding": list(np.ones((2, 16), dtype=np.float32))})
""", "upsert = vz.UpsertPanel(frame, films)\nupsert"])
    button = page.locator("button.vectorize-nb-upsert")
    button.wait_for(state="visible", timeout=90_000)
    button.click()
    expect(messages(page)).to_contain_text("[40012]", timeout=30_000)
    expect(messages(page)).to_contain_text("expected 32 dimensions")
    assert "UnboundLocalError" not in page.page.inner_text("body")


def test_an_index_deleted_elsewhere_is_said_in_the_panel(notebook):
    page = notebook([SETUP + "client.create_index('one', 32); client.create_index('two', 32)",
                     "bench = vz.panel(client)\nbench",
                     "client.delete_index('two')  # as another notebook would\nprint('two deleted elsewhere')"])
    select = page.locator(".vectorize-nb-panel select").first
    select.wait_for(state="visible", timeout=90_000)
    expect(page.page.get_by_text("two deleted elsewhere", exact=True)).to_be_visible(timeout=90_000)
    select.select_option("two")
    expect(messages(page).first).to_contain_text("[3005]", timeout=30_000)
    expect(page.locator(".lm-TabBar-tab").nth(3)).to_have_text("Query: one")
    expect(select.locator("option")).to_have_count(1)
    assert "Traceback" not in page.page.inner_text("body")


def test_the_tab_clicked_stays_shown_when_its_index_was_made_again_elsewhere(notebook):
    """The tabs were rebuilt with new widgets: the tab bar then showed the Metadata indexes tab, and told the
    kernel so, though the user had clicked the Query tab."""
    page = notebook([SETUP + "client.create_index('docs', 32)",
                     "bench = vz.panel(client)\nbench",
                     "client.delete_index('docs'); client.create_index('docs', 32, 'euclidean')\nprint('docs remade')"])
    expect(page.page.get_by_text("docs remade", exact=True)).to_be_visible(timeout=90_000)
    tabs = page.locator(".vectorize-nb-workbench .lm-TabBar-tab")
    tabs.nth(3).click()
    expect(messages(page).last).to_contain_text("created again elsewhere", timeout=30_000)
    time.sleep(2)  # the tab bar's answer to the rebuild, if any, comes after it
    expect(page.locator(".vectorize-nb-workbench .lm-TabBar-tab.lm-mod-current")).to_have_text("Query: docs")
    expect(page.locator("button.vectorize-nb-run")).to_be_visible()
