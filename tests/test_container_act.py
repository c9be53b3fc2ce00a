"""act runs every tests/workflows/*.yml offline against the engine (`pytest -m container`):
`uses: ./` end to end (the action builds its Dockerfile), and prebuilt.yml, a released ref
mapped to a copy of this checkout, which must run this run's image and build nothing. The jobs
get the engine's socket (action.yml's first step asks it whether the image is here), as a hosted
runner's steps have it.

Adding a workflow: drop it in tests/workflows/. Every file there is run and must succeed with
every job; an entry in WORKFLOWS adds lines its log must (or must not) show, and a setup hook
for what it needs around the run (a stand-in server, a release copy): a context manager that
yields extra act arguments. Workflows write only under oic-artifacts/act-*, .act-*/ or
.github/.tmp/ in the checkout (act --bind mounts it as the workspace); those are removed before
and after each run.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import API, REPO, need_fixtures
from container_fixtures import (
    ACT_TIMEOUT,
    HOST_ENV,
    RUNNER_IMAGE,
    STATE_DIR,
    TIMINGS,
    Tools,
    docker,
    run,
    state_lock,
    tail,
)
from deploy_support import target_connection
from oic_standin import CLIENT_SECRET, StandIn, load_fixture_connections
from standin_fixtures import COUNTRY_INFO

WORKFLOW_DIR = REPO / "tests" / "workflows"
NAMES = sorted(p.stem for p in WORKFLOW_DIR.glob("*.yml"))
# The release prebuilt.yml calls, and the image the release workflow would have published for it.
PREBUILT_ACTION = "Oic-Build-Test/oic-build@v9.9.9"
PREBUILT_IMAGE = "ghcr.io/oic-build-test/oic-build:v9.9.9"

Setup = Callable[[str, Path], AbstractContextManager[list[str]]]


@contextmanager
def standin_for_connections(image: str, scratch: Path) -> Iterator[list[str]]:
    """connections.yml: the OIC stand-in on the host's loopback (the job reaches it through
    act's host network) serving the recorded real connection bodies, and the real COUNTRY_INFO
    archive (LOCAL_REST and RESTCOUNTRIESEU) in .act-standin/."""
    api = need_fixtures(API)
    folder = REPO / ".act-standin" / "country-info"
    folder.mkdir(parents=True)
    shutil.copy(api / COUNTRY_INFO, folder)
    with StandIn() as oic:
        for conn_id, body in load_fixture_connections(api).items():
            oic.add_connection(conn_id, body)
        yield ["--env", f"OIC_STANDIN_URL={oic.url}", "-s", f"OIC_CLIENT_SECRET={CLIENT_SECRET}"]


ERP_PASSWORD = "Act-Deploy-Secret-3c9e"


@contextmanager
def standin_for_deploy(image: str, scratch: Path) -> Iterator[list[str]]:
    """deploy.yml: the stand-in as source and target, COUNTRY_INFO and the test plan in
    .act-standin/deploy/; afterwards, the target must hold the password the deploy step's
    `env:` gave the plan through the composite action."""
    api = need_fixtures(API)
    root = REPO / ".act-standin" / "deploy"
    (root / "country-info").mkdir(parents=True)
    shutil.copy(api / COUNTRY_INFO, root / "country-info")
    (root / "plans").mkdir()
    (root / "plans" / "test.properties").write_text(
        "RESTCOUNTRIESEU.connection.Connection URL=https://test.example/v2/\n"
        "RESTCOUNTRIESEU.secure.Password=${ERP_PASSWORD}\n"
    )
    with StandIn() as oic:
        oic.add_connection("RESTCOUNTRIESEU", target_connection())
        oic.add_connection("LOCAL_REST", {"id": "LOCAL_REST", "role": "SOURCE"})
        yield [
            *("--env", f"OIC_STANDIN_URL={oic.url}"),
            *("-s", f"OIC_CLIENT_SECRET={CLIENT_SECRET}", "-s", f"ERP_PASSWORD={ERP_PASSWORD}"),
        ]
        received = oic.state.deploy.connection_values.get(("RESTCOUNTRIESEU", "password"))
        assert received == ERP_PASSWORD, f"the target got {received!r} as the password"
        assert oic.integration("COUNTRY_INFO|01.00.0000").status == "ACTIVATED"


@contextmanager
def standin_for_pull(image: str, scratch: Path) -> Iterator[list[str]]:
    """pull.yml: the OIC stand-in on the host's loopback holding the real COUNTRY_INFO export,
    and a copy of that export in .act-pull/ for the workflow to compare the build with."""
    archive = need_fixtures(API) / COUNTRY_INFO
    folder = REPO / ".act-pull"
    folder.mkdir(parents=True)
    shutil.copy(archive, folder)
    with StandIn() as oic:
        oic.add_integration("COUNTRY_INFO|01.00.0000", archive.read_bytes())
        yield ["--env", f"OIC_STANDIN_URL={oic.url}", "-s", f"OIC_CLIENT_SECRET={CLIENT_SECRET}"]


@contextmanager
def released_checkout(image: str, scratch: Path) -> Iterator[list[str]]:
    """prebuilt.yml: this checkout's files (as they are, committed or not) as the action's
    repository at v9.9.9, and this run's image as its published image."""
    copy = scratch / "release-v9.9.9"
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    assert listed.returncode == 0, listed.stderr
    for name in filter(None, listed.stdout.split("\0")):
        source = REPO / name
        if source.is_file() or source.is_symlink():  # a deleted tracked file is skipped
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name, follow_symlinks=False)
    assert (copy / "action.yml").is_file(), "the release copy has no action.yml"
    tagged = docker("tag", image, PREBUILT_IMAGE)
    assert tagged.returncode == 0, tagged.stderr
    try:
        yield ["--local-repository", f"{PREBUILT_ACTION}={copy}"]
    finally:
        docker("rmi", PREBUILT_IMAGE)


