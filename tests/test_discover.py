"""Discovery for matrix builds over a generated repository of many real-sample integrations."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import git, make_integration, needs_git, run_captured, run_cli, tree_digest


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """30 integrations: teams/<team>/<name>/, half as .iar, half as icspackage/ trees."""
    root = tmp_path / "repo"
    for i in range(30):
        team = ("finance", "hr", "sales")[i % 3]
        make_integration(
            root / "teams" / team / f"int{i:02d}",
            f"INT_{i:02d}",
            "01.00.0000",
            as_iar=i % 2 == 0,
        )
    (root / "docs").mkdir()
    (root / "docs" / "README.md").write_text("no integrations here")
    return root


def _discover(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, str]]]:
    ran = run_captured(capsys, "discover", "--json", *argv)
    return ran.code, ran.json["integrations"]


def test_finds_every_integration(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_digest(repo)
    rc, found = _discover(capsys, "--integration-path", str(repo))
    assert rc == 0
    assert sorted(f["code"] for f in found) == [f"INT_{i:02d}" for i in range(30)]
    first = next(f for f in found if f["code"] == "INT_00")
    assert first == {
        "path": f"{repo}/teams/finance/int00",
        "kind": "integration",
        "code": "INT_00",
        "version": "01.00.0000",
        "id": "INT_00|01.00.0000",
    }
    assert tree_digest(repo) == before


def test_paths_are_what_build_takes(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    rc, found = _discover(capsys, "--include", "teams/hr/*")
    assert rc == 0 and len(found) == 10
    item = found[0]
    assert (
        run_cli(
            "--integration-path",
            item["path"],
            "--manage-connections",
            "false",
            "--artifact-dir",
            str(repo.parent / "art"),
        )
        == 0
    )
    assert (repo.parent / "art" / f"{item['code']}_{item['version']}").is_dir()


def test_include_and_exclude(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    _, found = _discover(
        capsys, "--include", "teams/finance/*,teams/sales/*", "--exclude", "teams/*/int0*"
    )
    assert sorted(f["code"] for f in found) == sorted(
        f"INT_{i:02d}" for i in range(10, 30) if i % 3 in (0, 2)
    )


def test_nothing_found_is_an_empty_json_array(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    rc, found = _discover(capsys, "--integration-path", str(tmp_path / "empty"))
    assert rc == 0 and found == []


def test_github_output_is_compact_json(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "gh_out"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.setenv("INPUT_MODE", "discover")
    monkeypatch.setenv("INPUT_INTEGRATION-PATH", str(repo))
    assert run_cli() == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("integrations<<")
    assert len(json.loads(lines[1])) == 30 and " " not in lines[1]


def test_unreadable_and_duplicate_sources_are_reported(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = repo / "teams" / "hr" / "broken"
    bad.mkdir()
    (bad / "BROKEN_01.00.0000.iar").write_bytes(b"not a zip")
    make_integration(repo / "copy-of-int05", "INT_05", "01.00.0000", as_iar=True)
    rc = run_cli("discover", "--json", "--integration-path", str(repo))
    captured = capsys.readouterr()
    found = json.loads(captured.out)["integrations"]
    assert rc == 1
    assert f"{bad}/BROKEN_01.00.0000.iar: not a readable zip" in captured.err
    assert "integration INT_05|01.00.0000 is in both" in captured.err
    assert "copy-of-int05" in captured.err and "teams/sales/int05" in captured.err
    codes = [f["code"] for f in found]
    assert "INT_05" not in codes and len(codes) == 29


def test_several_iar_in_one_folder_are_listed_one_by_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "archives"
    for code, name in [("B", "B_01.00.0000.iar"), ("A", "A_01.00.0000.iar"), ("C", "old.iar")]:
        make_integration(folder, code, as_iar=True, file_name=name)
    rc, found = _discover(capsys, "--integration-path", str(folder))
    assert rc == 0
    assert [Path(f["path"]).name for f in found] == [
        "A_01.00.0000.iar",
        "B_01.00.0000.iar",
        "old.iar",
    ]


def test_artifact_dir_is_not_scanned(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    assert run_cli("--integration-path", "teams/hr/int01", "--manage-connections", "false") == 0
    capsys.readouterr()
    assert Path("oic-artifacts/INT_01_01.00.0000").is_dir()
    _, found = _discover(capsys)
    assert len(found) == 30  # the built .iar under oic-artifacts/ is not a source


@needs_git
def test_changed_since(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "all")
    base = git(repo, "rev-parse", "HEAD")
    # change one file inside a tree, replace one archive, add one integration, touch docs
    wsdl = next((repo / "teams/hr/int01/icspackage").rglob("*.wsdl"))
    wsdl.write_text(wsdl.read_text() + "<!-- changed -->")
    iar = next((repo / "teams/finance/int06").glob("*.iar"))
    iar.write_bytes(iar.read_bytes())  # same bytes: not a change
    make_integration(repo / "teams/hr/int99", "INT_99", "01.00.0000", as_iar=True)
    (repo / "docs" / "README.md").write_text("changed docs")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")
    (repo / "teams/sales/int02/INT_02_01.00.0000.iar").unlink()
    make_integration(
        repo / "teams/sales/int02", "INT_02", "01.00.0001", as_iar=True
    )  # uncommitted: a new version in the work tree
    monkeypatch.chdir(repo)
    # as in the container: no git binary, and the checkout belongs to another user
    monkeypatch.setenv("PATH", str(repo / "no-bin"))
    if os.geteuid() == 0:
        for path in [repo, *repo.rglob("*")]:
            os.lchown(path, 1234, 1234)
    rc, found = _discover(capsys, "--changed-since", base)
    assert rc == 0
    assert sorted(f["id"] for f in found) == [
        "INT_01|01.00.0000",
        "INT_02|01.00.0001",
        "INT_99|01.00.0000",
    ]
    rc, found = _discover(capsys, "--changed-since", "0" * 40)  # a new branch: everything
    assert rc == 0 and len(found) == 31


@needs_git
def test_changed_since_unknown_ref(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "init", "-q", "-b", "main")
    monkeypatch.chdir(repo)
    assert run_cli("discover", "--changed-since", "deadbeef") == 2
    assert "changed-since deadbeef: no such commit" in capsys.readouterr().err


@needs_git
def test_build_info_reads_head_without_ci_variables(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "init", "-q", "-b", "trunk")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "all")
    sha = git(repo, "rev-parse", "HEAD").strip()
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PATH", str(repo / "no-bin"))
    assert run_cli("--integration-path", "teams/hr/int01", "--manage-connections", "false") == 0
    info = json.loads(Path("oic-artifacts/INT_01_01.00.0000/build-info.json").read_text())
    assert info["git"] == {
        "commit": sha,
        "ref": "refs/heads/trunk",
        "run_id": None,
        "repository": None,
    }
