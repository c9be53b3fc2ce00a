"""One HTTP exchange with OIC, bounded in time and in size whatever the server does.

requests and urllib3 are used from the outside (`stream=True`, (connect, read) timeouts, the body
read in chunks, a stock `Retry` counting attempts and computing waits). Added around them:
`request-deadline` over the whole exchange, retries included; `max-response-size` counted after
decompression (a gzip bomb too); and a retry policy that never re-sends a request that may have
changed the server (a write only when nothing was sent, on 429 with Retry-After, or on a lock).
Proxies are requests' own handling of the environment; `.netrc` is never consulted.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.fields import RequestField
from urllib3.util.retry import Retry

from ..errors import ServerError, one_line
from .url import shown_url

if TYPE_CHECKING:
    from .config import ServerConfig

CHUNK = 65536
MAX_DETAIL = 300  # characters of an error's detail in a message
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


@dataclass
class Answer:
    """An HTTP answer, its body read (capped) or written to a file (`sha256`)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    reason: str = ""
    method: str = ""
    url: str = ""
    retries: int = 0  # how many times the request was re-sent before this answer
    sha256: str | None = None  # the body went to a file

    def json(self) -> Any | None:
        """The body as JSON, None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def detail(self) -> str:
        """One line: OIC's title/detail (or the gateway's, OAuth's), else a short body."""
        text = self.body[:CHUNK].decode("utf-8", "replace")
        return describe_text(text, self.headers.get("Content-Type", "").lower())

    def head(self) -> str:
        """`HTTP 404 Not Found from GET <url>`: how every message names an answer."""
        return f"HTTP {self.status} {self.reason} from {self.method} {shown_url(self.url)}"

    def said(self) -> str:
        """`HTTP 404 Not Found from GET <url>: <detail>`."""
        return f"{self.head()}: {self.detail()}"


class UncertainWrite(ServerError):
    """A request that changes the server failed after it may have reached it: read the state
    (GET) before deciding what to do next."""


def _from_json(data: Any) -> str | None:
    """OIC's `title`/`detail`, the OCI gateway's `{code, message}`, OAuth's `error`."""
    if not isinstance(data, dict):
        return None
    title, detail = data.get("title"), data.get("detail")
    code = data.get("o:errorCode") or data.get("errorCode")
    if title or detail:
        text = ": ".join(str(p) for p in (title, detail) if p)
        return f"{text} (o:errorCode {code})" if code else text
    if data.get("code") and data.get("message"):
        return f"{data['code']}: {data['message']}"
    if data.get("error"):
        desc = data.get("error_description")
        return f"{data['error']}: {desc}" if desc else str(data["error"])
    return str(data["message"]) if data.get("message") else None


def describe_text(body: str, content_type: str = "") -> str:
    """The gist of an error body in one short line: JSON, an HTML page or plain text."""
    body = body.strip()
    if not body:
        return "empty body"
    if body[:1] in "{[" or "json" in content_type:
        try:
            found = _from_json(json.loads(body))
        except ValueError:
            found = None
        if found:
            return one_line(found, MAX_DETAIL)
    if "html" in content_type or body[:1] == "<":
        title = _TITLE.search(body)
        if title and title.group(1).strip():
            return one_line(f"HTML page {title.group(1).strip()!r}", MAX_DETAIL)
        return one_line("HTML page: " + _TAG.sub(" ", body), MAX_DETAIL)
    return one_line(body, MAX_DETAIL)


def describe_exception(cause: BaseException, timeout: tuple[float, float]) -> str:
    """Why no answer came (refused, reset, timed out, TLS), from the urllib3 error."""
    inner = getattr(cause, "reason", None) or getattr(cause, "original_error", None)
    text = f"{type(cause).__name__} {type(inner).__name__ if inner else ''} {cause}".lower()
    if isinstance(cause, SSLError):
        return one_line(f"TLS/SSL error: {cause}", MAX_DETAIL)
    if isinstance(cause, ConnectTimeoutError) and not isinstance(cause, NewConnectionError):
        return f"could not connect within {timeout[0]:g} s"
    if isinstance(cause, ReadTimeoutError) or "read timed out" in text:
        return f"no answer within the {timeout[1]:g} s read timeout"
    if "reset" in text or "aborted" in text or "remotedisconnected" in text:
        return "connection reset by the server"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "host name not found (check oic-url)"
    if "refused" in text or "newconnectionerror" in text:
        return "connection refused"
    return one_line(f"{type(cause).__name__}: {cause}", MAX_DETAIL)


class _Retry(Retry):
    """urllib3's Retry, where a Retry-After makes only a 429 retryable (its default also takes
    413 and 503): a write answered 503 may have been applied."""

    RETRY_AFTER_STATUS_CODES = frozenset({429})


