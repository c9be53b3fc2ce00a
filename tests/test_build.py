"""Whole offline builds through the CLI: artifact layout, build-info, reruns, plans, JSON."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import EXAMPLE, make_integration, tree_digest, zip_contents
from conftest import build_cli as build


def test_example_builds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_digest(EXAMPLE)
    assert build(EXAMPLE, "--json", out=tmp_path / "art") == 0
    out = json.loads(capsys.readouterr().out)
    folder = tmp_path / "art" / "HELLO_WORLD_01.00.0000"
    iar = folder / "HELLO_WORLD_01.00.0000.iar"
    assert out["integration-id"] == "HELLO_WORLD|01.00.0000"
    assert out["integration-code"] == "HELLO_WORLD"
    assert out["integration-version"] == "01.00.0000"
    assert out["source-kind"] == "icspackage"
    assert out["connections"] == ["HELLO_REST_TRIGGER"] and out["lookups"] == []
    assert Path(out["iar-path"]) == iar and Path(out["artifact-dir"]) == folder
    assert out["sha256"] == hashlib.sha256(iar.read_bytes()).hexdigest()
    assert sorted(p.name for p in folder.iterdir()) == [
        "HELLO_WORLD_01.00.0000.iar",
        "build-info.json",
    ]
    info = json.loads((folder / "build-info.json").read_text())
    assert info["id"] == "HELLO_WORLD|01.00.0000" and info["source"]["kind"] == "icspackage"
    assert info["iar"] == {
        "file": iar.name,
        "sha256": out["sha256"],
        "size": iar.stat().st_size,
        "entries": 4,
    }
    assert info["connections"] == [{"code": "HELLO_REST_TRIGGER", "adapter": "rest"}]
    assert info["tool"]["name"] == "oic-build"
    assert tree_digest(EXAMPLE) == before
    assert not [p for p in (tmp_path / "art").iterdir() if p.name.startswith(".")]


def test_same_source_same_bytes_across_builds(tmp_path: Path) -> None:
    assert build(EXAMPLE, out=tmp_path / "a") == 0
    copy = shutil.copytree(EXAMPLE, tmp_path / "copy")
    os.utime(copy / "icspackage/appinstances/HELLO_REST_TRIGGER.xml", (1, 1))
    assert build(copy, out=tmp_path / "b") == 0
    name = "HELLO_WORLD_01.00.0000/HELLO_WORLD_01.00.0000.iar"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_committed_iar_is_copied_not_rebuilt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    iar = make_integration(tmp_path / "src", "B2B", "02.00.0000", as_iar=True)
    original = iar / "B2B_02.00.0000.iar"
    assert build(iar, "--json", out=tmp_path / "art") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source-kind"] == "iar"
    assert Path(out["iar-path"]).read_bytes() == original.read_bytes()


def test_renamed_iar_gets_code_version_name(tmp_path: Path) -> None:
    """As a real export renamed by hand (INT03.00.0001.iar), here with a lookup."""
    slug = "INT303_INVENTOR_EI_RECONCIL_03.00.0001"
    src = make_integration(
        tmp_path / "src", *slug.rsplit("_", 1), as_iar=True, file_name="INT03.00.0001.iar",
        lookups=["ERROR_CODES"],
    )  # fmt: skip
    # it uses a lookup: manage-lookups follows manage-connections, so this is offline too
    assert build(src, out=tmp_path / "art") == 0
    assert build(src, "--manage-lookups", "true", out=tmp_path / "art2") == 2  # asked, no server
    assert (tmp_path / "art" / slug / f"{slug}.iar").is_file()


def test_iar_wins_over_icspackage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = shutil.copytree(EXAMPLE, tmp_path / "src")
    make_integration(src, "SUBSCRIBE_PO", as_iar=True)
    assert build(src, "--json", out=tmp_path / "art") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["integration-code"] == "SUBSCRIBE_PO"
    assert "the .iar wins" in captured.err


def test_integration_path_may_name_iar_or_icspackage(tmp_path: Path) -> None:
    iar = make_integration(tmp_path / "src", "GET_PROJECT", as_iar=True)
    assert build(iar / "GET_PROJECT_01.00.0000.iar", out=tmp_path / "a") == 0
    assert (tmp_path / "a/GET_PROJECT_01.00.0000").is_dir()
    assert build(EXAMPLE / "icspackage", out=tmp_path / "b") == 0
    assert (tmp_path / "b/HELLO_WORLD_01.00.0000").is_dir()


def test_rerun_replaces_whole_folder(tmp_path: Path) -> None:
    art = tmp_path / "art"
    assert build(EXAMPLE, out=art) == 0
    stale = art / "HELLO_WORLD_01.00.0000" / "stale.txt"
    stale.write_text("from an older run")
    assert build(EXAMPLE, out=art) == 0
    assert not stale.exists()
    assert sorted(p.name for p in art.iterdir()) == ["HELLO_WORLD_01.00.0000"]


def test_failed_rerun_keeps_previous_artifact(tmp_path: Path) -> None:
    art = tmp_path / "art"
    src = shutil.copytree(EXAMPLE, tmp_path / "src")
    assert build(src, out=art) == 0
    good = tree_digest(art)
    (src / "icspackage/appinstances/BROKEN.xml").write_text("<nope")
    assert build(src, out=art) == 1
    assert tree_digest(art) == good


def test_connection_plan_found_beside_source(tmp_path: Path) -> None:
    src = shutil.copytree(EXAMPLE, tmp_path / "src")
    (src / "connectionPlan.properties").write_text("HELLO_REST_TRIGGER.connection.X=1\n")
    assert build(src, out=tmp_path / "art") == 0
    plan = tmp_path / "art/HELLO_WORLD_01.00.0000/connectionPlan.properties"
    assert plan.read_text() == "HELLO_REST_TRIGGER.connection.X=1\n"


def test_connection_plan_named_explicitly(tmp_path: Path) -> None:
    plan = tmp_path / "plans" / "dev.properties"
    plan.parent.mkdir()
    plan.write_text("HELLO_REST_TRIGGER.connection.Y=2\n")
    assert build(EXAMPLE, "--connection-plan", str(plan), out=tmp_path / "art") == 0
    copied = tmp_path / "art/HELLO_WORLD_01.00.0000/connectionPlan.properties"
    assert copied.read_text() == plan.read_text()


def test_junk_files_are_not_packaged(tmp_path: Path) -> None:
    src = shutil.copytree(EXAMPLE, tmp_path / "src")
    (src / "icspackage/.DS_Store").write_bytes(b"\0\0")
    (src / "icspackage/appinstances/Thumbs.db").write_bytes(b"\0")
    assert build(src, out=tmp_path / "art") == 0
    names = zip_contents(tmp_path / "art/HELLO_WORLD_01.00.0000/HELLO_WORLD_01.00.0000.iar")
    assert not [n for n in names if n.endswith((".DS_Store", "Thumbs.db"))]


def test_symlink_inside_tree_is_followed(tmp_path: Path) -> None:
    src = shutil.copytree(EXAMPLE, tmp_path / "src")
    wsdl = next((src / "icspackage").rglob("*.wsdl"))
    (wsdl.parent / "copy.wsdl").symlink_to(wsdl.name)
    assert build(src, out=tmp_path / "art") == 0
    with zipfile.ZipFile(tmp_path / "art/HELLO_WORLD_01.00.0000/HELLO_WORLD_01.00.0000.iar") as zf:
        copy = next(n for n in zf.namelist() if n.endswith("copy.wsdl"))
        assert zf.read(copy) == wsdl.read_bytes()


def test_provenance_from_ci_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI_COMMIT_SHA", "0123abc")
    monkeypatch.setenv("CI_COMMIT_REF_NAME", "main")
    monkeypatch.setenv("CI_PIPELINE_ID", "77")
    assert build(EXAMPLE, out=tmp_path / "art") == 0
    info = json.loads((tmp_path / "art/HELLO_WORLD_01.00.0000/build-info.json").read_text())
    assert info["git"]["commit"] == "0123abc" and info["git"]["run_id"] == "77"


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root, as in a container")
def test_files_get_the_workspace_owner(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    os.chown(workspace, 1234, 1234)
    assert build(EXAMPLE, out=workspace / "out" / "art") == 0
    for path in [workspace / "out", *(workspace / "out").rglob("*")]:
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (1234, 1234), path


def test_entries_outside_icspackage_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_integration(tmp_path / "src", as_iar=True, extra={"__MACOSX/._project.xml": b"j"})
    assert build(src, out=tmp_path / "art") == 0
    assert "warning: " in (err := capsys.readouterr().err)
    assert "entries outside icspackage/ (__MACOSX) are not part of the integration" in err
