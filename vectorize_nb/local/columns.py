"""Metadata indexes held as columns, one entry per matrix row, so a filter clause is a numpy mask.

Each row is in one of four states:
    NOT_INDEXED  written before the metadata index existed: no clause on it matches, not even $ne
    ABSENT       written after, without a value of the index's type, alone or in an array: missing, null,
                 another type, `[]` ($ne/$nin match, $eq null matches)
    ONE          one value, kept in `keys`
    MANY         an array holding values of the index's type; they sit in `many` (the others are dropped;
                 $eq/$in match when any element does)

String values are cut to their first 64 bytes (by the index), and so are string operands.
A clause whose operand has another type than the index matches nothing.
"""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from typing import Any, ClassVar
from collections.abc import Callable, Sequence

import numpy as np

from ..contract.filters import is_number, truncate_utf8

__all__ = ["MISSING", "MetadataColumn", "StringColumn", "NumberColumn", "BooleanColumn", "column_for"]

NOT_INDEXED, ABSENT, ONE, MANY = -1, 0, 1, 2
MISSING = object()
"""The value of a property a vector's metadata does not have."""

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge,
}


class MetadataColumn(ABC):
    key_dtype: ClassVar[type] = np.float64
    index_type: ClassVar[str]

    def __init__(self, capacity: int) -> None:
        self.state: np.ndarray = np.full(capacity, NOT_INDEXED, dtype=np.int8)
        self.keys: np.ndarray = np.zeros(capacity, dtype=self.key_dtype)
        self.many: dict[int, np.ndarray] = {}

    # --- keeping rows in step with the matrix -------------------------------------------------

    def grow(self, capacity: int) -> None:
        extra = capacity - len(self.state)
        if extra > 0:
            self.state = np.concatenate([self.state, np.full(extra, NOT_INDEXED, dtype=np.int8)])
            self.keys = np.concatenate([self.keys, np.zeros(extra, dtype=self.key_dtype)])

    def write(self, slots: Sequence[int], values: Sequence[Any]) -> None:
        """Index rows' values (MISSING where a row lacks the property), written after this index exists."""
        states = np.full(len(slots), ABSENT, dtype=np.int8)
        keys: np.ndarray = np.zeros(len(slots), dtype=self.key_dtype)
        stored_key = self.stored_key
        held: dict[int, list[Any]] = {}
        for pos, value in enumerate(values):
            if value is MISSING:
                continue
            if isinstance(value, list):
                elements = [key for key in map(stored_key, value) if key is not None]
                if elements:  # an array holding no value of the index's type is absent, as such a value alone is
                    states[pos] = MANY
                    held[pos] = elements
                continue
            key = stored_key(value)
            if key is not None:
                states[pos] = ONE
                keys[pos] = key
        rows = np.asarray(slots, dtype=np.int64)
        self.state[rows] = states
        self.keys[rows] = keys
        if self.many:
            for slot in slots:
                self.many.pop(slot, None)
        for pos, elements in held.items():
            self.many[int(rows[pos])] = np.asarray(elements, dtype=self.key_dtype)

    def restore_many(self, many: dict[int, list[Any]]) -> None:
        """Take back the arrays of a saved column (its states already read). An earlier version kept an array
        holding no value of the index's type as an array of no elements: it is absent."""
        self.many = {}
        for slot, keys in many.items():
            if keys:
                self.many[slot] = np.asarray(keys, dtype=self.key_dtype)
            elif 0 <= slot < len(self.state) and self.state[slot] == MANY:
                self.state[slot] = ABSENT

    def forget(self, slots: Sequence[int]) -> None:
        """Rows written before this index existed: no clause on this property matches them."""
        self.state[np.asarray(slots, dtype=np.int64)] = NOT_INDEXED
        if self.many:
            for slot in slots:
                self.many.pop(slot, None)

    def move(self, src: int, dst: int) -> None:
        """Row `src` now lives at `dst` (the matrix swap-removed `dst`)."""
        self.state[dst] = self.state[src]
        self.keys[dst] = self.keys[src]
        if src in self.many:
            self.many[dst] = self.many.pop(src)
        else:
            self.many.pop(dst, None)
        self.state[src] = NOT_INDEXED

    # --- matching -------------------------------------------------------------------------------

    def match(self, op: str, operand: Any, count: int) -> np.ndarray:
        if op in ("$eq", "$ne"):
            hit = self._member([operand], count)
        elif op in ("$in", "$nin"):
            hit = self._member(operand, count)
        else:
            hit = self._range(op, operand, count)
        if hit is None:
            return np.zeros(count, dtype=bool)
        if op in ("$ne", "$nin"):
            hit = (self.state[:count] != NOT_INDEXED) & ~hit
        return hit

    def _member(self, operands: list[Any], count: int) -> np.ndarray | None:
        if not operands:
            return np.zeros(count, dtype=bool)
        want_absent = any(value is None for value in operands)
        typed = [self.query_key(value) for value in operands if value is not None]
        keys = [key for key in typed if key is not None]
        if not keys and not want_absent:
            return None
        state = self.state[:count]
        wanted: np.ndarray = np.asarray(keys, dtype=self.key_dtype)
        values = self.keys[:count]
        hit: np.ndarray = (state == ONE) & (values == wanted[0] if len(wanted) == 1 else np.isin(values, wanted))
        if want_absent:
            hit |= state == ABSENT
        self._mark_many(hit, lambda elements: bool(np.isin(elements, wanted).any()))
        return hit

    def _range(self, op: str, operand: Any, count: int) -> np.ndarray | None:
        test = self.range_test(op, operand)
        if test is None:
            return None
        hit: np.ndarray = (self.state[:count] == ONE) & test(self.keys[:count])
        self._mark_many(hit, lambda elements: bool(test(elements).any()))
        return hit

    def _mark_many(self, hit: np.ndarray, any_element: Callable[[np.ndarray], bool]) -> None:
        count = len(hit)
        for slot, elements in self.many.items():
            if slot < count and len(elements) and any_element(elements):
                hit[slot] = True

    # --- per type -------------------------------------------------------------------------------

    @abstractmethod
    def stored_key(self, value: Any) -> Any:
        """The key a stored value is indexed under, or None when the index does not hold it."""

    def query_key(self, value: Any) -> Any:
        """The key an operand compares as, or None on a type mismatch."""
        return self.stored_key(value)

    def range_test(self, op: str, operand: Any) -> Callable[[np.ndarray], np.ndarray] | None:
        return None


