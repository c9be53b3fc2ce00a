"""Pytest plugin for the live-server tests: the OIC stand-in, fast retries, the recorded
cassettes (vcrpy) and the `--oic-record-mode` option. Loaded from conftest via pytest_plugins.

Cassettes replay by default (record mode "none": no server, no network). To re-record them from
the stand-in: `pytest tests/test_oic_client.py --oic-record-mode=all` (or OIC_RECORD_MODE=all).
Every recorded request and response passes `scrub_request`/`scrub_response` first.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from conftest import API as API_FIXTURES
from conftest import make_integration, need_fixtures
from oic_standin import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    SCOPE,
    TOKEN_PATH,
    TOKEN_PREFIX,
    USERNAME,
    StandIn,
    load_fixture_connections,
)

COUNTRY_INFO = "josekurian__OIC-DeploymentScripts/COUNTRY_INFO_01.00.0000.iar"  # recorded
CASSETTES = Path(__file__).resolve().parent / "cassettes"
RECORD_MODES = ("none", "once", "new_episodes", "all")
REPLAY_URL = "http://127.0.0.1:9"  # nothing listens: a replay that misses fails, never leaks
RECORDED_HOST = "oic.standin.invalid"
LIVE_HOST = "oic.live.invalid"  # a live recording keeps no host name of yours in its URIs

# A secret value a (misbehaving) server returns in clear; it must be stripped everywhere.
PLANTED_SERVER_SECRET = "Pl4nted-Server-Secret-5a1e"
# Strings no cassette, log or artifact may contain.
SECRETS = (CLIENT_SECRET, PASSWORD, PLANTED_SERVER_SECRET)
# Live recordings also scrub the user's own secrets (see docs/live-recording.md).
LIVE_SECRET_VARS = ("LIVE_OIC_PASSWORD", "LIVE_OIC_CLIENT_SECRET")
_LIVE_SECRETS = tuple(v for k in LIVE_SECRET_VARS if (v := os.environ.get(k)))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--oic-record-mode",
        choices=RECORD_MODES,
        default=os.environ.get("OIC_RECORD_MODE", "none"),
        help="vcrpy record mode for the OIC client cassettes (default none: replay only)",
    )


@pytest.fixture(scope="session")
def oic_record_mode(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--oic-record-mode"))


@pytest.fixture
def oic_api_dir() -> Path:
    return need_fixtures(API_FIXTURES)


@pytest.fixture
def oic_standin() -> Iterator[StandIn]:
    with StandIn() as standin:
        yield standin


# The COUNTRY_INFO integration of the recorded fixtures (a REST trigger, and a REST invoke to
# restcountries) as a stand-in serves it: bodies of the recorded Gen2 shape, written here.
COUNTRY_CONNECTIONS: dict[str, Any] = {
    "LOCAL_REST": {"id": "LOCAL_REST", "role": "SOURCE", "securityPolicy": "BASIC_AUTH",
                   "agentRequired": False, "adminEmail": "admin@example.com"},
    "RESTCOUNTRIESEU": {
        "id": "RESTCOUNTRIESEU", "role": "TARGET", "securityPolicy": "NONE",
        "lastRefreshedDate": "2020-04-22T04:26:47.049+0000", "refreshedStatus": "Complete",
        "connectionProperties": [
            {"displayName": "Connection Type", "propertyName": "connectionType",
             "propertyType": "CHOICE", "propertyValue": "restUrl", "hasAttachment": False,
             "hiddenFlag": False, "propertyGroup": "CONNECTION_PROPS", "requiredFlag": True},
            {"displayName": "Connection URL", "propertyName": "connectionUrl",
             "propertyType": "URL", "propertyValue": "https://restcountries.eu/rest/v2/",
             "hasAttachment": False, "hiddenFlag": False, "propertyGroup": "CONNECTION_PROPS",
             "requiredFlag": True},
        ],
    },
}  # fmt: skip


def serve_country_info(standin: StandIn) -> StandIn:
    for conn_id, body in COUNTRY_CONNECTIONS.items():
        standin.add_connection(conn_id, json.loads(json.dumps(body)))
    return standin


@pytest.fixture
def oic_fixture_standin(oic_standin: StandIn) -> StandIn:
    """The stand-in serving COUNTRY_INFO's two connections (COUNTRY_CONNECTIONS)."""
    return serve_country_info(oic_standin)


@pytest.fixture
def oic_recorded_standin(oic_standin: StandIn, oic_api_dir: Path) -> StandIn:
    """The stand-in serving the recorded connection bodies of the shared fixtures."""
    for conn_id, body in load_fixture_connections(oic_api_dir).items():
        oic_standin.add_connection(conn_id, body)
    return oic_standin


@pytest.fixture
def country_info(tmp_path: Path) -> Path:
    """A generated COUNTRY_INFO .iar using LOCAL_REST and RESTCOUNTRIESEU, alone in a folder."""
    folder = make_integration(
        tmp_path / "src", "COUNTRY_INFO", name="Country Info", as_iar=True,
        connections=("LOCAL_REST", "RESTCOUNTRIESEU"),
    )  # fmt: skip
    return folder / "COUNTRY_INFO_01.00.0000.iar"


