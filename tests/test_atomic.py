"""The artifact folder under concurrency and kills (issue 12.7), with real processes: many
builds into one artifact-dir at once, SIGTERM and SIGKILL at any point of a build. At every
instant <CODE>_<VERSION>/ is a complete artifact or (between the two renames that replace one)
absent, never a mix; what a kill leaves is hidden and the next run removes it, and nothing else
(issue 18.2)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_process import CLI, cli_env, fork_cli, run_cli_process, start_cli
from conftest import build_cli as build
from conftest import make_integration, run_cli, tree_digest
from oic_standin import StandIn
from standin_fixtures import server_args

SLUG = "HELLO_WORLD_01.00.0000"
OFFLINE = ("--manage-connections", "false")


def _slow(src: Path, megabytes: int = 64) -> Path:
    """Hex text that deflate takes a while over (64 MB: a second or more), time to signal."""
    blob = src / f"icspackage/project/{SLUG}/resources/big.txt"
    blob.write_text(os.urandom(megabytes * 512 * 1024).hex())
    return src


def _complete(artifact: Path) -> bool:
    """A whole artifact: build-info.json, and the .iar it describes, intact."""
    try:
        info = json.loads((artifact / "build-info.json").read_text())
        iar = artifact / info["iar"]["file"]
        with zipfile.ZipFile(iar) as zf:
            return zf.testzip() is None and iar.stat().st_size == info["iar"]["size"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return False


def _look(artifact: Path) -> str:
    """ "whole", "absent" or "broken": the folder the name holds now, read through its handle. A
    swap during the read moves the name on (and the old folder is being removed), which says
    nothing against the new one, so only a folder still under the name when a read failed
    counts as broken."""
    try:
        fd = os.open(artifact, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return "absent"
    try:
        whole = _complete(Path(f"/proc/self/fd/{fd}"))
        return "whole" if whole or os.stat(artifact).st_ino != os.fstat(fd).st_ino else "broken"
    except FileNotFoundError:
        return "absent"
    finally:
        os.close(fd)


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _wait_for_staging(art: Path, proc: subprocess.Popen[str], timeout: float = 60) -> Path:
    """The build's hidden staging folder, once its .iar has started to be written there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        for iar in art.glob(f".*/**/{SLUG}.iar"):
            with contextlib.suppress(FileNotFoundError):
                if iar.stat().st_size > 0:
                    return art / iar.relative_to(art).parts[0]
        time.sleep(0.01)
    raise AssertionError(f"no staging folder seen (exit {proc.poll()})")


def test_48_concurrent_builds_into_one_artifact_dir(tmp_path: Path) -> None:
    """48 processes started at one instant into an artifact-dir none has made yet: 12 pack the
    tree, 12 copy an .iar of the same integration, 12 build another, and 12 fail while packing
    (a file-size limit: as a full disk) and remove what they made; a watcher checks that the
    artifact, once there, is whole (or, between the two renames of a replacement, absent) at
    every look, never broken."""
    make_integration(tmp_path / "tree")
    make_integration(tmp_path / "iar", as_iar=True)
    make_integration(tmp_path / "other", "OTHER")
    failing = make_integration(tmp_path / "failing", "FAILING")
    (failing / "icspackage/appinstances/blob.bin").write_bytes(os.urandom(300_000))
    art = tmp_path / "art"
    sources = ["tree", "iar", "other", "failing"] * 12
    gate_read, gate_write = os.pipe()
    children = [
        fork_cli(
            *("--integration-path", source, "--artifact-dir", "art", *OFFLINE),
            cwd=tmp_path,
            gate=gate_read,
            fsize=100_000 if source == "failing" else None,
        )
        for source in sources
    ]
    os.close(gate_read)
    seen_broken: list[str] = []
    looks: dict[str, int] = {"whole": 0, "absent": 0, "broken": 0}
    done = threading.Event()

    def watch() -> None:
        appeared = False
        while not done.is_set():
            seen = _look(art / SLUG)
            appeared = appeared or seen == "whole"
            if appeared:
                looks[seen] += 1
                if seen == "broken":
                    seen_broken.append(f"after {sum(looks.values())} looks")

    watcher = threading.Thread(target=watch)
    watcher.start()
    os.write(gate_write, b"go" * len(children))  # one byte each: all start now
    os.close(gate_write)
    runs = [child.wait() for child in children]
    done.set()
    watcher.join()
    for source, run in zip(sources, runs, strict=True):
        assert "Traceback" not in run.stderr
        if source == "failing":
            assert run.returncode == 1
            assert run.stderr.splitlines()[-1] == (
                "error: art/FAILING_01.00.0000: cannot write the artifact (File too large); "
                "nothing written"
            )
        else:
            assert run.returncode == 0, run.stderr
    assert seen_broken == []
    assert looks["whole"] > 0
    print(f"watcher: {looks}")
    assert sorted(p.name for p in art.iterdir()) == [SLUG, "OTHER_01.00.0000"]
    assert _complete(art / SLUG) and _complete(art / "OTHER_01.00.0000")


