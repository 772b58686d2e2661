"""The picture cache: a repeat is free, a write makes the next picture new, a new kernel reads the disk."""

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.client import Client
from vectorize_nb.local import LocalEngine
from vectorize_nb.viz import cache_info, clear_cache, plot_index, plot_neighbourhood
from vectorize_nb.viz.cache import CACHE, CacheKey
from vectorize_nb.viz.maps import cache_folder

from ..helpers import TINY
from .conftest import fill, role_points, trace


def test_a_repeat_is_served_from_memory(index, fits):
    first = plot_neighbourhood(index, "v001", top_k=5)
    again = plot_neighbourhood(index, [3.0, 3.0], top_k=9, color="genre", filter={"genre": "noir"})
    assert len(fits) == 1 and cache_info()["memory_hits"] == 1
    before, after = placed(first), placed(again)
    assert set(before) == set(after) == set(index.list_ids())
    assert all(before[vid] == after[vid] for vid in before)  # the same picture


def placed(fig):
    """id -> (x, y) over the traces that draw vectors."""
    return {vid: point for name in ("index", "filtered out", "matches")
            for vid, point in role_points(fig, name).items()}


def test_plot_index_and_plot_neighbourhood_share_a_map_of_the_same_points(index, fits):
    plot_index(index)
    plot_neighbourhood(index, "v001")  # 300 vectors: both draw all of them
    assert len(fits) == 1


def test_a_write_makes_the_next_picture_new(index, fits):
    plot_neighbourhood(index, "v001", top_k=3)
    index.upsert(["new"], np.array([[50.0, 50.0]], np.float32))
    fig = plot_neighbourhood(index, [50.0, 50.0], top_k=1)
    assert len(fits) == 2 and trace(fig, "matches").customdata == ("new",)
    index.upsert(["new"], np.array([[50.0, 50.0]], np.float32), metadata=[{"genre": "noir"}])  # metadata only
    fig = plot_neighbourhood(index, "v001", top_k=3, color="genre")
    assert len(fits) == 3 and "noir" in [t.name for t in fig.data if "new" in (t.customdata or ())]


def test_the_same_points_written_again_are_the_same_picture(index, data, fits):
    """A notebook run from the top creates its metadata indexes and upserts the same vectors again: new
    mutations, the same points. The map was computed afresh each time (8.6-9.3 s of UMAP)."""
    before = plot_neighbourhood(index, "v001", top_k=5, color="genre")
    fill(index, data)
    after = plot_neighbourhood(index, "v001", top_k=5, color="genre")
    assert len(fits) == 1 and cache_info()["memory_hits"] == 1
    assert role_points(after, "index") == role_points(before, "index")
    plot_neighbourhood(index, "v001", top_k=5)  # the new state now stands for the same picture
    assert len(fits) == 1 and cache_info()["memory_hits"] == 2


def test_other_parameters_are_other_pictures(index, fits):
    for options in ({}, {"background": 100}, {"seed": 3}, {"n_components": 3}, {"method": "pca"}):
        plot_neighbourhood(index, "v001", top_k=3, **options)
    assert len(fits) == 5 - 1  # method="pca" is what "auto" chose for 300 vectors


def test_a_new_engine_on_the_same_folder_reads_the_disk(disk_index, store, fits):
    before = plot_neighbourhood(disk_index, "v007", top_k=5, color="genre")
    clear_cache()  # as in a restarted kernel, which opens a new engine on the folder
    with vz.connect("local", path=store, limits=TINY) as client:
        after = plot_neighbourhood(client.get_index("points"), "v007", top_k=5, color="genre")
    assert len(fits) == 1 and cache_info()["disk_hits"] == 1
    for name in ("index", "matches", "query"):
        assert role_points(after, name) == role_points(before, name)
    assert [(t.name, t.marker.color) for t in after.data] == [(t.name, t.marker.color) for t in before.data]


def test_a_new_kernel_finds_the_picture_of_the_same_points_written_again(disk_index, store, data, fits):
    """Notebook 03 promised a map "instant, even after a restart"; its first cell writes the same points again."""
    before = plot_index(disk_index, color="genre")
    clear_cache()
    with vz.connect("local", path=store, limits=TINY) as client:
        index = client.get_index("points")
        fill(index, data)
        after = plot_index(index, color="genre")
        assert len(fits) == 1 and cache_info()["disk_hits"] == 1
        assert role_points(after, "index") == role_points(before, "index")
        index.upsert(["v000"], np.array([[3.0, 4.0]], np.float32))  # the same ids, one vector moved
        moved = plot_index(index, color="genre")
    assert len(fits) == 2 and role_points(moved, "index")["v000"] != role_points(before, "index")["v000"]
    assert len(list((cache_folder(disk_index) / "points").glob("*.json"))) == 1  # the stale entry overwritten


