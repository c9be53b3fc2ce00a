"""One HTTP exchange with OIC, bounded in time and in size, whatever the server does.

A read timeout restarts on every byte, so a server that drips one byte every few seconds holds
a plain `requests` call for ever, and `resp.content` holds a body of any size in memory. Here
every exchange (retries included) has an overall deadline, `request-deadline`: a watchdog shuts
the sockets of the exchange when it passes, and the body is read in chunks and refused past
`max-response-size` (counted after decompression, so a gzip bomb is refused too).

Proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) are requests' own handling of the
environment; the CA bundle is handed in. `.netrc` never replaces our Authorization header:
requests applies it only when no auth object is set, and the session always has one.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..errors import ServerError
from .http_errors import describe_exception, one_line
from .url import without_query

CHUNK = 65536


class _Watch:
    """The deadline of one exchange: shuts every socket it was given once time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def add(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if self.expired:
                _shut(sock)
            else:
                self._socks.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._socks:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    """End the socket's reads now (plain socket shutdown, also under TLS)."""
    with suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current = threading.local()


def deadline_passed() -> bool:
    """True once the deadline of this thread's exchange has passed (the retries stop)."""
    watch = getattr(_current, "watch", None)
    return bool(watch and watch.expired)


@contextmanager
def _deadline(seconds: float) -> Iterator[_Watch]:
    watch = _Watch(seconds)
    previous = getattr(_current, "watch", None)
    _current.watch = watch
    watch._timer.start()
    try:
        yield watch
    finally:
        watch._timer.cancel()
        _current.watch = previous


class _Watched:
    """Mixed into the pool's connection class: hands its socket to the running deadline."""

    def getresponse(self, *args: Any, **kw: Any) -> Any:
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.add(getattr(self, "sock", None))
        return super().getresponse(*args, **kw)  # type: ignore[misc]


_WATCHED: dict[type, type] = {}


def _watched(cls: type) -> type:
    """The pool's connection class (urllib3's, or whatever a test recorder installed) with
    the deadline hook; one subclass per class."""
    if cls not in _WATCHED:
        _WATCHED[cls] = type(f"Watched{cls.__name__}", (_Watched, cls), {})
    return _WATCHED[cls]


class _HTTPPool(HTTPConnectionPool):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.ConnectionCls = _watched(HTTPConnectionPool.ConnectionCls)


class _HTTPSPool(HTTPSConnectionPool):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.ConnectionCls = _watched(HTTPSConnectionPool.ConnectionCls)


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections (direct or through a proxy) report their socket to
    the running exchange's deadline."""

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kw: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kw)
        manager.pool_classes_by_scheme = _POOLS
        return manager


class _Header(requests.auth.AuthBase):
    """Sets our Authorization header; as the session's auth it also keeps `.netrc` out."""

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.value is not None:
            request.headers["Authorization"] = self.value
        return request


def no_netrc(session: requests.Session) -> None:
    """A session auth that does nothing, so requests never looks in `.netrc`."""
    session.auth = _Header(None)


def read_capped(resp: requests.Response, limit: int, where: str) -> bytes:
    """The whole body, decoded, refused once it passes `limit` bytes."""
    declared = resp.headers.get("Content-Length", "")
    too_big = ServerError(
        f"{where}: the answer is larger than max-response-size ({limit} bytes); raise "
        "max-response-size if the server really sends that much"
    )
    if (
        declared.isdigit()
        and int(declared) > limit
        and "gzip" not in resp.headers.get("Content-Encoding", "")
    ):
        resp.close()
        raise too_big
    chunks: list[bytes] = []
    total = 0
    for chunk in resp.raw.stream(CHUNK, decode_content=True):
        total += len(chunk)
        if total > limit:
            resp.close()
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


class UncertainWrite(ServerError):
    """A request that changes the server failed in transport after it may have reached the
    server: read the state before deciding what to do next. (TEMP until core-http lands.)"""


_NOT_SENT = frozenset({"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"})


def _never_sent(exc: BaseException) -> bool:
    """True when the connection was never made (refused, no route, DNS, connect timeout)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, requests.exceptions.ConnectTimeout):
            return True
        if type(item).__name__ in _NOT_SENT:
            return True
        todo += [a for a in item.args if isinstance(a, BaseException)]
        todo += [getattr(item, "reason", None), item.__cause__, item.__context__]
    return False


def exchange(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    deadline: float,
    max_size: int,
    timeout: tuple[float, float],
    authorization: str | None = None,
    write: bool = False,
    **kw: Any,
) -> requests.Response:
    """Send one request (urllib3 retries included) and read its whole body within `deadline`
    seconds and `max_size` bytes; any failure is one ServerError naming `what` and the URL.
    With `write`, a failure after the request may have reached the server is UncertainWrite."""
    where = f"{what}: {method} {without_query(url)}"
    if authorization is not None:
        kw["auth"] = _Header(authorization)
    with _deadline(deadline) as watch:
        try:
            resp = session.request(
                method, url, timeout=timeout, allow_redirects=False, stream=True, **kw
            )
            try:
                resp._content = read_capped(resp, max_size, where)
                resp._content_consumed = True  # type: ignore[attr-defined]
            finally:
                resp.close()
        except requests.RequestException as exc:
            kind = UncertainWrite if write and not _never_sent(exc) else ServerError
            if watch.expired:
                raise kind(_late(where, deadline)) from None
            raise kind(one_line(f"{where}: {describe_exception(exc, timeout)}")) from None
        except ServerError:
            raise
        except Exception as exc:  # urllib3/http.client errors raised while streaming the body
            kind = UncertainWrite if write else ServerError
            if watch.expired:
                raise kind(_late(where, deadline)) from None
            raise kind(one_line(f"{where}: {type(exc).__name__}: {exc}")) from None
    if watch.expired:
        raise (UncertainWrite if write else ServerError)(_late(where, deadline))
    return resp


def _late(where: str, deadline: float) -> str:
    return (
        f"{where}: no complete answer within request-deadline ({deadline:g} s); the server is "
        "too slow or stalled (raise request-deadline if it is just slow)"
    )
