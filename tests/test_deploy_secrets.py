"""Deploy secrets (issue 17): every value read for a `.secure.` line or through `${NAME}` is
masked before anything else is printed and reaches no sink (log, annotations, $GITHUB_OUTPUT,
the step summary, files); it reaches the target, and only the target."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from conftest import assert_no_leak, sinks
from deploy_support import COUNTRY, SLUG, artifact_sha256, old_version, write_plan
from oic_standin import StandIn
from runner_commands import commands

from oicaction.outputs import plain

PASSWORD = "Pl4nted-Deploy-Secret-91e0"
URL_KEY = "url-Key_(secret)!|7"  # Markdown and table signs: redacted before escaping
PLAN = (
    "RESTCOUNTRIESEU.connection.Connection URL=https://prod.example/v2/?key=${URL_KEY}",
    "RESTCOUNTRIESEU.secure.Password=${ERP_PASSWORD}",
)
SECRETS = (PASSWORD, URL_KEY)


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    """A runner's environment: workflow commands on stdout, a summary file, a temp dir of ours."""
    summary = tmp_path / "summary.md"
    summary.write_text("")
    scratch = tmp_path / "runner-temp"
    scratch.mkdir()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return {"summary": summary, "scratch": scratch}


def _no_sink_holds_them(tmp_path: Path, log: str) -> None:
    masked = [c.data for c in commands(log) if c.name == "add-mask"]
    for secret in SECRETS:
        assert secret in masked, f"{secret!r} was not masked"
        shown = [line for line in log.splitlines() if secret in line]
        assert all(line.startswith("::add-mask::") for line in shown), shown
        first_mask = log.index(f"::add-mask::{secret}")
        assert log.index("::add-mask::") <= first_mask < log.index("connected to")
        # as written, and as the summary's Markdown escaping would write it
        assert_no_leak(
            sinks(log, tmp_path), secret, plain(secret), plain(secret).replace("|", "\\|")
        )


def test_planted_values_reach_the_target_and_no_sink(
    deploy,
    target: StandIn,
    artifacts: Path,
    country_info: Path,
    github,
    tmp_path,
    capfd,
) -> None:
    plan = write_plan(tmp_path, *PLAN)
    env = {"ERP_PASSWORD": PASSWORD, "URL_KEY": URL_KEY}
    args = ("--connection-plan", str(plan))
    ok = deploy(target, artifacts, *args, env=env)
    assert ok.rc == 0
    dry = deploy(
        target,
        artifacts,
        *args,
        "--dry-run",
        "true",
        env=env,
    )
    assert dry.rc == 0
    assert "set connection RESTCOUNTRIESEU Password: (set)" in dry.one["changes"]
    assert "set connection RESTCOUNTRIESEU Connection URL: (set)" in dry.one["changes"]
    # a failure and its rollback say what happened, never the values
    target.integration(COUNTRY).archive = old_version(country_info)
    target.state.deploy.fail_activation[artifact_sha256(artifacts / SLUG)] = "cannot activate"
    failed = deploy(target, artifacts, *args, env=env)
    assert failed.rc == 1 and failed.one["status"] == "ROLLED_BACK"
    values = target.state.deploy.connection_values
    assert values[("RESTCOUNTRIESEU", "password")] == PASSWORD
    assert values[("RESTCOUNTRIESEU", "connectionUrl")] == f"https://prod.example/v2/?key={URL_KEY}"
    captured = capfd.readouterr()
    _no_sink_holds_them(tmp_path, captured.out + captured.err)
    assert list(github["scratch"].iterdir()) == []  # the run's temp folder is gone
    assert "oic-build deploy" in github["summary"].read_text()


def test_a_server_echoing_the_update_shows_no_secret(
    deploy, target: StandIn, artifacts: Path, github, tmp_path, capfd
) -> None:
    target.state.deploy.echo_updates = True
    plan = write_plan(tmp_path, *PLAN)
    env = {"ERP_PASSWORD": PASSWORD, "URL_KEY": URL_KEY}
    result = deploy(
        target,
        artifacts,
        "--connection-plan",
        str(plan),
        env=env,
    )
    assert result.rc == 1
    error = result.one["error"]
    assert error.startswith(
        f"integration {COUNTRY}: configure connection RESTCOUNTRIESEU: HTTP 400"
    )
    assert "***" in error
    captured = capfd.readouterr()
    _no_sink_holds_them(tmp_path, captured.out + captured.err)


def test_a_plain_line_for_a_secret_property_of_a_connection_the_import_made_is_masked(
    deploy, target: StandIn, artifacts: Path, github, monkeypatch, tmp_path, capfd
) -> None:
    """An artifact built offline (no connection.json) for a target that lacks the connection:
    its names come from the connection the import creates. A plain `.connection.` line for a
    property OIC types as secret is a secret then too, even when a server quotes it back."""
    import standin_state

    (artifacts / SLUG / "connections" / "RESTCOUNTRIESEU" / "connection.json").unlink()
    del target.state.connections["RESTCOUNTRIESEU"]
    created = {
        "id": "RESTCOUNTRIESEU",
        "status": "INPROGRESS",
        "connectionProperties": [
            {"displayName": "API Key", "propertyName": "apiKey", "propertyType": "PASSWORD"}
        ],
    }

    def create(routes: object, conn: str, project: str | None) -> None:
        target.state.connections.setdefault(conn, json.loads(json.dumps(created)))

    monkeypatch.setattr(standin_state.Routes, "_create_connection", create)
    target.state.deploy.echo_updates = True
    plan = write_plan(tmp_path, f"RESTCOUNTRIESEU.connection.API Key={PASSWORD}")
    result = deploy(
        target, artifacts, "--connection-plan", str(plan),
    )  # fmt: skip
    assert result.rc == 1
    assert "configure connection RESTCOUNTRIESEU: HTTP 400" in result.one["error"]
    log = "".join(capfd.readouterr())
    assert PASSWORD not in log.replace(f"::add-mask::{PASSWORD}", ""), result.one["error"]
    assert f"::add-mask::{PASSWORD}" in log
    assert PASSWORD not in json.dumps(result.outputs)
    assert PASSWORD not in github["summary"].read_text()
