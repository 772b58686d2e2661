"""The embedded Vectorize engine (and, in `server`, its HTTP front end). Imports neither pandas nor requests."""

from .engine import LocalEngine

__all__ = ["LocalEngine"]
