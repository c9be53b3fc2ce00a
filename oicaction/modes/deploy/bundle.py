"""Step 1: read one artifact folder and check it before anything is sent.

The ids come from build-info.json (never from file names); the archive must have the sha256 the
record gives; each lookup CSV's first line `DVM,<NAME>,...` must name the lookup its file is
named after; attachment and connection names must be names OIC could have given. Every problem
is one line naming the file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...artifact.layout import (
    ATTACHMENTS_DIR,
    CONNECTION_FILE,
    CONNECTIONS_DIR,
    LOOKUPS_DIR,
    PLAN_FILE,
    checked_name,
)
from ...artifact.plan import Plan, read_plan
from ...artifact.record import BuildRecord, read_record
from ...errors import ArtifactError, SettingsError, shown_path
from ...oic.connection_model import is_oic_managed


@dataclass(frozen=True)
class FileItem:
    """A file of the artifact that goes to the server: an attachment or a lookup."""

    owner: str  # the connection id (attachment) or the lookup name
    name: str  # the property name (attachment) or the lookup name
    path: Path


@dataclass(frozen=True)
class Bundle:
    """An artifact folder read and checked: what a deploy sends, and what it knows offline."""

    folder: Path
    record: BuildRecord
    archive: Path
    connections: tuple[str, ...]  # the connections it uses, OIC-managed ones left out
    definitions: dict[str, dict[str, Any]]  # connections/<ID>/connection.json, when exported
    attachments: tuple[FileItem, ...]
    lookups: tuple[FileItem, ...]
    plan: Plan | None

    @property
    def label(self) -> str:
        return f"{self.record.kind} {self.record.id}"


def _fail(path: Path, problem: str) -> ArtifactError:
    return ArtifactError(f"{shown_path(path)}: {problem}", file=path)


def _check_name(name: str, path: Path, what: str) -> str:
    """A name that becomes a path (or part of a request path) by the build's own rule."""
    try:
        return checked_name(what, name)
    except ArtifactError as exc:
        raise _fail(path, str(exc)) from None


def _definitions(folder: Path, used: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for conn in used:
        path = folder / CONNECTIONS_DIR / conn / CONNECTION_FILE
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise _fail(path, f"cannot read as JSON ({exc})") from None
        if not isinstance(data, dict):
            raise _fail(path, "not a JSON object")
        found[conn] = data
    return found


def _attachments(folder: Path, used: tuple[str, ...]) -> list[FileItem]:
    found = []
    for conn in used:
        root = folder / CONNECTIONS_DIR / conn / ATTACHMENTS_DIR
        if not root.is_dir():
            continue
        for path in sorted(root.iterdir()):
            if path.is_symlink() or not path.is_file():
                raise _fail(path, "not a regular file")
            found.append(FileItem(conn, _check_name(path.name, path, "property name"), path))
    return found


def _lookups(folder: Path, record: BuildRecord) -> list[FileItem]:
    """Each lookup the build exported, its CSV's first line naming the same lookup. A lookup
    the integration uses but the build did not export (offline) has no file: not imported."""
    found = []
    exported = record.exported.lookups if record.exported else []
    for name in record.lookups:
        path = folder / LOOKUPS_DIR / f"{name}.csv"
        _check_name(name, path, "lookup name")
        if not path.exists() and not path.is_symlink() and name not in exported:
            continue
        if path.is_symlink() or not path.is_file():
            raise _fail(path, f"lookup {name} was exported by the build but is missing")
        with path.open("rb") as fh:
            first = fh.readline(4096).decode("utf-8-sig", "replace").strip()
        cells = [c.strip().strip('"') for c in first.split(",")]
        if len(cells) < 2 or cells[0] != "DVM":
            raise _fail(path, "first line is not DVM,<NAME>,...: not a lookup export")
        if cells[1] != name:
            raise _fail(path, f"holds lookup {cells[1]!r}, not {name!r} as its file name says")
        found.append(FileItem(name, name, path))
    return found


def read_bundle(folder: Path, plan_path: Path | None) -> Bundle:
    """Read and check the artifact in `folder`. `plan_path`: the environment's plan (the
    connection-plan input); default the artifact's own connectionPlan.properties."""
    record = read_record(folder)
    archive = folder / record.archive.file
    if archive.is_symlink() or not archive.is_file():
        raise _fail(archive, f"the archive of {record.kind} {record.id} is missing")
    with archive.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if digest != record.archive.sha256:
        raise _fail(
            archive,
            f"sha256 {digest[:12]}… differs from build-info.json's {record.archive.sha256[:12]}…; "
            "the artifact was changed after the build",
        )
    used = tuple(c.code for c in record.connections if not is_oic_managed(c.code))
    for conn in used:
        _check_name(conn, folder / CONNECTIONS_DIR / conn, "connection id")
    plan = None
    if plan_path is not None:
        if not plan_path.is_file():
            raise SettingsError(f"connection-plan {shown_path(plan_path)} is not a file")
        plan = read_plan(plan_path, [plan_path.parent])
    elif (folder / PLAN_FILE).is_file():
        plan = read_plan(folder / PLAN_FILE, [folder])
    return Bundle(
        folder=folder,
        record=record,
        archive=archive,
        connections=used,
        definitions=_definitions(folder, used),
        attachments=tuple(_attachments(folder, used)),
        lookups=tuple(_lookups(folder, record)),
        plan=plan,
    )
