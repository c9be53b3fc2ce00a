"""The OIC client: URL rules, auth, retries, error messages, redirects.

Tests that use `oic_cassette` replay tests/cassettes/*.yaml (recorded from the stand-in, see
tests/standin_fixtures.py); faults a cassette cannot hold (resets, timeouts) and concurrency run
against the live stand-in on 127.0.0.1.
"""

from __future__ import annotations

import time

import pytest
from oic_standin import (
    CLIENT_ID,
    CLIENT_SECRET,
    DESIGN_HOST,
    NOT_FOUND_TEXT,
    PASSWORD,
    REDIRECT_INSTANCE,
    SCOPE,
    USERNAME,
    StandIn,
)
from standin_fixtures import PLANTED_SERVER_SECRET

from oicaction.errors import ServerError, SettingsError
from oicaction.oic.auth import BasicAuth, ClientCredentials
from oicaction.oic.client import HttpOptions, OicClient
from oicaction.oic.fetch_cache import ServerCache
from oicaction.oic.url import normalise_base_url

FAST = HttpOptions(
    connect_timeout=2, read_timeout=0.25, retries=3, backoff_factor=0.01, max_retry_time=5
)
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


def oauth(rec: object) -> ClientCredentials:
    return ClientCredentials(rec.token_url, CLIENT_ID, CLIENT_SECRET, SCOPE)  # type: ignore[attr-defined]


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


def test_instance_setting_wins_over_url_query() -> None:
    client = OicClient(
        "https://h.example.com/ic/home?integrationInstance=from-url",
        BasicAuth("u", "p"),
        instance="given",
    )
    assert client.instance == "given"
    assert "p" not in repr(client.auth)


# -- recorded exchanges -----------------------------------------------------------------------


def test_basic_auth_gets_a_connection(oic_cassette) -> None:
    with oic_cassette("basic_auth_connection") as rec:
        rec.standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION)
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        body = client.connection("RESTCOUNTRIESEU")
    assert body is not None
    assert body["id"] == "RESTCOUNTRIESEU"
    assert body["connectionProperties"][1]["propertyValue"].startswith("https://")
    assert rec.methods() == ["GET"]


def test_token_fetched_once_and_reused(oic_cassette) -> None:
    with oic_cassette("oauth_token_reused") as rec:
        rec.standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION)
        rec.standin.add_connection("LOCAL_REST", {"id": "LOCAL_REST", "role": "SOURCE"})
        rec.standin.add_lookup("COUNTRY_CODES", LOOKUP_CSV)
        client = OicClient(rec.url, oauth(rec), options=FAST)
        assert client.connection("RESTCOUNTRIESEU") is not None
        assert client.connection("LOCAL_REST") == {"id": "LOCAL_REST", "role": "SOURCE"}
        assert client.lookup_csv("COUNTRY_CODES") == LOOKUP_CSV
        assert client.auth.token_requests == 1
    assert rec.methods() == ["POST", "GET", "GET", "GET"]
    assert rec.requests_made == 4


def test_gen3_instance_sent_on_every_call(oic_cassette) -> None:
    with oic_cassette("gen3_instance") as rec:
        rec.standin.state.instance = "team-oic3-fr"
        rec.standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION)
        rec.standin.add_lookup("COUNTRY_CODES", LOOKUP_CSV)
        client = OicClient(rec.url, oauth(rec), instance="team-oic3-fr", options=FAST)
        assert client.connection("RESTCOUNTRIESEU") is not None
        assert client.lookup_csv("COUNTRY_CODES") == LOOKUP_CSV
    gets = [r for r in rec.cassette.requests if r.method == "GET"]
    assert [r.query for r in gets] == [[("integrationInstance", "team-oic3-fr")]] * 2
    token = [r for r in rec.cassette.requests if r.method == "POST"]
    assert token[0].query == []  # the instance is for OIC, not for the identity domain


def test_401_refreshes_the_token_once(oic_cassette) -> None:
    with oic_cassette("oauth_401_refresh") as rec:
        rec.standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION)
        rec.standin.fault(CONN_PATH, "401")
        client = OicClient(rec.url, oauth(rec), options=FAST)
        assert client.connection("RESTCOUNTRIESEU") is not None
        assert client.auth.token_requests == 2
    assert rec.methods() == ["POST", "GET", "POST", "GET"]


