"""Optional dependencies: not imported with the package, and a missing one names its install command."""

import subprocess
import sys

import numpy as np
import pytest

import vectorize_nb as vz
from vectorize_nb import extras
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


def test_without_umap_no_fit_starts_nor_counts(monkeypatch, capsys):
    """The "first fit compiles numba code" line showed before umap was found missing, and the failed
    attempt counted as the first fit, so the next (real) first fit lost the warning."""
    hide(monkeypatch, "umap")
    monkeypatch.setattr(projection_module, "_umap_fits", 0)
    with pytest.raises(ImportError, match=r"method='umap' needs umap, .*pip install 'vectorize-nb\[umap\]'"):
        project(np.random.default_rng(0).standard_normal((50, 8)), "umap", progress=True)
    assert "UMAP of" not in capsys.readouterr().err
    assert projection_module._umap_fits == 0


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


def broken_package(monkeypatch, folder, body):
    (folder / "brokenextra").mkdir()
    (folder / "brokenextra" / "__init__.py").write_text(body, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "brokenextra", raising=False)
    monkeypatch.setitem(extras.EXTRAS, "brokenextra", "umap")


def test_an_installed_package_that_fails_to_import_is_not_called_missing(monkeypatch, tmp_path):
    """At a memory limit umap's import failed with "failed to map segment from shared object", and the
    user was told umap was not installed."""
    broken_package(monkeypatch, tmp_path, "raise ImportError('libscipy_openblas.so: failed to map segment "
                                          "from shared object')\n")
    with pytest.raises(ImportError) as caught:
        extras.require("brokenextra", "method='umap'")
    message = str(caught.value)
    assert "not installed" not in message
    assert message.startswith("method='umap' needs brokenextra, which is installed but failed to import "
                              "(ImportError: libscipy_openblas.so: failed to map segment from shared object)")
    assert "memory" in message and "pip install 'vectorize-nb[umap]'" in message


def test_a_missing_dependency_of_an_installed_package_is_named(monkeypatch, tmp_path):
    broken_package(monkeypatch, tmp_path, "import no_such_dependency_here\n")
    with pytest.raises(ImportError, match=r"needs brokenextra, which is installed but failed to import "
                                          r"\(ModuleNotFoundError: No module named 'no_such_dependency_here'\)"):
        extras.require("brokenextra", "method='umap'")


def test_without_ipywidgets_the_panels_say_how_to_install_it():
    """It read "the panels needs ipywidgets"."""
    script = ("import sys; sys.modules['ipywidgets'] = None\n"
              "try:\n    import vectorize_nb.widgets\nexcept ImportError as exc:\n    print(exc)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == ("vectorize_nb.widgets (the panels) needs ipywidgets, which is not installed: "
                                     "pip install 'vectorize-nb[widgets]'"), result.stderr
