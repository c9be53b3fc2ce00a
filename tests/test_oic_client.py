"""The OIC client: URL rules, auth, retries, write methods, downloads, error messages, redirects.

Every test runs against the OIC stand-in, a real HTTP server on 127.0.0.1 (tests/oic_standin.py),
whose request log shows what the client sent; the exchanges built from real recorded OIC answers
are in tests/test_real_answers.py.
"""

from __future__ import annotations

import hashlib
import json
import time
from email import message_from_bytes
from pathlib import Path

import pytest
from conftest import EXAMPLE, run_cli
from oic_standin import (
    API,
    CLIENT_ID,
    CLIENT_SECRET,
    DESIGN_HOST,
    NOT_FOUND_TEXT,
    REDIRECT_INSTANCE,
    SCOPE,
    StandIn,
)
from standin_fixtures import PLANTED_SERVER_SECRET, client_for, fast_options

from oicaction.errors import ServerError, SettingsError
from oicaction.oic.auth import ClientCredentials
from oicaction.oic.client import OicClient, UncertainWrite, api, lock_hint
from oicaction.oic.config import server_config
from oicaction.oic.fetch_cache import ServerCache
from oicaction.oic.http import HttpOptions
from oicaction.oic.url import normalise_base_url, shown_url
from oicaction.settings import load_settings

FAST = fast_options()
CONN_PATH = "/connections/RESTCOUNTRIESEU"

# Shaped like the recorded Gen2 body of RESTCOUNTRIESEU (shared fixtures), with the volatile
# fields a live server adds and a PASSWORD property whose value the server sent in clear.
REST_CONNECTION = {
    "adminEmail": "admin@example.com",
    "agentRequired": False,
    "connectionProperties": [
        {
            "displayName": "Connection Type",
            "propertyName": "connectionType",
            "propertyType": "CHOICE",
            "propertyValue": "restUrl",
            "acceptableKeys": [{"displayName": "REST API Base URL", "keyName": "restUrl"}],
        },
        {
            "displayName": "Connection URL",
            "propertyName": "connectionUrl",
            "propertyType": "URL",
            "propertyValue": "https://restcountries.example.com/rest/v2/",
        },
    ],
    "securityProperties": [
        {
            "displayName": "Username",
            "propertyName": "username",
            "propertyType": "STRING",
            "propertyValue": "api-user",
        },
        {
            "displayName": "Password",
            "propertyName": "password",
            "propertyType": "PASSWORD",
            "propertyValue": PLANTED_SERVER_SECRET,
        },
    ],
    "id": "RESTCOUNTRIESEU",
    "lastUpdated": "2025-03-20T15:00:30.388+0000",
    "lockedFlag": False,
    "role": "TARGET",
    "securityPolicy": "BASIC_AUTH",
    "status": "CONFIGURED",
    "usage": 4,
}
LOOKUP_CSV = b"DVM,COUNTRY_CODES,Country codes\nISO2,Name\nDE,Germany\n"


def sent(standin: StandIn) -> list[tuple[str, str]]:
    """(method, path) of every request the stand-in got, in order."""
    return [(r.method, r.path) for r in standin.requests]


TOKEN = ("POST", "/oauth2/v1/token")
CONN = ("GET", f"{API}/connections/RESTCOUNTRIESEU")


# -- URL rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "base", "instance"),
    [
        ("https://oic.example.com", "https://oic.example.com", None),
        ("https://oic.example.com///", "https://oic.example.com", None),
        ("  https://OIC.Example.com/ic/home  ", "https://oic.example.com", None),
        (
            "https://oic.example.com/ic/integration/home/faces/global",
            "https://oic.example.com",
            None,
        ),
        ("https://oic.example.com/ic/api/integration/v1/", "https://oic.example.com", None),
        (
            f"https://{DESIGN_HOST}/ic/home?integrationInstance=myinst-abc-ia",
            f"https://{DESIGN_HOST}",
            "myinst-abc-ia",
        ),
        ("https://oic.example.com:8443/prefix/", "https://oic.example.com:8443/prefix", None),
        ("http://127.0.0.1:8123/", "http://127.0.0.1:8123", None),
        ("http://127.8.9.10", "http://127.8.9.10", None),
        ("http://localhost:1/ic/home", "http://localhost:1", None),
        ("http://[::1]:8080", "http://[::1]:8080", None),
    ],
)
def test_base_url_normalised(given: str, base: str, instance: str | None) -> None:
    assert normalise_base_url(given) == (base, instance)


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("http://oic.example.com", "must use https"),
        ("http://10.0.0.1", "must use https"),
        ("ftp://oic.example.com", "https://"),
        ("oic.example.com/ic/home", "https://"),
        ("https://user:pw@oic.example.com", "must not contain a user or password"),
        ("https://oic.example.com:99999", "invalid port"),
    ],
)
def test_bad_base_url_is_a_settings_error(given: str, why: str) -> None:
    with pytest.raises(SettingsError, match=why) as err:
        normalise_base_url(given)
    assert "pw@" not in str(err.value)


