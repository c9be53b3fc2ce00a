"""Pull an integration's connections and lookups from a running OIC into its artifact folder.

    connections/<ID>/connection.json   each connection, normalised, secret values removed
    connections.json                   all of them, with the server they came from
    lookups/<NAME>.csv                 each lookup's CSV export
    connectionPlan.properties          the plan from the source (checked), or a template

`export_integration` is handed the run's one `ServerCache`: every integration of a batch shares
its client, token and fetched objects.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ServerError
from ..oic.fetch_cache import ServerCache
from ..report import Reporter
from ..settings import Settings
from ..source.metadata import IntegrationMeta
from .connections import CleanConnection
from .layout import (
    CONNECTIONS_DIR,
    CONNECTIONS_INDEX,
    PLAN_FILE,
    connection_path,
    lookup_path,
    safe_component,
    to_json,
    write_file,
)
from .plan import Plan, check_plan, finalise_plan, generate_plan, read_plan

# Scheduled integrations reference these; they are not connections and answer 404.
PSEUDO_CONNECTION = re.compile(r"^SCHEDULE(_|$)", re.IGNORECASE)


def _plural(items: list[str], word: str) -> str:
    return f"{len(items)} {word}{'' if len(items) == 1 else 's'}"


def _write_text(path: Path, text: str, reporter: Reporter) -> None:
    """Every text we write passes the reporter's redaction: a configured secret never lands
    in the artifact even if a server echoed it somewhere unexpected."""
    write_file(path, reporter.redact(text))


def _missing_connection(
    conn_id: str, meta: IntegrationMeta, where: str, settings: Settings, reporter: Reporter
) -> None:
    if PSEUDO_CONNECTION.match(conn_id):
        reporter.warning(
            f"connection {conn_id} of {meta.id} is not on {where} (HTTP 404): the pseudo-"
            "connection of a scheduled integration, skipped"
        )
        return
    message = (
        f"connection {conn_id} used by integration {meta.id} was not found on {where} (HTTP 404)"
    )
    if settings.missing_connections == "warn":
        reporter.warning(f"{message}; skipped because missing-connections is warn")
        return
    raise ServerError(
        f"{message}; create it there, or set missing-connections: warn to build without it"
    )


def _read_plan(plan: Path | None, meta: IntegrationMeta, reporter: Reporter) -> Plan | None:
    if plan is None:
        return None
    parsed = read_plan(plan)
    for warning in check_plan(parsed, [c.code for c in meta.connections], meta.id):
        reporter.warning(warning, file=parsed.path)
    return parsed


def export_integration(
    server: ServerCache,
    settings: Settings,
    meta: IntegrationMeta,
    stage: Path,
    reporter: Reporter,
    plan: Path | None = None,
    project: str | None = None,
) -> dict[str, object]:
    """Export what `meta` uses into `stage`; returns what build-info.json records. `project`
    (an OIC 3 project id) takes connections and lookups from that project's endpoints.

    The plan is parsed and checked before any request, so a malformed plan costs no traffic.
    """
    parsed_plan = _read_plan(plan, meta, reporter)
    client = server.client
    where = client.server + (f" (instance {client.instance})" if client.instance else "")
    where += f" in project {project}" if project else ""
    conn_ids = [c.code for c in meta.connections] if settings.manage_connections else []
    lookup_names = list(meta.lookups) if settings.manage_lookups else []
    for conn_id in conn_ids:
        safe_component(conn_id, "connection", meta.id)
    for name in lookup_names:
        safe_component(name, "lookup", meta.id)
    reporter.info(
        f"exporting {_plural(conn_ids, 'connection')} and {_plural(lookup_names, 'lookup')} "
        f"from {where}"
    )
    found, csvs = server.fetch(conn_ids, lookup_names, project)

    exported: list[CleanConnection] = []
    skipped: list[str] = []
    for conn_id in conn_ids:
        clean = found[conn_id]
        if clean is None:
            _missing_connection(conn_id, meta, where, settings, reporter)
            skipped.append(conn_id)
            continue
        _write_text(connection_path(stage, conn_id), to_json(clean.data), reporter)
        note = ""
        if clean.secrets_removed:
            note = f" (values of {', '.join(clean.secrets_removed)} removed)"
        reporter.info(f"connection {conn_id} -> {CONNECTIONS_DIR}/{conn_id}/{note}")
        exported.append(clean)

    for name in lookup_names:
        data = csvs[name]
        if data is None:
            raise ServerError(
                f"lookup {name} used by integration {meta.id} was not found on {where} (HTTP 404)"
            )
        text = data.decode("utf-8", "replace")
        if reporter.redact(text) != text:  # a configured secret inside a lookup: never ship it
            data = reporter.redact(text).encode("utf-8")
        write_file(lookup_path(stage, name), data)
        reporter.info(f"lookup {name} -> lookups/{name}.csv ({len(data)} bytes)")

    connections_file = ""
    if conn_ids:
        index = {
            "integration": meta.id,
            "server": client.server,
            "instance": client.instance,
            "connections": [c.data for c in exported],
            "skipped": skipped,
        }
        _write_text(stage / CONNECTIONS_INDEX, to_json(index), reporter)
        connections_file = (settings.artifact_dir / meta.slug / CONNECTIONS_INDEX).as_posix()

    plan_source: str | None = None
    if parsed_plan is not None:
        by_id = {c.id: c for c in exported}
        text, warnings = finalise_plan(parsed_plan, by_id, client.server)
        for warning in warnings:
            reporter.warning(warning, file=parsed_plan.path)
        _write_text(stage / PLAN_FILE, text, reporter)
        plan_source = parsed_plan.path.as_posix()
        reporter.info(f"connection plan {plan_source} checked -> {PLAN_FILE}")
    elif exported:
        adapters = {c.code: c.adapter for c in meta.connections}
        text = generate_plan(exported, meta.id, client.server, adapters)
        _write_text(stage / PLAN_FILE, text, reporter)
        plan_source = "generated"
        reporter.info(f"connection plan template -> {PLAN_FILE}")

    return {
        "server": client.server,
        "instance": client.instance,
        **({"project": project} if project else {}),
        "auth": client.auth.kind,
        "connections": [c.id for c in exported],
        "lookups": lookup_names,
        "connections_file": connections_file,
        "skipped": skipped,
        "connection_plan": plan_source,
    }
