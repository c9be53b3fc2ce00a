"""Pull an integration's connections and lookups from a running OIC into its artifact folder.

    connections/<ID>/connection.json   each connection, normalised, secret values removed
    connections/<ID>/attachments/<P>   files uploaded to its properties (WSDL, schema, cert)
    connections.json                   all of them, with the server they came from, and the
                                       attachments (sha256) and those to supply at deployment
    lookups/<NAME>.csv                 each lookup's CSV export
    connectionPlan.properties          the plan from the source (checked), or a template

`export_integration` is handed the run's one `ServerCache`: every integration of a batch shares
its client, token and fetched objects.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import ServerError
from ..oic.client import api
from ..oic.connection_model import CleanConnection, is_oic_managed
from ..oic.fetch_cache import ServerCache
from ..report import Reporter
from ..settings import Settings
from ..source.metadata import IntegrationMeta
from .layout import (
    CONNECTIONS_DIR,
    CONNECTIONS_INDEX,
    PLAN_FILE,
    attachment_path,
    connection_path,
    lookup_path,
    safe_component,
    to_json,
    write_file,
)
from .plan import Plan, generate_plan, ship_plan


def _plural(items: list[str], word: str) -> str:
    return f"{len(items)} {word}{'' if len(items) == 1 else 's'}"


def _write_text(path: Path, text: str, reporter: Reporter) -> None:
    """Every text we write passes the reporter's redaction: a configured secret never lands
    in the artifact even if a server echoed it somewhere unexpected."""
    write_file(path, reporter.redact(text))


def _missing_connection(
    conn_id: str, meta: IntegrationMeta, where: str, settings: Settings, reporter: Reporter
) -> None:
    if is_oic_managed(conn_id):
        reporter.info(
            f"connection {conn_id} of {meta.id} is managed by OIC itself and not served by "
            f"{where}; skipped"
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


def _redact_file(path: Path, sha256: str, reporter: Reporter) -> str:
    """The file redacted in place if a secret shows in it; its sha256. Read whole here, one file
    at a time, so the memory it takes ends with this call."""
    data = path.read_bytes()
    redacted = reporter.redactor.file_bytes(data)
    if redacted is data:
        return sha256
    write_file(path, redacted)
    return hashlib.sha256(redacted).hexdigest()


def _write_attachments(
    conn: CleanConnection,
    stage: Path,
    meta: IntegrationMeta,
    server: ServerCache,
    where: str,
    project: str | None,
    reporter: Reporter,
) -> tuple[list[dict[str, object]], list[dict[str, str]]]:
    """Save a connection's attachments, each streamed from OIC into its file (never whole in
    memory); returns (saved, to supply at deployment)."""
    saved: list[dict[str, object]] = []
    to_supply: list[dict[str, str]] = []
    for item in conn.attachments:
        safe_component(item.property, "attachment", meta.id)
        if item.to_supply:
            to_supply.append({"connection": conn.id, "property": item.property})
            reporter.warning(
                f"attachment {item.property} of connection {conn.id} holds a secret (keystore "
                "or key): not exported, supply it at deployment"
            )
            continue
        path = attachment_path(stage, conn.id, item.property)
        path.parent.mkdir(parents=True, exist_ok=True)
        what = f"attachment {item.property} of connection {conn.id}"
        url = api("connections", conn.id, "attachments", item.property, project=project)
        sha256 = server.client.download(url, what, path)
        if sha256 is None:
            reporter.warning(
                f"attachment {item.property} of connection {conn.id} is marked hasAttachment "
                f"but {where} has no file for it (HTTP 404); not exported"
            )
            continue
        sha256 = _redact_file(path, sha256, reporter)
        size = path.stat().st_size
        rel = path.relative_to(stage).as_posix()
        saved.append(
            {
                "connection": conn.id,
                "property": item.property,
                "file": rel,
                "sha256": sha256,
                "size": size,
            }
        )
        reporter.info(f"attachment {item.property} of {conn.id} -> {rel} ({size} bytes)")
    return saved, to_supply


def export_integration(
    server: ServerCache,
    settings: Settings,
    meta: IntegrationMeta,
    stage: Path,
    reporter: Reporter,
    plan: Plan | None = None,
    project: str | None = None,
) -> dict[str, object]:
    """Export what `meta` uses into `stage`; returns what build-info.json records. `project`
    (an OIC 3 project id) takes connections and lookups from that project's endpoints.

    The plan was read and checked when the source was loaded, so a bad plan costs no traffic.
    """
    config = server.client.config
    where = config.where() + (f" in project {project}" if project else "")
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
    attachments: list[dict[str, object]] = []
    to_supply: list[dict[str, str]] = []
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
        saved, supply = _write_attachments(clean, stage, meta, server, where, project, reporter)
        attachments += saved
        to_supply += supply
        exported.append(clean)

    for name in lookup_names:
        data = csvs[name]
        if data is None:
            raise ServerError(
                f"lookup {name} used by integration {meta.id} was not found on {where} (HTTP 404)"
            )
        data = reporter.redactor.file_bytes(data)
        write_file(lookup_path(stage, name), data)
        reporter.info(f"lookup {name} -> lookups/{name}.csv ({len(data)} bytes)")

    connections_file = ""
    if conn_ids:
        index = {
            "integration": meta.id,
            "server": config.base_url,
            "instance": config.instance,
            **({"project": project} if project else {}),
            "connections": [c.data for c in exported],
            "attachments": attachments,
            "attachments_to_supply": to_supply,
            "skipped": skipped,
        }
        _write_text(stage / CONNECTIONS_INDEX, to_json(index), reporter)
        connections_file = (settings.artifact_dir / meta.slug / CONNECTIONS_INDEX).as_posix()

    plan_source: str | None = None
    planned = [c for c in exported if not is_oic_managed(c.id)]
    if plan is not None:
        ship_plan(plan, stage, reporter, {c.id: c for c in exported}, config.base_url)
        plan_source = plan.path.as_posix()
    elif planned:
        adapters = {c.code: c.adapter for c in meta.connections}
        text = generate_plan(planned, meta.id, config.base_url, adapters)
        _write_text(stage / PLAN_FILE, text, reporter)
        plan_source = "generated"
        reporter.info(f"connection plan template -> {PLAN_FILE}")

    return {
        "server": config.base_url,
        "instance": config.instance,
        **({"project": project} if project else {}),
        "auth": config.auth.kind,
        "connections": [c.id for c in exported],
        "attachments": attachments,
        "attachments_to_supply": to_supply,
        "lookups": lookup_names,
        "connections_file": connections_file,
        "skipped": skipped,
        "connection_plan": plan_source,
    }
