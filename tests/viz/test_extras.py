"""Optional dependencies: not imported with the package, and a missing one names its install command."""

import subprocess
import sys

import numpy as np
import pytest

import vectorize_nb as vz
from vectorize_nb.viz import plot_neighbourhood, project, to_png
from vectorize_nb.viz import projection as projection_module

from ..helpers import TINY
from .conftest import titles


def test_importing_the_views_imports_no_optional_dependency():
    script = ("import sys, vectorize_nb.viz; "
              "print(sorted(m for m in ('plotly', 'umap', 'kaleido', 'numba', 'tqdm') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def hide(monkeypatch, *modules):
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)  # an import of it now fails


def test_without_plotly_a_figure_says_how_to_install_it(monkeypatch, index):
    hide(monkeypatch, "plotly", "plotly.graph_objects")
    with pytest.raises(ImportError, match=r"drawing figures needs plotly, which is not installed: "
                                          r"pip install 'vectorize-nb\[viz\]'"):
        plot_neighbourhood(index, "v001")


def test_without_umap_asking_for_it_says_how_to_install_it(monkeypatch):
    hide(monkeypatch, "umap")
    with pytest.raises(ImportError, match=r"method='umap' needs umap, .*pip install 'vectorize-nb\[umap\]'"):
        project(np.random.default_rng(0).standard_normal((50, 8)), "umap", progress=False)


def test_without_umap_auto_draws_pca_and_says_what_would_be_better(monkeypatch):
    monkeypatch.setattr(projection_module, "available", lambda module: False)
    monkeypatch.setattr(projection_module, "UMAP_FROM", 100)
    with vz.connect("memory", limits=TINY) as client:
        wide = client.create_index("wide", 8)
        wide.upsert([f"w{i}" for i in range(150)], np.random.default_rng(1).standard_normal((150, 8)))
        fig = plot_neighbourhood(wide, "w0")
    assert fig.layout.meta["method"] == "pca"
    assert titles(fig)[1].endswith("UMAP would suit 150 points: pip install 'vectorize-nb[umap]'")


def test_without_kaleido_export_says_how_to_install_it(monkeypatch, index):
    hide(monkeypatch, "kaleido")
    with pytest.raises(ImportError, match=r"exporting figures to PNG needs kaleido, .*'vectorize-nb\[export\]'"):
        to_png(plot_neighbourhood(index, "v001"))


def test_a_missing_browser_is_named(monkeypatch, index):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    with pytest.raises(RuntimeError, match="needs Chrome or Chromium.*apt-get install chromium"):
        to_png(plot_neighbourhood(index, "v001"))
