"""Everything a build hands back, shaped in one place: build-info.json, the step outputs
($GITHUB_OUTPUT), the step summary, and the --json object."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .redact import Redactor
from .source.metadata import IntegrationMeta
from .source.project import ProjectMeta
from .source.provenance import git_info

if TYPE_CHECKING:
    from .batch import Outcome
    from .discover import Found, Problem
    from .modes.deploy.context import DeployOutcome
    from .pipeline import BuildResult

Outputs = Mapping[str, str]

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
    "deployed": "deploy: JSON array, one entry per artifact `[{path, kind, id, action, status, "
    "previous-status, changes, error}]`: `action` `added` or `replaced`; `status` `ACTIVATED`, "
    "`CONFIGURED`, `FAILED`, `ROLLED_BACK` (or `PLANNED` in a dry run); `previous-status` the "
    "integration's status before (a project: an object per integration; null when it was not "
    "there); `changes` what was (or would be) done, secret values as `(set)`.",
    "status": "deploy, one artifact: its status in `deployed`.",
}


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
    """A table cell: one line, and no `|` that ends it (escaped in code spans too, as GFM
    tables require)."""
    return " ".join(text.splitlines()).replace("|", "\\|") or "–"


def code(text: str) -> str:
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


def markdown_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A step-summary section; cells are escaped so an id like CODE|VERSION stays one cell."""
    lines = [f"### {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n"


def build_info(result: BuildResult, entries: int, size: int) -> dict[str, object]:
    """The artifact's own record (build-info.json): what was built, from what, and how."""
    meta = result.meta
    archive = {"file": result.iar.name, "sha256": result.sha256, "size": size, "entries": entries}
    own: dict[str, object]
    if isinstance(meta, ProjectMeta):
        own = {
            "kind": "project",
            "id": meta.project_id,
            "revision": meta.revision,
            "car": archive,
            "integrations": [
                {"id": i.id, "code": i.code, "version": i.version, "name": i.name}
                for i in meta.integrations
            ],
        }
    else:
        own = {
            "id": meta.id,
            "version": meta.version,
            "iar": archive,
            "schedule": meta.has_schedule,
        }
    return {
        **own,
        "code": meta.code,
        "name": meta.name,
        "source": {"kind": result.source.kind, "path": result.source.path.as_posix()},
        "connections": [{"code": c.code, "adapter": c.adapter} for c in meta.connections],
        "lookups": list(meta.lookups),
        "libraries": list(meta.libraries),
        "exported": result.exported,
        "tool": {"name": "oic-build", "version": __version__},
        "git": git_info(result.source.folder),
        "built_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def project_outputs(result: BuildResult, meta: ProjectMeta) -> dict[str, str]:
    """The step outputs of one project built; the integration-only ones (integration-*,
    iar-path) are not set, so a workflow reads them as empty."""
    values: dict[str, object] = {
        "source-kind": "project",
        "project-code": meta.code,
        "project-name": meta.name or "",
        "project-revision": "" if meta.revision is None else meta.revision,
        "project-integrations": [i.id for i in meta.integrations],
        "car-path": result.iar.as_posix(),
        "artifact-dir": result.artifact.as_posix(),
        "sha256": result.sha256,
        "connections": [c.code for c in meta.connections],
        "lookups": list(meta.lookups),
        "connections-file": result.exported.get("connections_file") or "",
    }
    return {k: to_output_text(v) for k, v in values.items()}


def integration_outputs(result: BuildResult) -> dict[str, str]:
    """The step outputs of one integration built."""
    values: dict[str, object] = {
        "integration-id": result.meta.id,
        "integration-code": result.meta.code,
        "integration-version": result.meta.version,
        "integration-name": result.meta.name or "",
        "iar-path": result.iar.as_posix(),
        "artifact-dir": result.artifact.as_posix(),
        "source-kind": result.source.kind,
        "sha256": result.sha256,
        "connections": [c.code for c in result.meta.connections],
        "lookups": list(result.meta.lookups),
        "connections-file": result.exported.get("connections_file") or "",
    }
    return {k: to_output_text(v) for k, v in values.items()}


def result_summary(result: BuildResult) -> str:
    """The step summary of one integration or project built."""
    meta = result.meta
    if isinstance(meta, ProjectMeta):
        name = f"{code(meta.code)} {plain(meta.name or '')} (revision {meta.revision})"
        head = [
            ("Project", " ".join(name.split())),
            ("Integrations", ", ".join(code(i.id) for i in meta.integrations)),
        ]
    else:
        head = [("Integration", f"{code(meta.id)} {plain(meta.name or '')}".strip())]
    rows = [
        *head,
        ("Source", f"{result.source.kind}: {code(result.source.path.as_posix())}"),
        ("Archive", code(result.iar.as_posix())),
        ("SHA-256", code(result.sha256)),
        ("Connections", plain(", ".join(c.code for c in meta.connections))),
        ("Lookups", plain(", ".join(meta.lookups))),
        ("Exported from server", plain(str(result.exported.get("server") or "no"))),
    ]
    return markdown_table("oic-build", ("", ""), rows)


def outcome_record(outcome: Outcome) -> dict[str, object]:
    """One entry of the `integrations` output of a build: built, or failed with its error."""
    meta = outcome.loaded.meta if outcome.loaded else None
    res = outcome.result
    project = isinstance(meta, ProjectMeta)
    record: dict[str, object] = {
        "path": outcome.path,
        "kind": None if meta is None else "project" if project else "integration",
        "id": meta.id if meta else None,
        "code": meta.code if meta else None,
        "version": meta.version if isinstance(meta, IntegrationMeta) else None,
        "status": "built" if res else "failed",
        "artifact-dir": res.artifact.as_posix() if res else None,
        "iar-path": res.iar.as_posix() if res and not project else None,
        "sha256": res.sha256 if res else None,
        "error": str(outcome.error) if outcome.error else None,
    }
    if isinstance(meta, ProjectMeta):
        record["car-path"] = res.iar.as_posix() if res else None
        record["integrations"] = [i.id for i in meta.integrations]
    return record


def build_outputs(artifact_dir: Path, outcomes: Sequence[Outcome], single: bool) -> Outputs:
    """A single integration built: its outputs; a batch: the root folder and every result.
    `integrations` is there either way, so a workflow can read it whatever it asked for."""
    records = to_output_text([outcome_record(o) for o in outcomes])
    if single and (result := outcomes[0].result):
        meta = result.meta
        own = (
            project_outputs(result, meta)
            if isinstance(meta, ProjectMeta)
            else integration_outputs(result)
        )
        return {**own, "integrations": records}
    return {"artifact-dir": artifact_dir.as_posix(), "integrations": records}


def build_summary(outcomes: Sequence[Outcome], single: bool) -> str:
    if single and (result := outcomes[0].result):
        return result_summary(result)
    rows = [
        (
            code(o.loaded.meta.id) if o.loaded else "–",
            code(o.path),
            "built" if o.result else f"failed: {plain(str(o.error))}",
        )
        for o in outcomes
    ]
    built = sum(1 for o in outcomes if o.result)
    return markdown_table(
        f"oic-build: {built} of {len(outcomes)} built", ("integration", "path", "result"), rows
    )


def discover_outputs(found: Sequence[Found]) -> Outputs:
    """`integrations` is compact JSON, always valid (`[]` when nothing is found)."""
    items = [
        {
            "path": f.path,
            "kind": "project" if isinstance(f.meta, ProjectMeta) else "integration",
            "code": f.meta.code,
            "version": f.meta.version if isinstance(f.meta, IntegrationMeta) else None,
            "id": f.meta.id,
        }
        for f in found
    ]
    return {"integrations": json.dumps(items, separators=(",", ":"))}


def discover_summary(found: Sequence[Found], problems: Sequence[Problem]) -> str:
    rows = [(code(f.meta.id), code(f.path), "found") for f in found]
    rows += [("–", code(p.path), plain(p.message)) for p in problems]
    return markdown_table("oic-build discover", ("integration", "path", "result"), rows)


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
    values: dict[str, object] = {"deployed": [deployed_record(o) for o in outcomes]}
    if len(outcomes) == 1:
        values["integration-id"] = outcomes[0].id or ""
        values["status"] = outcomes[0].status
    return {k: to_output_text(v) for k, v in values.items()}


def deploy_summary(outcomes: Sequence[DeployOutcome], dry_run: bool, redactor: Redactor) -> str:
    """The step summary: one row per artifact; a dry run lists what would change. Text is
    redacted before it is escaped: an escaped secret (`PW\\_1`) is no longer the secret a
    later redaction looks for, yet GitHub shows it as the secret."""
    safe = redactor.text
    rows = [
        (
            code(o.id) if o.id else code(safe(o.path)),
            o.kind or "–",
            o.action or "–",
            o.status,
            plain(_previous(o.previous)),
            plain(safe(str(o.error))) if o.error else "",
        )
        for o in outcomes
    ]
    done = sum(1 for o in outcomes if not o.error)
    title = f"oic-build deploy{' (dry run)' if dry_run else ''}: {done} of {len(outcomes)} ok"
    text = markdown_table(title, ("artifact", "kind", "action", "status", "before", "error"), rows)
    if dry_run:
        for o in outcomes:
            if o.changes:
                lines = "\n".join(f"- {plain(safe(line))}" for line in o.changes)
                text += f"#### {code(o.id or o.path)}\n\n{lines}\n\n"
    return text


def _previous(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v or 'absent'}" for k, v in value.items())
    return str(value) if value else "absent"


def write_step_summary(markdown: str, path: Path) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(markdown)


def _redacted_output(value: str, redactor: Redactor) -> str:
    """A JSON output is redacted value by value (its structure stays valid JSON whatever a
    secret holds); any other output as text."""
    if value[:1] in "[{":
        try:
            return to_output_text(redactor.data(json.loads(value)))
        except json.JSONDecodeError:
            pass
    return redactor.text(value)


def emit(outputs: Outputs, summary: str, as_json: bool, redactor: Redactor) -> str | None:
    """Write GitHub files when the runner names them; return the JSON text when asked for.
    Every sink here passes the run's one redactor."""
    outputs = {name: _redacted_output(value, redactor) for name, value in outputs.items()}
    if path := os.environ.get("GITHUB_OUTPUT"):
        write_github_outputs(outputs, Path(path))
    if path := os.environ.get("GITHUB_STEP_SUMMARY"):
        write_step_summary(redactor.text(summary), Path(path))
    if as_json:
        decoded: dict[str, object] = {}
        for name, value in outputs.items():
            try:
                decoded[name] = json.loads(value) if value[:1] in "[{" else value
            except json.JSONDecodeError:
                decoded[name] = value
        return json.dumps(decoded, indent=2)
    return None