def test_token_url_must_be_https() -> None:
    with pytest.raises(SettingsError, match=r"token-url .* must use https"):
        ClientCredentials("http://idcs.example.com/oauth2/v1/token", "id", "secret")


def test_instance_setting_wins_over_url_query(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "oic_url": "https://h.example.com/ic/home?integrationInstance=from-url",
            "oic_instance": "given",
            "username": "u",
            "password": "p",
        },
        tmp_path / "none",
    )
    config = server_config(settings)
    assert (config.base_url, config.instance) == ("https://h.example.com", "given")
    assert config.where() == "https://h.example.com (instance given)"
    assert "p" not in repr(config.auth)


# -- a URL's user info is never shown (issue 18, item 9) ---------------------------------------

USERINFO = "alice-77:S3cret-pw-9"


@pytest.mark.parametrize(
    "url",
    [
        f"htps://{USERINFO}@oic.example.com",  # a mistyped scheme: used to be echoed whole
        f"{USERINFO}@oic.example.com/ic/home",  # no scheme
        f"https://{USERINFO}@oic.example.com",
        "https://alice-77:S3cret/pw-9@oic.example.com",  # a password a parser reads as a path
        "https://alice-77:S3cret?pw-9@oic.example.com",
        f"http://{USERINFO}@10.0.0.1",
    ],
)
@pytest.mark.parametrize("setting", ["oic-url", "token-url"])
def test_user_info_in_a_url_is_never_shown(url: str, setting: str, capsys) -> None:
    server = {"oic-url": "https://oic.example.com", "token-url": "https://idcs.example.com/t"}
    server[setting] = url
    code = run_cli(
        "--integration-path", str(EXAMPLE), "--artifact-dir", "out",
        "--oic-url", server["oic-url"], "--token-url", server["token-url"],
        "--client-id", "id", "--client-secret", "cs", "--scope", SCOPE,
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2, captured.err
    shown = captured.out + captured.err
    assert setting in shown
    for part in ("alice", "S3cret", "pw-9"):
        assert part not in shown, shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@host.example.com/ic/home?integrationInstance=x#f", "https://host.example.com/ic/home"),
        ("u:p@host.example.com", "host.example.com"),
        ("https://u:p/w@host/x", "https://host/x"),
        ("https://host.example.com/path", "https://host.example.com/path"),
        ("https://host/?q=a@b", "https://b"),  # over-hiding is fine, showing never
    ],
)  # fmt: skip
def test_shown_url(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_api_paths_are_quoted() -> None:
    assert api("integrations", "CODE|01.00.0000") == f"{API}/integrations/CODE%7C01.00.0000"
    assert (
        api("connections", "A B/C", project="P 1") == f"{API}/projects/P%201/connections/A%20B%2FC"
    )
    assert api() == API
    assert api(project="SALES") == f"{API}/projects/SALES"


# -- reading ----------------------------------------------------------------------------------


@pytest.fixture
def rest_standin(oic_standin: StandIn) -> StandIn:
    oic_standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION)
    return oic_standin


def test_basic_auth_gets_a_connection(rest_standin: StandIn) -> None:
    body = client_for(rest_standin).connection("RESTCOUNTRIESEU")
    assert body is not None
    assert body["id"] == "RESTCOUNTRIESEU"
    assert body["connectionProperties"][1]["propertyValue"].startswith("https://")
    assert sent(rest_standin) == [CONN]
    assert rest_standin.requests[0].headers["Authorization"].startswith("Basic ")


def test_token_fetched_once_and_reused(rest_standin: StandIn) -> None:
    rest_standin.add_connection("LOCAL_REST", {"id": "LOCAL_REST", "role": "SOURCE"})
    rest_standin.add_lookup("COUNTRY_CODES", LOOKUP_CSV)
    tokens: list[str] = []
    client = client_for(rest_standin, "oauth", on_token=tokens.append)
    assert client.connection("RESTCOUNTRIESEU") is not None
    assert client.connection("LOCAL_REST") == {"id": "LOCAL_REST", "role": "SOURCE"}
    assert client.lookup_csv("COUNTRY_CODES") == LOOKUP_CSV
    assert [m for m, _ in sent(rest_standin)] == ["POST", "GET", "GET", "GET"]
    assert tokens == sorted(rest_standin.state.tokens)  # handed over the moment it arrived
    used = {r.headers["Authorization"] for r in rest_standin.requests if r.method == "GET"}
    assert used == {f"Bearer {tokens[0]}"}


