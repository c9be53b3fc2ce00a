"""`discover --changed-since` over a work tree holding what is not a plain file (issue 18.12): a
FIFO, a character device, a large file. Only regular files are read, as a stream: no hang, no
read without end, memory bounded. Each run is a real process under a timeout."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_process import cli_env
from conftest import git as _git
from conftest import make_integration, needs_git

pytestmark = needs_git


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Path, str]:
    """Two integrations committed; then one of them changed in the work tree."""
    repo = tmp_path / "repo"
    make_integration(repo / "one")
    make_integration(repo / "two", "TWO")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "two integrations")
    (repo / "two/icspackage/appinstances/new.txt").write_text("changed")
    return repo, _git(repo, "rev-parse", "HEAD")


LIMIT = 1536 << 20  # bytes of address space for the discover process
# The CLI, then its own peak memory (KiB) as the last line of stderr.
MEASURED = [
    sys.executable,
    "-c",
    "import resource, sys; from oicaction.cli import main; code = main(); "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)",
]


def _address_space_limit() -> None:
    """A regression (a device read without end) fails with MemoryError, not the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def _discover(repo: Path, base: str) -> tuple[list[str], int]:
    """Codes found, and the peak memory (KiB) of the process, which must end within 60 s."""
    proc = subprocess.Popen(
        [*MEASURED, "discover", "--json", "--changed-since", base],
        cwd=repo,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_address_space_limit,
    )
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("discover did not end within 60 s") from None
    assert proc.returncode == 0, err
    found = sorted(i["code"] for i in json.loads(out)["integrations"])
    return found, int(err.splitlines()[-1])


def test_a_fifo_and_a_device_in_the_work_tree(checkout: tuple[Path, str]) -> None:
    repo, base = checkout
    os.mkfifo(repo / "one/pipe")  # nobody writes to it: opening it would wait forever
    with contextlib.suppress(PermissionError):  # no CAP_MKNOD: the FIFO still tells
        os.mknod(repo / "one/zero", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # a /dev/zero
    found, _ = _discover(repo, base)
    assert found == ["TWO"]  # `one` holds nothing git tracks that changed


def test_a_large_untracked_file_is_hashed_at_bounded_memory(checkout: tuple[Path, str]) -> None:
    """A 1 GiB file (sparse: no disk needed) beside a source: read in chunks, so the process
    stays far below its size (before: the whole file in memory, over 1 GiB)."""
    repo, base = checkout
    with (repo / "one/huge.bin").open("wb") as fh:
        fh.truncate(1 << 30)
    found, peak_kib = _discover(repo, base)
    assert found == ["HELLO_WORLD", "TWO"]  # the new file is a change in `one`
    print(f"discover --changed-since with a 1 GiB untracked file: peak RSS {peak_kib // 1024} MiB")
    assert peak_kib < 200 * 1024
