"""Vectorize's metadata filter grammar: parsed, validated, and evaluated as numpy masks.

    {"genre": "drama"}                                  implicit $eq
    {"genre": {"$in": ["drama", "comedy"]}}             $eq $ne $in $nin $lt $lte $gt $gte
    {"year": {"$gte": 1990, "$lt": 2000}}               one lower plus one upper bound per key
    {"pandas.nice": 42}                                 dots reach into nested objects
    {"genre": "drama", "year": {"$gt": 2000}}           several keys: AND (there is no OR)

`parse_filter` raises `InvalidFilter` naming the key and the rule it breaks. `evaluate` ANDs the
clauses over columns that know how to match one operator (the local engine's metadata indexes).
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from collections.abc import Mapping

import numpy as np

from .dates import iso_text
from .errors import InvalidFilter
from .limits import Limits
from .numbers import plain

__all__ = [
    "Clause", "Filter", "Column", "parse_filter", "evaluate", "truncate_utf8", "held_value", "is_number",
    "json_kind", "not_an_object", "value_fits", "operand_fits", "FilterMiss", "silent_misses", "predating_miss",
    "OPERATORS", "SYMBOLS", "LOWER", "UPPER",
]

EQUALITY = ("$eq", "$ne")
MEMBERSHIP = ("$in", "$nin")
LOWER = ("$gt", "$gte")
UPPER = ("$lt", "$lte")
OPERATORS = EQUALITY + MEMBERSHIP + LOWER + UPPER
SYMBOLS = {"$eq": "==", "$ne": "!=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">=", "$in": "in", "$nin": "not in"}
"""Each operator as Python writes it (how `F` conditions and `explain_filter` show a clause)."""

Scalar = str | int | float | bool | None
_grammar = InvalidFilter.of_grammar
_COMPARISON = re.compile(r"\s*([A-Za-z_][\w.]*)\s*(==|!=|<=|>=|<|>)\s*(.{1,200}?)\s*")
"""One comparison as pandas' query() writes it: `label == 1`, `genre != 'drama'`."""


def is_number(value: Any) -> bool:
    """A number (Python's or numpy's), not a bool (which Python counts as an int)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def json_kind(value: Any, *, shown: bool = False) -> str:
    """What JSON calls a value ("null", "a string", "an array"...), as errors word it for callers of
    either side; `shown`: a scalar's JSON text after its kind (`a boolean true`)."""
    if value is None:
        return "null"
    kinds = ((bool, np.bool_), "a boolean"), ((str,), "a string"), ((dict,), "an object"), ((list, tuple), "an array")
    kind = next((name for types, name in kinds if isinstance(value, types)), None)
    kind = kind or ("a number" if is_number(value) else type(value).__name__)
    if shown and kind in ("a boolean", "a string", "a number"):
        text = json.dumps(value.item() if isinstance(value, np.generic) else value, ensure_ascii=False)
        return f"{kind} {text if len(text) <= 40 else text[:37] + '...'}"
    return kind


def value_fits(index_type: str, value: Any) -> bool:
    """Whether a value has a metadata index's type (the index holds only values of its type)."""
    if index_type == "string":
        return isinstance(value, str)
    if index_type == "boolean":
        return isinstance(value, (bool, np.bool_))
    return is_number(value)


def operand_fits(index_type: str, clause: Clause) -> bool:
    """Whether a clause's value has the metadata index's type (null fits equality tests of any type;
    in a list, values of other types are ignored as long as one fits, null included)."""
    if clause.op in LOWER + UPPER:
        return value_fits(index_type, clause.operand)
    values = clause.operand if isinstance(clause.operand, list) else [clause.operand]
    return not values or any(v is None or value_fits(index_type, v) for v in values)


@dataclass(frozen=True, slots=True)
class FilterMiss:
    """A clause that silently leaves vectors out: `reason` is "no index" (its property has no metadata
    index), "type" (its value has another type than the index) or "predating" (vectors written before
    the metadata index, which no clause on it matches)."""

    property: str
    reason: str
    message: str


def silent_misses(flt: Filter, index_types: Mapping[str, str], index: str) -> list[FilterMiss]:
    """The clauses that match nothing whatever the vectors hold: their property has no metadata index,
    or their value has another type than the index. Vectorize answers such a query without a word."""
    misses = []
    for clause in flt.clauses:
        kind = index_types.get(clause.key)
        if kind is None:
            misses.append(FilterMiss(clause.key, "no index", (
                f'filter on "{clause.key}": index {index!r} has no metadata index for "{clause.key}", so this '
                f'clause matches nothing; create one with create_metadata_index("{clause.key}", type), then '
                "write the vectors again (rewrite()); explain_filter() says more")))
        elif not operand_fits(kind, clause):
            misses.append(FilterMiss(clause.key, "type", (
                f'filter on "{clause.key}": its metadata index holds {kind} values, so {clause.op} '
                f"{clause.operand!r} matches nothing")))
    return misses