def test_gen3_instance_sent_on_every_call(rest_standin: StandIn) -> None:
    rest_standin.state.instance = "team-oic3-fr"
    rest_standin.add_lookup("COUNTRY_CODES", LOOKUP_CSV)
    client = client_for(rest_standin, "oauth", instance="team-oic3-fr")
    assert client.connection("RESTCOUNTRIESEU") is not None
    assert client.lookup_csv("COUNTRY_CODES") == LOOKUP_CSV
    gets = [r for r in rest_standin.requests if r.method == "GET"]
    assert [r.query for r in gets] == [{"integrationInstance": ["team-oic3-fr"]}] * 2
    [token] = [r for r in rest_standin.requests if r.method == "POST"]
    assert token.query == {}  # the instance is for OIC, not for the identity domain


def test_401_refreshes_the_token_once(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "401")
    tokens: list[str] = []
    client = client_for(rest_standin, "oauth", on_token=tokens.append)
    assert client.connection("RESTCOUNTRIESEU") is not None
    assert sent(rest_standin) == [TOKEN, CONN, TOKEN, CONN]
    assert len(set(tokens)) == 2


def test_401_after_refresh_is_an_error(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "401", times=2)
    with pytest.raises(ServerError, match=r"HTTP 401 .*credentials rejected") as err:
        client_for(rest_standin, "oauth").connection("RESTCOUNTRIESEU")
    assert "connection RESTCOUNTRIESEU" in str(err.value)
    assert "credentials rejected: check scope first" in str(err.value)
    assert sent(rest_standin) == [TOKEN, CONN, TOKEN, CONN]


def test_invalid_client_names_the_token_endpoint(oic_standin: StandIn) -> None:
    auth = ClientCredentials(oic_standin.token_url, CLIENT_ID, "wrong-secret", SCOPE)
    with pytest.raises(SettingsError) as err:
        client_for(oic_standin, auth).connection("RESTCOUNTRIESEU")
    message = str(err.value)
    assert message.startswith("token request to ")
    assert "HTTP 401" in message and "invalid_client" in message
    assert "(check client-id and client-secret, then token-url)" in message
    assert "wrong-secret" not in message


def test_invalid_scope_names_scope(oic_standin: StandIn) -> None:
    auth = ClientCredentials(
        oic_standin.token_url, CLIENT_ID, CLIENT_SECRET, f"https://{DESIGN_HOST}"
    )
    with pytest.raises(SettingsError) as err:
        client_for(oic_standin, auth).probe()
    message = str(err.value)
    assert message.startswith("token request to ") and "invalid_scope" in message
    assert "check scope: on OIC 3 the scope is the OAuth resource's audience" in message


def test_the_token_request_is_retried_like_a_read(rest_standin: StandIn) -> None:
    """It changes nothing on the server: unlike other POSTs it may be sent again."""
    rest_standin.fault("/oauth2/v1/token", "503", times=2)
    assert client_for(rest_standin, "oauth").connection("RESTCOUNTRIESEU") is not None
    assert sent(rest_standin) == [TOKEN, TOKEN, TOKEN, CONN]


def test_429_honours_retry_after(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "429", seconds=1)
    started = time.monotonic()
    assert client_for(rest_standin).connection("RESTCOUNTRIESEU") is not None
    assert time.monotonic() - started >= 0.9
    assert sent(rest_standin) == [CONN, CONN]


def test_503_retried_then_ok(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "503", times=2)
    assert client_for(rest_standin).connection("RESTCOUNTRIESEU") is not None
    assert sent(rest_standin) == [CONN] * 3


def test_503_until_retries_run_out(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "503", times=10)
    with pytest.raises(ServerError) as err:
        client_for(rest_standin).connection("RESTCOUNTRIESEU")
    assert "HTTP 503 Service Unavailable" in str(err.value)
    assert f"after {FAST.retries} retries" in str(err.value)
    assert sent(rest_standin) == [CONN] * (1 + FAST.retries)


def test_oic_error_json_becomes_one_line(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "oic-error")
    with pytest.raises(ServerError) as err:
        client_for(rest_standin).connection("RESTCOUNTRIESEU")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("connection RESTCOUNTRIESEU: HTTP 500")
    assert "Internal Server Error: Unable to read the connection metadata" in message
    assert "(o:errorCode OIC-STANDIN-500)" in message
    assert sent(rest_standin) == [CONN]  # a 500 is not retried