def test_401_after_refresh_is_an_error(oic_cassette) -> None:
    with oic_cassette("oauth_401_twice") as rec:
        rec.standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION)
        rec.standin.fault(CONN_PATH, "401", times=2)
        client = OicClient(rec.url, oauth(rec), options=FAST)
        with pytest.raises(ServerError, match=r"HTTP 401 .*credentials rejected") as err:
            client.connection("RESTCOUNTRIESEU")
    assert "connection RESTCOUNTRIESEU" in str(err.value)
    assert "credentials rejected: check scope first" in str(err.value)
    assert rec.methods() == ["POST", "GET", "POST", "GET"]


def test_invalid_client_names_the_token_endpoint(oic_cassette) -> None:
    with oic_cassette("oauth_invalid_client") as rec:
        auth = ClientCredentials(rec.token_url, CLIENT_ID, "wrong-secret", SCOPE)
        client = OicClient(rec.url, auth, options=FAST)
        with pytest.raises(SettingsError) as err:
            client.connection("RESTCOUNTRIESEU")
    message = str(err.value)
    assert message.startswith("token request to ")
    assert "HTTP 401" in message and "invalid_client" in message
    assert "(check client-id and client-secret, then token-url)" in message
    assert "wrong-secret" not in message


def test_invalid_scope_names_scope(oic_cassette) -> None:
    with oic_cassette("oauth_invalid_scope") as rec:
        auth = ClientCredentials(rec.token_url, CLIENT_ID, CLIENT_SECRET, f"https://{DESIGN_HOST}")
        client = OicClient(rec.url, auth, options=FAST)
        with pytest.raises(SettingsError) as err:
            client.probe()
    message = str(err.value)
    assert message.startswith("token request to ") and "invalid_scope" in message
    assert "check scope: on OIC 3 the scope is the OAuth resource's audience" in message


def test_429_honours_retry_after(oic_cassette) -> None:
    with oic_cassette("retry_429_retry_after") as rec:
        rec.standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION)
        rec.standin.fault(CONN_PATH, "429", seconds=1)
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        started = time.monotonic()
        assert client.connection("RESTCOUNTRIESEU") is not None
        waited = time.monotonic() - started
    assert waited >= 0.9
    assert rec.methods() == ["GET", "GET"]


def test_503_retried_then_ok(oic_cassette) -> None:
    with oic_cassette("retry_503_then_ok") as rec:
        rec.standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION)
        rec.standin.fault(CONN_PATH, "503", times=2)
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        assert client.connection("RESTCOUNTRIESEU") is not None
    assert rec.methods() == ["GET", "GET", "GET"]


def test_503_until_retries_run_out(oic_cassette) -> None:
    with oic_cassette("retry_503_exhausted") as rec:
        rec.standin.fault(CONN_PATH, "503", times=10)
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        with pytest.raises(ServerError) as err:
            client.connection("RESTCOUNTRIESEU")
    assert "HTTP 503 Service Unavailable" in str(err.value)
    assert "after 3 retries" in str(err.value)
    assert rec.requests_made == 1 + FAST.retries


def test_oic_error_json_becomes_one_line(oic_cassette) -> None:
    with oic_cassette("oic_error_json") as rec:
        rec.standin.fault(CONN_PATH, "oic-error")
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        with pytest.raises(ServerError) as err:
            client.connection("RESTCOUNTRIESEU")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("connection RESTCOUNTRIESEU: HTTP 500")
    assert "Internal Server Error: Unable to read the connection metadata" in message
    assert "(o:errorCode OIC-STANDIN-500)" in message


def test_plain_text_404_means_missing(oic_cassette) -> None:
    with oic_cassette("connection_404_plain_text") as rec:
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        assert client.connection("SCHEDULE_RECEIVE") is None
    body = rec.cassette.responses[0]["body"]["string"]
    assert (body.decode() if isinstance(body, bytes) else body) == NOT_FOUND_TEXT


