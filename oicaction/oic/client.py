"""The HTTP client for one OIC instance: one session (connection pool), one auth, retries.

Retries are urllib3's `Retry` mounted on the session (429/502/503/504, resets and read
timeouts, `Retry-After` honoured, exponential backoff), bounded in count and in total time.
Redirects are never followed to another host: credentials would go with them (or, as on OIC
Gen3, be dropped and the call fail obscurely), so the user is told which host to use instead;
a redirect to OIC 3's design host names the `oic-url` and `oic-instance` to set. Every exchange
is bounded by `request-deadline` and `max-response-size` (http.py). The first request of a run
(`probe`, then `probe_project`) confirms URL, instance, credentials and project, so a
misconfiguration is reported as such (exit 2, naming the setting), never as a missing
connection.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import requests
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from ..errors import ServerError, SettingsError
from .auth import Auth
from .http import UncertainWrite, WatchedAdapter, deadline_passed, exchange, no_netrc
from .http_errors import describe_body, describe_text, is_gateway_error, one_line
from .url import design_host_region, normalise_base_url, without_query

API = "/ic/api/integration/v1"
# 423: a connection locked by someone editing it, released in a while (Oracle's reference
# lists it for the attachment download); waited for like 429.
RETRY_STATUSES = frozenset({423, 429, 502, 503, 504})
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
    deadline: float = 120.0  # request-deadline: one exchange, retries included
    max_response_size: int = 64 * 1024 * 1024  # max-response-size, bytes after decoding

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
        return super().new(**kw)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> BoundedRetry:
        started = self.first_failure if self.first_failure is not None else time.monotonic()
        if deadline_passed():  # the exchange's request-deadline is up: no more attempts
            raise MaxRetryError(_pool, url or "", error or ResponseError("request-deadline"))
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


def make_session(
    options: HttpOptions, pool_size: int, ca_bundle: str | None = None
) -> requests.Session:
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
    adapter = WatchedAdapter(max_retries=retry, pool_connections=1, pool_maxsize=max(pool_size, 1))
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    no_netrc(session)
    if ca_bundle:
        session.verify = ca_bundle
    return session


def make_write_session(
    options: HttpOptions, pool_size: int, ca_bundle: str | None = None
) -> requests.Session:
    """A session for requests that change the server: urllib3 retries only a connection that
    was never made; statuses and read errors come back to `OicClient.send`."""
    retry = Retry(
        total=options.retries,
        connect=options.retries,
        read=0,
        status=0,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET"}),  # no write is ever re-sent after a read error
        backoff_factor=options.backoff_factor,
        backoff_max=options.backoff_max,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    adapter = WatchedAdapter(max_retries=retry, pool_connections=1, pool_maxsize=max(pool_size, 1))
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    no_netrc(session)
    if ca_bundle:
        session.verify = ca_bundle
    return session


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _retries_used(resp: requests.Response) -> int:
    retries = getattr(resp.raw, "retries", None)
    return len(getattr(retries, "history", ()) or ())


def _scope(project: str | None) -> str:
    """The API root, or a project's (OIC 3 keeps a project's connections and lookups there)."""
    return API if project is None else f"{API}/projects/{quote(project, safe='')}"


def api(*parts: str, project: str | None = None) -> str:
    """`/ic/api/integration/v1[/projects/<P>]/<part>/...`, each part quoted (safe=""), so
    `CODE|01.00.0000` becomes `CODE%7C01.00.0000`."""
    return "/".join([_scope(project), *(quote(p, safe="") for p in parts)])


# What a write may wait for and send again: a lock (412/423) or 429 with Retry-After.
WRITE_WAIT_STATUSES = frozenset({412, 423, 429})


@dataclass
class Answer:
    """The server's answer to a request that may change it: any status, the caller decides."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any | None:
        """The body as JSON, None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def detail(self) -> str:
        """One line: OIC's title/detail, else a short body."""
        ctype = str(self.headers.get("Content-Type", "")).lower()
        return describe_text(self.body[:65536].decode("utf-8", "replace"), ctype)


