"""Error types that carry their exit code and the file at fault, so every failure is one line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

EXIT_OK = 0
EXIT_BUILD = 1
EXIT_USAGE = 2
# A run stopped from outside ends as a shell shows a process killed by the signal: 128 + its
# number. SIGTERM and a closed stdout (SIGPIPE) are raised as SystemExit with that code.
EXIT_SIGINT = 130
EXIT_SIGPIPE = 141
EXIT_SIGTERM = 143


class OicBuildError(Exception):
    """A failure to report as one line; `file` names the file at fault when there is one."""

    exit_code = EXIT_BUILD

    def __init__(self, message: str, file: Path | str | None = None) -> None:
        super().__init__(message)
        self.file = Path(file) if file is not None else None


class SettingsError(OicBuildError):
    """Bad settings or usage: exit code 2."""

    exit_code = EXIT_USAGE


class SourceError(OicBuildError):
    """The integration source is missing, ambiguous or malformed."""


class ServerError(OicBuildError):
    """The OIC server refused or failed a request the build needs."""


class ArtifactError(OicBuildError):
    """The artifact folder could not be written (disk full, no permission)."""


def one_line(text: str, limit: int = 1000) -> str:
    """Collapse whitespace (newlines included) and cut overly long text."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Reading a source: an OSError (no permission, a symlink loop, a name too long, an I/O
    error) becomes a SourceError naming the path at fault."""
    try:
        yield
    except OSError as exc:
        at = exc.filename if exc.filename is not None else path
        raise SourceError(
            f"{at}: cannot read ({exc.strerror or type(exc).__name__})", file=path
        ) from None


def shown_path(path: Path) -> str:
    """A path as text that any sink can carry: bytes that are not UTF-8 escaped (`\\xff`),
    never the lone surrogates Python reads them as."""
    return os.fsencode(path).decode("utf-8", "backslashreplace").replace(os.sep, "/")


def unexpected(exc: Exception, where: str) -> OicBuildError:
    """The last resort: an exception nothing mapped (a bug, or an input not foreseen), as one
    line naming its type."""
    text = one_line(str(exc))
    return OicBuildError(
        f"{where}: unexpected {type(exc).__name__}{': ' + text if text else ''} "
        "(set debug to true for the traceback)"
    )


def stop_of(exc: BaseException) -> KeyboardInterrupt | SystemExit | None:
    """The stop (Ctrl-C, SIGTERM, stdout closed) behind `exc`, if there is one. A library that
    cleans up after one can raise its own error on the way out (zipfile: "Can't close the ZIP
    file while there is an open writing handle"); the run must still end as stopped."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt) or (
            isinstance(cause, SystemExit) and cause.code in (EXIT_SIGTERM, EXIT_SIGPIPE)
        ):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None
