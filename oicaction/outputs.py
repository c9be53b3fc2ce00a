"""What a run hands back, shaped in one place: the step outputs and the step summary, kept as
Python values until a sink writes them ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, --json). Each
sink redacts the values first and escapes for its own syntax after, so a secret is found in the
form it was registered in, whatever characters it holds."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import shown_path
from .redact import Redactor
from .source.metadata import Cell, Code

if TYPE_CHECKING:
    from .modes.batch import Outcome
    from .modes.build import BuildResult
    from .modes.deploy.context import DeployOutcome
    from .modes.discover import Found, Problem
    from .modes.pull.run import Pulled

# Step outputs by name: a string, or a list or object that the sinks write as JSON.
Outputs = dict[str, object]

# Every step output, with its description: action.yml and README are generated from it
# (scripts/gen_action.py); the CLI's --json prints the same names.
OUTPUTS: dict[str, str] = {
    "integration-id": "The integration id, `CODE|VERSION`. deploy, one artifact: the id "
    "deployed (a project's id for a project).",
    "integration-code": "The integration code.",
    "integration-version": "The integration version, `NN.NN.NNNN`.",
    "integration-name": "The integration's display name.",
    "iar-path": "Path of the built `.iar` inside the artifact folder.",
    "artifact-dir": "The artifact folder of this integration, `<artifact-dir>/<CODE>_<VERSION>` "
    "(of a project, `<artifact-dir>/<CODE>`); upload this. In a batch, the root folder of all "
    "of them.",
    "source-kind": "What the archive was built from, `iar` or `icspackage`; `project` for a "
    "project (`.car` or `project/`).",
    "sha256": "SHA-256 of the `.iar` (of the `.car` for a project).",
    "connections": "JSON array of the connection codes the integration (or project) uses.",
    "lookups": "JSON array of the lookup names the integration (or project) uses.",
    "connections-file": "Path of `connections.json` when connections were exported, else empty.",
    "project-code": "Project builds: the project code.",
    "project-name": "Project builds: the project's display name.",
    "project-revision": "Project builds: `projectRevision` from `project.yaml`.",
    "project-integrations": "Project builds: JSON array of the project's integration ids, "
    "`CODE|VERSION`.",
    "car-path": "Project builds: path of the built `.car` inside the artifact folder.",
    "integrations": "JSON array. discover: `[{path, kind, code, version, id}]` for "
    "`strategy.matrix` (`kind` is `integration` or `project`); build: one result per integration "
    "or project `[{path, kind, id, code, version, status, artifact-dir, iar-path, sha256, "
    "error}]`, plus `car-path` and `integrations` for a project.",
    "changed": "pull: `true` when the pull changed the working tree (something added or "
    "updated), else `false`.",
    "pulled": "pull: JSON array, one per integration or project pulled, `[{id, kind, path, "
    "status, previous}]`: `status` is `added`, `updated` or `unchanged`, `path` the folder "
    "written (`<integration-path>/<CODE>`), `previous` the ids that folder held before.",
    "deployed": "deploy: JSON array, one entry per artifact `[{path, kind, id, action, status, "
    "previous-status, changes, error}]`: `action` `added` or `replaced`; `status` `ACTIVATED`, "
    "`CONFIGURED`, `FAILED`, `ROLLED_BACK` (or `PLANNED` in a dry run); `previous-status` the "
    "integration's status before (a project: an object per integration; null when it was not "
    "there); `changes` what was (or would be) done, secret values as `(set)`.",
    "status": "deploy, one artifact: its status in `deployed`.",
}


def write_github_outputs(outputs: Outputs, path: Path) -> None:
    """Append `name<<DELIM` blocks, each with a fresh random delimiter (128 bits: no value can
    hold it by chance, nor guess it); lists and objects as compact JSON (for fromJSON)."""
    lines = []
    for name, given in outputs.items():
        if isinstance(given, list | tuple | dict):
            value = json.dumps(given, separators=(",", ":"))
        else:
            value = "" if given is None else str(given)
        delim = f"ghadelimiter_{secrets.token_hex(16)}"
        lines.append(f"{name}<<{delim}\n{value}\n{delim}\n")
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(lines))


@dataclass(frozen=True)
class Table:
    """A step-summary section: a title, column headers and rows of cells."""

    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]


def text(*parts: str) -> Cell:
    return Cell(parts)


def code_span(text: str) -> str:
    """An inline code span around any text: a fence longer than any run of backticks inside,
    so a name holding backticks cannot end the span early and inject Markdown."""
    text = " ".join(text.splitlines())
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def plain(text: str) -> str:
    """Text shown as it is: Markdown and HTML signs are backslash-escaped, so a name or an
    error message cannot add a link, an image or markup to the summary."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!~&])", r"\\\1", text)