def test_on_disk_an_entry_is_arrays_without_pickles_and_json(disk_index, store):
    plot_neighbourhood(disk_index, "v001")
    files = sorted(p.name for p in (cache_folder(disk_index) / "points").iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".npz")
    meta = json.loads((cache_folder(disk_index) / "points" / files[0]).read_text(encoding="utf-8"))
    assert meta["key"][1] == "points" and len(meta["key"][4]) == 32  # the content's digest
    assert len(meta["value"]["table"]["id"]) == 300
    with np.load(cache_folder(disk_index) / "points" / files[1], allow_pickle=False) as arrays:
        assert arrays["coords"].shape == (300, 2) and arrays["coords"].dtype == np.float32


@pytest.mark.skipif(os.name != "posix", reason="modes and the umask are POSIX's")
def test_entries_on_disk_take_the_modes_the_umask_gives_as_the_folders_other_files_do(disk_index, store):
    """They were 0600 whatever the umask (tempfile.mkstemp): another user of a shared folder could not read them."""
    old = os.umask(0o022)
    try:
        plot_neighbourhood(disk_index, "v001")
    finally:
        os.umask(old)
    entries = list((cache_folder(disk_index) / "points").iterdir())
    assert len(entries) == 2 and {stat.S_IMODE(p.stat().st_mode) for p in entries} == {0o644}


def test_a_write_removes_the_stale_entries_from_disk(disk_index, store, fits):
    plot_neighbourhood(disk_index, "v001")
    disk_index.delete_by_ids(["v002"])
    plot_neighbourhood(disk_index, "v001")
    entries = list((cache_folder(disk_index) / "points").glob("*.json"))
    assert len(entries) == 1
    assert "v002" not in json.loads(entries[0].read_text(encoding="utf-8"))["value"]["table"]["id"]
    assert len(fits) == 2


def test_a_damaged_entry_is_a_miss(disk_index, store, fits):
    plot_neighbourhood(disk_index, "v001")
    for npz in (cache_folder(disk_index) / "points").glob("*.npz"):
        npz.write_bytes(b"not a zip file")
    clear_cache()
    plot_neighbourhood(disk_index, "v001")
    assert len(fits) == 2 and cache_info()["misses"] == 1


