"""Hand results to the caller: $GITHUB_OUTPUT, the step summary, or one JSON object."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

Outputs = Mapping[str, str]


def to_output_text(value: object) -> str:
    """Lists become compact JSON (for fromJSON); everything else its string form."""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def write_github_outputs(outputs: Outputs, path: Path) -> None:
    """Append `name<<DELIM` blocks with a fresh random delimiter no value can contain."""
    lines = []
    for name, value in outputs.items():
        delim = f"ghadelimiter_{secrets.token_hex(16)}"
        while delim in value:
            delim = f"ghadelimiter_{secrets.token_hex(16)}"
        lines.append(f"{name}<<{delim}\n{value}\n{delim}\n")
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(lines))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "–"


def markdown_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A step-summary section; cells are escaped so an id like CODE|VERSION stays one cell."""
    lines = [f"### {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n"


def summary_markdown(rows: list[tuple[str, str]], title: str) -> str:
    return markdown_table(title, ("", ""), rows)


def write_step_summary(markdown: str, path: Path) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(markdown)


def emit(outputs: Outputs, summary: str, as_json: bool) -> str | None:
    """Write GitHub files when the runner names them; return the JSON text when asked for."""
    if path := os.environ.get("GITHUB_OUTPUT"):
        write_github_outputs(outputs, Path(path))
    if path := os.environ.get("GITHUB_STEP_SUMMARY"):
        write_step_summary(summary, Path(path))
    if as_json:
        decoded: dict[str, object] = {}
        for name, value in outputs.items():
            try:
                decoded[name] = json.loads(value) if value[:1] in "[{" else value
            except json.JSONDecodeError:
                decoded[name] = value
        return json.dumps(decoded, indent=2)
    return None
