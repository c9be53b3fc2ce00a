"""The one place Settings become the server setup, with OIC 3's rules applied once before the
first request: each day-one mistake is one line naming the input (exit 2), not an HTTP error
later. The rules are Oracle's: OIC 3's REST API is served by the region's design host and needs
`integrationInstance`; it accepts only OAuth; the scope is the OAuth resource's audience followed
by `urn:opc:resource:consumer::all` (or `/ic/api/`). No HTTP library is imported here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from ..errors import SettingsError
from ..settings import Settings, input_name
from .auth import SCOPE_HINT, Auth, BasicAuth, ClientCredentials
from .url import is_design_host, is_oic3_host, normalise_base_url

OAUTH_FIELDS = ("client_id", "client_secret", "token_url")
# What OAuth needs besides: scope does not pick the way to log in, but is required with it.
OAUTH_REQUIRED = (*OAUTH_FIELDS, "scope")
BASIC_FIELDS = ("username", "password")
SCOPE_SUFFIXES = ("urn:opc:resource:consumer::all", "/ic/api/")


@dataclass(frozen=True)
class ServerConfig:
    """The resolved server setup: all a client (and the first-request checks) needs."""

    base_url: str  # normalised: no credentials, no query, no console path
    instance: str | None  # sent as ?integrationInstance=
    auth: Auth
    project: str | None  # oic-project
    max_workers: int
    deadline: float  # request-deadline
    max_response_size: int
    ca_bundle: str | None
    warnings: tuple[str, ...] = ()  # settings that look wrong but may work

    def where(self) -> str:
        """The server as a user reads it: URL and instance."""
        return self.base_url + (f" (instance {self.instance})" if self.instance else "")


def auth_kind(settings: Settings) -> Literal["oauth", "basic"] | None:
    """A complete way to log in, else the one partly given (its gaps get reported), else None."""
    kinds: tuple[tuple[Literal["oauth", "basic"], tuple[str, ...]], ...] = (
        ("oauth", OAUTH_FIELDS),
        ("basic", BASIC_FIELDS),
    )
    for enough in (all, any):
        for kind, fields in kinds:
            if enough(getattr(settings, f) for f in fields):
                return kind
    return None


def missing_server_settings(settings: Settings) -> list[str]:
    """Input names a server export still lacks: the URL and one complete way to log in (with
    OAuth, its scope too), all at once so that one fix is enough."""
    missing = [] if settings.oic_url else ["oic-url"]
    kind = auth_kind(settings)
    if kind is None:
        missing.append("username+password or client-id+client-secret+token-url+scope")
    else:
        fields = OAUTH_REQUIRED if kind == "oauth" else BASIC_FIELDS
        missing += [input_name(f) for f in fields if not getattr(settings, f)]
    return missing


def server_config(settings: Settings) -> ServerConfig:
    """Check the server settings and resolve them; a SettingsError names the inputs at fault."""
    missing = missing_server_settings(settings)
    if missing:
        hint = f" ({SCOPE_HINT})" if "scope" in missing else ""
        raise SettingsError(f"server settings are missing: {', '.join(missing)}{hint}")
    assert settings.oic_url
    base, url_instance = normalise_base_url(settings.oic_url)
    host = urlsplit(base).hostname or ""
    instance = (settings.oic_instance or "").strip() or url_instance
    scope = (settings.scope or "").strip()
    kind = auth_kind(settings)
    if kind == "oauth" and not scope:
        raise SettingsError(f"scope is required with client-id/client-secret: {SCOPE_HINT}")
    if is_design_host(host) and not instance:
        raise SettingsError(
            f"oic-url {base} is OIC 3's design host, which serves every instance of the "
            "region: set oic-instance to your integration instance name (About page, "
            "'Service instance')"
        )
    auth: Auth
    if kind == "oauth":
        assert settings.client_id and settings.client_secret and settings.token_url
        secret = settings.client_secret.get_secret_value()
        auth = ClientCredentials(settings.token_url, settings.client_id, secret, scope)
    elif is_oic3_host(host):
        raise SettingsError(
            f"username/password (basic auth) against {host}: OIC 3's REST API accepts only "
            "OAuth; set client-id, client-secret, token-url and scope instead"
        )
    else:
        assert settings.username and settings.password
        auth = BasicAuth(settings.username, settings.password.get_secret_value())
    return ServerConfig(
        base_url=base,
        instance=instance,
        auth=auth,
        project=settings.oic_project,
        max_workers=settings.max_workers,
        deadline=settings.request_deadline,
        max_response_size=settings.max_response_size,
        ca_bundle=ca_bundle(),
        warnings=_scope_warnings(scope) if kind == "oauth" else (),
    )


def _scope_warnings(scope: str) -> tuple[str, ...]:
    if not scope.endswith(SCOPE_SUFFIXES):
        return (
            f"scope {scope!r} ends in neither urn:opc:resource:consumer::all nor /ic/api/; "
            f"if the token is refused, fix it: {SCOPE_HINT}",
        )
    if is_design_host(urlsplit(scope.split("urn:", 1)[0]).hostname or ""):
        return (
            "scope names the design host; OIC 3 expects the OAuth resource's audience "
            "(https://<id>.integration.<region>.ocp.oraclecloud.com:443) from the "
            "confidential app's token policy",
        )
    return ()


def ca_bundle() -> str | None:
    """The CA bundle to trust, from REQUESTS_CA_BUNDLE, else SSL_CERT_FILE (requests reads
    only the first itself); a variable naming no file is a settings error."""
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        value = (os.environ.get(name) or "").strip()
        if value:
            if not Path(value).exists():
                raise SettingsError(f"{name} {value} does not exist")
            return value
    return None
