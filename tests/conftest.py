"""Shared test helpers: where the real fixtures are, a clean environment, running the CLI."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# The OIC stand-in, cassettes and --oic-record-mode (tests/standin_fixtures.py).
pytest_plugins = ["standin_fixtures"]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "fixtures"
REAL = SHARED / "real"
API = SHARED / "api"
EXAMPLE = REPO / "examples" / "hello-world"


def need_fixtures(folder: Path) -> Path:
    """Skip, visibly, where the shared fixtures are absent (a user's clone); CI sets
    OIC_BUILD_REQUIRE_FIXTURES=1 so that their absence fails instead."""
    if not folder.is_dir():
        if os.environ.get("OIC_BUILD_REQUIRE_FIXTURES") == "1":
            pytest.fail(f"shared fixtures missing at {folder}")
        pytest.skip(f"shared fixtures not found at {folder}")
    return folder


@pytest.fixture
def real_dir() -> Path:
    return need_fixtures(REAL)


@pytest.fixture
def api_dir() -> Path:
    return need_fixtures(API)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No runner, input or OIC_ variable from the host leaks into a test; cwd is a temp dir."""
    for key in list(os.environ):
        if key.startswith(("INPUT_", "OIC_", "GITHUB_", "CI_", "GIT_", "BUILD_")) and (
            key != "OIC_BUILD_REQUIRE_FIXTURES"
        ):
            monkeypatch.delenv(key, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield


@pytest.fixture(params=[True, False], ids=["github", "local"])
def runner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The runner's files ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY), in GitHub mode or not."""
    files = tmp_path / "runner"
    files.mkdir()
    monkeypatch.setenv("GITHUB_OUTPUT", str(files / "output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files / "summary"))
    if request.param:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
    return files


def tree_digest(root: Path) -> dict[str, str]:
    """Every file, link and folder under root with its content hash: 'source untouched' checks."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[rel] = "dir"
    return found


def zip_contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def run_cli(*argv: str) -> int:
    from oicaction.cli import main

    return main(list(argv))
