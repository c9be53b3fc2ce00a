"""List an unzipped export folder (an integration's icspackage/, a project's project/) as archive
entries, without following links out of it."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError, reading
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


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: Python 3.11's "Symlink loop from"
        reason = exc.strerror if isinstance(exc, OSError) else "symlink loop"
        raise SourceError(f"{path}: cannot follow the symlink ({reason})", file=path) from None


def _identity(folder: Path) -> tuple[int, int]:
    try:
        st = folder.stat()
    except OSError as exc:
        raise SourceError(f"{folder}: cannot open folder ({exc.strerror})", file=folder) from None
    return st.st_dev, st.st_ino


def check_utf8(path: Path) -> None:
    """Names are UTF-8 (in an .iar, a log line, an output); a path that is not (read as
    surrogate escapes) is refused here, its bytes escaped, before it can break any of them."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise SourceError(f"{shown}: file name is not valid UTF-8", file=path.parent) from None


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
        seen_dirs: set[tuple[int, int]] = set()

        stack = [(self.root, self.archive_root)]  # a loop, not recursion: any depth the disk allows
        while stack:
            folder, prefix = stack.pop()
            real = _identity(folder)  # not resolve(): that costs a stat per level, per folder
            if real in seen_dirs:
                raise SourceError(f"{folder}: symlink loop", file=folder)
            seen_dirs.add(real)
            try:
                children = sorted(os.scandir(folder), key=lambda d: d.name)
            except OSError as exc:
                raise SourceError(
                    f"{folder}: cannot list folder ({exc.strerror})", file=folder
                ) from None
            for child in children:
                path = Path(child.path)
                name = f"{prefix}/{child.name}"
                check_utf8(path)
                if child.is_symlink():
                    target = _resolve(path)
                    if not target.is_relative_to(self.real_root):
                        raise SourceError(
                            f"{path}: symlink points outside {self.root} (to {target}); refused",
                            file=path,
                        )
                    if child.is_dir():
                        # Refused, not packed: OIC exports hold no links, a link to a folder
                        # would pack its files twice under two names (or forever, to an
                        # ancestor), and a checkout without symlinks has a text file there.
                        raise SourceError(
                            f"{path}: a symlink to the folder {target} inside the source; "
                            "refused (an export holds no links: replace it with the folder or "
                            "remove it)",
                            file=path,
                        )
                if child.is_dir():
                    if child.name not in IGNORED_DIRS:
                        stack.append((path, name))
                    continue
                if child.name in IGNORED_NAMES:
                    continue
                try:
                    st = path.stat()
                except OSError as exc:
                    raise SourceError(f"{path}: unreadable ({exc.strerror})", file=path) from None
                if not stat.S_ISREG(st.st_mode):
                    raise SourceError(f"{path}: not a regular file", file=path)
                entries.append(Entry(name, path, st.st_size))

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
