"""The panels' layout in a real JupyterLab: labels and tab titles not cut, long names and many indexes kept in
scrolling boxes so the controls stay in view. Screenshots go to test-output/ui/ (look at them)."""

import pytest
from playwright.sync_api import expect

from .conftest import OUTPUT

pytestmark = pytest.mark.browser

SETUP = """
import vectorize_nb as vz
client = vz.connect("memory")
assert vz.__file__.startswith({root!r}), vz.__file__
"""
LONG_NAMES = """
for i in range(40):
    client.create_index(f"index-{i:02d}-" + "n" * 52, 32, description="a rather long description " * 3)
films = client.get_index(client.list_indexes()["name"][0])
films.create_metadata_index("p" * 500, "string")
films.create_metadata_index("genre", "number")
bench = vz.panel(client)
bench
"""
FITS = """() => [...document.querySelectorAll(SELECTOR)].filter(e => e.offsetParent !== null)
    .map(e => [e.innerText, e.scrollWidth <= e.clientWidth + 1])"""


def setup():
    from pathlib import Path

    return SETUP.format(root=str(Path(__file__).resolve().parents[2]))


def fits(page, selector):
    """[text, whether it fits its box] for each visible element matched."""
    return page.page.evaluate(FITS.replace("SELECTOR", repr(selector)))


def box(page, selector):
    return page.locator(selector).first.bounding_box()


def test_labels_and_tab_titles_are_not_cut(notebook):
    page = notebook([setup(), 'client.create_index("panel-digits", 64)\nbench = vz.panel(client)\nbench'])
    page.locator(".vectorize-nb-index-table").wait_for(state="visible", timeout=90_000)
    page.assert_rendered()
    toggles = fits(page, ".vectorize-nb-workbench .widget-toggle-button")
    assert [text for text, _ in toggles] == ["dimensions & metric", "preset"]
    assert all(fit for _, fit in toggles), toggles
    titles = fits(page, ".vectorize-nb-workbench .lm-TabBar-tabLabel")
    assert [text for text, _ in titles] == ["Indexes", "Metadata indexes: panel-digits", "Upsert: panel-digits",
                                            "Query: panel-digits"]
    assert all(fit for _, fit in titles), titles
    page.locator(".vectorize-nb-workbench").screenshot(path=str(OUTPUT / "layout-tabs.png"))


def test_long_names_and_many_indexes_stay_in_scrolling_boxes(notebook):
    page = notebook([setup(), LONG_NAMES])
    table = page.locator(".vectorize-nb-index-table")
    table.wait_for(state="visible", timeout=90_000)
    page.assert_rendered()
    panel = box(page, ".vectorize-nb-workbench")
    titles = fits(page, ".vectorize-nb-workbench .lm-TabBar-tabLabel")
    assert titles[0] == ["Indexes", True] and len(titles) == 4  # a long index name does not squeeze it
    tabs = page.page.evaluate("""() => [...document.querySelectorAll('.vectorize-nb-workbench .lm-TabBar-tab')]
        .map(e => e.getBoundingClientRect().right)""")
    assert max(tabs) <= panel["x"] + panel["width"]  # every tab in view
    assert table.bounding_box()["height"] <= 420  # 40 indexes scroll inside the box
    create = box(page, "button.vectorize-nb-create")
    assert create["y"] + create["height"] <= panel["y"] + 1200  # the controls stay near the top
    cell = page.locator(".vectorize-nb-index-table td[title^='a rather']").first
    assert "a rather long description a rather long description" in cell.get_attribute("title")
    page.page.screenshot(path=str(OUTPUT / "layout-long-names-indexes.png"), full_page=True)

    page.locator(".lm-TabBar-tab").nth(1).click()
    metadata = page.locator(".vectorize-nb-metadata-table")
    expect(metadata).to_contain_text("genre")
    kind = page.locator(".vectorize-nb-metadata-table th:has-text('index_type')").bounding_box()
    assert kind["x"] + kind["width"] <= panel["x"] + panel["width"]  # the type column is in view
    assert panels_fit(page)  # nothing wider than the panel
    page.page.screenshot(path=str(OUTPUT / "layout-long-names-metadata.png"), full_page=True)

    page.locator(".vectorize-nb-property input").fill("q" * 600)  # its message names it: one long word
    metadata_panel = ".vectorize-nb-panel:has(.vectorize-nb-metadata-table)"
    page.locator(f"{metadata_panel} button.vectorize-nb-create").click()
    expect(page.locator(f"{metadata_panel} .vectorize-nb-message")).to_contain_text("a filter cannot use it")
    assert panels_fit(page)  # the message wraps inside the panel
    page.page.screenshot(path=str(OUTPUT / "layout-long-message.png"), full_page=True)


def panels_fit(page):
    """Whether every visible panel is as wide as its content (a panel wider than its box scrolls sideways)."""
    widths = page.page.evaluate("""() => [...document.querySelectorAll('.vectorize-nb-panel')]
        .filter(e => e.offsetParent !== null).map(e => e.scrollWidth <= e.clientWidth + 1)""")
    return bool(widths) and all(widths)
