"""A folder that is damaged or incomplete (a database written over or cut short, an index's vector file missing
or cut short) or is not a folder: each is FolderUnusable, naming the folder or the index and its file, saying
what to do; nothing is written over it, and the interpreter never crashes on it."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.contract.models import QueryOptions
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.store import DATABASE_NAME, VECTORS_FOLDER

from ..helpers import TINY, vectors

ROWS = 40


@pytest.fixture
def folder(tmp_path, rng):
    path = tmp_path / "films"
    with LocalEngine(path, limits=TINY) as engine:
        for name in ("films", "books"):
            engine.create_index(name, dimensions=4, metric="cosine")
            engine.upsert(name, vectors([f"v{i}" for i in range(ROWS)], rng.standard_normal((ROWS, 4))))
    return path


def files(folder):
    """The folder's files and their bytes (not SQLite's -wal and -shm beside an open database)."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*")
            if path.is_file() and not path.name.endswith(("-wal", "-shm"))}


@pytest.mark.parametrize("damage", ["written over", "cut short"])
def test_a_damaged_database_is_refused_at_connect_and_left_as_it_was(folder, damage):
    database = folder / DATABASE_NAME
    if damage == "written over":
        database.write_bytes(bytes(range(256)) * 64)
    else:
        os.truncate(database, 1000)
    before = files(folder)
    with pytest.raises(errors.FolderUnusable) as caught:
        vz.connect(path=folder, limits=TINY)
    message = str(caught.value)
    assert f"The folder {str(folder)!r} is damaged: its database" in message
    assert "Restore the folder from a copy, or connect to another folder" in message
    assert files(folder) == before


@pytest.mark.parametrize("how", ["empty", "missing"])
def test_a_new_database_beside_the_engines_vector_files_is_refused_and_they_are_kept(folder, how):
    """SQLite takes an empty (0 bytes: a copy cut short) or missing database for a new one; opened as new, the
    folder would lose its vector files, the only copy of its vectors."""
    database = folder / DATABASE_NAME
    os.truncate(database, 0) if how == "empty" else database.unlink()
    before = files(folder)
    with pytest.raises(errors.FolderUnusable) as caught:
        vz.connect(path=folder, limits=TINY)
    message = str(caught.value)
    assert f"The folder {str(folder)!r} holds the vectors of indexes (in {str(folder / VECTORS_FOLDER)!r}) " in message
    assert f"but its database ({DATABASE_NAME}) is {how}" in message
    assert "Restore the database from a copy, or delete the folder's vectors folder to start afresh" in message
    assert files(folder) == before


def test_a_new_database_beside_a_vectors_folder_the_engine_wrote_nothing_in_opens_as_new(folder):
    (folder / DATABASE_NAME).unlink()
    shutil.rmtree(folder / VECTORS_FOLDER)
    (folder / VECTORS_FOLDER).mkdir()
    (folder / VECTORS_FOLDER / "notes.txt").write_text("mine", encoding="utf-8")
    with LocalEngine(folder, limits=TINY) as engine:
        assert engine.list_indexes() == []
        engine.create_index("films", dimensions=4, metric="cosine")
    assert (folder / VECTORS_FOLDER / "notes.txt").read_text(encoding="utf-8") == "mine"


def damaged_calls(engine, norms_only=False):
    """Calls that read or write the vectors of index "films" (the norms: queries and writes only)."""
    yield lambda: engine.query("films", [1, 0, 0, 0], QueryOptions(top_k=3))
    yield lambda: engine.upsert("films", vectors(["new"], np.ones((1, 4))))
    if not norms_only:
        yield lambda: engine.get_by_ids("films", ["v1"])
        yield lambda: engine.export("films")


@pytest.mark.parametrize("lost", ["1.0.f32", "1.0.norms", VECTORS_FOLDER])
def test_a_missing_vector_file_names_the_index_and_the_file_and_the_rest_of_the_folder_works(folder, lost):
    path = folder / lost if lost == VECTORS_FOLDER else folder / VECTORS_FOLDER / lost
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    before = files(folder)
    with LocalEngine(folder, limits=TINY) as engine:
        assert sorted(i.name for i in engine.list_indexes()) == ["books", "films"]
        assert engine.index_info("films").vector_count == ROWS
        for call in damaged_calls(engine, norms_only=lost == "1.0.norms"):
            with pytest.raises(errors.FolderUnusable) as caught:
                call()
            message = str(caught.value)
            assert message.startswith('The vectors of index "films" are missing: ')
            assert str(folder / VECTORS_FOLDER / ("1.0.norms" if lost == "1.0.norms" else "1.0.f32")) in message
            assert f"Restore the folder {str(folder)!r} from a copy, or delete the index" in message
            assert "(delete_index('films')) to go on with the folder's other indexes" in message
        assert files(folder) == before and (folder / VECTORS_FOLDER).exists() == (lost != VECTORS_FOLDER)
        if lost != VECTORS_FOLDER:
            assert len(engine.query("books", [1, 0, 0, 0], QueryOptions(top_k=3))) == 3
        engine.delete_index("films")
        assert [i.name for i in engine.list_indexes()] == ["books"]


