"""Find an integration's source in a folder (a committed .iar wins over an icspackage/ tree)
and read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import SettingsError, SourceError, reading
from .iar import IarFile
from .metadata import ICSPACKAGE, IntegrationMeta
from .tree import SourceTree, check_utf8

# Names a connection plan / replacement properties file is kept under beside the source.
CONNECTION_PLAN_NAMES = (
    "connectionplan.properties",
    "connection-plan.properties",
    "connection_plan.properties",
    "replacement.properties",
)


@dataclass(frozen=True)
class Source:
    """Where the build reads from: an .iar file, or an icspackage/ folder to pack."""

    kind: Literal["iar", "icspackage"]
    path: Path
    folder: Path
    note: str | None = None


def find_source(path: Path) -> Source:
    """Apply the discovery rules: one .iar -> use it; icspackage/ -> pack it; both -> .iar."""
    if not path.exists():
        raise SettingsError(f"integration-path {path} does not exist")
    if path.is_file():
        if path.suffix.lower() != ".iar":
            raise SettingsError(f"integration-path {path} is a file but not an .iar")
        return Source("iar", path, path.parent)
    if path.name == ICSPACKAGE:
        return Source(ICSPACKAGE, path, path.parent)
    iars = sorted(p for p in path.iterdir() if p.suffix.lower() == ".iar" and p.is_file())
    package = path / ICSPACKAGE
    has_package = package.is_dir()
    if len(iars) > 1:
        names = ", ".join(p.name for p in iars)
        raise SourceError(f"{path}: several .iar files, expected one: {names}", file=path)
    if iars:
        note = (
            f"both {iars[0].name} and {ICSPACKAGE}/ found in {path}; the .iar wins"
            if has_package
            else None
        )
        return Source("iar", iars[0], path, note)
    if has_package:
        return Source(ICSPACKAGE, package, path)
    raise SourceError(
        f"{path}: no integration source: looked for a *.iar file and an {ICSPACKAGE}/ folder "
        f"containing project/<CODE>_<VERSION>/PROJECT-INF/project.xml",
        file=path,
    )


@dataclass(frozen=True)
class SourceData:
    """A source found and read: what it is, and the entries an icspackage/ folder packs to."""

    source: Source
    meta: IntegrationMeta
    tree: SourceTree | None
    entries: int


def read_source(path: Path, *, verify: bool) -> SourceData:
    """Find the source at `path` and read its metadata; `verify` also checks every CRC of a
    committed .iar (a build does, discovery need not). Writes nothing; an OSError anywhere in
    reading is this source's SourceError."""
    with reading(path):
        return _read_source(path, verify)


def _read_source(path: Path, verify: bool) -> SourceData:
    check_utf8(path)
    source = find_source(path)
    if source.kind == "iar":
        with IarFile(source.path) as iar:
            meta = iar.metadata()
            if verify:
                iar.verify()
            return SourceData(source, meta, None, len(iar.entry_names))
    tree = SourceTree(source.path)
    return SourceData(source, tree.metadata(), tree, len(tree.entries))


def find_connection_plan(folder: Path, explicit: Path | None) -> Path | None:
    """The plan named by `connection-plan`, else one kept beside the source under a known name."""
    with reading(folder):
        return _find_connection_plan(folder, explicit)


def _find_connection_plan(folder: Path, explicit: Path | None) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise SettingsError(f"connection-plan {explicit} is not a file")
        return explicit
    found = sorted(
        p for p in folder.iterdir() if p.is_file() and p.name.lower() in CONNECTION_PLAN_NAMES
    )
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise SourceError(f"{folder}: several connection plans, expected one: {names}", file=folder)
    return found[0] if found else None