def test_standin_404_text_is_the_recorded_one(oic_api_dir) -> None:
    recorded = oic_api_dir / "josekurian__OIC-DeploymentScripts"
    assert (recorded / "SCHEDULE_RECEIVE.connection-404-body.txt").read_text() == NOT_FOUND_TEXT


def test_html_instead_of_json(oic_cassette) -> None:
    with oic_cassette("html_instead_of_json") as rec:
        rec.standin.fault(CONN_PATH, "html")
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        with pytest.raises(ServerError) as err:
            client.connection("RESTCOUNTRIESEU")
    message = str(err.value)
    assert "expected a JSON object" in message and "text/html" in message
    assert "'Oracle Integration - Sign In'" in message


def test_redirect_to_the_design_host_names_url_and_instance(oic_cassette) -> None:
    """An OIC 3 runtime/console URL redirects to the region's design host: not followed (the
    token stays here), the settings to use are named, read from the Location header."""
    with oic_cassette("redirect_to_design_host") as rec:
        rec.standin.fault("/connections", "redirect")
        client = OicClient(rec.url, oauth(rec), options=FAST)
        with pytest.raises(SettingsError) as err:
            client.probe()
    message = str(err.value)
    assert (
        f"set oic-url to https://{DESIGN_HOST} and oic-instance to {REDIRECT_INSTANCE}" in message
    )
    assert rec.methods() == ["POST", "GET"]  # nothing sent to the other host


def test_redirect_off_oracles_domain_refused(oic_cassette) -> None:
    with oic_cassette("redirect_off_domain") as rec:
        rec.standin.fault(CONN_PATH, "redirect-away")
        client = OicClient(rec.url, oauth(rec), options=FAST)
        with pytest.raises(ServerError) as err:
            client.connection("RESTCOUNTRIESEU")
    message = str(err.value)
    assert "redirected (HTTP 302) to https://oic.example.net/ic/api/" in message
    assert "not followed, so credentials stay with" in message
    assert rec.methods() == ["POST", "GET"]


def test_lookup_archive_is_returned_as_bytes(oic_cassette) -> None:
    with oic_cassette("lookup_archive") as rec:
        rec.standin.add_lookup("COUNTRY_CODES", LOOKUP_CSV)
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        assert client.lookup_csv("COUNTRY_CODES") == LOOKUP_CSV
        assert client.lookup_csv("NO_SUCH_LOOKUP") is None


def test_recorded_connection_has_no_planted_secret(oic_cassette) -> None:
    with oic_cassette("basic_auth_connection") as rec:
        rec.standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION)
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        body = client.connection("RESTCOUNTRIESEU")
    assert body is not None
    if not rec.recording:  # what the cassette holds was scrubbed before it was written
        password = body["securityProperties"][1]
        assert password["propertyName"] == "password" and password["propertyValue"] == ""


# -- faults no cassette can hold ----------------------------------------------------------------


@pytest.fixture
def rest_standin(oic_standin: StandIn) -> StandIn:
    oic_standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION)
    return oic_standin


def basic_client(standin: StandIn, options: HttpOptions = FAST) -> OicClient:
    return OicClient(standin.url, BasicAuth(USERNAME, PASSWORD), options=options)


@pytest.mark.parametrize("kind", ["reset", "slow"])
def test_one_reset_or_timeout_is_survived(rest_standin: StandIn, kind: str) -> None:
    rest_standin.fault(CONN_PATH, kind, seconds=0.6)
    assert basic_client(rest_standin).connection("RESTCOUNTRIESEU") is not None
    assert rest_standin.connection_gets("RESTCOUNTRIESEU") == 2


@pytest.mark.parametrize(
    ("kind", "said"),
    [("reset", "connection reset by the server"), ("slow", "0.25 s read timeout")],
)
def test_persistent_reset_or_timeout_is_one_line(rest_standin: StandIn, kind: str, said: str):
    rest_standin.fault(CONN_PATH, kind, times=10, seconds=0.6)
    with pytest.raises(ServerError) as err:
        basic_client(rest_standin).connection("RESTCOUNTRIESEU")
    assert said in str(err.value) and "gave up after retrying" in str(err.value)
    assert str(err.value).startswith("connection RESTCOUNTRIESEU: GET http://127.0.0.1:")
    assert rest_standin.connection_gets("RESTCOUNTRIESEU") == 1 + FAST.retries


