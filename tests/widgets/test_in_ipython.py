"""Panels inside IPython, as in every notebook: ipywidgets' Output swallows an exception there (it shows it
as a traceback), so a panel that calls the library inside an Output must still see the error."""

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.widgets import UpsertPanel

from ..helpers import TINY
from .test_guidance import said
from .test_panels import click


@pytest.fixture
def ipython(tmp_path, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    yield shell
    InteractiveShell.clear_instance()


def test_a_rejected_upsert_says_the_library_error_under_ipython(ipython):
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("films", 3)
        frame = pd.DataFrame({"id": ["a", "b"], "embedding": list(np.ones((2, 2), dtype=np.float32))})
        upsert = UpsertPanel(frame, index)
        click(upsert, "Upsert")
        assert "[40012]" in said(upsert) and "expected 3 dimensions" in said(upsert)
        assert "UnboundLocalError" not in said(upsert) and "vectorize-nb-error" in upsert.message.value
        assert index.info().vector_count == 0 and not any(b.disabled for b in upsert._buttons)
