"""Real OIC answers replayed through the real client, deploy and export code.

The cassettes are generated into tmp_path from the recorded answers in ../shared/fixtures/api
(tests/recorded_cassettes.py): bodies byte for byte, so what our code reads here is what a real
OIC sent. Played in record mode "none": any request the recording does not hold fails the test,
and every recorded exchange must be played.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any, Literal

import pytest
from recorded_cassettes import (
    BASE_URL,
    CASSETTES,
    COUNTRY,
    INSTANCE,
    INT001,
    JOSE,
    PROJECT,
    replayer,
    write_cassettes,
)
from standin_fixtures import fast_options

from oicaction.oic.auth import BasicAuth
from oicaction.oic.client import OicClient, api
from oicaction.oic.config import ServerConfig
from oicaction.report import Reporter

pytestmark = pytest.mark.usefixtures("fast_deploy")


@pytest.fixture
def cassettes(oic_api_dir: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "cassettes"
    write_cassettes(oic_api_dir, dest)
    return dest


@pytest.fixture
def client() -> Any:
    config = ServerConfig(
        base_url=BASE_URL,
        instance=INSTANCE,
        auth=BasicAuth("recorded-user", "not-a-secret"),
        project=None,
        max_workers=2,
        deadline=30.0,
        max_response_size=1 << 24,
        ca_bundle=None,
    )
    with OicClient(config, options=fast_options()) as oic:
        yield oic


@pytest.fixture
def reporter() -> tuple[Reporter, io.StringIO]:
    stream = io.StringIO()
    return Reporter(github=False, stream=stream), stream


def play(cassettes: Path, name: str) -> Any:
    return replayer(cassettes).use_cassette(f"{name}.yaml", allow_playback_repeats=False)


def steps_for(
    client: Any, reporter: Reporter, kind: Literal["integration", "project"] = "integration"
) -> Any:
    from oicaction.modes.deploy import timing
    from oicaction.modes.deploy.steps import Steps
    from oicaction.modes.deploy.unit import Unit

    unit = Unit(kind, INT001 if kind == "integration" else PROJECT, PROJECT, (INT001,))
    return Steps(client, unit, reporter, timing.DEFAULT_TIMING, activation_timeout=5)


def test_cassette_bodies_are_the_recorded_bytes(cassettes: Path, oic_api_dir: Path) -> None:
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    for name, exchanges in CASSETTES.items():
        text = (cassettes / f"{name}.yaml").read_text()
        _, responses = deserialize(text, yamlserializer)
        assert len(responses) == len(exchanges)
        for exchange, response in zip(exchanges, responses, strict=True):
            assert response["body"]["string"] == (oic_api_dir / exchange.body).read_bytes()


def test_oic3_activation_in_progress_then_the_recorded_status(
    cassettes: Path, client: Any, reporter: tuple[Reporter, io.StringIO]
) -> None:
    """The recorded PATCH answer says ACTIVATION_INPROGRESS, so deploy polls activationStatus
    (the recorded ACTIVATED) instead of taking the PATCH's answer as final."""
    rep, stream = reporter
    with play(cassettes, "activation") as cassette:
        steps_for(client, rep).set_status(INT001, "ACTIVATED")
    assert cassette.all_played and cassette.play_count == 2
    assert f"integration {INT001}: {INT001} is ACTIVATED" in stream.getvalue()


def test_the_recorded_project_import_answer(
    cassettes: Path, client: Any, reporter: tuple[Reporter, io.StringIO], tmp_path: Path
) -> None:
    """POST /projects/archive answered 200 with the project: added; the answer's shape gives
    the stamp deploy compares after a lost answer (state.updated.date)."""
    from oicaction.modes.deploy.target import stamp_of

    car = tmp_path / "LAB-DEVOPS.car"
    car.write_bytes(b"PK\x05\x06" + bytes(18))
    steps = steps_for(client, reporter[0], "project")
    with play(cassettes, "project-import") as cassette:
        action = steps.import_file(
            "import project", steps.unit.archive_collection(), car, exists=False
        )
    assert action == "added" and cassette.all_played
    with play(cassettes, "project-import"):
        answer = client.send("POST", api("projects", "archive"), "import", upload=car)
    assert answer.status == 200
    assert stamp_of(answer.json()) == "2026-09-17T19:23:49.872+0000"


