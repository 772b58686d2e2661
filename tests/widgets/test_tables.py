"""The panels' tables: long texts cut with the whole text in a tooltip, inside a box that scrolls."""

import numpy as np
import pandas as pd

from vectorize_nb.widgets.tables import LONG_CELL, table_html


def test_long_cells_are_cut_with_the_whole_text_in_the_tooltip_and_values_escaped():
    long = "p" * 500
    shown = table_html(pd.DataFrame({"property_name": [long, "<genre>"], "index_type": ["string", "number"]}))
    assert f'<td title="{long}"><div class="vectorize-nb-cut">{long}</div></td>' in shown
    assert "<td>&lt;genre&gt;</td>" in shown and "<td>number</td>" in shown
    assert '<div class="vectorize-nb-scroll">' in shown and "overflow:auto" in shown and "max-height" in shown
    assert "text-overflow:ellipsis" in shown
    assert "title=" not in table_html(pd.DataFrame({"name": ["n" * LONG_CELL]}))


def test_numbers_read_as_pandas_shows_them_and_missing_values_are_blank():
    shown = table_html(pd.DataFrame({"score": [1.0, 0.98073912], "year": [1999.0, np.nan], "rank": [1, 2],
                                     "namespace": [None, None]}))
    assert "<td>1.000000</td>" in shown and "<td>0.980739</td>" in shown and "<td>1999</td>" in shown
    assert "<td>2</td>" in shown and shown.count("<td></td>") == 3 and "None" not in shown and "nan" not in shown


def test_very_small_and_very_large_floats_show_their_digits_as_pandas_shows_them():
    """1e-7 showed as 0.000000 in the results and a point's details, 7e20 as 700000000000000000000.000000."""
    weights = np.array([1e-7, 0.1, 123456789.5], dtype=np.float32)
    shown = table_html(pd.DataFrame({"weight": weights, "p": [2.5e-8, 0.5, 7e20],
                                     "share": pd.array([0.25, None, 0.5], dtype="Float64")}))
    assert "<td>1.000000e-07</td>" in shown and "<td>1.234568e+08</td>" in shown and "0.000000<" not in shown
    assert "<td>2.500000e-08</td>" in shown and "<td>7.000000e+20</td>" in shown
    assert "<td>0.25</td>" in shown and "<td>0.50</td>" in shown and "NA" not in shown
    whole = table_html(pd.DataFrame({"big": [7e20, 1.0], "year": [1999.0, np.nan]}))
    assert "<td>7e+20</td>" in whole and "<td>1</td>" in whole and "<td>1999</td>" in whole
