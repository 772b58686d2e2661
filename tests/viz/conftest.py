"""Small indexes to draw: 2-D euclidean vectors (a PCA of them is a rotation, so distances can be checked
by eye and by test), in four seeded clusters, with metadata and two namespaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.viz import clear_cache
from vectorize_nb.viz.projection import Projection

from ..helpers import TINY

GENRES = ["drama", "comedy", "horror", "noir"]


def points(n: int = 300, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=np.float32)
    cluster = rng.integers(0, 4, n)
    values = centres[cluster] + rng.standard_normal((n, 2)).astype(np.float32)
    return pd.DataFrame({
        "id": [f"v{i:03d}" for i in range(n)],
        "values": list(values.astype(np.float32)),
        "genre": [GENRES[c] for c in cluster],
        "year": 1950 + np.arange(n) % 70,
        "tenant": ["a" if i % 3 else "b" for i in range(n)],
    })


def fill(index: vz.Index, frame: pd.DataFrame) -> None:
    index.create_metadata_index("genre", "string")
    index.create_metadata_index("year", "number")
    frame.vectorize.upsert(index, id="id", vector="values", metadata=["genre", "year"], namespace="tenant")


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def data() -> pd.DataFrame:
    return points()


def in_memory(name: str, metric: str, frame: pd.DataFrame):
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index(name, 2, metric)
        fill(idx, frame)
        yield idx


@pytest.fixture
def index(data):
    yield from in_memory("points", "euclidean", data)


@pytest.fixture
def dots(data):
    """The same points in a dot-product index: its score is the negative dot product, lowest best."""
    yield from in_memory("dots", "dot-product", data)


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


@pytest.fixture
def disk_index(store, data):
    with vz.connect("local", path=store, limits=TINY) as client:
        idx = client.create_index("points", 2, "euclidean")
        fill(idx, data)
        yield idx


@pytest.fixture
def fits(monkeypatch):
    """The shapes of the matrices Projection.fit was called on, in order: one entry per computation."""
    calls: list[tuple[int, ...]] = []
    original = Projection.fit.__func__

    def counting(cls, vectors, *args, **kwargs):
        calls.append(np.shape(vectors))
        return original(cls, vectors, *args, **kwargs)

    monkeypatch.setattr(Projection, "fit", classmethod(counting))
    return calls


def entry_only(t) -> bool:
    """A legend entry without points: one point off the map, of no vector."""
    return t.hoverinfo == "skip" and list(t.customdata or ()) == [None] and t.mode == "markers"


def trace(fig, name: str):
    """The figure's trace called `name` (exactly one, legend entries without points aside)."""
    found = [t for t in fig.data if t.name == name and not entry_only(t)]
    assert len(found) == 1, [t.name for t in fig.data]
    return found[0]


def xy(tr) -> np.ndarray:
    return np.column_stack([np.asarray(tr.x, dtype=float), np.asarray(tr.y, dtype=float)])


def role(fig, name: str) -> list:
    """The figure's traces of one role (their legendgroup): the "index" points may be one trace per category."""
    return [t for t in fig.data if t.legendgroup == name]


def role_points(fig, name: str) -> dict:
    """id -> (x, y) over the traces of one role."""
    return {vid: tuple(point) for t in role(fig, name) if not entry_only(t) for vid, point in zip(t.customdata, xy(t))}


def titles(fig) -> tuple[str, str]:
    """(title, subtitle) as the figure shows them: the subtitle on a smaller second line of the title."""
    title, _, subtitle = fig.layout.title.text.partition("<br><sup>")
    assert subtitle.removesuffix("</sup>") == fig.layout.meta["subtitle"]
    return title, subtitle.removesuffix("</sup>")
