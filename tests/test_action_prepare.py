"""action/prepare.sh, action.yml's first step, run for real with bash: which way it decides, and
the container action it writes. With a real image (`pytest -m container`): found here, or
refused when it is not oic-build's; act runs the whole prebuilt path (tests/workflows/prebuilt.yml,
tests/test_container_act.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO
from container_fixtures import BASE_IMAGE, RUN_ID, docker

from oicaction.settings import Settings, input_name

PREPARE = REPO / "action" / "prepare.sh"
GENERATED = Path(".github/.tmp/.generated-actions")
INPUTS = " ".join(input_name(n) for n in Settings.model_fields)


def prepare(
    workspace: Path, *, repo: str = "", ref: str = "", path: str | None = None, **env: str
) -> tuple[dict[str, str], str]:
    """Run prepare.sh as action.yml does; return its $GITHUB_OUTPUT values and its log."""
    output = workspace / "github_output"
    output.write_text("")
    environ = {
        "PATH": path if path is not None else os.environ["PATH"],
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(output),
        "OIC_ACTION_REPOSITORY": repo,
        "OIC_ACTION_REF": ref,
        "OIC_ACTION_PATH": str(REPO),
        "OIC_ACTION_INPUTS": INPUTS,
        **env,
    }
    bash = shutil.which("bash") or "/bin/bash"
    done = subprocess.run(
        [bash, str(PREPARE)], cwd=workspace, env=environ, capture_output=True, text=True, check=True
    )
    values = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return values, done.stdout


def test_local_path_builds_the_dockerfile(tmp_path: Path) -> None:
    values, log = prepare(tmp_path)
    assert values == {"use": "dockerfile", "image": ""}
    assert "building the image from the Dockerfile: the action runs from a local path" in log
    generated = tmp_path / GENERATED / "oic-build-dockerfile"
    action = json.loads((generated / "action.yml").read_text())  # JSON is YAML
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}
    assert list(action["inputs"]) == INPUTS.split()
    assert (generated / "Dockerfile").read_text() == (REPO / "Dockerfile").read_text()
    assert (generated / "oicaction" / "settings.py").is_file()
    assert not list(generated.rglob("__pycache__"))
    # A second run (another step, or a parallel job sharing the workspace) keeps it as it is.
    before = (generated / "action.yml").stat().st_ino
    prepare(tmp_path)
    assert (generated / "action.yml").stat().st_ino == before
    assert sorted(p.name for p in (tmp_path / GENERATED).iterdir()) == ["oic-build-dockerfile"]


def test_the_context_holds_what_the_dockerfile_copies() -> None:
    """The copied build context must hold every COPY source of the Dockerfile."""
    listed = re.search(r"^CONTEXT=\((.*)\)$", PREPARE.read_text(), re.M)
    assert listed
    context = set(listed.group(1).split())
    copied = re.findall(r"^COPY (?!--from)(\S+)", (REPO / "Dockerfile").read_text(), re.M)
    assert copied and set(copied) <= context


def test_proxies_become_build_arguments(tmp_path: Path) -> None:
    proxy = 'http://user:pa$s"w\\d@proxy.example:3128'
    values, log = prepare(tmp_path, HTTPS_PROXY=proxy, no_proxy="localhost,.internal")
    assert values["use"] == "dockerfile"
    assert "passing HTTP_PROXY HTTPS_PROXY NO_PROXY of this step to the image build" in log
    dockerfile = (tmp_path / GENERATED / "oic-build-dockerfile" / "Dockerfile").read_text()
    stages = dockerfile.count("\nFROM ")
    escaped = 'http://user:pa\\$s\\"w\\\\d@proxy.example:3128'
    for name in ("HTTPS_PROXY", "https_proxy"):
        assert dockerfile.count(f'ARG {name}="{escaped}"\n') == stages
    assert dockerfile.count('ARG NO_PROXY="localhost,.internal"\n') == stages
    assert "HTTP_PROXY=" not in dockerfile


def test_a_ref_that_is_no_image_tag_builds(tmp_path: Path) -> None:
    values, log = prepare(tmp_path, repo="Some-Org/oic-build", ref="feature/x")
    assert values == {"use": "dockerfile", "image": "ghcr.io/some-org/oic-build:feature/x"}
    assert "the ref 'feature/x' cannot be an image tag" in log


def test_without_docker_it_builds_and_says_why(tmp_path: Path) -> None:
    """A job running in a container has no docker command: the runner can still build."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "cat", "chmod", "cp", "diff", "find", "mkdir", "mktemp", "mv", "rm", "tr"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    values, log = prepare(workspace, repo="Some-Org/OIC-Build", ref="v1.2.3", path=str(bin_dir))
    assert values == {"use": "dockerfile", "image": "ghcr.io/some-org/oic-build:v1.2.3"}
    assert "no docker command in this step's environment" in log


def docker_host() -> dict[str, str]:
    """The engine's address for prepare.sh's docker command, where it is not the default."""
    return {"DOCKER_HOST": os.environ["DOCKER_HOST"]} if "DOCKER_HOST" in os.environ else {}


@pytest.mark.container
def test_a_released_image_here_is_run(tmp_path: Path, oic_image: str) -> None:
    """The image of the ref the action was called at is on the engine: no pull, no build."""
    ref = f"v9.9.9-{RUN_ID}"  # this run's: parallel sessions never share the tag
    image = f"ghcr.io/oic-build-test/oic-build:{ref}"
    assert docker("tag", oic_image, image).returncode == 0
    try:
        values, log = prepare(tmp_path, repo="Oic-Build-Test/oic-build", ref=ref, **docker_host())
    finally:
        docker("rmi", image)
    assert values == {"use": "prebuilt", "image": image}, log
    assert f"image {image} is here already" in log


@pytest.mark.container
def test_an_image_that_is_not_oic_builds_is_refused(tmp_path: Path, docker_engine: None) -> None:
    """Under the looked-up name, an image without oic-build's title label (the name a nested
    composite action may get, actions/runner#2473) is not run: the Dockerfile is built."""
    ref = f"v1-{RUN_ID}"
    image = f"ghcr.io/oic-build-test/not-oic-build:{ref}"
    assert docker("tag", BASE_IMAGE, image).returncode == 0
    try:
        values, log = prepare(
            tmp_path, repo="oic-build-test/not-oic-build", ref=ref, **docker_host()
        )
    finally:
        docker("rmi", image)
    assert values == {"use": "dockerfile", "image": image}, log
    assert "is not an oic-build image" in log