def test_sigterm_mid_build_cleans_up_and_keeps_the_previous_artifact(tmp_path: Path) -> None:
    src = make_integration(tmp_path / "src")
    assert build(src, out=tmp_path / "art") == 0
    before = tree_digest(tmp_path / "art")
    _slow(src)
    proc = start_cli("--integration-path", "src", "--artifact-dir", "art", *OFFLINE, cwd=tmp_path)
    stage = _wait_for_staging(tmp_path / "art", proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == "error: terminated (SIGTERM); nothing half-written is left"
    assert not stage.exists()
    assert tree_digest(tmp_path / "art") == before  # the previous artifact, whole; nothing hidden


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def test_sigterm_reaches_the_build_as_pid_1(tmp_path: Path) -> None:
    """In a container the build is PID 1, which the kernel sends no SIGTERM it has no handler
    for: here it runs as PID 1 of a new PID namespace (root only), as `docker stop` finds it."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a PID namespace needs root and unshare")
    probe = subprocess.run(["unshare", "--pid", "--fork", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a PID namespace here: {probe.stderr.decode().strip()}")
    _slow(make_integration(tmp_path / "src"))
    proc = subprocess.Popen(
        [
            *("unshare", "--pid", "--fork", "--kill-child", *CLI),
            *("--integration-path", "src", "--artifact-dir", "art", *OFFLINE),
        ],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_staging(tmp_path / "art", proc)
    [pid1] = _children(proc.pid)
    [nspid] = [x for x in Path(f"/proc/{pid1}/status").read_text().splitlines() if "NSpid" in x]
    assert nspid.split()[-1] == "1"  # PID 1 in its namespace
    os.kill(pid1, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert "terminated (SIGTERM)" in err and "Traceback" not in err
    assert proc.returncode == 143
    assert not (tmp_path / "art").exists()


def test_kill_9_at_any_point_leaves_a_whole_artifact_and_the_next_run_cleans(
    tmp_path: Path,
) -> None:
    """SIGKILL at twelve points spread over a build (start-up, staging, packing, the swap):
    after each, the artifact is the old or the new one, whole; the next run leaves nothing
    hidden."""
    src = _slow(make_integration(tmp_path / "src"), megabytes=4)
    art = tmp_path / "art"
    argv = ("--integration-path", "src", "--artifact-dir", "art", *OFFLINE)
    assert run_cli_process(*argv, cwd=tmp_path).returncode == 0
    start = time.monotonic()
    assert run_cli_process(*argv, cwd=tmp_path).returncode == 0
    took = time.monotonic() - start
    left = set()
    for i in range(12):
        (src / "icspackage/appinstances/extra.txt").write_text(str(i))  # each build differs
        proc = start_cli(*argv, cwd=tmp_path)
        time.sleep(took * (0.2 + 0.8 * i / 11))
        proc.kill()
        proc.communicate()
        assert _complete(art / SLUG), f"kill {i}"
        left.update(_hidden(art))
    assert left  # some kills did land while a staging folder was there
    done = run_cli_process(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _hidden(art) == []
    with zipfile.ZipFile(art / SLUG / f"{SLUG}.iar") as zf:
        assert zf.read("icspackage/appinstances/extra.txt") == b"11"
    print(f"hidden folders left by 12 kills, all removed by the next run: {sorted(left)}")


def test_kill_9_while_packing_a_big_tree(tmp_path: Path) -> None:
    src = _slow(make_integration(tmp_path / "src"))
    proc = start_cli("--integration-path", "src", "--artifact-dir", "art", *OFFLINE, cwd=tmp_path)
    stage = _wait_for_staging(tmp_path / "art", proc)
    proc.kill()
    proc.communicate()
    assert stage.exists()  # what a kill leaves: hidden, and only that
    (src / f"icspackage/project/{SLUG}/resources/big.txt").unlink()
    assert build(src, out=tmp_path / "art") == 0
    assert _hidden(tmp_path / "art") == []


def _kill_after_moving_aside(artifact: Path) -> Callable[[], None]:
    """Make a real build SIGKILL itself the instant it has moved the old artifact aside, before
    its own goes in: the one point where the final name is empty."""

    def setup() -> None:
        real_rename = os.rename

        def rename(src: str, dst: str) -> None:
            real_rename(src, dst)
            if os.path.abspath(src) == str(artifact):
                os.kill(os.getpid(), signal.SIGKILL)

        os.rename = rename  # type: ignore[assignment]

    return setup


def test_a_kill_between_the_two_renames_is_undone_by_the_next_run(tmp_path: Path) -> None:
    make_integration(tmp_path / "src")
    make_integration(tmp_path / "other", "OTHER")
    art = tmp_path / "art"
    assert build(tmp_path / "src", out=art) == 0
    old = tree_digest(art / SLUG)
    (tmp_path / "src/icspackage/appinstances/extra.txt").write_text("new")
    argv = ("--integration-path", "src", "--artifact-dir", "art", *OFFLINE)
    run = fork_cli(*argv, cwd=tmp_path, setup=_kill_after_moving_aside(art / SLUG)).wait()
    assert run.returncode == -signal.SIGKILL
    assert not (art / SLUG).exists()  # the instant the final name is empty
    assert len(_hidden(art)) == 1  # the old artifact sits in the dead run's staging folder
    assert build(tmp_path / "other", out=art) == 0  # any next run into the folder puts it back
    assert sorted(p.name for p in art.iterdir()) == [SLUG, "OTHER_01.00.0000"]
    assert tree_digest(art / SLUG) == old


def test_folders_that_merely_look_like_staging_are_left_alone(tmp_path: Path) -> None:
    """Issue 18.2: with `--artifact-dir .` (a folder holding the user's own folders), hidden
    folders named like staging or old folders (of this version or an earlier one) are never
    removed or renamed; only what a run of ours provably made (its marker) is."""
    src = make_integration(tmp_path / "src")
    here = Path.cwd()
    theirs = {
        ".drafts.partial-2024": "notes",
        ".config.old-2024-01-15": "settings",
        f".{SLUG}.partial-77-abcdef012345": "an earlier version's staging",
        f".{SLUG}.old-4242-0123456789ab": "an earlier version's old folder",
        f".{SLUG}.oic-build-abcd1234": "named as ours, no marker",
        ".X.oic-build-zzzz1111": "a marker that names another folder",
    }
    for name, text in theirs.items():
        (here / name).mkdir()
        (here / name / "file.txt").write_text(text)
    marker = {"tool": "oic-build", "folder": ".X.oic-build-other111", "pid": 1, "token": "0"}
    (here / ".X.oic-build-zzzz1111/.oic-build-run").write_text(json.dumps(marker))
    before = tree_digest(here)
    argv = ("--integration-path", str(src), "--artifact-dir", ".", *OFFLINE)
    assert run_cli(*argv) == 0
    assert run_cli(*argv) == 0  # a second run replaces the artifact and looks for leftovers
    after = tree_digest(here)
    assert {k: v for k, v in after.items() if not k.startswith(SLUG + "/")} == {
        k: v for k, v in before.items() if k != SLUG
    } | {SLUG: "dir"}
    assert _complete(here / SLUG)


def test_a_run_killed_before_its_marker_is_written_is_cleaned(tmp_path: Path) -> None:
    """A SIGKILL between mkdtemp and the marker's first byte leaves an empty folder of
    mkdtemp's own name, or one holding an empty marker: the next run removes both. A folder of
    that name holding anything else is left alone (rmdir cannot remove it)."""
    src = make_integration(tmp_path / "src")
    art = tmp_path / "art"
    argv = ("--integration-path", str(src), "--artifact-dir", str(art), *OFFLINE)
    assert run_cli(*argv) == 0
    (art / f".{SLUG}.oic-build-empty000").mkdir()
    (art / f".{SLUG}.oic-build-marker00").mkdir()
    (art / f".{SLUG}.oic-build-marker00/.oic-build-run").touch()
    (art / f".{SLUG}.oic-build-theirs00").mkdir()
    (art / f".{SLUG}.oic-build-theirs00/notes.txt").write_text("mine")
    assert run_cli(*argv) == 0
    assert _hidden(art) == [f".{SLUG}.oic-build-theirs00"]
    assert (art / f".{SLUG}.oic-build-theirs00/notes.txt").read_text() == "mine"
    assert _complete(art / SLUG)


def test_a_live_runs_staging_is_left_alone(tmp_path: Path) -> None:
    """A second build into the same artifact-dir while the first still packs: the first one's
    staging is live (its lock held), so it is left alone and the first build ends whole."""
    src = _slow(make_integration(tmp_path / "src"))
    make_integration(tmp_path / "other", "OTHER")
    art = tmp_path / "art"
    proc = start_cli("--integration-path", "src", "--artifact-dir", "art", *OFFLINE, cwd=tmp_path)
    stage = _wait_for_staging(art, proc)
    assert build(tmp_path / "other", out=art) == 0
    assert stage.exists()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert _complete(art / SLUG) and _hidden(art) == []
    assert src.exists()


def test_sigterm_while_waiting_on_oic(tmp_path: Path, oic_standin: StandIn) -> None:
    """docker stop while the export waits on a slow OIC: the staging folder is removed at once
    and the build ends (143) when the request in flight returns (bounded by its timeouts)."""
    make_integration(tmp_path / "src")
    oic_standin.add_connection("HELLO_REST_TRIGGER", {"id": "HELLO_REST_TRIGGER"})
    oic_standin.fault("connections/HELLO_REST_TRIGGER", "slow", seconds=3)
    proc = start_cli(
        *("--integration-path", "src", "--artifact-dir", "art"),
        *server_args(oic_standin),
        cwd=tmp_path,
    )
    _wait_for_staging(tmp_path / "art", proc)
    while oic_standin.connection_gets("HELLO_REST_TRIGGER") == 0:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert not (tmp_path / "art").exists()