def predating_miss(property_name: str, predating: int, total: int, index: str) -> FilterMiss:
    """The miss of vectors written before a property's metadata index (only the embedded engine can count them)."""
    were = "was" if predating == 1 else "were"
    return FilterMiss(property_name, "predating", (
        f'filter on "{property_name}": {predating:,} of the {total:,} vectors of {index!r} {were} written before '
        f'the metadata index on "{property_name}" was created, so no filter on it matches them (as on '
        "Vectorize); rewrite() writes them again"))


@dataclass(frozen=True, slots=True)
class Clause:
    """One operator on one (possibly dotted) property."""

    key: str
    op: str
    operand: Any

    def to_json(self) -> dict[str, Any]:
        return {self.key: {self.op: self.operand}}


@dataclass(frozen=True, slots=True)
class Filter:
    clauses: tuple[Clause, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(clause.key for clause in self.clauses))

    def to_json(self) -> dict[str, Any]:
        """The filter in Vectorize's JSON form, every operator explicit."""
        out: dict[str, dict[str, Any]] = {}
        for clause in self.clauses:
            out.setdefault(clause.key, {})[clause.op] = clause.operand
        return out

    def __bool__(self) -> bool:
        return bool(self.clauses)


class Column(Protocol):
    """What `evaluate` needs from a metadata index: a mask of the rows one clause matches."""

    def match(self, op: str, operand: Any, count: int) -> np.ndarray: ...


def parse_filter(raw: Any, limits: Limits) -> Filter:
    """Validate a filter object and return its clauses. `None` and `{}` mean no filter."""
    if raw is None:
        return Filter(())
    if isinstance(raw, Filter):
        return raw
    if not isinstance(raw, dict):
        raise not_an_object(raw)
    clauses: list[Clause] = []
    for key, spec in raw.items():
        _check_key(key, limits)
        clauses.extend(_clauses(key, spec))
    try:
        # the operands passed _clauses: the only values json cannot write are numpy's scalars
        size = len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False, default=np.generic.item).encode())
    except UnicodeEncodeError as exc:  # a lone surrogate: no JSON text can carry it
        raise InvalidFilter(f"filter text must be valid Unicode, got {exc.object[exc.start:exc.end]!r}") from None
    if size >= limits.max_filter_bytes:
        raise InvalidFilter(
            f"filter too large; its compact JSON must be under {limits.max_filter_bytes} bytes, got {size} bytes")
    return Filter(tuple(clauses))


def not_an_object(raw: Any) -> InvalidFilter:
    """The refusal of a filter that is not a JSON object; for a string (a pandas query), how `F` writes it."""
    return _grammar(f"filter must be a JSON object, got {json_kind(raw)}{_with_f(raw) if isinstance(raw, str) else ''}")


def _with_f(query: str) -> str:
    """A pandas query string's comparison as `F` writes it, or an example when it is not one comparison."""
    found = _COMPARISON.fullmatch(query)
    try:
        value = ast.literal_eval(found.group(3)) if found else None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        value = None
    if found and (isinstance(value, (str, int)) or isinstance(value, float) and math.isfinite(value)):
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
        return f'; build it with F: F("{found.group(1)}") {found.group(2)} {shown}'
    return '; build it with F, e.g. (F("genre") == "drama") & (F("year") > 1990)'


def _check_key(key: Any, limits: Limits) -> None:
    if not isinstance(key, str) or not key:
        raise _grammar(f"filter keys must be non-empty strings, got {json_kind(key, shown=True)}")
    if len(key) > limits.max_filter_key_chars:
        raise InvalidFilter(
            f"filter key too long; max is {limits.max_filter_key_chars} characters, got {len(key)}")
    if '"' in key:
        raise _grammar(f"filter key {key!r} contains '\"'")
    if key.startswith("$"):
        raise _grammar(
            f"filter key {key!r} starts with '$'; operators go inside a key's object "
            "(there is no $and, $or or $not: several keys already mean AND)")
    if any(not part for part in key.split(".")):
        raise _grammar(f"filter key {key!r} has an empty part between dots")