@pytest.fixture
def tree_source(tmp_path: Path) -> Path:
    """COUNTRY_INFO as an icspackage/ tree, so tests can add lookups and more."""
    return make_integration(
        tmp_path / "tree", "COUNTRY_INFO", name="Country Info",
        connections=("LOCAL_REST", "RESTCOUNTRIESEU"),
    )  # fmt: skip


def add_lookup(tree: Path, name: str) -> None:
    """A lookup (dvms/<NAME>.dvm) that the integration in `tree` now uses."""
    dvms = tree / "icspackage" / "dvms"
    dvms.mkdir(exist_ok=True)
    (dvms / f"{name}.dvm").write_text(f'<dvm name="{name}"/>\n')


@pytest.fixture
def oic_fast_http(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Small timeouts and backoff for every client a test creates, builds included."""
    from oicaction.oic import client as oic_client

    fast = oic_client.HttpOptions(
        connect_timeout=2.0,
        read_timeout=0.25,
        retries=3,
        backoff_factor=0.01,
        backoff_max=0.05,
        max_retry_time=5.0,
    )
    monkeypatch.setattr(oic_client, "DEFAULT_OPTIONS", fast)
    return fast


def server_args(standin: StandIn, auth: str = "oauth") -> list[str]:
    """CLI flags pointing a build at the stand-in."""
    if auth == "basic":
        return ["--oic-url", standin.url, "--username", USERNAME, "--password", PASSWORD]
    return [
        "--oic-url",
        standin.url,
        "--token-url",
        standin.token_url,
        "--scope",
        SCOPE,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,  # last: tests read the secret from args[-1]
    ]


# -- cassettes ------------------------------------------------------------------------------


def _scrub_text(text: str) -> str:
    for secret in SECRETS + _LIVE_SECRETS:
        text = text.replace(secret, "<scrubbed>")
    return text


def scrub_request(request: Any) -> Any:
    """No credentials, no token request body, and a fixed host so re-recording is stable."""
    for name in list(request.headers):
        if name.lower() in ("authorization", "cookie", "proxy-authorization"):
            del request.headers[name]
    if request.path.endswith(TOKEN_PATH) or request.method == "POST":
        request.body = None
    parts = urlsplit(request.uri)
    host = RECORDED_HOST if parts.hostname in ("127.0.0.1", "localhost") else LIVE_HOST
    request.uri = urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
    request.uri = _scrub_text(request.uri)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """No token, no secret property value, no cookie; volatile headers dropped."""
    from oicaction.artifact.connections import scrub_secret_values

    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in ("set-cookie", "date", "server", "authorization"):
            del headers[name]
    body = response.get("body", {}).get("string")
    if isinstance(body, bytes | str) and body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if data is not None:
            data = scrub_secret_values(data)  # blanks token fields too: placeholders after
        if isinstance(data, dict) and "access_token" in data:
            data = {**data, "access_token": "scrubbed-token"}  # still a valid bearer token
            data.pop("refresh_token", None)
            data.pop("id_token", None)
        if data is not None:
            text = json.dumps(data, indent=2)
        text = _scrub_text(text)
        response["body"]["string"] = text.encode("utf-8")
        for name in list(headers):
            if name.lower() == "content-length":
                headers[name] = [str(len(response["body"]["string"]))]
    return response


def make_vcr(record_mode: str, library: Path = CASSETTES) -> Any:
    import vcr

    return vcr.VCR(
        cassette_library_dir=str(library),
        record_mode=record_mode,
        match_on=("method", "path", "query"),
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
    )


class _Inert:
    """Stands in for the stand-in during replay: arranging it does nothing."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


@dataclass
class Recording:
    url: str
    token_url: str
    standin: Any
    cassette: Any
    recording: bool

    @property
    def requests_made(self) -> int:
        """Interactions recorded (record mode) or replayed (replay mode)."""
        return len(self.cassette) if self.recording else self.cassette.play_count

    def methods(self) -> list[str]:
        return [r.method for r in self.cassette.requests]


@pytest.fixture
def oic_cassette(oic_record_mode: str) -> Callable[[str], Any]:
    """`with oic_cassette("name") as rec:` runs against the stand-in when recording, else
    replays tests/cassettes/<name>.yaml."""

    @contextmanager
    def use(name: str) -> Iterator[Recording]:
        path = CASSETTES / f"{name}.yaml"
        recording = oic_record_mode != "none"
        if not recording and not path.is_file():
            pytest.fail(f"cassette {path} missing: record it with --oic-record-mode=once")
        if recording and oic_record_mode == "all" and path.exists():
            path.unlink()
        with make_vcr(oic_record_mode).use_cassette(path.name) as cassette:
            if recording:
                with StandIn() as standin:
                    yield Recording(standin.url, standin.token_url, standin, cassette, True)
            else:
                yield Recording(REPLAY_URL, REPLAY_URL + TOKEN_PATH, _Inert(), cassette, False)

    return use


__all__ = [
    "PLANTED_SERVER_SECRET",
    "SECRETS",
    "TOKEN_PREFIX",
    "need_fixtures",
    "server_args",
]
