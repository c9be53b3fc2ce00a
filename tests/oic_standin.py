"""A stand-in for an OIC instance: a real HTTP server on 127.0.0.1 for tests and CI.

It serves the token endpoint (client credentials, scope checked), the connection list (the
first request of a build), connections (bodies loaded from the recorded real responses in
../shared/fixtures/api), connection attachments, projects (OIC 3: the same under
/projects/<id>/), lookup CSV archives, the paged integration list (what pull reads; each
integration's archive and a project's export are the write side's, tests/standin_state.py) and
OIC's error shapes, and can inject faults per path:
429 with Retry-After, 503, 423 (locked), connection reset, a slow answer, a body dripped one
byte at a time, an oversized body (plain or gzip), a 401 (the token revoked), 404 with the
recorded plain text `Connection not found.`, an HTML page instead of JSON, a redirect to the
Gen3 design host (with `integrationInstance`) or off Oracle's domain, OIC error JSON and the OCI
gateway's error JSON. Any write (POST, PUT, PATCH, DELETE) to `/ic/api/integration/v1/echo/...`
answers what arrived (method, X-HTTP-Method-Override, content type, size, sha256). Which exchanges
are invented (no real recording) is listed in docs/live-recording.md. It counts requests per
(method, path), logs each request (`requests`) and the most requests in flight.

Standard library only, so CI can start it on a host without the project installed:

    python -m tests.oic_standin --port 8123 [--fixtures ../shared/fixtures/api] [--archives DIR]
    python tests/oic_standin.py --port 8123
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import re
import secrets
import socket
import ssl
import struct
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

try:  # python -m tests.oic_standin
    from .standin_state import DeployModel, Integration, Routes, integration_body, read_chunked
except ImportError:  # python tests/oic_standin.py, or imported from the tests folder
    from standin_state import (  # type: ignore[no-redef]
        DeployModel,
        Integration,
        Routes,
        integration_body,
        read_chunked,
    )

API = "/ic/api/integration/v1"
TOKEN_PATH = "/oauth2/v1/token"
DESIGN_HOST = "design.integration.us-ashburn-1.ocp.oraclecloud.com"
NOT_FOUND_TEXT = "Connection not found."
# The scope a confidential app for OIC 3 is given: the resource audience + consumer::all.
SCOPE = "https://standin0123.integration.us-ashburn-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all"
REDIRECT_INSTANCE = "standin-instance-abcdefgh-ia"

# Test credentials: fake, recognisable, and scanned for in every cassette.
CLIENT_ID = "standin-client-id"
CLIENT_SECRET = "standin-client-secret-9f3c"
USERNAME = "standin-user"
PASSWORD = "standin-password-71b2"
TOKEN_PREFIX = "standin-token-"

FAULTS = (
    "429",
    "503",
    "reset",
    "slow",
    "401",
    "404",
    "html",
    "redirect",
    "redirect-away",
    "oic-error",
    "gateway-error",
    "412",
    "423",
    "drip",
    "drip-headers",
    "big",
    "big-unsized",
    "big-gzip",
    "echo",
)

SIGN_IN_PAGE = (
    "<!DOCTYPE html><html><head><title>Oracle Integration - Sign In</title></head>"
    "<body><form action='/oauth2/v1/authorize'>Sign in</form></body></html>"
)


@dataclass
class Fault:
    """One injected misbehaviour; `seconds` is Retry-After (429/503/423), the delay (slow) or
    the pause between bytes (drip); `size` the body size in bytes (big*); `text` the error
    detail of `echo`, where `{authorization}` stands for the request's Authorization header and
    `{credential}` for the part after its scheme (a hostile or debugging server that echoes what
    it was sent)."""

    kind: str
    seconds: float = 0.0
    text: str = ""
    size: int = 0


@dataclass(frozen=True)
class Seen:
    """One request as it arrived."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class StandInState:
    """Everything the handler reads and the tests arrange or inspect."""

    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    username: str = USERNAME
    password: str = PASSWORD
    instance: str | None = None
    scope: str | None = SCOPE
    delay: float = 0.0
    connections: dict[str, Any] = field(default_factory=dict)
    lookups: dict[str, bytes] = field(default_factory=dict)
    attachments: dict[tuple[str, str], bytes] = field(default_factory=dict)
    projects: set[str] = field(default_factory=set)  # OIC 3 projects that exist
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    deploy: DeployModel = field(default_factory=DeployModel)  # the write side (standin_state)
    list_page: int = 100  # the most items one page of the integration list holds