def test_the_recorded_connection_test_answer_passes(
    cassettes: Path, client: Any, reporter: tuple[Reporter, io.StringIO], artifacts: Path
) -> None:
    """`{"status": "SUCCESS", ...}` with 200 is a passed test (the project-scoped path)."""
    from deploy_support import SLUG

    from oicaction.modes.deploy.bundle import read_bundle
    from oicaction.modes.deploy.context import Context, DeployOptions
    from oicaction.modes.deploy.sequence import Deployment
    from oicaction.modes.deploy.timing import DEFAULT_TIMING

    rep, stream = reporter
    ctx = Context(client, DeployOptions(project=PROJECT), rep, DEFAULT_TIMING, artifacts)
    deployment = Deployment(ctx, read_bundle(artifacts / SLUG, None), None)
    with play(cassettes, "connection-test") as cassette:
        deployment._test("BUCKET")
    assert cassette.all_played
    assert "connection BUCKET: test passed" in stream.getvalue()


def test_real_oic3_connection_through_the_build_export(cassettes: Path, client: Any) -> None:
    """The recorded OIC 3 GET, as the build's export fetches it: PASSWORD-typed values that
    came back as "*****" are removed, everything else kept."""
    from oicaction.oic.fetch_cache import ServerCache

    with play(cassettes, "connection-oic3") as cassette, ServerCache(client) as server:
        found, _ = server.fetch(["POB_OICTOOPA_INVOKE"])
    assert cassette.all_played
    clean = found["POB_OICTOOPA_INVOKE"]
    assert clean is not None
    props = {p["propertyName"]: p.get("propertyValue") for p in clean.data["connectionProperties"]}
    assert props["connectionType"] == "restUrl"
    assert set(clean.secrets_removed) == {"oauth.client.secret", "password"}


def test_real_oic3_connection_names_a_plan_for_an_offline_artifact(
    cassettes: Path, client: Any, reporter: tuple[Reporter, io.StringIO], tmp_path: Path
) -> None:
    """An artifact built offline has no connection.json: the target's own connection (here the
    real OIC 3 answer) maps each display name to OIC's propertyName, type and group."""
    from oicaction.artifact.plan import read_plan
    from oicaction.modes.deploy.connection_changes import map_connection
    from oicaction.modes.deploy.plan_values import resolve_plan

    plan_file = tmp_path / "plan.properties"
    plan_file.write_text(
        "POB_OICTOOPA_INVOKE.connection.Connection URL=https://prod.example/api\n"
        "POB_OICTOOPA_INVOKE.secure.Password=${OPA_PASSWORD}\n"
        "POB_OICTOOPA_INVOKE.secure.Client Secret=\n"
    )
    plan = resolve_plan(read_plan(plan_file), {"OPA_PASSWORD": "x-Secret-1"})
    steps = steps_for(client, reporter[0])
    steps.unit = type(steps.unit)("integration", INT001, None, (INT001,))
    with play(cassettes, "connection-oic3"):
        body = steps.connection("POB_OICTOOPA_INVOKE")
    update = map_connection("POB_OICTOOPA_INVOKE", plan.values, None, body)
    assert [v.entry.prop for v in update.left] == ["Client Secret"]  # empty: as on the target
    assert update.payload() == {
        "connectionProperties": [
            {"propertyName": "connectionUrl", "propertyValue": "https://prod.example/api",
             "propertyType": "URL", "propertyGroup": "CONNECTION_PROPS"},
        ],
        "securityProperties": [
            {"propertyName": "password", "propertyValue": "x-Secret-1",
             "propertyType": "PASSWORD", "propertyGroup": "CREDENTIALS"},
        ],
    }  # fmt: skip
    url, password = update.changes
    assert url.old is not None and url.old.startswith("https://opa-oic-teamoic3-")
    assert password.secret and password.describe() == "Password: (set)"


def test_real_gen2_export_run(
    cassettes: Path, client: Any, oic_api_dir: Path, tmp_path: Path
) -> None:
    """One Gen2 export run: both connections of COUNTRY_INFO, the plain-text 404 of a
    connection that is not there, and the archive streamed to disk with its sha256."""
    from oicaction.oic.fetch_cache import ServerCache

    with play(cassettes, "export-gen2") as cassette, ServerCache(client) as server:
        found, _ = server.fetch(["LOCAL_REST", "RESTCOUNTRIESEU", "SCHEDULE_RECEIVE"])
        out = tmp_path / "COUNTRY_INFO.iar"
        digest = client.download(api("integrations", COUNTRY, "archive"), "archive", out)
    assert cassette.all_played
    assert found["SCHEDULE_RECEIVE"] is None
    assert found["LOCAL_REST"] is not None and found["LOCAL_REST"].data["role"] == "SOURCE"
    rest = found["RESTCOUNTRIESEU"]
    assert rest is not None
    urls = [p.get("propertyValue") for p in rest.data["connectionProperties"]]
    assert "https://restcountries.eu/rest/v2/" in urls
    recorded = (oic_api_dir / JOSE / "COUNTRY_INFO_01.00.0000.iar").read_bytes()
    assert (
        digest
        == hashlib.sha256(recorded).hexdigest()
        == hashlib.sha256(out.read_bytes()).hexdigest()
    )
