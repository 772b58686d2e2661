"""`df.vectorize`: Vectorize from a pandas DataFrame, registered when vectorize_nb is imported.

    df.vectorize.upsert(index, id="doc_id", vector="embedding", metadata=["genre", "year"])
    hits = queries.vectorize.query(index, vector="embedding", top_k=5)
    stored = df.vectorize.fetch(index, id="doc_id")

The accessor keeps nothing but the frame it was made for (pandas makes a new one on every access);
each method takes the Index it works on. What a frame's columns hold is read and checked by `frames`;
what is done with it (embedding, writing, querying) is here.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import partial
from typing import Any
from collections.abc import Callable, Hashable, Sequence

import numpy as np
import pandas as pd

from . import answer_warnings
from .client import Client
from .contract import arguments, errors
from .contract.models import WriteKind
from .embedder import Embedder
from .embeddings.texts import for_rows
from .frame_batch import MISSING, metadata_values, namespaces_of, to_vectors
from .metadata_fit import metadata_index_types, warn_left_out, warn_unheld
from .results import key_dtype, metadata_key
from .frames import check_columns, check_name, ids_of, matrix_of, one_source, row_name, texts_of
from .index import FilterLike, Index
from .query_input import TEXT_VECTORS, vector_text
from .secret import quotable
from .docstrings import documented, fill_docstring
from .writes import OnError, WriteIncomplete, WriteInterrupted, WriteOptions, WriteResult
from .vector_array import VectorArray

__all__ = ["VectorizeAccessor", "Text"]

_COLUMNS = """index : Index
    The index to write to.
id : column name
    The ids: strings, or integers (written as their decimal strings). No missing or repeated ids.
vector : column name, optional
    A column of lists or arrays, one vector per row.
vectors : list of column names, optional
    Instead of `vector`: numeric columns, one per dimension.
text : column name, optional
    Instead of vectors: a column of texts, embedded with `model` (see `Client.embed`; cached, so a
    second run does not embed them again).
model : str, optional
    With `text`: the embedding model (`vz.embedding_models()`); by default the one the index's texts were
    written with from this machine, else its preset. A model of other dimensions than the index is refused
    before anything is embedded.
pooling : {"mean", "cls"}, optional
    With `text`: as for `Client.embed`; by default that of the index's texts.
metadata : list of column names, a column's name, or "all", optional
    The columns to store as each vector's metadata ("all" or True: every other column). Missing values
    (NaN, None, NaT) leave the key out; timestamps become ISO 8601 strings; a column named with dots,
    as `Index.to_frame` names a nested property ("author.name"), is stored nested
    ({"author": {"name": ...}}), and one named 'metadata["id"]' as the key "id", so an export can be
    written back.
