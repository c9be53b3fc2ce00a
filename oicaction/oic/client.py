"""The client for one OIC instance: one session (connection pool), one auth, its retries.

Redirects are never followed to another host (credentials would go with them); the user is told
which host to use instead. The first request of a run (`probe`, `probe_project`) confirms URL,
instance, credentials and project, so a misconfiguration is reported as such (exit 2, naming the
setting), never as a missing connection.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from ..errors import ServerError, SettingsError, one_line
from .config import ServerConfig
from .http import (
    READ_RETRY_STATUSES,
    WRITE_RETRY_STATUSES,
    Answer,
    Http,
    HttpOptions,
    UncertainWrite,
    Upload,
    lock_hint,
)
from .url import instance_in, is_design_host, shown_url

__all__ = [
    "DEFAULT_OPTIONS",
    "Answer",
    "HttpOptions",
    "OicClient",
    "UncertainWrite",
    "api",
    "lock_hint",
]

API = "/ic/api/integration/v1"
DEFAULT_OPTIONS = HttpOptions()


def api(*parts: str, project: str | None = None) -> str:
    """`/ic/api/integration/v1[/projects/<P>]/<part>/...`, each part quoted (`|` as %7C)."""
    scope = (API,) if project is None else (API, "projects", quote(project, safe=""))
    return "/".join((*scope, *(quote(part, safe="") for part in parts)))


class OicClient:
    """Talks to one OIC instance. Thread-safe: share one client (one pool, one token) across
    every worker and every integration of a run."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        options: HttpOptions | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.options = options or DEFAULT_OPTIONS
        self.on_token = on_token
        self.http = Http(self.options, config)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> OicClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post_token(self, url: str, form: dict[str, str], credentials: tuple[str, str]) -> Answer:
        """The token request: a POST that changes nothing, so it is retried like a GET."""
        headers = {"Accept": "application/json"}
        return self.http.exchange(
            "POST", url, what="token request", data=form, auth=credentials, headers=headers
        )

    def _request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        accept: str,
        params: dict[str, str] | None = None,
        idempotent: bool = True,
        **kw: Any,
    ) -> Answer:
        """A request with auth: a token refreshed once on 401; a GET follows redirects on the
        same host only (a write never follows one: its answer says where)."""
        url = self.config.base_url + path
        query = {"integrationInstance": self.config.instance} if self.config.instance else {}
        query.update(params or {})
        headers = {"Accept": accept, **kw.pop("headers", {})}
        refreshed = False
        redirects = 0
        while True:
            authorization = self.config.auth.authorization(self._post_token, self.on_token)
            answer = self.http.exchange(
                method,
                url,
                what=what,
                params=query or None,
                headers={**headers, "Authorization": authorization},
                idempotent=idempotent,
                **kw,
            )
            if answer.status == 401 and self.config.auth.refreshable and not refreshed:
                refreshed = True
                self.config.auth.invalidate(authorization)
                continue
            if answer.status in (301, 302, 303, 307, 308) and method == "GET":
                target = urljoin(answer.url, answer.headers.get("Location", ""))
                same = urlsplit(target)[:2] == urlsplit(self.config.base_url)[:2]
                if same and redirects < self.options.max_redirects:
                    redirects += 1
                    url, query = target, {}
                    continue
                self._refuse_redirect(answer, target, what)
            return answer

    def _refuse_redirect(self, answer: Answer, target: str, what: str) -> None:
        """To OIC 3's design host (where a runtime/console URL sends) a redirect is a settings
        error naming the URL and instance to use; to any other host an error naming it."""
        host = urlsplit(target).hostname or ""
        if is_design_host(host):
            instance = instance_in(target)
            raise SettingsError(
                f"oic-url {self.config.base_url} redirects to OIC 3's design host: set oic-url "
                f"to https://{host}"
                + (f" and oic-instance to {instance}" if instance else " and set oic-instance")
                + " (credentials are only sent where oic-url points)"
            )
        hint = f"if https://{host or '?'} is your OIC instance, set oic-url to it"
        if any(word in host for word in ("identity", "login", "idcs")):
            hint = "the server sent a login page: check the credentials and the auth settings"
        raise ServerError(
            f"{what}: GET {shown_url(answer.url)} was redirected (HTTP {answer.status}) "
            f"to {shown_url(target)}; not followed, so credentials stay with "
            f"{self.config.base_url}. {hint}"
        )

    def fail(self, answer: Answer, what: str) -> ServerError:
        """The error for an answer the caller cannot use: status, detail, retries, a hint."""
        retried = f" after {answer.retries} retries" if answer.retries else ""
        waited = answer.status in READ_RETRY_STATUSES | WRITE_RETRY_STATUSES
        if waited and answer.headers.get("Retry-After"):
            retried += (
                f" (Retry-After {answer.headers['Retry-After']}; retrying stops at "
                f"request-deadline, {self.config.deadline:g} s)"
            )
        detail = answer.detail()
        hint = lock_hint(answer.status, detail)
        if answer.status in (401, 403):
            hint = f" (credentials rejected: {self._credentials_hint(answer.status)})"
        return ServerError(one_line(f"{what}: {answer.head()}{retried}: {detail}{hint}"))

    def get(self, path: str, what: str, *, accept: str = "*/*", **kw: Any) -> Answer | None:
        """A 2xx answer, or None for a missing object (a 404 that is not the gateway's).
        `retry_locks=False` (passed on): a 423 fails at once instead of being waited out."""
        answer = self._request("GET", path, what, accept=accept, **kw)
        if 200 <= answer.status < 300:
            return answer
        data = answer.json() if answer.status == 404 else None
        gateway = (
            isinstance(data, dict) and "title" not in data and {"code", "message"} <= data.keys()
        )
        if answer.status == 404 and not gateway:  # the OCI gateway's: a wrong host or instance
            return None
        raise self.fail(answer, what)

    def get_json(
        self,
        path: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        retry_locks: bool = True,
    ) -> dict[str, Any] | None:
        """A JSON object, or None when the object does not exist (404)."""
        answer = self.get(
            path, what, accept="application/json", params=params, retry_locks=retry_locks
        )
        return None if answer is None else json_object(answer, what)

    def get_bytes(
        self, path: str, what: str, *, accept: str = "*/*", retry_locks: bool = True
    ) -> bytes | None:
        """A small body (capped at max-response-size), or None on 404."""
        answer = self.get(path, what, accept=accept, retry_locks=retry_locks)
        return None if answer is None else answer.body

    def download(
        self,
        path: str,
        what: str,
        dest: Path,
        *,
        accept: str = "application/octet-stream, */*",
        retry_locks: bool = True,
    ) -> str | None:
        """The body streamed into `dest` (its folder must exist; size-capped, within the
        deadline; a failed download leaves no `dest`); its sha256, or None on 404.
        `retry_locks` False for an export that a lock would not release (a prebuilt one)."""
        answer = self.get(path, what, accept=accept, sink=dest, retry_locks=retry_locks)
        return None if answer is None else answer.sha256

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
        sink: Path | None = None,
        accept: str = "application/json",
        retry_locks: bool = True,
    ) -> Answer:
        """A request that may change the server. `upload`: multipart/form-data with the file
        under `field`, streamed from disk; `override`: sent as POST with
        X-HTTP-Method-Override (OIC's PATCH). Any status comes back as an Answer; re-sent only
        when it cannot have arrived, on 429 with Retry-After, or a lock (412/423, unless
        `retry_locks` is False). `sink`: a 2xx body is streamed into that file as `download`
        does (its sha256 in Answer.sha256), for a POST that answers an archive. Raises
        UncertainWrite when it may have arrived and no answer came."""
        headers = {"X-HTTP-Method-Override": override} if override else {}
        body = Upload(upload, field) if upload is not None else None
        if body is not None:
            headers["Content-Type"] = body.content_type
        method = "POST" if override else method
        kw = {"params": params, "headers": headers, "json": json, "data": body, "sink": sink}
        return self._request(
            method, path, what, accept=accept, idempotent=False, retry_locks=retry_locks, **kw
        )

    def probe(self) -> None:
        """One cheap request (one connection of the list) that confirms URL, instance and
        credentials. Failures are SettingsErrors naming what to check."""
        what = "first request"
        first = {"limit": "1", "offset": "0"}
        answer = self._request(
            "GET", api("connections"), what, accept="application/json", params=first
        )
        if 200 <= answer.status < 300 and answer.json() is not None:
            return
        base = self.config.base_url
        if answer.status in (401, 403):
            hint = self._credentials_hint(answer.status)
            raise SettingsError(
                one_line(f"{base} refused the credentials ({answer.said()}); {hint}")
            )
        if answer.status in (400, 404) or 200 <= answer.status < 300:
            instance = self.config.instance or "(not set)"
            raise SettingsError(
                one_line(
                    f"oic-url {base} with oic-instance {instance} is not an OIC REST API "
                    f"that knows this instance ({answer.said()}); check oic-url (on OIC 3 the "
                    "design host https://design.integration.<region>.ocp.oraclecloud.com) and "
                    "oic-instance (the integration instance name from the About page)"
                )
            )
        raise self.fail(answer, what)

    def probe_project(self, project: str, setting: str = "oic-project") -> None:
        """Confirm an OIC 3 project exists (`GET /projects/{id}`); a 404 is a SettingsError
        naming `setting` (the input, or the project.yaml that gave the id)."""
        what = f"project {project}"
        answer = self._request("GET", api(project=project), what, accept="application/json")
        if 200 <= answer.status < 300:
            return
        if answer.status == 404:
            raise SettingsError(
                one_line(
                    f"{setting} {project} was not found on {self.config.base_url} "
                    f"({answer.said()}); use the project's identifier (shown in the project's "
                    "URL), not its name"
                )
            )
        raise self.fail(answer, what)

    def _credentials_hint(self, status: int) -> str:
        if self.config.auth.kind == "basic":
            if status == 403:
                return "check that username has an OIC role such as ServiceDeveloper"
            return "check username/password (OIC 3 accepts only OAuth: use client-id/client-secret)"
        hint = (
            "check scope first (the OAuth resource's audience followed by "
            "urn:opc:resource:consumer::all), then client-id/client-secret/token-url"
        )
        if status == 403:
            hint += ", and that the confidential app has an OIC role such as ServiceDeveloper"
            hint += " on the instance"
        return hint

    def connection(self, conn_id: str, project: str | None = None) -> dict[str, Any] | None:
        """The connection's definition as the server returns it; None if it does not exist.
        With `project`, the one in that OIC 3 project (`/projects/{id}/connections/{cid}`)."""
        return self.get_json(api("connections", conn_id, project=project), f"connection {conn_id}")

    def lookup_csv(self, name: str, project: str | None = None) -> bytes | None:
        """The lookup's CSV export; None if it does not exist. `project` as for connection."""
        what = f"lookup {name}"
        answer = self.get(api("lookups", name, "archive", project=project), what)
        if answer is None:
            return None
        ctype = answer.headers.get("Content-Type", "").lower()
        if "json" in ctype or "html" in ctype or not answer.body.strip():
            raise _unexpected(answer, what, "a CSV file", ctype)
        return answer.body


def json_object(answer: Answer, what: str) -> dict[str, Any]:
    """The answer's body as a JSON object, else a ServerError saying what came instead."""
    data = answer.json()
    if not isinstance(data, dict):
        raise _unexpected(answer, what, "a JSON object", answer.headers.get("Content-Type", ""))
    return data


def _unexpected(answer: Answer, what: str, expected: str, ctype: str) -> ServerError:
    return ServerError(
        one_line(
            f"{what}: expected {expected} from GET {shown_url(answer.url)}, got "
            f"{ctype or 'no content type'}: {answer.detail()}"
        )
    )
