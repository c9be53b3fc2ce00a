"""Rules for the URLs the build sends credentials to: https only (plain http just for loopback
test servers), no credentials inside the URL, and a pasted console URL cut back to the host."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qs, urlsplit, urlunsplit

from ..errors import SettingsError

# Everything from the first /ic path segment on is console or API path, never part of the base:
# https://host/ic/home, /ic/integration/home/faces/..., /ic/api/integration/v1/...
_OIC_PATH = re.compile(r"/ic(?:/|$)", re.IGNORECASE)
# OIC 3 hosts: the design host serves the REST API of every instance of a region; instance
# (runtime/console) hosts are <name>-<namespace>-<region key>.integration.<region>.ocp...
_DESIGN_HOST = re.compile(r"^design\.integration\.[a-z0-9-]+\.ocp\.oraclecloud\.com$")
_OIC3_HOST = re.compile(r"^[a-z0-9.-]+\.integration\.[a-z0-9-]+\.ocp\.oraclecloud\.com$")


def is_design_host(host: str) -> bool:
    return bool(_DESIGN_HOST.match(host.lower().rstrip(".")))


def is_oic3_host(host: str) -> bool:
    return bool(_OIC3_HOST.match(host.lower().rstrip(".")))


def _is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 and ::1: the only hosts allowed plain http."""
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def shown_url(url: str, limit: int = 200) -> str:
    """A URL as any message may show it: never its user info (whatever the scheme, or none,
    and however its password confuses a parser: everything up to the last `@` goes), no query
    or fragment, at most `limit` characters."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        scheme, rest = "", scheme
    rest = rest.rpartition("@")[2]
    for mark in "?#":
        rest = rest.partition(mark)[0]
    shown = f"{scheme}{sep}{rest}"
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def check_url(url: str, name: str) -> str:
    """Refuse URLs that would send credentials in clear text or carry them inside."""
    text = url.strip()
    if "@" in text:  # OIC's URLs hold none; a password may hold `/`, `?` or `#` and hide it
        raise SettingsError(
            f"{name} {shown_url(text)} must not contain a user or password; use the "
            "username/password or client-id/client-secret settings"
        )
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an https:// URL (got {shown_url(text, 80)!r})")
    try:
        host, _port = parts.hostname, parts.port
    except ValueError:
        raise SettingsError(f"{name} has an invalid port (host {parts.hostname})") from None
    if not host:
        raise SettingsError(f"{name} has no host: {shown_url(text, 80)!r}")
    if parts.scheme.lower() != "https" and not _is_loopback(host.lower()):
        raise SettingsError(
            f"{name} {shown_url(text)} must use https (plain http is only allowed for "
            "localhost/127.0.0.1/::1)"
        )
    return text


def normalise_base_url(url: str, name: str = "oic-url") -> tuple[str, str | None]:
    """(base URL, the integration instance in its query): users paste what their browser shows
    (`https://host/ic/home?integrationInstance=x`), so the path from `/ic` on, trailing
    slashes and the query are dropped, and an instance found there need not be given twice."""
    text = check_url(url, name)
    parts = urlsplit(text)
    path = parts.path
    match = _OIC_PATH.search(path)
    if match:
        path = path[: match.start()]
    path = path.rstrip("/")
    base = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))
    return base, instance_in(text)


def instance_in(url: str) -> str | None:
    """The integration instance a URL's query names (`?integrationInstance=x`), else None."""
    return (parse_qs(urlsplit(url).query).get("integrationInstance") or [""])[0].strip() or None
