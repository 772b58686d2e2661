"""A Python way to write Vectorize filters, compiled to the filter JSON and validated as it is built.

    from vectorize_nb import F
    flt = (F("genre") == "drama") & F("year").between(1990, 1999) & F("lang").isin(["en", "fr"])
    flt.to_json()   # {"genre": {"$eq": "drama"}, "year": {"$gte": 1990, "$lte": 1999}, "lang": {"$in": [...]}}
    index.query(vector, filter=flt)

Vectorize ANDs the keys of a filter and has no OR and no NOT, so `|` and `~` raise an error that
says so. A key takes one operator, or one lower plus one upper bound.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from .contract.errors import InvalidFilter
from .contract.filters import SYMBOLS, Clause, parse_filter, truncate_utf8
from .contract.limits import DEFAULT_LIMITS
from .contract.numbers import doubles

__all__ = ["F", "Condition"]


class Condition:
    """Clauses joined by AND. Build them with `F(...)`; combine them with `&`."""

    def __init__(self, clauses: Iterable[Clause]) -> None:
        self.clauses = tuple(clauses)
        self.filter = parse_filter(_as_json(self.clauses), DEFAULT_LIMITS)

    def to_json(self) -> dict[str, Any]:
        """The condition as Vectorize's filter JSON, every operator explicit: `{"genre": {"$eq": "drama"}}`."""
        return self.filter.to_json()

    def __and__(self, other: Condition) -> Condition:
        if not isinstance(other, Condition):  # not NotImplemented: a frame's & would take it and fail inside pandas
            raise TypeError(f"& joins two F conditions (both must hold), got {type(other).__name__} on its right")
        return Condition(self.clauses + other.clauses)

    def __or__(self, other: object) -> Condition:
        raise InvalidFilter("Vectorize filters have no OR: every key of a filter must hold (AND). Run one query "
                            "per alternative and combine the results, or use F(key).isin([...]) for one key")

    __ror__ = __or__

    def __invert__(self) -> Condition:
        raise InvalidFilter("Vectorize filters have no NOT: use != or F(key).notin([...]) instead")

    def __bool__(self) -> bool:
        # `and`, `or`, `in [...]` and `0 < F(x) < 2` all end here, and Python does not say which called
        raise TypeError("a filter condition has no truth value: join conditions with & (not 'and'; Vectorize has no "
                        "OR, so no 'or' or '|'); for membership use F(key).isin([...]), for a range "
                        "F(key).between(lo, hi)")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and self.to_json() == other.to_json()

    def __hash__(self) -> int:  # of what __eq__ compares: the filter, whatever the order of its clauses
        return hash(frozenset((key, frozenset((op, tuple(value) if isinstance(value, list) else value)
                                              for op, value in ops.items()))
                              for key, ops in self.to_json().items()))

    def __repr__(self) -> str:
        """Python that builds the condition again."""
        parts = [_clause_code(clause) for clause in self.clauses]
        return parts[0] if len(parts) == 1 else " & ".join(f"({part})" for part in parts)


_METHODS = {"$in": "isin", "$nin": "notin"}


def _clause_code(clause: Clause) -> str:
    if clause.op in _METHODS:
        return f"F({clause.key!r}).{_METHODS[clause.op]}({clause.operand!r})"
    return f"F({clause.key!r}) {SYMBOLS[clause.op]} {clause.operand!r}"


