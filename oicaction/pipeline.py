"""The build, one way through: settings -> source -> archive -> server export -> artifacts."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .artifact.export import export_integration, load_plan, ship_plan
from .artifact.layout import BUILD_INFO, archive_name, to_json, write_file
from .artifact.plan import Plan
from .artifact.staging import ArtifactStage, sha256_of
from .errors import SettingsError
from .oic.auth import Auth, BasicAuth, ClientCredentials
from .oic.client import OicClient
from .oic.fetch_cache import ServerCache
from .oic.preflight import ca_bundle, check_server_settings
from .outputs import build_info
from .report import Reporter
from .settings import Settings
from .source.find import Source, find_connection_plan, read_source
from .source.metadata import IntegrationMeta
from .source.package import write_iar
from .source.tree import SourceTree


@dataclass
class Loaded:
    """A source found, checked and read: everything needed before writing anything."""

    source: Source
    meta: IntegrationMeta
    tree: SourceTree | None
    plan: Plan | None
    entries: int


@dataclass
class BuildResult:
    """What one build produced."""

    meta: IntegrationMeta
    source: Source
    artifact: Path
    iar: Path
    sha256: str
    exported: dict[str, object] = field(default_factory=dict)


def _check_artifact_dir(settings: Settings, source: Source) -> None:
    """The artifact folder must not sit inside what we package, or the build would change it."""
    artifact = settings.artifact_dir.resolve()
    if source.kind == "icspackage":
        package = source.path.resolve()
        if artifact == package or package in artifact.parents:
            raise SettingsError(
                f"artifact-dir {settings.artifact_dir} is inside the source {source.path}"
            )


def load(settings: Settings, path: Path, reporter: Reporter) -> Loaded:
    """Find and check the source at `path` and read its metadata; writes nothing."""
    data = read_source(path, verify=True)
    source, meta = data.source, data.meta
    if source.note:
        reporter.info(source.note)
    _check_artifact_dir(settings, source)
    plan_path = find_connection_plan(source.folder, settings.connection_plan)
    plan = load_plan(plan_path, [source.folder, Path.cwd()], meta, reporter)
    reporter.info(
        f"integration {meta.id} ({meta.name or 'no name'}) from {source.kind} {source.path}"
    )
    if meta.extra_roots:
        reporter.warning(
            f"{source.path}: entries outside icspackage/ ({', '.join(meta.extra_roots)}) are "
            "not part of the integration; OIC ignores them",
            file=source.path,
        )
    return Loaded(source, meta, data.tree, plan, data.entries)


def server_reasons(settings: Settings, meta: IntegrationMeta) -> list[str]:
    """Why this build must talk to OIC (empty: it need not)."""
    reasons = []
    if settings.manage_connections and meta.connections:
        reasons.append("manage-connections")
    if settings.manage_lookups and meta.lookups:
        reasons.append("manage-lookups")
    return reasons


def _missing_server_settings(settings: Settings, meta: IntegrationMeta) -> SettingsError:
    reasons = server_reasons(settings, meta)
    return SettingsError(
        f"{' and '.join(reasons)} is on and {meta.id} uses "
        f"{'connections' if 'manage-connections' in reasons else 'lookups'}, "
        f"but server settings are missing: {', '.join(settings.missing_server_settings())} "
        "(or set manage-connections/manage-lookups to false)"
    )


def connect(settings: Settings, reporter: Reporter) -> ServerCache:
    """One client (pool, token) and fetch cache for the whole run, its settings checked and
    confirmed by one cheap first request (`probe`). The caller has checked
    `missing_server_settings()`."""
    for warning in check_server_settings(settings):
        reporter.warning(warning)
    auth: Auth
    if settings.auth_kind() == "oauth":
        assert settings.client_id and settings.client_secret and settings.token_url
        auth = ClientCredentials(
            settings.token_url,
            settings.client_id,
            settings.client_secret.get_secret_value(),
            settings.scope,
        )
    else:
        assert settings.username and settings.password
        auth = BasicAuth(settings.username, settings.password.get_secret_value())
    assert settings.oic_url
    client = OicClient(
        settings.oic_url,
        auth,
        instance=settings.oic_instance,
        project=settings.oic_project,
        pool_size=settings.max_workers,
        ca_bundle=ca_bundle(),
        deadline=settings.request_deadline,
        max_response_size=settings.max_response_size,
    )
    try:
        client.probe()
    except BaseException:
        client.close()
        raise
    reporter.info(f"connected to {client.where()}")
    return ServerCache(client, settings.max_workers)


def produce(
    settings: Settings, loaded: Loaded, reporter: Reporter, server: ServerCache | None
) -> BuildResult:
    """Write `<artifact-dir>/<CODE>_<VERSION>/` from a loaded source; all or nothing.

    `server` is the run's connection to OIC, needed when `server_reasons` names any."""
    meta, source, plan = loaded.meta, loaded.source, loaded.plan
    needs_server = bool(server_reasons(settings, meta))
    if needs_server and server is None:
        raise _missing_server_settings(settings, meta)
    with ArtifactStage(settings.artifact_dir, meta.slug) as stage:
        staged_iar = stage.path / archive_name(meta.slug)
        if loaded.tree is not None:
            write_iar(loaded.tree.entries, staged_iar)
            reporter.info(f"packaged {loaded.entries} files into {staged_iar.name}")
        else:
            shutil.copyfile(source.path, staged_iar)
            reporter.info(f"using committed archive {source.path.name}")
        exported: dict[str, object] = {}
        if server is not None and needs_server:  # the export checks the plan before it asks
            exported = export_integration(server, settings, meta, stage.path, reporter, plan)
        elif plan is not None:
            ship_plan(plan, stage.path, reporter)
        final_iar = stage.final / staged_iar.name
        result = BuildResult(meta, source, stage.final, final_iar, sha256_of(staged_iar), exported)
        info = build_info(result, loaded.entries, staged_iar.stat().st_size)
        write_file(stage.path / BUILD_INFO, to_json(info))
        stage.commit()
    reporter.info(
        f"artifact {result.artifact} ({os.path.getsize(result.iar)} bytes, "
        f"sha256 {result.sha256[:12]}…)"
    )
    return result
