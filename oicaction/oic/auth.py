"""How requests to OIC are authorised: basic auth (Gen2) or an OAuth2 client-credentials token
(Gen3) fetched once, shared by every thread and refreshed at most once per rejected request.
Nothing here formats a credential or a token into a message, and no HTTP library is imported
(offline builds check their settings with this module)."""

from __future__ import annotations

import base64
import math
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import OicBuildError, ServerError, SettingsError, one_line
from .url import check_url, shown_url

if TYPE_CHECKING:
    from .http import Answer

# Sends the token request: (token URL, form fields, (client id, client secret)) -> the answer.
PostToken = Callable[[str, dict[str, str], tuple[str, str]], "Answer"]
OnToken = Callable[[str], None]

# Renew a little before the server says the token expires, so a long batch never sends a
# token that dies in flight.
EXPIRY_MARGIN_SECONDS = 60
SCOPE_HINT = (
    "on OIC 3 the scope is the OAuth resource's audience from the confidential app's token "
    "policy followed by urn:opc:resource:consumer::all, e.g. "
    "https://<id>.integration.<region>.ocp.oraclecloud.com:443urn:opc:resource:consumer::all"
)


class BasicAuth:
    """HTTP basic auth with a user and password (OIC Gen2); nothing to refresh."""

    kind = "basic"
    refreshable = False

    def __init__(self, username: str, password: str) -> None:
        raw = f"{username}:{password}".encode()
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")

    def authorization(self, post: PostToken, on_token: OnToken | None = None) -> str:
        return self._header

    def invalidate(self, used: str) -> None:
        return None

    def __repr__(self) -> str:
        return "BasicAuth(***)"


class ClientCredentials:
    """One token per client, renewed when it expires or when the server answers 401, under a
    lock so parallel requests fetch it only once; `on_token` sees it before any answer that
    might echo it is read (the run masks it)."""

    kind = "oauth"
    refreshable = True

    def __init__(
        self, token_url: str, client_id: str, client_secret: str, scope: str | None = None
    ) -> None:
        self.token_url = check_url(token_url, "token-url")
        self._credentials = (client_id, client_secret)
        self.scope = scope or None
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def authorization(self, post: PostToken, on_token: OnToken | None = None) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                token, lifetime = self._fetch(post)
                if on_token is not None:
                    on_token(token)
                self._token = token
                self._expires_at = time.monotonic() + max(lifetime - EXPIRY_MARGIN_SECONDS, 1)
            return f"Bearer {self._token}"

    def invalidate(self, used: str) -> None:
        with self._lock:
            if self._token is not None and used == f"Bearer {self._token}":
                self._token = None

    def _fetch(self, post: PostToken) -> tuple[str, int]:
        where = f"token request to {shown_url(self.token_url)}"
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        answer = post(self.token_url, data, self._credentials)
        if answer.status != 200:
            raise _token_error(answer, where, self.scope)
        body = answer.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            ctype = answer.headers.get("Content-Type", "no content type")
            raise ServerError(f"{where}: the answer ({ctype}) holds no access_token")
        if not _BEARER_TOKEN.fullmatch(token):  # never echoed: it may still be a credential
            raise ServerError(
                f"{where}: the access_token has characters a bearer token cannot hold "
                "(RFC 6750); it is not sent"
            )
        assert isinstance(body, dict)
        return token, _lifetime(body.get("expires_in", 3600))

    def __repr__(self) -> str:
        return f"ClientCredentials({shown_url(self.token_url)!r}, ***)"


Auth = BasicAuth | ClientCredentials  # what a ServerConfig carries


# RFC 6750's b64token: what an Authorization header can carry as it is (no CR/LF, no spaces).
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def _lifetime(value: Any) -> int:
    """`expires_in` as whole seconds between one minute and a day; anything odd is an hour."""
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return 3600
    return int(min(max(seconds, 60), 86400)) if math.isfinite(seconds) else 3600


def _token_error(answer: Answer, where: str, scope: str | None) -> OicBuildError:
    """A refused token request is a settings error naming what to check (exit 2); a failing
    identity domain (5xx after the retries) is a server error."""
    detail = answer.detail()
    said = one_line(f"{where}: HTTP {answer.status} {answer.reason}: {detail}")
    if not scope:
        return ServerError(f"{said} (no scope was sent; {SCOPE_HINT})")
    if answer.status in (400, 401) and "scope" in detail.lower():
        return SettingsError(f"{said} (check scope: {SCOPE_HINT})")
    if answer.status in (400, 401, 403):
        return SettingsError(f"{said} (check client-id and client-secret, then token-url)")
    if answer.status in (404, 405):
        return SettingsError(
            f"{said} (check token-url: https://<identity domain>.identity.oraclecloud.com"
            "/oauth2/v1/token)"
        )
    return ServerError(said)