def test_plain_text_404_means_missing(oic_standin: StandIn) -> None:
    assert client_for(oic_standin).connection("SCHEDULE_RECEIVE") is None


def test_standin_404_text_is_the_recorded_one(oic_api_dir) -> None:
    recorded = oic_api_dir / "josekurian__OIC-DeploymentScripts"
    assert (recorded / "SCHEDULE_RECEIVE.connection-404-body.txt").read_text() == NOT_FOUND_TEXT


def test_html_instead_of_json(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "html")
    with pytest.raises(ServerError) as err:
        client_for(rest_standin).connection("RESTCOUNTRIESEU")
    message = str(err.value)
    assert "expected a JSON object" in message and "text/html" in message
    assert "'Oracle Integration - Sign In'" in message


def test_redirect_to_the_design_host_names_url_and_instance(oic_standin: StandIn) -> None:
    """An OIC 3 runtime/console URL redirects to the region's design host: not followed (the
    token stays here), the settings to use are named, read from the Location header."""
    oic_standin.fault("/connections", "redirect")
    with pytest.raises(SettingsError) as err:
        client_for(oic_standin, "oauth").probe()
    message = str(err.value)
    assert (
        f"set oic-url to https://{DESIGN_HOST} and oic-instance to {REDIRECT_INSTANCE}" in message
    )
    assert [m for m, _ in sent(oic_standin)] == ["POST", "GET"]  # nothing sent elsewhere


def test_redirect_off_oracles_domain_refused(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "redirect-away")
    with pytest.raises(ServerError) as err:
        client_for(rest_standin, "oauth").connection("RESTCOUNTRIESEU")
    message = str(err.value)
    assert "redirected (HTTP 302) to https://oic.example.net/ic/api/" in message
    assert "not followed, so credentials stay with" in message
    assert sent(rest_standin) == [TOKEN, CONN]


def test_lookup_archive_is_returned_as_bytes(oic_standin: StandIn) -> None:
    oic_standin.add_lookup("COUNTRY_CODES", LOOKUP_CSV)
    client = client_for(oic_standin)
    assert client.lookup_csv("COUNTRY_CODES") == LOOKUP_CSV
    assert client.lookup_csv("NO_SUCH_LOOKUP") is None
    assert client.get_bytes(api("lookups", "COUNTRY_CODES", "archive"), "lookup") == LOOKUP_CSV


def test_a_planted_secret_is_not_what_the_client_cleans(rest_standin: StandIn) -> None:
    """The client hands over what the server sent; blanking secrets is the export's job
    (tests/test_secrets.py), so this body still holds the planted value."""
    body = client_for(rest_standin).connection("RESTCOUNTRIESEU")
    assert (
        body is not None and body["securityProperties"][1]["propertyValue"] == PLANTED_SERVER_SECRET
    )


# -- faults on the wire ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["reset", "slow"])
def test_one_reset_or_timeout_is_survived(rest_standin: StandIn, kind: str) -> None:
    rest_standin.fault(CONN_PATH, kind, seconds=0.6)
    assert client_for(rest_standin).connection("RESTCOUNTRIESEU") is not None
    assert rest_standin.connection_gets("RESTCOUNTRIESEU") == 2


@pytest.mark.parametrize(
    ("kind", "said"),
    [("reset", "connection reset by the server"), ("slow", "0.25 s read timeout")],
)
def test_persistent_reset_or_timeout_is_one_line(rest_standin: StandIn, kind: str, said: str):
    rest_standin.fault(CONN_PATH, kind, times=10, seconds=0.6)
    with pytest.raises(ServerError) as err:
        client_for(rest_standin).connection("RESTCOUNTRIESEU")
    assert said in str(err.value) and "gave up after retrying" in str(err.value)
    assert str(err.value).startswith("connection RESTCOUNTRIESEU: GET http://127.0.0.1:")
    assert rest_standin.connection_gets("RESTCOUNTRIESEU") == 1 + FAST.retries


def test_retry_after_beyond_the_deadline_fails_at_once(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "429", seconds=3600)
    started = time.monotonic()
    with pytest.raises(
        ServerError, match=r"HTTP 429 .*Retry-After 3600; retrying stops at request-deadline, 5 s"
    ):
        client_for(rest_standin, deadline=5.0).connection("RESTCOUNTRIESEU")
    assert time.monotonic() - started < 2


