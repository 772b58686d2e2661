"""Arguments of a Python call checked for their type, worded for the Python caller (snake_case, repr of
the value) and refused alike whatever the target, before anything is sent: 40026, as a request body of
the wrong shape is."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, overload

import numpy as np

from ..secret import Secret
from . import errors

__all__ = ["malformed", "ill_typed", "choice", "flag", "text", "whole", "is_whole", "count", "seconds",
           "listed", "api_token"]


def malformed(message: str) -> errors.MalformedRequest:
    """40026 for a Python argument that is not what it must be, said in the caller's terms: without the class's
    hint, which speaks of a request body the caller never wrote."""
    error = errors.MalformedRequest(message)
    error.hint = ""
    return error


def ill_typed(name: str, expected: str, got: Any, *, advice: str = "") -> errors.MalformedRequest:
    return malformed(f"{name} must be {expected}; got {got!r:.80}" + (f"; {advice}" if advice else ""))


def choice(name: str, value: Any, choices: tuple[str, ...]) -> Any:
    """`value` if it is one of `choices` (spelt exactly so)."""
    if not isinstance(value, str) or value not in choices:
        raise ill_typed(name, f"one of {', '.join(map(repr, choices))}", value)
    return value


@overload
def flag(name: str, value: Any, *, advice: str = "") -> bool: ...


@overload
def flag(name: str, value: Any, *, advice: str = "", optional: bool) -> bool | None: ...


def flag(name: str, value: Any, *, advice: str = "", optional: bool = False) -> bool | None:
    """`value` as a bool, where only True or False (numpy's bool_ included) is one: not a string of a bool;
    None too where `optional`."""
    if value is None and optional:
        return None
    if not isinstance(value, (bool, np.bool_)):
        raise ill_typed(name, "True or False" + (" or None" if optional else ""), value, advice=advice)
    return bool(value)


def text(name: str, value: Any, *, optional: bool = False) -> Any:
    """`value` as a plain str (numpy's str_ included), or None where `optional`."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ill_typed(name, "a string" + (" or None" if optional else ""), value)
    return str(value)


def whole(name: str, value: Any) -> Any:
    """`value` unless it is neither None nor a number (a bool, a string): the range is the API's to judge."""
    if value is not None and (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number))):
        raise ill_typed(name, "a whole number or None", value)
    return value


def is_whole(value: Any) -> bool:
    """A whole number: an int (numpy's too) or a float without a fraction, never a bool."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, float) and value.is_integer()


def count(name: str, value: Any, *, optional: bool = False) -> Any:
    """`value` as an int if it is a whole number of at least 1 (2.0 is 2; 2.5, "2" and True are refused), or None
    where `optional`."""
    if value is None and optional:
        return None
    if not is_whole(value) or value < 1:
        raise ill_typed(name, "a whole number of at least 1" + (" or None" if optional else ""), value)
    return int(value)


def seconds(name: str, value: Any) -> float:
    """`value` as a float if it is a finite number of seconds above 0 (not a bool, a string, NaN or an infinity)."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating))
            or not math.isfinite(value) or value <= 0):
        raise ill_typed(name, "a finite number of seconds above 0", value)
    return float(value)


def listed(name: str, value: Any, expected: str, *, advice: str = "") -> Any:
    """`value` if it holds its entries in an order (a list, a tuple, a 1-D array or Series, a generator): not
    one string or bytes (read letter by letter), a dict, a set (in the order of its hashes, which pairs its
    entries with the wrong rows), a frame (it iterates as its column names) nor a 0-d or 2-D array."""
    if (isinstance(value, (str, bytes, Mapping, set, frozenset)) or not isinstance(value, Iterable)
            or getattr(value, "ndim", 1) != 1):
        raise ill_typed(name, expected, value, advice=advice or _listed_advice(name, value))
    return value


def _listed_advice(name: str, value: Any) -> str:
    if isinstance(value, (set, frozenset)):
        return f"a set has no order to pair its entries with the other arguments' rows: pass sorted({name}) or a list"
    if hasattr(value, "columns"):
        return f"a DataFrame iterates as its column names: pass one of its columns, df[{name!r}]"
    return ""


@overload
def api_token(token: str) -> str: ...


@overload
def api_token(token: Secret) -> Secret: ...


def api_token(token: str | Secret) -> str | Secret:
    """A token as an `Authorization: Bearer` header carries it: printable ASCII, without the line break a token
    read from a file often ends with; ConfigurationError (never quoting it) for one a header cannot carry. A Secret
    stays one, and no local here holds it in clear when the error is raised (a traceback may show the locals)."""
    trimmed = Secret((token.reveal() if isinstance(token, Secret) else token).strip())
    unfit = _unfit_at(trimmed)
    if unfit is not None:
        raise errors.ConfigurationError(
            f"the API token holds a character an HTTP header cannot carry (a space, a control character or "
            f"a non-ASCII one) at position {unfit}; an API token is printable ASCII only")
    return trimmed if isinstance(token, Secret) else trimmed.reveal()


def _unfit_at(token: Secret) -> int | None:
    """Where the first character a header cannot carry is, if any."""
    return next((n for n, char in enumerate(token.reveal()) if not "!" <= char <= "~"), None)