__all__ = ["API", "Answer", "HttpOptions", "OicClient", "UncertainWrite", "api"]


def _redirect_hint(target: str) -> str:
    host = urlsplit(target).hostname or "?"
    if "identity" in host or "login" in host or "idcs" in host:
        return "the server sent a login page: check the credentials and the auth settings"
    return f"if https://{host} is your OIC instance, set oic-url to it"


def _said(resp: requests.Response) -> str:
    return (
        f"HTTP {resp.status_code} {resp.reason} from GET {without_query(resp.url)}: "
        f"{describe_body(resp)}"
    )


def _is_json(resp: requests.Response) -> bool:
    try:
        json.loads(resp.text[:65536])
    except ValueError:
        return False
    return True


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
        ca_bundle: str | None = None,
        deadline: float | None = None,
        max_response_size: int | None = None,
    ) -> None:
        self.base_url, url_instance = normalise_base_url(base_url)
        self.instance = (instance or "").strip() or url_instance
        self.auth = auth
        self.options = options or DEFAULT_OPTIONS
        if deadline is not None or max_response_size is not None:
            self.options = dataclasses.replace(
                self.options,
                deadline=deadline or self.options.deadline,
                max_response_size=max_response_size or self.options.max_response_size,
            )
        self.session = make_session(self.options, pool_size, ca_bundle)
        self._write_session = make_write_session(self.options, pool_size, ca_bundle)

    def close(self) -> None:
        self.session.close()
        self._write_session.close()

    def __enter__(self) -> OicClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def server(self) -> str:
        """The base URL as recorded in build-info.json: no credentials, no query."""
        return self.base_url

    def where(self) -> str:
        """The server as a user reads it: URL and instance."""
        return self.server + (f" (instance {self.instance})" if self.instance else "")

    def exchange(self, method: str, url: str, *, what: str, **kw: Any) -> requests.Response:
        """One bounded exchange (deadline, size cap, retries) with this client's session."""
        return exchange(
            self.session,
            method,
            url,
            what=what,
            deadline=self.options.deadline,
            max_size=self.options.max_response_size,
            timeout=self.options.timeout,
            **kw,
        )

    def _params(self, params: dict[str, str] | None) -> dict[str, str] | None:
        merged = {"integrationInstance": self.instance} if self.instance else {}
        merged.update(params or {})
        return merged or None

    def _send(
        self, path: str, what: str, accept: str, params: dict[str, str] | None = None
    ) -> requests.Response:
        """GET with auth; refresh a token once on 401; follow only same-host redirects."""
        url = self.base_url + path
        params = self._params(params)
        refreshed = False
        redirects = 0
        while True:
            authorization = self.auth.authorization(self.exchange)
            resp = self.exchange(
                "GET",
                url,
                what=what,
                params=params,
                headers={"Accept": accept},
                authorization=authorization,
            )
            if resp.status_code == 401 and self.auth.refreshable and not refreshed:
                refreshed = True
                self.auth.invalidate(authorization)
                continue
            if resp.is_redirect:
                target = urljoin(resp.url, resp.headers.get("Location", ""))
                same = urlsplit(target)[:2] == urlsplit(self.base_url)[:2]
                if same and redirects < self.options.max_redirects:
                    redirects += 1
                    url, params = target, None
                    continue
                self._refuse_redirect(resp, url, target, what)
            return resp

    def _refuse_redirect(self, resp: requests.Response, url: str, target: str, what: str) -> None:
        """A redirect to another host is never followed. To OIC 3's design host (what the
        runtime/console URL does) it is a settings error naming the URL and instance to use."""
        host = urlsplit(target).hostname or ""
        if design_host_region(host):
            instance = (parse_qs(urlsplit(target).query).get("integrationInstance") or [""])[0]
            raise SettingsError(
                f"oic-url {self.base_url} redirects to OIC 3's design host: set oic-url to "
                f"https://{host}"
                + (f" and oic-instance to {instance}" if instance else " and set oic-instance")
                + " (credentials are only sent where oic-url points)"
            )
        raise ServerError(
            f"{what}: GET {without_query(url)} was redirected (HTTP {resp.status_code}) "
            f"to {without_query(target)}; not followed, so credentials stay with "
            f"{self.base_url}. {_redirect_hint(target)}"
        )

    def _fail(self, resp: requests.Response, what: str) -> ServerError:
        used = _retries_used(resp)
        retried = f" after {used} retries" if used else ""
        if resp.status_code in RETRY_STATUSES and resp.headers.get("Retry-After"):
            retried += (
                f" (Retry-After {resp.headers['Retry-After']}; retrying stops after "
                f"{self.options.max_retry_time:g} s)"
            )
        hint = ""
        if resp.status_code in (401, 403):
            hint = f" (credentials rejected: {self._credentials_hint(resp.status_code)})"
        elif resp.status_code == 423:
            hint = " (locked: someone is editing it in OIC; unlock it or try again later)"
        return ServerError(
            one_line(
                f"{what}: HTTP {resp.status_code} {resp.reason} from GET "
                f"{without_query(resp.url)}{retried}: {describe_body(resp)}{hint}"
            )
        )

    def get(
        self,
        path: str,
        what: str,
        *,
        accept: str = "application/json",
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """A 2xx answer, or a 404 for a missing object; anything else raises ServerError."""
        resp = self._send(path, what, accept, params)
        if 200 <= resp.status_code < 300:
            return resp
        if resp.status_code == 404 and not is_gateway_error(resp):
            return resp
        raise self._fail(resp, what)

    def get_json(
        self, path: str, what: str, *, params: dict[str, str] | None = None
    ) -> dict[str, Any] | None:
        """A JSON object, or None when the object does not exist (404)."""
        resp = self.get(path, what, params=params)
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

    def get_bytes(self, path: str, what: str, *, accept: str = "*/*") -> bytes | None:
        """A small body (capped by max-response-size); None on 404."""
        resp = self.get(path, what, accept=accept)
        return None if resp.status_code == 404 else resp.content

    def download(
        self, path: str, what: str, dest: Path, *, accept: str = "application/octet-stream, */*"
    ) -> str | None:
        """The body written to `dest` (none left on failure); its sha256, or None on 404.
        (TEMP until core-http lands: read whole within max-response-size, then written.)"""
        resp = self.get(path, what, accept=accept)
        if resp.status_code == 404:
            return None
        part = dest.with_name(dest.name + ".part")
        try:
            part.write_bytes(resp.content)
            os.replace(part, dest)
        finally:
            part.unlink(missing_ok=True)
        return hashlib.sha256(resp.content).hexdigest()

    def send(
        self,
        method: str,
        path: str,
        what: str,
        *,
        json: Any = None,
        upload: Path | None = None,
        field: str = "file",
        override: str | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        """A request that may change the server. Sent again only when nothing was sent (a
        connect error, urllib3's connect retries), on 429 with Retry-After and on a lock
        (412/423), within request-deadline; a 401 refreshes the token once. Any status comes
        back as an Answer; a transport failure after sending raises UncertainWrite."""
        url = self.base_url + path
        headers = {"Accept": "application/json"}
        if override:
            headers["X-HTTP-Method-Override"] = override
        started = time.monotonic()
        refreshed = False
        attempt = 0
        while True:
            authorization = self.auth.authorization(self.exchange)
            kw: dict[str, Any] = {"params": self._params(params), "headers": headers}
            if json is not None:
                kw["json"] = json
            with upload.open("rb") if upload is not None else _nothing() as fh:
                if fh is not None:
                    assert upload is not None
                    kw["files"] = {field: (upload.name, fh, "application/octet-stream")}
                resp = exchange(
                    self._write_session,
                    method,
                    url,
                    what=what,
                    deadline=self.options.deadline,
                    max_size=self.options.max_response_size,
                    timeout=self.options.timeout,
                    authorization=authorization,
                    write=True,
                    **kw,
                )
            if resp.status_code == 401 and self.auth.refreshable and not refreshed:
                refreshed = True
                self.auth.invalidate(authorization)
                continue
            answer = Answer(resp.status_code, dict(resp.headers), resp.content)
            wait = self._write_wait(resp, attempt)
            elapsed = time.monotonic() - started
            if wait is None or elapsed + wait > self.options.deadline:
                return answer
            attempt += 1
            time.sleep(wait)

    def _write_wait(self, resp: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before sending a write again, None to hand the answer back."""
        if resp.status_code not in WRITE_WAIT_STATUSES or attempt >= self.options.retries:
            return None
        retry_after = resp.headers.get("Retry-After", "")
        if resp.status_code == 429:
            return float(retry_after) if retry_after.isdigit() else None
        if retry_after.isdigit():
            return float(retry_after)
        return min(self.options.backoff_factor * 2**attempt, self.options.backoff_max)

    # -- the first request --------------------------------------------------------------------

    def probe(self) -> None:
        """One cheap request (one connection of the list) that confirms URL, instance and
        credentials. Failures are SettingsErrors naming what to check."""
        resp = self._send(
            f"{API}/connections?limit=1&offset=0", "first request", "application/json"
        )
        if 200 <= resp.status_code < 300 and _is_json(resp):
            return
        said = _said(resp)
        if resp.status_code in (401, 403):
            raise SettingsError(
                one_line(
                    f"{self.server} refused the credentials ({said}); "
                    f"{self._credentials_hint(resp.status_code)}"
                )
            )
        if resp.status_code in (400, 404) or 200 <= resp.status_code < 300:
            instance = self.instance or "(not set)"
            raise SettingsError(
                one_line(
                    f"oic-url {self.server} with oic-instance {instance} is not an OIC REST API "
                    f"that knows this instance ({said}); check oic-url (on OIC 3 the design "
                    "host https://design.integration.<region>.ocp.oraclecloud.com) and "
                    "oic-instance (the integration instance name from the About page)"
                )
            )
        raise self._fail(resp, "first request")

    def probe_project(self, project: str, setting: str = "oic-project") -> None:
        """Confirm an OIC 3 project exists (`GET /projects/{id}`); a 404 is a SettingsError
        naming `setting` (the input, or the project.yaml that gave the id)."""
        what = f"project {project}"
        resp = self._send(_scope(project), what, "application/json")
        if 200 <= resp.status_code < 300:
            return
        if resp.status_code == 404:
            raise SettingsError(
                one_line(
                    f"{setting} {project} was not found on {self.server} ({_said(resp)}); "
                    "use the project's identifier (shown in the project's URL), not its name"
                )
            )
        raise self._fail(resp, what)

    def _credentials_hint(self, status: int) -> str:
        if self.auth.kind == "oauth":
            first = (
                "check scope first (the OAuth resource's audience followed by "
                "urn:opc:resource:consumer::all), then client-id/client-secret/token-url"
            )
            if status == 403:
                return (
                    f"{first}, and that the confidential app has an OIC role such as "
                    "ServiceDeveloper on the instance"
                )
            return first
        if status == 403:
            return "check that username has an OIC role such as ServiceDeveloper"
        return "check username/password (OIC 3 accepts only OAuth: use client-id/client-secret)"

    # -- objects ------------------------------------------------------------------------------

    def connection(self, conn_id: str, project: str | None = None) -> dict[str, Any] | None:
        """The connection's definition as the server returns it; None if it does not exist.
        With `project`, the one in that OIC 3 project (`/projects/{id}/connections/{cid}`)."""
        return self.get_json(
            f"{_scope(project)}/connections/{quote(conn_id, safe='')}", f"connection {conn_id}"
        )

    def attachment(self, conn_id: str, prop: str, project: str | None = None) -> bytes | None:
        """The file uploaded to a connection property (WSDL, schema, certificate); None on 404.
        `project` as for connection."""
        what = f"attachment {prop} of connection {conn_id}"
        path = (
            f"{_scope(project)}/connections/{quote(conn_id, safe='')}"
            f"/attachments/{quote(prop, safe='')}"
        )
        resp = self.get(path, what, accept="application/octet-stream, */*")
        if resp.status_code == 404:
            return None
        return resp.content

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
