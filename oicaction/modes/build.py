"""Build one source: settings -> source -> archive -> server export -> artifact folder. The HTTP
stack is imported only when a build talks to OIC, so an offline step starts faster."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..artifact.plan import Plan, load_plan, ship_plan
from ..artifact.record import ArchiveInfo, BuildRecord, ExportResult, new_record, write_record
from ..artifact.staging import ArtifactStage, Protected
from ..errors import SettingsError
from ..oic.config import missing_server_settings
from ..report import Reporter
from ..settings import Settings
from ..source.find import Source, SourceData, find_connection_plan, read_source
from ..source.metadata import Meta
from ..source.package import write_archive

if TYPE_CHECKING:
    from ..oic.fetch_cache import ServerCache


@dataclass(frozen=True)
class CheckedSource(SourceData):
    """A source found, checked and read, with its plan: everything needed before writing."""

    plan: Plan | None = None


@dataclass
class BuildResult:
    """What one build wrote: the artifact folder, its archive and its record."""

    meta: Meta
    source: Source
    artifact: Path
    archive: Path
    record: BuildRecord


def protected_paths(paths: Sequence[Path], checked: Sequence[CheckedSource]) -> Protected:
    """What no artifact folder may replace or hold: the paths as given, each source found, its
    folder and its plan; nor sit in: icspackage/ and project/ trees."""
    found = [one.source.path for one in checked] + [one.source.folder for one in checked]
    found += [one.plan.path for one in checked if one.plan]
    trees = [one.source.path for one in checked if one.tree is not None]
    return Protected(tuple(paths) + tuple(found), tuple(trees))


def check_source(settings: Settings, path: Path, reporter: Reporter) -> CheckedSource:
    """Find and check the source at `path`, read its metadata and its plan; writes nothing."""
    data = read_source(path, verify=True)
    source, meta = data.source, data.meta
    if source.note:
        reporter.info(source.note)
    plan_path = find_connection_plan(source.folder, settings.connection_plan)
    used = [c.code for c in meta.connections]
    plan = load_plan(plan_path, [source.folder, Path.cwd()], used, meta.label, reporter)
    reporter.info(f"{meta.label} ({meta.name or 'no name'}) from {source.kind} {source.path}")
    for note in meta.notes:
        reporter.info(note)
    for warning in meta.warnings:
        reporter.warning(warning, file=source.path)
    if meta.extra_roots:
        reporter.warning(
            f"{source.path}: entries outside {source.root}/ ({', '.join(meta.extra_roots)}) are "
            f"not part of the {meta.kind}; OIC ignores them",
            file=source.path,
        )
    return CheckedSource(source, meta, data.tree, data.entries, plan)


def server_reasons(settings: Settings, meta: Meta) -> list[str]:
    """Why this build must talk to OIC (empty: it need not)."""
    uses = {"manage-connections": settings.manage_connections and meta.connections,
            "manage-lookups": settings.manage_lookups and meta.lookups}  # fmt: skip
    return [name for name, used in uses.items() if used]


def connect(settings: Settings, reporter: Reporter) -> ServerCache:
    """One client (pool, token) and fetch cache for the whole run, its settings confirmed by one
    cheap first request. Every access token is masked the moment it arrives."""
    from ..oic.client import OicClient
    from ..oic.config import server_config
    from ..oic.fetch_cache import ServerCache

    config = server_config(settings)
    for warning in config.warnings:
        reporter.warning(warning)
    client = OicClient(config, on_token=lambda token: reporter.add_secrets([token]))
    server = ServerCache(client)
    try:
        client.probe()
        if config.project:
            server.confirm_project(config.project, "oic-project")
    except BaseException:
        server.close()
        raise
    reporter.info(f"connected to {config.where()}")
    return server


def write_artifact(
    settings: Settings,
    checked: CheckedSource,
    reporter: Reporter,
    server: ServerCache | None,
    protected: Protected,
) -> BuildResult:
    """Write `<artifact-dir>/<slug>/` from a checked source, all or nothing, never over one of
    the run's sources (`protected`)."""
    meta, source, plan = checked.meta, checked.source, checked.plan
    if (reasons := server_reasons(settings, meta)) and server is None:
        raise SettingsError(
            f"{' and '.join(reasons)} is on and {meta.label} uses "
            f"{'connections' if 'manage-connections' in reasons else 'lookups'}, "
            f"but server settings are missing: {', '.join(missing_server_settings(settings))} "
            "(or set manage-connections/manage-lookups to false)"
        )
    with ArtifactStage(settings.artifact_dir, meta.slug, protected) as stage:
        staged = stage.path / meta.archive_name
        if checked.tree is not None:
            write_archive(checked.tree.entries, staged)
            reporter.info(f"packaged {checked.entries} files into {staged.name}")
        else:
            shutil.copyfile(source.path, staged)
            reporter.info(f"using committed archive {source.path.name}")
        exported: ExportResult | None = None
        if server is not None and reasons:  # the export checks the plan before it asks
            from ..artifact.export import export_connections

            # oic-project, else the source's own project (a project's connections live in it)
            project = settings.oic_project or meta.oic_project
            if settings.oic_project is None and project is not None:
                server.confirm_project(project, f"{source.path}: its project id")
            exported = export_connections(
                server, settings, meta, stage.path, reporter, plan, project=project
            )
        elif plan is not None:
            ship_plan(plan, stage.path, reporter)
        with staged.open("rb") as fh:
            sha256 = hashlib.file_digest(fh, "sha256").hexdigest()
        size = staged.stat().st_size
        archive = ArchiveInfo(file=staged.name, sha256=sha256, size=size, entries=checked.entries)
        record = new_record(meta, source, archive, exported)
        write_record(stage.path, record, reporter.redactor.record)
        stage.commit()
    # the size as staged: another run may already have replaced our artifact
    reporter.info(f"artifact {stage.final} ({size} bytes, sha256 {sha256[:12]}…)")
    return BuildResult(meta, source, stage.final, stage.final / staged.name, record)
