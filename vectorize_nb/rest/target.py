"""Where a REST backend sends its requests: Cloudflare's API, or another server that speaks it (`vectorize-nb
serve`, a stand-in), decided once from connect()'s target; and what each needs of a user it refuses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..contract.errors import ConfigurationError
from ..environment import SERVE_TOKEN_ENV

__all__ = ["Target", "CLOUDFLARE_API", "ACCOUNT_ENV", "TOKEN_ENV", "check_account_id"]

CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
ACCOUNT_ENV = "CLOUDFLARE_ACCOUNT_ID"
TOKEN_ENV = "CLOUDFLARE_API_TOKEN"
_ACCOUNT_ID = re.compile(r"[0-9a-fA-F]{32}")
_PERMISSIONS = ("the account permission Vectorize Edit (Vectorize Read for reading only; Workers AI Read to embed "
                "text on Workers AI)")


@dataclass(frozen=True)
class Target:
    """A base URL, and whether it is Cloudflare's API (whose token comes from CLOUDFLARE_API_TOKEN and needs
    Vectorize permissions) or another server (whose token is the one it was started with)."""

    base_url: str
    cloudflare: bool

    @classmethod
    def of(cls, target: str) -> Target:
        """The target "cloudflare", or a base URL (Cloudflare's own counts as Cloudflare)."""
        if target == "cloudflare":
            return cls(CLOUDFLARE_API, True)
        return cls(target, urlsplit(target)[:2] == urlsplit(CLOUDFLARE_API)[:2])

    @property
    def token_env(self) -> str:
        """The variable the token comes from when none is given."""
        return TOKEN_ENV if self.cloudflare else SERVE_TOKEN_ENV

    @property
    def unresolved(self) -> str:
        """Why a host name this machine cannot resolve is not tried again, and what to check: the URL given, but
        not Cloudflare's, which the caller need not have typed and which exists."""
        if self.cloudflare:
            return "not retried: this machine cannot resolve Cloudflare's API"
        return "not retried: no host of that name exists; check the URL"

    @property
    def unanswered_hint(self) -> str:
        """What to check when no answer came, where the URL is not to blame ("" elsewhere: TransportError's own)."""
        return "No answer from Cloudflare's API: check this machine's network, DNS or proxy" if self.cloudflare else ""

    def refusal_hint(self, status: int, token_sent: bool) -> str:
        """What to do about an authentication error with `status` (never the token itself)."""
        if self.cloudflare:
            if not token_sent:
                return f"No API token was sent: give one as api_token= or in {TOKEN_ENV}, with {_PERMISSIONS}"
            return f"Check the API token (api_token= or {TOKEN_ENV}): it needs {_PERMISSIONS}"
        if status == 403:  # vectorize-nb serve without a token refusing a web page: its message says what to do
            return ""
        started = ("the token it was started with (`vectorize-nb serve --token`, serve(token=...), or "
                   f"{SERVE_TOKEN_ENV} where it runs)")
        if not token_sent:
            return (f"No API token was sent, and this server requires {started}: give that one as api_token= or in "
                    f"{SERVE_TOKEN_ENV}")
        return (f"This server is not Cloudflare's API: it takes {started}; give that one as api_token= or in "
                f"{SERVE_TOKEN_ENV}")


def check_account_id(account: str, source: str) -> None:
    """Refuse a Cloudflare account id that is not 32 hexadecimal characters, without quoting it: it goes into
    every URL, label and log line, and it may be a token pasted in the wrong place. `source`: where it came from."""
    if not _ACCOUNT_ID.fullmatch(account):
        raise ConfigurationError(
            f"the account id ({source}) is {len(account)} characters long, not one of Cloudflare's account ids, "
            "which are 32 hexadecimal characters (the one in the dashboard's URL, dash.cloudflare.com/<account id>); "
            "it is not quoted here, in case it is a token or another secret given in the wrong place")
