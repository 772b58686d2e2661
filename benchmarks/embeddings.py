"""Text embedding through the package against its parts, and the embedding cache's second run.

    python benchmarks/embeddings.py               # 100k short texts (sentences of standard-library docstrings)
    python benchmarks/embeddings.py --texts 20000 --repeat 3

Goals (issue 14), as ratios of medians measured in this process, the sides interleaved run by run:
    client.embed with the shipped model (no cache)  <= 1.2 x  wordllama's own embed(norm=True) on the same texts
    df.vectorize.upsert(text=...) into the engine   <= 1.3 x  client.embed of the column + the engine's own
                                                              upsert of the resulting matrix
    the same job again, served by the cache         >= 20 x   faster than the first run (embedding + storing)
The cache is also timed on the same texts in another order (no whole-job hash: every text looked up).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import vectorize_nb as vz
from vectorize_nb.contract.embedding_models import SHIPPED_MODEL
from vectorize_nb.contract.models import Vectors
from vectorize_nb.datasets import STDLIB_MODULES
from vectorize_nb.embedder import Embedder
from vectorize_nb.embeddings import embed_locally
from vectorize_nb.embeddings.cache import EmbeddingCache, Keep


def sentences(count: int) -> list[str]:
    """`count` distinct short texts: sentences of docstrings in the standard library's sources, then the
    same sentences numbered until there are enough."""
    found: dict[str, None] = {}
    for module in STDLIB_MODULES:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                for sentence in re.split(r"(?<=[.!?])\s+", " ".join((ast.get_docstring(node) or "").split())):
                    if 20 <= len(sentence) <= 160:
                        found[sentence] = None
    base = list(found)
    return [base[i % len(base)] + (f" ({i // len(base)})" if i >= len(base) else "") for i in range(count)]


def interleaved(sides: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each side, the sides run one after the other, `repeat` rounds."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeat):
        for name, run in sides.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def shipped_against_wordllama(texts: list[str], repeat: int) -> None:
    from vectorize_nb.contract.embedding_models import get_model
    from vectorize_nb.embeddings import loader

    model = loader.load(get_model(SHIPPED_MODEL))
    direct = model.inference  # type: ignore[attr-defined]  # wordllama's own WordLlamaInference
    with vz.connect("memory") as client:
        ours, theirs = client.embed(texts, SHIPPED_MODEL, cache=False), direct.embed(texts, norm=True)
        assert np.allclose(ours, theirs, atol=1e-6), "not the same vectors"
        medians = interleaved({"client.embed": lambda: client.embed(texts, SHIPPED_MODEL, cache=False),
                               "wordllama": lambda: direct.embed(texts, norm=True)}, repeat)
    ratio = medians["client.embed"] / medians["wordllama"]
    print(f"client.embed {medians['client.embed']:.3f} s, wordllama.embed {medians['wordllama']:.3f} s "
          f"({len(texts) / medians['wordllama']:,.0f} texts/s): {ratio:.2f} x  (goal <= 1.2 x)")


def upsert_text_against_parts(texts: list[str], repeat: int) -> None:
    """The accessor's text path against embedding the column and the engine's own upsert, each on a fresh
    in-memory engine with a fresh cache folder (so both pay for embedding and storing the vectors)."""
    frame = pd.DataFrame({"id": [f"t{i}" for i in range(len(texts))], "body": texts})
    ids = frame["id"].tolist()

    def fresh(run: Callable[[vz.Client, vz.Index], object]) -> Callable[[], object]:
        def measured() -> None:
            with tempfile.TemporaryDirectory() as folder, vz.connect("memory") as client:
                client.embedder = Embedder(client.backend, Path(folder))
                run(client, client.create_index("texts", 256))
        return measured

    def accessor(client: vz.Client, index: vz.Index) -> None:
        frame.vectorize.upsert(index, id="id", text="body", model=SHIPPED_MODEL, progress=False)

    def parts(client: vz.Client, index: vz.Index) -> None:
        matrix = client.embed(texts, SHIPPED_MODEL)
        for start in range(0, len(ids), 5000):
            client.backend.upsert("texts", Vectors(ids[start:start + 5000], matrix[start:start + 5000]))

    medians = interleaved({"accessor": fresh(accessor), "parts": fresh(parts)}, repeat)
    print(f"df.vectorize.upsert(text=...) {medians['accessor']:.3f} s, client.embed + engine upsert "
          f"{medians['parts']:.3f} s: {medians['accessor'] / medians['parts']:.2f} x  (goal <= 1.3 x)")


def cache_second_run(texts: list[str], repeat: int) -> None:
    def compute(missing: list[str], keep: Keep) -> np.ndarray:
        return embed_locally(missing, SHIPPED_MODEL)

    shuffled = list(np.random.default_rng(0).permutation(texts))
    first, second, by_text = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder, EmbeddingCache(folder) as cache:
            for times, job in ((first, texts), (second, texts), (by_text, shuffled)):
                start = time.perf_counter()
                result = cache.embed(job, SHIPPED_MODEL, "mean", compute)
                times.append(time.perf_counter() - start)
            assert result.hits == len(texts), "the cache missed"
            size = cache.path.stat().st_size
    a, b, c = (statistics.median(t) for t in (first, second, by_text))
    print(f"cache: first run {a:.3f} s (embedding + storing), the same job again {b:.3f} s: "
          f"{a / b:.1f} x faster  (goal >= 20 x)")
    print(f"cache: the same texts in another order (each text looked up) {c:.3f} s: {a / c:.1f} x faster; "
          f"file {size / 1e6:.0f} MB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    texts = sentences(args.texts)
    mean = np.mean([len(t) for t in texts])
    print(f"{len(texts):,} texts, mean {mean:.0f} characters; Python {sys.version.split()[0]}")
    shipped_against_wordllama(texts, args.repeat)
    upsert_text_against_parts(texts, args.repeat)
    cache_second_run(texts, args.repeat)


if __name__ == "__main__":
    main()