@dataclass(frozen=True)
class Workflow:
    """What act's log of one workflow must show and must not show, and its setup hook."""

    says: tuple[str, ...] = ()
    never_says: tuple[str, ...] = ()
    setup: Setup | None = None


WORKFLOWS: dict[str, Workflow] = {
    "build": Workflow(
        says=(
            "all output checks passed",
            "the bad input failed the step and left no artifact",
            # uses: ./ builds the Dockerfile and says why, and act built the image
            "building the image from the Dockerfile: the action runs from a local",
            "docker build ",
        ),
    ),
    "connections": Workflow(
        setup=standin_for_connections,
        says=("all connection checks passed",),
        never_says=(CLIENT_SECRET,),
    ),
    "deploy": Workflow(
        setup=standin_for_deploy,
        says=("all deploy checks passed",),
        never_says=(CLIENT_SECRET, ERP_PASSWORD),
    ),
    "matrix": Workflow(says=("discover found the three integrations",)),
    "pull": Workflow(
        setup=standin_for_pull,
        says=("all pull checks passed",),
        never_says=(CLIENT_SECRET,),
    ),
    "prebuilt": Workflow(
        setup=released_checkout,
        says=(
            "all prebuilt output checks passed",
            "all prebuilt checks passed",  # a bad input fails, uses: docker://... works
            f"image {PREBUILT_IMAGE} is here already",  # found here, no pull
            f"running the prebuilt image {PREBUILT_IMAGE}",
        ),
        never_says=("docker build",),  # no image was built
    ),
}


def clean_workspace_outputs() -> None:
    """What the workflows write into the (bind-mounted) checkout; all of it is git-ignored."""
    for path in [
        *REPO.glob("oic-artifacts/act-*"),
        *REPO.glob(".act-*/"),
        REPO / ".github" / ".tmp",
    ]:
        shutil.rmtree(path, ignore_errors=True)
    if (REPO / "oic-artifacts").is_dir() and not any((REPO / "oic-artifacts").iterdir()):
        (REPO / "oic-artifacts").rmdir()


@dataclass
class ActRun:
    rc: int
    log: str
    seconds: float

    def tail(self) -> str:
        return tail(self.log, 60)