def _as_json(clauses: tuple[Clause, ...]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for clause in clauses:
        ops = out.setdefault(clause.key, {})
        if clause.op in ops:
            raise InvalidFilter(f"filter on {clause.key!r}: {clause.op} is given twice")
        ops[clause.op] = clause.operand
    return out


class F:
    """A metadata property, to build filter conditions with Python's operators.

    Parameters
    ----------
    key : str
        The property; dots reach into nested objects (`F("author.name")`).

    Examples
    --------
    >>> (F("genre") == "drama") & (F("year") >= 1990)
    (F('genre') == 'drama') & (F('year') >= 1990)
    >>> F("lang").isin(["en", "fr"]).to_json()
    {'lang': {'$in': ['en', 'fr']}}
    """

    def __init__(self, key: str) -> None:
        self.key = key

    def __repr__(self) -> str:
        return f"F({self.key!r})"

    def _is(self, op: str, operand: Any) -> Condition:
        return Condition([Clause(self.key, op, operand)])

    def __eq__(self, value: Any) -> Condition:  # type: ignore[override]
        return self._is("$eq", value)

    def __ne__(self, value: Any) -> Condition:  # type: ignore[override]
        return self._is("$ne", value)

    def __lt__(self, value: Any) -> Condition:
        return self._is("$lt", value)

    def __le__(self, value: Any) -> Condition:
        return self._is("$lte", value)

    def __gt__(self, value: Any) -> Condition:
        return self._is("$gt", value)

    def __ge__(self, value: Any) -> Condition:
        return self._is("$gte", value)

    __hash__ = object.__hash__

    def isin(self, values: Iterable[Any]) -> Condition:
        """The value is one of `values` (`$in`); an array value matches when any element is."""
        return self._is("$in", self._listed("isin", "$in", values))

    def notin(self, values: Iterable[Any]) -> Condition:
        """The value is none of `values` (`$nin`); a vector without the property matches."""
        return self._is("$nin", self._listed("notin", "$nin", values))

    def _listed(self, method: str, op: str, values: Iterable[Any]) -> list[Any]:
        if isinstance(values, (str, bytes)):  # iterable, but a list of its letters is never what was meant
            raise InvalidFilter(f"filter on {self.key!r}: {op} takes a list, got the string {values!r}; "
                                f"F({self.key!r}).{method}([{values!r}]) for that one value")
        dtype = getattr(values, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype.kind == "f":  # a float32 column: the numbers pandas shows
            return list(doubles(np.asarray(values)).tolist())
        return list(values)

    def between(self, low: Any, high: Any, inclusive: str = "both") -> Condition:
        """low <= value <= high, as one lower and one upper bound.

        Parameters
        ----------
        low, high : str or number
            The bounds (both of one type: strings compare as bytes, on their first 64 bytes).
        inclusive : {"both", "left", "right", "neither"}, default "both"
            Which bounds are included, as in pandas' `Series.between`.
        """
        if inclusive not in ("both", "left", "right", "neither"):
            raise ValueError(f"inclusive is 'both', 'left', 'right' or 'neither', got {inclusive!r}")
        lower = "$gte" if inclusive in ("both", "left") else "$gt"
        upper = "$lte" if inclusive in ("both", "right") else "$lt"
        return Condition([Clause(self.key, lower, low), Clause(self.key, upper, high)])

    def startswith(self, prefix: str) -> Condition:
        """The prefix idiom: prefix <= value < the least string past every value that starts with it."""
        if not isinstance(prefix, str) or not prefix:
            raise InvalidFilter(f"startswith takes a non-empty string, got {prefix!r}")
        kept = DEFAULT_LIMITS.indexed_string_bytes
        if len(prefix.encode("utf-8", "surrogatepass")) > kept:
            raise InvalidFilter(f"filter on {self.key!r}: startswith({prefix!r}) is over {kept} bytes, and a metadata "
                                f"index compares the first {kept} bytes of a string; startswith"
                                f"({truncate_utf8(prefix, kept)!r}) matches the values that begin so")
        past = _past(prefix)
        return Condition([Clause(self.key, "$gte", prefix)] + ([] if past is None else [Clause(self.key, "$lt", past)]))


def _past(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix` (its last character that can be raised,
    raised; None when each is the last there is)."""
    for end in range(len(prefix), 0, -1):
        code = ord(prefix[end - 1]) + 1
        code = 0xE000 if code == 0xD800 else code  # surrogates are no characters of UTF-8
        if code <= 0x10FFFF:
            return prefix[:end - 1] + chr(code)
    return None

