"""Take the connections (secret values removed, attachments saved) and lookups a build uses from
OIC into its artifact folder, with the connections index and a connection plan."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ArtifactError, ServerError, SourceError
from ..oic.client import OicClient, api
from ..oic.connection_model import CleanConnection, is_key_material, is_oic_managed
from ..oic.fetch_cache import ServerCache
from ..redact import Redactor, shipped_secret
from ..report import Reporter
from ..settings import Settings
from ..source.metadata import Meta
from .layout import (
    CONNECTIONS_DIR,
    CONNECTIONS_INDEX,
    PLAN_FILE,
    attachment_path,
    checked_name,
    connection_path,
    lookup_path,
    to_json,
    write_file,
)
from .plan import Plan, generate_plan, ship_plan
from .record import (
    AttachmentToSupply,
    ConnectionsIndex,
    ExportResult,
    SavedAttachment,
    write_connections_index,
)


def _plural(items: list[str], word: str) -> str:
    return f"{len(items)} {word}{'' if len(items) == 1 else 's'}"


def _refuse_secret(data: bytes, what: str, reporter: Reporter) -> None:
    """A file shipped as OIC holds it is never edited: one holding a secret stops the build."""
    if (line := reporter.redactor.find_line(data)) is not None:
        raise ServerError(shipped_secret(what, line))


def _checked_answer(conn_id: str, clean: CleanConnection, where: str, redactor: Redactor) -> None:
    """The server's answer names the connection asked for, and only files OIC could name; no
    file is named by a secret of the run (the property-name rule lets most through)."""
    try:
        if clean.id != conn_id:
            checked_name("connection id", clean.id)
            raise ArtifactError(f"connection id {clean.id!r}, not the one asked for")
        for item in clean.attachments:
            checked_name("property name", item.property)
            if item.property in redactor or redactor.record(item.property) != item.property:
                raise ArtifactError("an attachment name that holds a secret of this run")
    except ArtifactError as exc:
        raise ServerError(
            f"connection {conn_id}: {where} answered with {exc}; nothing is written"
        ) from None


def _missing_connection(
    conn_id: str, meta: Meta, where: str, settings: Settings, reporter: Reporter
) -> None:
    if is_oic_managed(conn_id):
        reporter.info(
            f"connection {conn_id} of {meta.label} is managed by OIC itself and not served by "
            f"{where}; skipped"
        )
        return
    message = f"connection {conn_id} used by {meta.label} was not found on {where} (HTTP 404)"
    if settings.missing_connections == "warn":
        reporter.warning(f"{message}; skipped because missing-connections is warn")
        return
    raise ServerError(
        f"{message}; create it there, or set missing-connections: warn to build without it"
    )


def _write_attachments(
    conn: CleanConnection,
    stage: Path,
    client: OicClient,
    where: str,
    project: str | None,
    reporter: Reporter,
) -> tuple[list[SavedAttachment], list[AttachmentToSupply]]:
    """Each attachment streamed from OIC into its file; returns (saved, to supply at
    deployment)."""
    saved: list[SavedAttachment] = []
    to_supply: list[AttachmentToSupply] = []
    for item in conn.attachments:
        what = f"attachment {item.property} of connection {conn.id}"
        path = attachment_path(stage, conn.id, item.property)
        sha256 = None
        if not item.to_supply:
            path.parent.mkdir(parents=True, exist_ok=True)
            url = api("connections", conn.id, "attachments", item.property, project=project)
            if (sha256 := client.download(url, what, path)) is None:
                reporter.warning(
                    f"{what} is marked hasAttachment but {where} has no file for it (HTTP 404); "
                    "not exported"
                )
                continue
        if sha256 is not None:  # read back one at a time: memory holds one attachment
            if is_key_material(data := path.read_bytes()):
                path.unlink()
                sha256 = None
            else:
                _refuse_secret(data, what, reporter)
        if sha256 is None:
            to_supply.append(AttachmentToSupply(connection=conn.id, property=item.property))
            reporter.warning(
                f"{what} holds a secret (keystore or key): not exported, supply it at deployment"
            )
            continue
        file, size = path.relative_to(stage).as_posix(), path.stat().st_size
        saved.append(SavedAttachment(connection=conn.id, property=item.property, file=file,
                                     sha256=sha256, size=size))  # fmt: skip
        reporter.info(f"attachment {item.property} of {conn.id} -> {file} ({size} bytes)")
    return saved, to_supply


def export_connections(
    server: ServerCache,
    settings: Settings,
    meta: Meta,
    stage: Path,
    reporter: Reporter,
    plan: Plan | None = None,
    project: str | None = None,
) -> ExportResult:
    """Export the connections and lookups `meta` uses into `stage`, from the OIC 3 `project`'s
    endpoints when given. `plan` was checked when the source was read: a bad one costs no
    traffic."""
    config = server.client.config
    where = config.where() + (f" in project {project}" if project else "")
    conn_ids = [c.code for c in meta.connections] if settings.manage_connections else []
    lookup_names = list(meta.lookups) if settings.manage_lookups else []
    try:  # each becomes a path: checked against what OIC allows before any request
        for what, names in (("connection id", conn_ids), ("lookup name", lookup_names)):
            for name in names:
                checked_name(what, name)
    except ArtifactError as exc:
        raise SourceError(f"{meta.label} uses a {exc}; nothing is exported") from None
    reporter.info(
        f"exporting {_plural(conn_ids, 'connection')} and {_plural(lookup_names, 'lookup')} "
        f"from {where}"
    )
    found, csvs = server.fetch(conn_ids, lookup_names, project)

    exported: list[CleanConnection] = []
    skipped: list[str] = []
    attachments: list[SavedAttachment] = []
    to_supply: list[AttachmentToSupply] = []
    for conn_id in conn_ids:
        clean = found[conn_id]
        if clean is None:
            _missing_connection(conn_id, meta, where, settings, reporter)
            skipped.append(conn_id)
            continue
        _checked_answer(conn_id, clean, where, reporter.redactor)
        # Records are redacted value by value (see redact.py); the plan is made from the same.
        clean = replace(clean, data=reporter.redactor.record(clean.data))
        write_file(connection_path(stage, conn_id), to_json(clean.data))
        removed = ", ".join(clean.secrets_removed)
        note = f" (values of {removed} removed)" if removed else ""
        reporter.info(f"connection {conn_id} -> {CONNECTIONS_DIR}/{conn_id}/{note}")
        saved, supply = _write_attachments(clean, stage, server.client, where, project, reporter)
        attachments += saved
        to_supply += supply
        exported.append(clean)

    for name in lookup_names:
        data = csvs[name]
        if data is None:
            raise ServerError(
                f"lookup {name} used by {meta.label} was not found on {where} (HTTP 404)"
            )
        _refuse_secret(data, f"lookup {name} on {where}", reporter)
        write_file(lookup_path(stage, name), data)
        reporter.info(f"lookup {name} -> lookups/{name}.csv ({len(data)} bytes)")

    # What connections.json and build-info.json both say of where the connections came from.
    common: dict[str, Any] = dict(server=config.base_url, instance=config.instance, project=project,
                                  attachments=attachments, attachments_to_supply=to_supply,
                                  skipped=skipped)  # fmt: skip
    connections_file = ""
    if conn_ids:
        kept = [c.data for c in exported]
        index = ConnectionsIndex(kind=meta.kind, id=meta.id, connections=kept, **common)
        write_connections_index(stage, index, reporter.redactor.record)
        connections_file = (settings.artifact_dir / meta.slug / CONNECTIONS_INDEX).as_posix()

    plan_source: str | None = None
    planned = [c for c in exported if not is_oic_managed(c.id)]
    if plan is not None:
        ship_plan(plan, stage, reporter, {c.id: c for c in exported}, config.base_url)
        plan_source = plan.path.as_posix()
    elif planned:
        adapters = {c.code: c.adapter for c in meta.connections}
        text = generate_plan(planned, meta.label, config.base_url, adapters)
        write_file(stage / PLAN_FILE, reporter.redactor.record(text))
        plan_source = "generated"
        reporter.info(f"connection plan template -> {PLAN_FILE}")

    return ExportResult(
        auth=config.auth.kind,
        connections=[c.id for c in exported],
        lookups=lookup_names,
        connections_file=connections_file,
        connection_plan=plan_source,
        **common,
    )
