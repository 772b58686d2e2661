"""Docstrings with shared parts. In a docstring, a line that is only a placeholder (`{write_options}`)
becomes a text written once here, indented like the placeholder: every function that takes a write's
input, options or result (`Index.upsert`, `df.vectorize.upsert`, ...) describes them alike, and the
views share their parameters' descriptions the same way (`fill_docstring`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["fill_docstring", "documented", "WRITE_OPTIONS", "WRITE_INPUT", "WRITE_RESULT", "WRITE_RAISES",
           "QUERY_RAISES"]

WRITE_OPTIONS = """batch_size : int, optional
    At most this many vectors per request (never more than the backend's 5,000, nor 100 MB of NDJSON).
wait : bool, default False
    Return only once the last batch is applied (Vectorize applies writes a few seconds after it
    acknowledges them); see `Index.wait`.
progress : bool, optional
    Show a progress bar (tqdm: a widget in Jupyter). By default only for writes of 4 or more batches,
    and for texts embedded in 4 or more parts (Workers AI requests, or 512 texts each here).
on_error : {"raise", "report"}, default "raise"
    What a failed batch does: raise `WriteIncomplete` (its `.result` says what was written), or
    return a `WriteResult` that reports it (check `.ok`; `.retry()` sends what was not confirmed)."""
WRITE_INPUT = """data : Vectors, list of dict, or sequence of str
    A `Vectors` batch; records `{"id", "values", "metadata"?, "namespace"?}` (no other keys: metadata
    goes in the "metadata" dict); or the ids, with `values` holding one row per id.
values : array-like of shape (n, dimensions), optional
    The vectors, when `data` is a list of ids.
metadata : list of dict, optional
    One metadata object (or None) per id.
namespaces : str or list of str, optional
    One namespace for every vector, or one (or None) per id."""
WRITE_RESULT = """WriteResult
    Rows written, the batches and their mutation ids; `to_frame()` shows them batch by batch."""
WRITE_RAISES = """VectorDimensionMismatch
    A vector has another number of dimensions than the index (nothing of a refused batch is written).
IdTooLong, NamespaceTooLong
    An id or a namespace over 64 bytes of UTF-8; the message names the row or id.
MetadataTooLarge
    A vector's metadata is over 10 KiB as compact JSON.
InvalidVector
    An empty id, or values holding NaN or an infinity.
InvalidMetadata
    Metadata that is not a JSON object of keys and values Vectorize takes.
WriteIncomplete
    With on_error="raise", a request failed; its `.result` says what was written."""
QUERY_RAISES = """TopKTooLarge
    `top_k` over 100, or over 50 with `return_values` or `return_metadata="all"`.
InvalidQuery
    `top_k` below 1, or a query vector holding NaN or an infinity.
InvalidFilter
    A filter that breaks Vectorize's grammar, or an `F` condition on a property with no metadata index.
QueryDimensionMismatch
    A query vector of another number of dimensions than the index.
MalformedRequest
    An argument of the wrong type: a query that is neither numbers nor a text, a `top_k` that is not a
    number, a `namespace` that is not a string, a `return_metadata` other than "none", "indexed" or "all"."""
_FRAGMENTS = {"{write_options}": WRITE_OPTIONS, "{write_input}": WRITE_INPUT, "{write_result}": WRITE_RESULT,
              "{write_raises}": WRITE_RAISES, "{query_raises}": QUERY_RAISES}
_Function = TypeVar("_Function", bound=Callable[..., Any])


def fill_docstring(function: _Function, fragments: dict[str, str]) -> _Function:
    """Replace each line of a docstring that is only a `{placeholder}` of `fragments` by its text,
    indented like the placeholder (shared parameter descriptions, as plotly express does)."""
    def fragment(match: re.Match[str]) -> str:
        indent, placeholder = match.groups()
        text = fragments.get(placeholder)
        return match.group(0) if text is None else indent + text.replace("\n", "\n" + indent)

    if function.__doc__:
        function.__doc__ = re.sub(r"^( *)(\{\w+\})$", fragment, function.__doc__, flags=re.M)
    return function


def documented(function: _Function) -> _Function:
    """Fill the shared descriptions of a write's input, options, result and errors, and a query's errors, into a
    docstring (`{write_input}`, `{write_options}`, `{write_result}`, `{write_raises}`, `{query_raises}`): one text
    for every function that takes them."""
    return fill_docstring(function, _FRAGMENTS)
