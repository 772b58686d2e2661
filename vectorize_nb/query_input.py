"""Query vectors as a Python caller gives them to `Index.query` and `query_many` (a vector, a matrix, a frame's
column), checked as the embedded engine checks them, before any request; a refusal says what the call takes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .contract import arguments, errors, validation
from .vector_array import VectorArray

__all__ = ["one_query", "many_queries", "question", "vector_text", "TEXT_VECTORS"]

TEXT_VECTORS = ("vectors saved as text (to_csv) do not read back as numbers: save a frame of vectors with "
                "to_parquet, or turn the column back into lists of numbers first")


def question(text: str, index: str) -> str:
    """A text to embed as the question of a query on `index`; a vector written out as text is refused: embedded,
    it would be answered with unrelated matches."""
    if vector_text(text):
        with errors.during(f"query on index {index!r}"):
            raise arguments.malformed(f"query got a vector written as text ({text!r:.60}); {TEXT_VECTORS}")
    return text


def vector_text(text: str) -> bool:
    """Whether a text is a vector written out: a list's or a numpy array's text, as `to_csv` leaves it (two
    numbers at least: "[2024]" may be a question)."""
    inner = text.strip()
    if inner[:1] != "[" or inner[-1:] != "]":
        return False
    numbers = inner[1:-1].replace(",", " ").split()
    try:
        [float(number) for number in numbers]
    except ValueError:
        return False
    return len(numbers) > 1


def one_query(vector: Any, dimensions: int) -> np.ndarray:
    """`validation.query_vector`, whose refusal of several queries (texts, rows of a matrix) here says what
    takes them: it speaks of the request body, which a Python caller never wrote."""
    if isinstance(vector, (list, tuple, pd.Series)) and len(vector) and all(isinstance(v, str) for v in vector):
        raise errors.InvalidQuery(f"query takes one vector or one text, got a list of {len(vector)} texts; for "
                                  "several texts, df.vectorize.query(index, text=...) or "
                                  "index.query_many(index.embed(texts))")
    try:
        return validation.query_vector(vector, dimensions)
    except errors.MalformedRequest:
        raise arguments.malformed(f"query takes one vector of {dimensions} numbers or one text; got "
                                  f"{_several(vector) or f'{vector!r:.80}'}") from None
    except errors.QueryDimensionMismatch as exc:
        if np.ndim(vector) == 0:  # None, NaN (a frame's missing text) or a number: no array the caller gave
            exc.message = (f"query takes one vector of {dimensions} numbers or one text; got "
                           f"{np.asarray(vector).item()!r:.80}")  # a numpy scalar as Python writes it
        if np.ndim(vector) == 2:
            exc.message += "; for several query vectors, query_many(vectors); for one row of a matrix X, X[i]"
        raise


def _several(vector: Any) -> str | None:
    """A frame's column or a list of several vectors, as a refusal of it says so (on one line, with what takes
    them); None for anything else."""
    if isinstance(vector, pd.Series) and len(vector) and (isinstance(vector.array, VectorArray)
                                                          or np.ndim(vector.iloc[0]) > 0):
        name = None if vector.name is None else repr(vector.name)
        vectors = "vectors" if name is None else f"df[{name}]"
        given, one = f"a column{'' if name is None else ' ' + name} of {_count(vector)}", f"{vectors}.iloc[i]"
    elif isinstance(vector, (list, tuple)) and len(vector) and all(np.ndim(item) > 0 for item in vector):
        name, vectors = None, "vectors"
        given, one = f"a list of {_count(vector)}", "vectors[i]"
    else:
        return None
    return (f"{given}; for several query vectors, query_many({vectors}) or df.vectorize.query(index, vector="
            f"{name or '...'}); for one of them, {one}")


def _count(vectors: Any) -> str:
    return "1 vector" if len(vectors) == 1 else f"{len(vectors)} vectors"


def many_queries(vectors: Any, dimensions: int) -> np.ndarray:
    """`validation.query_matrix`, taking a frame's column of vectors as `df.vectorize` does; its refusal of
    what it cannot read names the row rather than a request body, which a Python caller never wrote."""
    if isinstance(vectors, pd.Series):
        vectors = vectors.array.matrix if isinstance(vectors.array, VectorArray) else vectors.tolist()
    try:
        return validation.query_matrix(vectors, dimensions)
    except errors.MalformedRequest:
        raise arguments.malformed(f"query_many takes one vector of {dimensions} numbers per row (a matrix, a list "
                                  f"of vectors or a column of them){_first_unreadable(vectors, dimensions)}") from None


def _first_unreadable(vectors: Any, dimensions: int) -> str:
    rows = vectors if isinstance(vectors, (list, tuple)) else ()
    found = next(((position, row) for position, row in enumerate(rows) if not _one_vector(row, dimensions)), None)
    if found is None:
        return ""
    texts = "; for texts, query_many(index.embed(texts))" if isinstance(found[1], str) else ""
    if isinstance(found[1], str) and vector_text(found[1]):
        texts = f", a vector written as text; {TEXT_VECTORS}"
    return f"; row {found[0]} is {found[1]!r:.60}{texts}"


def _one_vector(row: Any, dimensions: int) -> bool:
    try:
        return np.asarray(row, dtype=np.float32).shape == (dimensions,)
    except (TypeError, ValueError):
        return False
