"""Run oic-build as a real process: as an unprivileged user, under a file-size limit, or to be
signalled. Tests run as root here, and root reads anything, so "unreadable" needs another uid."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

NOBODY = 65534
CLI = [sys.executable, "-c", "import sys; from oicaction.cli import main; sys.exit(main())"]
# Only what a process needs: no runner, input or OIC_ variable of the host.
_KEEP = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "TMPDIR")


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _KEEP}
    env["HOME"] = tempfile.gettempdir()
    env.update(extra)
    return env


@dataclass
class Forked:
    """A forked child running main(); wait() for its exit code and output."""

    pid: int
    out: IO[bytes]
    err: IO[bytes]

    def wait(self) -> subprocess.CompletedProcess[str]:
        _, status = os.waitpid(self.pid, 0)
        texts = []
        for stream in (self.out, self.err):
            stream.seek(0)
            texts.append(stream.read().decode(errors="backslashreplace"))
            stream.close()
        return subprocess.CompletedProcess([], os.waitstatus_to_exitcode(status), *texts)


def fork_cli(
    *argv: str,
    cwd: Path,
    as_nobody: bool = False,
    gate: int | None = None,
    fsize: int | None = None,
    setup: Callable[[], None] | None = None,
) -> Forked:
    """main() in a forked child, optionally dropped to nobody (when we are root; else it runs as
    ourselves, already unprivileged) and held until it reads a byte from `gate` (a pipe);
    `setup` runs in the child first (to make a real event happen at an exact point).
    Forked, not exec'd: cheap for many at once, and the interpreter may live where nobody
    cannot read (here under /root), so everything is imported before the uid changes."""
    from oicaction.cli import main

    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115
    pid = os.fork()
    if pid:
        return Forked(pid, out, err)
    code = 99  # the child: never returns into pytest
    try:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        if as_nobody and os.geteuid() == 0:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        os.chdir(cwd)
        if fsize is not None:  # Python ignores SIGXFSZ: a write past it fails with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        if gate is not None:
            os.read(gate, 1)
        if setup is not None:
            setup()
        code = main(list(argv))
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_as_nobody(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return fork_cli(*argv, cwd=cwd, as_nobody=True).wait()


def start_cli(*argv: str, cwd: Path, fsize: int | None = None) -> subprocess.Popen[str]:
    """The CLI as a real process (to signal it, or to limit it)."""

    def limit() -> None:
        if fsize is not None:  # Python ignores SIGXFSZ, so a write past it fails with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.Popen(
        [*CLI, *argv],
        cwd=cwd,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
    )


def run_cli_process(
    *argv: str, cwd: Path, fsize: int | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    proc = start_cli(*argv, cwd=cwd, fsize=fsize)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@contextmanager
def shared_dir() -> Iterator[Path]:
    """A folder nobody can work in (pytest's tmp_path is root's, mode 0700)."""
    path = Path(tempfile.mkdtemp(prefix="oic-build-nobody-"))
    try:
        path.chmod(0o755)
        if os.geteuid() == 0:
            os.chown(path, NOBODY, NOBODY)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def give_to_nobody(root: Path) -> None:
    """Hand a tree we made to nobody, so the only thing it cannot read is what a test hides."""
    if os.geteuid() != 0:
        return
    os.chown(root, NOBODY, NOBODY)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), NOBODY, NOBODY, follow_symlinks=False)
