"""The folder's format: what a later vectorize-nb may add to it, and what it may change."""

import sqlite3

import numpy as np
import pytest

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.contract.models import QueryOptions
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.schema import FORMAT
from vectorize_nb.local.store import DATABASE_NAME

from ..helpers import TINY, vectors
from .test_read_only import refusing  # noqa: F401  (a fixture: the folder refuses writes, as for its reader)


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "films"
    with LocalEngine(path, limits=TINY) as engine:
        engine.create_index("films", dimensions=4, metric="euclidean")
        engine.upsert("films", vectors(["a", "b"], np.eye(2, 4, dtype=np.float32)))
    return path


def sql(folder, *statements):
    con = sqlite3.connect(folder / DATABASE_NAME, isolation_level=None)
    try:
        return [con.execute(statement).fetchall() for statement in statements]
    finally:
        con.close()


def test_a_column_that_a_later_version_adds_is_left_alone(folder):
    sql(folder, "ALTER TABLE indexes ADD COLUMN owner TEXT DEFAULT 'ada'",
        "ALTER TABLE mutations ADD COLUMN origin TEXT DEFAULT 'elsewhere'")
    with LocalEngine(folder, limits=TINY) as engine:
        assert [i.name for i in engine.list_indexes()] == ["films"]
        engine.upsert("films", vectors(["c"], [[0.0, 0.0, 1.0, 0.0]]))
        assert [m.id for m in engine.query("films", [0, 0, 1, 0], QueryOptions(top_k=1))] == ["c"]
        assert engine.index_info("films").vector_count == 3
        assert len(engine.mutation_log("films")) == 2


def user_version(folder):
    return sql(folder, "PRAGMA user_version")[0][0][0]


@pytest.mark.parametrize("before", [0, 1])  # written before the number was recorded; by a version of format 1
def test_a_folder_records_its_format_and_one_from_before_is_marked_when_opened(folder, before):
    """Format 2: the log may hold a delete without its ids, which a reader of format 1 took for a delete of none."""
    assert user_version(folder) == FORMAT == 2
    sql(folder, f"PRAGMA user_version = {before}")
    with LocalEngine(folder, limits=TINY) as engine:
        assert engine.index_info("films").vector_count == 2
    assert user_version(folder) == FORMAT


@pytest.mark.usefixtures("refusing")
def test_a_read_only_folder_from_before_opens_unmarked(folder):
    sql(folder, "PRAGMA user_version = 0")
    with LocalEngine(folder, limits=TINY) as engine:
        assert engine.store.read_only and engine.index_info("films").vector_count == 2
    assert user_version(folder) == 0


def snapshot_of(folder):
    return {path.name: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.mark.parametrize("read_only", [False, True], ids=["writable", "read-only"])
def test_a_folder_of_a_newer_format_is_refused_and_left_as_it_was(folder, read_only, request):
    sql(folder, f"PRAGMA user_version = {FORMAT + 1}", "CREATE TABLE a_later_table (x)")
    message = refusal(folder, read_only, request)
    assert f"folder format {FORMAT + 1}" in message and f"reads folder format {FORMAT} and older" in message
    assert "Upgrade vectorize-nb" in message


def refusal(folder, read_only, request):
    """The message of the FolderUnusable that connect raises (where the folder refuses writes, if
    read_only), having checked that it names the folder and that the folder is as it was."""
    before = snapshot_of(folder)
    if read_only:
        request.getfixturevalue("refusing")
    with pytest.raises(errors.FolderUnusable) as caught:
        vz.connect(path=folder, limits=TINY)
    message = str(caught.value)
    assert isinstance(caught.value, errors.ConfigurationError) and str(folder) in message
    assert "Nothing was written there" in message and snapshot_of(folder) == before
    return message


FIRST_ENGINE = (  # the layout of the first engine (3443697): one `vectors` table for every index, no format
    "CREATE TABLE indexes (id INTEGER PRIMARY KEY, name TEXT NOT NULL, dimensions INTEGER NOT NULL, "
    "metric TEXT NOT NULL, preset TEXT, description TEXT NOT NULL, created_on TEXT NOT NULL, "
    "modified_on TEXT NOT NULL, deleted_on TEXT)",
    "CREATE TABLE vectors (index_id INTEGER NOT NULL, id TEXT NOT NULL, namespace TEXT, metadata BLOB, "
    "vec BLOB NOT NULL, seq INTEGER NOT NULL, UNIQUE (index_id, id))",
    "CREATE INDEX vectors_seq ON vectors(index_id, seq)",
    "CREATE TABLE metadata_indexes (index_id INTEGER NOT NULL, property TEXT NOT NULL, type TEXT NOT NULL, "
    "seq INTEGER NOT NULL, PRIMARY KEY (index_id, property))",
    "CREATE TABLE mutations (seq INTEGER PRIMARY KEY AUTOINCREMENT, index_id INTEGER NOT NULL, "
    "uuid TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, count INTEGER NOT NULL, payload BLOB, "
    "created_at REAL NOT NULL, due_at REAL NOT NULL, applied_at REAL)",
    "CREATE TABLE pending_vectors (seq INTEGER NOT NULL, pos INTEGER NOT NULL, id TEXT NOT NULL, "
    "namespace TEXT, metadata BLOB, vec BLOB NOT NULL, PRIMARY KEY (seq, pos))",
    "INSERT INTO indexes (name, dimensions, metric, description, created_on, modified_on) "
    "VALUES ('films', 2, 'cosine', '', '2026-11-25T01:00:00Z', '2026-11-25T01:00:00Z')",
    "INSERT INTO mutations (index_id, uuid, kind, count, created_at, due_at, applied_at) "
    "VALUES (1, 'u1', 'upsert', 1, 0, 0, 0)",
    "INSERT INTO vectors VALUES (1, 'a', NULL, '{\"year\": 1999}', x'0000803f00000000', 1)",
)


@pytest.mark.parametrize("read_only", [False, True], ids=["writable", "read-only"])
def test_a_folder_of_the_first_engine_is_refused_and_left_as_it_was(tmp_path, read_only, request):
    folder = tmp_path / "first"
    folder.mkdir()
    sql(folder, *FIRST_ENGINE)
    message = refusal(folder, read_only, request)
    assert "early development version of vectorize-nb" in message and "one table `vectors` for every index" in message
    assert "export each index" in message and "new folder" in message and user_version(folder) == 0


def test_a_folder_of_the_first_engine_already_marked_format_1_is_refused_too(tmp_path):
    folder = tmp_path / "first"
    folder.mkdir()
    sql(folder, *FIRST_ENGINE, "CREATE TABLE vector_files (index_id INTEGER PRIMARY KEY, generation INTEGER "
        "NOT NULL, slots INTEGER NOT NULL, pressure INTEGER NOT NULL)", f"PRAGMA user_version = {FORMAT}")
    with pytest.raises(errors.FolderUnusable, match="early development version of vectorize-nb"):
        vz.connect(path=folder, limits=TINY)
    assert sql(folder, "SELECT index_id, id FROM vectors")[0] == [(1, "a")]
