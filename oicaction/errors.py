"""Error types that carry their exit code and the file at fault, so every failure is one line."""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_BUILD = 1
EXIT_USAGE = 2


class OicBuildError(Exception):
    """A failure to report as one line; `file` names the file at fault when there is one."""

    exit_code = EXIT_BUILD

    def __init__(self, message: str, file: Path | str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = Path(file) if file is not None else None

    def __str__(self) -> str:
        return self.message


class SettingsError(OicBuildError):
    """Bad settings or usage: exit code 2."""

    exit_code = EXIT_USAGE


class SourceError(OicBuildError):
    """The integration source is missing, ambiguous or malformed."""


class ServerError(OicBuildError):
    """The OIC server refused or failed a request the build needs."""
