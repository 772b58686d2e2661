"""The durable engine against a plain model of an index (a dict of id -> vector, metadata, namespace)
under random sequences of inserts, upserts, deletes, compactions, reopenings and a second engine on
the same folder: every read agrees with the model after every step."""

import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from vectorize_nb.contract.models import QueryOptions
from vectorize_nb.local import LocalEngine, store as store_module

from ..helpers import TINY, cosine, vectors

IDS = [f"v{i}" for i in range(10)]
D = 4
GROUPS = ["x", "y"]
batches = st.lists(st.sampled_from(IDS), min_size=1, max_size=6, unique=True)


class EngineAgainstModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.min_holes, store_module.MIN_HOLES = store_module.MIN_HOLES, 2  # compact early and often
        self.folder = Path(tempfile.mkdtemp(prefix="engine-model-"))
        self.engines = [LocalEngine(self.folder, limits=TINY)]
        self.engines[0].create_index("idx", dimensions=D, metric="cosine")
        self.engines[0].create_metadata_index("idx", "g", "string")
        self.model: dict[str, tuple[np.ndarray, str, str | None]] = {}

    @rule(ids=batches, seed=st.integers(0, 2 ** 16), insert=st.booleans(), namespace=st.sampled_from([None, "n"]),
          through=st.integers(0, 1))
    def write(self, ids, seed, insert, namespace, through):
        rng = np.random.default_rng(seed)
        values = (rng.integers(1, 9, (len(ids), D)) * rng.choice([-1, 1], (len(ids), D))).astype(np.float32)
        groups = rng.choice(GROUPS, len(ids)).tolist()
        batch = vectors(ids, values, [{"g": g} for g in groups], [namespace] * len(ids))
        engine = self.engines[through % len(self.engines)]
        (engine.insert if insert else engine.upsert)("idx", batch)
        for vid, row, group in zip(ids, values, groups):
            if not (insert and vid in self.model):
                self.model[vid] = (row, group, namespace)

    @rule(ids=batches, through=st.integers(0, 1))
    def delete(self, ids, through):
        self.engines[through % len(self.engines)].delete_by_ids("idx", ids)
        for vid in ids:
            self.model.pop(vid, None)

    @rule()
    def reopen(self):
        for engine in self.engines:
            engine.close()
        self.engines = [LocalEngine(self.folder, limits=TINY)]

    @precondition(lambda self: len(self.engines) == 1)
    @rule()
    def open_a_second_engine_on_the_folder(self):
        self.engines.append(LocalEngine(self.folder, limits=TINY))

    @invariant()
    def every_read_agrees_with_the_model(self):
        for engine in self.engines:
            stored = {record.id: record for record in engine.get_by_ids("idx", IDS)}
            assert sorted(stored) == sorted(self.model)
            for vid, (row, group, namespace) in self.model.items():
                assert np.array_equal(stored[vid].values, row), vid
                assert (stored[vid].metadata, stored[vid].namespace) == ({"g": group}, namespace)
            export = engine.export("idx")
            assert sorted(export.ids) == sorted(self.model)
            for position, vid in enumerate(export.ids):
                assert np.array_equal(export.values[position], self.model[vid][0]), vid
                assert export.metadata["g"][position] == self.model[vid][1]
            assert engine.index_info("idx").vector_count == len(self.model)
            self.queries_agree(engine)

    def queries_agree(self, engine):
        query = np.array([1.0, -2.0, 3.0, 0.5], dtype=np.float32)
        for group in [None, *GROUPS]:
            wanted = [vid for vid, (_, g, _) in self.model.items() if group in (None, g)]
            expected = sorted(wanted, key=lambda vid: (-cosine(self.model[vid][0], query), vid))
            found = engine.query("idx", query, QueryOptions(top_k=len(IDS),
                                                           filter=None if group is None else {"g": group}))
            assert [match.id for match in found] == expected
            assert [match.score for match in found] == [cosine(self.model[vid][0], query) for vid in expected]

    def teardown(self):
        for engine in self.engines:
            engine.close()
        store_module.MIN_HOLES = self.min_holes
        shutil.rmtree(self.folder, ignore_errors=True)


EngineAgainstModel.TestCase.settings = settings(max_examples=60, stateful_step_count=20, derandomize=True,
                                                database=None, deadline=None)
TestEngineAgainstModel = EngineAgainstModel.TestCase
