"""Every `>>>` example of the API reference runs and prints what it shows.

Each docstring's examples run as a doctest in a fresh namespace that holds what the examples take as given:
`vz`, `np`, `pd`, `F`, the views, and a memory `client` whose index `idx` ("digits") holds `digits`
(`datasets.digits()`) and whose index `films` holds `df` (the README's ten lines: 100 rows, 32 dimensions,
a "genre" metadata index); `queries` (five rows of digits), `X` and `Q` (the digits' vectors, and ten of
them); `docs` (the docstrings of csv, json and pathlib), `small` and `large` (indexes of them by 32- and
40-dimension TF-IDF), `docs_index` (an index of them by the shipped model). The current folder is a
temporary one. Only `vz.connect("cloudflare")`, which needs an account, and `model.encode`, the user's own
model, stay skipped (`# doctest: +SKIP`).
"""

from __future__ import annotations

import doctest
import functools
import importlib
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.extras import available

from .helpers import browser_unavailable

MODULES = ["accessor", "client", "contract.limits", "filter_builder", "index", "vector_array", "viz.compare",
           "transfer", "viz.export", "viz.figures", "viz.projection", "viz.scores", "widgets.index_manager",
           "widgets.metadata_panel", "widgets.query_explorer", "widgets.tabs", "widgets.upsert_panel"]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# what an example needs beyond the core, found in its text
NEEDS = {"wordllama|SHIPPED_MODEL|docs_index": "wordllama", r"\bplot_|to_png|Projection|project\(": "plotly",
         "umap": "umap", r"Panel|QueryExplorer|IndexManager|panel\(": "ipywidgets", "to_png": "kaleido",
         r"\bdigits\b|small|large": "sklearn"}


def docstring_tests() -> list[doctest.DocTest]:
    found = []
    for name in MODULES:
        module = importlib.import_module(f"vectorize_nb.{name}")
        found += [test for test in doctest.DocTestFinder().find(module) if test.examples]
    return sorted(found, key=lambda test: test.name)


@functools.cache
def digits() -> pd.DataFrame:
    from vectorize_nb import datasets

    return datasets.digits()


@functools.cache
def docs() -> pd.DataFrame:
    from vectorize_nb import datasets

    return datasets.stdlib_docs(modules=("csv", "json", "pathlib"))


def _tfidf_index(client: vz.Client, name: str, dimensions: int) -> vz.Index:
    from vectorize_nb import datasets

    index = client.create_index(name, dimensions=dimensions, metric="cosine")
    index.upsert(docs()["id"].tolist(), datasets.tfidf(docs()["text"], dimensions=dimensions)(docs()["text"]),
                 wait=True)
    return index


def _docs_index(client: vz.Client) -> vz.Index:
    index = client.create_index("docs", dimensions=256, metric="cosine")
    docs().vectorize.upsert(index, id="id", text="text", model=vz.SHIPPED_MODEL, wait=True)
    return index


LAZY: dict[str, Callable[[vz.Client], Any]] = {
    "digits": lambda client: digits(), "queries": lambda client: digits().head(5),
    "X": lambda client: np.stack(digits()["embedding"]), "Q": lambda client: np.stack(digits()["embedding"][:10]),
    "docs": lambda client: docs().copy(), "small": lambda client: _tfidf_index(client, "small", 32),
    "large": lambda client: _tfidf_index(client, "large", 40), "docs_index": _docs_index,
}


def namespace(test: doctest.DocTest, client: vz.Client) -> dict[str, Any]:
    """The module's own names, the shared ones, and those of LAZY that the examples name."""
    films = client.create_index("films", dimensions=32, metric="cosine")
    films.create_metadata_index("genre", "string")
    source = "".join(example.source for example in test.examples)
    names = {"vz": vz, "np": np, "pd": pd, "F": vz.F, "client": client, "films": films,
             "df": pd.DataFrame({"id": range(100), "genre": ["drama", "comedy"] * 50,
                                 "embedding": list(np.random.default_rng(0).standard_normal((100, 32)))})}
    if re.search(r"\bidx\b|\"digits\"", source):
        names["idx"] = client.create_index("digits", dimensions=64, metric="cosine")
        names["idx"].create_metadata_index("label", "number")
        digits().vectorize.upsert(names["idx"], id="id", vector="embedding", metadata=["label"], wait=True)
    if re.search(r"\bplot_|to_png", source):
        from vectorize_nb import viz

        names.update({name: getattr(viz, name) for name in viz.__all__})
    names.update({name: make(client) for name, make in LAZY.items() if re.search(rf"\b{name}\b", source)})
    return {**test.globs, **names}


@pytest.mark.parametrize("test", docstring_tests(), ids=lambda test: test.name.removeprefix("vectorize_nb."))
def test_the_example_runs_as_shown(test, tmp_path, monkeypatch):
    source = "".join(example.source for example in test.examples)
    for pattern, package in NEEDS.items():
        if re.search(pattern, source) and not available(package):
            pytest.skip(f"needs {package}, which is not installed")
    if "to_png" in source:
        from vectorize_nb.viz.export import find_browser

        if find_browser() is None:
            browser_unavailable("no Chrome or Chromium found to render the PNG")
    monkeypatch.chdir(tmp_path)  # vz.connect() makes ./.vectorize, to_png writes map.png
    with vz.connect("memory") as client:
        runner = doctest.DocTestRunner(optionflags=FLAGS)
        test.globs = namespace(test, client)
        report: list[str] = []
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_every_module_with_examples_is_run():
    """A docstring example added to another module is run too: add the module to MODULES."""
    import pathlib

    root = pathlib.Path(vz.__file__).parent
    holding = {path.relative_to(root).with_suffix("").as_posix().replace("/", ".")
               for path in root.rglob("*.py") if ">>> " in path.read_text(encoding="utf-8")}
    assert holding == set(MODULES)
