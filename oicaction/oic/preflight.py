"""Server settings checked before the first request: each mistake a real OIC 3 user makes on
day one is one line naming the input (exit 2), not an HTTP error later.

The rules come from Oracle's OIC 3 documentation: the REST API is served by the region's design
host and needs `integrationInstance`; OIC 3 accepts only OAuth; the client-credentials scope is
the OAuth resource's audience followed by `urn:opc:resource:consumer::all` (or `/ic/api/`).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import SettingsError
from ..settings import Settings
from .auth import GEN3_SCOPE_HINT
from .url import design_host_region, normalise_base_url, oic3_region

SCOPE_SUFFIXES = ("urn:opc:resource:consumer::all", "/ic/api/")
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


def check_server_settings(settings: Settings) -> list[str]:
    """Raise SettingsError for a server configuration that cannot work; return warnings for
    one that looks wrong. The caller has checked `missing_server_settings()`."""
    assert settings.oic_url
    base, url_instance = normalise_base_url(settings.oic_url)
    host = urlsplit(base).hostname or ""
    instance = (settings.oic_instance or "").strip() or url_instance
    kind = settings.auth_kind()
    warnings: list[str] = []
    if kind == "oauth" and not (settings.scope or "").strip():
        raise SettingsError(f"scope is required with client-id/client-secret: {GEN3_SCOPE_HINT}")
    if kind == "oauth":
        scope = (settings.scope or "").strip()
        if not scope.endswith(SCOPE_SUFFIXES):
            warnings.append(
                f"scope {scope!r} ends in neither urn:opc:resource:consumer::all nor /ic/api/; "
                f"if the token is refused, fix it: {GEN3_SCOPE_HINT}"
            )
        elif design_host_region(urlsplit(scope.split("urn:", 1)[0]).hostname or ""):
            warnings.append(
                "scope names the design host; OIC 3 expects the OAuth resource's audience "
                "(https://<id>.integration.<region>.ocp.oraclecloud.com:443) from the "
                "confidential app's token policy"
            )
    if design_host_region(host) and not instance:
        raise SettingsError(
            f"oic-url {base} is OIC 3's design host, which serves every instance of the "
            "region: set oic-instance to your integration instance name (About page, "
            "'Service instance')"
        )
    if kind == "basic" and oic3_region(host):
        raise SettingsError(
            f"username/password (basic auth) against {host}: OIC 3's REST API accepts only "
            "OAuth; set client-id, client-secret, token-url and scope instead"
        )
    return warnings


def ca_bundle(environ: dict[str, str] | None = None) -> str | None:
    """The CA bundle to trust, from REQUESTS_CA_BUNDLE, else SSL_CERT_FILE (requests reads
    only the first itself); a variable naming no file is a settings error."""
    env = os.environ if environ is None else environ
    for name in CA_VARIABLES:
        value = (env.get(name) or "").strip()
        if value:
            if not Path(value).exists():
                raise SettingsError(f"{name} {value} does not exist")
            return value
    return None
