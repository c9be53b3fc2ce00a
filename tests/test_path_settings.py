"""Path settings no system can take (issue 18.15): a NUL, a name or a path too long. Bad settings:
exit 2 with one line naming the setting, nothing written; before, they ended as "unexpected
ValueError/OSError", exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_integration, run_cli, tree_digest

OFFLINE = ("--manage-connections", "false")


def _errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize(
    "argv",
    [
        ("--artifact-dir", "art\0x"),
        ("discover", "--artifact-dir", "art\0x"),
        ("--integration-path", "src\0x"),
        ("deploy", "--artifact-path", "art\0x"),
    ],
    ids=["artifact-dir", "artifact-dir in discover", "integration-path", "artifact-path"],
)
def test_a_nul_in_a_path_setting(
    argv: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_integration(Path.cwd() / "src")
    flags = argv if "--integration-path" in argv else (*argv, "--integration-path", "src")
    assert run_cli(*flags, *OFFLINE) == 2
    [error] = _errors(capsys)
    flag = next(a for a in argv if a.startswith("--"))
    assert f"flag {flag}: holds a NUL character" in error
    assert sorted(p.name for p in Path.cwd().iterdir()) == ["src"]


def test_a_nul_from_the_env_file(capsys: pytest.CaptureFixture[str]) -> None:
    make_integration(Path.cwd() / "src")
    Path(".env").write_bytes(b'OIC_ARTIFACT_DIR="art\x00x"\n')
    assert run_cli("--integration-path", "src", *OFFLINE) == 2
    [error] = _errors(capsys)
    assert "OIC_ARTIFACT_DIR in .env: holds a NUL character" in error


@pytest.mark.parametrize("too_long", ["a" * 300, "/".join(["a" * 200] * 25)], ids=["name", "path"])
def test_an_artifact_dir_too_long(too_long: str, capsys: pytest.CaptureFixture[str]) -> None:
    src = make_integration(Path.cwd() / "src")
    before = tree_digest(Path.cwd())
    assert run_cli("--integration-path", str(src), "--artifact-dir", too_long, *OFFLINE) == 2
    [error] = _errors(capsys)
    assert error.startswith(f"error: artifact-dir {too_long}: cannot create (File name too long)")
    assert tree_digest(Path.cwd()) == before
