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

import json
import math
from dataclasses import dataclass
from typing import Any, Protocol
from collections.abc import Mapping

import numpy as np

from .errors import InvalidFilter
from .limits import Limits

__all__ = [
    "Clause", "Filter", "Column", "parse_filter", "evaluate", "truncate_utf8", "OPERATORS", "LOWER", "UPPER",
]

EQUALITY = ("$eq", "$ne")
MEMBERSHIP = ("$in", "$nin")
LOWER = ("$gt", "$gte")
UPPER = ("$lt", "$lte")
OPERATORS = EQUALITY + MEMBERSHIP + LOWER + UPPER

Scalar = str | int | float | bool | None


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
        raise InvalidFilter(f"filter must be a JSON object, got {type(raw).__name__}")
    clauses: list[Clause] = []
    for key, spec in raw.items():
        _check_key(key, limits)
        clauses.extend(_clauses(key, spec))
    try:
        size = len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    except UnicodeEncodeError as exc:  # a lone surrogate: no JSON text can carry it
        raise InvalidFilter(f"filter text must be valid Unicode, got {exc.object[exc.start:exc.end]!r}") from None
    if size >= limits.max_filter_bytes:
        raise InvalidFilter(
            f"filter too large; its compact JSON must be under {limits.max_filter_bytes} bytes, got {size} bytes")
    return Filter(tuple(clauses))


def _check_key(key: Any, limits: Limits) -> None:
    if not isinstance(key, str) or not key:
        raise InvalidFilter(f"filter keys must be non-empty strings, got {key!r}")
    if len(key) > limits.max_filter_key_chars:
        raise InvalidFilter(
            f"filter key too long; max is {limits.max_filter_key_chars} characters, got {len(key)}")
    if '"' in key:
        raise InvalidFilter(f"filter key {key!r} contains '\"'")
    if key.startswith("$"):
        raise InvalidFilter(
            f"filter key {key!r} starts with '$'; operators go inside a key's object "
            "(there is no $and, $or or $not: several keys already mean AND)")
    if any(not part for part in key.split(".")):
        raise InvalidFilter(f"filter key {key!r} has an empty part between dots")


def _clauses(key: str, spec: Any) -> list[Clause]:
    if not isinstance(spec, dict):
        if isinstance(spec, list):
            raise InvalidFilter(f"filter on {key!r}: a list needs an operator, e.g. {{\"$in\": [...]}}")
        return [Clause(key, "$eq", _scalar(key, "$eq", spec))]
    if not spec:
        raise InvalidFilter(f"filter on {key!r}: the operator object is empty")
    unknown = [op for op in spec if op not in OPERATORS]
    if unknown:
        nested = not any(str(op).startswith("$") for op in unknown)
        advice = (f"to reach a nested property write \"{key}.{unknown[0]}\"" if nested
                  else f"the operators are {', '.join(OPERATORS)}")
        raise InvalidFilter(f"filter on {key!r}: unknown operator {unknown[0]!r}; {advice}")
    _check_combination(key, list(spec))
    return [Clause(key, op, _operand(key, op, operand)) for op, operand in spec.items()]


def _check_combination(key: str, ops: list[str]) -> None:
    if len(ops) == 1:
        return
    lower = [op for op in ops if op in LOWER]
    upper = [op for op in ops if op in UPPER]
    if len(ops) == 2 and len(lower) == 1 and len(upper) == 1:
        return
    raise InvalidFilter(
        f"filter on {key!r}: operators {', '.join(ops)} cannot be combined; only one lower bound "
        "($gt or $gte) with one upper bound ($lt or $lte) may share a key")


def _operand(key: str, op: str, operand: Any) -> Any:
    if op in MEMBERSHIP:
        if not isinstance(operand, list):
            raise InvalidFilter(f"filter on {key!r}: {op} takes a list, got {type(operand).__name__}")
        return [_scalar(key, op, item) for item in operand]
    if op in LOWER + UPPER:
        if isinstance(operand, bool) or not isinstance(operand, (str, int, float)):
            raise InvalidFilter(
                f"filter on {key!r}: {op} takes a string or a number, got {type(operand).__name__} {operand!r}")
    return _scalar(key, op, operand)


def _scalar(key: str, op: str, value: Any) -> Scalar:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidFilter(f"filter on {key!r}: {op} operand must be finite, got {value}")
        return value
    raise InvalidFilter(
        f"filter on {key!r}: {op} takes a string, number, boolean or null, got {type(value).__name__}")


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
