"""The one place that prints, so the one place that makes text safe to print: every line passes
the run's Redactor; values are escaped as the GitHub runner reads workflow commands (`%`, CR, LF;
in properties also `:` and `,`), so no name from a file or the server breaks a line in two; and a
plain line never reads as a command (a leading `::`, or `##[` anywhere, escaped), outside GitHub
too, since `docker run` in a workflow step prints into a log the runner parses.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from .errors import EXIT_SIGPIPE
from .redact import Redactor


def escape_data(text: str) -> str:
    """Workflow command data, as the runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def plain_line(text: str) -> str:
    """One log line that the runner shows as text, never runs as a command. The runner shows
    a plain line as it is (only a command's data is unescaped), so `%` stays `%` (a URL's
    `%7C` must not read `%257C`); CR and LF are escaped to keep it one line."""
    text = text.replace("\r", "%0D").replace("\n", "%0A").replace("##[", "##%5B")
    stripped = text.lstrip()
    if stripped.startswith("::"):
        text = text[: len(text) - len(stripped)] + "%3A" + stripped[1:]
    return text


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
    """The one place that prints; holds the run's redactor and whether it talks to a runner."""

    def __init__(
        self,
        github: bool | None = None,
        stream: TextIO | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.github = os.environ.get("GITHUB_ACTIONS") == "true" if github is None else github
        self.stream = stream or (sys.stdout if self.github else sys.stderr)
        self.redactor = redactor if redactor is not None else Redactor()

    def add_secrets(self, values: Iterable[str]) -> None:
        """Register secrets; in GitHub, mask them before any other line is printed."""
        for value in values:
            if not value or value in self.redactor:
                continue
            self.redactor.add(value)
            if self.github:
                for line in value.splitlines() or [value]:
                    if line.strip():
                        self._command("add-mask", line)

    def _write(self, line: str) -> None:
        _emit(self.stream, line + "\n")

    def _command(self, name: str, data: str, file: Path | None = None) -> None:
        """The only way a workflow command is written; its data and properties escaped."""
        props = ""
        if file is not None:  # a property: also `:` and `,` escaped
            where = escape_data(_workspace_relative(file))
            props = f" file={where.replace(':', '%3A').replace(',', '%2C')}"
        self._write(f"::{name}{props}::{escape_data(data)}")

    def info(self, message: str) -> None:
        self._write(plain_line(self.redactor.text(message)))

    def _annotate(self, level: str, message: str, file: Path | None) -> None:
        message = self.redactor.text(message)
        if self.github:
            if file is not None:
                file = Path(self.redactor.text(str(file)))
            self._command(level, message, file)
        else:
            self._write(plain_line(f"{level}: {message}"))

    def warning(self, message: str, file: Path | None = None) -> None:
        self._annotate("warning", message, file)

    def error(self, message: str, file: Path | None = None) -> None:
        self._annotate("error", message, file)

    def result(self, json_text: str) -> None:
        """The --json object, on stdout whatever the log stream: redacted value by value (so
        it stays valid JSON whatever a secret holds). No line of indented JSON starts with `::`,
        and `##[` can only sit inside a string, where `\\u005b` spells the same `[`."""
        try:
            text = json.dumps(self.redactor.data(json.loads(json_text)), indent=2)
        except json.JSONDecodeError:
            text = self.redactor.text(json_text)
        _emit(sys.stdout, text.replace("##[", "##\\u005b") + "\n")


def _emit(stream: TextIO, text: str) -> None:
    """Write and flush. A reader that went away (`| head -1`, a closed pipe) stops the run as
    SIGPIPE would: SystemExit(141) unwinds like SIGTERM (the staging folder is removed) and no
    per-integration handler takes it for a build failure."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise SystemExit(EXIT_SIGPIPE) from None
