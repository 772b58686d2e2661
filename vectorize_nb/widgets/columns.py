"""Which columns a panel offers: the metadata an index's vectors hold, and the frame columns that can be metadata."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import pandas as pd

from ..index import Index

__all__ = ["stored_properties", "indexed_properties", "scalar_columns", "SAMPLE", "LONGEST_TEXT"]

SAMPLE = 50
"""How many stored vectors are read to see which metadata properties they hold."""
LONGEST_TEXT = 256
"""A text column with longer values (a document's text, say) is not offered as metadata by default."""
_SCALARS = {"string", "integer", "floating", "boolean", "mixed-integer-float", "empty"}


def indexed_properties(index: Index) -> list[str]:
    """The properties with a metadata index (the ones a filter can use).

    Parameters
    ----------
    index : Index
    """
    return [str(name) for name in index.list_metadata_indexes()["property_name"]]


def stored_properties(index: Index, sample: int = SAMPLE) -> list[str]:
    """The metadata properties held by the first vectors the index lists (nested keys joined with ".").

    Parameters
    ----------
    index : Index
    sample : int, default 50
        How many vectors to read.
    """
    ids = index.list_vectors(count=sample)["id"].tolist()
    if not ids:
        return []
    stored = index.get_by_ids(ids, values=False)
    return [str(name) for name in stored.columns if name not in ("id", "namespace")]


def scalar_columns(frame: pd.DataFrame, exclude: Sequence[Hashable] = ()) -> list[Hashable]:
    """The frame's columns that can be metadata as they are: numbers, booleans and short texts
    (at most LONGEST_TEXT characters), not vectors or lists.

    Parameters
    ----------
    frame : DataFrame
    exclude : sequence of labels, default ()
        Columns to leave out (the id and vector columns).

    Returns
    -------
    list
        The columns' own labels (not made text: a column labelled 2020 is 2020).
    """
    chosen: list[Hashable] = []
    for name in frame.columns:
        column = frame[name]
        if name in exclude or pd.api.types.infer_dtype(column, skipna=True) not in _SCALARS:
            continue
        texts = column.dropna()
        if texts.map(lambda v: len(v) if isinstance(v, str) else 0).max(skipna=True) > LONGEST_TEXT:
            continue
        chosen.append(name)
    return chosen