def test_retry_after_beyond_the_time_limit_fails_at_once(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "429", seconds=3600)
    started = time.monotonic()
    with pytest.raises(ServerError, match=r"HTTP 429 .*Retry-After 3600; retrying stops after 5"):
        basic_client(rest_standin).connection("RESTCOUNTRIESEU")
    assert time.monotonic() - started < 2


def test_total_retry_time_is_bounded(rest_standin: StandIn) -> None:
    bounded = HttpOptions(read_timeout=2, retries=50, backoff_factor=0.2, max_retry_time=1.0)
    rest_standin.fault(CONN_PATH, "503", times=100)
    started = time.monotonic()
    with pytest.raises(ServerError, match="HTTP 503"):
        basic_client(rest_standin, bounded).connection("RESTCOUNTRIESEU")
    assert time.monotonic() - started < 2.5
    assert rest_standin.connection_gets("RESTCOUNTRIESEU") < 10


def test_gateway_404_is_not_a_missing_connection(rest_standin: StandIn) -> None:
    rest_standin.fault(CONN_PATH, "gateway-error")
    with pytest.raises(ServerError, match=r"HTTP 404 .*NotAuthorizedOrNotFound"):
        basic_client(rest_standin).connection("RESTCOUNTRIESEU")


def test_ids_are_url_encoded(oic_standin: StandIn) -> None:
    oic_standin.add_connection("A B/C", {"id": "A B/C"})
    assert basic_client(oic_standin).connection("A B/C") == {"id": "A B/C"}
    assert oic_standin.count("GET", "/ic/api/integration/v1/connections/A%20B%2FC") == 1


def test_parallel_fetch_one_token_bounded_pool(oic_standin: StandIn) -> None:
    ids = [f"CONN_{n}" for n in range(10)]
    for conn_id in ids:
        oic_standin.add_connection(conn_id, {"id": conn_id})
    oic_standin.state.delay = 0.05
    auth = ClientCredentials(oic_standin.token_url, CLIENT_ID, CLIENT_SECRET, SCOPE)
    client = OicClient(oic_standin.url, auth, pool_size=3, options=FAST)
    with ServerCache(client, max_workers=3) as cache:
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
    cache = ServerCache(basic_client(oic_standin), max_workers=2)
    with cache, pytest.raises(ServerError, match="connection CONN_0: HTTP 500"):
        cache.fetch(ids)


# -- the first request: URL, instance, credentials, project ----------------------------------


def test_probe_confirms_instance_and_project(oic_cassette) -> None:
    with oic_cassette("probe_project_ok") as rec:
        rec.standin.state.instance = "team-oic3-fr"
        rec.standin.add_connection("RESTCOUNTRIESEU", REST_CONNECTION, project="SALES_PRJ")
        rec.standin.add_lookup("COUNTRY_CODES", LOOKUP_CSV, project="SALES_PRJ")
        client = OicClient(rec.url, oauth(rec), instance="team-oic3-fr", options=FAST)
        client.probe()
        client.probe_project("SALES_PRJ")
        assert client.connection("RESTCOUNTRIESEU", "SALES_PRJ") is not None
        assert client.lookup_csv("COUNTRY_CODES", "SALES_PRJ") == LOOKUP_CSV
    paths = [r.path for r in rec.cassette.requests if r.method == "GET"]
    assert paths == [
        "/ic/api/integration/v1/connections",
        "/ic/api/integration/v1/projects/SALES_PRJ",
        "/ic/api/integration/v1/projects/SALES_PRJ/connections/RESTCOUNTRIESEU",
        "/ic/api/integration/v1/projects/SALES_PRJ/lookups/COUNTRY_CODES/archive",
    ]
    gets = [r for r in rec.cassette.requests if r.method == "GET"]
    assert all(("integrationInstance", "team-oic3-fr") in r.query for r in gets)


