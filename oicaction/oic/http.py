"""One HTTP exchange with OIC, bounded in time and in size, whatever the server does.

requests and urllib3 are used from the outside: `stream=True` with (connect, read) timeouts, the
body read in chunks (`read1`), a stock urllib3 `Retry` that counts attempts and computes the
waits. What they do not offer is added around them:

- an overall deadline, `request-deadline`: a read timeout restarts on every byte, so a server
  that trickles its status line, headers or body holds a plain call for ever. Each attempt runs
  on a helper thread that the caller waits for at most until the deadline; the helper checks the
  deadline between chunks, so it stops within one read timeout after it.
- a size cap, `max-response-size`, counted after decompression (a gzip bomb is refused too); a
  body can go to a file instead of memory (`sink`), hashed as it is written.
- a retry policy that never re-sends a request that may have changed the server: a write is
  retried only when nothing was sent (a connect error), on 429 with Retry-After, or on a lock
  (412/423); reads (and the token request) also on 502/503/504, resets and read timeouts. No wait
  may pass the deadline: a Retry-After beyond it ends the exchange at once.

Proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) are requests' own handling of the environment;
the CA bundle is handed in. `.netrc` never replaces our Authorization header: requests consults
it only when a session has no auth, and ours always has one (that does nothing).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    InvalidHeader,
    MaxRetryError,
    ProxyError,
)
from urllib3.fields import RequestField
from urllib3.util.retry import Retry

from ..errors import ServerError, one_line
from .http_errors import describe_exception, describe_text
from .url import shown_url

CHUNK = 65536
DETAIL_BYTES = 65536  # of an error body, enough for its message


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
        text = self.body[:DETAIL_BYTES].decode("utf-8", "replace")
        return describe_text(text, self.headers.get("Content-Type", "").lower())

    def said(self) -> str:
        """`HTTP 404 Not Found from GET <url>: <detail>`."""
        return f"HTTP {self.status} {self.reason} from {self.method} {shown_url(self.url)}: " + (
            self.detail()
        )


class UncertainWrite(ServerError):
    """A request that changes the server failed after it may have reached it: read the state
    (GET) before deciding what to do next."""


class _Retry(Retry):
    """urllib3's Retry, where a Retry-After makes only a 429 retryable (its default also takes
    413 and 503): a write answered 503 may have been applied."""

    RETRY_AFTER_STATUS_CODES = frozenset({429})


# 423: a connection locked by someone editing it, released in a while (Oracle's reference lists
# it for the attachment download); 412 what OIC answers an update of a locked resource.
READ_RETRY_STATUSES = frozenset({423, 429, 502, 503, 504})
WRITE_RETRY_STATUSES = frozenset({412, 423})


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

    def retry(self, idempotent: bool) -> Retry:
        """A fresh Retry for one exchange: reads retry transport failures and busy statuses;
        writes only what cannot have reached the server, 429 with Retry-After and locks."""
        n = self.retries
        return _Retry(
            total=n,
            connect=n,
            read=n if idempotent else 0,
            status=n,
            other=0,
            redirect=0,
            status_forcelist=READ_RETRY_STATUSES if idempotent else WRITE_RETRY_STATUSES,
            allowed_methods=None,  # the policy is chosen by `idempotent`, not by the method
            backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max,
            respect_retry_after_header=True,
        )


class Upload:
    """A multipart/form-data body with one file part, read from disk while it is sent
    (requests' `files=` would hold the whole file in memory). Seekable, so a retry re-sends
    it from the start."""

    def __init__(self, path: Path, field: str) -> None:
        boundary = secrets.token_hex(16)
        part = RequestField(name=field, data=b"", filename=path.name)
        part.make_multipart(content_type="application/octet-stream")
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._head = f"--{boundary}\r\n{part.render_headers()}".encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._file = path.open("rb")
        self._size = os.fstat(self._file.fileno()).st_size
        self._pos = 0

    def __len__(self) -> int:
        return len(self._head) + self._size + len(self._tail)

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        self._pos = pos if whence == 0 else len(self) + pos if whence == 2 else self._pos + pos
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = len(self) if size is None or size < 0 else min(len(self), self._pos + size)
        out = b""
        head, body_end = len(self._head), len(self._head) + self._size
        while self._pos < end:
            if self._pos < head:
                piece = self._head[self._pos : min(end, head)]
            elif self._pos < body_end:
                self._file.seek(self._pos - head)
                piece = self._file.read(min(end, body_end) - self._pos)
                if not piece:
                    raise ServerError(f"{self._file.name} changed while it was sent")
            else:
                piece = self._tail[self._pos - body_end : end - body_end]
            out += piece
            self._pos += len(piece)
        return out

    def close(self) -> None:
        self._file.close()


def _cause(exc: Exception) -> Exception:
    """The urllib3 error under requests' wrapping (and MaxRetryError's), which Retry reads."""
    while isinstance(exc, requests.RequestException) and exc.args:
        if not isinstance(exc.args[0], Exception):
            break
        exc = exc.args[0]
    if isinstance(exc, MaxRetryError) and isinstance(exc.reason, Exception):
        exc = exc.reason
    return exc


def _not_sent(cause: Exception) -> bool:
    """The request cannot have reached the server: no connection was made (any later failure,
    TLS included, might have come after the server read it)."""
    if isinstance(cause, ProxyError):
        cause = cause.original_error
    return isinstance(cause, ConnectTimeoutError)


class Http:
    """One session (connection pool) and the limits every exchange keeps."""

    def __init__(
        self,
        options: HttpOptions,
        *,
        deadline: float,
        max_size: int,
        pool_size: int,
        ca_bundle: str | None,
    ) -> None:
        self.options = options
        self.deadline = deadline
        self.max_size = max_size
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(pool_size, 1))
        self.session = requests.Session()
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = "oic-build"
        self.session.auth = _keep  # an auth that does nothing keeps requests out of .netrc
        if ca_bundle:
            self.session.verify = ca_bundle

    def close(self) -> None:
        self.session.close()

    def exchange(
        self,
        method: str,
        url: str,
        *,
        what: str,
        idempotent: bool = True,
        sink: Path | None = None,
        upload: Upload | None = None,
        **kw: Any,
    ) -> Answer:
        """Send one request (retries included) and read its whole answer within
        request-deadline and max-response-size. Any status comes back as an Answer; a 2xx body
        goes to `sink` when given (written whole or not at all). A transport failure is one
        ServerError naming `what` and the URL; UncertainWrite when a write may have arrived."""
        where = f"{what}: {method} {shown_url(url)}"
        ends = time.monotonic() + self.deadline
        retry = self.options.retry(idempotent)
        if upload is not None:
            kw["data"] = upload
        while True:
            if upload is not None:
                upload.seek(0)
            try:
                answer, raw = self._attempt(method, url, where, ends, sink, kw)
            except _Failed as failed:
                if failed.late is not None or not (idempotent or _not_sent(failed.cause)):
                    if idempotent:
                        raise ServerError(str(failed)) from None
                    raise UncertainWrite(f"{failed}; {_UNCERTAIN}") from None
                try:
                    retry = retry.increment(method, url, error=failed.cause)
                except Exception:  # MaxRetryError, or the error itself when not retryable
                    raise ServerError(failed.text(len(retry.history))) from None
                wait = retry.get_backoff_time()
                if time.monotonic() + wait > ends:
                    raise ServerError(failed.text(len(retry.history))) from None
            else:
                answer.retries = len(retry.history)
                retry_after = answer.headers.get("Retry-After")
                if not retry.is_retry(method, answer.status, retry_after is not None):
                    return answer
                try:
                    retry = retry.increment(method, url, response=raw)
                except MaxRetryError:
                    return answer  # the last answer explains the failure
                try:
                    asked = retry.get_retry_after(raw) if retry_after else None
                except InvalidHeader:
                    asked = None
                wait = retry.get_backoff_time() if asked is None else asked
                if time.monotonic() + wait > ends:
                    return answer
            time.sleep(wait)

    def _attempt(
        self,
        method: str,
        url: str,
        where: str,
        ends: float,
        sink: Path | None,
        kw: dict[str, Any],
    ) -> tuple[Answer, Any]:
        """One attempt on a helper thread, waited for until `ends`: requests has no overall
        timeout, and a server trickling its headers would hold the calling thread for ever."""
        out: IO[bytes] | None = None
        if sink is not None:
            out = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, also when abandoned)
                dir=sink.parent, prefix=f".{sink.name}.", suffix=".part", delete=False
            )
        result: list[Any] = []
        done = threading.Event()

        def run() -> None:
            try:
                result.append(self._receive(method, url, where, ends, out, kw))
            except BaseException as exc:  # handed to the waiting thread
                result.append(exc)
            finally:
                done.set()

        threading.Thread(target=run, name="oic-http", daemon=True).start()
        try:
            if not done.wait(max(ends - time.monotonic(), 0)):
                raise _Failed(where, None, late=self.deadline)
            found = result[0]
            if isinstance(found, BaseException):
                raise found
            answer, raw = found
            if out is not None and answer.sha256 is not None:
                out.close()
                assert sink is not None
                os.replace(out.name, sink)
                out = None
            return answer, raw
        finally:
            if out is not None:
                out.close()  # a helper still writing meets a closed file and stops
                Path(out.name).unlink(missing_ok=True)

    def _receive(
        self,
        method: str,
        url: str,
        where: str,
        ends: float,
        out: IO[bytes] | None,
        kw: dict[str, Any],
    ) -> tuple[Answer, Any]:
        """Send, then read the body in chunks: capped, and given up once `ends` has passed."""
        timeout = (self.options.connect_timeout, self.options.read_timeout)
        try:
            resp = self.session.request(
                method, url, stream=True, allow_redirects=False, timeout=timeout, **kw
            )
        except requests.RequestException as exc:
            raise _Failed(where, exc, timeout=timeout) from None
        raw = resp.raw
        try:
            to_file = out if 200 <= resp.status_code < 300 else None
            body, digest = self._read(raw, resp.headers, where, ends, to_file)
        except (HTTPError, OSError) as exc:
            raise _Failed(where, exc, timeout=timeout) from None
        finally:
            resp.close()  # after a whole body, urllib3 has put the connection back already
        answer = Answer(
            resp.status_code, resp.headers, body, resp.reason or "", method, resp.url, sha256=digest
        )
        return answer, raw

    def _read(
        self,
        raw: Any,
        headers: Mapping[str, str],
        where: str,
        ends: float,
        out: IO[bytes] | None,
    ) -> tuple[bytes, str | None]:
        limit = self.max_size
        too_big = ServerError(
            f"{where}: the answer is larger than max-response-size ({limit} bytes); raise "
            "max-response-size if the server really sends that much"
        )
        declared = headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit and not headers.get("Content-Encoding"):
            raise too_big
        digest = hashlib.sha256() if out is not None else None
        chunks: list[bytes] = []
        total = 0
        raw.decode_content = True  # requests asks for raw bytes; we count what they decode to
        while chunk := raw.read1(CHUNK):
            total += len(chunk)
            if total > limit:
                raise too_big
            if time.monotonic() > ends:
                raise _Failed(where, None, late=self.deadline)
            if out is not None and digest is not None:
                out.write(chunk)
                digest.update(chunk)
            else:
                chunks.append(chunk)
        return b"".join(chunks), digest.hexdigest() if digest is not None else None


def _keep(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


_UNCERTAIN = "it may have reached the server: read its state before trying again"


class _Failed(Exception):
    """No answer: a transport failure (`cause`, what Retry classifies) or the deadline."""

    def __init__(
        self,
        where: str,
        exc: Exception | None,
        *,
        timeout: tuple[float, float] = (0, 0),
        late: float | None = None,
    ) -> None:
        self.where = where
        self.cause = _cause(exc) if exc is not None else TimeoutError()
        self.late = late
        self.timeout = timeout
        super().__init__(self.text(0))

    def text(self, retries: int) -> str:
        if self.late is not None:
            return (
                f"{self.where}: no complete answer within request-deadline ({self.late:g} s); "
                "the server is too slow or stalled (raise request-deadline if it is just slow)"
            )
        said = describe_exception(self.cause, self.timeout)
        return one_line(f"{self.where}: {said}{' (gave up after retrying)' if retries else ''}")
