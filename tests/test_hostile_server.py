"""Absurd answers from OIC or its token endpoint fail the integrations that needed them, each in
one line, never a traceback; the rest of the batch is built and the outputs are written. (How
well each is worded is the OIC client's business; that the batch goes on is the batch's.)"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import build_cli as build
from conftest import make_integration
from oic_standin import StandIn

DEEP = "[" * 200_000 + "]" * 200_000  # past any recursion limit of a JSON parser


@pytest.fixture
def two_sources() -> str:
    """`online` uses the connection HELLO_REST_TRIGGER; `offline` none: it needs no server."""
    make_integration(Path("online"))
    make_integration(Path("offline"), "OFFLINE_ONE", connections=())
    return "online,offline"


def _check_batch(rc: int, out: str, err: str, expected_rc: int = 1) -> None:
    assert "Traceback" not in err
    assert rc == expected_rc
    results = {r["path"]: r for r in json.loads(out)["integrations"]}
    assert results["offline"]["status"] == "built"
    assert results["online"]["status"] == "failed"
    assert "\n" not in results["online"]["error"]
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        f"error: {results['online']['error']}"
    ]
    assert Path(results["offline"]["iar-path"]).is_file()
    assert not Path("oic-artifacts/HELLO_WORLD_01.00.0000").exists()


CONNECTION_BODIES = {
    "nested 200000 deep": DEEP,
    "a list": "[1, 2, 3]",
    "a number past float": "1e400",
    "null": "null",
    "fields of the wrong types": json.dumps(
        {"id": 5, "securityProperties": "x", "connectionProperties": 7, "adapterType": []}
    ),
}


@pytest.mark.parametrize("case", sorted(CONNECTION_BODIES))
def test_absurd_connection_body_fails_that_integration_only(
    case: str,
    two_sources: str,
    oic_standin: StandIn,
    oic_fast_http: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    oic_standin.add_connection("HELLO_REST_TRIGGER", CONNECTION_BODIES[case])
    rc = build(two_sources, server=oic_standin, out="oic-artifacts")
    captured = capsys.readouterr()
    _check_batch(rc, captured.out, captured.err)


class _TokenServer(ThreadingHTTPServer):
    """A token endpoint answering every POST with one canned body (a real HTTP server)."""

    daemon_threads = True

    def __init__(self, body: bytes) -> None:
        self.body = body

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def token_server() -> Iterator[Callable[[bytes], str]]:
    servers: list[_TokenServer] = []

    def start(body: bytes) -> str:
        server = _TokenServer(body)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/oauth2/v1/token"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


TOKEN_BODIES = {
    "expires_in 1e400": b'{"access_token": "abc", "token_type": "Bearer", "expires_in": 1e400}',
    "expires_in -1e400": b'{"access_token": "abc", "expires_in": -1e400}',
    "expires_in NaN": b'{"access_token": "abc", "expires_in": NaN}',
    "expires_in a list": b'{"access_token": "abc", "expires_in": [3600]}',
    "a token not Latin-1": '{"access_token": "t\u00f6k\u20ac\u4e16", "expires_in": 3600}'.encode(),
    "a token with CR LF": b'{"access_token": "abc\\r\\nX-Injected: 1", "expires_in": 3600}',
    "a number as token": b'{"access_token": 12345, "expires_in": 3600}',
    "nested 200000 deep": DEEP.encode(),
    "a list": b'[{"access_token": "abc"}]',
}


@pytest.mark.parametrize("case", sorted(TOKEN_BODIES))
def test_absurd_token_answer_fails_the_exporting_integrations_only(
    case: str,
    two_sources: str,
    oic_standin: StandIn,
    oic_fast_http: object,
    token_server: Callable[[bytes], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    token_url = token_server(TOKEN_BODIES[case])
    rc = build(two_sources, "--token-url", token_url, server=oic_standin, out="oic-artifacts")
    captured = capsys.readouterr()
    # An odd expires_in is read as an hour, so the token is sent; the stand-in refuses it (not
    # its own): credentials rejected at the first request, a settings error (exit 2).
    _check_batch(rc, captured.out, captured.err, 2 if case.startswith("expires_in") else 1)
    if case in ("a token with CR LF", "a token not Latin-1"):  # refused, never echoed
        assert "RFC 6750" in captured.err
        assert "X-Injected" not in captured.out + captured.err
        assert "\u4e16" not in captured.out + captured.err