def test_wrong_project_names_oic_project(oic_cassette) -> None:
    with oic_cassette("probe_wrong_project") as rec:
        rec.standin.add_project("SALES_PRJ")
        client = OicClient(rec.url, oauth(rec), options=FAST)
        client.probe()
        with pytest.raises(SettingsError) as err:
            client.probe_project("Sales Project")
    assert str(err.value).startswith("oic-project Sales Project was not found on ")
    assert "HTTP 404" in str(err.value) and "identifier" in str(err.value)


def test_wrong_instance_is_a_settings_error(oic_cassette) -> None:
    with oic_cassette("probe_wrong_instance") as rec:
        rec.standin.state.instance = "team-oic3-fr"
        client = OicClient(rec.url, oauth(rec), instance="team-oic3-de", options=FAST)
        with pytest.raises(SettingsError) as err:
            client.probe()
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
def test_credentials_refused_on_the_first_request(oic_cassette, auth: str, said: str) -> None:
    with oic_cassette(f"probe_401_{auth}") as rec:
        rec.standin.fault("/connections", "401", times=2)
        chosen = oauth(rec) if auth == "oauth" else BasicAuth(USERNAME, PASSWORD)
        client = OicClient(rec.url, chosen, options=FAST)
        with pytest.raises(SettingsError) as err:
            client.probe()
    assert "refused the credentials (HTTP 401" in str(err.value)
    assert said in str(err.value)


def test_sign_in_page_on_the_first_request(oic_cassette) -> None:
    with oic_cassette("probe_html") as rec:
        rec.standin.fault("/connections", "html")
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        with pytest.raises(SettingsError, match=r"is not an OIC REST API .*Sign In"):
            client.probe()


# -- attachments ------------------------------------------------------------------------------

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


def test_attachments_fetched_secret_ones_listed(oic_cassette) -> None:
    with oic_cassette("attachments") as rec:
        rec.standin.add_connection("SOAP_ORDERS", SOAP_CONNECTION)
        rec.standin.add_attachment("SOAP_ORDERS", "targetWSDLURL", WSDL)
        rec.standin.add_attachment("SOAP_ORDERS", "identityKeystore", b"not to be fetched")
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        with ServerCache(client) as cache:
            found, _ = cache.fetch(["SOAP_ORDERS"])
    conn = found["SOAP_ORDERS"]
    assert conn is not None
    assert [(a.property, a.data, a.to_supply) for a in conn.attachments] == [
        ("targetWSDLURL", WSDL, False),
        ("identityKeystore", None, True),
    ]
    paths = [r.path for r in rec.cassette.requests]
    assert "/ic/api/integration/v1/connections/SOAP_ORDERS/attachments/identityKeystore" not in (
        paths
    )


def test_locked_attachment_retried_then_error(oic_cassette) -> None:
    with oic_cassette("attachment_locked") as rec:
        rec.standin.add_connection("SOAP_ORDERS", SOAP_CONNECTION)
        rec.standin.add_attachment("SOAP_ORDERS", "targetWSDLURL", WSDL)
        rec.standin.fault("/attachments/targetWSDLURL", "423", times=10)
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        with pytest.raises(ServerError) as err:
            client.attachment("SOAP_ORDERS", "targetWSDLURL")
    message = str(err.value)
    assert message.startswith("attachment targetWSDLURL of connection SOAP_ORDERS: HTTP 423")
    assert f"after {FAST.retries} retries" in message and "locked" in message
    assert rec.requests_made == 1 + FAST.retries


def test_locked_attachment_once_is_survived(oic_cassette) -> None:
    with oic_cassette("attachment_locked_once") as rec:
        rec.standin.add_attachment("SOAP_ORDERS", "targetWSDLURL", WSDL)
        rec.standin.fault("/attachments/targetWSDLURL", "423")
        client = OicClient(rec.url, BasicAuth(USERNAME, PASSWORD), options=FAST)
        assert client.attachment("SOAP_ORDERS", "targetWSDLURL") == WSDL
        assert client.attachment("SOAP_ORDERS", "noSuchProperty") is None
    assert rec.requests_made == 3