# 423: a connection locked by someone editing it, released in a while (Oracle's reference lists
# it for the attachment download); 412 what OIC answers an update of a locked resource.
# A caller for whom a lock is final (a prebuilt integration's export answers 423 for good) asks
# for no lock retries (`retry_locks=False`) and gets the 423 at once.
LOCK_STATUSES = frozenset({412, 423})
READ_RETRY_STATUSES = frozenset({423, 429, 502, 503, 504})
WRITE_RETRY_STATUSES = LOCK_STATUSES


def lock_hint(status: int, detail: str) -> str:
    """What a 412/423 probably means, for an error message: a guess at the designer only when
    OIC's own detail does not name another cause (a prebuilt integration never unlocks)."""
    if status not in LOCK_STATUSES:
        return ""
    if "prebuilt" in detail.lower():
        return (
            " (OIC does not export a prebuilt integration, one installed from a recipe or an "
            "accelerator; if this one is not prebuilt, it is locked: unlock it in OIC)"
        )
    return " (locked: open in the designer? close it there, or try again later)"


@dataclass(frozen=True)
class HttpOptions:
    """Timeouts and retry counts; tests shrink them, users get the defaults. The overall bound
    is request-deadline (ServerConfig)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 5
    backoff_factor: float = 1.0
    backoff_max: float = 30.0
    max_redirects: int = 3

    def retry(self, idempotent: bool, locks: bool = True) -> Retry:
        """A fresh Retry for one exchange: reads retry transport failures and busy statuses;
        writes only what cannot have reached the server, 429 with Retry-After and locks.
        `locks` False: a 412/423 answer is final."""
        n = self.retries
        statuses = READ_RETRY_STATUSES if idempotent else WRITE_RETRY_STATUSES
        if not locks:
            statuses -= LOCK_STATUSES
        return _Retry(
            total=n,
            connect=n,
            read=n if idempotent else 0,
            status=n,
            other=0,
            redirect=0,
            status_forcelist=statuses,
            allowed_methods=None,  # the policy is chosen by `idempotent`, not by the method
            backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max,
            respect_retry_after_header=True,
        )


class Upload:
    """A multipart/form-data body with one file part, read from disk while it is sent
    (requests' `files=` would hold the whole file in memory); each attempt iterates it anew."""

    def __init__(self, path: Path, field: str) -> None:
        boundary = secrets.token_hex(16)
        part = RequestField(name=field, data=b"", filename=path.name)
        part.make_multipart(content_type="application/octet-stream")
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._head = f"--{boundary}\r\n{part.render_headers()}".encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._path = path
        self._size = path.stat().st_size

    def __len__(self) -> int:
        return len(self._head) + self._size + len(self._tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        with self._path.open("rb") as file:
            left = self._size
            while left:
                chunk = file.read(min(CHUNK, left))
                if not chunk:
                    raise ServerError(f"{self._path} changed while it was sent")
                left -= len(chunk)
                yield chunk
        yield self._tail


def _cause(exc: Exception) -> Exception:
    """The urllib3 error under requests' wrapping (and MaxRetryError's), which Retry reads."""
    while (
        isinstance(exc, requests.RequestException)
        and exc.args
        and isinstance(exc.args[0], Exception)
    ):
        exc = exc.args[0]
    if isinstance(exc, MaxRetryError) and isinstance(exc.reason, Exception):
        exc = exc.reason
    return exc


def _not_sent(cause: Exception | None) -> bool:
    """The request cannot have reached the server: no connection was made (any later failure,
    TLS included, might have come after the server read it)."""
    if isinstance(cause, ProxyError):
        cause = cause.original_error
    return isinstance(cause, ConnectTimeoutError)


class _NoAnswer(Exception):
    """A transport failure (`cause`: the urllib3 error, which Retry classifies), or the
    deadline (None)."""

    def __init__(self, cause: Exception | None) -> None:
        self.cause = cause


_UNCERTAIN = "it may have reached the server: read its state before trying again"


class Http:
    """One session (connection pool) and the limits every exchange keeps."""

    def __init__(self, options: HttpOptions, config: ServerConfig) -> None:
        self.options = options
        self.timeout = (options.connect_timeout, options.read_timeout)
        self.deadline = config.deadline
        self.max_size = config.max_response_size
        pool = max(config.max_workers, 1)
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool)
        self.session = requests.Session()
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = "oic-build"
        self.session.auth = lambda request: request  # keeps requests out of .netrc
        if config.ca_bundle:
            self.session.verify = config.ca_bundle

    def close(self) -> None:
        self.session.close()

    def exchange(
        self,
        method: str,
        url: str,
        *,
        what: str,
        idempotent: bool = True,
        retry_locks: bool = True,
        sink: Path | None = None,
        **kw: Any,
    ) -> Answer:
        """Send one request (retries included) and read its whole answer within
        request-deadline and max-response-size. Any status comes back as an Answer; a 2xx body
        goes to `sink` when given (written whole or not at all). `retry_locks` False: a 412/423
        comes back at once. A transport failure is one ServerError naming `what` and the URL;
        UncertainWrite when a write may have arrived."""
        where = f"{what}: {method} {shown_url(url)}"
        ends = time.monotonic() + self.deadline
        retry = self.options.retry(idempotent, retry_locks)
        while True:
            try:
                answer, raw = self._attempt(method, url, where, ends, sink, kw)
            except UncertainWrite:
                raise
            except ServerError as refused:  # an answer past max-response-size: it did arrive
                if idempotent:
                    raise
                raise UncertainWrite(f"{refused}; {_UNCERTAIN}") from None
            except _NoAnswer as failed:
                cause = failed.cause
                if cause is None or not (idempotent or _not_sent(cause)):
                    said = self._failure(where, cause, 0)
                    if idempotent:
                        raise ServerError(said) from None
                    raise UncertainWrite(f"{said}; {_UNCERTAIN}") from None
                try:
                    retry = retry.increment(method, url, error=cause)
                    wait = retry.get_backoff_time()
                except Exception:  # MaxRetryError, or the error itself when not retryable
                    wait = math.inf
                if time.monotonic() + wait > ends:
                    raise ServerError(self._failure(where, cause, len(retry.history))) from None
            else:
                answer.retries = len(retry.history)
                retry_after = answer.headers.get("Retry-After")
                if not retry.is_retry(method, answer.status, retry_after is not None):
                    return answer
                try:
                    retry = retry.increment(method, url, response=raw)
                    asked = retry.get_retry_after(raw) if retry_after else None
                except MaxRetryError:
                    return answer  # the last answer explains the failure
                except InvalidHeader:
                    asked = None
                wait = retry.get_backoff_time() if asked is None else asked
                if time.monotonic() + wait > ends:
                    return answer
            time.sleep(wait)

    def _failure(self, where: str, cause: Exception | None, retries: int) -> str:
        if cause is None:
            return (
                f"{where}: no complete answer within request-deadline ({self.deadline:g} s); "
                "the server is too slow or stalled (raise request-deadline if it is just slow)"
            )
        said = describe_exception(cause, self.timeout)
        return one_line(f"{where}: {said}{' (gave up after retrying)' if retries else ''}")

    def _attempt(
        self, method: str, url: str, where: str, ends: float, sink: Path | None, kw: dict[str, Any]
    ) -> tuple[Answer, Any]:
        """One attempt on a helper thread, waited for until `ends`. requests has no overall
        timeout, and http.client reads a status line and headers trickled a byte at a time (up to
        101 lines of 64 KiB, each byte restarting the read timeout) for as long as they come."""
        out: IO[bytes] | None = None
        if sink is not None:
            out = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, also when abandoned)
                dir=sink.parent, prefix=f".{sink.name}.", suffix=".part", delete=False
            )
        result: list[Any] = []

        def receive() -> None:
            """Send, then read the body in chunks, capped and given up once `ends` has passed."""
            try:
                with self.session.request(
                    method, url, stream=True, allow_redirects=False, timeout=self.timeout, **kw
                ) as resp:
                    ok = 200 <= resp.status_code < 300
                    body, digest = self._read(resp, where, ends, out if ok else None)
                reason = resp.reason or ""
                answer = Answer(resp.status_code, resp.headers, body, reason, method, resp.url)
                answer.sha256 = digest
                result.append((answer, resp.raw))
            except (requests.RequestException, HTTPError, OSError) as exc:
                result.append(_NoAnswer(_cause(exc)))
            except BaseException as exc:  # handed to the waiting thread
                result.append(exc)

        helper = threading.Thread(target=receive, name="oic-http", daemon=True)
        helper.start()
        helper.join(max(ends - time.monotonic(), 0))
        try:
            if not result:
                raise _NoAnswer(None)
            if isinstance(result[0], BaseException):
                raise result[0]
            answer, raw = result[0]
            if out is not None and sink is not None and answer.sha256 is not None:
                out.close()
                os.replace(out.name, sink)
                out = None
            return answer, raw
        finally:
            if out is not None:
                out.close()  # a helper still writing meets a closed file and stops
                Path(out.name).unlink(missing_ok=True)

    def _read(
        self, resp: requests.Response, where: str, ends: float, out: IO[bytes] | None
    ) -> tuple[bytes, str | None]:
        limit = self.max_size
        too_big = ServerError(
            f"{where}: the answer is larger than max-response-size ({limit} bytes); raise "
            "max-response-size if the server really sends that much"
        )
        declared = resp.headers.get("Content-Length", "")
        if (
            declared.isdigit()
            and int(declared) > limit
            and not resp.headers.get("Content-Encoding")
        ):
            raise too_big
        digest = hashlib.sha256()
        chunks: list[bytes] = []
        total = 0
        resp.raw.decode_content = True  # requests asks for raw bytes; we count what they decode to
        while chunk := resp.raw.read1(CHUNK):
            total += len(chunk)
            if total > limit:
                raise too_big
            if time.monotonic() > ends:
                raise _NoAnswer(None)
            if out is None:
                chunks.append(chunk)
            else:
                out.write(chunk)
                digest.update(chunk)
        return b"".join(chunks), None if out is None else digest.hexdigest()
