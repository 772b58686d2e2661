"""The folder's format: what a later vectorize-nb may add to it, and what it may change."""

import sqlite3

import numpy as np
import pytest

from vectorize_nb.contract.models import QueryOptions
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.store import DATABASE_NAME

from ..helpers import TINY, vectors


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "films"
    with LocalEngine(path, limits=TINY) as engine:
        engine.create_index("films", dimensions=4, metric="euclidean")
        engine.upsert("films", vectors(["a", "b"], np.eye(2, 4, dtype=np.float32)))
    return path


def sql(folder, *statements):
    with sqlite3.connect(folder / DATABASE_NAME) as con:
        return [con.execute(statement).fetchall() for statement in statements]


def test_a_column_that_a_later_version_adds_is_left_alone(folder):
    sql(folder, "ALTER TABLE indexes ADD COLUMN owner TEXT DEFAULT 'ada'",
        "ALTER TABLE mutations ADD COLUMN origin TEXT DEFAULT 'elsewhere'")
    with LocalEngine(folder, limits=TINY) as engine:
        assert [i.name for i in engine.list_indexes()] == ["films"]
        engine.upsert("films", vectors(["c"], [[0.0, 0.0, 1.0, 0.0]]))
        assert [m.id for m in engine.query("films", [0, 0, 1, 0], QueryOptions(top_k=1))] == ["c"]
        assert engine.index_info("films").vector_count == 3
        assert len(engine.mutation_log("films")) == 2
