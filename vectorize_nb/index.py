"""Index: one Vectorize index, as the user sees it. Results come back as DataFrames.

    idx = client.create_index("docs", dimensions=384)
    idx.upsert(ids, X, metadata=rows)              # split into batches for you
    hits = idx.query(X[0], top_k=10, filter={"genre": "drama"}, return_metadata="all")
    idx.wait()                                      # until the last write is applied
    everything = idx.to_frame()                     # every vector, page by page

What only reads (get_by_ids, to_frame, list_vectors, explain_filter, ...) is in `reader.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from . import answer_warnings, results
from .contract import arguments, errors, validation
from .contract.backend import Backend
from .contract.models import (CheckedVectors, IndexDescription, IndexInfo, Mutation, QueryOptions, Vectors,
                              WriteKind)
from .filter_builder import Condition
from .metadata_fit import metadata_index_types, warn_unheld
from .embedder import Embedder
from .mutation_log import MutationLog, wait_until_applied
from .reader import FilterLike
from .metadata_indexes import MetadataIndexes
from .docstrings import documented
from .query_input import many_queries, one_query, question
from .writes import OnError, WriteOptions, WriteResult, Writer, as_vectors

__all__ = ["Index", "FilterLike"]

_Answer = TypeVar("_Answer")


class _Deleted:
    """What a retired handle calls instead of its backend: anything at all is IndexDeleted."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        deleted = errors.IndexDeleted(f"index {self._name!r} was deleted (delete_index) after this Index was made; "
                                      f"client.get_index({self._name!r}) gives the index of that name now, if any")
        deleted.hint = ""  # the class's "create it again" would not say that this handle stays deleted
        raise deleted


