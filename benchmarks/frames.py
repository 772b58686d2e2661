"""df.vectorize against the engine's own calls on the same data, measured side by side.

    python benchmarks/frames.py

Goals (issue 4), all ratios measured in this run:
    upsert a 100k-row frame (d=384, one vector column, 3 metadata columns)   <= 1.5 x  engine upsert of
                                                                                       the float32 array
    query 1,000 rows of a frame against a 100k x 384 index                   <= 1.3 x  engine batch query
                                                             and at least 10 x faster than a loop of queries
The vector column is measured twice: cells that are float32 arrays (what embedding models return),
and cells that are Python lists (the slowest common form: reading their 38M Python floats into a
new matrix takes ~0.093 s with the compiled reader on two cores, ~0.36 s with struct, the fastest
pure-Python way; the first line printed says which one this install has). Both the in-memory
engine and the durable store on disk (the default target) are measured.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

import numpy as np
from timing import median_time
import pandas as pd

import vectorize_nb as vz
from vectorize_nb import packing
from vectorize_nb.contract.models import QueryOptions, Vectors

D = 384
GENRES = [f"genre-{i}" for i in range(10)]


def frame(n: int, lists: bool) -> tuple[pd.DataFrame, np.ndarray, list[str], list[dict]]:
    rng = np.random.default_rng(4)
    matrix = rng.standard_normal((n, D), dtype=np.float32)
    ids = [f"doc-{i}" for i in range(n)]
    genre = rng.integers(0, 10, n)
    metadata = [{"genre": GENRES[g], "year": 1950 + i % 70, "score": float(i % 100) / 10}
                for i, g in enumerate(genre)]
    cells = [row.tolist() for row in matrix] if lists else list(matrix)
    df = pd.DataFrame({"doc_id": ids, "embedding": cells, "genre": [GENRES[g] for g in genre],
                       "year": [1950 + i % 70 for i in range(n)], "score": [float(i % 100) / 10 for i in range(n)]})
    return df, matrix, ids, metadata


def upsert_ratio(n: int, lists: bool, repeat: int, folder: str | None) -> tuple[float, float, float]:
    df, matrix, ids, metadata = frame(n, lists)
    with vz.connect("memory" if folder is None else "local", path=folder) as client:
        a = client.create_index(f"engine-side-{'lists' if lists else 'arrays'}", dimensions=D)
        b = client.create_index(f"frame-side-{'lists' if lists else 'arrays'}", dimensions=D)
        engine = client.backend

        def engine_upsert():
            for start in range(0, n, 5000):
                engine.upsert(a.name, Vectors(ids[start:start + 5000], matrix[start:start + 5000],
                                                     metadata[start:start + 5000]))

        def frame_upsert():
            df.vectorize.upsert(b, id="doc_id", vector="embedding", metadata=["genre", "year", "score"],
                                progress=False)

        base, ours = [], []
        for _ in range(repeat):
            base.append(median_time(engine_upsert, 1))
            ours.append(median_time(frame_upsert, 1))
        assert a.info().vector_count == b.info().vector_count == n
    return statistics.median(ours) / statistics.median(base), statistics.median(base), statistics.median(ours)


def query_ratios(n: int, rows: int, repeat: int) -> dict[str, float]:
    df, matrix, ids, metadata = frame(n, lists=False)
    with vz.connect("memory") as client:
        index = client.create_index("queries", dimensions=D)
        index.upsert(ids, matrix, metadata=metadata, progress=False)
        queries = df.sample(rows, random_state=1)
        qmatrix = np.asarray(queries["embedding"].tolist(), dtype=np.float32)
        options = QueryOptions(top_k=5)
        client.backend.query_many("queries", qmatrix[:2], options)  # load the table
        batch = median_time(lambda: client.backend.query_many("queries", qmatrix, options), repeat)
        accessor = median_time(lambda: queries.vectorize.query(index, vector="embedding", top_k=5), repeat)
        sample = qmatrix[:100]
        loop = median_time(lambda: [index.query(row, top_k=5) for row in sample], 1) * rows / len(sample)
    return {"frame query / engine batch query": accessor / batch,
            "loop of single queries / frame query": loop / accessor,
            "engine batch ms": batch * 1e3, "frame query ms": accessor * 1e3, "loop (extrapolated) ms": loop * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("list cells are read by the " + ("compiled reader" if packing.COMPILED else
                                            "pure-Python reader (no C compiler at install)"))
    with tempfile.TemporaryDirectory(prefix="vectorize-bench-") as folder:
        for target, where in ((None, "in memory"), (folder, "in a durable store on disk (the default)")):
            print(f"upsert {args.rows:,} rows x d={D}, 3 metadata columns, {where}")
            for lists in (False, True):
                ratio, base, ours = upsert_ratio(args.rows, lists, args.repeat, target)
                kind = "Python lists " if lists else "float32 arrays"
                print(f"  vector cells are {kind}: frame upsert / engine upsert {ratio:6.3f}   "
                      f"({ours:.2f} s vs {base:.2f} s)")
    print(f"query 1,000 frame rows against {args.rows:,} x {D}, top_k=5")
    for name, value in query_ratios(args.rows, 1000, args.repeat).items():
        print(f"  {name:<40} {value:9.3f}")


if __name__ == "__main__":
    main()
