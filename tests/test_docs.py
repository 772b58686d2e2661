"""The API reference builds from the docstrings with warnings as errors, and names every public name."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vectorize_nb
from vectorize_nb import datasets, errors, viz, widgets
from vectorize_nb.accessor import VectorizeAccessor

ROOT = Path(__file__).resolve().parents[1]
ACCESSOR_METHODS = [name for name in vars(VectorizeAccessor) if not name.startswith("_")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> str:
    """The text of every built page of the API reference: `mkdocs build --strict` into a temporary folder."""
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    if mkdocs is None:
        pytest.fail("mkdocs is missing: install the test extras (pip install -e '.[test]')")
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(site)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return "\n".join(page.read_text(encoding="utf-8") for page in sorted((site / "reference").rglob("index.html")))


def documented(reference: str) -> set[str]:
    """The last part of every documented object's anchor: `id="vectorize_nb.viz.plot_index"` -> plot_index."""
    return {anchor.rsplit(".", 1)[-1] for anchor in re.findall(r'id="(vectorize_nb[\w.]*)"', reference)}


def test_the_reference_builds_with_warnings_as_errors_and_holds_every_public_name(reference):
    names = documented(reference)
    for group in (vectorize_nb.__all__, viz.__all__, widgets.__all__, datasets.__all__, ACCESSOR_METHODS):
        assert set(group) - {"errors"} <= names, sorted(set(group) - names)
    assert 'id="vectorize_nb.errors' in reference


def test_every_exception_is_in_the_reference(reference):
    assert set(errors.__all__) <= documented(reference), sorted(set(errors.__all__) - documented(reference))


def test_parameters_are_described(reference):
    for parameter in ("exist_ok", "max_categories", "return_metadata", "on_error"):
        assert f"<code>{parameter}</code>" in reference, parameter
