"""mode: deploy of several artifacts: each deployed (at most max-workers at once), one failure
never stops the others, the exit is non-zero when any failed; one connection shared by two
artifacts is updated once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLE, run_cli
from deploy_support import COUNTRY, SLUG, renumbered, write_plan
from oic_standin import StandIn

HELLO = "HELLO_WORLD|01.00.0000"


@pytest.fixture
def two(artifacts: Path) -> Path:
    """COUNTRY_INFO (with its exported connections) and HELLO_WORLD (built offline)."""
    args = ["--integration-path", str(EXAMPLE), "--artifact-dir", str(artifacts)]
    assert run_cli(*args, "--manage-connections", "false") == 0
    return artifacts


@pytest.fixture
def both_target(target: StandIn) -> StandIn:
    target.add_connection("HELLO_REST_TRIGGER", {"id": "HELLO_REST_TRIGGER", "role": "SOURCE"})
    return target


def test_each_is_deployed_within_max_workers(deploy, both_target, two) -> None:
    both_target.state.delay = 0.02  # requests overlap when workers run side by side
    result = deploy(both_target, two, "--max-workers", "2")
    assert result.rc == 0
    assert [(e["id"], e["status"]) for e in result.deployed] == [
        (COUNTRY, "ACTIVATED"),
        (HELLO, "ACTIVATED"),
    ]
    assert "integration-id" not in result.outputs and "status" not in result.outputs
    assert 2 <= both_target.max_in_flight <= 2


def test_one_failure_does_not_stop_the_other(deploy, both_target, two) -> None:
    both_target.state.deploy.fail_activation[HELLO] = "cannot be activated"
    result = deploy(both_target, two)
    assert result.rc == 1
    by_id = {e["id"]: e for e in result.deployed}
    assert by_id[COUNTRY]["status"] == "ACTIVATED" and by_id[COUNTRY]["error"] is None
    assert by_id[HELLO]["status"] == "FAILED" and "cannot be activated" in by_id[HELLO]["error"]
    assert both_target.integration(COUNTRY).status == "ACTIVATED"


def test_a_broken_artifact_fails_alone(deploy, both_target, two) -> None:
    (two / "HELLO_WORLD_01.00.0000" / "build-info.json").write_text("{not json")
    result = deploy(both_target, two)
    assert result.rc == 1
    broken, good = sorted(result.deployed, key=lambda e: e["path"])[::-1]
    assert good["id"] == COUNTRY and good["status"] == "ACTIVATED"
    assert broken["id"] is None and "build-info.json: not JSON" in broken["error"]


def test_the_same_id_twice_is_refused(deploy, both_target, artifacts) -> None:
    shutil.copytree(artifacts / SLUG, artifacts / "copy")
    result = deploy(both_target, artifacts)
    assert result.rc == 1
    assert all("is in more than one artifact" in e["error"] for e in result.deployed)
    assert both_target.total_requests == 0


def test_a_shared_plan_serves_every_artifact(deploy, both_target, two, tmp_path) -> None:
    plan = write_plan(
        tmp_path,
        "RESTCOUNTRIESEU.connection.Connection URL=https://prod.example/",
        "HELLO_REST_TRIGGER.connection.Anything=x",
    )
    result = deploy(both_target, two, "--connection-plan", str(plan))
    # HELLO_WORLD was built offline: its connection's names come from the target, which has
    # no property "Anything"; COUNTRY_INFO, which does not use that connection, is not held up
    assert result.rc == 1
    by_id = {e["id"]: e for e in result.deployed}
    assert by_id[COUNTRY]["status"] == "ACTIVATED"
    assert (
        f"{plan}:2: connection HELLO_REST_TRIGGER has no property 'Anything'"
        in by_id[HELLO]["error"]
    )
    assert both_target.state.deploy.connection_values == {
        ("RESTCOUNTRIESEU", "connectionUrl"): "https://prod.example/"
    }


def test_a_connection_shared_by_two_artifacts_is_updated_once(
    deploy, target, artifacts, country_info, tmp_path
) -> None:
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "COUNTRY_INFO_02.00.0000.iar").write_bytes(renumbered(country_info, "02.00.0000"))
    args = ["--integration-path", str(v2), "--artifact-dir", str(artifacts)]
    assert run_cli(*args, "--manage-connections", "false") == 0
    plan = write_plan(tmp_path, "RESTCOUNTRIESEU.connection.Connection URL=https://prod.example/")
    result = deploy(
        target,
        artifacts,
        "--connection-plan",
        str(plan),
    )
    assert [(e["id"], e["error"]) for e in result.deployed] == [
        (COUNTRY, None),
        ("COUNTRY_INFO|02.00.0000", None),
    ]
    updates = [p for m, p in target.state.deploy.log if p == "connections/RESTCOUNTRIESEU"]
    assert len(updates) == 1
