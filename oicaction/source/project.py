"""Read an OIC 3 project's identity and assets from its `project/` entries, .car or folder.

project.yaml (untrusted YAML) lists the project's assets; what it lists is cross-checked with
what the archive holds, and a difference is a warning naming both sides, since OIC imports what
the archive holds.

project.yaml goes through PyYAML's safe loader, which never runs code but lets through explicit
tags, and anchors and aliases: `&a [*b, *b, ...]` nested a few levels deep makes a small file
stand for billions of nodes. OIC's exports use none of them, so each is refused outright.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, ClassVar, Literal

import yaml
from yaml.events import AliasEvent, NodeEvent
from yaml.nodes import Node

from ..errors import SourceError
from .metadata import Cell, Code, Connection, Meta, SummaryRow, child_text, parse_xml

PROJECT = "project"
PROJECT_YAML = f"{PROJECT}/project.yaml"
# OIC 3 project codes take hyphens too (an OIC 3 project import answers for LAB-DEVOPS); never a
# `.`, so a project's artifact folder cannot be mistaken for an integration's CODE_NN.NN.NNNN.
PROJECT_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# An integration or library folder is named CODE_VERSION, its id is CODE|VERSION.
_SLUG = re.compile(r"^(?P<code>.+)_(?P<version>\d{2}\.\d{2}\.\d{4})$")
MAX_YAML_BYTES = 4 * 1024 * 1024  # real project.yaml files are a few KB
# The assets project.yaml lists, in the order warnings name them, and the files that hold some.
_ASSETS = ("integrations", "connections", "lookups", "libraries")
_FILES = {("connections", ".xml"), ("lookups", ".dvm")}


@dataclass(frozen=True)
class ProjectIntegration:
    """An integration of the project, as project.yaml or its folder names it."""

    id: str
    name: str | None

    @property
    def code(self) -> str:
        return self.id.split("|", 1)[0]

    @property
    def version(self) -> str:
        return self.id.split("|", 1)[-1]


@dataclass(frozen=True)
class ProjectMeta(Meta):
    """What a project source says about itself; `code` keys the build as CODE|VERSION does for
    an integration (OIC keeps one project per code)."""

    project_id: str
    code: str
    name: str | None
    revision: int | None
    integrations: tuple[ProjectIntegration, ...]
    connections: tuple[Connection, ...]
    lookups: tuple[str, ...]
    libraries: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    extra_roots: tuple[str, ...] = ()
    version: None = None

    kind: ClassVar[Literal["project"]] = "project"
    suffix: ClassVar[str] = "car"
    archive_output: ClassVar[str] = "car-path"
    unique_by: ClassVar[str] = "the project code"

    @property
    def oic_project(self) -> str:
        """On OIC 3 a project's connections and lookups live in the project itself."""
        return self.project_id

    @property
    def notes(self) -> tuple[str, ...]:
        listed = ", ".join(i.id for i in self.integrations) or "none"
        return (f"project revision {self.revision}; integrations: {listed}",)

    def record_fields(self) -> dict[str, object]:
        return {
            "id": self.project_id,
            "revision": self.revision,
            "integrations": [
                {"id": i.id, "code": i.code, "version": i.version, "name": i.name}
                for i in self.integrations
            ],
        }

    def output_values(self) -> dict[str, object]:
        return {
            "project-code": self.code,
            "project-name": self.name or "",
            "project-revision": "" if self.revision is None else str(self.revision),
            "project-integrations": [i.id for i in self.integrations],
        }

    def result_values(self) -> dict[str, object]:
        return {"integrations": [i.id for i in self.integrations]}

    def summary_rows(self) -> list[SummaryRow]:
        return [
            ("Project", Cell((Code(self.code), self.name or "", f"(revision {self.revision})"))),
            ("Integrations", Cell(tuple(Code(i.id) for i in self.integrations), ", ")),
        ]


class _Refused(Exception):
    """Why project.yaml is refused; becomes a SourceError naming the file."""


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that refuses any explicit tag, anchor or alias as it meets it, in one pass."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()
        at = f"at line {event.start_mark.line + 1}" if event.start_mark else ""
        if isinstance(event, AliasEvent):
            raise _Refused(f"alias *{event.anchor} {at} is not allowed (OIC writes none)")
        if isinstance(event, NodeEvent) and event.anchor is not None:
            raise _Refused(f"anchor &{event.anchor} {at} is not allowed (OIC writes none)")
        if (tag := getattr(event, "tag", None)) not in (None, "!"):  # scalars, collections
            raise _Refused(f"explicit tag {tag!r} {at} is not allowed")
        return super().compose_node(parent, index)


