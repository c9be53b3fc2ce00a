"""The build, one way through: settings -> source -> archive -> server export -> artifacts."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .artifact.plan import PLAN_FILE
from .artifact.staging import ArtifactStage, sha256_of, write_json
from .errors import SettingsError
from .outputs import to_output_text
from .report import Reporter
from .settings import Settings
from .source.find import Source, find_connection_plan, find_source
from .source.iar import IarFile
from .source.metadata import IntegrationMeta
from .source.package import write_iar
from .source.provenance import git_info
from .source.tree import SourceTree


@dataclass
class BuildResult:
    """What one build produced; `outputs` are the step outputs, already as strings."""

    meta: IntegrationMeta
    source: Source
    artifact: Path
    iar: Path
    sha256: str
    exported: dict[str, object] = field(default_factory=dict)

    def outputs(self) -> dict[str, str]:
        values: dict[str, object] = {
            "integration-id": self.meta.id,
            "integration-code": self.meta.code,
            "integration-version": self.meta.version,
            "integration-name": self.meta.name or "",
            "iar-path": self.iar.as_posix(),
            "artifact-dir": self.artifact.as_posix(),
            "source-kind": self.source.kind,
            "sha256": self.sha256,
            "connections": [c.code for c in self.meta.connections],
            "lookups": list(self.meta.lookups),
            "connections-file": self.exported.get("connections_file") or "",
        }
        return {k: to_output_text(v) for k, v in values.items()}

    def summary_rows(self) -> list[tuple[str, str]]:
        return [
            ("Integration", f"`{self.meta.id}` {self.meta.name or ''}".strip()),
            ("Source", f"{self.source.kind}: `{self.source.path.as_posix()}`"),
            ("Archive", f"`{self.iar.as_posix()}`"),
            ("SHA-256", f"`{self.sha256}`"),
            ("Connections", ", ".join(c.code for c in self.meta.connections)),
            ("Lookups", ", ".join(self.meta.lookups)),
            ("Exported from server", str(self.exported.get("server") or "no")),
        ]


def _check_artifact_dir(settings: Settings, source: Source) -> None:
    """The artifact folder must not sit inside what we package, or the build would change it."""
    artifact = settings.artifact_dir.resolve()
    if source.kind == "icspackage":
        package = source.path.resolve()
        if artifact == package or package in artifact.parents:
            raise SettingsError(
                f"artifact-dir {settings.artifact_dir} is inside the source {source.path}"
            )


def needs_server(settings: Settings, meta: IntegrationMeta) -> list[str]:
    """Why this build must talk to OIC (empty: it need not)."""
    reasons = []
    if settings.manage_connections and meta.connections:
        reasons.append("manage-connections")
    if settings.manage_lookups and meta.lookups:
        reasons.append("manage-lookups")
    return reasons


def _build_info(result: BuildResult, entries: int, size: int) -> dict[str, object]:
    meta = result.meta
    return {
        "id": meta.id,
        "code": meta.code,
        "version": meta.version,
        "name": meta.name,
        "source": {"kind": result.source.kind, "path": result.source.path.as_posix()},
        "iar": {
            "file": result.iar.name,
            "sha256": result.sha256,
            "size": size,
            "entries": entries,
        },
        "connections": [{"code": c.code, "adapter": c.adapter} for c in meta.connections],
        "lookups": list(meta.lookups),
        "libraries": list(meta.libraries),
        "schedule": meta.has_schedule,
        "exported": result.exported,
        "tool": {"name": "oic-build", "version": __version__},
        "git": git_info(result.source.folder),
        "built_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


@dataclass
class Loaded:
    """A source found, checked and read: everything needed before writing anything."""

    source: Source
    meta: IntegrationMeta
    tree: SourceTree | None
    plan: Path | None
    entries: int


def load(settings: Settings, path: Path, reporter: Reporter) -> Loaded:
    """Find and check the source at `path` and read its metadata; writes nothing."""
    source = find_source(path)
    if source.note:
        reporter.info(source.note)
    _check_artifact_dir(settings, source)
    plan = find_connection_plan(source.folder, settings.connection_plan)
    if source.kind == "iar":
        with IarFile(source.path) as iar:
            meta = iar.metadata()
            iar.verify()
            loaded = Loaded(source, meta, None, plan, len(iar.entry_names))
    else:
        tree = SourceTree(source.path)
        loaded = Loaded(source, tree.metadata(), tree, plan, len(tree.entries))
    meta = loaded.meta
    reporter.info(
        f"integration {meta.id} ({meta.name or 'no name'}) from {source.kind} {source.path}"
    )
    if meta.extra_roots:
        reporter.warning(
            f"{source.path}: entries outside icspackage/ ({', '.join(meta.extra_roots)}) are "
            "not part of the integration; OIC ignores them",
            file=source.path,
        )
    return loaded


def server_reasons(settings: Settings, meta: IntegrationMeta) -> list[str]:
    """Why this build must talk to OIC (empty: it need not); missing settings are exit 2."""
    reasons = needs_server(settings, meta)
    if reasons and (missing := settings.missing_server_settings()):
        raise SettingsError(
            f"{' and '.join(reasons)} is on and {meta.id} uses "
            f"{'connections' if 'manage-connections' in reasons else 'lookups'}, "
            f"but server settings are missing: {', '.join(missing)} "
            "(or set manage-connections/manage-lookups to false)"
        )
    return reasons


def produce(settings: Settings, loaded: Loaded, reporter: Reporter) -> BuildResult:
    """Write `<artifact-dir>/<CODE>_<VERSION>/` from a loaded source; all or nothing."""
    meta, source, plan = loaded.meta, loaded.source, loaded.plan
    reasons = server_reasons(settings, meta)
    with ArtifactStage(settings.artifact_dir, meta.slug) as stage:
        staged_iar = stage.path / f"{meta.slug}.iar"
        if loaded.tree is not None:
            write_iar(loaded.tree.entries, staged_iar)
            reporter.info(f"packaged {loaded.entries} files into {meta.slug}.iar")
        else:
            shutil.copyfile(source.path, staged_iar)
            reporter.info(f"using committed archive {source.path.name}")
        if plan is not None and not reasons:  # with a server export, export checks it first
            shutil.copyfile(plan, stage.path / PLAN_FILE)
            reporter.info(f"connection plan {plan} -> {PLAN_FILE}")
        exported: dict[str, object] = {}
        if reasons:
            from .artifact.export import export_from_server  # the HTTP stack loads only when needed

            exported = export_from_server(settings, meta, stage.path, reporter, plan)
        final_iar = stage.final / staged_iar.name
        result = BuildResult(meta, source, stage.final, final_iar, sha256_of(staged_iar), exported)
        info = _build_info(result, loaded.entries, staged_iar.stat().st_size)
        write_json(stage.path / "build-info.json", info)
        stage.commit()
    reporter.info(
        f"artifact {result.artifact} ({os.path.getsize(result.iar)} bytes, "
        f"sha256 {result.sha256[:12]}…)"
    )
    return result


def build(settings: Settings, reporter: Reporter, path: Path | None = None) -> BuildResult:
    """Build one integration (`path`, default the integration-path setting)."""
    loaded = load(settings, path or Path(settings.integration_path), reporter)
    return produce(settings, loaded, reporter)
