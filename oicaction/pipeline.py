"""The build, one way through: settings -> source -> archive -> server export -> artifacts.

The HTTP stack (requests, urllib3 and our oic/ and artifact/export modules) is imported only when
a build talks to OIC: an offline step in the image is 773 vs 966 ms with it imported up front,
against 398 ms for a bare `docker run` (BENCHMARKS.md, "Image").
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .artifact.layout import BUILD_INFO, archive_name, project_archive_name, to_json, write_file
from .artifact.plan import Plan, load_plan, ship_plan
from .artifact.staging import ArtifactStage, Protected, sha256_of
from .errors import SettingsError
from .oic.config import missing_server_settings
from .outputs import build_info
from .report import Reporter
from .settings import Settings
from .source.find import Source, find_connection_plan, read_source
from .source.metadata import ICSPACKAGE, IntegrationMeta
from .source.package import write_archive
from .source.project import PROJECT, ProjectMeta
from .source.tree import SourceTree

if TYPE_CHECKING:
    from .oic.fetch_cache import ServerCache


@dataclass
class Loaded:
    """A source found, checked and read: everything needed before writing anything."""

    source: Source
    meta: IntegrationMeta | ProjectMeta
    tree: SourceTree | None
    plan: Plan | None
    entries: int


@dataclass
class BuildResult:
    """What one build produced; `iar` is the archive (a .car for a project)."""

    meta: IntegrationMeta | ProjectMeta
    source: Source
    artifact: Path
    iar: Path
    sha256: str
    exported: dict[str, object] = field(default_factory=dict)


def protected_paths(paths: Sequence[Path], loaded: Sequence[Loaded]) -> Protected:
    """Every source path of the run, which no artifact folder may replace, hold or (for an
    icspackage/ or project/ tree) sit in: the paths as given, and each source found, the folder
    it was found in and its plan."""
    found = [one.source.path for one in loaded] + [one.source.folder for one in loaded]
    found += [one.plan.path for one in loaded if one.plan]
    trees = [one.source.path for one in loaded if one.source.kind in (ICSPACKAGE, PROJECT)]
    return Protected(tuple(paths) + tuple(found), tuple(trees))


def load(settings: Settings, path: Path, reporter: Reporter) -> Loaded:
    """Find and check the source at `path` and read its metadata; writes nothing."""
    data = read_source(path, verify=True)
    source, meta = data.source, data.meta
    if source.note:
        reporter.info(source.note)
    plan_path = find_connection_plan(source.folder, settings.connection_plan)
    used = [c.code for c in meta.connections]
    plan = load_plan(plan_path, [source.folder, Path.cwd()], used, meta.id, reporter)
    reporter.info(f"{meta.label} ({meta.name or 'no name'}) from {source.kind} {source.path}")
    if isinstance(meta, ProjectMeta):
        reporter.info(
            f"project revision {meta.revision}; integrations: "
            + (", ".join(i.id for i in meta.integrations) or "none")
        )
        for warning in meta.warnings:
            reporter.warning(warning, file=source.path)
    if meta.extra_roots:
        reporter.warning(
            f"{source.path}: entries outside {source.root}/ ({', '.join(meta.extra_roots)}) are "
            f"not part of the {'project' if source.is_project else 'integration'}; OIC ignores "
            "them",
            file=source.path,
        )
    return Loaded(source, meta, data.tree, plan, data.entries)


def server_reasons(settings: Settings, meta: IntegrationMeta | ProjectMeta) -> list[str]:
    """Why this build must talk to OIC (empty: it need not)."""
    reasons = []
    if settings.manage_connections and meta.connections:
        reasons.append("manage-connections")
    if settings.manage_lookups and meta.lookups:
        reasons.append("manage-lookups")
    return reasons


def _missing_server_settings(
    settings: Settings, meta: IntegrationMeta | ProjectMeta
) -> SettingsError:
    reasons = server_reasons(settings, meta)
    shown = meta.id if isinstance(meta, IntegrationMeta) else meta.label
    return SettingsError(
        f"{' and '.join(reasons)} is on and {shown} uses "
        f"{'connections' if 'manage-connections' in reasons else 'lookups'}, "
        f"but server settings are missing: {', '.join(missing_server_settings(settings))} "
        "(or set manage-connections/manage-lookups to false)"
    )


def connect(settings: Settings, reporter: Reporter) -> ServerCache:
    """One client (pool, token) and fetch cache for the whole run, its settings checked and
    confirmed by one cheap first request (`probe`, and `probe_project` for oic-project). Every
    access token is masked the moment it arrives."""
    from .oic.client import OicClient
    from .oic.config import server_config
    from .oic.fetch_cache import ServerCache

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


def produce(
    settings: Settings,
    loaded: Loaded,
    reporter: Reporter,
    server: ServerCache | None,
    protected: Protected | None = None,
) -> BuildResult:
    """Write `<artifact-dir>/<CODE>_<VERSION>/` from a loaded source; all or nothing.

    `server` is the run's connection to OIC, needed when `server_reasons` names any;
    `protected` every source path of the run (default: this source's)."""
    meta, source, plan = loaded.meta, loaded.source, loaded.plan
    needs_server = bool(server_reasons(settings, meta))
    if needs_server and server is None:
        raise _missing_server_settings(settings, meta)
    project = isinstance(meta, ProjectMeta)
    if protected is None:
        protected = protected_paths([source.path], [loaded])
    with ArtifactStage(settings.artifact_dir, meta.slug, protected) as stage:
        name = project_archive_name(meta.code) if project else archive_name(meta.slug)
        staged_iar = stage.path / name
        if loaded.tree is not None:
            write_archive(loaded.tree.entries, staged_iar)
            reporter.info(f"packaged {loaded.entries} files into {staged_iar.name}")
        else:
            shutil.copyfile(source.path, staged_iar)
            reporter.info(f"using committed archive {source.path.name}")
        exported: dict[str, object] = {}
        if server is not None and needs_server:  # the export checks the plan before it asks
            from .artifact.export import export_integration

            # oic-project, else a project's own id: its connections live in the project on OIC 3
            project_id = settings.oic_project
            if project_id is None and isinstance(meta, ProjectMeta):
                project_id = meta.project_id
                server.confirm_project(project_id, f"{source.path}: its project id")
            exported = export_integration(
                server, settings, meta, stage.path, reporter, plan, project=project_id
            )
        elif plan is not None:
            ship_plan(plan, stage.path, reporter)
        final_iar = stage.final / staged_iar.name
        result = BuildResult(meta, source, stage.final, final_iar, sha256_of(staged_iar), exported)
        info = build_info(result, loaded.entries, staged_iar.stat().st_size)
        write_file(stage.path / BUILD_INFO, to_json(reporter.redactor.data(info)))
        stage.commit()
    reporter.info(
        f"artifact {result.artifact} ({os.path.getsize(result.iar)} bytes, "
        f"sha256 {result.sha256[:12]}…)"
    )
    return result
