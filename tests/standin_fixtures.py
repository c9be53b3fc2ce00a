"""Pytest plugin for the live-server tests: the OIC stand-in, a client for it, fast retries,
and vcrpy recording (`--oic-record-mode`) for exchanges with a real OIC (tests/test_oic_live.py).
Loaded from conftest via pytest_plugins.

Cassettes hold only exchanges recorded from a real OIC (tests/cassettes/live/); every recorded
request and response passes `scrub_request`/`scrub_response` first. Tests of our own client run
against the stand-in itself, never a replay of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
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
        help="vcrpy record mode for the live OIC tests (default none: run live, record nothing)",
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


def fast_options() -> Any:
    """Small timeouts and backoff: a test's faults cost it fractions of a second."""
    from oicaction.oic.http import HttpOptions

    return HttpOptions(
        connect_timeout=2.0, read_timeout=0.25, retries=3, backoff_factor=0.01, backoff_max=0.05
    )


@pytest.fixture
def oic_fast_http(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Small timeouts and backoff for every client a test creates, builds included."""
    from oicaction.oic import client as oic_client

    fast = fast_options()
    monkeypatch.setattr(oic_client, "DEFAULT_OPTIONS", fast)
    return fast


def client_for(
    standin: StandIn,
    auth: str | Any = "basic",
    *,
    instance: str | None = None,
    options: Any = None,
    **config: Any,
) -> Any:
    """An OicClient for the stand-in: `auth` "basic", "oauth" or an auth object; `config`
    overrides ServerConfig fields (the limits default to the settings' defaults)."""
    from oicaction.oic.auth import BasicAuth, ClientCredentials
    from oicaction.oic.client import OicClient
    from oicaction.oic.config import ServerConfig
    from oicaction.settings import Settings

    if auth == "basic":
        auth = BasicAuth(USERNAME, PASSWORD)
    elif auth == "oauth":
        auth = ClientCredentials(standin.token_url, CLIENT_ID, CLIENT_SECRET, SCOPE)
    fields = Settings.model_fields
    settings: dict[str, Any] = {
        "base_url": standin.url,
        "instance": instance,
        "auth": auth,
        "project": None,
        "max_workers": fields["max_workers"].default,
        "deadline": fields["request_deadline"].default,
        "max_response_size": fields["max_response_size"].default,
        "ca_bundle": None,
    }
    on_token = config.pop("on_token", None)
    return OicClient(
        ServerConfig(**(settings | config)),
        options=options or fast_options(),
        on_token=on_token,
    )


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
    from oicaction.oic.connection_model import strip_secrets

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
            data = strip_secrets(data)[0]  # blanks token fields too: placeholders after
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


__all__ = [
    "PLANTED_SERVER_SECRET",
    "SECRETS",
    "TOKEN_PREFIX",
    "client_for",
    "need_fixtures",
    "server_args",
]
