"""The import contracts: layers point down, the engine stays free of pandas and requests."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.fail("lint-imports is missing: install the test extras (pip install -e '.[test]')")
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_the_local_engine_runs_without_pandas_or_requests():
    """Load vectorize_nb.local without the package's __init__ (which registers the pandas accessor)."""
    script = textwrap.dedent(f"""
        import sys, types
        for name in ("pandas", "requests", "ipywidgets", "plotly"):
            sys.modules[name] = None  # any import of these now fails
        package = types.ModuleType("vectorize_nb")
        package.__path__ = [{str(ROOT / "vectorize_nb")!r}]
        sys.modules["vectorize_nb"] = package
        import numpy as np
        from vectorize_nb.local import LocalEngine
        from vectorize_nb.contract.models import Vectors, QueryOptions
        engine = LocalEngine()
        engine.create_index("plain", dimensions=32, metric="cosine")
        engine.upsert("plain", Vectors(["a"], np.ones((1, 32), np.float32)))
        print(engine.query("plain", np.ones(32), QueryOptions())[0].id)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "a"


def test_vz_viz_widgets_and_datasets_load_when_first_named():
    script = textwrap.dedent("""
        import sys
        import vectorize_nb as vz
        assert not {"vectorize_nb.viz", "vectorize_nb.widgets", "plotly", "ipywidgets"} & set(sys.modules)
        print(vz.viz.to_png.__name__, vz.widgets.IndexManager.__name__, vz.datasets.__name__)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["to_png", "IndexManager", "vectorize_nb.datasets"]


def test_vz_serve_without_the_server_extra_names_it(monkeypatch):
    """vz.serve raised a bare ModuleNotFoundError ('waitress') where the command names the extra."""
    import vectorize_nb as vz

    monkeypatch.setitem(sys.modules, "waitress", None)  # an import of it now fails
    monkeypatch.delitem(sys.modules, "vectorize_nb.local.server", raising=False)
    with pytest.raises(ImportError, match=r"^vz\.serve\(\) needs waitress, which is not installed: "
                                          r"pip install 'vectorize-nb\[server\]'$"):
        vz.serve(memory=True)


def test_nothing_uses_pickle():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "vectorize_nb").rglob("*.py")
                 if "import pickle" in p.read_text(encoding="utf-8") or "pickle." in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_every_module_of_the_package_and_its_contract_has_a_layer():
    """A module left out of the layers contract has its imports checked by nothing."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {part.strip(" ()") for layer in layers for part in layer.split("|")}
    package = ROOT / "vectorize_nb"
    modules = {f"vectorize_nb.{path.stem}" for path in package.glob("*.py")
               if path.stem not in ("__init__", "__main__")}
    modules |= {f"vectorize_nb.{path.name}" for path in package.iterdir() if (path / "__init__.py").exists()}
    modules -= {"vectorize_nb.contract"}
    modules |= {f"vectorize_nb.contract.{path.stem}" for path in (package / "contract").glob("*.py")
                if path.stem != "__init__"}
    assert sorted(modules - named) == []


def test_vz_errors_holds_the_errors_of_a_write_too():
    """docs/reference/errors.md names WriteIncomplete among vz.errors, which had none of a write's errors."""
    import vectorize_nb as vz

    assert vz.errors.WriteIncomplete is vz.WriteIncomplete and vz.errors.WriteInterrupted is vz.WriteInterrupted
    assert {"WriteIncomplete", "WriteInterrupted", "VectorizeError"} <= set(vz.errors.__all__)


def test_tab_completion_offers_the_public_names_and_hides_the_modules():
    """dir(vz) lacked the names imported when first asked for (vz.se<TAB> offered only `secret`) and listed some
    30 internal modules."""
    import vectorize_nb as vz

    shown = dir(vz)
    assert {"serve", "plot_neighbourhood", "QueryExplorer", "viz", "widgets", "datasets", "connect", "F"} <= set(shown)
    assert not {"secret", "journal", "answer_warnings", "local", "contract"} & set(shown)
    assert all(hasattr(vz, name) for name in shown)


def test_the_names_imported_when_first_asked_for_have_their_types(tmp_path):
    """They were typed `object` (the module's __getattr__), so mypy --strict refused the README's own
    `with vz.serve(memory=True) as server:` ("object" not callable)."""
    script = tmp_path / "uses.py"
    script.write_text("import vectorize_nb as vz\n\nwith vz.serve(memory=True) as server:\n    print(server.url)\n"
                      "reveal_type(vz.plot_neighbourhood)\nreveal_type(vz.QueryExplorer)\nreveal_type(vz.viz)\n",
                      encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(script)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    lines = result.stdout.splitlines()
    assert [line for line in lines if "error" in line] == [], result.stdout
    assert "vectorize_nb.viz.neighbourhood" in result.stdout or "def (" in lines[0], result.stdout
    assert "builtins.object" not in result.stdout, result.stdout


def test_help_and_getmembers_read_the_package_with_an_extra_missing():
    """dir(vz) listed the panels and serve, which raise ImportError without their extras: inspect.getmembers(vz)
    raised, and help(vz) printed that one line instead of the package's documentation."""
    script = textwrap.dedent("""
        import inspect, io, contextlib, sys
        sys.modules["ipywidgets"] = None
        sys.modules["waitress"] = None
        import vectorize_nb as vz
        names = dict(inspect.getmembers(vz))
        assert "QueryExplorer" not in names and "serve" not in names and "connect" in names, sorted(names)
        assert "__name__" in dir(vz) and "__version__" in dir(vz)
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown):
            help(vz)
        assert "a Jupyter-first toolkit" in shown.getvalue()
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