def test_total_retry_time_is_bounded_by_the_deadline(rest_standin: StandIn) -> None:
    patient = HttpOptions(read_timeout=2, retries=50, backoff_factor=0.2)
    rest_standin.fault(CONN_PATH, "503", times=100)
    started = time.monotonic()
    with pytest.raises(ServerError, match="HTTP 503"):
        client_for(rest_standin, options=patient, deadline=1.0).connection("RESTCOUNTRIESEU")
    assert time.monotonic() - started < 1.5
    assert rest_standin.connection_gets("RESTCOUNTRIESEU") < 10


def test_gateway_404_is_not_a_missing_connection(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "gateway-error")
    with pytest.raises(ServerError, match=r"HTTP 404 .*NotAuthorizedOrNotFound"):
        client_for(rest_standin).connection("RESTCOUNTRIESEU")


def test_ids_are_url_encoded(oic_standin: StandIn) -> None:
    oic_standin.add_connection("A B/C", {"id": "A B/C"})
    assert client_for(oic_standin).connection("A B/C") == {"id": "A B/C"}
    assert oic_standin.count("GET", "/ic/api/integration/v1/connections/A%20B%2FC") == 1


def test_parallel_fetch_one_token_bounded_pool(oic_standin: StandIn) -> None:
    ids = [f"CONN_{n}" for n in range(10)]
    for conn_id in ids:
        oic_standin.add_connection(conn_id, {"id": conn_id})
    oic_standin.state.delay = 0.05
    with ServerCache(client_for(oic_standin, "oauth", max_workers=3)) as cache:
        found, _ = cache.fetch(ids + ids[:4])
        again, _ = cache.fetch(ids[::-1])
    assert sorted(found) == ids and all(found[i] is not None for i in ids)
    assert again == found
    assert oic_standin.token_requests == 1
    assert all(oic_standin.connection_gets(i) == 1 for i in ids)
    assert 2 <= oic_standin.max_in_flight <= 3


def test_first_failure_stops_the_fetch(oic_standin: StandIn) -> None:
    ids = [f"CONN_{n}" for n in range(6)]
    for conn_id in ids:
        oic_standin.add_connection(conn_id, {"id": conn_id})
    oic_standin.fault("/connections/CONN_0", "oic-error")
    cache = ServerCache(client_for(oic_standin, max_workers=2))
    with cache, pytest.raises(ServerError, match="connection CONN_0: HTTP 500"):
        cache.fetch(ids)


# -- the first request: URL, instance, credentials, project ----------------------------------


def test_probe_confirms_instance_and_project(oic_standin: StandIn) -> None:
    oic_standin.state.instance = "team-oic3-fr"
    oic_standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION, project="SALES_PRJ")
    oic_standin.add_lookup("COUNTRY_CODES", LOOKUP_CSV, project="SALES_PRJ")
    client = client_for(oic_standin, "oauth", instance="team-oic3-fr")
    client.probe()
    client.probe_project("SALES_PRJ")
    assert client.connection("RESTCOUNTRIESEU", "SALES_PRJ") is not None
    assert client.lookup_csv("COUNTRY_CODES", "SALES_PRJ") == LOOKUP_CSV
    gets = [r for r in oic_standin.requests if r.method == "GET"]
    assert [r.path for r in gets] == [
        "/ic/api/integration/v1/connections",
        "/ic/api/integration/v1/projects/SALES_PRJ",
        "/ic/api/integration/v1/projects/SALES_PRJ/connections/RESTCOUNTRIESEU",
        "/ic/api/integration/v1/projects/SALES_PRJ/lookups/COUNTRY_CODES/archive",
    ]
    assert all(r.query["integrationInstance"] == ["team-oic3-fr"] for r in gets)
    assert gets[0].query["limit"] == ["1"]  # the first request asks for one connection


def test_wrong_project_names_oic_project(oic_standin: StandIn) -> None:
    oic_standin.add_project("SALES_PRJ")
    client = client_for(oic_standin, "oauth")
    client.probe()
    with pytest.raises(SettingsError) as err:
        client.probe_project("Sales Project")
    assert str(err.value).startswith("oic-project Sales Project was not found on ")
    assert "HTTP 404" in str(err.value) and "identifier" in str(err.value)


def test_wrong_instance_is_a_settings_error(oic_standin: StandIn) -> None:
    oic_standin.state.instance = "team-oic3-fr"
    with pytest.raises(SettingsError) as err:
        client_for(oic_standin, "oauth", instance="team-oic3-de").probe()
    message = str(err.value)
    assert message.startswith("oic-url ") and "with oic-instance team-oic3-de" in message
    assert "HTTP 400" in message and "check oic-url" in message


