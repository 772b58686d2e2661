"""Text to vectors for a client: which model, where it runs, the cache, batches and progress.

    embedder = Embedder(backend)
    X = embedder.embed(texts, "@cf/baai/bge-small-en-v1.5")      # float32 (n, 384), unit rows

A Workers AI model (`@cf/...`) runs where the backend embeds: on Workers AI for a REST backend, on
this machine (the same open weights) for the embedded engine; `locally=True` runs it here whatever
the backend. A model that only runs here (the shipped one) always does. Every text is checked before
anything runs, and the vectors are cached on disk by model, pooling, text and where they were made,
so a notebook that runs again does not pay for them again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .contract import arguments, errors
from .contract.backend import Backend
from .contract.embedding_models import MODELS, EmbeddingModel, get_model, known_model, resolve_pooling
from .contract.models import UNKNOWN_TIME, IndexDescription
from .embeddings.cache import EmbeddingCache, Keep
from .embeddings.texts import check_texts, for_rows
from .environment import folder_path

__all__ = ["Embedder", "EmbeddingReport", "model_for_index", "PROGRESS_MIN_REQUESTS", "CACHE_FOLDER"]

PROGRESS_MIN_REQUESTS = 4
"""Jobs of at least this many Workers AI requests, or parts of `LOCAL_PART` texts embedded here, show a
progress bar unless told otherwise."""
CACHE_FOLDER = "embeddings"
"""The cache's folder inside the embedded engine's folder (elsewhere: the user's cache folder)."""
LOCAL_PART = 512
"""Texts embedded here are cached this many at a time, so that a job stopped part-way keeps the rest."""
Run = Callable[[list[str], Keep], np.ndarray]


def _nowhere(start: int, vectors: np.ndarray) -> None:
    """The `keep` of a job that is not cached."""


@dataclass(frozen=True, slots=True)
class EmbeddingReport:
    """What the last `embed` call did: the model and pooling, where the vectors were made ("local",
    "workers-ai", or "served": the Workers AI route of a server not Cloudflare's, such as `vectorize-nb serve`),
    how many texts it had and how many the cache answered, and how long it took."""

    model: str
    pooling: str
    runs: str
    texts: int
    cached: int
    seconds: float

    def __str__(self) -> str:
        return (f"{self.texts:,} texts with {self.model} ({self.pooling} pooling, {self.runs}): {self.cached:,} from "
                f"the cache, {self.texts - self.cached:,} embedded, in {self.seconds:.2f} s")


def model_for_index(model: str | None, index: IndexDescription,
                    mismatch: type[errors.InvalidRequest] = errors.VectorDimensionMismatch) -> EmbeddingModel:
    """The model that makes vectors for `index`: `model`, or the model the index was created from (its
    preset); refused before anything is embedded when its dimensions are not the index's."""
    if model is None:
        if index.config.preset is None:
            raise errors.UnknownModel(
                f"index {index.name!r} was not created from an embedding model's preset, so its model is not "
                "known: pass model=")
        model = index.config.preset
        if not known_model(model):  # a preset of Vectorize's for another provider's model (OpenAI, Cohere)
            raise errors.UnknownModel(
                f"index {index.name!r} was created from the preset {model!r}, a model this package cannot embed "
                f"with: its vectors come from that provider, and so must its queries' (another model's vectors "
                f"do not compare with them). Embed the texts there and pass its {index.dimensions}-dimension "
                "vectors")
    spec = get_model(model)
    if spec.dimensions != index.dimensions:
        raise mismatch(f"model {spec.model!r} makes {spec.dimensions}-dimension vectors, but index {index.name!r} "
                       f"holds {index.dimensions}-dimension vectors; pick a model of {index.dimensions} dimensions "
                       "(vz.embedding_models()) or an index made for this one")
    return spec


class Embedder:
    """Embeds texts for one client (see the module's docstring).

    Parameters
    ----------
    backend : Backend
        The client's backend: its `embed` runs Workers AI models (on Workers AI over REST).
    cache_folder : path, optional
        Where the cache file lives; by default beside the embedded engine's files, else in the user's
        cache folder ($XDG_CACHE_HOME/vectorize-nb).
    target : str, optional
        The client's target (`Client.target`): where it keeps data, the cache file also records which model
        embedded each index's texts, so that a later client on this machine knows it.
    """

    def __init__(self, backend: Backend, cache_folder: str | Path | None = None, target: str | None = None) -> None:
        self.backend = backend
        folder = backend.folder / CACHE_FOLDER if cache_folder is None and backend.folder is not None else cache_folder
        self._folder = None if folder is None else folder_path(folder)
        self._cache: EmbeddingCache | None = None
        self._closed = False
        self._lock = threading.Lock()
        self.report: EmbeddingReport | None = None
        """What the last call did (texts, cache hits, where it ran)."""
        self._target = None if target == "memory" else "engine" if backend.folder is not None else target
        """The target's name in the cache's record of how indexes' texts were embedded ("engine" for the embedded
        engine, whose cache lives in its folder); None where nothing outlives the process."""
        self._written: dict[str, tuple[str, str]] = {}
        """The model and pooling of the texts written to each index (`_index_key`)."""

    def __repr__(self) -> str:
        return f"Embedder(cache={'default' if self._folder is None else str(self._folder)!r})"

    @property
    def cache(self) -> EmbeddingCache:
        """The on-disk cache (opened on first use; ClientClosed once the client is closed)."""
        with self._lock:
            if self._closed:
                raise errors.ClientClosed()
            if self._cache is None:
                self._cache = EmbeddingCache(self._folder)
            return self._cache

    def close(self) -> None:
        """Close the cache file for good: an `embed` under way finishes without it, a later one raises ClientClosed
        (from any thread)."""
        with self._lock:
            self._closed, cache = True, self._cache
        if cache is not None:
            cache.close(for_good=True)

    def wrote(self, index: IndexDescription, model: str, pooling: str | None) -> None:
        """Remember that texts written to `index` were embedded with `model` and `pooling`: in this client, and
        where the client's target keeps data (not "memory") in the cache file, for the next kernel."""
        written = (model, resolve_pooling(get_model(model), pooling))
        key = self._index_key(index)
        if self._kept(index) and self._written.get(key) != written:
            self.cache.wrote(key, *written)
        self._written[key] = written

    def written(self, index: IndexDescription) -> tuple[str, str] | None:
        """The model and pooling of the texts this client, or one before it on this machine, wrote to `index`."""
        key = self._index_key(index)
        if key not in self._written and self._kept(index):
            recorded = self.cache.written(key)
            if recorded is not None:
                self._written[key] = recorded
        return self._written.get(key)

    def models_for(self, index: IndexDescription) -> list[str]:
        """The models that can embed texts for `index` here: of its dimensions, runnable where this embedder
        runs Workers AI models (a local runtime on the embedded engine), the likeliest first (its preset, the
        model its texts were written with)."""
        local = self.backend.embedding_source == "local"
        fitting = [spec.model for spec in MODELS
                   if spec.dimensions == index.dimensions and (spec.runtime is not None or not local)]
        written = self.written(index)
        likely = [name for name in (index.config.preset, written[0] if written else None) if name in fitting]
        return list(dict.fromkeys([*likely, *fitting]))

    def _kept(self, index: IndexDescription) -> bool:
        """Whether `index`'s record lives in the cache file: not for a memory target, nor for an index whose server
        gave no creation time (a new index of a deleted one's name would look the same)."""
        return self._target is not None and not self._closed and index.created_on != UNKNOWN_TIME

    def _index_key(self, index: IndexDescription) -> str:
        """`index` on this client's target, as created: a new index of a deleted one's name is another."""
        return f"{self._target or ''}|{index.name}|{index.created_on.isoformat()}"

    def for_index(self, index: IndexDescription, model: str | None, pooling: str | None,
                  mismatch: type[errors.InvalidRequest] = errors.QueryDimensionMismatch) -> tuple[EmbeddingModel,
                                                                                                  str | None]:
        """The model and pooling that embed questions for `index`: those given, else those its texts were
        written with (`written`; their pooling also for their model given alone), else its preset's; a model of
        other dimensions is refused (`mismatch`), and one other than the texts' warned of (`asks`)."""
        spec, pooling = self._chosen(index, model, pooling, mismatch)
        self.asks(index, spec.model, pooling)
        return spec, pooling

    def for_writes(self, index: IndexDescription, model: str | None, pooling: str | None) -> tuple[EmbeddingModel,
                                                                                                   str | None]:
        """The model and pooling that embed texts to write to `index`, chosen as `for_index` chooses; texts that
        would be embedded otherwise than those written there are refused (`writes`)."""
        spec, pooling = self._chosen(index, model, pooling, errors.VectorDimensionMismatch)
        self.writes(index, spec.model, pooling)
        return spec, pooling

    def _chosen(self, index: IndexDescription, model: str | None, pooling: str | None,
                mismatch: type[errors.InvalidRequest]) -> tuple[EmbeddingModel, str | None]:
        written = self.written(index) if model is None or pooling is None else None
        if written is not None and model in (None, written[0]):
            model = written[0]
            if pooling is None and written[1] in get_model(model).poolings:  # else the model takes no pooling input
                pooling = written[1]
        return model_for_index(model, index, mismatch), pooling

    def asks(self, index: IndexDescription, model: str, pooling: str | None) -> None:
        """Warn (once) when texts asked of `index` are embedded otherwise than the texts written to it: another
        model or pooling makes vectors that do not compare with theirs."""
        if said := self._otherwise(index, model, pooling, "are"):
            errors.warn_once(self.backend, (index.name, "embedded otherwise", said), said)

    def writes(self, index: IndexDescription, model: str, pooling: str | None) -> None:
        """Refuse texts to write to `index` embedded otherwise than those written to it: one index of vectors that
        do not compare with each other ranks one kind against the other."""
        if said := self._otherwise(index, model, pooling, "would be"):
            raise errors.InvalidRequest(f"{said}, or write them to another index")

    def _otherwise(self, index: IndexDescription, model: str, pooling: str | None, verb: str) -> str:
        """What is wrong with texts embedded with `model` and `pooling` for `index`; "" if nothing."""
        written = self.written(index)
        asked = (model, resolve_pooling(get_model(model), pooling))
        if written is None or written == asked:
            return ""
        return (f"index {index.name!r} holds texts embedded with {written[0]} and {written[1]} pooling; these "
                f"{verb} embedded with {asked[0]} and {asked[1]} pooling, whose vectors do not compare with "
                f"theirs: pass model={written[0]!r}, pooling={written[1]!r}")

    def embed(self, texts: str | Iterable[str], model: str, pooling: str | None = None, *, cache: bool = True,
              locally: bool = False, progress: bool | None = None,
              labels: Sequence[Hashable] | None = None) -> np.ndarray:
        """The vectors of `texts` with `model`: float32 (n, dimensions), one unit-length row per text. An
        error about the rows of a request names them by `labels` (a frame's index) when given, else by
        position."""
        if self._closed:
            raise errors.ClientClosed()
        cache, locally = arguments.flag("cache", cache), arguments.flag("locally", locally)
        progress = arguments.flag("progress", progress, optional=True)
        started = time.perf_counter()
        spec = get_model(model)
        chosen = resolve_pooling(spec, pooling)
        rows = check_texts(texts)
        source = "local" if locally or not spec.workers_ai else self.backend.embedding_source
        remote = source != "local"
        run = self._remote(spec, chosen, progress, rows, labels) if remote else self._local(spec, chosen, progress)

        def compute(texts: list[str], keep: Keep) -> np.ndarray:  # the texts the cache lacks, or all of them
            try:
                return run(texts, keep)
            except errors.BadEmbeddingInput as exc:  # about row N of `texts`: name the caller's rows of its text
                raise for_rows(exc, _holding(rows, texts)) from None

        if cache and rows:
            try:
                found = self.cache.embed(rows, f"{spec.model}@{source}", chosen, compute)
            except KeyboardInterrupt as stop:
                raise KeyboardInterrupt("embedding stopped: the vectors made before the stop are cached, so running "
                                        "this again embeds only the rest") from stop
            vectors, cached = found.vectors, found.hits
        else:
            vectors = compute(rows, _nowhere) if rows else np.empty((0, spec.dimensions), np.float32)
            cached = 0
        self.report = EmbeddingReport(spec.model, chosen, source, len(rows), cached, time.perf_counter() - started)
        return vectors

    def _local(self, spec: EmbeddingModel, pooling: str, progress: bool | None) -> Run:
        """Parts of `LOCAL_PART` texts, each kept as it is made, once every text's length is checked."""
        asked = pooling if spec.poolings else None  # as over REST, no pooling input to a model that takes none

        def compute(batch: list[str], keep: Keep) -> np.ndarray:
            from .embeddings import check_lengths, embed_locally

            check_lengths(batch, spec.model)  # every text, before the first part runs
            starts = range(0, len(batch), LOCAL_PART)
            bar = _progress_bar(len(batch), len(starts), progress, spec.model)
            parts = []
            try:
                for start in starts:
                    try:
                        parts.append(embed_locally(batch[start:start + LOCAL_PART], spec.model, asked))
                    except errors.BadEmbeddingInput as exc:  # about row N of the part: row start + N of the batch
                        raise for_rows(exc, partial(_shifted, start)) from None
                    keep(start, parts[-1])
                    if bar is not None:
                        bar.update(len(parts[-1]))
            finally:
                if bar is not None:
                    bar.close()
            return np.concatenate(parts)
        return compute

    def _remote(self, spec: EmbeddingModel, pooling: str, progress: bool | None, rows: list[str],
                labels: Sequence[Hashable] | None) -> Run:
        """Requests of the model's `max_texts`, `backend.max_concurrency` in flight, each answer kept in
        order; after a failure no later request is sent, and the answers of those already sent are kept.
        `rows` are the caller's texts, to name in errors (by `labels` when given)."""
        step = spec.max_texts or 100

        def compute(batch: list[str], keep: Keep) -> np.ndarray:
            starts = range(0, len(batch), step)
            bar = _progress_bar(len(batch), len(starts), progress, spec.model)

            def one(start: int) -> np.ndarray:
                vectors = self.backend.embed(batch[start:start + step], spec.model, pooling)
                if bar is not None:
                    bar.update(min(step, len(batch) - start))
                return vectors

            run = _offset(one, step, _rows_of(rows, batch, labels))
            try:
                with ThreadPoolExecutor(max(1, self.backend.max_concurrency), "vectorize-embed") as pool:
                    futures = [pool.submit(run, start) for start in starts]
                    try:
                        parts = _answers(dict(zip(starts, futures)), keep)
                    finally:  # the stop button: send no more
                        for future in futures:
                            future.cancel()
            finally:
                if bar is not None:
                    bar.close()
            return np.concatenate(parts) if parts else np.empty((0, spec.dimensions), np.float32)
        return compute


def _shifted(start: int, row: int) -> list[int]:
    return [start + row]


def _holding(rows: list[str], texts: list[str]) -> Callable[[int], list[int]]:
    """The positions in `rows` of the text at each position of `texts` (the cache embeds each text once)."""
    if texts is rows:
        return lambda position: [position]
    where: dict[str, list[int]] = {}
    for position, text in enumerate(rows):
        where.setdefault(text, []).append(position)
    return lambda position: where[texts[position]]


def _answers(futures: dict[int, Future[np.ndarray]], keep: Keep) -> list[np.ndarray]:
    """The answers of the requests at these starts, in order, each kept as it comes; after a failure, those
    answered all the same are kept too (they are paid for) before the first failure is raised."""
    parts: list[np.ndarray] = []
    failure: Exception | None = None
    for start, future in futures.items():
        try:
            part = future.result()
        except Exception as exc:  # the first in order is a request's own failure: later ones may be _Skipped
            failure = failure or exc
            continue
        keep(start, part)
        parts.append(part)
    if failure is not None:
        raise failure
    return parts


class _Skipped(Exception):
    """A request not sent because an earlier one of the job failed (that failure is what the caller sees)."""


def _offset(one: Callable[[int], np.ndarray], step: int,
            rows_of: Callable[[int, int], str | None]) -> Callable[[int], np.ndarray]:
    """Runs the batch at `start`, unless one before it failed: a spent quota or an unknown model would fail
    every request after it. A batch's error about its own row N is told about row start + N of the whole
    list; an error about no row in particular (a 5006 from the service, a 429 past the retries) names the
    rows of the request."""
    first_failure = [float("inf")]

    def run(start: int) -> np.ndarray:
        if start > first_failure[0]:
            raise _Skipped(start)
        try:
            return one(start)
        except BaseException as exc:
            first_failure[0] = min(first_failure[0], start)
            if not isinstance(exc, errors.VectorizeError):
                raise
            if isinstance(exc, errors.BadEmbeddingInput) and exc.row is not None:
                raise exc.for_row(start + exc.row) from None
            where = rows_of(start, start + step)
            if where is not None:
                exc.message += f" (the request of {where})"
            raise
    return run


def _rows_of(rows: list[str], batch: list[str],
             labels: Sequence[Hashable] | None = None) -> Callable[[int, int], str | None]:
    """Names the caller's rows behind batch[start:stop] ("rows 100-199", by `labels` when given): the same
    positions when nothing came from the cache, else every row holding one of those texts (the cache sends
    each text once). None when that is every row: the caller knows which texts it sent."""
    def name(start: int, stop: int) -> str | None:
        if batch is rows or batch == rows:
            positions = list(range(start, min(stop, len(rows))))
        else:
            wanted = set(batch[start:stop])
            positions = [i for i, text in enumerate(rows) if text in wanted]
        return None if len(positions) in (0, len(rows)) else _ranges(positions, labels)
    return name


def _ranges(positions: list[int], labels: Sequence[Hashable] | None = None, shown: int = 4) -> str:
    """'rows 3, 7-9 and 12 more' for sorted positions, or named by `labels`: 'rows 1003, 1007-1009', and
    "rows 'a' to 'c'" for labels that do not count up with the positions (as df.loc['a':'c'] selects)."""
    runs: list[list[int]] = []
    for position in positions:
        if runs and position == runs[-1][1] + 1:
            runs[-1][1] = position
        else:
            runs.append([position, position])
    words = ", ".join(_run(a, b, labels) for a, b in runs[:shown])
    more = f" and {sum(b - a + 1 for a, b in runs[shown:])} more" if len(runs) > shown else ""
    return f"row{'s' if len(positions) > 1 else ''} {words}{more}"


def _run(first: int, last: int, labels: Sequence[Hashable] | None) -> str:
    """Positions first..last, by their labels when given."""
    a, b = (first, last) if labels is None else (_plain(labels[first]), _plain(labels[last]))
    if first == last:
        return repr(a)
    counted = isinstance(a, int) and isinstance(b, int) and bool not in (type(a), type(b)) and b - a == last - first
    return f"{a}-{b}" if counted else f"{a!r} to {b!r}"


def _plain(label: Hashable) -> Hashable:
    """A label as Python writes it (numpy's scalars unwrapped, as a frame's rows are named elsewhere)."""
    return label.item() if isinstance(label, np.generic) else label


def _progress_bar(texts: int, steps: int, progress: bool | None, model: str) -> Any:
    if progress is False or (progress is None and steps < PROGRESS_MIN_REQUESTS):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=texts, unit="texts", desc=f"embedding with {model}", leave=False)