class NumberColumn(MetadataColumn):
    key_dtype = np.float64
    index_type = "number"

    def stored_key(self, value: Any) -> float | None:
        return float(value) if is_number(value) else None

    def range_test(self, op: str, operand: Any) -> Callable[[np.ndarray], np.ndarray] | None:
        if not is_number(operand):
            return None
        compare, bound = _COMPARE[op], float(operand)
        return lambda keys: compare(keys, bound)


class BooleanColumn(MetadataColumn):
    key_dtype = np.int8
    index_type = "boolean"

    def stored_key(self, value: Any) -> int | None:
        return int(value) if isinstance(value, (bool, np.bool_)) else None


class StringColumn(MetadataColumn):
    """Strings are dictionary-encoded: `keys` holds codes into `words` (each cut to 64 bytes)."""

    key_dtype = np.int32
    index_type = "string"

    def __init__(self, capacity: int, prefix_bytes: int = 64) -> None:
        super().__init__(capacity)
        self.prefix_bytes = prefix_bytes
        self.codes: dict[str, int] = {}
        self.words: list[str] = []
        self._word_array: np.ndarray | None = None

    def stored_key(self, value: Any) -> int | None:
        if not isinstance(value, str):
            return None
        code = self.codes.get(value)  # most values are short and already known
        if code is not None:
            return code
        word = truncate_utf8(value, self.prefix_bytes)
        code = self.codes.get(word)
        if code is None:
            code = self.codes[word] = len(self.words)
            self.words.append(word)
            self._word_array = None
        return code

    def query_key(self, value: Any) -> int | None:
        if not isinstance(value, str):
            return None
        return self.codes.get(truncate_utf8(value, self.prefix_bytes), -1)

    def range_test(self, op: str, operand: Any) -> Callable[[np.ndarray], np.ndarray] | None:
        if not isinstance(operand, str):
            return None
        if self._word_array is None:
            self._word_array = np.array(self.words, dtype=object)
        bound = truncate_utf8(operand, self.prefix_bytes)
        passing = np.asarray(_COMPARE[op](self._word_array, bound), dtype=bool)
        if not len(passing):
            return lambda codes: np.zeros(len(codes), dtype=bool)
        return lambda codes: passing[codes]

    def restore_words(self, words: list[str]) -> None:
        """Take back the dictionary of a saved column (codes are positions in `words`)."""
        self.words = list(words)
        self.codes = {word: code for code, word in enumerate(self.words)}
        self._word_array = None


def column_for(index_type: str, capacity: int, prefix_bytes: int) -> MetadataColumn:
    if index_type == "string":
        return StringColumn(capacity, prefix_bytes)
    if index_type == "number":
        return NumberColumn(capacity)
    return BooleanColumn(capacity)