@pytest.mark.parametrize(
    ("auth", "said"),
    [
        ("oauth", "check scope first"),
        ("basic", "check username/password (OIC 3 accepts only OAuth"),
    ],
)
def test_credentials_refused_on_the_first_request(oic_standin: StandIn, auth: str, said: str):
    oic_standin.fault("/connections", "401", times=2)
    with pytest.raises(SettingsError) as err:
        client_for(oic_standin, auth).probe()
    assert "refused the credentials (HTTP 401" in str(err.value)
    assert said in str(err.value)


def test_sign_in_page_on_the_first_request(oic_standin: StandIn) -> None:
    oic_standin.fault("/connections", "html")
    with pytest.raises(SettingsError, match=r"is not an OIC REST API .*Sign In"):
        client_for(oic_standin).probe()


# -- attachments: listed by the fetch, downloaded to disk ----------------------------------

WSDL = b'<?xml version="1.0"?><definitions name="Orders"/>\n'
SOAP_CONNECTION = {
    "id": "SOAP_ORDERS",
    "securityPolicy": "USERNAME_PASSWORD_TOKEN",
    "connectionProperties": [
        {
            "displayName": "WSDL URL",
            "propertyName": "targetWSDLURL",
            "propertyType": "URL_OR_FILE",
            "propertyValue": "orders.wsdl",
            "hasAttachment": True,
            "propertyGroup": "CONNECTION_PROPS",
        }
    ],
    "securityProperties": [
        {
            "displayName": "Identity Keystore",
            "propertyName": "identityKeystore",
            "propertyType": "FILE",
            "hasAttachment": True,
            "propertyGroup": "CREDENTIALS",
        }
    ],
}


def test_attachments_listed_secret_ones_to_supply(oic_standin: StandIn) -> None:
    oic_standin.add_connection("SOAP_ORDERS", SOAP_CONNECTION)
    with ServerCache(client_for(oic_standin)) as cache:
        found, _ = cache.fetch(["SOAP_ORDERS"])
    conn = found["SOAP_ORDERS"]
    assert conn is not None
    assert [(a.property, a.to_supply) for a in conn.attachments] == [
        ("targetWSDLURL", False),
        ("identityKeystore", True),
    ]
    assert sent(oic_standin) == [("GET", f"{API}/connections/SOAP_ORDERS")]  # no file yet


WSDL_PATH = api("connections", "SOAP_ORDERS", "attachments", "targetWSDLURL")


def test_download_streams_to_disk_with_its_sha256(oic_standin: StandIn, tmp_path: Path) -> None:
    tmp_path = tmp_path / "stage"
    tmp_path.mkdir()
    oic_standin.add_attachment("SOAP_ORDERS", "targetWSDLURL", WSDL)
    dest = tmp_path / "orders.wsdl"
    client = client_for(oic_standin)
    assert client.download(WSDL_PATH, "attachment", dest) == hashlib.sha256(WSDL).hexdigest()
    assert dest.read_bytes() == WSDL
    missing = api("connections", "SOAP_ORDERS", "attachments", "noSuchProperty")
    assert client.download(missing, "attachment", tmp_path / "none") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.wsdl"]


@pytest.mark.parametrize(
    ("kind", "said"),
    [("big-unsized", "larger than max-response-size"), ("drip", r"request-deadline \(1 s\)")],
)
def test_a_failed_download_leaves_no_file(
    oic_standin: StandIn, tmp_path: Path, kind: str, said: str
) -> None:
    tmp_path = tmp_path / "stage"
    tmp_path.mkdir()
    oic_standin.fault("/attachments/targetWSDLURL", kind, times=5, size=4 << 20, seconds=0.2)
    client = client_for(oic_standin, max_response_size=1 << 20, deadline=1.0)
    with pytest.raises(ServerError, match=said):
        client.download(WSDL_PATH, "attachment", tmp_path / "orders.wsdl")
    assert list(tmp_path.iterdir()) == []  # neither the file nor a part of it


def test_locked_attachment_retried_then_error(oic_standin: StandIn, tmp_path: Path) -> None:
    tmp_path = tmp_path / "stage"
    tmp_path.mkdir()
    oic_standin.add_attachment("SOAP_ORDERS", "targetWSDLURL", WSDL)
    oic_standin.fault("/attachments/targetWSDLURL", "423", times=10)
    with pytest.raises(ServerError) as err:
        client_for(oic_standin).download(
            WSDL_PATH, "attachment targetWSDLURL of connection SOAP_ORDERS", tmp_path / "w"
        )
    message = str(err.value)
    assert message.startswith("attachment targetWSDLURL of connection SOAP_ORDERS: HTTP 423")
    assert f"after {FAST.retries} retries" in message and "locked" in message
    assert oic_standin.total_requests == 1 + FAST.retries
    assert list(tmp_path.iterdir()) == []


