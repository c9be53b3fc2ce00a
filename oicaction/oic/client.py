"""The HTTP client for one OIC instance: one session (connection pool), one auth, retries.

Retries are urllib3's `Retry` mounted on the session (429/502/503/504, resets and read
timeouts, `Retry-After` honoured, exponential backoff), bounded in count and in total time.
Redirects are never followed to another host: credentials would go with them (or, as on OIC
Gen3, be dropped and the call fail obscurely), so the user is told which host to use instead.
This module imports requests; only the export imports it, so offline builds never load it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from ..errors import ServerError
from .auth import Auth
from .http_errors import describe_body, describe_exception, is_gateway_error, one_line
from .url import normalise_base_url, without_query

API = "/ic/api/integration/v1"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = "oic-build"


@dataclass(frozen=True)
class HttpOptions:
    """Timeouts and retry bounds; tests shrink them, users get the defaults."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 5
    backoff_factor: float = 1.0
    backoff_max: float = 30.0
    max_retry_time: float = 120.0
    max_redirects: int = 3

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


DEFAULT_OPTIONS = HttpOptions()


class BoundedRetry(Retry):
    """urllib3 `Retry` that also gives up once the next wait would pass `max_time` seconds
    since the first failure: a server asking for `Retry-After: 3600` ends the build now."""

    def __init__(
        self,
        *args: Any,
        max_time: float | None = None,
        first_failure: float | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.max_time = max_time
        self.first_failure = first_failure

    def new(self, **kw: Any) -> BoundedRetry:
        kw.setdefault("max_time", self.max_time)
        kw.setdefault("first_failure", self.first_failure)
        return super().new(**kw)  # type: ignore[return-value]

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> BoundedRetry:
        started = self.first_failure if self.first_failure is not None else time.monotonic()
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        new.first_failure = started
        if self.max_time is not None:
            wait = new.get_retry_after(response) if response is not None else None
            wait = wait if wait is not None else new.get_backoff_time()
            if time.monotonic() + wait - started > self.max_time:
                reason = error or ResponseError(
                    f"retrying would take longer than {self.max_time:g} s"
                )
                raise MaxRetryError(_pool, url or "", reason)
        return new


def make_session(options: HttpOptions, pool_size: int) -> requests.Session:
    """A session whose every request gets the bounded retries and a pool sized for the workers."""
    retry = BoundedRetry(
        total=options.retries,
        connect=options.retries,
        read=options.retries,
        status=options.retries,
        other=0,
        redirect=0,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "POST"}),  # the only POST is the token request
        backoff_factor=options.backoff_factor,
        backoff_max=options.backoff_max,
        respect_retry_after_header=True,
        raise_on_status=False,  # hand back the last answer so its body explains the failure
        raise_on_redirect=False,
        max_time=options.max_retry_time,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=max(pool_size, 1))
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def _retries_used(resp: requests.Response) -> int:
    retries = getattr(resp.raw, "retries", None)
    return len(getattr(retries, "history", ()) or ())


def _scope(project: str | None) -> str:
    """The API root, or a project's (OIC 3 keeps a project's connections and lookups there)."""
    return API if project is None else f"{API}/projects/{quote(project, safe='')}"


def _redirect_hint(target: str, base: str, instance: str | None) -> str:
    host = urlsplit(target).hostname or "?"
    if host.startswith("design.integration.") or host.startswith("design."):
        more = "" if instance else " and oic-instance to your integration instance name"
        return (
            f"OIC Gen3 serves its REST API on the design host: set oic-url to https://{host}{more}"
        )
    if "identity" in host or "login" in host or "idcs" in host:
        return "the server sent a login page: check the credentials and the auth settings"
    return f"if https://{host} is your OIC instance, set oic-url to it"


