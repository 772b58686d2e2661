"""Real data that needs no download, for notebooks, classes and tests.

    digits = datasets.digits()                       # 1,797 handwritten digits, 64 dimensions, a label each
    docs = datasets.stdlib_docs()                    # docstrings of Python's standard library, as text
    docs.vectorize.upsert(index, id="id", text="text", model=vz.SHIPPED_MODEL)   # embedded, offline

Texts are embedded with a real model (`Client.embed`, `text=` in `df.vectorize`): the shipped one runs
offline with nothing downloaded. `tfidf(texts)` makes a bag-of-words baseline fitted on the texts
themselves (TF-IDF plus truncated SVD), to compare a learned embedding with. digits and `tfidf` need
the datasets extra (scikit-learn): pip install 'vectorize-nb[datasets]'.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .extras import require

__all__ = ["digits", "stdlib_docs", "tfidf", "STDLIB_MODULES"]

STDLIB_MODULES: tuple[str, ...] = (
    "argparse", "ast", "asyncio.queues", "asyncio.tasks", "base64", "bisect", "calendar", "cProfile",
    "collections", "colorsys", "concurrent.futures._base", "configparser", "contextlib", "copy", "csv",
    "dataclasses", "datetime", "difflib", "dis", "doctest", "email.message", "enum", "fnmatch",
    "fractions", "ftplib", "functools", "gettext", "glob", "graphlib", "gzip", "hashlib", "heapq", "hmac",
    "html.parser", "http.client", "imaplib", "inspect", "ipaddress", "json", "locale", "logging", "mailbox",
    "numbers", "operator", "optparse", "pathlib", "pdb", "pickle", "platform", "pprint", "pstats", "queue",
    "random", "re", "sched", "secrets", "selectors", "shelve", "shutil", "signal", "smtplib", "socket", "sqlite3",
    "statistics", "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "timeit", "tokenize",
    "trace", "typing", "unittest.case", "urllib.parse", "uuid", "wave", "weakref", "xml.dom.minidom", "zipfile",
)
"""Modules whose docstrings make the text corpus: present, as source files, in every Python from 3.11 on (abc,
codecs and os are frozen into the interpreter; decimal.py holds no docstring)."""

def _sklearn() -> None:
    require("sklearn", "this dataset")


def digits() -> pd.DataFrame:
    """scikit-learn's 8x8 handwritten digits: id, label (0-9), and the 64 pixel intensities (0-16) as a
    float32 `embedding`. Bundled with scikit-learn, so nothing is downloaded."""
    _sklearn()
    from sklearn.datasets import load_digits

    loaded = load_digits()
    frame = pd.DataFrame({
        "id": [f"digit-{i:04d}" for i in range(len(loaded.target))],
        "label": loaded.target.astype(int),
        "embedding": list(loaded.data.astype(np.float32)),
    })
    frame.attrs["source"] = "sklearn.datasets.load_digits (UCI optical recognition of handwritten digits)"
    return frame


def stdlib_docs(modules: str | Sequence[str] = STDLIB_MODULES, min_length: int = 80) -> pd.DataFrame:
    """Docstrings of the standard library's modules, classes and functions, read from the source files
    (nothing is imported but the packages that hold them): the same texts on every Python from 3.11.

    Parameters
    ----------
    modules : str or sequence of str, default STDLIB_MODULES
        The module or modules to read (about ninety by default: some 1,400 docstrings).
    min_length : int, default 80
        Shorter docstrings are left out.

    Returns
    -------
    DataFrame
        id ("module:Class.method"), module, kind ("module", "class" or "function"), name, text.

    Raises
    ------
    ValueError
        A module that is not there, or has no Python source file (a compiled one).
    """
    modules = [modules] if isinstance(modules, str) else list(modules)
    rows = sorted({row["id"]: row for module in modules for row in _docstrings(module, min_length)}.values(),
                  key=lambda row: row["id"])
    frame = pd.DataFrame(rows, columns=["id", "module", "kind", "name", "text"])
    frame.attrs["source"] = f"docstrings of {len(modules)} standard-library module{'s' * (len(modules) != 1)}"
    return frame


def tfidf(texts: Sequence[str], dimensions: int = 128, seed: int = 0) -> Callable[[Sequence[str]], np.ndarray]:
    """A bag-of-words baseline fitted on `texts`: TF-IDF, then a truncated SVD to `dimensions`.

    Returns `embed(texts)`, a float32 matrix of unit rows in that space (cosine is the metric to use).
    No model, no download: word overlap only, which a learned embedding should beat. `seed` fixes the
    SVD's randomness, so the same texts give the same space.
    """
    _sklearn()
    return _text_embedder(_strings(texts), dimensions, seed)


def _strings(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("texts must be a list of texts, got a str")
    texts = list(texts)
    wrong = next((row for row, text in enumerate(texts) if not isinstance(text, str)), None)
    if wrong is not None:
        raise TypeError(f"texts must be strings: row {wrong} is {texts[wrong]!r:.80}")
    return texts


def _docstrings(module: str, min_length: int) -> list[dict[str, str]]:
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:  # a dotted name whose package is not there
        spec = None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        frozen = " (it is frozen into the interpreter)" if spec is not None and spec.origin == "frozen" else ""
        raise ValueError(f"no module {module!r} with a Python source file to read{frozen}; STDLIB_MODULES lists some")
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    found = []
    for node, qualname in _walk(tree, ""):
        text = ast.get_docstring(node)
        if text and len(text) >= min_length:
            kind = {ast.Module: "module", ast.ClassDef: "class"}.get(type(node), "function")
            found.append({"id": f"{module}:{qualname}" if qualname else module, "module": module, "kind": kind,
                          "name": qualname or module, "text": text})
    return found


_Documented = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def _walk(node: _Documented, prefix: str) -> list[tuple[_Documented, str]]:
    out: list[tuple[_Documented, str]] = [(node, prefix)]
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            out.extend(_walk(child, f"{prefix}.{child.name}" if prefix else child.name))
    return out


def _text_embedder(texts: list[str], dimensions: int, seed: int) -> Callable[[Sequence[str]], np.ndarray]:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) < 4:
        raise ValueError("tfidf fits on at least 4 texts (a word counts when in two of them and in at most half), "
                         f"got {len(texts)}")
    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=2, max_df=0.5)
    try:
        counts = tfidf.fit_transform(texts)
    except ValueError:  # scikit-learn's "empty vocabulary"
        raise ValueError(f"no word is in two or more of these {len(texts)} texts and in at most half of them: fit on "
                         "more texts, or texts that share words") from None
    if not 0 < dimensions < min(counts.shape):
        raise ValueError(f"dimensions must be from 1 to {min(counts.shape) - 1} for these {len(texts)} texts "
                         f"({counts.shape[1]} words in two or more of them), got {dimensions}; fit on more texts "
                         "or ask for fewer dimensions")
    svd = TruncatedSVD(n_components=dimensions, random_state=seed, algorithm="arpack")
    svd.fit(counts)

    def embed(batch: Sequence[str]) -> np.ndarray:
        vectors = svd.transform(tfidf.transform(_strings(batch))).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit: np.ndarray = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        return unit

    return embed
