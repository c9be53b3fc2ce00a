"""The network between the build and OIC: an overall deadline per request and a size cap per
answer (a stalling or flooding server), corporate proxies and CA bundles, and `.netrc`.

Everything runs against real servers on loopback: the OIC stand-in (plain HTTP, or HTTPS with a
certificate from a throw-away CA made by `trustme`) and a small forward proxy written here that
tunnels CONNECT and forwards absolute-URI requests, logging each request line it gets.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trustme
from conftest import EXAMPLE, one_error, run_cli
from conftest import build_cli as build
from oic_standin import API, SAMPLE_LOOKUP, StandIn
from standin_fixtures import add_lookup, serve_country_info, server_args

pytestmark = pytest.mark.usefixtures("oic_fast_http")

SLUG = "COUNTRY_INFO_01.00.0000"
ARTIFACT = Path("out") / SLUG
PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY")


# -- a forward proxy on loopback ----------------------------------------------------------------


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        client: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                return
            head += chunk
        first, _, rest = head.partition(b"\r\n")
        method, target, version = first.decode().split(" ")
        self.server.log.append(f"{method} {target}")  # type: ignore[attr-defined]
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:  # plain http: forward one request to the absolute URI, then close
            parts = urlsplit(target)
            upstream = socket.create_connection((parts.hostname, parts.port or 80))
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            headers = [
                h
                for h in rest.split(b"\r\n")
                if not h.lower().startswith((b"connection:", b"proxy-connection:"))
            ]
            request = f"{method} {path} {version}\r\n".encode() + b"\r\n".join(headers)
            upstream.sendall(request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
        pump = threading.Thread(target=_pipe, args=(client, upstream), daemon=True)
        pump.start()
        _pipe(upstream, client)


class ForwardProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.log: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    server = ForwardProxy()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_host_network_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the host's proxies, CA bundles nor ~/.netrc take part unless a test sets them."""
    for name in (*PROXY_VARS, "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "NETRC"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def set_env(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    """Proxy variables are read in both cases (lower case first): set both."""
    monkeypatch.setenv(name, value)
    monkeypatch.setenv(name.lower(), value)


# -- stand-ins over HTTP and HTTPS ------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _serve(**kw: object) -> StandIn:
    standin = serve_country_info(StandIn(**kw))  # type: ignore[arg-type]
    standin.add_lookup("COUNTRY_CODES", SAMPLE_LOOKUP)
    return standin.start()


@pytest.fixture
def tls_standin(ca: trustme.CA) -> Iterator[StandIn]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    standin = _serve(tls=context, host="localhost")
    yield standin
    standin.stop()


@pytest.fixture
def http_standin() -> Iterator[StandIn]:
    standin = _serve(host="localhost")
    yield standin
    standin.stop()


# -- proxies ----------------------------------------------------------------------------------


def test_https_proxy_tunnels_every_request(
    country_info, tls_standin, proxy, ca_file, monkeypatch, capsys
) -> None:
    set_env(monkeypatch, "HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    assert build(country_info, server=tls_standin) == 0, capsys.readouterr().err
    port = urlsplit(tls_standin.url).port
    assert proxy.log and set(proxy.log) == {f"CONNECT localhost:{port}"}
    assert (ARTIFACT / "connections/RESTCOUNTRIESEU/connection.json").is_file()


def test_http_proxy_forwards_plain_http(country_info, http_standin, proxy, monkeypatch) -> None:
    set_env(monkeypatch, "HTTP_PROXY", proxy.url)
    assert build(country_info, auth="basic", server=http_standin) == 0
    assert f"GET {http_standin.url}{API}/connections/RESTCOUNTRIESEU" in proxy.log
    assert all(line.startswith(f"GET {http_standin.url}/") for line in proxy.log)


@pytest.mark.parametrize("no_proxy", ["localhost", "*", ".example.com,localhost"])
def test_no_proxy_bypasses_the_proxy(
    country_info, http_standin, proxy, monkeypatch, no_proxy
) -> None:
    set_env(monkeypatch, "HTTP_PROXY", proxy.url)
    set_env(monkeypatch, "NO_PROXY", no_proxy)
    assert build(country_info, auth="basic", server=http_standin) == 0
    assert proxy.log == []


def test_unreachable_proxy_is_one_line(country_info, http_standin, monkeypatch, capsys) -> None:
    set_env(monkeypatch, "HTTP_PROXY", "http://127.0.0.1:9")
    assert build(country_info, auth="basic", server=http_standin) == 1
    line = one_error(capsys.readouterr().err)
    assert "first request: GET http://localhost:" in line and "Traceback" not in line


# -- CA bundles -------------------------------------------------------------------------------


def test_unknown_ca_is_a_tls_error(country_info, tls_standin, capsys) -> None:
    assert build(country_info, server=tls_standin) == 1
    line = one_error(capsys.readouterr().err)
    assert "TLS/SSL error" in line and "CERTIFICATE_VERIFY_FAILED" in line
    assert not ARTIFACT.exists()


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_ca_bundle_variables_are_honoured(
    country_info, tls_standin, ca_file, monkeypatch, variable
) -> None:
    monkeypatch.setenv(variable, str(ca_file))
    assert build(country_info, server=tls_standin) == 0
    assert (ARTIFACT / "connections.json").is_file()


def test_requests_ca_bundle_wins_over_ssl_cert_file(
    country_info, tls_standin, ca_file, monkeypatch, tmp_path, capsys
) -> None:
    other = trustme.CA()
    wrong = tmp_path / "other-ca.pem"
    other.cert_pem.write_to_path(str(wrong))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(wrong))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    assert build(country_info, server=tls_standin) == 1
    assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().err


def test_missing_ca_bundle_is_a_settings_error(country_info, tls_standin, monkeypatch, capsys):
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    assert build(country_info, server=tls_standin) == 2
    assert one_error(capsys.readouterr().err) == (
        "error: SSL_CERT_FILE /nonexistent/ca.pem does not exist"
    )
    assert tls_standin.total_requests == 0


# -- .netrc -----------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["basic", "oauth"])
@pytest.mark.parametrize("where", ["HOME", "NETRC"])
def test_netrc_never_replaces_our_authorization(
    country_info, http_standin, monkeypatch, tmp_path, auth, where
) -> None:
    """requests applies ~/.netrc (or $NETRC) when no auth object is given: wrong credentials
    for the host there would turn every request into a 401 if it did."""
    netrc = tmp_path / "home" / ".netrc"
    netrc.parent.mkdir(exist_ok=True)
    netrc.write_text("machine localhost login intruder password wrong-password\n")
    netrc.chmod(0o600)
    if where == "NETRC":
        moved = tmp_path / "netrc-file"
        netrc.rename(moved)
        monkeypatch.setenv("NETRC", str(moved))
    assert build(country_info, auth=auth, server=http_standin) == 0
    assert http_standin.connection_gets("RESTCOUNTRIESEU") == 1


# -- an overall deadline per request ------------------------------------------------------------

DRIP_TARGETS = {
    "first request": "/ic/api/integration/v1/connections",
    "connection": "/connections/RESTCOUNTRIESEU",
    "token": "/oauth2/v1/token",
}


@pytest.mark.parametrize("kind", ["drip", "drip-headers"])
@pytest.mark.parametrize("target", sorted(DRIP_TARGETS))
def test_a_dripping_server_meets_the_deadline(
    country_info, oic_fixture_standin, capsys, kind, target
) -> None:
    """One byte every 0.2 s restarts the 0.25 s read timeout for ever; the deadline ends it."""
    oic_fixture_standin.fault(DRIP_TARGETS[target], kind, times=20, seconds=0.2)
    started = time.monotonic()
    assert build(country_info, "--request-deadline", "1.5", server=oic_fixture_standin) == 1
    took = time.monotonic() - started
    line = one_error(capsys.readouterr().err)
    assert "no complete answer within request-deadline (1.5 s)" in line
    assert 1.4 < took < 6, took  # the deadline ends it, not the ~9 s drip
    assert not ARTIFACT.exists()


def test_deadline_holds_for_an_attachment_and_a_lookup(
    tree_source, oic_fixture_standin, capsys
) -> None:
    add_lookup(tree_source, "COUNTRY_CODES")
    oic_fixture_standin.add_lookup("COUNTRY_CODES", SAMPLE_LOOKUP)
    oic_fixture_standin.fault("/lookups/COUNTRY_CODES/archive", "drip", times=20, seconds=0.2)
    assert build(tree_source, "--request-deadline", "1", server=oic_fixture_standin) == 1
    line = one_error(capsys.readouterr().err)
    assert line.startswith("error: lookup COUNTRY_CODES: GET ") and "request-deadline (1 s)" in line


def test_a_slow_but_steady_answer_within_the_deadline_is_fine(
    country_info, oic_fixture_standin
) -> None:
    oic_fixture_standin.fault("/connections/RESTCOUNTRIESEU", "slow", seconds=0.2)
    assert build(country_info, "--request-deadline", "5", server=oic_fixture_standin) == 0


# -- a size cap per answer --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("big", "/connections/RESTCOUNTRIESEU"),  # Content-Length says so: refused unread
        ("big-unsized", "/connections/RESTCOUNTRIESEU"),  # no length: refused while reading
        ("big-gzip", "/connections/RESTCOUNTRIESEU"),  # small on the wire, large decoded
        ("big-unsized", "/ic/api/integration/v1/connections"),  # the first request
        ("big", "/oauth2/v1/token"),
    ],
)
def test_an_oversized_answer_is_refused(
    country_info, oic_fixture_standin, capsys, kind, path
) -> None:
    oic_fixture_standin.fault(path, kind, times=5, size=4 * 1024 * 1024)
    assert build(country_info, "--max-response-size", "1M", server=oic_fixture_standin) == 1
    line = one_error(capsys.readouterr().err)
    assert "the answer is larger than max-response-size (1048576 bytes)" in line
    assert not ARTIFACT.exists()


def test_answers_within_the_cap_pass(country_info, oic_fixture_standin) -> None:
    assert build(country_info, "--max-response-size", "64K", server=oic_fixture_standin) == 0


# -- memory per build ---------------------------------------------------------------------------

PEAK_RSS = (  # the build's own peak RSS: VmHWM starts afresh at exec (ru_maxrss would not)
    "import re, sys\n"
    "from oicaction.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('VmHWM', re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read())[1])\n"
    "sys.exit(code)\n"
)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads VmHWM (Linux)")
def test_memory_does_not_grow_with_the_attachments(oic_standin: StandIn, tmp_path: Path) -> None:
    """Issue 18, item 11: ten attachments of 16 MiB (160 MiB) stream to disk one by one and
    the build peaks at about 64 MiB; held in memory, as before, they took 231 MiB. The bound
    is generous (figures for larger answers: bench/bench_memory.py, BENCHMARKS.md)."""
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)  # uses the connection HELLO_REST_TRIGGER
    props = [
        {"propertyName": f"schema{i}", "propertyType": "URL_OR_FILE", "hasAttachment": True}
        for i in range(10)
    ]
    conn = {"id": "HELLO_REST_TRIGGER", "connectionProperties": props}
    oic_standin.add_connection("HELLO_REST_TRIGGER", conn)
    data = b"<xsd:schema/>\n" * (16 * 1024 * 1024 // 14)  # one buffer, served ten times
    for i in range(10):
        oic_standin.add_attachment("HELLO_REST_TRIGGER", f"schema{i}", data)
    build = ["--integration-path", str(source), "--artifact-dir", "out"]
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *build, *server_args(oic_standin, "basic")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    saved = Path("out/HELLO_WORLD_01.00.0000/connections/HELLO_REST_TRIGGER/attachments")
    assert sorted(p.stat().st_size for p in saved.iterdir()) == [len(data)] * 10
    peak_mib = int(done.stdout.split("VmHWM ")[1].split()[0]) / 1024
    assert peak_mib < 160, f"peak RSS {peak_mib:.0f} MiB"


@pytest.mark.parametrize(
    ("value", "ok"),
    [("65536", True), ("64K", True), ("64MiB", True), ("1G", True), ("lots", False)],
)
def test_max_response_size_values(value, ok, capsys) -> None:
    from oicaction.settings import load_settings

    if ok:
        assert load_settings({"max_response_size": value}).max_response_size >= 65536
    else:
        assert run_cli("--max-response-size", value) == 2
        assert "flag --max-response-size" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "soon", "99999"])
def test_bad_request_deadline_is_a_settings_error(value, capsys) -> None:
    assert run_cli("--request-deadline", value) == 2
    assert "flag --request-deadline" in capsys.readouterr().err


def test_build_info_names_no_proxy_or_ca(country_info, http_standin, proxy, monkeypatch):
    """Network settings come from the environment and stay out of the artifact."""
    set_env(monkeypatch, "HTTP_PROXY", proxy.url)
    assert build(country_info, auth="basic", server=http_standin) == 0
    info = json.loads((ARTIFACT / "build-info.json").read_text())
    assert proxy.url not in json.dumps(info)