class OicClient:
    """Talks to one OIC instance. Thread-safe for GETs: share one client (one pool, one token)
    across every worker and every integration of a run."""

    def __init__(
        self,
        base_url: str,
        auth: Auth,
        *,
        instance: str | None = None,
        pool_size: int = 4,
        options: HttpOptions | None = None,
    ) -> None:
        self.base_url, url_instance = normalise_base_url(base_url)
        self.instance = (instance or "").strip() or url_instance
        self.auth = auth
        self.options = options or DEFAULT_OPTIONS
        self.session = make_session(self.options, pool_size)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> OicClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def server(self) -> str:
        """The base URL as recorded in build-info.json: no credentials, no query."""
        return self.base_url

    def _send(self, path: str, what: str, accept: str) -> requests.Response:
        """GET with auth; refresh a token once on 401; follow only same-host redirects."""
        url = self.base_url + path
        params = {"integrationInstance": self.instance} if self.instance else None
        refreshed = False
        redirects = 0
        timeout = self.options.timeout
        while True:
            try:
                authorization = self.auth.authorization(self.session, timeout)
                resp = self.session.get(
                    url,
                    params=params,
                    headers={"Accept": accept, "Authorization": authorization},
                    timeout=timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise ServerError(
                    f"{what}: GET {without_query(url)}: {describe_exception(exc, timeout)}"
                ) from None
            if resp.status_code == 401 and self.auth.refreshable and not refreshed:
                refreshed = True
                self.auth.invalidate(authorization)
                resp.close()
                continue
            if resp.is_redirect:
                target = urljoin(resp.url, resp.headers.get("Location", ""))
                same = urlsplit(target)[:2] == urlsplit(self.base_url)[:2]
                resp.close()
                if same and redirects < self.options.max_redirects:
                    redirects += 1
                    url, params = target, None
                    continue
                raise ServerError(
                    f"{what}: GET {without_query(url)} was redirected (HTTP {resp.status_code}) "
                    f"to {without_query(target)}; not followed, so credentials stay with "
                    f"{self.base_url}. {_redirect_hint(target, self.base_url, self.instance)}"
                )
            return resp

    def _fail(self, resp: requests.Response, what: str) -> ServerError:
        used = _retries_used(resp)
        retried = f" after {used} retries" if used else ""
        if resp.status_code in RETRY_STATUSES and resp.headers.get("Retry-After"):
            retried += (
                f" (Retry-After {resp.headers['Retry-After']}; retrying stops after "
                f"{self.options.max_retry_time:g} s)"
            )
        hint = ""
        if resp.status_code == 401:
            hint = " (credentials rejected: check username/password or client-id/client-secret)"
        elif resp.status_code == 403:
            hint = " (the user or app lacks an OIC role such as ServiceDeveloper)"
        return ServerError(
            one_line(
                f"{what}: HTTP {resp.status_code} {resp.reason} from GET "
                f"{without_query(resp.url)}{retried}: {describe_body(resp)}{hint}"
            )
        )

    def get(self, path: str, what: str, *, accept: str = "application/json") -> requests.Response:
        """A 2xx answer, or a 404 for a missing object; anything else raises ServerError."""
        resp = self._send(path, what, accept)
        if 200 <= resp.status_code < 300:
            return resp
        if resp.status_code == 404 and not is_gateway_error(resp):
            return resp
        raise self._fail(resp, what)

    def get_json(self, path: str, what: str) -> dict[str, Any] | None:
        """A JSON object, or None when the object does not exist (404)."""
        resp = self.get(path, what)
        if resp.status_code == 404:
            return None
        ctype = resp.headers.get("Content-Type", "")
        try:
            data = resp.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ServerError(
                one_line(
                    f"{what}: expected a JSON object from GET {without_query(resp.url)}, got "
                    f"{ctype or 'no content type'}: {describe_body(resp)}"
                )
            )
        return data

    def connection(self, conn_id: str, project: str | None = None) -> dict[str, Any] | None:
        """The connection's definition as the server returns it; None if it does not exist.
        With `project`, the one in that OIC 3 project (`/projects/{id}/connections/{cid}`)."""
        return self.get_json(
            f"{_scope(project)}/connections/{quote(conn_id, safe='')}", f"connection {conn_id}"
        )

    def lookup_csv(self, name: str, project: str | None = None) -> bytes | None:
        """The lookup's CSV export; None if it does not exist. `project` as for connection."""
        what = f"lookup {name}"
        path = f"{_scope(project)}/lookups/{quote(name, safe='')}/archive"
        resp = self.get(path, what, accept="*/*")
        if resp.status_code == 404:
            return None
        ctype = resp.headers.get("Content-Type", "").lower()
        if "json" in ctype or "html" in ctype or not resp.content.strip():
            raise ServerError(
                one_line(
                    f"{what}: expected a CSV file from GET {without_query(resp.url)}, got "
                    f"{ctype or 'no content type'}: {describe_body(resp)}"
                )
            )
        return resp.content