def test_a_write_after_the_vector_files_were_deleted_under_the_engine_is_refused_not_lost(folder):
    """Written into files deleted while open (a clean-up script, a sync tool), an upsert was acknowledged and
    answered queries, then was gone, with the index, at the next open."""
    with LocalEngine(folder, limits=TINY) as engine:
        engine.query("films", [1, 0, 0, 0], QueryOptions())  # its vector files open
        shutil.rmtree(folder / VECTORS_FOLDER)
        with pytest.raises(errors.FolderUnusable, match='The vectors of index "films" are missing: '):
            engine.upsert("films", vectors(["new"], [[1, 0, 0, 0]]))
        assert engine.index_info("films").vector_count == ROWS and engine.get_by_ids("films", ["new"]) == []


def test_a_file_in_place_of_the_vectors_folder_names_it_on_every_call_that_needs_the_vectors(folder):
    shutil.rmtree(folder / VECTORS_FOLDER)
    (folder / VECTORS_FOLDER).write_text("not a folder", encoding="utf-8")
    before = files(folder)
    with LocalEngine(folder, limits=TINY) as engine:
        for call in damaged_calls(engine):
            with pytest.raises(errors.FolderUnusable) as caught:
                call()
            message = str(caught.value)
            assert message.startswith(f'The vectors of index "films" cannot be read: {folder / VECTORS_FOLDER} is '
                                      "a file, not the folder of the indexes' vector files. Restore the folder")
        with pytest.raises(errors.FolderUnusable, match=f"The folder {str(folder)!r} is damaged: "
                           f"{folder / VECTORS_FOLDER} is a file, not a folder. Restore the folder from a copy"):
            engine.create_index("music", dimensions=4, metric="cosine")
        assert files(folder) == before
        engine.delete_index("films")
        assert [i.name for i in engine.list_indexes()] == ["books"]


@pytest.mark.parametrize("name, row_bytes", [("1.0.f32", 16), ("1.0.norms", 8)])
def test_a_vector_file_cut_short_names_the_index_the_file_and_the_rows(folder, name, row_bytes):
    os.truncate(folder / VECTORS_FOLDER / name, 7 * row_bytes)
    before = files(folder)
    with LocalEngine(folder, limits=TINY) as engine:
        for call in damaged_calls(engine, norms_only=name == "1.0.norms"):
            with pytest.raises(errors.FolderUnusable, match=f'The vectors of index "films" are cut short: .*{name} '
                               f"holds 7 rows where {ROWS} are recorded. Restore the folder"):
                call()
    assert files(folder) == before