def _clauses(key: str, spec: Any) -> list[Clause]:
    if not isinstance(spec, dict):
        if isinstance(spec, list):
            raise _grammar(f"filter on {key!r}: a list needs an operator, e.g. {{\"$in\": [...]}}")
        return [Clause(key, "$eq", _scalar(key, "$eq", spec))]
    if not spec:
        raise _grammar(f"filter on {key!r}: the operator object is empty")
    unknown = [op for op in spec if op not in OPERATORS]
    if unknown:
        nested = not any(str(op).startswith("$") for op in unknown)
        advice = (f"to reach a nested property write \"{key}.{unknown[0]}\"" if nested
                  else f"the operators are {', '.join(OPERATORS)}")
        raise _grammar(f"filter on {key!r}: unknown operator {unknown[0]!r}; {advice}")
    _check_combination(key, list(spec))
    return [Clause(key, op, _operand(key, op, operand)) for op, operand in spec.items()]


def _check_combination(key: str, ops: list[str]) -> None:
    if len(ops) == 1:
        return
    lower = [op for op in ops if op in LOWER]
    upper = [op for op in ops if op in UPPER]
    if len(ops) == 2 and len(lower) == 1 and len(upper) == 1:
        return
    raise _grammar(
        f"filter on {key!r}: operators {', '.join(ops)} cannot be combined; only one lower bound "
        "($gt or $gte) with one upper bound ($lt or $lte) may share a key")


def _operand(key: str, op: str, operand: Any) -> Any:
    if op in MEMBERSHIP:
        if not isinstance(operand, list):
            raise _grammar(f"filter on {key!r}: {op} takes a list, got {_refused(operand, shown=True)}")
        return [_scalar(key, op, item) for item in operand]
    if op in LOWER + UPPER:
        if not (isinstance(operand, str) or is_number(operand)):
            raise _grammar(
                f"filter on {key!r}: {op} takes a string or a number, got {_refused(operand, shown=True)}")
    return _scalar(key, op, operand)


def _scalar(key: str, op: str, value: Any) -> Scalar:
    if isinstance(value, (np.integer, np.floating, np.bool_)):  # from a DataFrame: df.year.iloc[0]
        value = plain(value)
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidFilter(f"filter on {key!r}: {op} operand must be finite, got {value}")
        if isinstance(value, int) and abs(value) >= _BEYOND_FLOAT:  # a number index compares float64
            raise InvalidFilter(f"filter on {key!r}: {op} operand must be a number a float64 holds (at most about "
                                f"1.8e308), got {_shown_integer(value)}")
        return value
    raise _grammar(
        f"filter on {key!r}: {op} takes a string, number, boolean or null, got {_refused(value)}")


_BEYOND_FLOAT = 2**1024 - 2**970
"""The least integer float() rounds to infinity (halfway past the largest float64)."""


def _shown_integer(value: int) -> str:
    """A huge integer in a message: its first digits and how many there are (str() refuses over 4,300)."""
    digits = len(str(abs(value))) if value.bit_length() < 14_000 else None
    if digits is None:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    return f"{str(value)[:20]}... ({digits} digits)"


def _refused(value: Any, *, shown: bool = False) -> str:
    """A refused operand's kind, and for a date, how dates are stored and what to compare them with."""
    kind = json_kind(value, shown=shown)
    if isinstance(value, (date, np.datetime64)):
        kind += (f"; a date is stored as the text written (df.vectorize.upsert writes a datetime as ISO 8601, "
                 f"{iso_text(value)!r}): compare with such a string")
    return kind


def evaluate(flt: Filter, columns: Mapping[str, Column], count: int) -> np.ndarray | None:
    """The rows (of `count`) that match every clause, or None for an empty filter.

    A clause on a property without a column (no metadata index) matches nothing.
    """
    if not flt:
        return None
    mask = np.ones(count, dtype=bool)
    for clause in flt.clauses:
        column = columns.get(clause.key)
        if column is None:
            return np.zeros(count, dtype=bool)
        mask &= column.match(clause.op, clause.operand, count)
    return mask


def truncate_utf8(text: str, limit: int) -> str:
    """The longest prefix of `text` that is at most `limit` bytes of UTF-8 (how string indexes store it)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def held_value(index_type: str, value: Any, limit: int) -> Any:
    """A metadata value as its index holds it, or None where it holds none (null, another type, an array with
    no element of its type): only the values of its type, strings cut to `limit` bytes."""
    if isinstance(value, list):
        kept = [held_value(index_type, item, limit) for item in value if value_fits(index_type, item)]
        return kept or None
    if not value_fits(index_type, value):
        return None
    return truncate_utf8(value, limit) if isinstance(value, str) else value
