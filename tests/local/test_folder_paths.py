"""The engine's folder as named: taken as an absolute path once, when the client opens it, so that a later
`os.chdir` (a notebook's `%cd`) does not move it; with `~` read as the user's home, as pandas reads file paths."""

import re
import shutil

import pytest

import vectorize_nb as vz
from vectorize_nb.local.server import serve

from ..helpers import TINY


def folder_with(base, name: str) -> None:
    """`base`/data holding index `name` (id 1 in its folder), written by a client that is closed again."""
    base.mkdir(exist_ok=True)
    with vz.connect(path=base / "data", limits=TINY) as client:
        client.create_index(name, 2).upsert([{"id": "x", "values": [1, 0]}], wait=True)


def files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def opened_in_a(tmp_path, monkeypatch):
    """A client opened on the relative folder "data" in a/, then the working folder moved to b/ (with its own)."""
    folder_with(tmp_path / "a", "in-a")
    folder_with(tmp_path / "b", "in-b")
    monkeypatch.chdir(tmp_path / "a")
    client = vz.connect(path="data", limits=TINY)
    monkeypatch.chdir(tmp_path / "b")
    yield client
    client.close()


def test_delete_index_after_a_chdir_deletes_the_clients_own_vectors_only(tmp_path, opened_in_a):
    kept = files(tmp_path / "b" / "data")
    opened_in_a.delete_index("in-a")
    assert files(tmp_path / "b" / "data") == kept
    with vz.connect(path=tmp_path / "b" / "data", limits=TINY) as b:
        assert b.get_index("in-b").query([1, 0])["id"].tolist() == ["x"]


def test_an_index_made_after_a_chdir_keeps_its_vectors_in_the_clients_folder(tmp_path, opened_in_a):
    kept = files(tmp_path / "b" / "data")
    opened_in_a.create_index("new", 2).upsert([{"id": "y", "values": [0, 1]}], wait=True)
    opened_in_a.close()
    assert files(tmp_path / "b" / "data") == kept
    with vz.connect(path=tmp_path / "a" / "data", limits=TINY) as a:
        assert a.get_index("new").query([0, 1])["id"].tolist() == ["y"]


@pytest.mark.embeds
def test_the_embedding_cache_opened_after_a_chdir_is_the_clients_folders(tmp_path, opened_in_a):
    opened_in_a.embed(["hello world"], vz.SHIPPED_MODEL)
    assert (tmp_path / "a" / "data" / "embeddings" / "embeddings.sqlite3").is_file()
    assert not (tmp_path / "b" / "data" / "embeddings").exists()


def test_the_target_names_the_folder_the_client_opened(tmp_path, opened_in_a):
    assert opened_in_a.target == f"local:{tmp_path / 'a' / 'data'}"
    assert opened_in_a.backend.folder == tmp_path / "a" / "data"


def test_serving_the_same_folder_again_from_another_working_folder_closes_the_earlier_server(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    first = serve(path="data")
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.warns(vz.errors.VectorizeWarning, match="closed the server this process started earlier"):
        second = serve(path="../data")
    with second:
        assert first.engine._closed and second.engine.folder == tmp_path / "sub" / ".." / "data"
    assert not (tmp_path / "sub" / "data").exists()


def test_a_database_that_is_a_link_to_another_folders_is_refused_naming_both(tmp_path):
    """SQLite followed the link, the engine kept the vectors beside it: an index made there had its row in one folder
    and its vectors in the other."""
    folder_with(tmp_path / "real", "docs")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "vectorize.sqlite3").symlink_to(tmp_path / "real" / "data" / "vectorize.sqlite3")
    with pytest.raises(vz.errors.FolderUnusable) as refused:
        vz.connect(path=tmp_path / "other")
    message = str(refused.value)
    assert str(tmp_path / "other" / "vectorize.sqlite3") in message
    assert f"vz.connect(path={str(tmp_path / 'real' / 'data')!r})" in message
    assert files(tmp_path / "other") == ["vectorize.sqlite3"]
    with vz.connect(path=tmp_path / "real" / "data", limits=TINY) as real:
        assert real.list_indexes()["name"].tolist() == ["docs"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """The user's home in tmp_path/home, the working folder in tmp_path/work."""
    for name in ("home", "work"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VECTORIZE_NB_PATH", raising=False)
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path / "home"


def test_a_leading_tilde_is_the_users_home_in_path_and_the_environment(home, tmp_path, monkeypatch):
    """A folder named "~" was made in the working folder, even by following connect("~/data")'s own hint."""
    with vz.connect(path="~/named", limits=TINY) as named:
        assert named.target == f"local:{home / 'named'}"
    monkeypatch.setenv("VECTORIZE_NB_PATH", "~/from-env")
    with vz.connect(limits=TINY) as from_env:
        assert from_env.backend.folder == home / "from-env"
    with serve(path="~/served") as served:
        assert served.engine.folder == home / "served"
    assert sorted(p.name for p in home.iterdir()) == ["from-env", "named", "served"]
    assert list((tmp_path / "work").iterdir()) == []


def long_folder(base, length: int):
    """A folder under `base` whose database's path is `length` bytes long (names of 100 bytes at most)."""
    folder, left = base, length - len(str(base / "vectorize.sqlite3"))
    while left > 0:
        name = "x" * min(100, left - 1) if left != 102 else "x" * 50  # no name of 0 bytes left for the last
        folder, left = folder / name, left - len(name) - 1
    return folder


def test_a_folder_whose_database_path_is_past_sqlites_limit_is_refused_before_any_folder_is_made(tmp_path):
    """SQLite opens paths of up to 512 bytes, less 8 for a "-journal" suffix: a longer one was "unable to open
    database file ... Nothing was written there", after the folders were made."""
    with vz.connect(path=long_folder(tmp_path / "f", 504), limits=TINY) as client:
        client.create_index("docs", 2)
    past = long_folder(tmp_path / "p", 505)
    with pytest.raises(vz.errors.FolderUnusable) as refused:
        vz.connect(path=past)
    assert f"{past / 'vectorize.sqlite3'} is 505 bytes long, past the 504 bytes SQLite opens" in str(refused.value)
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("how", ["moved", "deleted"])
def test_a_folder_moved_or_deleted_under_an_open_client_is_said_to_be_gone(tmp_path, how):
    """create_index raised a bare FileNotFoundError (its vectors folder could not be made), and an upsert after
    `rm -r` said the index's vectors were missing, to be restored from a copy."""
    client = vz.connect(path=tmp_path / "data", limits=TINY)
    docs = client.create_index("docs", 2)
    docs.upsert([{"id": "x", "values": [1, 0]}], wait=True)
    if how == "moved":
        shutil.move(tmp_path / "data", tmp_path / "elsewhere")
    else:
        shutil.rmtree(tmp_path / "data")
    said = f"The folder {re.escape(repr(str(tmp_path / 'data')))} is gone: it was moved or deleted while this client"
    with pytest.raises(vz.errors.FolderUnusable, match=said):
        client.create_index("more", 2)
    if how == "deleted":  # moved, the open files take the write
        with pytest.raises(vz.WriteIncomplete, match=f"first failure: {said}"):
            docs.upsert([{"id": "y", "values": [0, 1]}], wait=True)
    client.close()
