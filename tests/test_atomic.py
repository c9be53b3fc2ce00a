"""The artifact folder under concurrency and kills (issue 12.7), with real processes: many
builds into one artifact-dir at once, SIGTERM and SIGKILL at any point of a build. At every
instant <CODE>_<VERSION>/ is a complete artifact (once one was built); what a kill leaves is
hidden and the next run removes it."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import zipfile
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


def _whole_at_this_instant(artifact: Path) -> bool:
    """Read the folder the name holds now, through its handle: a swap during the read moves the
    name on (and the old folder is being removed), which says nothing against the new one, so
    only a folder still under the name when a read failed counts as broken."""
    try:
        fd = os.open(artifact, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return False
    try:
        return _complete(Path(f"/proc/self/fd/{fd}")) or (
            os.stat(artifact).st_ino != os.fstat(fd).st_ino
        )
    except FileNotFoundError:
        return False
    finally:
        os.close(fd)


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _wait_for_staging(art: Path, proc: subprocess.Popen[str], timeout: float = 60) -> Path:
    """The build's staging folder, once its .iar has started to be written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        for stage in art.glob(f".{SLUG}.partial-*"):
            iar = stage / f"{SLUG}.iar"
            if iar.exists() and iar.stat().st_size > 0:
                return stage
        time.sleep(0.01)
    raise AssertionError(f"no staging folder seen (exit {proc.poll()})")


def test_48_concurrent_builds_into_one_artifact_dir(tmp_path: Path) -> None:
    """48 processes started at one instant into an artifact-dir none has made yet: 12 pack the
    tree, 12 copy an .iar of the same integration, 12 build another, and 12 fail while packing
    (a file-size limit: as a full disk) and remove what they made; a watcher checks that the
    artifact, once there, is whole at every look."""
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
    looks = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal looks
        appeared = False
        while not done.is_set():
            whole = _whole_at_this_instant(art / SLUG)
            appeared = appeared or whole
            if appeared:
                looks += 1
                if not whole:
                    seen_broken.append(f"after {looks} looks")

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
    assert looks > 0
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


def test_states_left_by_dead_runs_are_cleaned(tmp_path: Path) -> None:
    """Staging of earlier versions (`.<slug>.partial-<hex>`), of a dead run of this one, and an
    old artifact moved aside by a kill between the two renames of the fallback swap (its final
    name empty): removed, and the old artifact put back."""
    make_integration(tmp_path / "src")
    make_integration(tmp_path / "other", "OTHER")
    art = tmp_path / "art"
    assert build(tmp_path / "src", out=art) == 0
    old = tree_digest(art / SLUG)
    (art / SLUG).rename(art / f".{SLUG}.old-4242-0123456789ab")
    for name in (".X_01.00.0000.partial-0123456789ab", f".{SLUG}.partial-77-abcdef012345"):
        (art / name / "half").mkdir(parents=True)
    assert build(tmp_path / "other", out=art) == 0
    assert sorted(p.name for p in art.iterdir()) == [SLUG, "OTHER_01.00.0000"]
    assert tree_digest(art / SLUG) == old


def test_a_live_runs_staging_is_left_alone(tmp_path: Path) -> None:
    make_integration(tmp_path / "src")
    art = tmp_path / "art"
    live = art / f".{SLUG}.partial-1-0123456789ab"
    live.mkdir(parents=True)
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as the run that made it holds it while it lives
    argv = ("--integration-path", str(tmp_path / "src"), "--artifact-dir", str(art), *OFFLINE)
    try:
        assert run_cli(*argv) == 0
        assert live.exists()
    finally:
        os.close(fd)
    assert run_cli(*argv) == 0
    assert _hidden(art) == []


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