def test_locked_attachment_once_is_survived(oic_standin: StandIn, tmp_path: Path) -> None:
    oic_standin.add_attachment("SOAP_ORDERS", "targetWSDLURL", WSDL)
    oic_standin.fault("/attachments/targetWSDLURL", "423")
    assert client_for(oic_standin).download(WSDL_PATH, "attachment", tmp_path / "w") is not None
    assert (tmp_path / "w").read_bytes() == WSDL
    assert oic_standin.total_requests == 2


def test_a_lock_the_caller_calls_final_fails_at_once(oic_standin: StandIn, tmp_path: Path):
    """retry_locks=False (pull's export: a prebuilt integration never unlocks): one request,
    OIC's reason in the error; other busy statuses are still retried."""
    tmp_path = tmp_path / "stage"
    tmp_path.mkdir()
    oic_standin.add_attachment("SOAP_ORDERS", "targetWSDLURL", WSDL)
    oic_standin.fault("/attachments/targetWSDLURL", "423", times=10)
    client = client_for(oic_standin)
    with pytest.raises(ServerError) as err:
        client.download(WSDL_PATH, "export", tmp_path / "w", retry_locks=False)
    assert oic_standin.total_requests == 1
    assert "HTTP 423" in str(err.value) and "retries" not in str(err.value)
    assert "Connection is locked" in str(err.value) and "open in the designer?" in str(err.value)
    assert list(tmp_path.iterdir()) == []
    oic_standin.state.faults.clear()
    oic_standin.fault("/attachments/targetWSDLURL", "503")
    assert client.download(WSDL_PATH, "export", tmp_path / "w", retry_locks=False) is not None
    assert oic_standin.total_requests == 3


@pytest.mark.parametrize(
    ("status", "detail", "hint"),
    [
        (423, "Locked: Integration is in locked status or PREBUILT type", "prebuilt integration"),
        (423, "Locked: Connection is locked", "open in the designer?"),
        (412, "Precondition Failed: Resource is locked", "open in the designer?"),
        (500, "Internal Server Error: locked", ""),
    ],
)
def test_lock_hint_guesses_the_designer_only_when_oic_says_nothing_else(
    status: int, detail: str, hint: str
) -> None:
    said = lock_hint(status, detail)
    assert hint in said and (hint or said == "")
    if "PREBUILT" in detail:
        assert "designer" not in said and "editing" not in said


# -- writes: never re-sent once they may have arrived ----------------------------------------

ECHO = api("echo", "thing")


def test_send_a_json_body(oic_standin: StandIn) -> None:
    answer = client_for(oic_standin, "oauth").send("POST", ECHO, "create thing", json={"a": 1})
    assert answer.status == 200
    assert answer.json() == {
        "method": "POST",
        "contentType": "application/json",
        "size": len(b'{"a": 1}'),
        "sha256": hashlib.sha256(b'{"a": 1}').hexdigest(),
    }
    [request] = [r for r in oic_standin.requests if r.path == ECHO]
    assert request.headers["Authorization"].startswith("Bearer ")


def test_send_streams_a_2xx_body_to_a_file(oic_standin: StandIn, tmp_path: Path) -> None:
    """`sink`: a POST that answers an archive (a project export) is written to its file as a
    download is, asked with the caller's Accept; a refused one leaves no file."""
    tmp_path = tmp_path / "stage"
    tmp_path.mkdir()
    dest = tmp_path / "p.car"
    client = client_for(oic_standin)
    answer = client.send(
        "POST", ECHO, "export", json={"a": 1}, sink=dest, accept="application/octet-stream, */*"
    )
    assert answer.status == 200 and answer.body == b""  # not held in memory
    assert json.loads(dest.read_bytes())["sha256"] == hashlib.sha256(b'{"a": 1}').hexdigest()
    assert answer.sha256 == hashlib.sha256(dest.read_bytes()).hexdigest()
    [request] = oic_standin.requests
    assert request.headers["Accept"] == "application/octet-stream, */*"
    dest.unlink()
    oic_standin.fault(ECHO, "423", times=3)
    answer = client.send("POST", ECHO, "export", sink=dest, retry_locks=False)
    assert answer.status == 423 and b"locked" in answer.body
    assert sent(oic_standin) == [("POST", ECHO)] * 2  # the lock not waited out
    assert list(tmp_path.iterdir()) == []


def test_override_sends_a_post_that_says_patch(oic_standin: StandIn) -> None:
    client = client_for(oic_standin)
    answer = client.send("PATCH", ECHO, "activate", json={"status": "ACTIVATED"}, override="PATCH")
    assert answer.json()["method"] == "PATCH"
    [request] = oic_standin.requests
    assert (request.method, request.headers["X-HTTP-Method-Override"]) == ("POST", "PATCH")


