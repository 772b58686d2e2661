"""Helpers shared by the tests."""

from __future__ import annotations

import numpy as np

from vectorize_nb.limits import DEFAULT_LIMITS
from vectorize_nb.models import Vectors

TINY = DEFAULT_LIMITS.with_changes(min_dimensions=2)
"""Cloudflare's limits, except that 2-dimensional vectors are allowed so tests can be read by eye."""


def vectors(ids, values, metadata=None, namespaces=None) -> Vectors:
    return Vectors(list(ids), np.asarray(values, dtype=np.float32), metadata, namespaces)
