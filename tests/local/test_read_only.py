"""A folder the user may only read (a dataset shipped read-only) opens for queries; a write says why it fails.

Root may write anywhere, so most tests make SQLite and the OS refuse the writes as they would for a user;
the last one uses real permissions where the tests do not run as root."""

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from vectorize_nb.local import LocalEngine, store as store_module
from vectorize_nb.local.readonly import ReadOnlyFolder
from vectorize_nb.contract.models import QueryOptions

from ..helpers import TINY, vectors


@pytest.fixture
def folder(tmp_path, rng):
    path = tmp_path / "shipped"
    with LocalEngine(path, limits=TINY) as engine:
        engine.create_index("docs", dimensions=4, metric="euclidean")
        engine.upsert("docs", vectors([f"v{i}" for i in range(6)], np.eye(6, 4, dtype=np.float32)))
    return path


def refuse_opening_for_writes(monkeypatch, folder):
    """The OS refuses to open a file in `folder` for writing, as for a user without write permission."""
    real_open = os.open

    def open_(path, flags, *args, **kwargs):
        if str(path).startswith(str(folder)) and flags & (os.O_RDWR | os.O_WRONLY | os.O_CREAT):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)


@pytest.fixture
def refusing(monkeypatch, folder):
    """SQLite and the OS refuse every write in `folder`, as for a user without write permission."""
    def write_ahead(con, patience=60.0):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(store_module, "write_ahead", write_ahead)
    refuse_opening_for_writes(monkeypatch, folder)


def ids(engine):
    return [m.id for m in engine.query("docs", [1.0, 0.0, 0.0, 0.0], QueryOptions(top_k=3))]


def test_a_read_only_folder_answers_reads(folder, refusing):
    with LocalEngine(folder, limits=TINY) as engine:
        assert engine.store.read_only
        found = ids(engine)
        assert found[0] == "v0" and set(found[1:]) == {"v4", "v5"}
        assert [i.name for i in engine.list_indexes()] == ["docs"]
        assert sorted(r.id for r in engine.get_by_ids("docs", ["v1", "v2"])) == ["v1", "v2"]


def test_a_write_to_a_read_only_folder_says_so_and_writes_nothing(folder, refusing, monkeypatch):
    with LocalEngine(folder, limits=TINY) as engine:
        with pytest.raises(ReadOnlyFolder, match="read-only.*nothing was written"):
            engine.upsert("docs", vectors(["new"], np.ones((1, 4), np.float32)))
        with pytest.raises(PermissionError, match="read-only"):
            engine.create_index("other", dimensions=4, metric="cosine")
    monkeypatch.undo()
    with LocalEngine(folder, limits=TINY) as engine:
        assert not engine.store.read_only
        assert [i.name for i in engine.list_indexes()] == ["docs"]
        assert engine.get_by_ids("docs", ["new"]) == []


def test_a_read_only_folder_its_writer_did_not_close_refuses_writes_as_read_only(folder, monkeypatch):
    """With the -wal and -shm of a writer that did not close it, SQLite opens a read-only database for reading
    without a word: a write would meet SQLite's "attempt to write a readonly database"."""
    writer = LocalEngine(folder, limits=TINY)  # open: its -wal and -shm stay beside the database
    writer.upsert("docs", vectors(["late"], np.ones((1, 4), np.float32)))
    real_connect, real_access = sqlite3.connect, os.access

    def connect(database, *args, **kwargs):  # what SQLite does on a read-only mount
        if str(database).startswith(str(folder)):
            return real_connect(f"{Path(database).as_uri()}?mode=ro", *args, **{**kwargs, "uri": True})
        return real_connect(database, *args, **kwargs)

    def access(path, mode, *args, **kwargs):
        return not (str(path).startswith(str(folder)) and mode & os.W_OK) and real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    monkeypatch.setattr(os, "access", access)
    refuse_opening_for_writes(monkeypatch, folder)
    with LocalEngine(folder, limits=TINY) as engine:
        assert engine.store.read_only
        assert sorted(r.id for r in engine.get_by_ids("docs", ["v1", "late"])) == ["late", "v1"]
        with pytest.raises(ReadOnlyFolder, match=f"The folder {str(folder)!r} is read-only.*nothing was written"):
            engine.upsert("docs", vectors(["new"], np.ones((1, 4), np.float32)))
        for write in (lambda: engine.create_index("other", dimensions=4, metric="cosine"),
                      lambda: engine.delete_index("docs")):
            with pytest.raises(PermissionError, match="read-only"):
                write()
    monkeypatch.undo()
    writer.close()
    with LocalEngine(folder, limits=TINY) as engine:
        assert [i.name for i in engine.list_indexes()] == ["docs"] and engine.index_info("docs").vector_count == 7


def test_a_read_only_folder_without_a_database_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "write_ahead", lambda con, patience=60.0: (_ for _ in ()).throw(
        sqlite3.OperationalError("unable to open database file")))
    with pytest.raises(ReadOnlyFolder, match="holds no database"):
        LocalEngine(tmp_path / "empty", limits=TINY)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes read-only files")
def test_a_folder_without_write_permission_opens_for_reading(folder):
    modes = {}
    for path in [folder, *folder.rglob("*")]:
        modes[path] = path.stat().st_mode
        path.chmod(modes[path] & ~0o222)
    try:
        with LocalEngine(folder, limits=TINY) as engine:
            assert ids(engine)[0] == "v0"
            with pytest.raises(ReadOnlyFolder):
                engine.delete_by_ids("docs", ["v0"])
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def test_a_served_read_only_folder_answers_reads_and_refuses_writes_with_507(folder, refusing):
    """Served, a write the folder cannot take is a 507 in Cloudflare's envelope (not a 500 'internal error',
    which clients retry), without the server's path; the REST client raises StorageRefused at once."""
    import requests

    import vectorize_nb as vz
    from vectorize_nb import errors
    from vectorize_nb.local.server import serve

    with serve(folder, limits=TINY) as server:
        url = f"{server.url}/accounts/{server.account_id}/vectorize/v2/indexes/docs/upsert"
        answer = requests.post(url, data=b'{"id": "new", "values": [1, 2, 3, 4]}\n', timeout=10,
                               headers={"Content-Type": "application/x-ndjson"})
        assert answer.status_code == 507
        assert answer.json()["errors"][0]["message"] == "this server's folder is read-only: nothing was written"
        assert str(folder) not in answer.text
        with vz.connect(server.url, limits=TINY, max_retries=3) as client:
            index = client.get_index("docs")
            assert index.query([1, 0, 0, 0], top_k=1)["id"].tolist() == ["v0"]
            with pytest.raises(vz.WriteIncomplete, match="read-only") as raised:
                index.upsert(["new"], [[1, 2, 3, 4]])
            refusal = raised.value.result.failures[0].error
            assert isinstance(refusal, errors.StorageRefused) and refusal.status == 507 and not refusal.retryable


def test_a_full_disk_is_a_507_too_and_other_os_errors_stay_internal():
    import errno

    from vectorize_nb.local.app import _storage_refusal

    full = _storage_refusal(OSError(errno.ENOSPC, "The disk holding '/private/place' is full"))
    assert full is not None and full.status == 507 and "/private" not in str(full) and "disk is full" in str(full)
    assert _storage_refusal(OSError(errno.EIO, "I/O error")) is None
