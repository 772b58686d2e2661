"""Vectorize's documented limits, as one value.

The local engine enforces a `Limits`; the client sizes its batches with the same value and fails
fast before a round trip. The defaults are Cloudflare's published numbers (see the fidelity page
for where each comes from). A smaller `min_dimensions` is handy for teaching with tiny vectors.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields, replace

__all__ = ["Limits", "DEFAULT_LIMITS", "limits_given"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Every numeric rule of the v2 API, Cloudflare's published values by default. Sizes are bytes (of
    UTF-8, or of compact JSON for metadata and filters) unless a name says otherwise.

    Attributes
    ----------
    max_top_k, max_top_k_with_data : int
        The largest topK of a query; with values or all metadata returned, the smaller one.
    max_vectors_per_write, max_body_bytes : int
        Vectors in one insert or upsert request, and the bytes of its body.
    max_id_bytes, max_namespace_bytes, max_metadata_bytes : int
        One vector's id, namespace and metadata.
    max_metadata_indexes, indexed_string_bytes : int
        Metadata indexes an index may have; the leading bytes of a string value that an index keeps
        (a filter compares those).
    max_filter_bytes, max_filter_key_chars : int
        A filter's compact JSON (it must be under this), and one key's length in characters.
    min_dimensions, max_dimensions, max_index_name_bytes : int
        An index's vector width, and its name.
    max_get_ids, max_delete_ids : int
        Ids in one get-by-ids and one delete-by-ids request (the client splits longer lists).
    min_list_count, max_list_count, default_list_count : int
        The page size of list-vectors.
    cursor_ttl_seconds : float
        Seconds a list-vectors cursor stays valid.

    Examples
    --------
    >>> client = vz.connect("memory", limits=vz.DEFAULT_LIMITS.with_changes(min_dimensions=2))
    """

    max_top_k: int = 100
    max_top_k_with_data: int = 50
    max_vectors_per_write: int = 5000
    max_body_bytes: int = 100_000_000
    max_id_bytes: int = 64
    max_namespace_bytes: int = 64
    max_metadata_bytes: int = 10_240
    max_metadata_indexes: int = 10
    max_filter_bytes: int = 2048
    max_filter_key_chars: int = 512
    indexed_string_bytes: int = 64
    min_dimensions: int = 32
    max_dimensions: int = 1536
    max_index_name_bytes: int = 64
    max_get_ids: int = 20
    max_delete_ids: int = 100
    min_list_count: int = 1
    max_list_count: int = 1000
    default_list_count: int = 100
    cursor_ttl_seconds: float = 3600.0

    def __post_init__(self) -> None:
        """Refuse a limit no engine can keep, naming it: each a whole number of at least 1 (the TTL a finite
        number of seconds above 0), and every pair of lower and upper bounds in order."""
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "cursor_ttl_seconds":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
                    raise ValueError(f"Limits.cursor_ttl_seconds must be a finite number of seconds above 0; "
                                     f"got {value!r:.80}")
            elif isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"Limits.{field.name} must be a whole number (an int); got {value!r:.80}")
            elif value < 1:
                raise ValueError(f"Limits.{field.name} must be at least 1; got {value!r}")
        for low, high in (("min_dimensions", "max_dimensions"), ("min_list_count", "default_list_count"),
                          ("default_list_count", "max_list_count"), ("max_top_k_with_data", "max_top_k")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"Limits.{low} ({getattr(self, low)}) must not be above Limits.{high} "
                                 f"({getattr(self, high)})")

    def with_changes(self, **changes: int | float) -> Limits:
        """A copy with some limits changed, e.g. `DEFAULT_LIMITS.with_changes(min_dimensions=2)`."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def top_k_cap(self, return_values: bool, return_metadata: str) -> int:
        """The largest topK allowed for these return options (`max_top_k_with_data` when a query returns
        values or all metadata, else `max_top_k`)."""
        if return_values or return_metadata == "all":
            return self.max_top_k_with_data
        return self.max_top_k


DEFAULT_LIMITS = Limits()


def limits_given(limits: object) -> Limits:
    """The `limits=` of connect (and of serve), refused unless a `Limits`."""
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be a vz.Limits, such as vz.DEFAULT_LIMITS.with_changes(min_dimensions=2); got "
                        f"{limits!r:.80}")
    return limits
