"""List an unzipped export folder (an integration's icspackage/, a project's project/) as archive
entries, without following links out of it."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError, reading, shown_path
from .metadata import ICSPACKAGE, MAX_XML_BYTES

# Desktop and VCS litter that is never part of an export.
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".gitkeep", ".gitignore"})
IGNORED_DIRS = frozenset({"__MACOSX", ".git"})


@dataclass(frozen=True)
class Entry:
    """One file to archive: its name inside the zip and where its bytes are."""

    name: str
    path: Path
    size: int


def check_utf8(path: Path) -> None:
    """Names are UTF-8 (in an .iar, a log line, an output); a path that is not (read as
    surrogate escapes) is refused here, its bytes escaped, before it can break any of them."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise SourceError(
            f"{shown_path(path)}: file name is not valid UTF-8", file=path.parent
        ) from None


def _link_target(path: Path, root: Path) -> Path:
    """Where a symlink inside the source points; refused when that is outside `root`."""
    try:
        target = path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: Python 3.11's "Symlink loop from"
        reason = exc.strerror if isinstance(exc, OSError) else "symlink loop"
        raise SourceError(f"{path}: cannot follow the symlink ({reason})", file=path) from None
    if not target.is_relative_to(root):
        raise SourceError(
            f"{path}: symlink points outside {root} (to {target}); refused", file=path
        )
    return target


class SourceTree:
    """An export folder on disk, seen as the sorted entries of the archive it packs to; entry
    names start with `archive_root` (`icspackage` for an .iar, `project` for a .car)."""

    def __init__(self, folder: Path, archive_root: str = ICSPACKAGE) -> None:
        self.root = folder
        self.real_root = folder.resolve()
        self.archive_root = archive_root
        self.entries = self._walk()
        self._by_name = {e.name: e for e in self.entries}

    def _walk(self) -> list[Entry]:
        entries: list[Entry] = []
        seen: set[tuple[int, int]] = set()  # (device, inode): a bind mount can loop
        stack = [(self.root, self.archive_root)]  # a loop, not recursion: any depth the disk allows
        while stack:
            folder, prefix = stack.pop()
            with reading(folder):
                st = folder.stat()
                children = sorted(os.scandir(folder), key=lambda d: d.name)
            if (st.st_dev, st.st_ino) in seen:
                raise SourceError(f"{folder}: symlink loop", file=folder)
            seen.add((st.st_dev, st.st_ino))
            for child in children:
                path = Path(child.path)
                check_utf8(path)
                if child.is_symlink() and (target := _link_target(path, self.real_root)).is_dir():
                    # Refused, not packed: OIC exports hold no links, a link to a folder would
                    # pack its files twice under two names, and a checkout without symlinks
                    # has a text file there.
                    raise SourceError(
                        f"{path}: a symlink to the folder {target} inside the source; refused (an "
                        "export holds no links: replace it with the folder or remove it)",
                        file=path,
                    )
                if child.is_dir():
                    if child.name not in IGNORED_DIRS:
                        stack.append((path, f"{prefix}/{child.name}"))
                elif child.name not in IGNORED_NAMES:
                    with reading(path):
                        st = path.stat()
                    if not stat.S_ISREG(st.st_mode):
                        raise SourceError(f"{path}: not a regular file", file=path)
                    entries.append(Entry(f"{prefix}/{child.name}", path, st.st_size))
        entries.sort(key=lambda e: e.name)
        return entries

    @property
    def entry_names(self) -> list[str]:
        return [e.name for e in self.entries]

    def read(self, name: str) -> bytes:
        entry = self._by_name[name]
        if entry.size > MAX_XML_BYTES:
            raise SourceError(
                f"{entry.path}: {entry.size} bytes, too large to be metadata", file=entry.path
            )
        with reading(entry.path):
            return entry.path.read_bytes()
