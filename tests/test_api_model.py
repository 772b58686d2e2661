"""The public API (DataFrames in and out), on a folder and through `serve` over HTTP, against a plain
model of the index, under random sequences of frame inserts and upserts (cells of float32 or float64
arrays, or lists; in small batches or one), deletes and reopenings: every export, fetch, id listing
and frame query agrees with the model after every step."""

import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import vectorize_nb as vz

from .helpers import TINY, cosine

IDS = [f"v{i}" for i in range(8)]
D = 3
GROUPS = ["x", "y"]
batches = st.lists(st.sampled_from(IDS), min_size=1, max_size=5, unique=True)


class ApiAgainstModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="api-model-"))
        self.client = self.connect()
        self.index = self.client.create_index("idx", D, "cosine")
        self.index.create_metadata_index("g", "string")
        self.model: dict[str, tuple[np.ndarray, str]] = {}

    @rule(ids=batches, seed=st.integers(0, 2 ** 16), insert=st.booleans(),
          cells=st.sampled_from(["float32", "float64", "lists"]), batch_size=st.sampled_from([None, 2]))
    def write(self, ids, seed, insert, cells, batch_size):
        rng = np.random.default_rng(seed)
        values = rng.integers(1, 9, (len(ids), D)) * rng.choice([-1, 1], (len(ids), D))
        column = [row.tolist() if cells == "lists" else row.astype(cells) for row in values]
        frame = pd.DataFrame({"id": ids, "vec": column, "g": rng.choice(GROUPS, len(ids))})
        write = frame.vectorize.insert if insert else frame.vectorize.upsert
        result = write(self.index, id="id", vector="vec", metadata=["g"], batch_size=batch_size, wait=True,
                       progress=False)
        assert result.ok and result.written == len(ids)
        for vid, row, group in zip(ids, values.astype(np.float32), frame["g"]):
            if not (insert and vid in self.model):
                self.model[vid] = (row, group)

    @rule(ids=batches)
    def delete(self, ids):
        self.index.wait(self.index.delete_by_ids(ids))
        for vid in ids:
            self.model.pop(vid, None)

    def connect(self) -> vz.Client:
        return vz.connect("local", path=self.folder, limits=TINY)

    def close(self) -> None:
        self.client.close()

    @rule()
    def reopen(self):
        self.close()
        self.client = self.connect()
        self.index = self.client.get_index("idx")

    @invariant()
    def every_read_agrees_with_the_model(self):
        exported = self.index.to_frame()
        assert sorted(exported["id"]) == sorted(self.model) == sorted(self.index.list_ids())
        for vid, values, group in zip(exported["id"], exported["values"], exported.get("g", [])):
            assert np.array_equal(values, self.model[vid][0]) and group == self.model[vid][1], vid
        fetched = pd.DataFrame({"id": IDS}).vectorize.fetch(self.index, id="id")
        assert fetched["values"].notna().tolist() == [vid in self.model for vid in IDS]
        self.queries_agree()

    def queries_agree(self):
        query = np.array([1.0, -2.0, 3.0], dtype=np.float32)
        asking = pd.DataFrame({"vec": [query]})
        for group in [None, *GROUPS]:
            wanted = [vid for vid, (_, g) in self.model.items() if group in (None, g)]
            expected = sorted(wanted, key=lambda vid: (-cosine(self.model[vid][0], query), vid))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", vz.errors.VectorizeWarning)  # an empty index says so
                hits = asking.vectorize.query(self.index, vector="vec", top_k=len(IDS),
                                              filter=None if group is None else vz.F("g") == group)
            assert hits["id"].tolist() == expected
            assert hits["score"].tolist() == [cosine(self.model[vid][0], query) for vid in expected]

    def teardown(self):
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class ServedApiAgainstModel(ApiAgainstModel):
    """The same, through the REST client and `vectorize-nb serve` on the folder (reopening restarts it)."""

    def connect(self) -> vz.Client:
        self.server = vz.serve(path=self.folder, limits=TINY)
        return vz.connect(self.server.url, limits=TINY, max_retries=0)

    def close(self) -> None:
        self.client.close()
        self.server.close()


ApiAgainstModel.TestCase.settings = settings(max_examples=30, stateful_step_count=15, derandomize=True,
                                             database=None, deadline=None)
TestApiAgainstModel = ApiAgainstModel.TestCase
ServedApiAgainstModel.TestCase.settings = settings(max_examples=10, stateful_step_count=12, derandomize=True,
                                                   database=None, deadline=None)
TestServedApiAgainstModel = ServedApiAgainstModel.TestCase
