"""Hostile sources and faults on disk: each ends as one line naming the path at fault and a
non-zero exit, never a traceback, and leaves no artifact; in a batch it is that source's failure
only and the others are built. Unreadable files are tried as an unprivileged user (nobody)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_process import give_to_nobody, run_as_nobody, run_cli_process, shared_dir
from conftest import build_cli, error_lines, make_integration, one_error, refuse_build, run_cli

PROJECT_DIR = "icspackage/project/HELLO_WORLD_01.00.0000"
PROJECT = f"{PROJECT_DIR}/PROJECT-INF/project.xml"
WSDL = f"{PROJECT_DIR}/resources/application_1/inbound_2/resourcegroup_3/hello_REQUEST.wsdl"
SLUG = "HELLO_WORLD_01.00.0000"


def _iar(src: Path) -> Path:
    """A committed .iar in folder src."""
    return make_integration(src, as_iar=True) / f"{SLUG}.iar"


def _patch_entry(iar: Path, name: str, *, flags: int = 0, method: int | None = None) -> None:
    """Set general-purpose flag bits and/or the method of one entry, in both its local and its
    central header, as an encrypting or Deflate64 zip tool would have written them."""
    data = bytearray(iar.read_bytes())
    with zipfile.ZipFile(iar) as zf:
        local = zf.getinfo(name).header_offset
        central = zf.start_dir  # type: ignore[attr-defined]
    for at in (local + 6, None):
        if at is None:  # find the entry in the central directory
            while data[central : central + 4] == b"PK\x01\x02":
                n, m, k = struct.unpack("<HHH", data[central + 28 : central + 34])
                if data[central + 46 : central + 46 + n].decode() == name:
                    at = central + 8
                    break
                central += 46 + n + m + k
            assert at is not None
        old_flags, old_method = struct.unpack("<HH", data[at : at + 4])
        new_method = old_method if method is None else method
        data[at : at + 4] = struct.pack("<HH", old_flags | flags, new_method)
    iar.write_bytes(bytes(data))


def _make_deep(root: Path, depth: int) -> None:
    """`root/d/d/.../d/leaf.txt`, made through folder handles, so depth is not bounded by
    PATH_MAX."""
    fd = os.open(root, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = child
    leaf = os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(leaf, b"deep")
    os.close(leaf)
    os.close(fd)


def _remove_deep(root: Path, depth: int) -> None:
    """Undo _make_deep without recursion (shutil.rmtree recurses per level on Python 3.11)."""
    fds = [os.open(root, os.O_RDONLY)]
    for _ in range(depth):
        fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
    os.unlink("leaf.txt", dir_fd=fds[-1])
    for _ in range(depth):
        os.close(fds.pop())
        os.rmdir("d", dir_fd=fds[-1])
    os.close(fds.pop())


def _self_loop(src: Path) -> None:
    make_integration(src)
    (src / "icspackage/loop").symlink_to("loop")


def _two_link_cycle(src: Path) -> None:
    make_integration(src)
    (src / "icspackage/a").symlink_to("b")
    (src / "icspackage/b").symlink_to("a")


def _loop_in_project(src: Path) -> None:
    make_integration(src)
    (src / PROJECT_DIR / "resources/again").symlink_to("../resources/again")


def _non_utf8_file(src: Path) -> None:
    make_integration(src)
    folder = os.fsencode(src / PROJECT_DIR / "resources")
    Path(os.fsdecode(folder + b"/caf\xe9.xml")).write_text("<x/>")


def _non_utf8_folder(src: Path) -> None:
    make_integration(src)
    folder = Path(os.fsdecode(os.fsencode(src / "icspackage") + b"/\xfe\xfd"))
    folder.mkdir()
    (folder / "x.txt").write_text("x")


def _encrypted_project_xml(src: Path) -> None:
    _patch_entry(_iar(src), PROJECT, flags=0x1)


def _encrypted_resource(src: Path) -> None:
    _patch_entry(_iar(src), WSDL, flags=0x1)


def _deflate64_resource(src: Path) -> None:
    _patch_entry(_iar(src), WSDL, method=9)


def _deflate64_project_xml(src: Path) -> None:
    _patch_entry(_iar(src), PROJECT, method=9)


def _unknown_method(src: Path) -> None:
    _patch_entry(_iar(src), WSDL, method=99)


# case -> (make the source in the folder given, words the one error line must hold)
HOSTILE: dict[str, tuple[Callable[[Path], None], str]] = {
    "self-referencing symlink": (_self_loop, "symlink loop"),
    "two symlinks pointing at each other": (_two_link_cycle, "symlink loop"),
    "folder symlink to itself": (_loop_in_project, "resources/again"),
    "non-UTF-8 file name": (_non_utf8_file, "caf\\xe9.xml: file name is not valid UTF-8"),
    "non-UTF-8 folder name": (_non_utf8_folder, "\\xfe\\xfd: file name is not valid UTF-8"),
    "encrypted project.xml": (_encrypted_project_xml, "project.xml is encrypted"),
    "encrypted resource": (_encrypted_resource, "hello_REQUEST.wsdl is encrypted"),
    "deflate64 resource": (_deflate64_resource, "compression method 9"),
    "deflate64 project.xml": (_deflate64_project_xml, "compression method 9"),
    "unknown compression method": (_unknown_method, "compression method 99"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_source_is_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, said = HOSTILE[case]
    make(tmp_path / "src")
    refuse_build(tmp_path / "src", capsys, said)


def test_deep_tree_within_path_max_builds(tmp_path: Path) -> None:
    """1500 folders deep (deeper than Python's recursion limit): packed like any other tree."""
    src = make_integration(tmp_path / "src")
    _make_deep(src / "icspackage", 1500)
    try:
        rc = run_cli("--integration-path", str(src), "--manage-connections", "false")
        assert rc == 0
        with zipfile.ZipFile(Path("oic-artifacts") / SLUG / f"{SLUG}.iar") as zf:
            deep = [n for n in zf.namelist() if n.endswith("leaf.txt")]
        assert deep == ["icspackage/" + "d/" * 1500 + "leaf.txt"]
    finally:
        _remove_deep(src / "icspackage", 1500)


def test_deep_tree_past_path_max_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_integration(tmp_path / "src")
    _make_deep(src / "icspackage", 2100)  # 4200 characters of path: the kernel refuses it
    try:
        rc = run_cli("--integration-path", str(src), "--manage-connections", "false")
        line = one_error(capsys.readouterr().err)
        assert rc == 1
        assert "File name too long" in line
        assert not Path("oic-artifacts").exists()
    finally:
        _remove_deep(src / "icspackage", 2100)


# -- as an unprivileged user --------------------------------------------------------------------


def _hide(path: Path, mode: int = 0) -> Path:
    path.chmod(mode)
    return path


# case -> (make the source in folder src, hide something; the path the error must name)
UNREADABLE: dict[str, Callable[[Path], Path]] = {
    "project.xml": lambda src: _hide(make_integration(src) / PROJECT),
    "a resource file": lambda src: _hide(make_integration(src) / WSDL),
    "a folder": lambda src: _hide(make_integration(src) / PROJECT_DIR / "resources"),
    "a folder it may list but not enter": lambda src: _hide(
        make_integration(src) / PROJECT_DIR / "resources", 0o444
    ),
    "the integration-path folder": lambda src: _hide(make_integration(src)),
    "the committed .iar": lambda src: _hide(_iar(src)),
    "the connection plan beside it": lambda src: _hide(
        _plan(make_integration(src) / "connectionPlan.properties")
    ),
}


def _plan(path: Path) -> Path:
    path.write_text("HELLO_REST_TRIGGER.connection.URL=https://example.com\n")
    return path


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_unreadable_as_nobody_is_one_line(case: str) -> None:
    with shared_dir() as work:
        src = work / "src"
        hidden = UNREADABLE[case](src)
        give_to_nobody(src)
        run = run_as_nobody("--integration-path", "src", "--manage-connections", "false", cwd=work)
        line = one_error(run.stderr)
        assert run.returncode == 1, run.stderr
        assert str(hidden.relative_to(work)) in line
        assert "Permission denied" in line
        assert not (work / "oic-artifacts").exists()


def test_artifact_dir_not_writable_as_nobody() -> None:
    with shared_dir() as work:
        make_integration(work / "src")
        (work / "locked").mkdir()
        give_to_nobody(work)
        (work / "locked").chmod(0o555)
        run = run_as_nobody(
            "--integration-path",
            "src",
            "--artifact-dir",
            "locked/art",
            "--manage-connections",
            "false",
            cwd=work,
        )
        line = one_error(run.stderr)
        assert run.returncode == 2
        assert "artifact-dir locked/art: cannot create (Permission denied)" in line


# -- a full disk while packing ---------------------------------------------------------------


def _big_source(src: Path) -> Path:
    """The example plus 600 KB that do not compress."""
    make_integration(src)
    (src / PROJECT_DIR / "resources/blob.bin").write_bytes(os.urandom(600 * 1024))
    return src


def test_file_size_limit_while_packing_is_one_line() -> None:
    """RLIMIT_FSIZE in the child: writes past 256 KB fail with EFBIG, as on a full disk."""
    with shared_dir() as work:
        _big_source(work / "src")
        run = run_cli_process(
            "--integration-path", "src", "--manage-connections", "false", cwd=work, fsize=256_000
        )
        line = one_error(run.stderr)
        assert run.returncode == 1
        assert "File too large" in line and f"oic-artifacts/{SLUG}" in line
        assert not (work / "oic-artifacts").exists()


@pytest.fixture
def small_disk(tmp_path: Path) -> Path:
    """A real 256 KiB tmpfs (root only; elsewhere the RLIMIT_FSIZE test stands in for it)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("kind", ["icspackage", "iar"])
def test_full_disk_is_one_line(
    kind: str, small_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _big_source(tmp_path / "src")
    if kind == "iar":
        with zipfile.ZipFile(src / f"{SLUG}.iar", "w", zipfile.ZIP_STORED) as zf:
            for file in sorted((src / "icspackage").rglob("*")):
                if file.is_file():
                    zf.write(file, file.relative_to(src).as_posix())
    rc = build_cli(src, out=small_disk / "art", json=False)
    line = one_error(capsys.readouterr().err)
    assert rc == 1
    assert "No space left on device" in line
    assert not (small_disk / "art").exists()


# -- one bad source in a batch ----------------------------------------------------------------


def test_batch_goes_on_past_every_kind_of_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    bad = ["self-referencing symlink", "non-UTF-8 file name", "encrypted resource"]
    for i, case in enumerate(bad):
        HOSTILE[case][0](root / "ints" / f"a{i}")
    good = make_integration(root / "ints" / "z_good")
    monkeypatch.chdir(root)
    rc = run_cli("--integration-path", "ints/*", "--manage-connections", "false", "--json")
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert rc == 1
    results = {r["path"]: r for r in json.loads(captured.out)["integrations"]}
    assert results["ints/z_good"]["status"] == "built"
    assert Path(results["ints/z_good"]["iar-path"]).is_file()
    for i, case in enumerate(bad):
        assert results[f"ints/a{i}"]["status"] == "failed", case
        assert HOSTILE[case][1] in results[f"ints/a{i}"]["error"]
    assert len(error_lines(captured.err)) == len(bad)
    assert good.exists()


# -- the last resort in cli.main ----------------------------------------------------------------


@pytest.mark.parametrize("debug", ["false", "true"])
def test_an_unforeseen_failure_outside_a_build_is_one_line(
    debug: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """$GITHUB_OUTPUT naming a folder fails where the outputs are written, after the builds:
    one line naming the exception type; the traceback only with debug on."""
    make_integration(tmp_path / "src")
    (tmp_path / "outputs").mkdir()
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "outputs"))
    rc = run_cli(
        "--integration-path", str(tmp_path / "src"), "--manage-connections", "false",
        "--debug", debug,
    )  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 1
    assert error_lines(err) == [
        f"error: oic-build: unexpected IsADirectoryError: [Errno 21] Is a directory: "
        f"'{tmp_path / 'outputs'}' (set debug to true for the traceback)"
    ]
    assert ("Traceback (most recent call last)" in err) == (debug == "true")


def test_a_folder_name_that_is_not_utf8_reaches_the_outputs_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its path in `integrations` is `\\xfe`-escaped text, not a lone surrogate that a strict
    JSON reader (or a UTF-8 encoder) refuses."""
    root = tmp_path / "repo"
    bad = Path(os.fsdecode(bytes(root / "ints") + b"/\xfe\xfd"))
    make_integration(bad)
    make_integration(root / "ints" / "good")
    monkeypatch.chdir(root)
    rc = run_cli("--integration-path", "ints/*", "--manage-connections", "false", "--json")
    out = capsys.readouterr().out
    assert rc == 1
    out.encode("utf-8")  # no lone surrogate anywhere
    paths = sorted(r["path"] for r in json.loads(out)["integrations"])
    assert paths == ["ints/\\xfe\\xfd", "ints/good"]
