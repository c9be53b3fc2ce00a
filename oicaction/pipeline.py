"""The build, one way through: settings -> source -> archive -> server export -> artifacts."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .artifact.export import export_integration
from .artifact.layout import BUILD_INFO, PLAN_FILE, archive_name, to_json, write_file
from .artifact.staging import ArtifactStage, Protected, sha256_of
from .errors import SettingsError
from .oic.auth import Auth, BasicAuth, ClientCredentials
from .oic.client import OicClient
from .oic.fetch_cache import ServerCache
from .outputs import build_info
from .report import Reporter
from .settings import Settings
from .source.find import Source, find_connection_plan, read_source
from .source.metadata import ICSPACKAGE, IntegrationMeta
from .source.package import write_iar
from .source.tree import SourceTree


@dataclass
class Loaded:
    """A source found, checked and read: everything needed before writing anything."""

    source: Source
    meta: IntegrationMeta
    tree: SourceTree | None
    plan: Path | None
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


def protected_paths(paths: Sequence[Path], loaded: Sequence[Loaded]) -> Protected:
    """Every source path of the run, which no artifact folder may replace, hold or (for an
    icspackage/ tree) sit in: the integration paths as given, and each source found, the folder
    it was found in and its plan."""
    found = [p for one in loaded for p in (one.source.path, one.source.folder, one.plan) if p]
    trees = [one.source.path for one in loaded if one.source.kind == ICSPACKAGE]
    return Protected(tuple(paths) + tuple(found), tuple(trees))


def load(settings: Settings, path: Path, reporter: Reporter) -> Loaded:
    """Find and check the source at `path` and read its metadata; writes nothing."""
    data = read_source(path, verify=True)
    source, meta = data.source, data.meta
    if source.note:
        reporter.info(source.note)
    plan = find_connection_plan(source.folder, settings.connection_plan)
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


def connect(settings: Settings) -> ServerCache:
    """One client (pool, token) and fetch cache for the whole run; nothing is sent until the
    first fetch. The caller has checked `missing_server_settings()`."""
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
        settings.oic_url, auth, instance=settings.oic_instance, pool_size=settings.max_workers
    )
    return ServerCache(client, settings.max_workers)


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
    if protected is None:
        protected = protected_paths([source.path], [loaded])
    with ArtifactStage(settings.artifact_dir, meta.slug, protected) as stage:
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
            shutil.copyfile(plan, stage.path / PLAN_FILE)
            reporter.info(f"connection plan {plan} -> {PLAN_FILE}")
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
