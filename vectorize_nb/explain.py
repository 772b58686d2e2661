"""What a filter will do on an index, clause by clause, in words and numbers (Index.explain_filter)."""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
import pandas as pd

from .contract.filters import LOWER, SYMBOLS, UPPER, Clause, Filter, operand_fits, truncate_utf8, value_fits
from .contract.limits import Limits
from .contract.models import ClauseCounts, FilterCounts
from .contract.validation import utf8_len

__all__ = ["clauses_frame", "matches"]



def _long_strings(clause: Clause, limits: Limits) -> bool:
    values = clause.operand if isinstance(clause.operand, list) else [clause.operand]
    return any(isinstance(v, str) and utf8_len(v) > limits.indexed_string_bytes for v in values)


def _needs_value(clause: Clause) -> bool:
    """Whether the clause matches only vectors holding a value of its index's type (not $ne, $nin, null)."""
    if clause.op in ("$eq", "$in"):
        return None not in (clause.operand if clause.op == "$in" else [clause.operand])
    return clause.op not in ("$ne", "$nin")


def _note(clause: Clause, kind: str | None, fits: bool, prefix: bool, numbers: ClauseCounts | None,
          limits: Limits) -> str:
    if kind is None:
        return f'no metadata index on "{clause.key}": this clause matches nothing'
    if not fits:
        return f"the metadata index holds {kind} values: this value matches nothing"
    notes = []
    if numbers is None:
        notes.append("vectors written before the metadata index existed are never matched (this backend "
                     "cannot count them)")
    elif numbers.predating:
        were = "vector was" if numbers.predating == 1 else "vectors were"
        notes.append(f"{numbers.predating} {were} written before the metadata index and cannot match until "
                     "written again")
    if numbers is not None and numbers.lacking and _needs_value(clause):
        hold = "vector holds" if numbers.lacking == 1 else "vectors hold"
        notes.append(f'{numbers.lacking} {hold} no {kind} value for "{clause.key}" (it is missing or of another '
                     "type), so this clause cannot match them")
    if prefix:
        notes.append(f"strings are compared on their first {limits.indexed_string_bytes} bytes only")
    return "; ".join(notes) or "ok"


def clauses_frame(flt: Filter, types: dict[str, str], counts: FilterCounts | None, limits: Limits) -> pd.DataFrame:
    rows = []
    for position, clause in enumerate(flt.clauses):
        kind = types.get(clause.key)
        fits = kind is not None and operand_fits(kind, clause)
        prefix = _long_strings(clause, limits)
        numbers = counts.clauses[position] if counts is not None else None
        known = numbers if kind is not None else None
        rows.append({
            "clause": f"{clause.key} {SYMBOLS[clause.op]} {clause.operand!r}",
            "property": clause.key, "operator": clause.op, "value": clause.operand,
            "metadata_index": kind, "value_type_fits": fits, "compared_on_prefix": prefix,
            "vectors_predating_index": pd.NA if known is None else known.predating,
            "vectors_lacking_value": pd.NA if known is None else known.lacking,
            "matching_vectors": pd.NA if numbers is None else numbers.matches,
            "note": _note(clause, kind, fits, prefix, numbers, limits),
        })
    frame = pd.DataFrame(rows, columns=list(_COLUMNS))
    for column in ("vectors_predating_index", "vectors_lacking_value", "matching_vectors"):
        frame[column] = frame[column].astype("Int64")
    return frame


_COLUMNS = ("clause", "property", "operator", "value", "metadata_index", "value_type_fits", "compared_on_prefix",
            "vectors_predating_index", "vectors_lacking_value", "matching_vectors", "note")
"""A clause's row: an empty filter has none, with the same columns."""


def matches(stored: pd.DataFrame, ids: list[str], flt: Filter, types: dict[str, str], namespace: str | None,
            prefix: int = 64) -> pd.Series:
    """Which of `ids` a filter lets through, worked out from fetched metadata (as if every vector were
    in every metadata index: the client cannot see which vectors predate one)."""
    known = {vid: position for position, vid in enumerate(stored["id"].tolist())}
    records = [{str(k): v for k, v in record.items()} for record in
               stored.drop(columns=[c for c in ("id", "namespace", "values") if c in stored]).to_dict("records")]
    allowed = np.zeros(len(ids), dtype=bool)
    for position, vid in enumerate(ids):
        where = known.get(vid)
        if where is None:
            continue
        if namespace is not None and stored["namespace"].iloc[where] != namespace:
            continue
        allowed[position] = all(_clause_holds(clause, records[where], types.get(clause.key), prefix)
                                for clause in flt.clauses)
    return pd.Series(allowed, index=ids, dtype=bool)


def _clause_holds(clause: Clause, record: dict[str, Any], kind: str | None, prefix: int) -> bool:
    """What the engine's metadata index answers (local/columns.py): it holds only values of its type, as
    float64 numbers or strings cut to `prefix` bytes; an array with none of them is absent, as such a value is."""
    if kind is None:
        return False
    value = record.get(clause.key)
    values = value if isinstance(value, list) else [] if isinstance(value, float) and math.isnan(value) else [value]
    held = [_key(kind, v, prefix) for v in values if value_fits(kind, v)]
    if clause.op in LOWER + UPPER:
        if kind == "boolean" or not value_fits(kind, clause.operand):
            return False
        bound, compare = _key(kind, clause.operand, prefix), _COMPARE[clause.op]
        return any(compare(v, bound) for v in held)
    operands = clause.operand if clause.op in ("$in", "$nin") else [clause.operand]
    wanted = [_key(kind, v, prefix) for v in operands if value_fits(kind, v)]
    want_absent = None in operands
    if operands and not wanted and not want_absent:
        return False  # a value of another type matches nothing, not even with $ne or $nin
    hit = any(v in wanted for v in held) or (want_absent and not held)
    return hit if clause.op in ("$eq", "$in") else not hit


def _key(kind: str, value: Any, prefix: int) -> Any:
    """A value of the index's type as the index compares it."""
    if kind == "number":
        return float(value)
    return truncate_utf8(value, prefix) if kind == "string" else bool(value)


_COMPARE: dict[str, Any] = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}