def test_in_memory_and_over_rest_nothing_is_written(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plot_neighbourhood(index, "v001")
    assert cache_info()["disk_writes"] == 0 and not list(tmp_path.iterdir())


def test_the_memory_holds_a_few_pictures_least_recently_used_out():
    for n in range(CACHE.capacity + 2):
        CACHE.put(CacheKey("i", "s", (n,)), n)
    assert CACHE.get(CacheKey("i", "s", (0,))) is None and CACHE.get(CacheKey("i", "s", (9,))) == 9


def test_a_frame_projection_is_kept_by_content(index, fits):
    frame = index.to_frame()
    plot_index(frame, color="genre")
    plot_index(frame.assign(rating=1.5), color="rating")  # other columns: the same projection, new colours
    assert len(fits) == 1
    changed = frame.copy()
    changed.at[0, "values"] = np.array([99.0, 99.0], np.float32)
    plot_index(changed)
    assert len(fits) == 2


@pytest.mark.parametrize("scope", ["points", "we/ird name"])
def test_keys_name_safe_files(scope):
    stem = CacheKey(scope, "1b4e28ba-2fa1-11d2-883f-0016d3cca427", (None, 42, "pca")).stem()
    assert stem.replace("-", "").isalnum() and len(stem) == 33


def test_a_write_not_yet_applied_keeps_the_picture_the_index_still_answers_with(tmp_path, data, fits):
    now = [1_800_000_000.0]
    with Client(LocalEngine(tmp_path / "lag", limits=TINY, apply_delay=5.0, clock=lambda: now[0]), "lag") as client:
        index = client.create_index("points", 2, "euclidean")
        fill(index, data)
        now[0] += 5
        before = plot_neighbourhood(index, [50.0, 50.0], top_k=1)
        index.upsert(["far"], np.array([[50.0, 50.0]], np.float32))
        with pytest.warns(vz.errors.VectorizeWarning, match="last upsert or insert to index 'points' is not applied"):
            pending = plot_neighbourhood(index, [50.0, 50.0], top_k=1)
        assert len(fits) == 1 and trace(pending, "matches").customdata == trace(before, "matches").customdata
        now[0] += 5  # now Vectorize has applied it: the next picture is new and shows it
        after = plot_neighbourhood(index, [50.0, 50.0], top_k=1)
        assert len(fits) == 2 and trace(after, "matches").customdata == ("far",)


def test_deleting_an_index_deletes_its_maps_and_a_new_one_of_that_name_starts_afresh(disk_index, store, data, fits):
    legacy = store / "projections" / "points"  # where earlier versions kept every index's maps
    legacy.mkdir(parents=True)
    (legacy / "old.json").write_text("{}", encoding="utf-8")
    plot_index(disk_index, color="genre")
    maps = cache_folder(disk_index)
    assert list(maps.rglob("*.json")) and not (store / "projections").exists()
    with vz.connect("local", path=store, limits=TINY) as client:
        client.delete_index("points")
        assert not maps.exists()  # ids and metadata in them go with the index
        again = client.create_index("points", 2, "euclidean")
        fill(again, data)
        assert cache_folder(again) != maps


@pytest.mark.parametrize("name", ["con", "nul", "aux", "com1", "lpt9"])
def test_an_index_named_like_a_windows_device_keeps_its_maps_in_a_folder_windows_can_make(store, data, fits, name):
    """Windows makes no file or folder named con, nul, aux, com1, ...: the maps of such an index were never kept."""
    with vz.connect("local", path=store, limits=TINY) as client:
        index = client.create_index(name, 2, "euclidean")
        fill(index, data)
        plot_index(index)
        folders = [path.name for path in cache_folder(index).iterdir()]
    assert len(folders) == 1 and folders[0].startswith(f"{name}-") and folders[0].split(".")[0] != name


def test_a_map_read_from_disk_draws_the_figure_first_computed(store, data):
    """The table went through JSON and came back float64 (Int64, UInt64 with a missing value) or object
    (boolean): 2**63 + 5 and 2**63 + 1001 shared a colour, and a sample's points matched no category of the
    whole column, all "other (0 more)"."""
    n = len(data)
    big = [[2**63 + 5, 2**63 + 1001, 2**64 - 1][i % 3] if i % 7 else None for i in range(n)]
    tweet = [1234567890123456789 + i % 2 if i % 5 else None for i in range(n)]
    data = data.assign(big=pd.array(big, dtype="UInt64"), tweet=pd.array(tweet, dtype="Int64"),
                       seen=pd.array([bool(i % 2) if i % 6 else None for i in range(n)], dtype="boolean"))
    with vz.connect("local", path=store, limits=TINY) as client:
        index = client.create_index("points", 2, "euclidean")
        data.vectorize.upsert(index, id="id", vector="values", metadata=["genre", "big", "tweet", "seen"])
        views = [lambda: plot_index(index, color="big", hover="all"),
                 lambda: plot_index(index, color="tweet"),
                 lambda: plot_neighbourhood(index, "v001", top_k=5, background=50, color="big", hover="all")]
        first = [json.loads(view().to_json()) for view in views]
        clear_cache()  # as in a new kernel
        again = [json.loads(view().to_json()) for view in views]
    assert cache_info()["disk_hits"] == 2  # the whole index's map and the sample's
    assert again == first
    assert [t["name"] for t in first[0]["data"][:4]] == ["(none)", "9223372036854775813", "9223372036854776809",
                                                       "18446744073709551615"]


def test_an_entry_of_an_earlier_version_without_dtypes_is_a_miss(disk_index, store, fits):
    plot_index(disk_index)
    entry = next((cache_folder(disk_index) / "points").glob("*.json"))
    meta = json.loads(entry.read_text(encoding="utf-8"))
    del meta["value"]["dtypes"]
    entry.write_text(json.dumps(meta), encoding="utf-8")
    clear_cache()
    plot_index(disk_index)
    assert len(fits) == 2 and cache_info()["disk_hits"] == 0
