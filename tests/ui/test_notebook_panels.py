"""Notebook 4 as a newcomer runs it in JupyterLab: run every cell, upsert, query, colour by label; no error."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import OUTPUT

pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "04_panels.ipynb"
BENCH, UPSERT, EXPLORER, TEXTS = 3, 5, 6, 10  # the cells that show the panels
LONG = 90_000


def test_notebook_4_clicked_through_shows_no_error(notebook):
    page = notebook(NOTEBOOK)
    run = page.cell(EXPLORER, "button.vectorize-nb-run")
    run.wait_for(state="visible", timeout=180_000)  # every cell ran: the index holds the digits
    page.assert_rendered()

    expect(page.cell(UPSERT, ".vectorize-nb-metadata-columns select")).to_have_values(["label"])
    page.cell(UPSERT, "button.vectorize-nb-upsert").click()
    expect(page.cell(UPSERT, ".vectorize-nb-upsert-summary")).to_contain_text("1,797 of 1,797 rows written",
                                                                               timeout=LONG)
    expect(page.cell(UPSERT, ".vectorize-nb-message")).to_contain_text(
        "upserted 1,797 vectors into 'panel-digits' with 'label'")

    run.click()
    expect(page.cell(EXPLORER, ".vectorize-nb-results")).to_contain_text("digit-0000", timeout=LONG)
    expect(page.cell(EXPLORER, ".vectorize-nb-message")).to_have_text("10 matches")
    legends = page.cell(EXPLORER, ".js-plotly-plot .infolayer")  # the categories' legend, and the roles' above the map
    expect(legends).to_contain_text("label", timeout=LONG)
    for entry in ("0", "9", "matches", "query"):
        expect(legends.locator(".legendtext, .legend2text", has_text=entry).first).to_be_visible()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.cell(EXPLORER, ".js-plotly-plot").screenshot(path=str(OUTPUT / "notebook-4-explorer.png"))

    page.cell(BENCH, ".lm-TabBar-tab:has-text('Query: panel-digits')").click()
    page.cell(BENCH, "button.vectorize-nb-run").click()
    bench_legend = page.cell(BENCH, ".js-plotly-plot .legend")
    expect(bench_legend).to_contain_text("matches", timeout=LONG)
    expect(bench_legend).not_to_contain_text("label")  # one colour until one is chosen
    page.cell(BENCH, ".vectorize-nb-color select").select_option("label")
    expect(bench_legend).to_contain_text("label", timeout=LONG)
    expect(page.cell(BENCH, ".vectorize-nb-message").last).to_have_text("10 matches")
    page.cell(BENCH, ".js-plotly-plot").screenshot(path=str(OUTPUT / "notebook-4-query-tab.png"))

    page.cell(TEXTS, "button.vectorize-nb-upsert").click()
    expect(page.cell(TEXTS, ".vectorize-nb-message")).to_contain_text("into 'panel-texts'", timeout=LONG)
    expect(page.cell(TEXTS, ".vectorize-nb-model select")).to_have_value("wordllama/l2-supercat-256")

    expect(page.locator(".vectorize-nb-error")).to_have_count(0)
    assert "Traceback" not in page.page.inner_text("body")
    page.assert_rendered()
