"""Whole builds against the OIC stand-in: what lands in the artifact, what each server fault
does to the build (survived, or one line and nothing left behind), and shared fetching."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import build_cli as build
from conftest import error_lines, make_integration, one_error, run_cli
from oic_standin import DESIGN_HOST, REDIRECT_INSTANCE, SAMPLE_LOOKUP, SCOPE, StandIn
from standin_fixtures import COUNTRY_INFO, add_lookup, server_args

from oicaction.artifact.export import export_connections
from oicaction.modes.build import check_source, connect, protected_paths, write_artifact
from oicaction.report import Reporter
from oicaction.settings import load_settings
from oicaction.source.metadata import Connection, IntegrationMeta

pytestmark = pytest.mark.usefixtures("oic_fast_http")

SLUG = "COUNTRY_INFO_01.00.0000"
ARTIFACT = Path("out") / SLUG
REST_PATH = "/connections/RESTCOUNTRIESEU"


def assert_nothing_left() -> None:
    """No artifact, no staging folder: the artifact dir is gone or empty."""
    out = Path("out")
    assert not ARTIFACT.exists()
    assert (sorted(p.name for p in out.iterdir()) if out.exists() else []) == []


def add_connection(tree: Path, code: str) -> None:
    app = tree / "icspackage" / "appinstances"
    text = (app / "LOCAL_REST.xml").read_text().replace("LOCAL_REST", code)
    (app / f"{code}.xml").write_text(text)


# -- the happy path ---------------------------------------------------------------------------


def test_recorded_connections_end_to_end(oic_api_dir, oic_recorded_standin, capsys) -> None:
    """The recorded COUNTRY_INFO archive and the two connection bodies exported with it."""
    src = Path("src")
    src.mkdir()
    (src / f"{SLUG}.iar").write_bytes((oic_api_dir / COUNTRY_INFO).read_bytes())
    assert build(src, server=oic_recorded_standin) == 0
    rest = json.loads((ARTIFACT / "connections/RESTCOUNTRIESEU/connection.json").read_text())
    kept = {p["propertyName"]: p.get("propertyValue") for p in rest["connectionProperties"]}
    assert kept["connectionUrl"] == "https://restcountries.eu/rest/v2/"
    assert "lastRefreshedDate" not in rest and "adminEmail" in rest
    local = json.loads((ARTIFACT / "connections/LOCAL_REST/connection.json").read_text())
    assert local["securityPolicy"] == "BASIC_AUTH"
    plan = (ARTIFACT / "connectionPlan.properties").read_text()
    assert "RESTCOUNTRIESEU.connection.Connection URL=https://restcountries.eu/rest/v2/" in plan
    assert "RESTCOUNTRIESEU.connection.TLS Version=\n" in plan


def test_end_to_end_country_info(country_info, oic_fixture_standin, capsys) -> None:
    assert build(country_info, server=oic_fixture_standin) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["connections-file"] == (ARTIFACT / "connections.json").as_posix()
    files = sorted(p.relative_to(ARTIFACT).as_posix() for p in ARTIFACT.rglob("*") if p.is_file())
    assert files == [
        f"{SLUG}.iar",
        "build-info.json",
        "connectionPlan.properties",
        "connections.json",
        "connections/LOCAL_REST/connection.json",
        "connections/RESTCOUNTRIESEU/connection.json",
    ]
    rest = json.loads((ARTIFACT / "connections/RESTCOUNTRIESEU/connection.json").read_text())
    urls = [p for p in rest["connectionProperties"] if p["propertyName"] == "connectionUrl"]
    assert urls[0]["propertyValue"] == "https://restcountries.eu/rest/v2/"
    assert "lastRefreshedDate" not in rest
    index = json.loads((ARTIFACT / "connections.json").read_text())
    assert [c["id"] for c in index["connections"]] == ["LOCAL_REST", "RESTCOUNTRIESEU"]
    assert index["server"] == oic_fixture_standin.url
    plan = (ARTIFACT / "connectionPlan.properties").read_text()
    assert "RESTCOUNTRIESEU.connection.Connection URL=https://restcountries.eu/rest/v2/" in plan
    info = json.loads((ARTIFACT / "build-info.json").read_text())
    assert info["exported"] == {
        "server": oic_fixture_standin.url,
        "instance": None,
        "auth": "oauth",
        "connections": ["LOCAL_REST", "RESTCOUNTRIESEU"],
        "attachments": [],
        "attachments_to_supply": [],
        "lookups": [],
        "connections_file": out["connections-file"],
        "skipped": [],
        "connection_plan": "generated",
    }
    assert oic_fixture_standin.token_requests == 1
    assert oic_fixture_standin.connection_gets("RESTCOUNTRIESEU") == 1


def test_rebuild_is_identical_apart_from_time(country_info, oic_fixture_standin, capsys) -> None:
    assert build(country_info, server=oic_fixture_standin) == 0
    first = {p: p.read_bytes() for p in ARTIFACT.rglob("*.json") if p.name != "build-info.json"}
    assert build(country_info, server=oic_fixture_standin) == 0
    assert first == {p: p.read_bytes() for p in first}


def test_gen3_instance_and_basic_auth(country_info, oic_fixture_standin, capsys) -> None:
    oic_fixture_standin.state.instance = "team-oic3-fr"
    # refused before any connection is asked for
    assert build(country_info, auth="basic", server=oic_fixture_standin) == 2
    said = error_lines(capsys.readouterr().err)[0]
    assert "InvalidParameter" in said and "check oic-url" in said and "oic-instance" in said
    args = ("--oic-instance", "team-oic3-fr")
    assert build(country_info, *args, auth="basic", server=oic_fixture_standin) == 0
    info = json.loads((ARTIFACT / "build-info.json").read_text())
    assert info["exported"]["instance"] == "team-oic3-fr"
    assert info["exported"]["auth"] == "basic"


def test_lookups_exported(tree_source, oic_fixture_standin, capsys) -> None:
    add_lookup(tree_source, "COUNTRY_CODES")
    oic_fixture_standin.add_lookup("COUNTRY_CODES", SAMPLE_LOOKUP)
    args = ("--manage-connections", "false", "--manage-lookups", "true")
    assert build(tree_source, *args, server=oic_fixture_standin) == 0
    assert (ARTIFACT / "lookups/COUNTRY_CODES.csv").read_bytes() == SAMPLE_LOOKUP
    assert not (ARTIFACT / "connections.json").exists()
    assert oic_fixture_standin.connection_gets("RESTCOUNTRIESEU") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["connections-file"] == ""


def test_missing_lookup_fails(tree_source, oic_fixture_standin, capsys) -> None:
    add_lookup(tree_source, "NOT_THERE")
    assert build(tree_source, server=oic_fixture_standin) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert "lookup NOT_THERE used by integration COUNTRY_INFO|01.00.0000 was not found" in line
    assert_nothing_left()


# -- faults the build survives --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["429", "503", "reset", "slow", "401"])
def test_transient_fault_survived(country_info, oic_fixture_standin, capsys, kind) -> None:
    oic_fixture_standin.fault(REST_PATH, kind, seconds=0.6 if kind == "slow" else 0)
    assert build(country_info, server=oic_fixture_standin) == 0
    assert (ARTIFACT / "connections/RESTCOUNTRIESEU/connection.json").is_file()
    assert oic_fixture_standin.connection_gets("RESTCOUNTRIESEU") == 2
    assert oic_fixture_standin.token_requests == (2 if kind == "401" else 1)


# -- faults that end the build: one line, nothing left ------------------------------------------


@pytest.mark.parametrize(
    ("kind", "times", "said"),
    [
        ("503", 10, "HTTP 503 Service Unavailable"),
        ("reset", 10, "connection reset by the server"),
        ("slow", 10, "read timeout"),
        ("html", 1, "expected a JSON object"),
        ("redirect-away", 1, "redirected (HTTP 302) to https://oic.example.net/"),
        ("oic-error", 1, "(o:errorCode OIC-STANDIN-500)"),
        ("gateway-error", 1, "NotAuthorizedOrNotFound"),
        ("401", 2, "HTTP 401"),
    ],
)
def test_fault_fails_cleanly(country_info, oic_fixture_standin, capsys, kind, times, said) -> None:
    oic_fixture_standin.fault(REST_PATH, kind, times=times, seconds=0.6 if kind == "slow" else 0)
    assert build(country_info, server=oic_fixture_standin) == 1
    err = capsys.readouterr().err
    [line] = error_lines(err)
    # A revoked token also fails the parallel LOCAL_REST request: either may be named.
    named = ("RESTCOUNTRIESEU", "LOCAL_REST") if kind == "401" else ("RESTCOUNTRIESEU",)
    assert line.startswith(tuple(f"error: connection {n}: " for n in named))
    assert said in line
    assert "Traceback" not in err
    assert_nothing_left()


def test_bad_client_secret_fails_cleanly(country_info, oic_fixture_standin, capsys) -> None:
    oic_fixture_standin.state.client_secret = "the-server-expects-another"
    assert build(country_info, server=oic_fixture_standin) == 2  # a setting to check
    [line] = error_lines(capsys.readouterr().err)
    assert line.startswith("error: token request to ") and "invalid_client" in line
    assert_nothing_left()


def test_plain_http_to_a_remote_host_is_a_settings_error(country_info, capsys) -> None:
    code = run_cli(
        "--integration-path", str(country_info), "--artifact-dir", "out",
        "--oic-url", "http://oic.example.com", "--username", "u", "--password", "not-sent-anywhere",
    )  # fmt: skip
    assert code == 2
    assert "must use https" in capsys.readouterr().err
    assert_nothing_left()


# -- missing connections ----------------------------------------------------------------------


def test_missing_connection_is_an_error(country_info, oic_fixture_standin, capsys) -> None:
    del oic_fixture_standin.state.connections["RESTCOUNTRIESEU"]
    assert build(country_info, server=oic_fixture_standin) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert (
        "connection RESTCOUNTRIESEU used by integration COUNTRY_INFO|01.00.0000 was not found"
        in line
    )
    assert "missing-connections: warn" in line
    assert_nothing_left()


def test_missing_connection_can_be_a_warning(country_info, oic_fixture_standin, capsys) -> None:
    del oic_fixture_standin.state.connections["RESTCOUNTRIESEU"]
    assert build(country_info, "--missing-connections", "warn", server=oic_fixture_standin) == 0
    err = capsys.readouterr().err
    assert "warning: connection RESTCOUNTRIESEU used by integration" in err
    info = json.loads((ARTIFACT / "build-info.json").read_text())
    assert info["exported"]["skipped"] == ["RESTCOUNTRIESEU"]
    assert info["exported"]["connections"] == ["LOCAL_REST"]
    index = json.loads((ARTIFACT / "connections.json").read_text())
    assert index["skipped"] == ["RESTCOUNTRIESEU"]


@pytest.mark.parametrize(
    "code",
    [
        "PRESEEDED_COLLOCATED_CONN_1741",
        "PRESEEDED_B2B_TRANSLATOR_CONN_1851",
        "APPLICATION_EVENT_CONNECTION",
    ],
)
def test_oic_managed_connection_not_served_is_skipped(
    tree_source, oic_fixture_standin, capsys, code
) -> None:
    """Real Gen3 archives (LL_ERPPO_BACKEND_B2B, INT03) list these; the API need not serve
    them, and they never go into the plan."""
    add_connection(tree_source, code)
    assert build(tree_source, server=oic_fixture_standin) == 0
    assert f"connection {code} of integration COUNTRY_INFO|01.00.0000 is managed by OIC" in (
        capsys.readouterr().err
    )
    info = json.loads((ARTIFACT / "build-info.json").read_text())
    assert info["exported"]["skipped"] == [code]
    assert code not in (ARTIFACT / "connectionPlan.properties").read_text()


def test_gen3_archive_with_oic_managed_connections(tmp_path, oic_standin, capsys) -> None:
    """As in the real LL_ERPPO_BACKEND_B2B (oracle-livelabs): ERP_CLOUD, two PRESEEDED_*
    connections and APPLICATION_EVENT_CONNECTION; the server serves ERP_CLOUD only."""
    managed = [
        "APPLICATION_EVENT_CONNECTION",
        "PRESEEDED_B2B_TRANSLATOR_CONN_1851",
        "PRESEEDED_COLLOCATED_CONN_1741",
    ]
    src = make_integration(
        tmp_path / "b2b", "LL_ERPPO_BACKEND_B2B", "02.00.0000", as_iar=True,
        file_name="LL.iar", connections=["ERP_CLOUD", *managed],
    )  # fmt: skip
    oic_standin.add_connection(
        "ERP_CLOUD",
        {"id": "ERP_CLOUD", "securityPolicy": "USERNAME_PASSWORD_TOKEN",
         "connectionProperties": [{"displayName": "ERP Cloud Host", "propertyName": "erpHost",
                                   "propertyType": "URL", "propertyValue": "https://erp.example"}],
         "securityProperties": [{"displayName": "Username", "propertyName": "username",
                                 "propertyType": "STRING", "propertyValue": "svc"},
                                {"displayName": "Password", "propertyName": "password",
                                 "propertyType": "PASSWORD", "propertyValue": "*****"}]},
    )  # fmt: skip
    assert build(src, server=oic_standin) == 0, capsys.readouterr().err
    artifact = Path("out/LL_ERPPO_BACKEND_B2B_02.00.0000")
    info = json.loads((artifact / "build-info.json").read_text())
    assert info["exported"]["connections"] == ["ERP_CLOUD"]
    assert sorted(info["exported"]["skipped"]) == managed
    plan = [
        line
        for line in (artifact / "connectionPlan.properties").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert plan == [
        "ERP_CLOUD.connection.ERP Cloud Host=https://erp.example",
        "ERP_CLOUD.secure.Username=svc",
        "ERP_CLOUD.secure.Password=",
    ]


def test_oic_managed_connection_served_is_kept_out_of_the_plan(
    tree_source, oic_fixture_standin, capsys
) -> None:
    add_connection(tree_source, "APPLICATION_EVENT_CONNECTION")
    oic_fixture_standin.add_connection(
        "APPLICATION_EVENT_CONNECTION", {"id": "APPLICATION_EVENT_CONNECTION", "role": "SOURCE"}
    )
    assert build(tree_source, server=oic_fixture_standin) == 0
    assert (ARTIFACT / "connections/APPLICATION_EVENT_CONNECTION/connection.json").is_file()
    plan = (ARTIFACT / "connectionPlan.properties").read_text()
    assert "APPLICATION_EVENT_CONNECTION" not in plan and "RESTCOUNTRIESEU." in plan


def test_schedule_connection_is_no_longer_special(tree_source, oic_fixture_standin, capsys):
    """The SCHEDULE_* rule rested on a legacy /icsapis answer; no real archive lists one."""
    add_connection(tree_source, "SCHEDULE_RECEIVE")
    assert build(tree_source, server=oic_fixture_standin) == 1
    assert "connection SCHEDULE_RECEIVE used by integration" in capsys.readouterr().err


# -- connection plans from the source -----------------------------------------------------------


def test_malformed_plan_fails_before_any_request(country_info, oic_fixture_standin, capsys):
    plan = country_info.parent / "connectionPlan.properties"
    plan.write_text("RESTCOUNTRIESEU.connection.Connection URL=https://x\nbroken line\n")
    assert build(country_info, server=oic_fixture_standin) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert line.startswith(f"error: {plan}:2: no '='")
    assert oic_fixture_standin.total_requests == 0
    assert_nothing_left()


def test_plan_checked_and_copied(country_info, oic_fixture_standin, capsys) -> None:
    plan = country_info.parent / "connectionPlan.properties"
    plan.write_text(
        "RESTCOUNTRIESEU.connection.Connection URL=https://restcountries.example.com/v3\n"
        "GONE_CONN.connection.Connection URL=https://old.example.com\n"
    )
    assert build(country_info, server=oic_fixture_standin) == 0
    err = capsys.readouterr().err
    assert f"warning: {plan}:2: an entry for connection GONE_CONN" in err
    assert (ARTIFACT / "connectionPlan.properties").read_text() == plan.read_text()
    info = json.loads((ARTIFACT / "build-info.json").read_text())
    assert info["exported"]["connection_plan"] == plan.as_posix()


# -- one client, one token, one cache for many integrations -------------------------------------


def meta(code: str, *conns: str) -> IntegrationMeta:
    return IntegrationMeta(code, "01.00.0000", code, tuple(Connection(c, "rest") for c in conns))


def test_batch_shares_client_token_and_cache(oic_standin, tmp_path, monkeypatch) -> None:
    for conn_id in ("A", "B", "C"):
        oic_standin.add_connection(conn_id, {"id": conn_id})
    args = server_args(oic_standin)
    for flag, value in zip(args[::2], args[1::2], strict=True):
        monkeypatch.setenv("OIC_" + flag[2:].upper().replace("-", "_"), value)
    settings = load_settings({"artifact_dir": "out"})
    metas = [meta("ONE", "A", "B"), meta("TWO", "B", "C"), meta("THREE", "A", "C")]
    reporter = Reporter(github=False, stream=open(os.devnull, "w"))  # noqa: SIM115
    with connect(settings, reporter) as cache:
        for m in metas:
            stage = tmp_path / m.slug
            stage.mkdir()
            export_connections(cache, settings, m, stage, reporter)
            assert (stage / "connections.json").is_file()
    assert [oic_standin.connection_gets(c) for c in "ABC"] == [1, 1, 1]
    assert oic_standin.token_requests == 1
    assert oic_standin.total_requests == 5  # token, the first request, three connections


def test_builds_sharing_one_server_share_one_token(tree_source, oic_fixture_standin):
    """Two builds handed one server (what a batch does) fetch each connection once."""
    args = server_args(oic_fixture_standin)
    flags = {k[2:].replace("-", "_"): v for k, v in zip(args[::2], args[1::2], strict=True)}
    settings = load_settings({**flags, "artifact_dir": "out"})
    reporter = Reporter(github=False)
    with connect(settings, reporter) as server:
        for _ in range(2):
            checked = check_source(settings, tree_source, reporter)
            protected = protected_paths([tree_source], [checked])
            write_artifact(settings, checked, reporter, server, protected)
    assert oic_fixture_standin.token_requests == 1
    assert oic_fixture_standin.connection_gets("RESTCOUNTRIESEU") == 1


# -- settings checked before the first request ------------------------------------------------

DESIGN = "https://design.integration.us-ashburn-1.ocp.oraclecloud.com"
OAUTH = ("--client-id", "app", "--client-secret", "s3cr3t-value", "--token-url", DESIGN + "/t")
GOOD_SCOPE = (
    "https://abc.integration.us-ashburn-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all"
)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("--oic-url", DESIGN, "--oic-instance", "i", *OAUTH),
            "error: manage-connections is on and integration COUNTRY_INFO|01.00.0000 uses "
            "connections, but server settings are missing: scope ",
        ),
        (
            ("--oic-url", DESIGN, *OAUTH, "--scope", GOOD_SCOPE),
            f"error: oic-url {DESIGN} is OIC 3's design host, which serves every instance of "
            "the region: set oic-instance",
        ),
        (
            ("--oic-url", DESIGN, "--oic-instance", "i", "--username", "u", "--password", "pw-9x"),
            "error: username/password (basic auth) against design.integration.us-ashburn-1."
            "ocp.oraclecloud.com: OIC 3's REST API accepts only OAuth",
        ),
        (
            (
                "--oic-url",
                "https://myoic-abcdefgh-ia.integration.eu-frankfurt-1.ocp.oraclecloud.com/ic/home",
                "--username",
                "u",
                "--password",
                "pw-9x",
            ),
            "error: username/password (basic auth) against myoic-abcdefgh-ia.integration.",
        ),
    ],
    ids=["no-scope", "design-host-no-instance", "basic-on-design-host", "basic-on-instance-host"],
)
def test_server_settings_checked_before_any_request(country_info, capsys, args, said) -> None:
    """These hosts do not exist: an attempt to reach them would fail differently."""
    code = run_cli("--integration-path", str(country_info), "--artifact-dir", "out", *args)
    err = capsys.readouterr().err
    assert code == 2
    [line] = error_lines(err)
    assert line.startswith(said)
    assert "s3cr3t-value" not in err
    assert_nothing_left()


@pytest.mark.parametrize(
    "scope",
    [
        "https://abc.integration.us-ashburn-1.ocp.oraclecloud.com:443",
        "urn:opc:resource:consumer::all",  # the suffix alone is accepted, the warning is not
        f"{DESIGN}:443urn:opc:resource:consumer::all",
    ],
)
def test_doubtful_scope_warns(country_info, oic_fixture_standin, capsys, scope) -> None:
    oic_fixture_standin.state.scope = scope
    args = [scope if a == SCOPE else a for a in server_args(oic_fixture_standin)]
    code = run_cli("--integration-path", str(country_info), "--artifact-dir", "out", *args)
    err = capsys.readouterr().err
    assert code == 0
    warned = [line for line in err.splitlines() if line.startswith("warning:") and "scope" in line]
    if scope.endswith("consumer::all") and "design." not in scope:
        assert warned == []
    else:
        assert len(warned) == 1


def test_runtime_url_redirect_names_design_url_and_instance(
    country_info, oic_fixture_standin, capsys
) -> None:
    oic_fixture_standin.fault("/ic/api/integration/v1/connections", "redirect")
    assert build(country_info, server=oic_fixture_standin) == 2
    [line] = error_lines(capsys.readouterr().err)
    assert line == (
        f"error: oic-url {oic_fixture_standin.url} redirects to OIC 3's design host: set oic-url "
        f"to https://{DESIGN_HOST} and oic-instance to {REDIRECT_INSTANCE} (credentials are "
        "only sent where oic-url points)"
    )
    assert oic_fixture_standin.connection_gets("RESTCOUNTRIESEU") == 0


@pytest.mark.parametrize("missing", ["error", "warn"])
def test_wrong_instance_is_never_a_missing_connection(
    country_info, oic_fixture_standin, capsys, missing
) -> None:
    oic_fixture_standin.state.instance = "team-oic3-fr"
    args = ("--oic-instance", "team-oic3-de", "--missing-connections", missing)
    assert build(country_info, *args, server=oic_fixture_standin) == 2
    [line] = error_lines(capsys.readouterr().err)
    assert "with oic-instance team-oic3-de is not an OIC REST API" in line
    assert oic_fixture_standin.connection_gets("RESTCOUNTRIESEU") == 0
    assert_nothing_left()


@pytest.mark.parametrize("kind", ["html", "gateway-error", "oic-error"])
def test_first_request_failures_name_the_setting(
    country_info, oic_fixture_standin, capsys, kind
) -> None:
    oic_fixture_standin.fault("/ic/api/integration/v1/connections", kind, times=10)
    code = build(country_info, server=oic_fixture_standin)
    [line] = error_lines(capsys.readouterr().err)
    if kind == "oic-error":  # a server error is the server's, not a setting's
        assert code == 1 and "first request: HTTP 500" in line
    else:
        assert code == 2 and "check oic-url" in line


def test_manage_connections_false_alone_is_offline_with_lookups(tree_source, capsys) -> None:
    """No server settings at all: a real archive with a lookup builds offline."""
    add_lookup(tree_source, "COUNTRY_CODES")
    code = run_cli(
        "--integration-path", str(tree_source), "--artifact-dir", "out",
        "--manage-connections", "false", "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(capsys.readouterr().out)["lookups"] == ["COUNTRY_CODES"]
    assert not (ARTIFACT / "lookups").exists()


# -- OIC 3 projects ----------------------------------------------------------------------------


def test_project_connections_come_from_the_project(
    tree_source, oic_fixture_standin, capsys
) -> None:
    add_lookup(tree_source, "COUNTRY_CODES")
    for conn_id, body in list(oic_fixture_standin.state.connections.items()):
        oic_fixture_standin.add_connection(conn_id, body, project="SALES_PRJ")
    oic_fixture_standin.add_lookup("COUNTRY_CODES", SAMPLE_LOOKUP, project="SALES_PRJ")
    assert build(tree_source, "--oic-project", "SALES_PRJ", server=oic_fixture_standin) == 0
    assert oic_fixture_standin.connection_gets("RESTCOUNTRIESEU") == 0
    prefix = "/ic/api/integration/v1/projects/SALES_PRJ"
    assert oic_fixture_standin.count("GET", f"{prefix}/connections/RESTCOUNTRIESEU") == 1
    assert oic_fixture_standin.count("GET", f"{prefix}/lookups/COUNTRY_CODES/archive") == 1
    info = json.loads((ARTIFACT / "build-info.json").read_text())
    assert info["exported"]["project"] == "SALES_PRJ"


def test_wrong_project_is_a_settings_error(country_info, oic_fixture_standin, capsys) -> None:
    oic_fixture_standin.add_project("SALES_PRJ")
    assert build(country_info, "--oic-project", "SALES", server=oic_fixture_standin) == 2
    [line] = error_lines(capsys.readouterr().err)
    assert line.startswith("error: oic-project SALES was not found on ")
    assert_nothing_left()


# -- attachments -----------------------------------------------------------------------------

WSDL = b'<?xml version="1.0"?>\n<definitions name="Countries"/>\n'


def with_attachments(standin: StandIn) -> None:
    """RESTCOUNTRIESEU as recorded, plus an uploaded WSDL and a keystore property."""
    body = json.loads(json.dumps(standin.state.connections["RESTCOUNTRIESEU"]))
    body["connectionProperties"].append(
        {"displayName": "WSDL URL", "propertyName": "targetWSDLURL", "propertyType": "URL_OR_FILE",
         "propertyValue": "countries.wsdl", "hasAttachment": True, "hiddenFlag": False,
         "propertyGroup": "CONNECTION_PROPS"}
    )  # fmt: skip
    body["securityProperties"] = [
        {"displayName": "Identity Keystore", "propertyName": "identityKeystore",
         "propertyType": "FILE", "hasAttachment": True, "hiddenFlag": False,
         "propertyGroup": "CREDENTIALS"}
    ]  # fmt: skip
    standin.add_connection("RESTCOUNTRIESEU", body)
    standin.add_attachment("RESTCOUNTRIESEU", "targetWSDLURL", WSDL)
    standin.add_attachment("RESTCOUNTRIESEU", "identityKeystore", b"PRIVATE KEYSTORE BYTES")


def test_attachments_saved_with_sha256(country_info, oic_fixture_standin, capsys) -> None:
    with_attachments(oic_fixture_standin)
    assert build(country_info, server=oic_fixture_standin) == 0
    err = capsys.readouterr().err
    saved = ARTIFACT / "connections/RESTCOUNTRIESEU/attachments/targetWSDLURL"
    assert saved.read_bytes() == WSDL
    assert not (ARTIFACT / "connections/RESTCOUNTRIESEU/attachments/identityKeystore").exists()
    expected = [
        {
            "connection": "RESTCOUNTRIESEU",
            "property": "targetWSDLURL",
            "file": "connections/RESTCOUNTRIESEU/attachments/targetWSDLURL",
            "sha256": hashlib.sha256(WSDL).hexdigest(),
            "size": len(WSDL),
        }
    ]
    supply = [{"connection": "RESTCOUNTRIESEU", "property": "identityKeystore"}]
    index = json.loads((ARTIFACT / "connections.json").read_text())
    info = json.loads((ARTIFACT / "build-info.json").read_text())
    assert index["attachments"] == info["exported"]["attachments"] == expected
    assert index["attachments_to_supply"] == info["exported"]["attachments_to_supply"] == supply
    assert "attachment identityKeystore of connection RESTCOUNTRIESEU holds a secret" in err
    assert b"PRIVATE KEYSTORE" not in b"".join(
        p.read_bytes() for p in ARTIFACT.rglob("*") if p.is_file()
    )
    plan = (ARTIFACT / "connectionPlan.properties").read_text()
    assert "RESTCOUNTRIESEU.secure.Identity Keystore=\n" in plan


def test_attachment_404_is_a_warning(country_info, oic_fixture_standin, capsys) -> None:
    with_attachments(oic_fixture_standin)
    del oic_fixture_standin.state.attachments[("RESTCOUNTRIESEU", "targetWSDLURL")]
    assert build(country_info, server=oic_fixture_standin) == 0
    err = capsys.readouterr().err
    assert "warning: attachment targetWSDLURL of connection RESTCOUNTRIESEU is marked" in err
    assert json.loads((ARTIFACT / "connections.json").read_text())["attachments"] == []


def test_locked_attachment_retried_then_fails_naming_the_connection(
    country_info, oic_fixture_standin, capsys
) -> None:
    with_attachments(oic_fixture_standin)
    oic_fixture_standin.fault("/attachments/targetWSDLURL", "423", times=10)
    assert build(country_info, server=oic_fixture_standin) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert line.startswith(
        "error: attachment targetWSDLURL of connection RESTCOUNTRIESEU: HTTP 423"
    )
    assert "after 3 retries" in line
    assert_nothing_left()


def test_locked_attachment_once_is_waited_for(country_info, oic_fixture_standin) -> None:
    with_attachments(oic_fixture_standin)
    oic_fixture_standin.fault("/attachments/targetWSDLURL", "423")
    assert build(country_info, server=oic_fixture_standin) == 0
    assert (ARTIFACT / "connections/RESTCOUNTRIESEU/attachments/targetWSDLURL").is_file()


# -- the committed plan, checked the same way offline ------------------------------------------


@pytest.mark.parametrize("online", [False, True], ids=["offline", "online"])
@pytest.mark.parametrize(
    ("write", "said"),
    [
        (lambda p: p.symlink_to("/proc/self/environ"), "connection plan is a symlink to /proc/"),
        (lambda p: p.write_text("no equals sign here\n"), ":1: no '=' in this line"),
        (lambda p: p.write_text("X.other.Y=1\n"), "is not <CONNECTION_ID>.connection"),
        (
            lambda p: p.write_text("RESTCOUNTRIESEU.secure.Password=hunter2\n"),
            ":1: RESTCOUNTRIESEU.secure.Password holds a committed value for a secret",
        ),
        (lambda p: p.write_text("C.connection.x=\\u12\n"), "malformed \\u escape"),
    ],
    ids=["symlink-environ", "no-equals", "bad-key", "secret", "bad-escape"],
)
def test_bad_committed_plan_fails_in_every_mode(
    country_info, oic_fixture_standin, capsys, online, write, said
) -> None:
    plan = country_info.parent / "connectionPlan.properties"
    write(plan)
    extra = () if online else ("--manage-connections", "false")
    code = build(country_info, *extra, server=oic_fixture_standin)
    err = capsys.readouterr().err
    assert code == 1
    line = one_error(err)
    assert str(plan) in line and said in line
    assert "hunter2" not in err and "PATH=" not in err
    assert_nothing_left()
    assert oic_fixture_standin.total_requests == 0


def test_committed_plan_shipped_unchanged_offline(country_info, capsys) -> None:
    text = (
        "# prod\r\nRESTCOUNTRIESEU.secure.Username=svc_prod\r\nLOCAL_REST.connection.x=caf\xe9\r\n"
    )
    (country_info.parent / "connectionPlan.properties").write_bytes(text.encode("latin-1"))
    code = run_cli(
        "--integration-path", str(country_info), "--artifact-dir", "out",
        "--manage-connections", "false",
    )  # fmt: skip
    assert code == 0
    assert (ARTIFACT / "connectionPlan.properties").read_bytes() == text.encode("latin-1")
