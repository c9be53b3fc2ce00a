"""Check an archive exported from OIC before any of it reaches the repository: the build's checks
(a readable zip under one root, no entry escaping it, bounded size, safe XML, metadata present)
plus what unpacking needs (no duplicate, link or non-normal names, nothing outside the root) and
that it holds what was asked for. One streaming pass over every entry verifies its CRC, hashes
it (to tell an unchanged folder) and looks for the run's credentials in it."""

from __future__ import annotations

import hashlib
import posixpath
import stat
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import OicBuildError, ServerError
from ...source.iar import ZIP_READ_ERRORS, IarFile
from ...source.metadata import ICSPACKAGE, Meta, read_metadata
from ...source.project import PROJECT, read_project

CHUNK = 1024 * 1024
UNIX = 3  # ZipInfo.create_system: external_attr carries a Unix mode
OVERLAP = 64 * 1024  # longer than any form of a secret (an access token is 1-2 KB)
# Where in some bytes one of the run's secrets shows (a line from 1), or None: the redactor's.
FindSecret = Callable[[bytes], "int | None"]


def held_id(meta: Meta) -> str:
    """What OIC knows a source by: CODE|VERSION, or the project's id (its export's path)."""
    return meta.oic_project or meta.id


@dataclass(frozen=True)
class Checked:
    """An exported archive that passed every check: what it holds and each file's sha256."""

    path: Path
    root: str  # icspackage (an integration) or project (an OIC 3 project)
    meta: Meta
    entries: dict[str, str]  # file entry name -> sha256 of its bytes

    @property
    def label(self) -> str:
        return self.meta.label

    @property
    def id(self) -> str:
        return held_id(self.meta)


def _refuse(label: str, reason: str) -> ServerError:
    return ServerError(f"{label} as exported by OIC: {reason}; nothing was written")


def _names(infos: Sequence[zipfile.ZipInfo], label: str) -> list[zipfile.ZipInfo]:
    """The file entries, refusing names that cannot be unpacked to exactly themselves."""
    files: dict[str, zipfile.ZipInfo] = {}
    folders: set[str] = set()
    for info in infos:
        name = info.filename.rstrip("/") if info.is_dir() else info.filename
        if posixpath.normpath(name) != name:
            raise _refuse(label, f"entry {info.filename!r} is not a normal path")
        if info.create_system == UNIX and stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(label, f"entry {name!r} is a symbolic link (an export holds none)")
        if info.is_dir():
            folders.add(name)
            continue
        if name in files:
            raise _refuse(label, f"entry {name!r} is there twice")
        files[name] = info
        parts = name.split("/")
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
    if both := sorted(folders & set(files)):
        raise _refuse(label, f"entry {both[0]!r} is both a file and a folder")
    return list(files.values())


def entry_digest(
    archive: IarFile, info: zipfile.ZipInfo, label: str, find: FindSecret | None = None
) -> str:
    """Read one entry once, streaming (zipfile checks its CRC at the end): its sha256, and a
    refusal naming the entry and line (never the value) if `find` (the run's redactor, whose
    rule says which secrets a file is searched for) finds one. Each window repeats the last
    OVERLAP bytes of the one before, so a secret across two chunks is found too."""
    digest = hashlib.sha256()
    tail, lines = b"", 0  # lines: newlines before `tail`
    try:
        with archive.open(info) as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                window = tail + chunk
                if find is not None and (line := find(window)) is not None:
                    raise _refuse(
                        label,
                        f"entry {info.filename}: line {lines + line} holds one of this run's "
                        "secrets (the value of password, client-secret or an access token); "
                        "refused, so that it never reaches the repository",
                    )
                lines += window.count(b"\n", 0, max(len(window) - OVERLAP, 0))
                tail = window[-OVERLAP:]
    except ZIP_READ_ERRORS as exc:
        raise _refuse(label, f"entry {info.filename} is corrupt ({exc})") from None
    return digest.hexdigest()


def check_archive(
    path: Path,
    expected: str,
    *,
    project: bool,
    whole_tree: bool,
    find_secret: FindSecret | None = None,
) -> Checked:
    """Check the archive OIC exported for `expected` (an id CODE|VERSION, or a project id);
    `whole_tree`: it is to be unpacked, so every entry must live under its root. Any problem
    is one ServerError naming the integration or project and the entry."""
    label = f"project {expected}" if project else f"integration {expected}"
    root, read_meta = (PROJECT, read_project) if project else (ICSPACKAGE, read_metadata)
    try:
        with IarFile(path, root=root) as archive:
            meta: Meta = read_meta(archive.entry_names, archive.read, str(path))
            files = _names(archive.infolist(), label)
            entries = {i.filename: entry_digest(archive, i, label, find_secret) for i in files}
    except ServerError:
        raise
    except OicBuildError as exc:  # the build's own checks, phrased for the temp file
        said = str(exc).replace(f"{path}/", "").replace(f"{path}: ", "")
        raise _refuse(label, said.replace(str(path), "the archive")) from None
    checked = Checked(path, root, meta, entries)
    if checked.id != expected:
        raise _refuse(label, f"it holds {meta.label}, not what was asked for")
    if whole_tree and meta.extra_roots:
        raise _refuse(
            label,
            f"entries outside {root}/ ({', '.join(meta.extra_roots)}) cannot be kept in the "
            f"{root}/ folder; pull with layout: iar to commit the archive as it is",
        )
    return checked