class Index(MetadataIndexes):
    """A handle on one index: writes, queries and waiting, on top of what `IndexReader` reads,
    `IndexCopier` copies elsewhere and `MetadataIndexes` makes filterable. Cheap to create; holds no data. Get
    one from `Client.create_index`, `Client.get_index` or `Client.indexes`.

    Parameters
    ----------
    backend : Backend
        Where the index lives: the embedded engine, or a REST backend (Cloudflare, `vectorize-nb serve`).
    description : IndexDescription
        Name, dimensions, metric, preset, description and timestamps, as the backend reported them.
    target : str
        A label of the backend's target that holds no secret ("local:<its folder>", "cloudflare:<account>").
    log : MutationLog, optional
        The mutations issued through this handle's client (what `wait` waits for).
    embedder : Embedder, optional
        The client's embedder, for texts (`query("a question")`, `df.vectorize.upsert(text=...)`).
    """

    def __init__(self, backend: Backend, description: IndexDescription, *, target: str,
                 log: MutationLog | None = None, embedder: Embedder | None = None) -> None:
        super().__init__(backend, description, target=target)
        self.log = MutationLog() if log is None else log
        self.embedder = Embedder(backend) if embedder is None else embedder
        self._writer = Writer(backend, description.name, description.dimensions, self.log)

    def _retire(self) -> None:
        """The index was deleted through this handle's client: every call from now on says so, also once an
        index of the name is made again (the handle's description, its dimensions, are the old index's)."""
        self.backend = cast(Backend, _Deleted(self.name))
        self._writer = Writer(self.backend, self.name, self.dimensions, self.log)

    def wait(self, mutation: Mutation | str | WriteResult | None = None, *, timeout: float = 60.0,
             interval: float = 0.25) -> IndexInfo:
        """Block until a write is applied (Vectorize applies writes a few seconds after acknowledging them).

        Vectorize reports only the last mutation it applied. A write counts as applied once the index
        reports it, or a mutation this client sent after the write's answer came (the service ordered
        that one after it). When the last applied mutation is another writer's, or one of this client's
        that was in flight together with the write, this client cannot tell whether the write came
        before it: the wait goes on, and its `WaitTimeout` says so (`get_by_ids` shows what is stored).

        Parameters
        ----------
        mutation : Mutation, str or WriteResult, optional
            The write to wait for; by default this client's last writes to the index (the last one, or
            those whose requests were in flight together at the end).
        timeout : float, default 60
            Seconds before giving up with `WaitTimeout`, also when the server stops answering (over REST
            each look at `info` gets the time left, and at least a second).
        interval : float, default 0.25
            Seconds between two looks at `info()`.

        Returns
        -------
        IndexInfo
            The index's info once the write is applied.

        Raises
        ------
        WaitTimeout
            The write was not seen applied within `timeout`; the message says what the index last applied.
        InvalidRequest
            A mutation id the embedded engine never issued for this index (another index's, or mistyped).
        """
        with self._during("wait"):
            timeout, interval = arguments.seconds("timeout", timeout), arguments.seconds("interval", interval)
        targets = self._targets(mutation)
        if not targets:
            return self.info()
        if "" in targets:
            raise errors.InvalidRequest("this mutation's id is unknown (its answer was lost, and a retry found the "
                                        "work done), so there is nothing to wait for; wait for a later write")
        info = wait_until_applied(self.backend, self.name, self.log, targets, timeout=timeout, interval=interval)
        if isinstance(mutation, WriteResult):
            mutation.applied = True
        return info

    def _targets(self, mutation: Mutation | str | WriteResult | None) -> list[str]:
        if isinstance(mutation, WriteResult):
            last = mutation.last_mutation
            return [] if last is None else [last.id]
        if mutation is None:
            return self.log.latest(self.name)
        return [str(mutation)]

    # --- writes --------------------------------------------------------------------------------

    @documented
    def insert(self, data: Any, values: Any = None, *, metadata: Sequence[dict[str, Any] | None] | None = None,
               namespaces: str | Sequence[str | None] | None = None, batch_size: int | None = None,
               wait: bool = False, progress: bool | None = None, on_error: OnError = "raise") -> WriteResult:
        """Add vectors with new ids; ids already in the index keep their stored vector (the first write wins).

        Parameters
        ----------
        {write_input}
        {write_options}

        Returns
        -------
        {write_result}

        Raises
        ------
        {write_raises}

        Examples
        --------
        >>> films.insert(["a", "b"], np.eye(2, 32), metadata=[{"genre": "drama"}, None])
        WriteResult(insert into 'films': 2 of 2 rows accepted and applied in 1 of 1 batches; an id already stored keeps
        its vector and metadata)
        """
        return self.write("insert", self._batch("insert", data, values, metadata, namespaces),
                          WriteOptions(batch_size, wait, progress, on_error))

    @documented
    def upsert(self, data: Any, values: Any = None, *, metadata: Sequence[dict[str, Any] | None] | None = None,
               namespaces: str | Sequence[str | None] | None = None, batch_size: int | None = None,
               wait: bool = False, progress: bool | None = None, on_error: OnError = "raise") -> WriteResult:
        """Add vectors, replacing whole vectors (values, metadata and namespace) whose ids exist.

        Parameters
        ----------
        {write_input}
        {write_options}

        Returns
        -------
        {write_result}

        Raises
        ------
        {write_raises}
        """
        return self.write("upsert", self._batch("upsert", data, values, metadata, namespaces),
                          WriteOptions(batch_size, wait, progress, on_error))

    def _batch(self, kind: WriteKind, data: Any, values: Any, metadata: Sequence[dict[str, Any] | None] | None,
               namespaces: str | Sequence[str | None] | None) -> Vectors | CheckedVectors:
        """`insert`'s or `upsert`'s arguments as one batch; refused as any batch is, with nothing sent."""
        with errors.during(f"{kind} on index {self.name!r}", nothing_written=True), self._remade():
            if isinstance(data, pd.DataFrame):  # it iterates as its column names: no record would be found
                accessor = f"df.vectorize.{kind}(index, id=..., vector=..., metadata=[...])"
                raise errors.InvalidVector(f"{kind} takes records, ids and values, or a Vectors batch; a DataFrame "
                                           f"goes through {accessor}")
            batch = as_vectors(data, values, metadata, namespaces, self.dimensions)
        if isinstance(batch, Vectors) and batch.metadata is not None and (types := metadata_index_types(
                self.backend, self.name)):
            rows = [row if isinstance(row, dict) else {} for row in batch.metadata]  # others are refused later
            warn_unheld(self.backend, self.name, types, {key: [row.get(key) for row in rows] for key in types},
                        lambda at: f"id {batch.ids[at]!r}")
        return batch

    def write(self, kind: WriteKind, vectors: Any, options: WriteOptions | None = None) -> WriteResult:
        """Insert or upsert a batch of any size (what `insert`, `upsert` and `df.vectorize` call):
        checked whole, split to the limits, sent, reported batch by batch.

        Parameters
        ----------
        kind : {"insert", "upsert"}
            What to do with ids already stored.
        vectors : Vectors or CheckedVectors
            The batch.
        options : WriteOptions, optional
            Batch size, waiting, progress bar and error handling (the defaults of `upsert`).
        """
        with self._remade():
            return self._writer.write(kind, vectors, options or WriteOptions())

    def delete_by_ids(self, ids: Sequence[str], *, wait: bool = False, on_error: OnError = "raise") -> WriteResult:
        """Delete vectors by id (100 ids per request); unknown ids are no error.

        Parameters
        ----------
        ids : sequence of str
            The ids to delete (repeats are sent once; integers stand for their decimal strings).
        wait : bool, default False
            Return only once the deletes are applied, as for `upsert`.
        on_error : {"raise", "report"}, default "raise"
            Raise `WriteIncomplete` when a request fails, or report it in the result.

        Raises
        ------
        IdTooLong
            An id over 64 bytes of UTF-8 (nothing is deleted).
        WriteIncomplete
            With on_error="raise", a request failed; `.result` says which deletes were sent.
        """
        return self._writer.delete(ids, WriteOptions(wait=wait, on_error=on_error))

    def rewrite(self, ids: Sequence[str] | None = None, *, wait: bool = False, progress: bool | None = None,
                on_error: OnError = "raise") -> WriteResult:
        """Write stored vectors again, unchanged (all of them by default), so that metadata indexes
        created after they were written take them in. This client's writes are waited for first: what is
        written again is what they stored.

        Parameters
        ----------
        ids : sequence of str, optional
            The vectors to rewrite; by default every vector of the index.
        wait, progress, on_error
            As for `upsert`.
        """
        with errors.during(f"rewrite on index {self.name!r}", nothing_written=True):
            self._own_writes_applied()
            wanted = self.list_ids() if ids is None else validation.asked_ids(ids, self.limits)
        records = self._records(wanted)
        if not records:
            return WriteResult("upsert", self.name, [], [])
        batch = Vectors([r.id for r in records], np.stack([r.values for r in records]),
                        [r.metadata for r in records], [r.namespace for r in records])
        return self.write("upsert", batch, WriteOptions(wait=wait, progress=progress, on_error=on_error))

    # --- queries -------------------------------------------------------------------------------

    @documented
    def query(self, vector: Any, top_k: int = 5, *, filter: FilterLike = None, namespace: str | None = None,
              return_values: bool = False, return_metadata: str = "none", model: str | None = None,
              pooling: str | None = None) -> pd.DataFrame:
        """The `top_k` vectors nearest to `vector` (or to a text), best first.

        Parameters
        ----------
        vector : array-like of shape (dimensions,), or str
            The query vector, or a text to embed with `model` (several: `query_many`, `df.vectorize.query`).
        top_k : int, default 5
            How many matches (at most 100; 50 with `return_values` or `return_metadata="all"`).
        filter : F condition or dict, optional
            Only vectors whose metadata passes it: `F("genre") == "drama"`, or Vectorize's JSON
            `{"genre": {"$eq": "drama"}}`. Only properties with a metadata index filter, and only
            vectors written after that index was created; `explain_filter` shows what a filter does.
            A clause on a property without a metadata index, or with a value of another type than its
            index, matches nothing: an `F` condition raises `InvalidFilter` (40110) for it before the
            query is sent, a dict is sent as it is, with a warning.
        namespace : str, optional
            Search only this namespace (by default every namespace).
        return_values : bool, default False
            Add a `values` column with each match's vector.
        return_metadata : {"none", "indexed", "all"}, default "none"
            Add a column per metadata property: of every property ("all"), or only of those with a
            metadata index ("indexed", strings cut to 64 bytes).
        model : str, optional
            For a text: the embedding model (`vz.embedding_models()`); by default the one its texts were written
            with from this machine, else the index's preset. Refused before anything runs if of other dimensions.
        pooling : {"mean", "cls"}, optional
            For a text: as for `Client.embed`.

        Returns
        -------
        DataFrame
            One row per match: rank, id, score, namespace (then values and metadata columns). Scores
            are cosine similarity (higher is closer), euclidean distance or negative dot product (lower
            is closer). `attrs` records the index, the target, the query's options and how many queries were
            asked (`queries`).

        Raises
        ------
        {query_raises}
        UnknownModel, BadEmbeddingInput
            For a text: no `model` and no preset on the index, an unknown model, or an empty or too long text.
        ValueError
            `model` or `pooling` with a vector.

        Examples
        --------
        >>> docs_index.query("how do I read a CSV file?", top_k=3, model="wordllama/l2-supercat-256")["id"].tolist()
        ['csv:Sniffer', 'csv:Dialect', 'pathlib:Path.open']
        """
        options = self._options(top_k, filter, namespace, return_values, return_metadata)
        query = self._text_query(vector, model, pooling) if isinstance(vector, str) else \
            self._vector_query(vector, model, pooling)
        answer_warnings.zero_queries(self.backend, self.name, self.metric, query)
        matches = self._answer(lambda: self.backend.query(self.name, query, options))
        answer_warnings.answered(self.backend, self.log, self.name, [matches], options)
        return results.matches_frame([matches], self._query_attrs("query", options, 1), return_values=return_values,
                                     dimensions=self.dimensions)

    def _vector_query(self, vector: Any, model: str | None, pooling: str | None) -> np.ndarray:
        """One query vector, refused here as the embedded engine refuses it, before any request over REST."""
        if model is not None or pooling is not None:
            raise ValueError("model= and pooling= embed a text question; a vector is searched as it is")
        with self._during("query"), self._remade():
            return one_query(vector, self.dimensions)

    def _text_query(self, text: str, model: str | None, pooling: str | None) -> np.ndarray:
        """The vector of one question; a refusal calls it the query text (the caller wrote no list of rows)."""
        try:
            vectors = self.embed([question(text, self.name)], model, pooling)
        except errors.BadEmbeddingInput as exc:  # every "row 0" of its message is this text, the only one
            exc.row = 0
            refused = exc.for_row(0, "the query text")
            if isinstance(refused, errors.EmptyText):
                refused.hint = "Workers AI refuses empty texts: ask a question of at least one character"
            raise refused from None
        except errors.UnknownModel as exc:
            if model is None and self._stored(text):  # Vectorize's query by id, asked with a text
                exc.hint = f"{text!r} is a stored vector's id: query_by_id({text!r}) searches with its vector"
            raise
        return np.asarray(vectors[0])

    def embed(self, texts: Sequence[str], model: str | None = None, pooling: str | None = None, *,
              progress: bool | None = None) -> np.ndarray:
        """Texts to vectors for this index: with `model`, or the model (and pooling) its texts were written with
        from this machine, else the one it was created from; a model of other dimensions than the index is
        refused, naming both. `pooling` and `progress` are `Client.embed`'s.

        Raises
        ------
        QueryDimensionMismatch
            The model makes vectors of another number of dimensions than the index.
        UnknownModel, BadEmbeddingInput
            As for `Client.embed`; with no `model`, also when the index was not created from a model's preset.
        """
        with self._during("embed"):
            spec, pooling = self.embedder.for_index(self.description, model, pooling)
            return self.embedder.embed(texts, spec.model, pooling, progress=progress)

    def query_by_id(self, vector_id: str, top_k: int = 5, *, filter: FilterLike = None,
                    namespace: str | None = None, return_values: bool = False,
                    return_metadata: str = "none") -> pd.DataFrame:
        """Like `query`, with the stored vector `vector_id` as the query (it finds itself first).

        Parameters
        ----------
        vector_id : str
            The id of a vector stored in this index (`VectorNotFound` otherwise).
        top_k, filter, namespace, return_values, return_metadata
            As for `query`.

        Raises
        ------
        VectorNotFound
            No vector of that id is stored in the index.
        TopKTooLarge, InvalidQuery, InvalidFilter
            As for `query`.
        """
        options = self._options(top_k, filter, namespace, return_values, return_metadata)
        with self._during("query"):
            vector_id = validation.vector_id(validation.id_text(vector_id), self.limits)  # 7 is "7", as in upsert
            try:
                matches = self.backend.query(self.name, None, options, vector_id=vector_id)
            except errors.VectorNotFound as exc:
                answer_warnings.missing_id(self.backend, self.log, self.name, exc)
                raise
        answer_warnings.answered(self.backend, self.log, self.name, [matches], options)
        attrs = self._query_attrs("query_by_id", options, 1, vector_id=vector_id)
        return results.matches_frame([matches], attrs, return_values=return_values, dimensions=self.dimensions)

    @documented
    def query_many(self, vectors: Any, top_k: int = 5, *, keys: Sequence[Any] | None = None,
                   filter: FilterLike = None, namespace: str | None = None, return_values: bool = False,
                   return_metadata: str = "none") -> pd.DataFrame:
        """One query per row of `vectors`, answered in one batch where the backend can (the embedded
        engine does one matrix product; over REST, requests go several at a time).

        Parameters
        ----------
        vectors : array-like of shape (m, dimensions), or a column of vectors
            The query vectors: a matrix, a list of vectors, or a frame's vector column (`values`, a
            column of arrays or lists).
        keys : sequence, optional
            A label per query, for the `query` column (default: the row number).
        top_k, filter, namespace, return_values, return_metadata
            As for `query`.

        Returns
        -------
        DataFrame
            One long frame: `query` (the key), then the columns of `query`.

        Raises
        ------
        {query_raises}
        InvalidRequest
            `keys` does not hold one label per query vector.
        """
        options = self._options(top_k, filter, namespace, return_values, return_metadata)
        with self._during("query"), self._remade():
            matrix = many_queries(vectors, self.dimensions)
        keys = None if keys is None else list(arguments.listed("keys", keys, "a list of one label per query vector"))
        if keys is not None and len(keys) != len(matrix):
            raise errors.InvalidRequest(f"keys must hold one label per query vector ({len(matrix)}), got {len(keys)}")
        answer_warnings.zero_queries(self.backend, self.name, self.metric, matrix)
        answers = self._answer(lambda: self.backend.query_many(self.name, matrix, options))
        answer_warnings.answered(self.backend, self.log, self.name, answers, options)
        labels = list(range(len(matrix))) if keys is None else keys
        return results.matches_frame(answers, self._query_attrs("query_many", options, len(answers)), keys=labels,
                                     return_values=return_values, dimensions=self.dimensions)

    def _options(self, top_k: int, flt: FilterLike, namespace: str | None, return_values: bool,
                 return_metadata: str) -> QueryOptions:
        if isinstance(flt, Condition):
            self.check_filter(flt)
            flt = flt.to_json()
        with self._during("query"):
            options = validation.query_options(QueryOptions(top_k, return_values, return_metadata, namespace, flt),
                                               self.limits, python=True)
            if options.filter:
                for miss in self._said(self.backend.filter_misses(self.name, options.filter)):
                    errors.warn_once(self.backend, (self.name, miss.property, miss.reason), miss.message)
        return options

    def _answer(self, ask: Callable[[], _Answer]) -> _Answer:
        """The backend's answer to a query; a dimension mismatch it finds says if the index was made again since."""
        with self._during("query"), self._remade(backends=True):
            return ask()

    def _read_back(self) -> None:
        answer_warnings.read_back(self.backend, self.log, self.name)

    def _remade(self, *, backends: bool = False) -> answer_warnings.remade:
        """Where a vector's width is refused: says so if the index was made again since this handle was."""
        return answer_warnings.remade(self.backend, self.description, backends=backends)

    def _query_attrs(self, operation: str, options: QueryOptions, queries: int, **extra: Any) -> dict[str, Any]:
        return self._attrs(operation, queries=queries, top_k=options.top_k, filter=options.filter,
                           namespace=options.namespace, return_metadata=options.return_metadata, **extra)