def test_a_vector_file_cut_short_while_it_is_mapped_is_an_error_not_a_crash(folder):
    """Reading a memory map past the end of a file cut short kills the process (SIGBUS): a fresh process shows it."""
    script = """if True:
        import os, sys
        from vectorize_nb import errors
        from vectorize_nb.contract.models import QueryOptions
        from vectorize_nb.local import LocalEngine
        engine = LocalEngine(sys.argv[1])
        print(len(engine.query("films", [1, 0, 0, 0], QueryOptions(top_k=3))))
        os.truncate(os.path.join(sys.argv[1], "vectors", "1.0.f32"), 0)
        try:
            engine.query("films", [1, 0, 0, 0], QueryOptions(top_k=3))
        except errors.FolderUnusable as exc:
            print(str(exc).split(":")[0])
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, timeout=120,
                          env=env)
    assert (done.returncode, done.stdout.splitlines()) == (0, ["3", 'The vectors of index "films" are cut short'])


@pytest.mark.parametrize("where", ["the file", "under the file"])
def test_a_path_that_is_a_file_is_refused_as_not_a_folder(tmp_path, where):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes", encoding="utf-8")
    path = notes if where == "the file" else notes / "store"
    with pytest.raises(errors.FolderUnusable, match=f"{str(path)!r} is not a folder: it, or a folder above it, is a "
                       "file"):
        vz.connect(path=path, limits=TINY)
    assert notes.read_text(encoding="utf-8") == "my notes" and sorted(tmp_path.iterdir()) == [notes]


def test_a_served_folder_with_a_missing_vector_file_answers_507_without_its_path(folder):
    import requests

    from vectorize_nb.local.server import serve

    with serve(folder, limits=TINY) as server:
        (folder / VECTORS_FOLDER / "1.0.f32").unlink()
        url = f"{server.url}/accounts/{server.account_id}/vectorize/v2/indexes/films/query"
        answer = requests.post(url, json={"vector": [1, 0, 0, 0], "topK": 3}, timeout=10)
    assert answer.status_code == 507
    assert answer.json()["errors"][0]["message"] == ("this server's folder is damaged or incomplete: nothing was "
                                                     "done (the server's log says what is wrong)")
    assert str(folder) not in answer.text


def damage_database(folder, damage):
    """Damage the database of an open folder beyond its first page (which SQLite keeps read): pages written over,
    or the file cut short after its header."""
    database = folder / DATABASE_NAME
    if damage == "written over":
        with open(database, "r+b") as file:
            file.seek(65536)
            file.write(bytes(range(256)) * 2048)
    else:
        os.truncate(database, 65536)


@pytest.mark.parametrize("damage", ["written over", "cut short"])
def test_a_database_damaged_after_connect_is_folder_unusable_at_every_call(folder, damage):
    client = vz.connect(path=folder, limits=TINY)
    damage_database(folder, damage)
    before = files(folder)
    calls = {"list_indexes": client.list_indexes, "indexes": client.indexes,
             "create_index": lambda: client.create_index("new", dimensions=4, metric="cosine"),
             "get_index": lambda: client.get_index("films"), "delete_index": lambda: client.delete_index("books"),
             "index_folder": lambda: client.backend.index_folder("films"),
             "info": lambda: client.backend.index_info("films"),
             "list_metadata_indexes": lambda: client.backend.list_metadata_indexes("films")}
    for call in calls.values():
        with pytest.raises(errors.FolderUnusable) as caught:
            call()
        message = str(caught.value)
        assert f"The folder {str(folder)!r} is damaged: its database cannot be read (" in message
        assert "Restore the folder from a copy, or connect to another folder" in message
    client.close()
    assert files(folder) == before


@pytest.mark.parametrize("damage", ["written over", "cut short"])
def test_a_database_damaged_under_a_server_is_507_at_every_route_without_its_path(folder, damage):
    import requests

    from vectorize_nb.local.server import serve

    with serve(folder, limits=TINY) as server:
        base = f"{server.url}/accounts/{server.account_id}/vectorize/v2/indexes"
        damage_database(folder, damage)
        answers = [requests.get(base, timeout=10),
                   requests.post(base, json={"name": "new", "config": {"dimensions": 4, "metric": "cosine"}},
                                 timeout=10),
                   requests.get(f"{base}/films", timeout=10), requests.delete(f"{base}/books", timeout=10),
                   requests.get(f"{base}/films/info", timeout=10),
                   requests.get(f"{base}/films/metadata_index/list", timeout=10)]
    for answer in answers:
        assert answer.status_code == 507, answer.text
        assert answer.json()["errors"][0]["message"] == ("this server's folder is damaged or incomplete: nothing "
                                                         "was done (the server's log says what is wrong)")
        assert str(folder) not in answer.text


def assert_only_films_is_damaged(engine, folder, file, held, recorded):
    """Index "films" says what is wrong with its file; "books" reads and writes; deleting "films" recovers."""
    assert sorted(i.name for i in engine.list_indexes()) == ["books", "films"]
    assert len(engine.query("books", [1, 0, 0, 0], QueryOptions(top_k=3))) == 3
    engine.upsert("books", vectors(["new"], np.ones((1, 4))))
    assert [r.id for r in engine.get_by_ids("books", ["new", "v1"])] == ["new", "v1"]
    engine.create_index("music", dimensions=4, metric="cosine")
    assert engine.get_index("films").name == "films"
    for call in damaged_calls(engine, norms_only=file == "1.0.norms"):
        with pytest.raises(errors.FolderUnusable) as caught:
            call()
        message = str(caught.value)
        if held is None:
            assert message.startswith(f'The vectors of index "films" are missing: {folder / VECTORS_FOLDER / file} ')
        else:
            assert message.startswith(f'The vectors of index "films" are cut short: {folder / VECTORS_FOLDER / file} '
                                      f"holds {held} rows where {recorded} are recorded. Restore the folder")
    engine.delete_index("films")
    assert sorted(i.name for i in engine.list_indexes()) == ["books", "music"]
    assert engine.index_info("books").vector_count == ROWS + 1


@pytest.mark.parametrize("name, row_bytes", [("1.0.f32", 16), ("1.0.norms", 8)])
def test_a_vector_file_cut_short_as_another_engine_writes_it_leaves_the_other_indexes_usable(folder, name,
                                                                                             row_bytes):
    with LocalEngine(folder, limits=TINY) as reader, LocalEngine(folder, limits=TINY) as writer:
        for index in ("films", "books"):
            reader.query(index, [1, 0, 0, 0], QueryOptions(top_k=3))
        writer.upsert("films", vectors([f"w{i}" for i in range(10)], np.ones((10, 4))))
        os.truncate(folder / VECTORS_FOLDER / name, 7 * row_bytes)
        writer.upsert("books", vectors(["x"], np.ones((1, 4))))  # the reader catches up on both indexes
        reader.delete_by_ids("books", ["x"])
        assert reader.index_info("films").vector_count == ROWS + 10  # counted by the database
        assert_only_films_is_damaged(reader, folder, name, 7, ROWS + 10)


@pytest.mark.parametrize("name, row_bytes", [("1.0.f32", 16), ("1.0.norms", 8), ("1.0.f32", None)])
def test_a_queued_write_to_an_index_whose_vector_file_is_damaged_waits_and_the_others_work(folder, name, row_bytes):
    now = [1e9]
    with LocalEngine(folder, limits=TINY, apply_delay=60, clock=lambda: now[0]) as engine:
        engine.upsert("films", vectors([f"w{i}" for i in range(10)], np.ones((10, 4))))
    path = folder / VECTORS_FOLDER / name
    path.unlink() if row_bytes is None else os.truncate(path, 7 * row_bytes)
    now[0] += 120  # the write to "films" is due
    with LocalEngine(folder, limits=TINY, clock=lambda: now[0]) as engine:
        with pytest.raises(errors.FolderUnusable, match='^The vectors of index "films" are (cut short|missing): '):
            engine.index_info("films")  # not an info that waits for the write for ever
        assert_only_films_is_damaged(engine, folder, name, None if row_bytes is None else 7, ROWS)


def test_a_database_that_is_a_folder_is_refused_in_one_line_by_connect_and_the_command(tmp_path, capsys):
    """SQLite's bare "unable to open database file" came out of vz.connect, and the command crashed with it."""
    from vectorize_nb.cli import main

    (tmp_path / "store" / DATABASE_NAME).mkdir(parents=True)
    with pytest.raises(errors.FolderUnusable) as caught:
        vz.connect(path=tmp_path / "store")
    message = str(caught.value)
    assert str(tmp_path / "store" / DATABASE_NAME) in message and "is a folder, not a database file" in message
    assert main(["serve", "--path", str(tmp_path / "store"), "--port", "0"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("vectorize-nb serve: ") and "is a folder, not a database file" in line


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may read any file")
def test_a_database_this_user_may_not_read_is_refused_in_one_line(folder):
    """Another user's folder, its database readable by its owner only (mode 600)."""
    database = folder / DATABASE_NAME
    database.chmod(0)
    try:
        with pytest.raises(errors.FolderUnusable) as caught:
            vz.connect(path=folder)
    finally:
        database.chmod(0o644)
    assert str(database) in str(caught.value) and "this user may not read it" in str(caught.value)


def test_another_programs_database_under_the_engines_name_is_refused_and_left_as_it_was(tmp_path, capsys):
    """A vectorize.sqlite3 holding only another program's tables was taken for a folder, and the engine's
    tables were written into it."""
    import sqlite3

    from vectorize_nb.cli import main

    folder = tmp_path / "theirs"
    folder.mkdir()
    with sqlite3.connect(folder / DATABASE_NAME) as con:
        con.execute("CREATE TABLE customers (name TEXT)")
        con.execute("INSERT INTO customers VALUES ('x')")
    con.close()
    before = files(folder)
    with pytest.raises(errors.FolderUnusable) as caught:
        vz.connect(path=folder)
    message = str(caught.value)
    assert str(folder / DATABASE_NAME) in message and "customers" in message and "vectorize-nb" in message
    assert main(["serve", "--path", str(folder), "--port", "0"]) == 2
    assert "customers" in capsys.readouterr().err
    assert files(folder) == before
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / DATABASE_NAME).touch()  # a database of no tables is a new folder
    with vz.connect(path=tmp_path / "empty") as client:
        assert client.list_indexes().empty