namespace : column name or str, optional
    A column of namespaces, or one namespace for every row (one close to a column's name warns: a typo?).
    With metadata="all", by default the column "namespace" if there is one, as `Index.to_frame` names the
    namespaces (list the columns in `metadata` to store such a column as metadata)."""


def _with_columns(function: Any) -> Any:
    return documented(fill_docstring(function, {"{columns}": _COLUMNS}))


@pd.api.extensions.register_dataframe_accessor("vectorize")
class VectorizeAccessor:
    """Vectorize operations on a DataFrame's rows: `df.vectorize.upsert(index, id=..., vector=...)`.

    Every method checks the whole frame first (an error names the column, the row and the id) and
    never changes the frame.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    @_with_columns
    def upsert(self, index: Index, *, id: Hashable, vector: Hashable | None = None,
               vectors: Sequence[Hashable] | None = None, text: Hashable | None = None, model: str | None = None,
               pooling: str | None = None, metadata: Sequence[Hashable] | Hashable | None = None,
               namespace: Hashable | None = None, batch_size: int | None = None, wait: bool = False,
               progress: bool | None = None, on_error: OnError = "raise") -> WriteResult:
        """Write every row, replacing vectors whose ids exist. Nothing is sent when a row is bad.

        Parameters
        ----------
        {columns}
        {write_options}

        Returns
        -------
        {write_result}

        Raises
        ------
        KeyError
            A column named is not in the frame (the message lists the frame's columns).
        InvalidVector
            A missing or repeated id, or a cell that is not a vector of finite numbers; the message names the row.
        {write_raises}

        Examples
        --------
        >>> df.vectorize.upsert(films, id="id", vector="embedding", metadata=["genre"], wait=True)
        WriteResult(upsert into 'films': 100 of 100 rows written and applied in 1 of 1 batches)
        """
        return _write(self._frame, index, "upsert", WriteOptions(batch_size, wait, progress, on_error), id=id,
                      vector=vector, vectors=vectors, text=_text(text, model, pooling), metadata=metadata,
                      namespace=namespace)

    @_with_columns
    def insert(self, index: Index, *, id: Hashable, vector: Hashable | None = None,
               vectors: Sequence[Hashable] | None = None, text: Hashable | None = None, model: str | None = None,
               pooling: str | None = None, metadata: Sequence[Hashable] | Hashable | None = None,
               namespace: Hashable | None = None, batch_size: int | None = None, wait: bool = False,
               progress: bool | None = None, on_error: OnError = "raise") -> WriteResult:
        """Like `upsert`, but ids already in the index keep their stored vector (the first write wins).

        Parameters
        ----------
        {columns}
        {write_options}

        Raises
        ------
        KeyError, InvalidVector, VectorDimensionMismatch, IdTooLong, MetadataTooLarge, WriteIncomplete
            As for `upsert`.
        """
        return _write(self._frame, index, "insert", WriteOptions(batch_size, wait, progress, on_error), id=id,
                      vector=vector, vectors=vectors, text=_text(text, model, pooling), metadata=metadata,
                      namespace=namespace)

    @documented
    def query(self, index: Index, *, vector: Hashable | None = None, vectors: Sequence[Hashable] | None = None,
              text: Hashable | None = None, model: str | None = None, pooling: str | None = None, top_k: int = 5,
              filter: FilterLike = None, namespace: Hashable | None = None, return_metadata: str = "none",
              return_values: bool = False, key: Hashable | None = None) -> pd.DataFrame:
        """One query per row, answered in one batch where the backend can (one per namespace for a column).

        Parameters
        ----------
        index : Index
            The index to search.
        vector, vectors
            The query vectors: a column of lists/arrays, or numeric columns.
        text, model, pooling
            Instead: a column of questions, embedded as for `upsert` (with no preset on the index, by default
            with the model its texts were written with from this machine).
        namespace : str or column name, optional
            The namespace to search (by default every namespace); a column of the frame: each row's own, as
            `upsert` reads it (a row without one searches every namespace).
        top_k, filter, return_metadata, return_values
            As for `Index.query`.
        key : column name, optional
            A column that labels each query (by default the frame's index labels).

        Returns
        -------
        DataFrame
            One long frame: the query's key, then rank, id, score, namespace and metadata columns.

        Raises
        ------
        KeyError
            A column named is not in the frame.
        ValueError
            None, or more than one, of `vector`, `vectors` and `text`.
        {query_raises}
        """
        frame, source, index = self._frame, _text(text, model, pooling), _index(index)
        one_source(vector, vectors, source)
        matrix = _query_matrix(frame, index, vector, vectors) if source is None else \
            _asked(frame, index, source)
        if key is not None:
            check_columns(frame, [key], "key")
        labels = list(frame.index if key is None else frame[key])
        ask = partial(index.query_many, top_k=top_k, filter=filter, return_values=return_values,
                      return_metadata=return_metadata)
        check_name(namespace, "namespace")
        if namespace is not None and namespace in frame.columns:
            result = _per_namespace(ask, matrix, labels, namespaces_of(frame, namespace) or [])
            result.attrs["namespace"] = f"column {namespace!r}"
        else:
            result = ask(matrix, keys=labels, namespace=arguments.text("namespace", namespace, optional=True))
        result.attrs["query_key"] = key if key is not None else (frame.index.name or "index label")
        result.attrs["queries"] = len(matrix)
        return result

    def embed(self, client: Client | Index, *, text: Hashable, model: str | None = None,
              pooling: str | None = None, cache: bool = True, locally: bool = False,
              progress: bool | None = None) -> pd.Series:
        """A column of vectors for a column of texts, aligned to this frame's rows.

        Parameters
        ----------
        client : Client or Index
            Who embeds (see `Client.embed`); with an Index, `model` and `pooling` default to those its texts
            were written with, else to its preset's, as for `Index.embed`; the model must have its dimensions.
        text : column name
            The texts; a missing or empty one is refused, naming its row.
        model, pooling, cache, locally, progress
            As for `Client.embed`.

        Returns
        -------
        Series of float32 vectors (a `VectorArray`)
            Named "embedding", indexed like the frame; `attrs["embedding"]` says how many came from the cache.

        Raises
        ------
        KeyError
            `text` is not a column of the frame.
        BadEmbeddingInput, UnknownModel, ModelNotAvailable
            As for `Client.embed`; the message names the frame's row.
        VectorDimensionMismatch
            With an Index: a `model` of other dimensions than the index.
        TypeError
            A Client and no `model`.

        Examples
        --------
        >>> model = "wordllama/l2-supercat-256"
        >>> docs["embedding"] = docs.vectorize.embed(client, text="text", model=model)
        """
        if isinstance(client, Index):
            spec, pooling = client.embedder.for_index(client.description, model, pooling,
                                                      errors.VectorDimensionMismatch)
            model = spec.model
        elif not isinstance(client, Client):
            raise TypeError(f"df.vectorize.embed takes a Client or an Index, got {quotable(client)!r:.80}")
        if model is None:
            raise TypeError("embed needs model= when given a Client (vz.embedding_models() lists them)")
        vectors = _embed_texts(self._frame, client.embedder, texts_of(self._frame, text), model, pooling, cache=cache,
                               locally=locally, progress=progress)
        column = pd.Series(VectorArray(vectors), index=self._frame.index, name="embedding", copy=False)
        column.attrs["embedding"] = str(client.embedder.report)
        return column

    def delete(self, index: Index, *, id: Hashable, wait: bool = False, on_error: OnError = "raise") -> WriteResult:
        """Delete the vectors whose ids are in column `id` (unknown ids are no error).

        Parameters
        ----------
        index : Index
            The index to delete from.
        id : column name
            The ids to delete.
        wait, on_error
            As for `upsert`.

        Raises
        ------
        KeyError
            `id` is not a column of the frame.
        InvalidVector, IdTooLong
            A missing id, or one over 64 bytes; the message names the row.
        WriteIncomplete
            With on_error="raise", a request failed; `.result` says which deletes were sent.
        """
        ids = ids_of(self._frame, id, _index(index).limits.max_id_bytes)
        return index.delete_by_ids(ids, wait=wait, on_error=on_error)

    def fetch(self, index: Index, *, id: Hashable, values: bool = True, metadata: bool = True) -> pd.DataFrame:
        """The stored vectors for column `id`, aligned to this frame's rows (missing where an id is unknown:
        NaN, the namespace None).

        Parameters
        ----------
        index : Index
            The index to read.
        id : column name
            The ids to fetch.
        values, metadata
            As for `Index.get_by_ids`.

        Raises
        ------
        KeyError, InvalidVector, IdTooLong
            As for `delete`.
        """
        ids = ids_of(self._frame, id, _index(index).limits.max_id_bytes)
        found = index.get_by_ids(ids, values=values, metadata=metadata)
        aligned = found.set_index("id").reindex(ids)
        aligned["namespace"] = aligned["namespace"].where(aligned["namespace"].notna(), None)  # as a stored one's
        aligned.insert(0, "id", ids)
        aligned.index = self._frame.index
        aligned.attrs.update(found.attrs)
        return aligned


def _index(index: Any) -> Index:
    """The index a frame is written to or read from: an Index, not its name (TypeError, as the views say it)."""
    if not isinstance(index, Index):
        how = f"client.get_index({quotable(index)!r})" if isinstance(index, str) else "client.get_index(name)"
        raise TypeError(f"df.vectorize takes an Index ({how}), got {quotable(index)!r:.80}")
    return index


@dataclass(frozen=True)
class Text:
    """Vectors made from a text column: `column`, embedded with `model` and `pooling` (by default as the
    index's texts were, else its preset)."""

    column: Hashable
    model: str | None = None
    pooling: str | None = None


def _text(column: Hashable | None, model: str | None, pooling: str | None) -> Text | None:
    if column is None:
        if model is not None or pooling is not None:
            raise ValueError("model= and pooling= go with text= (a column of texts to embed)")
        return None
    return Text(column, model, pooling)


def _write(frame: pd.DataFrame, index: Index, kind: WriteKind, options: WriteOptions, *, id: Hashable,
           vector: Hashable | None = None, vectors: Sequence[Hashable] | None = None, text: Text | None = None,
           metadata: Sequence[Hashable] | Hashable | None = None, namespace: Hashable | None = None) -> WriteResult:
    """Insert or upsert the frame's rows through the index's write pipeline (from a text column: embedded once
    every row is found good, then written as any vectors are)."""
    index = _index(index)
    with (errors.during(f"{kind} on index {index.name!r}", nothing_written=True),
          answer_warnings.remade(index.backend, index.description)):
        one_source(vector, vectors, text)
        check_name(namespace, "namespace")
        model, pooling, embed = None, None, None
        if text is not None:
            spec, pooling = index.embedder.for_writes(index.description, text.model, text.pooling)
            model = spec.model  # a bad text is told first, then the ids, metadata and namespaces, then it embeds
            embed = partial(_embed_texts, frame, index.embedder, texts_of(frame, text.column), model, pooling,
                            progress=options.progress)
        batch = to_vectors(frame, id=id, vector=vector, vectors=vectors, metadata=metadata, namespace=namespace,
                           dimensions=index.dimensions, limits=index.limits, kind=kind, embedded=embed)
    _literal_namespace(frame, index, namespace)
    if types := metadata_index_types(index.backend, index.name):
        written = metadata_values(frame, [] if metadata is None else metadata, types, id=id, vector=vector,
                                  vectors=vectors, namespace=namespace)
        warn_unheld(index.backend, index.name, types, written, lambda at: f"{row_name(frame, at)}, id "
                    f"{batch.ids[at]!r}", absent=MISSING)
        sources = {id, vector, namespace, None if text is None else text.column, *(vectors or [])}
        keys = {metadata_key(column): column for column in frame.columns if column not in sources}
        warn_left_out(index.backend, index.name, [key for key in keys if key in types and key not in written])
    try:
        result = index.write(kind, batch, options)
    except (WriteIncomplete, WriteInterrupted) as stopped:  # a retry of it writes these texts too
        _wrote(index, text, model, pooling, stopped.result)
        raise
    _wrote(index, text, model, pooling, result)
    return result


def _wrote(index: Index, text: Text | None, model: str | None, pooling: str | None, result: WriteResult) -> None:
    """Remember the model and pooling of texts any of whose rows may be in the index (for `_asked`, and to refuse
    texts embedded otherwise): written, or sent without an answer."""
    if text is not None and model is not None and (result.written or result.unconfirmed):
        index.embedder.wrote(index.description, model, pooling)


def _per_namespace(ask: Callable[..., pd.DataFrame], matrix: np.ndarray, labels: list[Any],
                   namespaces: list[str | None]) -> pd.DataFrame:
    """Each row's query in its row's namespace (every namespace where it has none), one batch per namespace,
    the answers in the frame's order."""
    groups: dict[str | None, list[int]] = {}
    for row, name in enumerate(namespaces):
        groups.setdefault(name, []).append(row)
    parts = [ask(matrix[rows], keys=rows, namespace=namespace)  # no rows: one empty answer, with its columns
             for namespace, rows in (groups or {None: []}).items()]
    result = pd.concat(parts, ignore_index=True).sort_values("query", kind="stable", ignore_index=True)
    result["query"] = pd.Series([labels[row] for row in result["query"]], dtype=key_dtype(labels), index=result.index)
    result.attrs = parts[0].attrs
    return result


def _literal_namespace(frame: pd.DataFrame, index: Index, namespace: Hashable | None) -> None:
    """Warn when one namespace for every row is most likely a column's name misspelt."""
    if not isinstance(namespace, str) or namespace in frame.columns:
        return
    close = difflib.get_close_matches(namespace, [c for c in frame.columns if isinstance(c, str)], n=1, cutoff=0.75)
    if close:
        errors.warn_once(index.backend, ("namespace not a column", namespace),
                         f"namespace={namespace!r} is not a column of the frame, so every row goes to the namespace "
                         f"{namespace!r}; for the column {close[0]!r}, pass namespace={close[0]!r}")


def _embed_texts(frame: pd.DataFrame, embedder: Embedder, texts: list[str], model: str, pooling: str | None = None,
                 *, cache: bool = True, locally: bool = False, progress: bool | None = None) -> np.ndarray:
    """The vectors of a text column's `texts` (`texts_of`; see `Client.embed`); an error about one text, or a
    request's texts, names the frame's rows by label."""
    try:
        return embedder.embed(texts, model, pooling, cache=cache, locally=locally, progress=progress,
                              labels=frame.index.tolist())
    except errors.BadEmbeddingInput as exc:
        raise for_rows(exc, lambda row: [row], partial(row_name, frame)) from None


def _query_matrix(frame: pd.DataFrame, index: Index, vector: Hashable | None,
                  vectors: Sequence[Hashable] | None) -> np.ndarray:
    """The query vectors' columns as one matrix; as in `query_many`, a row of another width is Vectorize's 40006,
    one that is not finite its 40112, and a cell that is not numbers a Python argument's 40026."""
    with errors.during(f"query on index {index.name!r}"), answer_warnings.remade(index.backend, index.description):
        try:
            return matrix_of(frame, vector, vectors, index.dimensions, not_finite=errors.InvalidQuery)
        except errors.VectorDimensionMismatch as exc:
            refused = errors.QueryDimensionMismatch(exc.message)
            refused.width = exc.width
            raise refused from None
        except errors.InvalidVector as exc:  # not a write's 40103, nor its hint about ids
            raise arguments.malformed(exc.message) from None


def _asked(frame: pd.DataFrame, index: Index, text: Text) -> np.ndarray:
    """The vectors of a column of questions for `index`, its model checked against the index's dimensions first."""
    with errors.during(f"query on index {index.name!r}"):
        written = next((p for p, cell in enumerate(frame[text.column]) if isinstance(cell, str) and vector_text(cell)),
                       None)
        if written is not None:  # embedded, it would be answered with unrelated matches
            raise arguments.malformed(f"the question in {row_name(frame, written)} of column {text.column!r} is a "
                                      f"vector written as text; {TEXT_VECTORS}")
        spec, pooling = index.embedder.for_index(index.description, text.model, text.pooling)
        return _embed_texts(frame, index.embedder, texts_of(frame, text.column), spec.model, pooling)
