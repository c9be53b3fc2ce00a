"""Every bad input: one clear line naming the file or setting, a non-zero exit, the source tree
untouched and no artifact folder (not even a hidden staging one)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    build_cli,
    damage_entry,
    integration_entries,
    make_integration,
    refuse_build,
    run_cli,
    tree_digest,
    write_zip,
)

PROJECT_DIR = "icspackage/project/HELLO_WORLD_01.00.0000"
PROJECT = f"{PROJECT_DIR}/PROJECT-INF/project.xml"


def _iar(path: Path, extra: dict[str, bytes] | None = None) -> Path:
    """A good .iar, optionally with extra (hostile) entries."""
    return write_zip(path, {**integration_entries(), **(extra or {})})


def _project_xml(src: Path, text: str) -> None:
    (src / PROJECT).write_text(text)


def _neither(src: Path) -> None:
    src.mkdir()
    (src / "README.md").write_text("nothing here")


def _two_iars(src: Path) -> None:
    _iar(src / "A_01.00.0000.iar")
    _iar(src / "B_01.00.0000.iar")


def _corrupt_zip(src: Path) -> None:
    src.mkdir()
    (src / "X_01.00.0000.iar").write_bytes(b"PK\x03\x04 this is not really a zip" * 10)


def _truncated_zip(src: Path) -> None:
    good = _iar(src / "tmp.iar").read_bytes()
    (src / "tmp.iar").unlink()
    (src / "X_01.00.0000.iar").write_bytes(good[: len(good) // 2])


def _crc_damage(src: Path) -> None:
    damage_entry(_iar(src / "X_01.00.0000.iar"), f"{PROJECT_DIR}/resources/application_1/"
                 "inbound_2/resourcegroup_3/hello_REQUEST.wsdl")  # fmt: skip


def _dotdot_entry(src: Path) -> None:
    _iar(src / "X_01.00.0000.iar", {"icspackage/../../evil.sh": b"echo pwned"})


def _absolute_entry(src: Path) -> None:
    _iar(src / "X_01.00.0000.iar", {"/etc/evil": b"x"})


def _zip_bomb(src: Path) -> None:
    path = _iar(src / "X_01.00.0000.iar")
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf,
        zf.open("icspackage/bomb.bin", "w", force_zip64=True) as out,
    ):
        chunk = bytes(16 * 1024 * 1024)
        for _ in range(72):  # 1.1 GiB of zeros -> about 1 MiB compressed
            out.write(chunk)


def _lfs_pointer(src: Path) -> None:
    src.mkdir()
    (src / "X_01.00.0000.iar").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n"
    )


def _symlink_out(src: Path) -> None:
    make_integration(src)
    (src / "icspackage/appinstances/STOLEN.xml").symlink_to("/etc/passwd")


def _symlink_dir_out(src: Path) -> None:
    make_integration(src)
    (src / "icspackage/project/HELLO_WORLD_01.00.0000/resources/etc").symlink_to("/etc")


def _xxe(src: Path) -> None:
    make_integration(src)
    _project_xml(
        src,
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<icsproject><projectCode>&x;</projectCode>"
        "<projectVersion>01.00.0000</projectVersion></icsproject>",
    )


def _billion_laughs(src: Path) -> None:
    make_integration(src)
    ents = '<!ENTITY a "lol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "&{chr(97 + i)};&{chr(97 + i)};&{chr(97 + i)};">' for i in range(9)
    )
    _project_xml(
        src,
        f'<?xml version="1.0"?><!DOCTYPE p [{ents}]>'
        "<icsproject><projectCode>&j;</projectCode></icsproject>",
    )


def _missing_project_xml(src: Path) -> None:
    make_integration(src)
    (src / PROJECT).unlink()


def _code_mismatch(src: Path) -> None:
    make_integration(src)
    text = (src / PROJECT).read_text().replace(">HELLO_WORLD<", ">GOODBYE_WORLD<")
    _project_xml(src, text)


def _bad_version(src: Path) -> None:
    make_integration(src)
    base = src / "icspackage/project"
    (base / "HELLO_WORLD_01.00.0000").rename(base / "HELLO_WORLD_1.0")
    path = base / "HELLO_WORLD_1.0/PROJECT-INF/project.xml"
    path.write_text(path.read_text().replace("01.00.0000", "1.0"))


def _malformed_xml(src: Path) -> None:
    make_integration(src)
    _project_xml(src, "<icsproject><projectCode>HELLO_WORLD</projectCode>")


def _bad_connection_xml(src: Path) -> None:
    make_integration(src)
    (src / "icspackage/appinstances/HELLO_REST_TRIGGER.xml").write_text("<oops")


CASES: dict[str, tuple[Callable[[Path], None], int, str, str]] = {
    # name: (make source, exit code, text the error must contain, file it must name)
    "neither source": (_neither, 1, "looked for a *.iar file, an icspackage/ folder", "src"),
    "two iar": (_two_iars, 1, "several .iar files", "A_01.00.0000.iar, B_01.00.0000.iar"),
    "corrupt zip": (_corrupt_zip, 1, "not a readable zip", "X_01.00.0000.iar"),
    "truncated zip": (_truncated_zip, 1, "not a readable zip", "X_01.00.0000.iar"),
    "crc damage": (_crc_damage, 1, "corrupt", "X_01.00.0000.iar"),
    "dotdot entry": (_dotdot_entry, 1, "escapes the archive root", "X_01.00.0000.iar"),
    "absolute entry": (_absolute_entry, 1, "absolute path", "X_01.00.0000.iar"),
    "zip bomb": (_zip_bomb, 1, "zip bomb", "X_01.00.0000.iar"),
    "lfs pointer": (_lfs_pointer, 1, "Git LFS pointer", "X_01.00.0000.iar"),
    "symlink outside": (_symlink_out, 1, "symlink points outside", "STOLEN.xml"),
    "dir symlink outside": (_symlink_dir_out, 1, "symlink points outside", "resources/etc"),
    "xxe": (_xxe, 1, "refused unsafe XML", "PROJECT-INF/project.xml"),
    "billion laughs": (_billion_laughs, 1, "refused unsafe XML", "PROJECT-INF/project.xml"),
    "missing project.xml": (_missing_project_xml, 1, "PROJECT-INF/project.xml found", "src"),
    "code mismatch": (_code_mismatch, 1, "does not match code/version", "project.xml"),
    "bad version": (_bad_version, 1, "is not of the form NN.NN.NNNN", "project.xml"),
    "malformed xml": (_malformed_xml, 1, "not well-formed XML", "project.xml"),
    "bad connection xml": (_bad_connection_xml, 1, "not well-formed", "HELLO_REST_TRIGGER.xml"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_source(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make, code, text, names = CASES[case]
    make(tmp_path / "src")
    refuse_build(tmp_path / "src", capsys, text, names, code=code)


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["--manage-connections", "perhaps"], "--manage-connections: not a boolean"),
        (["--max-workers", "many"], "--max-workers"),
        (["--missing-connections", "ignore"], "--missing-connections"),
        (
            ["--integration-path", "does/not/exist"],
            "integration-path does/not/exist does not exist",
        ),
        (["--connection-plan", "nope.properties"], "connection-plan nope.properties is not a file"),
        (["--no-such-flag"], "unknown option --no-such-flag"),
        (["pul"], "the command, if given, is build, discover, deploy or pull"),
    ],
)
def test_bad_settings_exit_2(
    argv: list[str], text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_integration(tmp_path / "src")
    before = tree_digest(src)
    art = tmp_path / "art"
    rc = build_cli(src, *argv, out=art, json=False)
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert text in err and len(err.splitlines()) == 1, err
    assert tree_digest(src) == before and not art.exists()


def test_server_settings_missing_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_integration(tmp_path / "src")
    rc = run_cli("--integration-path", str(src), "--artifact-dir", str(tmp_path / "art"))
    err = capsys.readouterr().err
    assert rc == 2
    assert "server settings are missing: oic-url" in err and "manage-connections" in err
    assert not (tmp_path / "art").exists()


def test_artifact_dir_inside_source_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_integration(tmp_path / "src")
    before = tree_digest(src)
    rc = build_cli(src, out=src / "icspackage" / "out", json=False)
    assert rc == 2
    assert "is inside the source" in capsys.readouterr().err
    assert tree_digest(src) == before