class Act:
    """Runs each workflow at most once per session, whatever number of tests read its log."""

    def __init__(self, tools: Tools, image: str, scratch: Path) -> None:
        self.tools, self.image, self.scratch = tools, image, scratch
        self.done: dict[str, ActRun | BaseException] = {}

    def __call__(self, name: str) -> ActRun:
        if name not in self.done:
            try:
                self.done[name] = self._run(name)
            except BaseException as exc:  # a skip or a failed setup: the same for every test
                self.done[name] = exc
        result = self.done[name]
        if isinstance(result, BaseException):
            raise result
        return result

    def _run(self, name: str) -> ActRun:
        spec = WORKFLOWS.get(name, Workflow())
        socket = "/var/run/docker.sock"
        if HOST_ENV.get("DOCKER_HOST", "").startswith("unix://"):
            socket = HOST_ENV["DOCKER_HOST"].removeprefix("unix://")
        scratch = self.scratch / name
        scratch.mkdir()
        # act names its containers and the image it builds for `uses: ./` after the workflow
        # and job: one act at a time on this engine, across sessions.
        with state_lock("act"):
            clean_workspace_outputs()
            try:
                with (spec.setup or _no_setup)(self.image, scratch) as extra:
                    # Offline: no image pulls (-P local image, --pull=false), no action
                    # downloads, no cache server, no notices request, and no .env/.secrets/
                    # .vars/.input of a developer's checkout passed in.
                    argv = [
                        *("timeout", str(ACT_TIMEOUT), str(self.tools.act), "push"),
                        *("-W", f"tests/workflows/{name}.yml"),
                        *("-P", f"ubuntu-latest={RUNNER_IMAGE}", "--pull=false", "--bind"),
                        *("--action-offline-mode", "--container-daemon-socket", socket),
                        *("--no-cache-server", "--network", "host"),
                        *("--env-file", "/dev/null", "--secret-file", "/dev/null"),
                        *("--var-file", "/dev/null", "--input-file", "/dev/null"),
                        *extra,
                    ]
                    start = time.monotonic()
                    done = subprocess.run(
                        argv,
                        cwd=REPO,
                        env={**HOST_ENV, "ACT_DISABLE_VERSION_CHECK": "1"},
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                        text=True,
                        encoding="utf-8",
                        errors="replace",
                        check=False,
                    )
                    seconds = time.monotonic() - start
            finally:
                clean_workspace_outputs()
        (STATE_DIR / f"act-{name}.log").write_text(done.stdout, encoding="utf-8")
        TIMINGS.append((f"act {name}.yml", seconds))
        return ActRun(done.returncode, done.stdout, seconds)


@contextmanager
def _no_setup(image: str, scratch: Path) -> Iterator[list[str]]:
    yield []


@pytest.fixture(scope="session")
def act(ci_tools: Tools, oic_image: str, tmp_path_factory: pytest.TempPathFactory) -> Act:
    return Act(ci_tools, oic_image, tmp_path_factory.mktemp("act"))


def test_every_workflow_entry_names_a_workflow_file() -> None:
    assert sorted(set(WORKFLOWS) - set(NAMES)) == []


@pytest.mark.container
@pytest.mark.parametrize("name", NAMES)
def test_act_runs_the_workflow_to_success(act: Act, name: str) -> None:
    result = act(name)
    assert result.rc != 124, f"act did not finish within {ACT_TIMEOUT}s:\n{result.tail()}"
    assert result.rc == 0, result.tail()


@pytest.mark.container
@pytest.mark.parametrize("name", NAMES)
def test_act_every_job_succeeded(act: Act, name: str) -> None:
    result = act(name)
    assert "Job succeeded" in result.log, result.tail()
    assert "Job failed" not in result.log, result.tail()


@pytest.mark.container
@pytest.mark.parametrize(
    ("name", "text"),
    [(n, text) for n in NAMES for text in WORKFLOWS.get(n, Workflow()).says],
    ids=lambda value: value[:40],
)
def test_act_log_says(act: Act, name: str, text: str) -> None:
    result = act(name)
    assert text in result.log, result.tail()


@pytest.mark.container
@pytest.mark.parametrize(
    ("name", "text"),
    [(n, text) for n in NAMES for text in WORKFLOWS.get(n, Workflow()).never_says],
    ids=lambda value: value[:40],
)
def test_act_log_never_says(act: Act, name: str, text: str) -> None:
    result = act(name)
    assert text not in result.log
