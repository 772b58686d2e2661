"""`df.vectorize`: Vectorize from a pandas DataFrame, registered when vectorize_nb is imported.

    df.vectorize.upsert(index, id="doc_id", vector="embedding", metadata=["genre", "year"])
    hits = queries.vectorize.query(index, vector="embedding", top_k=5)
    stored = df.vectorize.fetch(index, id="doc_id")

The accessor keeps nothing but the frame it was made for (pandas makes a new one on every access);
each method takes the Index it works on and hands over to `frames`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from collections.abc import Hashable, Sequence

import pandas as pd

from . import frames

if TYPE_CHECKING:
    from .index import Index
    from .writes import WriteResult

__all__ = ["VectorizeAccessor"]


@pd.api.extensions.register_dataframe_accessor("vectorize")
class VectorizeAccessor:
    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def upsert(self, index: Index, *, id: Hashable, vector: Hashable | None = None,
               vectors: Sequence[Hashable] | None = None, metadata: Sequence[Hashable] | str | None = None,
               namespace: Hashable | None = None, batch_size: int | None = None, wait: bool = False,
               progress: bool | None = None, on_error: str = "raise") -> WriteResult:
        """Write every row (replacing vectors whose ids exist). `vector` names a column of lists or arrays,
        `vectors` several numeric columns; `metadata` a list of columns or "all"; `namespace` a column or
        one string for every row. Checks the whole frame first: nothing is sent when a row is bad."""
        return frames.write(self._frame, index, "upsert", id=id, vector=vector, vectors=vectors, metadata=metadata,
                            namespace=namespace, batch_size=batch_size, wait=wait, progress=progress,
                            on_error=on_error)

    def insert(self, index: Index, *, id: Hashable, vector: Hashable | None = None,
               vectors: Sequence[Hashable] | None = None, metadata: Sequence[Hashable] | str | None = None,
               namespace: Hashable | None = None, batch_size: int | None = None, wait: bool = False,
               progress: bool | None = None, on_error: str = "raise") -> WriteResult:
        """Like `upsert`, but ids already in the index keep their stored vector (the first write wins)."""
        return frames.write(self._frame, index, "insert", id=id, vector=vector, vectors=vectors, metadata=metadata,
                            namespace=namespace, batch_size=batch_size, wait=wait, progress=progress,
                            on_error=on_error)

    def query(self, index: Index, *, vector: Hashable | None = None, vectors: Sequence[Hashable] | None = None,
              top_k: int = 5, filter: Any = None, namespace: str | None = None, return_metadata: str = "none",
              return_values: bool = False, key: Hashable | None = None) -> pd.DataFrame:
        """One query per row; one long frame: the row key, rank, id, score, namespace, metadata columns."""
        return frames.query(self._frame, index, vector=vector, vectors=vectors, top_k=top_k, filter=filter,
                            namespace=namespace, return_metadata=return_metadata, return_values=return_values,
                            key=key)

    def delete(self, index: Index, *, id: Hashable, on_error: str = "raise") -> WriteResult:
        """Delete the vectors whose ids are in column `id`."""
        return frames.delete(self._frame, index, id=id, on_error=on_error)

    def fetch(self, index: Index, *, id: Hashable, values: bool = True, metadata: bool = True) -> pd.DataFrame:
        """The stored vectors for column `id`, aligned to this frame's rows (NaN where an id is unknown)."""
        return frames.fetch(self._frame, index, id=id, values=values, metadata=metadata)
