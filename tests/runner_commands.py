"""How the GitHub runner reads workflow commands out of a step's log, for the injection tests.

Written after the runner's own parser (actions/runner, src/Runner.Common/ActionCommand.cs and
src/Runner.Worker/ActionCommandManager.cs): a line is split on CR, LF or CRLF; `::name
props::data` counts after leading whitespace is trimmed, the older `##[name props]data` anywhere
in the line; only registered command names count; data and properties are unescaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REGISTERED = frozenset(
    {
        "add-mask",
        "add-matcher",
        "add-path",
        "debug",
        "echo",
        "endgroup",
        "error",
        "group",
        "notice",
        "remove-matcher",
        "save-state",
        "set-env",
        "set-output",
        "stop-commands",
        "warning",
    }
)


@dataclass
class Command:
    name: str
    data: str
    properties: dict[str, str] = field(default_factory=dict)


def _unescape(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for token, replacement in pairs:
        text = text.replace(replacement, token)
    return text


_DATA = (("\r", "%0D"), ("\n", "%0A"), ("%", "%25"))
_PROPERTY = (("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25"))
_V1 = ((";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D"), ("%", "%25"))


def _v2(line: str) -> Command | None:
    message = line.lstrip()
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    name, _, props = info.partition(" ")
    if name.lower() not in REGISTERED:
        return None
    properties = {}
    for prop in filter(None, props.strip().split(",")):
        key, eq, value = prop.partition("=")
        if eq and key and value:
            properties[key] = _unescape(value, _PROPERTY)
    return Command(name.lower(), _unescape(message[end + 2 :], _DATA), properties)


def _v1(line: str) -> Command | None:
    start = line.find("##[")
    if start < 0:
        return None
    close = line.find("]", start)
    if close < 0:
        return None
    name, _, props = line[start + 3 : close].partition(" ")
    if name.lower() not in REGISTERED:
        return None
    properties = {}
    for prop in filter(None, props.split(";")):
        key, eq, value = prop.partition("=")
        if eq and key and value:
            properties[key] = _unescape(value, _V1)
    return Command(name.lower(), _unescape(line[close + 1 :], _V1), properties)


def commands(log: str) -> list[Command]:
    """Every workflow command the runner would run from this log text."""
    found = []
    for line in re.split(r"\r\n|\r|\n", log):
        if line and (cmd := _v2(line) or _v1(line)) is not None:
            found.append(cmd)
    return found


def read_output_file(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: `name=value` lines and `name<<DELIM` blocks."""
    lines = text.split("\n")
    values: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, _, delim = line.partition("<<")
            body = []
            while lines[i] != delim:
                body.append(lines[i])
                i += 1
            i += 1
            values[name] = "\n".join(body)
        else:
            name, _, value = line.partition("=")
            values[name] = value
        assert re.fullmatch(r"[A-Za-z0-9_-]+", name), f"unexpected line {line!r}"
    return values
