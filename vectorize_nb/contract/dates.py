"""A date or a time as metadata holds it (Vectorize has no date type): the ISO 8601 text `df.vectorize.upsert`
writes for it, which is also the text a filter's refusal of a date offers to compare with."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

__all__ = ["iso_text"]


def iso_text(value: date | np.datetime64) -> str:
    """ISO 8601 text: a date at midnight ('2024-03-05T00:00:00'), a time with a zone in UTC with its offset, as
    Python and pandas write it ('...T10:00:00+00:00': '+' sorts before '.', so a whole second's text sorts before
    its fractions', '...T10:00:00.500000+00:00'); 'NaT' for not-a-time."""
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return "NaT"
        value = datetime.fromisoformat(str(value.astype("datetime64[us]")))
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).isoformat()
    return moment.isoformat()
