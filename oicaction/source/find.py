"""Find an integration's or a project's source in a folder and read it: a committed .iar wins
over an icspackage/ tree, a committed .car over a project/ tree, and one folder holds one of
the two kinds only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import SettingsError, SourceError, reading
from .iar import IarFile
from .metadata import ICSPACKAGE, Meta, read_metadata
from .project import PROJECT, read_project
from .tree import SourceTree, check_utf8

# Names a connection plan / replacement properties file is kept under beside the source.
CONNECTION_PLAN_NAMES = (
    "connectionplan.properties",
    "connection-plan.properties",
    "connection_plan.properties",
    "replacement.properties",
)


SourceKind = Literal["iar", "icspackage", "car", "project"]


@dataclass(frozen=True)
class Source:
    """Where the build reads from: an .iar file or an icspackage/ folder to pack (an
    integration), a .car file or a project/ folder to pack (a project)."""

    kind: SourceKind
    path: Path
    folder: Path
    note: str | None = None

    @property
    def root(self) -> str:
        """The folder every archive entry lives under."""
        return PROJECT if self.kind in ("car", "project") else ICSPACKAGE

    @property
    def output_kind(self) -> str:
        """The `source-kind` output: `iar`, `icspackage`, or `project` for either project form."""
        return PROJECT if self.root == PROJECT else self.kind


def is_project_tree(folder: Path) -> bool:
    """An unzipped project export: project.yaml, or at least its integrations/ folder (so a
    tree that lost its project.yaml is reported rather than passed over)."""
    return folder.is_dir() and (
        (folder / "project.yaml").is_file() or (folder / "integrations").is_dir()
    )


def _unsupported(par: Path) -> SourceError:
    return SourceError(
        f"{par}: an OIC package archive (.par) is not supported; commit its integrations as "
        ".iar files (or icspackage/ folders), or the project as a .car",
        file=par,
    )


def find_source(path: Path) -> Source:
    """Apply the discovery rules: one .iar -> use it; icspackage/ -> pack it; both -> .iar;
    likewise .car, project/ and both -> .car; an integration and a project together -> error."""
    if not path.exists():
        raise SettingsError(f"integration-path {path} does not exist")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".par":
            raise _unsupported(path)
        if suffix not in (".iar", ".car"):
            raise SettingsError(f"integration-path {path} is a file but not an .iar or a .car")
        return Source("iar" if suffix == ".iar" else "car", path, path.parent)
    if path.name == ICSPACKAGE:
        return Source("icspackage", path, path.parent)
    if path.name == PROJECT and is_project_tree(path):
        return Source("project", path, path.parent)
    files = sorted(p for p in path.iterdir() if p.is_file())
    by_suffix = {s: [p for p in files if p.suffix.lower() == s] for s in (".iar", ".car", ".par")}
    package, project = path / ICSPACKAGE, path / PROJECT
    has_package, has_project = package.is_dir(), is_project_tree(project)
    integration_found = [p.name for p in by_suffix[".iar"]] + [f"{ICSPACKAGE}/"] * has_package
    project_found = [p.name for p in by_suffix[".car"]] + [f"{PROJECT}/"] * has_project
    if integration_found and project_found:
        raise SourceError(
            f"{path}: holds both an integration source ({', '.join(integration_found)}) and a "
            f"project source ({', '.join(project_found)}); keep one per folder",
            file=path,
        )
    for suffix in (".iar", ".car"):
        if len(by_suffix[suffix]) > 1:
            names = ", ".join(p.name for p in by_suffix[suffix])
            raise SourceError(f"{path}: several {suffix} files, expected one: {names}", file=path)
    iar, car = by_suffix[".iar"][:1], by_suffix[".car"][:1]
    if iar:
        note = f"both {iar[0].name} and {ICSPACKAGE}/ found in {path}; the .iar wins"
        return Source("iar", iar[0], path, note if has_package else None)
    if has_package:
        return Source("icspackage", package, path)
    if car:
        note = f"both {car[0].name} and {PROJECT}/ found in {path}; the .car wins"
        return Source("car", car[0], path, note if has_project else None)
    if has_project:
        return Source("project", project, path)
    if by_suffix[".par"]:
        raise _unsupported(by_suffix[".par"][0])
    raise SourceError(
        f"{path}: no integration or project source: looked for a *.iar file, an {ICSPACKAGE}/ "
        "folder containing project/<CODE>_<VERSION>/PROJECT-INF/project.xml, a *.car file and "
        "a project/ folder containing project.yaml",
        file=path,
    )


@dataclass(frozen=True)
class SourceData:
    """A source found and read: what it is, and the entries a folder source packs to."""

    source: Source
    meta: Meta
    tree: SourceTree | None
    entries: int


def read_source(path: Path, *, verify: bool) -> SourceData:
    """Find the source at `path` and read its metadata; `verify` also checks every CRC of a
    committed .iar or .car (a build does, discovery need not). Writes nothing; an OSError
    anywhere in reading is this source's SourceError."""
    with reading(path):
        check_utf8(path)
        source = find_source(path)
        read_meta = read_project if source.root == PROJECT else read_metadata
        if source.kind in ("iar", "car"):
            with IarFile(source.path, root=source.root) as archive:
                meta = read_meta(archive.entry_names, archive.read, str(source.path))
                if verify:
                    archive.verify()
                return SourceData(source, meta, None, len(archive.entry_names))
        tree = SourceTree(source.path, source.root)
        meta = read_meta(tree.entry_names, tree.read, str(source.folder))
        return SourceData(source, meta, tree, len(tree.entries))


def find_connection_plan(folder: Path, explicit: Path | None) -> Path | None:
    """The plan named by `connection-plan`, else one kept beside the source under a known name."""
    with reading(folder):
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
