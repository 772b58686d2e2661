"""`df.vectorize`: Vectorize from a pandas DataFrame, registered when vectorize_nb is imported.

    df.vectorize.upsert(index, id="doc_id", vector="embedding", metadata=["genre", "year"])
    hits = queries.vectorize.query(index, vector="embedding", top_k=5)
    stored = df.vectorize.fetch(index, id="doc_id")

The accessor keeps nothing but the frame it was made for (pandas makes a new one on every access);
each method takes the Index it works on and hands over to `frames`.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Hashable, Sequence

import pandas as pd

from . import frames
from .client import Client
from .embedder import model_for_index
from .index import FilterLike, Index
from .writes import OnError, WriteOptions, WriteResult, documented, fill_docstring
from .vector_array import VectorArray

__all__ = ["VectorizeAccessor"]

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
    With `text`: the embedding model (`vz.embedding_models()`); by default the model the index was
    created from (its preset). A model of other dimensions than the index is refused before anything
    is embedded.
pooling : {"mean", "cls"}, optional
    With `text`: as for `Client.embed`.
metadata : list of column names, or "all", optional
    The columns to store as each vector's metadata ("all": every other column). Missing values
    (NaN, None, NaT) leave the key out; timestamps become ISO 8601 strings.
namespace : column name or str, optional
    A column of namespaces, or one namespace for every row."""


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
               pooling: str | None = None, metadata: Sequence[Hashable] | str | None = None,
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

        Examples
        --------
        >>> df.vectorize.upsert(idx, id="doc_id", vector="embedding", metadata=["genre"], wait=True)  # doctest: +SKIP
        """
        return frames.write(self._frame, index, "upsert", WriteOptions(batch_size, wait, progress, on_error), id=id,
                            vector=vector, vectors=vectors, text=_text(text, model, pooling), metadata=metadata,
                            namespace=namespace)

    @_with_columns
    def insert(self, index: Index, *, id: Hashable, vector: Hashable | None = None,
               vectors: Sequence[Hashable] | None = None, text: Hashable | None = None, model: str | None = None,
               pooling: str | None = None, metadata: Sequence[Hashable] | str | None = None,
               namespace: Hashable | None = None, batch_size: int | None = None, wait: bool = False,
               progress: bool | None = None, on_error: OnError = "raise") -> WriteResult:
        """Like `upsert`, but ids already in the index keep their stored vector (the first write wins).

        Parameters
        ----------
        {columns}
        {write_options}
        """
        return frames.write(self._frame, index, "insert", WriteOptions(batch_size, wait, progress, on_error), id=id,
                            vector=vector, vectors=vectors, text=_text(text, model, pooling), metadata=metadata,
                            namespace=namespace)

    def query(self, index: Index, *, vector: Hashable | None = None, vectors: Sequence[Hashable] | None = None,
              text: Hashable | None = None, model: str | None = None, pooling: str | None = None, top_k: int = 5,
              filter: FilterLike = None, namespace: str | None = None, return_metadata: str = "none",
              return_values: bool = False, key: Hashable | None = None) -> pd.DataFrame:
        """One query per row, answered in one batch where the backend can.

        Parameters
        ----------
        index : Index
            The index to search.
        vector, vectors
            The query vectors: a column of lists/arrays, or numeric columns.
        text, model, pooling
            Instead: a column of questions, embedded as for `upsert`.
        top_k, filter, namespace, return_metadata, return_values
            As for `Index.query`.
        key : column name, optional
            A column that labels each query (by default the frame's index labels).

        Returns
        -------
        DataFrame
            One long frame: the query's key, then rank, id, score, namespace and metadata columns.
        """
        return frames.query(self._frame, index, vector=vector, vectors=vectors, text=_text(text, model, pooling),
                            top_k=top_k, filter=filter, namespace=namespace, return_metadata=return_metadata,
                            return_values=return_values, key=key)

    def embed(self, client: Client | Index, *, text: Hashable, model: str | None = None,
              pooling: str | None = None, cache: bool = True, locally: bool = False,
              progress: bool | None = None) -> pd.Series:
        """A column of vectors for a column of texts, aligned to this frame's rows.

        Parameters
        ----------
        client : Client or Index
            Who embeds (see `Client.embed`); with an Index, `model` defaults to the index's preset and
            must have its dimensions.
        text : column name
            The texts; a missing or empty one is refused, naming its row.
        model, pooling, cache, locally, progress
            As for `Client.embed`.

        Returns
        -------
        Series of float32 vectors (a `VectorArray`)
            Named "embedding", indexed like the frame; `attrs["embedding"]` says how many came from the cache.

        Examples
        --------
        >>> model = "wordllama/l2-supercat-256"
        >>> docs["embedding"] = docs.vectorize.embed(client, text="body", model=model)  # doctest: +SKIP
        """
        if isinstance(client, Index):
            model = model_for_index(model, client.description).model
        if model is None:
            raise TypeError("embed needs model= when given a Client (vz.embedding_models() lists them)")
        vectors = frames.embed_texts(self._frame, client.embedder, text, model, pooling, cache=cache,
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
        """
        return frames.delete(self._frame, index, id=id, wait=wait, on_error=on_error)

    def fetch(self, index: Index, *, id: Hashable, values: bool = True, metadata: bool = True) -> pd.DataFrame:
        """The stored vectors for column `id`, aligned to this frame's rows (NaN where an id is unknown).

        Parameters
        ----------
        index : Index
            The index to read.
        id : column name
            The ids to fetch.
        values, metadata
            As for `Index.get_by_ids`.
        """
        return frames.fetch(self._frame, index, id=id, values=values, metadata=metadata)


def _text(column: Hashable | None, model: str | None, pooling: str | None) -> frames.Text | None:
    if column is None:
        if model is not None or pooling is not None:
            raise ValueError("model= and pooling= go with text= (a column of texts to embed)")
        return None
    return frames.Text(column, model, pooling)