def _scoped(key: str, project: str | None) -> str:
    """How a project's connection or lookup is keyed in the state, apart from global ones."""
    return key if project is None else f"projects/{project}/{key}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: the handler sends headers and body in two writes, and with Nagle's algorithm
    # the body then waits for the client's delayed ACK, ~40 ms on every answer (a real server
    # does not stall so, and the export benchmark would time the stand-in, not the client).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    # -- plumbing ---------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes | str = b"",
        ctype: str = "application/json;charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        if data or ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data, indent=2), headers=headers)

    def _oic_error(
        self,
        status: int,
        title: str,
        detail: str,
        code: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._json(
            status,
            {
                "type": f"https://www.rfc-editor.org/rfc/rfc9110#status.{status}",
                "title": title,
                "detail": detail,
                "o:errorCode": code,
                "status": status,
            },
            headers,
        )

    def _drip(self, fault: Fault, headers_too: bool) -> None:
        """A valid answer sent one byte every `fault.seconds`: each byte restarts a client's
        read timeout, so only an overall deadline ends it. Stops when the client leaves."""
        body = b'{"id": "DRIP", "connectionProperties": []}'
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.close_connection = True
        data = head + body
        if not headers_too:
            self.wfile.write(head)
            data = body
        try:
            for i in range(len(data)):
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                time.sleep(fault.seconds)
        except OSError:
            pass

    def _reset(self) -> None:
        """Close with RST, no answer: what a dropped connection looks like to the client."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _take_fault(self, path: str) -> Fault | None:
        state = self.server.state
        with state.lock:
            for key, queue in state.faults.items():
                if queue and (path == key or path.endswith(key)):
                    return queue.popleft()
        return None

    # -- dispatch ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        path = parts.path
        length = int(self.headers.get("Content-Length") or 0)
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = read_chunked(self.rfile)
        else:
            body = self.rfile.read(length) if length else b""
        with state.lock:
            state.counts[(method, path)] += 1
            state.seen.append(
                Seen(method, path, parse_qs(parts.query), dict(self.headers.items()), body)
            )
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            if state.delay:
                time.sleep(state.delay)
            fault = self._take_fault(path)
            if fault is not None and self._apply_fault(fault, path, parts.query):
                return
            if method == "POST" and path == TOKEN_PATH:
                self._token(body)
            elif path.startswith(API + "/echo"):
                self._echo(method, body)
            elif path.startswith(API + "/"):
                self._api(method, path[len(API) :], parse_qs(parts.query), body)
            else:
                self._oic_error(404, "Not Found", f"No resource at {path}", "OIC-STANDIN-404")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            with state.lock:
                state.in_flight -= 1

    def _apply_fault(self, fault: Fault, path: str, query: str) -> bool:
        """Answer with the fault; False if the fault lets the request through (slow, 401)."""
        kind = fault.kind
        if kind == "429":
            self._json(
                429,
                {"code": "TooManyRequests", "message": "Too many requests for the tenancy"},
                headers={"Retry-After": f"{fault.seconds:g}"},
            )
        elif kind == "503":
            headers = {"Retry-After": f"{fault.seconds:g}"} if fault.seconds else None
            self._send(503, "Service Unavailable", "text/plain", headers)
        elif kind == "reset":
            self._reset()
        elif kind == "slow":
            time.sleep(fault.seconds)
            return False
        elif kind == "401":
            credential = (self.headers.get("Authorization") or "").partition(" ")[2]
            with self.server.state.lock:
                self.server.state.tokens.discard(credential)  # the token "expired"
            self._json(401, {"title": "Unauthorized", "status": 401})
        elif kind == "404":
            self._send(404, NOT_FOUND_TEXT, "text/plain")
        elif kind == "html":
            self._send(200, SIGN_IN_PAGE, "text/html;charset=utf-8")
        elif kind == "redirect":  # what an OIC 3 runtime/console host does
            target = f"https://{DESIGN_HOST}{path}?integrationInstance={REDIRECT_INSTANCE}"
            self._send(302, b"", "", {"Location": target})
        elif kind == "redirect-away":
            self._send(302, b"", "", {"Location": f"https://oic.example.net{path}"})
        elif kind == "412":
            self._oic_error(412, "Precondition Failed", "Resource is locked", "OIC-STANDIN-412")
        elif kind == "423":
            headers = {"Retry-After": f"{fault.seconds:g}"} if fault.seconds else None
            self._oic_error(423, "Locked", "Connection is locked", "OIC-STANDIN-423", headers)
        elif kind in ("drip", "drip-headers"):
            self._drip(fault, headers_too=kind == "drip-headers")
        elif kind == "big":
            self._send(200, b"x" * fault.size, "application/octet-stream")
        elif kind == "big-unsized":  # no Content-Length: the size shows only while reading
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            block = b"x" * 65536
            try:
                for _ in range(fault.size // len(block)):
                    self.wfile.write(block)
            except OSError:
                pass
        elif kind == "big-gzip":
            data = gzip.compress(b"0" * fault.size)
            self._send(200, data, "application/octet-stream", {"Content-Encoding": "gzip"})
        elif kind == "oic-error":
            self._oic_error(
                500,
                "Internal Server Error",
                "Unable to read the connection metadata",
                "OIC-STANDIN-500",
            )
        elif kind == "echo":
            sent = self.headers.get("Authorization") or ""
            text = fault.text.replace("{authorization}", sent)
            text = text.replace("{credential}", sent.partition(" ")[2])
            self._oic_error(500, "Internal Server Error", text, "ECHO")
        elif kind == "gateway-error":
            self._json(
                404,
                {
                    "code": "NotAuthorizedOrNotFound",
                    "message": "Authorization failed or requested resource not found.",
                },
            )
        else:
            raise ValueError(f"unknown fault {kind}")
        return True

    # -- endpoints --------------------------------------------------------------------------

    def _echo(self, method: str, body: bytes) -> None:
        """A write of any kind: says what arrived, so tests see what the client sent."""
        if not self._authorised():
            self._json(401, {"title": "Unauthorized", "status": 401})
            return
        self._json(
            200,
            {
                "method": self.headers.get("X-HTTP-Method-Override") or method,
                "contentType": self.headers.get("Content-Type"),
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            },
        )

    def _token(self, body: bytes) -> None:
        state = self.server.state
        form = parse_qs(body.decode())
        scheme, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
        client_id = client_secret = None
        if scheme.lower() == "basic":
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        else:
            client_id = (form.get("client_id") or [None])[0]
            client_secret = (form.get("client_secret") or [None])[0]
        if (client_id, client_secret) != (state.client_id, state.client_secret):
            self._json(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed."},
            )
            return
        if (form.get("grant_type") or [None])[0] != "client_credentials":
            self._json(400, {"error": "unsupported_grant_type"})
            return
        if state.scope and (form.get("scope") or [None])[0] != state.scope:
            self._json(
                400, {"error": "invalid_scope", "error_description": "Invalid scope requested."}
            )
            return
        token = TOKEN_PREFIX + secrets.token_hex(16)
        with state.lock:
            state.tokens.add(token)
        self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    def _authorised(self) -> bool:
        state = self.server.state
        scheme, _, credential = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer":
            with state.lock:
                return credential in state.tokens
        if scheme.lower() == "basic":
            user, _, password = base64.b64decode(credential).decode().partition(":")
            return (user, password) == (state.username, state.password)
        return False

    def _api(self, method: str, rest: str, query: dict[str, list[str]], body: bytes) -> None:
        state = self.server.state
        if not self._authorised():
            self._json(401, {"title": "Unauthorized", "status": 401})
            return
        if state.instance and query.get("integrationInstance") != [state.instance]:
            self._json(
                400,
                {
                    "code": "InvalidParameter",
                    "message": "Missing or unknown integrationInstance query parameter",
                },
            )
            return
        segments = [unquote(p) for p in rest.strip("/").split("/")]
        if Routes(self, method, body).handle(segments):  # the write side, standin_state.py
            return
        if method != "GET":
            self._oic_error(405, "Method Not Allowed", f"{method} {rest}", "OIC-STANDIN-405")
            return
        scope = None  # OIC 3 project endpoints: /projects/{projectId}/connections/... and lookups
        if segments[0] == "projects" and len(segments) >= 2:
            if segments[1] not in state.projects:
                self._oic_error(
                    404, "Not Found", f"Project {segments[1]} not found", "OIC-STANDIN-404"
                )
                return
            if len(segments) == 2:
                self._json(200, {"id": segments[1], "name": segments[1]})
                return
            scope, segments = segments[1], segments[2:]
        if segments == ["integrations"] and scope is None:
            self._integration_list(query)
        elif segments == ["connections"]:
            items = [{"id": k} for k in sorted(state.connections) if "/" not in k][:1]
            self._json(200, {"items": items, "hasMore": False, "totalResults": len(items)})
        elif len(segments) == 2 and segments[0] == "connections":
            conn = state.connections.get(_scoped(segments[1], scope))
            if conn is None:
                self._send(404, NOT_FOUND_TEXT, "text/plain")
            elif isinstance(conn, bytes | str):
                self._send(200, conn)
            else:
                self._json(200, conn)
        elif len(segments) == 4 and segments[0] == "connections" and segments[2] == "attachments":
            data = state.attachments.get((_scoped(segments[1], scope), segments[3]))
            if data is None:
                self._oic_error(404, "Not Found", "Attachment not found", "OIC-STANDIN-404")
            else:
                self._send(200, data, "application/octet-stream")
        elif len(segments) == 3 and segments[0] == "lookups" and segments[2] == "archive":
            name = segments[1]
            data = state.lookups.get(_scoped(name, scope))
            if data is None:
                self._oic_error(404, "Not Found", f"Lookup {name} not found", "OIC-STANDIN-404")
            else:
                self._send(
                    200,
                    data,
                    "application/octet-stream",
                    {"Content-Disposition": f'attachment; filename="{name}.csv"'},
                )
        else:
            self._oic_error(
                404, "Not Found", f"No resource at {'/'.join(segments)}", "OIC-STANDIN-404"
            )

    def _integration_list(self, query: dict[str, list[str]]) -> None:
        """`GET /integrations`, paged by limit/offset (at most `list_page` items a page), in
        the order the integrations were added (pull reads it, deploy's model holds them)."""
        state = self.server.state
        limit = min(int((query.get("limit") or ["100"])[0]), state.list_page)
        offset = int((query.get("offset") or ["0"])[0])
        with state.lock:
            held = [
                i for k, i in state.deploy.integrations.items() if not k.startswith("projects/")
            ]
            page = [integration_body(i) for i in held[offset : offset + limit]]
        more = offset + len(page) < len(held)
        body = {"items": page, "hasMore": more, "limit": limit, "offset": offset}
        self._json(200, {**body, "totalResults": len(held)})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: StandInState) -> None:
        super().__init__(address, _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that timed out and left is part of the tests


class StandIn:
    """Start with `with StandIn() as oic:`; arrange with add_connection/add_lookup/fault."""

    def __init__(
        self,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
        **state: Any,
    ) -> None:
        self.state = StandInState(**state)
        self._server = _Server(("127.0.0.1", port), self.state)
        if tls is not None:  # HTTPS with the caller's certificate (tests: a trustme CA)
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self._server.server_address[1]}"

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def start(self) -> StandIn:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- arranging --------------------------------------------------------------------------

    def add_connection(self, conn_id: str, body: Any, project: str | None = None) -> None:
        """Serve a connection; with `project`, only under that project's endpoints."""
        self.add_project(project)
        self.state.connections[_scoped(conn_id, project)] = body

    def add_lookup(self, name: str, csv: bytes, project: str | None = None) -> None:
        self.add_project(project)
        self.state.lookups[_scoped(name, project)] = csv

    def add_attachment(
        self, conn_id: str, prop: str, data: bytes, project: str | None = None
    ) -> None:
        self.add_project(project)
        self.state.attachments[(_scoped(conn_id, project), prop)] = data

    def add_project(self, project: str | None) -> None:
        """An OIC 3 project that exists (`GET /projects/{id}` answers 200)."""
        if project is not None:
            self.state.projects.add(project)

    def fault(
        self,
        path: str,
        kind: str,
        times: int = 1,
        seconds: float = 0.0,
        text: str = "",
        size: int = 0,
    ) -> None:
        """Answer the next `times` requests whose path ends with `path` with fault `kind`."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind}; one of {', '.join(FAULTS)}")
        with self.state.lock:
            queue = self.state.faults.setdefault(path, deque())
            queue.extend(Fault(kind, seconds, text, size) for _ in range(times))

    def add_integration(
        self,
        iid: str,
        archive: bytes = b"",
        status: str = "CONFIGURED",
        project: str | None = None,
        schedule: str | None = None,
    ) -> Integration:
        """An integration already on the target (`archive`: what its export answers)."""
        self.add_project(project)
        item = Integration(iid, archive=archive, status=status, schedule=schedule)
        key = iid if project is None else f"projects/{project}/{iid}"
        self.state.deploy.integrations[key] = item
        return item

    def add_project_archive(self, project: str, car: bytes) -> None:
        """An OIC 3 project whose export (`POST /projects/{id}/archive`) answers `car`."""
        self.add_project(project)
        self.state.deploy.projects[project] = car

    def integration(self, iid: str, project: str | None = None) -> Integration | None:
        key = iid if project is None else f"projects/{project}/{iid}"
        item = self.state.deploy.integrations.get(key)
        if item is not None:
            item.settle(self.state.deploy)
        return item

    # -- inspecting -------------------------------------------------------------------------

    @property
    def writes(self) -> int:
        """Requests other than GET, the token request aside: what may change the target."""
        with self.state.lock:
            return sum(
                n
                for (method, path), n in self.state.counts.items()
                if method != "GET" and path != TOKEN_PATH
            )

    def count(self, method: str, path: str) -> int:
        with self.state.lock:
            return self.state.counts[(method, path)]

    def connection_gets(self, conn_id: str) -> int:
        return self.count("GET", f"{API}/connections/{conn_id}")

    @property
    def requests(self) -> list[Seen]:
        """Every request so far, in the order they arrived."""
        with self.state.lock:
            return list(self.state.seen)

    @property
    def token_requests(self) -> int:
        return self.count("POST", TOKEN_PATH)

    @property
    def total_requests(self) -> int:
        with self.state.lock:
            return sum(self.state.counts.values())

    @property
    def max_in_flight(self) -> int:
        return self.state.max_in_flight


def load_fixture_connections(folder: Path) -> dict[str, Any]:
    """Recorded connection bodies from the shared fixtures: `<ID>.connection.<kind>.json`."""
    found: dict[str, Any] = {}
    for path in sorted(folder.rglob("*.connection.*.json")):
        if "response-headers" in path.name:
            continue
        conn_id = path.name.split(".connection.", 1)[0]
        found[conn_id] = json.loads(path.read_text(encoding="utf-8"))
    return found


SAMPLE_LOOKUP = b"DVM,COUNTRY_CODES,Country codes\nISO2,Name\nDE,Germany\nFR,France\n"


def main(argv: list[str] | None = None) -> int:
    default_fixtures = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "api"
    parser = argparse.ArgumentParser(
        description="Serve a stand-in OIC on 127.0.0.1. Prints one JSON line first: its URL and "
        "the (fake) credentials it accepts, for OIC_OIC_URL, OIC_CLIENT_ID, OIC_CLIENT_SECRET, "
        "OIC_TOKEN_URL and OIC_SCOPE (or OIC_USERNAME and OIC_PASSWORD)."
    )
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--fixtures", type=Path, default=default_fixtures)
    parser.add_argument("--instance", help="require ?integrationInstance=<name> (Gen3)")
    parser.add_argument("--archives", type=Path, help="hold every CODE_VERSION.iar under DIR")
    args = parser.parse_args(argv)
    standin = StandIn(args.port, instance=args.instance)
    if args.fixtures.is_dir():
        for conn_id, body in load_fixture_connections(args.fixtures).items():
            standin.add_connection(conn_id, body)
    standin.add_lookup("COUNTRY_CODES", SAMPLE_LOOKUP)
    for iar in sorted(args.archives.rglob("*.iar")) if args.archives else ():
        if match := re.fullmatch(r"(.+)_(\d\d\.\d\d\.\d{4})\.iar", iar.name):
            standin.add_integration(f"{match[1]}|{match[2]}", iar.read_bytes())
    print(
        json.dumps(
            {
                "url": standin.url,
                "token_url": standin.token_url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scope": SCOPE,
                "username": USERNAME,
                "password": PASSWORD,
                "connections": sorted(standin.state.connections),
                "lookups": sorted(standin.state.lookups),
                "integrations": list(standin.state.deploy.integrations),
            }
        ),
        flush=True,
    )
    try:
        standin._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        standin._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
