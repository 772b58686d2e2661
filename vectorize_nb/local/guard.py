"""Who may talk to the served engine: the holder of its token, or, without a token, this machine's
own programs but not the web pages open in its browser.

A page can send requests to http://127.0.0.1:8787 from the user's browser: a text/plain POST needs
no CORS preflight, and a page on a domain that is made to resolve to 127.0.0.1 (DNS rebinding) can
even read the answers. Such requests give themselves away, and without a token they are refused
with 403 (Cloudflare's code 10000) and a message that says how to allow them:

- an `Origin` header the user did not allow (browsers send it with every cross-origin request and
  every POST; programs such as requests, the Cloudflare SDKs and wrangler send none);
- a `Host` header that is not this server's loopback name (localhost, 127.0.0.1, [::1], with its
  port): a page reached through DNS rebinding names its own host.

An allowed origin also gets CORS headers and preflight answers, so a browser app served from it can
use the server. A server bound to a wildcard address (0.0.0.0, ::) accepts any Host.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from ..contract import arguments, errors, wire
from ..secret import Secret

__all__ = ["Guard", "given_token", "is_loopback", "normalise_origin", "LOOPBACK_NAMES"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_WILDCARDS = ("0.0.0.0", "::", "")
_METHODS = "GET, POST, DELETE"
log = logging.getLogger("vectorize_nb.server")


def is_loopback(host: str) -> bool:
    """Whether an address to bind (a name or an IP literal) reaches this machine only."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def normalise_origin(origin: str) -> str:
    """An origin as browsers send it (`scheme://host[:port]`, lower case), or ValueError."""
    if origin == "null":
        return origin
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username:
        raise ValueError(f"an allowed origin is a scheme, a host and maybe a port, such as "
                         f"http://localhost:3000 (no path), got {origin!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _split_host(header: str) -> tuple[str, int | None]:
    """('127.0.0.1', 8787) for '127.0.0.1:8787', ('::1', None) for '[::1]'."""
    if header.startswith("["):
        name, _, rest = header[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = header.partition(":")
    return name.lower().rstrip("."), wire.decimal(port, 5)


def given_token(token: str | Secret | None) -> Secret | None:
    """The token a server requires, as a Secret: none when it is unset, empty or blank (`VECTORIZE_NB_SERVE_TOKEN=`
    unsets it in a shell), so that "no token" is one state everywhere (the loopback-only rule included); one that
    no HTTP header can carry, as a client sends it, is a ConfigurationError."""
    token = Secret.of(token)
    return arguments.api_token(token) if token and token.reveal().strip() else None


class Guard:
    """The checks every request passes before it is routed (see the module's docstring)."""

    def __init__(self, token: str | Secret | None = None, allowed_origins: Iterable[str] = (), host: str = "127.0.0.1",
                 port: int | None = None) -> None:
        self._token = given_token(token)
        self.allowed_origins = frozenset(normalise_origin(origin) for origin in allowed_origins)
        self.listen(host, port)

    def listen(self, host: str, port: int | None) -> None:
        """Name the address the server listens on; `port=None` accepts any port in a Host header."""
        name = host.strip("[]").lower()
        self.any_host = name in _WILDCARDS
        self.host_names = frozenset(LOOPBACK_NAMES) | {name}
        self.port = port

    def __repr__(self) -> str:
        return f"Guard(token={'set' if self._token else 'none'}, origins={sorted(self.allowed_origins)})"

    def check(self, request: Request) -> None:
        """Raise the 401/403 error a request gets, if any."""
        if self._token is not None:
            self._authorize(request)
            return
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower().rstrip("/") not in self.allowed_origins:
            raise self._refuse(request, f"Origin {origin!r} is not allowed: a web page sent this request. To let a "
                                        f"browser app at that origin use this server, start it with --allow-origin "
                                        f"{origin} (serve(allowed_origins=[...])), or give the server a token")
        header = request.headers.get("Host")
        if header is not None and not self.any_host and not self._host_allowed(header):
            where = f" on port {self.port}" if self.port is not None else ""
            raise self._refuse(request, f"Host {header!r} is not this server's loopback name (localhost, 127.0.0.1 or "
                                        f"[::1]{where}): a web page reaching the server through another name sends "
                                        "such a request. Address the server by its loopback URL, or give it a token")

    def _host_allowed(self, header: str) -> bool:
        name, port = _split_host(header)
        if name not in self.host_names:
            return False
        return self.port is None or (port if port is not None else 80) == self.port

    def _authorize(self, request: Request) -> None:
        assert self._token is not None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self._token.reveal().encode()):
            raise errors.AuthenticationError("Authentication error")

    @staticmethod
    def _refuse(request: Request, reason: str) -> errors.AuthenticationError:
        log.warning("refused %s %r: %s", request.method, request.path, reason)
        return errors.AuthenticationError(f"vectorize-nb serve without a token refuses this request. {reason}",
                                          status=403)

    # --- CORS for the allowed origins ----------------------------------------------------------

    def allowed(self, request: Request) -> str | None:
        """The request's origin when the user allowed it."""
        origin = request.headers.get("Origin")
        return origin if origin is not None and origin.lower().rstrip("/") in self.allowed_origins else None

    def preflight(self, request: Request) -> Response | None:
        """The answer to a browser's CORS preflight (OPTIONS with Access-Control-Request-Method), else None."""
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        origin = self.allowed(request)
        if origin is None:
            return None
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = _METHODS
        response.headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", "Authorization, Content-Type")
        response.headers["Access-Control-Max-Age"] = "600"
        return self.decorate(request, response)

    def decorate(self, request: Request, response: Response) -> Response:
        """Add the CORS headers an allowed origin's request gets."""
        origin = self.allowed(request)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response
