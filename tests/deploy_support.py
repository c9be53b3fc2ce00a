"""Pytest plugin for the deploy tests: a built COUNTRY_INFO artifact (built against a source
stand-in, so it carries connection.json and a plan template), a target stand-in, fast polls,
and `deploy()` that runs the CLI and hands back its exit code and step outputs."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from oic_standin import StandIn
from runner_commands import read_output_file
from standin_fixtures import server_args

COUNTRY = "COUNTRY_INFO|01.00.0000"
SLUG = "COUNTRY_INFO_01.00.0000"
# RESTCOUNTRIESEU as a REST connection with basic auth: the recorded Gen2 body's connection
# properties (requiredFlag as recorded) and the securityProperties OIC gives BASIC_AUTH.
SECURE_REST: dict[str, Any] = {
    "id": "RESTCOUNTRIESEU",
    "securityPolicy": "BASIC_AUTH",
    "status": "CONFIGURED",
    "connectionProperties": [
        {
            "displayName": "Connection Type",
            "propertyGroup": "CONNECTION_PROPS",
            "propertyName": "connectionType",
            "propertyType": "CHOICE",
            "propertyValue": "restUrl",
            "requiredFlag": True,
        },
        {
            "displayName": "Connection URL",
            "propertyGroup": "CONNECTION_PROPS",
            "propertyName": "connectionUrl",
            "propertyType": "URL",
            "propertyValue": "https://restcountries.eu/rest/v2/",
            "requiredFlag": True,
        },
    ],
    "securityProperties": [
        {
            "displayName": "Username",
            "propertyGroup": "CREDENTIALS",
            "propertyName": "username",
            "propertyType": "STRING",
            "propertyValue": "source-user",
            "requiredFlag": True,
        },
        {
            "displayName": "Password",
            "propertyGroup": "CREDENTIALS",
            "propertyName": "password",
            "propertyType": "PASSWORD",
            "propertyValue": "*****",
            "requiredFlag": True,
        },
    ],
}
LOCAL_REST = {"id": "LOCAL_REST", "role": "SOURCE", "securityPolicy": "BASIC_AUTH"}


def target_connection(password_set: bool = True, url: str = "https://test.example/v2/") -> dict:
    """RESTCOUNTRIESEU as the target environment holds it (Password masked, or never set)."""
    body = copy.deepcopy(SECURE_REST)
    body["connectionProperties"][1]["propertyValue"] = url
    body["securityProperties"][0]["propertyValue"] = "test-user"
    body["securityProperties"][1]["propertyValue"] = "*****" if password_set else ""
    return body


@pytest.fixture
def fast_deploy(monkeypatch: pytest.MonkeyPatch, oic_fast_http: Any) -> None:
    from oicaction.modes.deploy import timing

    fast = timing.Timing(
        first_poll=0.01, poll_factor=1.5, max_poll=0.05, lock_tries=3, lock_wait=0.01
    )
    monkeypatch.setattr(timing, "DEFAULT_TIMING", fast)


@pytest.fixture
def artifacts(tmp_path: Path, country_info: Path, fast_deploy: None) -> Path:
    """`<tmp>/art/COUNTRY_INFO_01.00.0000/`, built with connections exported from a source."""
    art = tmp_path / "art"
    with StandIn() as source:
        source.add_connection("RESTCOUNTRIESEU", SECURE_REST)
        source.add_connection("LOCAL_REST", LOCAL_REST)
        args = ["--integration-path", str(country_info.parent), "--artifact-dir", str(art)]
        assert run_cli(*args, *server_args(source)) == 0
    return art


@pytest.fixture
def target() -> Iterator[StandIn]:
    """The target environment: its own RESTCOUNTRIESEU and LOCAL_REST, no integration yet."""
    with StandIn() as standin:
        standin.add_connection("RESTCOUNTRIESEU", target_connection())
        standin.add_connection("LOCAL_REST", LOCAL_REST)
        yield standin


@dataclass
class Deployed:
    rc: int
    outputs: dict[str, str]

    @property
    def deployed(self) -> list[dict[str, Any]]:
        return json.loads(self.outputs["deployed"])

    @property
    def one(self) -> dict[str, Any]:
        (entry,) = self.deployed
        return entry


@pytest.fixture
def deploy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Deployed]:
    """`deploy(target, artifact_path, *flags, env=)`: see run_deploy."""
    return functools.partial(run_deploy, monkeypatch=monkeypatch, tmp_path=tmp_path)


def run_deploy(
    target: StandIn,
    artifact_path: Path,
    *args: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str] | None = None,
) -> Deployed:
    """Run `oic-build deploy` against `target`; its step outputs read from $GITHUB_OUTPUT."""
    out = tmp_path / f"github_output_{len(list(tmp_path.glob('github_output_*')))}"
    out.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    rc = run_cli("deploy", "--artifact-path", str(artifact_path), *args, *server_args(target))
    return Deployed(rc, read_output_file(out.read_text()))


def old_version(iar: Path) -> bytes:
    """The same integration with one more file: what the target held before the deploy."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(iar) as src, zipfile.ZipFile(buffer, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        out.writestr(f"icspackage/project/{SLUG}/old-version.txt", "before the deploy\n")
    return buffer.getvalue()


def renumbered(iar: Path, version: str) -> bytes:
    """COUNTRY_INFO as another version (folder and <projectVersion> changed): another id."""
    import io
    import zipfile

    slug = f"COUNTRY_INFO_{version}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(iar) as src, zipfile.ZipFile(buffer, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("PROJECT-INF/project.xml"):
                data = data.replace(b">01.00.0000<", f">{version}<".encode())
            out.writestr(info.filename.replace(SLUG, slug), data)
    return buffer.getvalue()


def write_plan(tmp_path: Path, *lines: str) -> Path:
    plan = tmp_path / "plans" / "test.properties"
    plan.parent.mkdir(exist_ok=True)
    plan.write_text("\n".join(lines) + "\n")
    return plan


def artifact_sha256(folder: Path) -> str:
    return json.loads((folder / "build-info.json").read_text())["iar"]["sha256"]
