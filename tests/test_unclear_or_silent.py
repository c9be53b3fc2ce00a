"""Nothing unclear, nothing silent: a folder symlink in the source is refused naming the link,
discover reports the folders it cannot read (as a user who cannot read them), and an env file
that was asked for and is missing is a settings error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLE, REPO, run_cli
from conftest import build_cli as build

RESOURCES = "icspackage/project/HELLO_WORLD_01.00.0000/resources"


# -- folder symlinks inside the source -------------------------------------------------------

LINKS = {
    # link (relative to the source), target (relative to the link's folder)
    "to a sibling folder": (f"{RESOURCES}/a_link", "application_1"),
    "to an ancestor (a loop)": (f"{RESOURCES}/application_1/up", ".."),
    "to icspackage itself": ("icspackage/project/again", ".."),
    "to a folder sorted after it": (f"{RESOURCES}/0_first", "application_1/inbound_2"),
}


@pytest.mark.parametrize(("link", "target"), LINKS.values(), ids=LINKS.keys())
def test_folder_symlink_refused_naming_the_link(
    link: str, target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    shutil.copytree(EXAMPLE, src)
    (src / link).symlink_to(target, target_is_directory=True)
    assert run_cli("--integration-path", str(src), "--manage-connections", "false") == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert f"{src / link}: a symlink to the folder" in err
    assert "loop" not in err
    assert not Path("oic-artifacts").exists()


# -- discover: folders it cannot read ----------------------------------------------------------


@pytest.fixture
def shared_root() -> Iterator[Path]:
    """A folder another user can reach (pytest's tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="oic-unreadable-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        for path in [root, *root.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root)


def _discover_as_user(root: Path, path: str = ".") -> tuple[int, str, list[dict[str, str]]]:
    """`oic-build discover --json` as a user without root's power to read anything: as
    nobody when the tests run as root (a container), else as the current user."""
    prefix = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv is missing: cannot drop to a plain user")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    code = "import sys; from oicaction.cli import main; sys.exit(main())"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "HOME": str(root)}
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", code, "discover", "--integration-path", path, "--json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = json.loads(proc.stdout)["integrations"] if proc.stdout.strip() else []
    return proc.returncode, proc.stderr, found


def _integration(folder: Path) -> None:
    shutil.copytree(EXAMPLE, folder)
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


UNREADABLE = {
    "a folder no one may list": ("locked", 0o000),
    "a folder that can be entered, not listed": ("locked", 0o311),
    "a nested folder": ("teams/locked", 0o000),
    "the folder of an integration": ("good2", 0o000),
}


@pytest.mark.parametrize(("locked", "mode"), UNREADABLE.values(), ids=UNREADABLE.keys())
def test_discover_reports_folders_it_cannot_read(shared_root: Path, locked: str, mode: int) -> None:
    _integration(shared_root / "good")
    (shared_root / "teams").mkdir(mode=0o755)
    if locked == "good2":
        _integration(shared_root / "good2")
    else:
        (shared_root / locked).mkdir(mode=0o755)
        _integration(shared_root / locked / "hidden")
    (shared_root / locked).chmod(mode)
    rc, err, found = _discover_as_user(shared_root)
    assert [f["path"] for f in found] == ["good"], err
    assert rc == 1, err
    problems = [line for line in err.splitlines() if line.startswith("error:")]
    assert problems == [f"error: {locked}: cannot read folder (Permission denied); what it holds "
                        "was not searched"]  # fmt: skip


def test_discover_root_it_cannot_read(shared_root: Path) -> None:
    _integration(shared_root / "root" / "good")
    (shared_root / "root").chmod(0o311)
    rc, err, found = _discover_as_user(shared_root, "root")
    assert (rc, found) == (1, []), err
    assert "error: root: cannot read folder (Permission denied)" in err


# -- env files ------------------------------------------------------------------------------


def test_missing_env_file_flag_is_a_settings_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert build(EXAMPLE, "--env-file", "prod.env", out="oic-artifacts") == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: env file prod.env (from --env-file) does not exist"
    assert not Path("oic-artifacts").exists()


def test_missing_env_file_variable_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OIC_ENV_FILE", "conf/oic.env")
    assert build(EXAMPLE, out="oic-artifacts") == 2
    assert capsys.readouterr().err.strip() == (
        "error: env file conf/oic.env (from OIC_ENV_FILE) does not exist"
    )


def test_env_file_that_is_a_folder(capsys: pytest.CaptureFixture[str]) -> None:
    Path("settings.env").mkdir()
    assert build(EXAMPLE, "--env-file", "settings.env", out="oic-artifacts") == 2
    assert "env file settings.env is not a file" in capsys.readouterr().err


def test_env_file_not_utf8(capsys: pytest.CaptureFixture[str]) -> None:
    Path("latin1.env").write_bytes(b"OIC_ARTIFACT_DIR=caf\xe9\n")
    assert build(EXAMPLE, "--env-file", "latin1.env", out="oic-artifacts") == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: env file latin1.env: cannot read (not UTF-8 text)"


def test_default_env_file_may_be_absent() -> None:
    assert not Path(".env").exists()
    assert build(EXAMPLE, out="oic-artifacts") == 0
