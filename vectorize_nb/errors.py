# The public face of `contract.errors`: the exception tree, keyed by Cloudflare's error codes, and the errors of
# a write that stopped part-way.
from .contract.errors import *  # noqa: F403
from .contract.errors import __all__ as _tree, __doc__  # noqa: F401
from .write_result import WriteIncomplete, WriteInterrupted

__all__ = [*_tree, "WriteIncomplete", "WriteInterrupted"]