def _cell(cell: Cell, redact: Callable[[str], str]) -> str:
    """One table cell: each part redacted, then escaped as code or text; one line, and no `|`
    that ends the cell (escaped in code spans too, as GFM tables require)."""
    shown = [
        code_span(redact(part)) if isinstance(part, Code) else plain(redact(part))
        for part in cell.parts
        if part
    ]
    return " ".join(cell.sep.join(shown).split()).replace("|", "\\|") or "–"


def markdown(table: Table, redact: Callable[[str], str] = str) -> str:
    """The summary section in GitHub Markdown; an id like CODE|VERSION stays one cell."""
    lines = [f"### {plain(redact(table.title))}", ""]
    lines += ["| " + " | ".join(table.headers) + " |", "|" + "---|" * len(table.headers)]
    lines += ["| " + " | ".join(_cell(c, redact) for c in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n\n"


def result_outputs(result: BuildResult) -> Outputs:
    """The step outputs of one integration or project built; the other kind's own outputs
    are not set, so a workflow reads them as empty."""
    meta, record = result.meta, result.record
    exported = record.exported
    return {
        **meta.output_values(),
        meta.archive_output: result.archive.as_posix(),
        "artifact-dir": result.artifact.as_posix(),
        "source-kind": result.source.output_kind,
        "sha256": record.archive.sha256,
        "connections": [c.code for c in meta.connections],
        "lookups": list(meta.lookups),
        "connections-file": exported.connections_file if exported else "",
    }


def result_summary(result: BuildResult) -> Table:
    """The step summary of one integration or project built."""
    meta, record = result.meta, result.record
    rows = [
        *meta.summary_rows(),
        ("Source", text(f"{result.source.kind}:", Code(result.source.path.as_posix()))),
        ("Archive", text(Code(result.archive.as_posix()))),
        ("SHA-256", text(Code(record.archive.sha256))),
        ("Connections", text(", ".join(c.code for c in meta.connections))),
        ("Lookups", text(", ".join(meta.lookups))),
        ("Exported from server", text(record.exported.server if record.exported else "no")),
    ]
    return Table("oic-build", ("", ""), [(text(label), cell) for label, cell in rows])


def outcome_record(outcome: Outcome) -> dict[str, object]:
    """One entry of the `integrations` output of a build: built, or failed with its error."""
    meta = outcome.checked.meta if outcome.checked else None
    res = outcome.result
    entry: dict[str, object] = {
        "path": outcome.path,
        "kind": meta.kind if meta else None,
        "id": meta.id if meta else None,
        "code": meta.code if meta else None,
        "version": meta.version if meta else None,
        "status": "built" if res else "failed",
        "artifact-dir": res.artifact.as_posix() if res else None,
        "iar-path": None,
        "sha256": res.record.archive.sha256 if res else None,
        "error": str(outcome.error) if outcome.error else None,
    }
    if meta is not None:
        entry[meta.archive_output] = res.archive.as_posix() if res else None
        entry.update(meta.result_values())
    return entry


def build_outputs(artifact_dir: Path, outcomes: Sequence[Outcome], single: bool) -> Outputs:
    """A single integration built: its outputs; a batch: the root folder and every result.
    `integrations` is there either way, so a workflow can read it whatever it asked for."""
    records = [outcome_record(o) for o in outcomes]
    if single and (result := outcomes[0].result):
        return {**result_outputs(result), "integrations": records}
    return {"artifact-dir": artifact_dir.as_posix(), "integrations": records}


def build_summary(outcomes: Sequence[Outcome], single: bool) -> Table:
    if single and (result := outcomes[0].result):
        return result_summary(result)
    rows = [
        (
            text(Code(o.checked.meta.id)) if o.checked else text(),
            text(Code(o.path)),
            text("built") if o.result else text(f"failed: {o.error}"),
        )
        for o in outcomes
    ]
    built = sum(1 for o in outcomes if o.result)
    return Table(
        f"oic-build: {built} of {len(outcomes)} built", ("integration", "path", "result"), rows
    )


def discover_outputs(found: Sequence[Found]) -> Outputs:
    """`integrations`: every source found, for `strategy.matrix` (`[]` when none)."""
    items = [
        {
            "path": f.path,
            "kind": f.meta.kind,
            "code": f.meta.code,
            "version": f.meta.version,
            "id": f.meta.id,
        }
        for f in found
    ]
    return {"integrations": items}


def discover_summary(found: Sequence[Found], problems: Sequence[Problem]) -> Table:
    rows = [(text(Code(f.meta.id)), text(Code(f.path)), text("found")) for f in found]
    rows += [(text(), text(Code(p.path)), text(p.message)) for p in problems]
    return Table("oic-build discover", ("integration", "path", "result"), rows)


def deployed_record(outcome: DeployOutcome) -> dict[str, object]:
    """One entry of the `deployed` output."""
    return {
        "path": outcome.path,
        "kind": outcome.kind,
        "id": outcome.id,
        "action": outcome.action,
        "status": outcome.status,
        "previous-status": outcome.previous,
        "changes": list(outcome.changes),
        "error": str(outcome.error) if outcome.error else None,
    }


def deploy_outputs(outcomes: Sequence[DeployOutcome]) -> Outputs:
    """`deployed` always; `integration-id` and `status` when one artifact was deployed."""
    values: Outputs = {"deployed": [deployed_record(o) for o in outcomes]}
    if len(outcomes) == 1:
        values["integration-id"] = outcomes[0].id or ""
        values["status"] = outcomes[0].status
    return values


def _previous(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v or 'absent'}" for k, v in value.items())
    return str(value) if value else "absent"


def deploy_summary(outcomes: Sequence[DeployOutcome], dry_run: bool) -> Table:
    """One row per artifact; its error, or in a dry run each change, in rows of their own."""
    rows: list[tuple[Cell, ...]] = []
    for o in outcomes:
        notes = [str(o.error)] if o.error else list(o.changes) if dry_run else []
        first = (Code(o.id or o.path), o.kind or "", o.action or "", o.status)
        rows.append((*(text(v) for v in first), text(_previous(o.previous)), text(*notes[:1])))
        rows += [(text(), text(), text(), text(), text(), text(note)) for note in notes[1:]]
    ok = sum(1 for o in outcomes if not o.error)
    title = f"oic-build deploy{' (dry run)' if dry_run else ''}: {ok} of {len(outcomes)} ok"
    last = "changes / error" if dry_run else "error"
    return Table(title, ("artifact", "kind", "action", "status", "before", last), rows)


def pull_outputs(pulled: Sequence[Pulled]) -> Outputs:
    """`changed` and `pulled`, valid whatever was pulled (`false` and `[]` for nothing)."""
    records = [
        {
            "id": p.id,
            "kind": p.kind,
            "path": shown_path(p.path),
            "status": p.status,
            "previous": p.before,
        }
        for p in pulled
    ]
    changed = any(p.status != "unchanged" for p in pulled)
    return {"changed": "true" if changed else "false", "pulled": records}


def pull_summary(pulled: Sequence[Pulled]) -> Table:
    rows = [
        (
            text(Code(p.id)),
            text(Code(shown_path(p.path))),
            text(f"{p.status} from", *map(Code, p.before)) if p.before else text(p.status),
        )
        for p in pulled
    ]
    counts = {s: sum(1 for p in pulled if p.status == s) for s in ("added", "updated", "unchanged")}
    title = "oic-build pull: " + ", ".join(f"{n} {s}" for s, n in counts.items())
    return Table(title, ("integration", "path", "result"), rows)


def emit(outputs: Outputs, summary: Table, as_json: bool, redactor: Redactor) -> str | None:
    """Write GitHub files when the runner names them; return the JSON text when asked for.
    Every value passes the run's one redactor before any sink escapes it: a list or object
    value by value, so it stays valid JSON whatever a secret holds."""
    values: Outputs = {name: redactor.data(value) for name, value in outputs.items()}
    if path := os.environ.get("GITHUB_OUTPUT"):
        write_github_outputs(values, Path(path))
    if path := os.environ.get("GITHUB_STEP_SUMMARY"):
        with Path(path).open("a", encoding="utf-8") as fh:
            fh.write(markdown(summary, redactor.text))
    return json.dumps(values, indent=2) if as_json else None
