"""mode: deploy, one integration: the build -> deploy round trip, plan values mapped through
connection.json, replace with quiesce, dry run, failures before any write, locks, the 5xx after
an import, activation failures and the rollback (issue 17)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from deploy_support import (
    COUNTRY,
    SLUG,
    artifact_sha256,
    old_version,
    target_connection,
    write_plan,
)
from oic_standin import StandIn


@pytest.fixture
def old(country_info: Path) -> bytes:
    return old_version(country_info)


@pytest.fixture
def run(target: StandIn, artifacts: Path, deploy):
    def go(*args: str, env: dict[str, str] | None = None, path: Path | None = None):
        return deploy(target, path or artifacts, *args, env=env)

    return go


PLAN = (
    "RESTCOUNTRIESEU.connection.Connection URL=https://prod.example/v2/",
    "RESTCOUNTRIESEU.secure.Username=${ERP_USER}",
    "RESTCOUNTRIESEU.secure.Password=${ERP_PASSWORD}",
)
ENV = {"ERP_USER": "prod-user", "ERP_PASSWORD": "Prod-Pa55word-7d1c"}


def test_build_then_deploy_round_trip(target, artifacts, run, tmp_path) -> None:
    plan = write_plan(tmp_path, *PLAN)
    result = run("--connection-plan", str(plan), env=ENV)
    assert result.rc == 0
    entry = result.one
    assert (entry["id"], entry["kind"], entry["action"]) == (COUNTRY, "integration", "added")
    assert (entry["status"], entry["previous-status"], entry["error"]) == ("ACTIVATED", None, None)
    assert (result.outputs["integration-id"], result.outputs["status"]) == (COUNTRY, "ACTIVATED")
    # the archive the target received is the artifact's, byte for byte
    item = target.integration(COUNTRY)
    assert item is not None and item.status == "ACTIVATED" and item.tracing is False
    assert hashlib.sha256(item.archive).hexdigest() == artifact_sha256(artifacts / SLUG)
    assert [r for r in target.state.deploy.received if r[0] == "integration"] == [
        ("integration", COUNTRY, artifact_sha256(artifacts / SLUG))
    ]
    # display names mapped to property names through the artifact's connection.json
    values = target.state.deploy.connection_values
    assert values[("RESTCOUNTRIESEU", "connectionUrl")] == "https://prod.example/v2/"
    assert values[("RESTCOUNTRIESEU", "username")] == "prod-user"
    assert values[("RESTCOUNTRIESEU", "password")] == ENV["ERP_PASSWORD"]
    assert [m for m, p in target.state.deploy.log] == ["POST"] * 5
    assert [p for m, p in target.state.deploy.log] == [
        "integrations/archive",
        "connections/RESTCOUNTRIESEU",
        "connections/LOCAL_REST/test",
        "connections/RESTCOUNTRIESEU/test",
        f"integrations/{COUNTRY}",
    ]


def test_connection_update_carries_only_the_plan_properties(target, run, tmp_path) -> None:
    plan = write_plan(tmp_path, "RESTCOUNTRIESEU.connection.Connection URL=https://a.example/")
    assert run("--connection-plan", str(plan)).rc == 0
    conn = target.state.connections["RESTCOUNTRIESEU"]
    urls = [p["propertyValue"] for p in conn["connectionProperties"]]
    assert urls == ["restUrl", "https://a.example/"]
    assert conn["securityProperties"][1]["propertyValue"] == "*****"  # untouched, still set
    assert ("RESTCOUNTRIESEU", "username") not in target.state.deploy.connection_values


def test_empty_value_leaves_the_target_as_it_is(target, run, tmp_path) -> None:
    plan = write_plan(
        tmp_path, "RESTCOUNTRIESEU.secure.Password=", "RESTCOUNTRIESEU.secure.Username="
    )
    result = run("--connection-plan", str(plan))
    assert result.rc == 0
    assert target.state.deploy.connection_values == {}
    assert "keep connection RESTCOUNTRIESEU Password as it is" in result.one["changes"]


def test_replace_deactivates_first_and_restarts_the_schedule(old, target, run, tmp_path) -> None:
    target.add_integration(COUNTRY, old, status="ACTIVATED", schedule="STARTED")
    target.state.deploy.activation_seconds = 0.05  # OIC 3: asynchronous (de)activation
    result = run(
        "--connection-plan", str(write_plan(tmp_path, PLAN[0])), "--enable-tracing", "true"
    )
    assert result.rc == 0
    entry = result.one
    assert (entry["action"], entry["status"], entry["previous-status"]) == (
        "replaced",
        "ACTIVATED",
        "ACTIVATED",
    )
    item = target.integration(COUNTRY)
    assert item.status == "ACTIVATED" and item.schedule == "STARTED" and item.tracing is True
    assert [p for _, p in target.state.deploy.log] == [
        f"integrations/{COUNTRY}/schedule/stop",
        f"integrations/{COUNTRY}",  # deactivate
        "integrations/archive",  # PUT: replace
        "connections/RESTCOUNTRIESEU",
        "connections/LOCAL_REST/test",
        "connections/RESTCOUNTRIESEU/test",
        f"integrations/{COUNTRY}",  # activate
        f"integrations/{COUNTRY}/schedule/start",
    ]
    assert target.state.deploy.log[2] == ("PUT", "integrations/archive")
    assert (
        target.count(
            "GET", f"/ic/api/integration/v1/integrations/{COUNTRY.replace('|', '%7C')}/archive"
        )
        == 1
    )


def test_dry_run_changes_nothing(old, target, run, tmp_path, capsys) -> None:
    target.add_integration(COUNTRY, old, status="ACTIVATED")
    plan = write_plan(tmp_path, *PLAN)
    result = run("--connection-plan", str(plan), "--dry-run", "true", env=ENV)
    assert result.rc == 0
    assert target.writes == 0, target.state.counts
    item = target.integration(COUNTRY)
    assert (item.status, item.archive) == ("ACTIVATED", old)
    entry = result.one
    assert (entry["status"], entry["action"], entry["previous-status"]) == (
        "PLANNED",
        "replaced",
        "ACTIVATED",
    )
    changes = entry["changes"]
    assert f"deactivate {COUNTRY} first" in changes
    assert (
        "set connection RESTCOUNTRIESEU Connection URL: 'https://test.example/v2/' -> "
        "'https://prod.example/v2/'" in changes
    )
    assert "set connection RESTCOUNTRIESEU Password: (set)" in changes
    assert "set connection RESTCOUNTRIESEU Username: (set)" in changes  # through ${ERP_USER}
    assert f"activate {COUNTRY} (tracing off)" in changes
    log = capsys.readouterr().err
    assert "would set connection RESTCOUNTRIESEU Password: (set)" in log
    assert ENV["ERP_PASSWORD"] not in log and ENV["ERP_PASSWORD"] not in json.dumps(changes)


def test_replace_false_refuses_an_existing_integration(old, target, run) -> None:
    target.add_integration(COUNTRY, old)
    result = run("--replace", "false")
    assert result.rc == 1
    assert "already there, and replace is false" in result.one["error"]
    assert target.writes == 0


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("RESTCOUNTRIESEU.connection.Conection URL=x", "has no property 'Conection URL'"),
        ("RESTCOUNTRIESEU.connection.Password=x", "it is in securityProperties"),
        ("NOT_USED.connection.Connection URL=x", "connection NOT_USED is not used"),
        ("PRESEEDED_COLLOCATED_CONN_1.connection.X=y", "managed by OIC itself"),
        ("RESTCOUNTRIESEU.secure.Password=%%ERP_PASSWORD%%", "placeholder that deploy does not"),
    ],
)
def test_plan_problems_fail_before_any_write(target, run, tmp_path, line, why) -> None:
    plan = write_plan(tmp_path, "# prod", line)
    result = run("--connection-plan", str(plan))
    assert result.rc == 1
    assert why in result.one["error"]
    assert f"{plan}:2" in result.one["error"]
    assert target.writes == 0


def test_unresolved_reference_names_line_and_variable(target, run, tmp_path) -> None:
    plan = write_plan(tmp_path, *PLAN)
    result = run("--connection-plan", str(plan), env={"ERP_USER": "u"})
    assert result.rc == 2
    error = result.one["error"]
    assert f"{plan}:3" in error and "${ERP_PASSWORD}" in error and "not set or empty" in error
    assert target.total_requests == 0  # nothing read from the server either


def test_dotenv_supplies_references(target, run, tmp_path) -> None:
    (Path.cwd() / ".env").write_text("ERP_PASSWORD=from-dotenv-4f2a\nERP_USER=${HOME}\n")
    plan = write_plan(tmp_path, *PLAN)
    assert run("--connection-plan", str(plan)).rc == 0
    values = target.state.deploy.connection_values
    assert values[("RESTCOUNTRIESEU", "password")] == "from-dotenv-4f2a"
    assert values[("RESTCOUNTRIESEU", "username")] == "${HOME}"  # .env values are literal


def test_tampered_archive_is_refused_before_contact(target, artifacts, run) -> None:
    iar = artifacts / SLUG / f"{SLUG}.iar"
    iar.write_bytes(iar.read_bytes() + b"\0")
    result = run()
    assert result.rc == 1
    assert (
        f"{iar}: sha256" in result.one["error"] and "changed after the build" in result.one["error"]
    )
    assert target.total_requests == 0


def with_lookups(artifacts: Path, *names: str) -> Path:
    """The artifact now ships lookups `names` (build-info.json lists them, each a CSV of its
    own name, DVM,<NAME>,x); its lookups/ folder."""
    info = artifacts / SLUG / "build-info.json"
    record = json.loads(info.read_text())
    record["lookups"] = list(names)
    info.write_text(json.dumps(record))
    folder = artifacts / SLUG / "lookups"
    folder.mkdir()
    for name in names:
        (folder / f"{name}.csv").write_text(f"DVM,{name},x\nA,B\n")
    return folder


def test_lookup_whose_first_line_names_another_is_refused(target, artifacts, run) -> None:
    csv = with_lookups(artifacts, "COUNTRY_CODES") / "COUNTRY_CODES.csv"
    csv.write_text("DVM,CURRENCIES,Currencies\nA,B\n")
    result = run()
    assert result.rc == 1
    assert f"{csv}: holds lookup 'CURRENCIES', not 'COUNTRY_CODES'" in result.one["error"]
    assert target.total_requests == 0


def test_lookups_are_imported_and_replaced(old, target, artifacts, run) -> None:
    with_lookups(artifacts, "COUNTRY_CODES", "CURRENCIES")
    target.add_lookup("CURRENCIES", b"DVM,CURRENCIES,old\n")
    assert run().rc == 0
    assert target.state.lookups["COUNTRY_CODES"] == b"DVM,COUNTRY_CODES,x\nA,B\n"
    assert target.state.lookups["CURRENCIES"] == b"DVM,CURRENCIES,x\nA,B\n"
    assert ("POST", "lookups/archive") in target.state.deploy.log
    assert ("PUT", "lookups/archive") in target.state.deploy.log  # it was there: replaced


def test_a_5xx_on_a_lookup_the_target_had_is_not_taken_for_done(
    target, artifacts, run, capsys
) -> None:
    """The lookup was there before: that it is there after a 500 proves nothing, so its
    content on the target has to be ours, or the deploy fails."""
    with_lookups(artifacts, "CURRENCIES")
    target.add_lookup("CURRENCIES", b"DVM,CURRENCIES,old\n")
    target.fault("/lookups/archive", "oic-error")  # 500, nothing applied
    assert run().rc == 0
    # its export still read the old content, so it was sent once more (and applied)
    assert "import lookup CURRENCIES: HTTP 500" in capsys.readouterr().err
    assert target.state.lookups["CURRENCIES"] == b"DVM,CURRENCIES,x\nA,B\n"


def test_dry_run_says_whether_a_lookup_is_added_or_replaced(target, artifacts, run) -> None:
    with_lookups(artifacts, "COUNTRY_CODES", "CURRENCIES")
    target.add_lookup("CURRENCIES", b"DVM,CURRENCIES,old\n")
    result = run("--dry-run", "true")
    assert result.rc == 0 and target.writes == 0
    changes = result.one["changes"]
    assert "add lookup COUNTRY_CODES" in changes and "replace lookup CURRENCIES" in changes


def test_attachments_are_uploaded(target, artifacts, run) -> None:
    folder = artifacts / SLUG / "connections" / "RESTCOUNTRIESEU" / "attachments"
    folder.mkdir(parents=True)
    (folder / "targetWSDLURL").write_bytes(b"<definitions/>\n")
    result = run("--dry-run", "true")
    assert (
        "upload attachment targetWSDLURL of connection RESTCOUNTRIESEU (15 bytes)"
        in (result.one["changes"])
    )
    assert run().rc == 0
    received = target.state.deploy.attachments_received
    assert received == {("RESTCOUNTRIESEU", "targetWSDLURL"): b"<definitions/>\n"}


def test_oic_managed_connections_are_never_touched(target, artifacts, run) -> None:
    info = artifacts / SLUG / "build-info.json"
    record = json.loads(info.read_text())
    record["connections"].append({"code": "APPLICATION_EVENT_CONNECTION", "adapter": None})
    info.write_text(json.dumps(record))
    assert run().rc == 0
    touched = [path for (_, path) in target.state.counts if "APPLICATION_EVENT" in path]
    assert touched == []


def test_locked_integration_is_waited_for(old, target, run) -> None:
    target.add_integration(COUNTRY, old).locked_reads = 2
    assert run().rc == 0
    assert target.integration(COUNTRY).status == "ACTIVATED"


def test_integration_locked_for_good_is_an_error_before_any_write(old, target, run) -> None:
    target.add_integration(COUNTRY, old).locked_reads = 100
    result = run()
    assert result.rc == 1
    error = result.one["error"]
    assert error.startswith(f"integration {COUNTRY}: look at the target: ")
    assert "locked (open in the designer?)" in error
    assert target.writes == 0


def test_lock_on_a_write_is_waited_for(old, target, run) -> None:
    path = f"/integrations/{COUNTRY.replace('|', '%7C')}"
    target.add_integration(COUNTRY, old, status="ACTIVATED")
    target.fault(path, "423", times=2)  # the first GET and the deactivation each see a lock
    assert run().rc == 0


def test_an_import_answered_409_is_sent_as_a_replace(old, target, run) -> None:
    """The target read said absent (a 404 here), the import says it exists: PUT, once."""
    target.add_integration(COUNTRY, old)
    target.fault(f"/integrations/{COUNTRY.replace('|', '%7C')}", "404")
    result = run("--rollback", "false")
    assert result.rc == 0
    assert [e for e in target.state.deploy.log if e[1] == "integrations/archive"] == [
        ("POST", "integrations/archive"),
        ("PUT", "integrations/archive"),
    ]
    assert result.one["action"] == "replaced"
    assert target.integration(COUNTRY).archive != old


def test_an_import_answered_409_with_replace_false_is_an_error(old, target, run) -> None:
    target.add_integration(COUNTRY, old)
    target.fault(f"/integrations/{COUNTRY.replace('|', '%7C')}", "404")
    result = run("--replace", "false", "--rollback", "false")
    assert result.rc == 1
    assert "import integration: already on the target, and replace is false" in result.one["error"]
    assert target.integration(COUNTRY).archive == old


def test_a_5xx_after_the_import_reads_the_state_and_goes_on(target, run, capsys) -> None:
    target.state.deploy.fail_after_import = 1
    assert run().rc == 0
    assert target.count("POST", "/ic/api/integration/v1/integrations/archive") == 1  # not resent
    assert "it took all the same" in capsys.readouterr().err


def test_a_5xx_on_a_replace_that_did_not_take_is_sent_once_more(old, target, run) -> None:
    item = target.add_integration(COUNTRY, old)
    target.fault("/integrations/archive", "oic-error")  # 500 before anything is applied
    assert run().rc == 0
    assert target.count("PUT", "/ic/api/integration/v1/integrations/archive") == 2
    assert item.archive != old


def test_a_replace_whose_resend_may_have_taken_is_rolled_back_by_re_import(
    old, target, run
) -> None:
    item = target.add_integration(COUNTRY, old, status="ACTIVATED")
    target.fault("/integrations/archive", "oic-error")  # the first PUT: not applied
    target.state.deploy.fail_after_import = 1  # the one sent again: applied, then a 500
    result = run()
    assert result.rc == 1 and result.one["status"] == "ROLLED_BACK"
    assert "did re-import the archive it had before" in result.one["error"]
    assert item.archive == old and item.status == "ACTIVATED"


def test_a_cut_connection_on_an_import_reads_the_state_then_sends_once_more(
    target, run, capsys
) -> None:
    target.fault("/integrations/archive", "reset")  # no answer, and nothing was applied
    assert run().rc == 0
    assert target.count("POST", "/ic/api/integration/v1/integrations/archive") == 2
    assert "it did not take: once more" in capsys.readouterr().err


def test_a_5xx_after_an_activation_reads_its_status_and_polls(target, run, capsys) -> None:
    target.state.deploy.activation_seconds = 0.05
    target.state.deploy.fail_after_status = 1
    assert run().rc == 0
    activations = [e for e in target.state.deploy.log if e[1] == f"integrations/{COUNTRY}"]
    assert activations == [("POST", f"integrations/{COUNTRY}")]  # not sent again
    assert target.integration(COUNTRY).status == "ACTIVATED"
    assert "HTTP 502: Bad Gateway: The activation request timed out" in capsys.readouterr().err


def test_failed_activation_rolls_back(old, target, artifacts, run, tmp_path) -> None:
    target.add_integration(COUNTRY, old, status="ACTIVATED", schedule="STARTED")
    target.state.deploy.activation_seconds = 0.02
    target.state.deploy.fail_activation[artifact_sha256(artifacts / SLUG)] = (
        "<br> Integration COUNTRY_INFO(1.0) cannot be activated.<br> Connection RESTCOUNTRIESEU "
        "is not configured."
    )
    plan = write_plan(tmp_path, PLAN[0])
    result = run("--connection-plan", str(plan))
    assert result.rc == 1
    entry = result.one
    assert entry["status"] == "ROLLED_BACK"
    error = entry["error"]
    assert error.startswith(f"integration {COUNTRY}: activate: {COUNTRY}: FAILEDACTIVATION: ")
    assert "Integration COUNTRY_INFO(1.0) cannot be activated. Connection RESTCOUNTRIESEU" in error
    assert "rollback: " in error and "did re-import the archive it had before" in error
    assert f"did re-activate {COUNTRY}" in error
    assert f"did restart the schedule of {COUNTRY}" in error
    assert "connection changes are not undone" in error and "RESTCOUNTRIESEU" in error
    assert "could not" not in error
    # the target is as it was: the old archive, active, its schedule running
    item = target.integration(COUNTRY)
    assert (item.archive, item.status, item.schedule) == (old, "ACTIVATED", "STARTED")


def test_a_rollback_says_the_lookups_it_does_not_undo(old, target, artifacts, run) -> None:
    with_lookups(artifacts, "CURRENCIES")
    target.add_lookup("CURRENCIES", b"DVM,CURRENCIES,old\n")
    target.add_integration(COUNTRY, old, status="ACTIVATED")
    target.state.deploy.fail_activation[artifact_sha256(artifacts / SLUG)] = "cannot activate"
    result = run()
    assert result.rc == 1 and result.one["status"] == "ROLLED_BACK"
    assert target.state.lookups["CURRENCIES"] == b"DVM,CURRENCIES,x\nA,B\n"  # not undone...
    assert "lookups imported are not undone: CURRENCIES" in result.one["error"]  # ...and said


def test_a_deactivation_that_fails_half_way_is_said(old, target, run) -> None:
    """The deactivation was asked for and did not finish in time: the target may end up
    deactivated, so the error says the deploy changed it."""
    target.add_integration(COUNTRY, old, status="ACTIVATED")
    target.state.deploy.activation_seconds = 30
    result = run("--activation-timeout", "0.2", "--rollback", "false")
    assert result.rc == 1
    error = result.one["error"]
    assert "deactivate: " in error and "still DEACTIVATION_INPROGRESS" in error
    assert error.endswith(f"this deploy changed: deactivated {COUNTRY}")


def test_failed_activation_of_a_new_integration_says_it_stays(target, run) -> None:
    target.state.deploy.fail_activation[COUNTRY] = "cannot be activated"
    result = run()
    assert result.rc == 1
    entry = result.one
    assert entry["status"] == "FAILED"
    assert "was not on the target before; it stays there, not activated" in entry["error"]


def test_no_rollback_when_asked(old, target, run) -> None:
    target.add_integration(COUNTRY, old, status="ACTIVATED")
    target.state.deploy.fail_activation[COUNTRY] = "cannot be activated"
    result = run("--rollback", "false")
    assert result.rc == 1
    error = result.one["error"]
    assert result.one["status"] == "FAILED" and "rollback: " not in error
    assert target.integration(COUNTRY).archive != old
    # left as it is, so the error says exactly what this deploy changed
    assert error.endswith(
        f"; left as it is (rollback is false), this deploy changed: deactivated {COUNTRY}; "
        f"imported integration {COUNTRY}; set values of connection RESTCOUNTRIESEU; "
        f"asked to activate {COUNTRY}"
    )


def test_connection_not_configured_names_the_plan_lines_it_lacks(
    target, artifacts, run, tmp_path
) -> None:
    target.add_connection("RESTCOUNTRIESEU", target_connection(password_set=False))
    plan = write_plan(tmp_path, PLAN[0], "RESTCOUNTRIESEU.secure.Password=")
    result = run("--connection-plan", str(plan))
    assert result.rc == 1
    error = result.one["error"]
    assert error.startswith(
        f"integration {COUNTRY}: test connection RESTCOUNTRIESEU: not configured"
    )
    assert f"{plan}:2 RESTCOUNTRIESEU.secure.Password is empty" in error
    assert run("--connection-plan", str(plan), "--test-connections", "false").rc == 0


def test_missing_connection_with_nothing_to_set_is_an_error(
    deploy, artifacts, tmp_path, capsys
) -> None:
    plan = write_plan(tmp_path, "# nothing for this environment yet")
    with StandIn() as empty:
        result = deploy(
            empty,
            artifacts,
            "--connection-plan",
            str(plan),
        )
        assert result.rc == 1
        assert "connection RESTCOUNTRIESEU is not on the target" in result.one["error"]
        assert "missing-connections: warn" in result.one["error"]
        assert empty.writes == 0
        warn = ("--missing-connections", "warn", "--test-connections", "false")
        result = deploy(
            empty,
            artifacts,
            "--connection-plan",
            str(plan),
            *warn,
        )
        assert result.rc == 0
        assert (
            "warning: integration COUNTRY_INFO|01.00.0000: connection RESTCOUNTRIESEU is not"
            in (capsys.readouterr().err)
        )


def test_activation_timeout(target, run) -> None:
    target.state.deploy.activation_seconds = 30
    result = run("--activation-timeout", "0.2", "--rollback", "false")
    assert result.rc == 1
    assert "is still ACTIVATION_INPROGRESS after 0.2 s (activation-timeout)" in result.one["error"]


def test_activate_false_leaves_it_configured(target, run) -> None:
    result = run("--activate", "false")
    assert result.rc == 0 and result.one["status"] == "CONFIGURED"
    assert target.integration(COUNTRY).status == "CONFIGURED"


def test_not_an_artifact_path(target, run, tmp_path) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    result = run(path=empty)
    assert result.rc == 2 and result.outputs == {}


def test_not_configured_connection_says_where_to_set_it(target, artifacts, run, tmp_path) -> None:
    """A connection OIC calls "not configured" that the plan says nothing about: the error names
    the plan file and the lines to add; one that lists no property: configure it in OIC."""
    incomplete = target_connection()
    incomplete["status"] = "INPROGRESS"  # OIC's own verdict, no property marked required
    for prop in incomplete["connectionProperties"] + incomplete["securityProperties"]:
        prop["requiredFlag"] = False
    target.add_connection("RESTCOUNTRIESEU", incomplete)
    plan = write_plan(tmp_path, "# nothing for this environment yet")
    result = run("--connection-plan", str(plan))
    assert result.rc == 1
    assert (
        "test connection RESTCOUNTRIESEU: not configured (Conflict: Connection RESTCOUNTRIESEU "
        f"is not configured (o:errorCode OIC-409)); {plan} has no line for it: add its "
        "RESTCOUNTRIESEU.connection.<name>= / RESTCOUNTRIESEU.secure.<name>= lines"
    ) in result.one["error"]

    bare = {k: v for k, v in incomplete.items() if not k.endswith("Properties")}
    target.add_connection("RESTCOUNTRIESEU", bare)
    error = run("--connection-plan", str(plan)).one["error"]
    assert (
        "test connection RESTCOUNTRIESEU: not configured (Conflict: Connection RESTCOUNTRIESEU "
        "is not configured (o:errorCode OIC-409)); OIC lists no property a plan could set for "
        "it: configure it in OIC"
    ) in error


def test_artifact_path_missing_or_empty_is_a_settings_error_naming_it(
    target, run, tmp_path, capsys
) -> None:
    """A wrong artifact-path is the user's setting at fault (exit 2, naming the input), nothing
    sent; the same for a path that does not exist, a file and a folder without artifacts."""
    capsys.readouterr()
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    for name, what in [
        ("nope", "does not exist"),
        ("file", "is not a folder"),
        ("empty", "holds no artifact"),
    ]:
        assert run(path=tmp_path / name).rc == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines[-1].startswith(f"error: artifact-path {tmp_path / name} {what}"), lines
    assert target.writes == 0
