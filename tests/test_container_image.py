"""The action's image for real (`pytest -m container`; tests/container_fixtures.py makes the
engine, the tools and the image): lint of the Dockerfiles, action.yml and the workflows; what
the image holds; `docker run` as a user and as the runner calls a container action; hostile
input inside the container."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EXAMPLE, REPO
from container_fixtures import RUN_ID, Tools, docker, run
from runner_commands import commands, read_output_file

pytestmark = pytest.mark.container

SAMPLE = "examples/hello-world"
SAMPLE_ID = "HELLO_WORLD|01.00.0000"
SAMPLE_DIR = "HELLO_WORLD_01.00.0000"
PROJECT_XML = Path("icspackage/project", SAMPLE_DIR, "PROJECT-INF/project.xml")
OWNER = (1234, 1234)  # a self-hosted runner's checkout may belong to a non-root user
USER = f"{OWNER[0]}:{OWNER[1]}"
ENV_FILES = REPO / "tests" / "container"
WORKFLOWS = [
    *sorted((REPO / ".github" / "workflows").glob("*.yml")),
    *sorted((REPO / "tests" / "workflows").glob("*.yml")),
]


def docker_run(image: str, *args: str, options: Sequence[str] = ()) -> tuple[int, str]:
    """`docker run --rm --network none [options] image args`: exit code and stdout+stderr."""
    done = docker("run", "--rm", "--network", "none", *options, image, *args)
    return done.returncode, done.stdout + done.stderr


def chown_tree(root: Path, owner: tuple[int, int] = OWNER) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            os.lchown(name, *owner)


def tree_state(root: Path) -> list[tuple[object, ...]]:
    """Every entry's name, size, mode, owner, mtime and content hash: 'untouched' means all of
    these, as a user would check with ls -l and sha256sum."""
    state: list[tuple[object, ...]] = []
    for path in sorted([root, *root.rglob("*")]):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        state.append(
            (path.relative_to(root).as_posix(), st.st_size, st.st_mode, st.st_uid, st.st_gid,
             st.st_mtime_ns, digest)
        )  # fmt: skip
    return state


def sample_copy(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest)
    return dest


# -- lint ------------------------------------------------------------------------------------


def test_hadolint_passes_the_dockerfiles(ci_tools: Tools) -> None:
    done = run([str(ci_tools.hadolint), "Dockerfile", "tests/container/act-runner.Dockerfile"])
    assert done.returncode == 0, done.stdout + done.stderr


def test_action_yml_matches_the_github_action_schema(ci_tools: Tools) -> None:
    schema = ["--builtin-schema", "vendor.github-actions"]
    done = run([str(ci_tools.check_jsonschema), *schema, "action.yml"])
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_match_the_github_workflow_schema(ci_tools: Tools) -> None:
    assert WORKFLOWS, "no workflow files found"
    schema = ["--builtin-schema", "vendor.github-workflows"]
    done = run([str(ci_tools.check_jsonschema), *schema, *map(str, WORKFLOWS)])
    assert done.returncode == 0, done.stdout + done.stderr


# -- the image -------------------------------------------------------------------------------


def test_image_holds_no_pip_compiler_or_apt_lists(oic_image: str) -> None:
    script = (
        "ls -d /opt/venv/bin/pip* /usr/bin/gcc* /usr/bin/cc 2>/dev/null;"
        " ls -A /var/lib/apt/lists 2>/dev/null | grep -v -x -e lock -e partial; true"
    )
    rc, out = docker_run(oic_image, "-c", script, options=["--entrypoint", "/bin/sh"])
    assert rc == 0, out
    assert out.strip() == "", f"found in the image:\n{out}"


def test_help_exits_0_and_prints_the_usage(oic_image: str) -> None:
    rc, out = docker_run(oic_image, "--help")
    assert rc == 0, out
    assert "--integration-path" in out


def test_a_bad_flag_value_exits_2(oic_image: str) -> None:
    rc, out = docker_run(oic_image, "--manage-connections", "maybe")
    assert rc == 2, out


def test_a_bad_action_input_exits_2(oic_image: str) -> None:
    rc, out = docker_run(oic_image, options=["-e", "INPUT_MAX-WORKERS=many"])
    assert rc == 2, out
    assert "max-workers" in out


# -- the runner's way: a container action ----------------------------------------------------


@dataclass
class RunnerBuild:
    rc: int
    log: str
    workspace: Path
    file_commands: Path
    source_before: list[tuple[object, ...]]

    @property
    def artifact(self) -> Path:
        return self.workspace / "out" / "artifacts" / SAMPLE_DIR


@pytest.fixture(scope="module")
def runner_build(oic_image: str, tmp_path_factory: pytest.TempPathFactory) -> RunnerBuild:
    """examples/hello-world built the way the runner runs a container action: the workspace at
    /github/workspace (owned by a non-root uid, as a self-hosted runner's checkout may be),
    file commands in a root-owned folder, the host's PATH/HOME/PYTHON* leaked in, no network."""
    scratch = tmp_path_factory.mktemp("runner")
    workspace = scratch / "workspace"
    sample_copy(workspace / SAMPLE)
    chown_tree(workspace)
    file_commands = scratch / "file_commands"
    file_commands.mkdir()
    for name in ("output", "summary"):
        (file_commands / name).touch()
    before = tree_state(workspace / SAMPLE)
    rc, log = docker_run(
        oic_image,
        *("--integration-path", SAMPLE, "--artifact-dir", "out/artifacts"),
        options=[
            *("--env-file", str(ENV_FILES / "build.env")),
            *("--env-file", str(ENV_FILES / "leaked-host.env")),
            *("-e", "GITHUB_ACTIONS=true", "-e", "GITHUB_WORKSPACE=/github/workspace"),
            *("-e", "GITHUB_OUTPUT=/github/file_commands/output"),
            *("-e", "GITHUB_STEP_SUMMARY=/github/file_commands/summary"),
            *("-v", f"{workspace}:/github/workspace"),
            *("-v", f"{file_commands}:/github/file_commands"),
            *("-w", "/github/workspace"),
        ],
    )
    return RunnerBuild(rc, log, workspace, file_commands, before)


def test_runner_build_exits_0(runner_build: RunnerBuild) -> None:
    assert runner_build.rc == 0, runner_build.log


def test_runner_build_writes_the_iar(runner_build: RunnerBuild) -> None:
    iar = runner_build.artifact / f"{SAMPLE_DIR}.iar"
    assert iar.is_file() and iar.stat().st_size > 0, runner_build.log


def test_runner_build_writes_build_info(runner_build: RunnerBuild) -> None:
    info = runner_build.artifact / "build-info.json"
    assert info.is_file() and info.stat().st_size > 0, runner_build.log


def test_runner_build_iar_holds_icspackage_entries_only(runner_build: RunnerBuild) -> None:
    with zipfile.ZipFile(runner_build.artifact / f"{SAMPLE_DIR}.iar") as zf:
        names = zf.namelist()
    assert names
    assert [n for n in names if not n.startswith("icspackage/")] == []


def test_runner_build_leaves_the_source_unchanged(runner_build: RunnerBuild) -> None:
    """Files, sizes, modes, owners, times and contents."""
    assert tree_state(runner_build.workspace / SAMPLE) == runner_build.source_before


def test_runner_build_output_belongs_to_the_workspace_owner(runner_build: RunnerBuild) -> None:
    out = runner_build.workspace / "out"
    assert out.is_dir(), runner_build.log
    wrong = [
        f"{p.lstat().st_uid}:{p.lstat().st_gid} {p}"
        for p in [out, *out.rglob("*")]
        if (p.lstat().st_uid, p.lstat().st_gid) != OWNER
    ]
    assert wrong == []


def test_runner_build_sets_the_integration_id_output(runner_build: RunnerBuild) -> None:
    outputs = read_output_file((runner_build.file_commands / "output").read_text("utf-8"))
    assert outputs.get("integration-id") == SAMPLE_ID, sorted(outputs)


def test_runner_build_writes_the_step_summary(runner_build: RunnerBuild) -> None:
    assert (runner_build.file_commands / "summary").stat().st_size > 0


# -- hostile input inside the container ------------------------------------------------------


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A workspace owned by a non-root uid holding integrations/<the sample>."""
    workspace = tmp_path / "ws"
    sample_copy(workspace / "integrations" / SAMPLE_DIR)
    chown_tree(workspace)
    return workspace


def build_in(
    image: str, workspace: Path, *args: str, options: Sequence[str] = ()
) -> tuple[int, str]:
    """An offline build with `workspace` as the working folder (/ws)."""
    return docker_run(
        image,
        "--manage-connections",
        "false",
        *args,
        options=[*options, "-v", f"{workspace}:/ws", "-w", "/ws"],
    )


def test_non_root_artifact_dir_over_the_source_is_refused(oic_image: str, hostile: Path) -> None:
    source = hostile / "integrations"
    before = tree_state(source)
    rc, out = build_in(
        oic_image,
        hostile,
        *("--integration-path", f"integrations/{SAMPLE_DIR}", "--artifact-dir", "integrations"),
        options=["--user", USER],
    )
    assert rc == 2, out
    assert tree_state(source) == before, "the source folder changed after the refusal"


def test_non_root_unreadable_file_is_one_line_naming_it(oic_image: str, hostile: Path) -> None:
    locked = hostile / "integrations" / SAMPLE_DIR / "icspackage" / "locked.xml"
    locked.touch(mode=0o000)  # root's, unreadable to the container's user
    locked.chmod(0o000)
    rc, out = build_in(
        oic_image,
        hostile,
        *("--integration-path", f"integrations/{SAMPLE_DIR}", "--artifact-dir", "out"),
        options=["--user", USER],
    )
    assert rc == 1, out
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "locked.xml" in errors[0], out


def test_a_mistyped_secret_flag_is_never_echoed(oic_image: str) -> None:
    secret = f"hunter2-container-secret-{RUN_ID}"
    rc, out = docker_run(oic_image, f"--client_secret={secret}")
    assert rc == 2, out
    assert secret not in out


def test_a_newline_in_project_xml_forges_no_workflow_command(oic_image: str, hostile: Path) -> None:
    forged = sample_copy(hostile / "forged")
    xml = forged / PROJECT_XML
    text, count = re.subn(
        r"<projectName>[^<]*</projectName>",
        "<projectName>Hello&#10;::error::forged</projectName>",
        xml.read_text("utf-8"),
    )
    assert count == 1
    xml.write_text(text, "utf-8")
    rc, out = build_in(
        oic_image,
        hostile,
        *("--integration-path", "forged", "--artifact-dir", "out-forged"),
        options=["-e", "GITHUB_ACTIONS=true"],
    )
    assert rc == 0, out
    assert "forged" in out  # the name is shown...
    assert [c for c in commands(out) if c.data.strip() == "forged"] == []  # ...as data only


def test_docker_stop_mid_build_exits_143_leaving_nothing(oic_image: str, hostile: Path) -> None:
    """The build is PID 1 in its container; SIGTERM must end it cleanly."""
    big = sample_copy(hostile / "big")
    resources = big / PROJECT_XML.parent.parent / "resources"
    with open(resources / "big.txt", "wb") as fh:  # 120 MB that does not compress
        for _ in range(30):
            fh.write(base64.encodebytes(os.urandom(3_000_000)))
    out_big = hostile / "out-big"
    name = f"oic-build-ci-stop-{RUN_ID}"
    started = docker(
        *("run", "-d", "--name", name, "--network", "none"),
        *("-v", f"{hostile}:/ws", "-w", "/ws", oic_image),
        *(
            "--manage-connections",
            "false",
            "--integration-path",
            "big",
            "--artifact-dir",
            "out-big",
        ),
    )
    assert started.returncode == 0, started.stderr
    try:
        # Stop it once it has begun writing (its staging folder appears in the artifact-dir).
        deadline = time.monotonic() + 60
        while not (out_big.is_dir() and any(out_big.iterdir())) and time.monotonic() < deadline:
            time.sleep(0.1)
        mid_build = out_big.is_dir() and any(out_big.iterdir())
        docker("stop", "-t", "20", name)
        rc = docker("wait", name).stdout.strip()
        logs = docker("logs", name)
    finally:
        docker("rm", "-f", name)
    log = logs.stdout + logs.stderr
    assert mid_build, f"the build wrote nothing to its artifact-dir within 60 s:\n{log}"
    assert rc == "143", log
    assert not out_big.exists() or list(out_big.iterdir()) == [], list(out_big.iterdir())
    assert "Traceback" not in log
