"""A run stopped from outside, with real processes and real signals (issue 18.13, 18.14): SIGTERM
and Ctrl-C while packing end as 143 and 130 with one line, wherever they land, and a batch
builds nothing more; stdout closed early (`| head -1`) ends quietly as 141. Never a traceback,
never a staging folder left."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_process import CLI, cli_env, fork_cli, start_cli
from conftest import make_integration

SLUG = "HELLO_WORLD_01.00.0000"
OFFLINE = ("--manage-connections", "false")
LAST_LINE = {
    signal.SIGTERM: (143, "error: terminated (SIGTERM); nothing half-written is left"),
    signal.SIGINT: (130, "error: interrupted (SIGINT); nothing half-written is left"),
}


def _example(dest: Path, code: str = "HELLO_WORLD", big_mb: int = 0) -> Path:
    """An integration; with `big_mb`, hex text that deflate takes a while over: time to signal
    mid-pack."""
    big = os.urandom(big_mb * 512 * 1024).hex().encode() if big_mb else None
    path = f"icspackage/project/{code}_01.00.0000/resources/big.txt"
    return make_integration(dest, code, extra={path: big} if big else None)


def _everything(art: Path) -> list[str]:
    return sorted(p.relative_to(art).as_posix() for p in art.rglob("*")) if art.exists() else []


def _signal_as_an_entry_opens(signum: int) -> Callable[[], None]:
    """Make the kernel deliver `signum` the instant zipfile has opened an entry for writing and
    before the packer holds its handle: the window where zipfile's own cleanup raised
    "Can't close the ZIP file while there is an open writing handle", which the build took
    for a failure (exit 1, "unexpected ValueError") and a batch went on after."""

    def setup() -> None:
        real_open = zipfile.ZipFile.open

        def open_then_signal(self: zipfile.ZipFile, name: object, mode: str = "r", **kw: object):  # type: ignore[no-untyped-def]
            handle = real_open(self, name, mode, **kw)  # type: ignore[arg-type]
            if mode == "w":
                os.kill(os.getpid(), signum)
            return handle

        zipfile.ZipFile.open = open_then_signal  # type: ignore[method-assign]

    return setup


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_inside_zipfile_stops_the_whole_batch(tmp_path: Path, signum: int) -> None:
    for code in ("AAA", "BBB", "CCC"):
        _example(tmp_path / code.lower(), code)
    argv = ("--integration-path", "aaa,bbb,ccc", "--artifact-dir", "art", *OFFLINE)
    run = fork_cli(*argv, cwd=tmp_path, setup=_signal_as_an_entry_opens(signum)).wait()
    code, line = LAST_LINE[signal.Signals(signum)]
    assert (run.returncode, run.stderr.splitlines()[-1]) == (code, line), run.stderr
    assert "unexpected" not in run.stderr and "Traceback" not in run.stderr
    assert "Exception ignored" not in run.stderr
    assert _everything(tmp_path / "art") == []  # BBB and CCC were not built after the signal


def test_signals_mid_pack_of_a_big_file(tmp_path: Path) -> None:
    """Six real builds of a 32 MB file, each stopped at a random instant of its packing."""
    _example(tmp_path / "src", big_mb=32)
    rng = random.Random(18_13)
    for signum in [signal.SIGTERM, signal.SIGINT] * 3:
        proc = start_cli(
            "--integration-path", "src", "--artifact-dir", "art", *OFFLINE, cwd=tmp_path
        )
        assert proc.stdout is not None and proc.stderr is not None
        for line in proc.stderr:  # packing starts right after this line
            if line.startswith("integration HELLO_WORLD"):
                break
        try:
            proc.wait(timeout=rng.uniform(0.05, 0.5))
        except subprocess.TimeoutExpired:
            proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert (proc.returncode, err.splitlines()[-1]) == LAST_LINE[signum], err
        assert "Traceback" not in err and "Exception ignored" not in err
        assert _everything(tmp_path / "art") == []


def _github_env() -> dict[str, str]:
    return cli_env(GITHUB_ACTIONS="true")


def test_stdout_closed_mid_build_in_github_mode(tmp_path: Path) -> None:
    """As `| head -1`: the reader takes one line and goes; the build stops at its next line,
    removes its staging folder and says so in one line on stderr (exit 141, as SIGPIPE)."""
    _example(tmp_path / "src", big_mb=16)
    proc = subprocess.Popen(
        [*CLI, "--integration-path", "src", "--artifact-dir", "art", *OFFLINE],
        cwd=tmp_path,
        env=_github_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith("integration HELLO_WORLD")
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert err.splitlines() == ["error: stdout closed (broken pipe); nothing half-written is left"]
    assert _everything(tmp_path / "art") == []


def test_stdout_closed_before_the_first_line(tmp_path: Path) -> None:
    _example(tmp_path / "src")
    read, write = os.pipe()
    os.close(read)
    try:
        run = subprocess.run(
            [*CLI, "--integration-path", "src", "--artifact-dir", "art", *OFFLINE],
            cwd=tmp_path,
            env=_github_env(),
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)
    assert run.returncode == 141
    assert run.stderr.splitlines() == [
        "error: stdout closed (broken pipe); nothing half-written is left"
    ]
    assert not (tmp_path / "art").exists()
