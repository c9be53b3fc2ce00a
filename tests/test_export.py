"""Whole builds against the OIC stand-in: what lands in the artifact, what each server fault
does to the build (survived, or one line and nothing left behind), and shared fetching."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest
from conftest import run_cli
from oic_standin import SAMPLE_LOOKUP, StandIn
from standin_fixtures import server_args

from oicaction.artifact.export import export_integration
from oicaction.pipeline import connect, load, produce
from oicaction.report import Reporter
from oicaction.settings import load_settings
from oicaction.source.metadata import Connection, IntegrationMeta

pytestmark = pytest.mark.usefixtures("oic_fast_http")

SLUG = "COUNTRY_INFO_01.00.0000"
ARTIFACT = Path("out") / SLUG
REST_PATH = "/connections/RESTCOUNTRIESEU"


def build(source: Path, standin: StandIn, *extra: str, auth: str = "oauth") -> int:
    return run_cli(
        "--integration-path",
        str(source),
        "--artifact-dir",
        "out",
        *server_args(standin, auth),
        "--json",
        *extra,
    )


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def assert_nothing_left() -> None:
    """No artifact, no staging folder: the artifact dir is gone or empty."""
    out = Path("out")
    assert not ARTIFACT.exists()
    assert (sorted(p.name for p in out.iterdir()) if out.exists() else []) == []


@pytest.fixture
def tree_source(tmp_path: Path, country_info: Path) -> Path:
    """COUNTRY_INFO unpacked as an icspackage/ tree, so tests can add lookups and more."""
    folder = tmp_path / "tree"
    with zipfile.ZipFile(country_info) as zf:
        zf.extractall(folder)
    return folder


def add_lookup(tree: Path, name: str) -> None:
    dvms = tree / "icspackage" / "dvms"
    dvms.mkdir(exist_ok=True)
    (dvms / f"{name}.dvm").write_text(f'<dvm name="{name}"/>\n')


def add_connection(tree: Path, code: str) -> None:
    app = tree / "icspackage" / "appinstances"
    text = (app / "LOCAL_REST.xml").read_text().replace("LOCAL_REST", code)
    (app / f"{code}.xml").write_text(text)


# -- the happy path ---------------------------------------------------------------------------


def test_end_to_end_country_info(country_info, oic_fixture_standin, capsys) -> None:
    assert build(country_info, oic_fixture_standin) == 0
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
        "project": None,
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
    assert build(country_info, oic_fixture_standin) == 0
    first = {p: p.read_bytes() for p in ARTIFACT.rglob("*.json") if p.name != "build-info.json"}
    assert build(country_info, oic_fixture_standin) == 0
    assert first == {p: p.read_bytes() for p in first}


def test_gen3_instance_and_basic_auth(country_info, oic_fixture_standin, capsys) -> None:
    oic_fixture_standin.state.instance = "team-oic3-fr"
    assert build(country_info, oic_fixture_standin, auth="basic") == 2  # before any connection
    said = error_lines(capsys.readouterr().err)[0]
    assert "InvalidParameter" in said and "check oic-url" in said and "oic-instance" in said
    args = ("--oic-instance", "team-oic3-fr")
    assert build(country_info, oic_fixture_standin, *args, auth="basic") == 0
    info = json.loads((ARTIFACT / "build-info.json").read_text())
    assert info["exported"]["instance"] == "team-oic3-fr"
    assert info["exported"]["auth"] == "basic"


def test_lookups_exported(tree_source, oic_fixture_standin, capsys) -> None:
    add_lookup(tree_source, "COUNTRY_CODES")
    oic_fixture_standin.add_lookup("COUNTRY_CODES", SAMPLE_LOOKUP)
    args = ("--manage-connections", "false", "--manage-lookups", "true")
    assert build(tree_source, oic_fixture_standin, *args) == 0
    assert (ARTIFACT / "lookups/COUNTRY_CODES.csv").read_bytes() == SAMPLE_LOOKUP
    assert not (ARTIFACT / "connections.json").exists()
    assert oic_fixture_standin.connection_gets("RESTCOUNTRIESEU") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["connections-file"] == ""


def test_missing_lookup_fails(tree_source, oic_fixture_standin, capsys) -> None:
    add_lookup(tree_source, "NOT_THERE")
    assert build(tree_source, oic_fixture_standin) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert "lookup NOT_THERE used by integration COUNTRY_INFO|01.00.0000 was not found" in line
    assert_nothing_left()


# -- faults the build survives --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["429", "503", "reset", "slow", "401"])
def test_transient_fault_survived(country_info, oic_fixture_standin, capsys, kind) -> None:
    oic_fixture_standin.fault(REST_PATH, kind, seconds=0.6 if kind == "slow" else 0)
    assert build(country_info, oic_fixture_standin) == 0
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
    assert build(country_info, oic_fixture_standin) == 1
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
    assert build(country_info, oic_fixture_standin) == 1
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
    assert build(country_info, oic_fixture_standin) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert (
        "connection RESTCOUNTRIESEU used by integration COUNTRY_INFO|01.00.0000 was not found"
        in line
    )
    assert "missing-connections: warn" in line
    assert_nothing_left()


def test_missing_connection_can_be_a_warning(country_info, oic_fixture_standin, capsys) -> None:
    del oic_fixture_standin.state.connections["RESTCOUNTRIESEU"]
    assert build(country_info, oic_fixture_standin, "--missing-connections", "warn") == 0
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
    assert build(tree_source, oic_fixture_standin) == 0
    assert f"connection {code} of COUNTRY_INFO|01.00.0000 is managed by OIC" in (
        capsys.readouterr().err
    )
    info = json.loads((ARTIFACT / "build-info.json").read_text())
    assert info["exported"]["skipped"] == [code]
    assert code not in (ARTIFACT / "connectionPlan.properties").read_text()


def test_oic_managed_connection_served_is_kept_out_of_the_plan(
    tree_source, oic_fixture_standin, capsys
) -> None:
    add_connection(tree_source, "APPLICATION_EVENT_CONNECTION")
    oic_fixture_standin.add_connection(
        "APPLICATION_EVENT_CONNECTION", {"id": "APPLICATION_EVENT_CONNECTION", "role": "SOURCE"}
    )
    assert build(tree_source, oic_fixture_standin) == 0
    assert (ARTIFACT / "connections/APPLICATION_EVENT_CONNECTION/connection.json").is_file()
    plan = (ARTIFACT / "connectionPlan.properties").read_text()
    assert "APPLICATION_EVENT_CONNECTION" not in plan and "RESTCOUNTRIESEU." in plan


def test_schedule_connection_is_no_longer_special(tree_source, oic_fixture_standin, capsys):
    """The SCHEDULE_* rule rested on a legacy /icsapis answer; no real archive lists one."""
    add_connection(tree_source, "SCHEDULE_RECEIVE")
    assert build(tree_source, oic_fixture_standin) == 1
    assert "connection SCHEDULE_RECEIVE used by integration" in capsys.readouterr().err


# -- connection plans from the source -----------------------------------------------------------


def test_malformed_plan_fails_before_any_request(country_info, oic_fixture_standin, capsys):
    plan = country_info.parent / "connectionPlan.properties"
    plan.write_text("RESTCOUNTRIESEU.connection.Connection URL=https://x\nbroken line\n")
    assert build(country_info, oic_fixture_standin) == 1
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
    assert build(country_info, oic_fixture_standin) == 0
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
            export_integration(cache, settings, m, stage, reporter)
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
            produce(settings, load(settings, tree_source, reporter), reporter, server)
    assert oic_fixture_standin.token_requests == 1
    assert oic_fixture_standin.connection_gets("RESTCOUNTRIESEU") == 1
