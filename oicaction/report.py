"""Say what happens: plain log lines locally, workflow commands (masks, annotations) in GitHub.

Every line goes through `redact`, so a secret that slips into a message is still never printed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO


def in_github() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _workspace_relative(path: Path) -> str:
    """Annotations need a path relative to the checkout; walk up to a file that exists."""
    while not path.exists() and path.parent != path:
        path = path.parent
    base = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()
    resolved = path.resolve()
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


class Reporter:
    """The one place that prints; knows the secrets and whether it talks to a GitHub runner."""

    def __init__(self, github: bool | None = None, stream: TextIO | None = None) -> None:
        self.github = in_github() if github is None else github
        self.stream = stream or (sys.stdout if self.github else sys.stderr)
        self._secrets: list[str] = []
        self.warnings: list[str] = []

    def add_secrets(self, values: Iterable[str]) -> None:
        """Register secrets; in GitHub, mask them before any other line is printed."""
        for value in values:
            if not value or value in self._secrets:
                continue
            self._secrets.append(value)
            if self.github:
                for line in value.splitlines() or [value]:
                    if line.strip():
                        self._write(f"::add-mask::{_escape_data(line)}")
        self._secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def info(self, message: str) -> None:
        self._write(self.redact(message))

    def _annotate(self, level: str, message: str, file: Path | None) -> None:
        message = self.redact(message)
        if self.github:
            props = f" file={_escape_property(_workspace_relative(file))}" if file else ""
            self._write(f"::{level}{props}::{_escape_data(message)}")
        else:
            self._write(f"{level}: {message}")

    def warning(self, message: str, file: Path | None = None) -> None:
        self.warnings.append(self.redact(message))
        self._annotate("warning", message, file)

    def error(self, message: str, file: Path | None = None) -> None:
        self._annotate("error", message, file)