def test_upload_is_multipart_streamed_from_the_file(oic_standin: StandIn, tmp_path: Path) -> None:
    archive = tmp_path / "SALES_Q1.car"
    archive.write_bytes(bytes(range(256)) * 4096)  # 1 MiB, every byte value
    answer = client_for(oic_standin).send("POST", ECHO, "import", upload=archive, field="file")
    assert answer.status == 200
    [request] = oic_standin.requests
    assert "Transfer-Encoding" not in request.headers  # a length, not chunks
    assert int(request.headers["Content-Length"]) == len(request.body)
    form = message_from_bytes(
        f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode() + request.body
    )
    [part] = form.get_payload()
    assert part.get_param("name", header="content-disposition") == "file"
    assert part.get_filename() == "SALES_Q1.car"
    assert part.get_payload(decode=True) == archive.read_bytes()


def test_upload_sent_again_from_the_start_after_a_lock(oic_standin: StandIn, tmp_path: Path):
    archive = tmp_path / "a.iar"
    archive.write_bytes(b"PK" + b"x" * 100_000)
    oic_standin.fault(ECHO, "423")
    answer = client_for(oic_standin).send("POST", ECHO, "import", upload=archive)
    assert answer.status == 200
    first, second = oic_standin.requests
    assert first.body == second.body and archive.read_bytes() in first.body


@pytest.mark.parametrize(("kind", "seconds"), [("423", 0.0), ("412", 0.0), ("429", 0.1)])
def test_a_write_is_sent_again_after_a_lock_or_429_with_retry_after(
    oic_standin: StandIn, kind: str, seconds: float
) -> None:
    oic_standin.fault(ECHO, kind, times=2, seconds=seconds)
    assert client_for(oic_standin).send("POST", ECHO, "update").status == 200
    assert sent(oic_standin) == [("POST", ECHO)] * 3


@pytest.mark.parametrize("kind", ["503", "oic-error", "gateway-error"])
def test_a_write_answered_with_an_error_is_not_sent_again(oic_standin: StandIn, kind: str) -> None:
    """503 (even with Retry-After) and 5xx may come after the server applied the write."""
    oic_standin.fault(ECHO, kind, seconds=1)
    answer = client_for(oic_standin).send("DELETE", ECHO, "delete")
    assert answer.status in (500, 503, 404)
    assert answer.detail()
    assert sent(oic_standin) == [("DELETE", ECHO)]


def test_a_write_that_may_have_arrived_is_uncertain(oic_standin: StandIn) -> None:
    """The server read the request, then dropped the connection: not sent again."""
    oic_standin.fault(ECHO, "reset", times=5)
    with pytest.raises(UncertainWrite, match=r"update: POST .*connection reset.*read its state"):
        client_for(oic_standin).send("POST", ECHO, "update")
    assert sent(oic_standin) == [("POST", ECHO)]


def test_a_write_past_the_deadline_is_uncertain(oic_standin: StandIn) -> None:
    oic_standin.fault(ECHO, "drip", times=5, seconds=0.2)
    with pytest.raises(UncertainWrite, match=r"request-deadline \(1 s\).*read its state"):
        client_for(oic_standin, deadline=1.0).send("PUT", ECHO, "update")
    assert sent(oic_standin) == [("PUT", ECHO)]


def test_a_write_that_never_connected_is_not_uncertain() -> None:
    with StandIn() as gone:
        url = gone.url
    client = client_for(gone)
    assert client.config.base_url == url
    with pytest.raises(ServerError, match="connection refused") as err:
        client.send("POST", ECHO, "update")
    assert not isinstance(err.value, UncertainWrite)


def test_client_is_typed_for_its_config(oic_standin: StandIn) -> None:
    client = client_for(oic_standin, instance="i-1")
    assert isinstance(client, OicClient)
    assert client.config.where() == f"{oic_standin.url} (instance i-1)"


@pytest.mark.parametrize("kind", ["big", "big-unsized"])
def test_a_write_whose_answer_is_too_big_is_uncertain(oic_standin: StandIn, kind: str) -> None:
    """The server took the request and answered past max-response-size: the write may have
    been applied, so the caller is told to read the state, and nothing is sent again."""
    oic_standin.fault(ECHO, kind, times=5, size=4 * 1024 * 1024)
    with pytest.raises(UncertainWrite, match=r"larger than max-response-size.*read its state"):
        client_for(oic_standin, max_response_size=1024 * 1024).send("POST", ECHO, "import")
    assert sent(oic_standin) == [("POST", ECHO)]
