# The public face of `contract.errors`: the exception tree, keyed by Cloudflare's error codes.
from .contract.errors import *  # noqa: F403
from .contract.errors import __all__, __doc__  # noqa: F401