def _load_yaml(data: bytes, where: str) -> Any:
    """The document in `data` as plain Python values; SourceError naming `where` otherwise."""
    if len(data) > MAX_YAML_BYTES:
        raise SourceError(
            f"{where}: {len(data)} bytes, over the {MAX_YAML_BYTES}-byte limit for YAML", file=where
        )
    loader = None
    try:
        loader = _PlainLoader(data)  # reads the first bytes: a file that is not UTF-8 fails here
        return loader.get_single_data()
    except _Refused as exc:
        raise SourceError(f"{where}: refused YAML: {exc}", file=where) from None
    except yaml.reader.ReaderError as exc:  # bytes that do not decode, or a control character
        what = "a character YAML does not allow" if exc.encoding == "unicode" else "not UTF-8"
        raise SourceError(f"{where}: {what} (at byte {exc.position})", file=where) from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise SourceError(f"{where}: not valid YAML ({detail})", file=where) from None
    except RecursionError:
        raise SourceError(f"{where}: refused YAML: nested too deeply", file=where) from None
    finally:
        if loader is not None:
            loader.dispose()


def _assets(doc: dict[str, object], key: str, where: str) -> dict[str, str | None]:
    """`assets.<key>` as {id: name}; a malformed list is an error naming the file."""
    assets = doc.get("assets") or {}
    if not isinstance(assets, dict):
        raise SourceError(f"{where}: 'assets' is not a mapping", file=where)
    items = assets.get(key) or []
    if not isinstance(items, list):
        raise SourceError(f"{where}: 'assets.{key}' is not a list", file=where)
    found: dict[str, str | None] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise SourceError(f"{where}: an entry of 'assets.{key}' has no string 'id'", file=where)
        name = item.get("name")
        found[item["id"]] = str(name) if name is not None else None
    return found


def _compare(what: str, listed: Iterable[str], present: Iterable[str], where: str) -> list[str]:
    """One warning per side that has something the other lacks."""
    listed, present = set(listed), set(present)
    sides = {
        "listed in project.yaml but not in the archive": listed - present,
        "in the archive but not listed in project.yaml": present - listed,
    }
    return [
        f"{where}: {what} {side}: {', '.join(sorted(only))}" for side, only in sides.items() if only
    ]


def read_project(names: Iterable[str], read: Callable[[str], bytes], origin: str) -> ProjectMeta:
    """Read the project from entries named `project/...`; `read` returns one entry's bytes and
    `origin` (the .car, or the folder holding project/) names the file at fault."""
    names = sorted(names)
    where = f"{origin}/{PROJECT_YAML}"
    if PROJECT_YAML not in names:
        raise SourceError(f"{origin}: no {PROJECT_YAML}; not an OIC project export", file=origin)
    doc = _load_yaml(read(PROJECT_YAML), where)
    if not isinstance(doc, dict):
        raise SourceError(f"{where}: expected a mapping at the top level", file=where)
    code = doc.get("code")
    if not isinstance(code, str) or not code:
        raise SourceError(f"{where}: no 'code'", file=where)
    if not PROJECT_CODE_RE.fullmatch(code):
        raise SourceError(
            f"{where}: project code {code!r} has characters OIC does not allow", file=where
        )
    own_id = doc.get("id")
    project_id = own_id if isinstance(own_id, str) and own_id else code
    revision = doc.get("projectRevision")
    if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
        raise SourceError(f"{where}: 'projectRevision' {revision!r} is not a number", file=where)
    name = doc.get("name")
    listed = {key: _assets(doc, key, where) for key in _ASSETS}

    # What the archive holds, by asset kind: integration and library folders, connection files
    # (id -> entry) and lookups.
    present: dict[str, dict[str, str]] = {key: {} for key in _ASSETS}
    extra: set[str] = set()
    odd: set[str] = set()
    for entry in names:
        parts = PurePosixPath(entry).parts
        if parts[:1] != (PROJECT,):
            extra.add(parts[0] if parts else entry)
        elif len(parts) >= 4 and parts[1] in ("integrations", "libraries"):
            if match := _SLUG.fullmatch(parts[2]):
                present[parts[1]][f"{match['code']}|{match['version']}"] = entry
            else:
                odd.add(f"{parts[1]}/{parts[2]}")
        elif len(parts) == 3 and (parts[1], PurePosixPath(entry).suffix) in _FILES:
            present[parts[1]][PurePosixPath(entry).stem] = entry

    warnings = [f"{origin}: {f} is not named CODE_VERSION; ignored" for f in sorted(odd)]
    warnings += [w for key in _ASSETS for w in _compare(key, listed[key], present[key], origin)]
    conns = []
    conn_files = present["connections"]
    for conn_id in sorted(set(listed["connections"]) | set(conn_files)):
        adapter = None
        if conn_id in conn_files:
            root = parse_xml(read(conn_files[conn_id]), f"{origin}/{conn_files[conn_id]}")
            adapter = child_text(root, "applicationTypeRef")
        conns.append(Connection(conn_id, adapter))
    every = {key: sorted(set(listed[key]) | set(present[key])) for key in _ASSETS}
    return ProjectMeta(
        project_id=project_id,
        code=code,
        name=str(name) if name is not None else None,
        revision=revision,
        integrations=tuple(
            ProjectIntegration(i, listed["integrations"].get(i)) for i in every["integrations"]
        ),
        connections=tuple(conns),
        lookups=tuple(every["lookups"]),
        libraries=tuple(every["libraries"]),
        warnings=tuple(warnings),
        extra_roots=tuple(sorted(extra)),
    )
