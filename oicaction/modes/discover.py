"""Find every integration and project source under a root, for matrix and batch builds: a
folder holding an `.iar` and/or `icspackage/`, or a `.car` and/or `project/` (as a single build
takes it), or each `.iar` and `.car` of a folder of several. Package archives (`.par`) are not."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import OicBuildError, SettingsError, shown_path, unexpected
from ..source.find import is_project_tree, read_source
from ..source.git import changed_paths
from ..source.metadata import ICSPACKAGE, Meta
from ..source.project import PROJECT

# Folders that never hold integration sources and can be large.
SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"})


@dataclass(frozen=True)
class Found:
    """One discovered source: its path as the build takes it, and what it says it is."""

    path: str
    meta: Meta


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    file: Path | None = None


def split_list(value: str | None) -> list[str]:
    """Inputs that take several values: one per line, or comma-separated."""
    return [part.strip() for part in re.split(r"[\n,]", value or "") if part.strip()]


def _candidates(root: Path, skip: set[Path], problems: list[Problem]) -> Iterator[Path]:
    """Source paths under root, sorted, without descending into an icspackage/ or project/
    export folder; a folder that cannot be listed is a problem, never skipped silently."""

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        said = f"{where}: cannot read folder ({exc.strerror}); what it holds was not searched"
        problems.append(Problem(where.as_posix(), said, where))

    for folder, dirs, files in os.walk(root, onerror=unreadable):
        here = Path(folder)
        has_project = is_project_tree(here / PROJECT)
        passed = SKIP_DIRS | {ICSPACKAGE} | ({PROJECT} if has_project else set())
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in passed and not _staging(here / d) and (here / d).resolve() not in skip
        )
        archives = sorted(f for f in files if f.lower().endswith((".iar", ".car")))
        has_tree = (here / ICSPACKAGE).is_dir() or has_project
        if len(archives) > 1 and not has_tree:
            yield from (here / f for f in archives)
        elif archives or has_tree:
            yield here


def _staging(folder: Path) -> bool:
    """A pull's staging folder (a killed pull leaves one): it holds a copy of a source, which is
    not a second source. Imported here: a build loads this module (batch) but not pull's."""
    from .pull.write import MARKER, STAGE_PREFIX

    return folder.name.startswith(STAGE_PREFIX) and (folder / MARKER).is_file()


def _matches(rel: str, patterns: Sequence[str]) -> bool:
    return any(
        fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(rel, p.rstrip("/") + "/*")
        for p in patterns
    )


def duplicates(sources: Sequence[tuple[str, Meta]]) -> list[tuple[list[int], OicBuildError]]:
    """Sources (path, meta) claiming one id (CODE|VERSION, or a project code), which OIC would
    keep only one of: for each such group, the indices and the one error naming them all."""
    by_id: dict[str, list[int]] = {}
    for i, (_path, meta) in enumerate(sources):
        by_id.setdefault(meta.id, []).append(i)
    groups = []
    for same in (same for same in by_id.values() if len(same) > 1):
        meta, paths = sources[same[0]][1], " and ".join(sources[i][0] for i in same)
        error = OicBuildError(f"{meta.label} is in both {paths}; {meta.unique_by} must be unique")
        groups.append((same, error))
    return groups


def scan(
    root: Path,
    keep: Callable[[str], bool] = lambda rel: True,
    skip: Sequence[Path] = (),
) -> tuple[list[tuple[Path, Meta]], list[Problem]]:
    """Every source under root whose path relative to root `keep` accepts, read, duplicates
    and all; unreadable ones come back as problems. Discover and pull both find sources so."""
    found: list[tuple[Path, Meta]] = []
    problems: list[Problem] = []
    for path in _candidates(root, {p.resolve() for p in skip}, problems):
        if not keep(path.relative_to(root).as_posix()):
            continue
        shown = shown_path(path)
        try:
            found.append((path, read_source(path, verify=False).meta))
        except OicBuildError as exc:
            problems.append(Problem(shown, str(exc), exc.file))
        except Exception as exc:  # not foreseen: that folder's problem, the scan goes on
            problems.append(Problem(shown, str(unexpected(exc, shown))))
    return found, problems


def discover(
    root: Path,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    changed_since: str | None = None,
    skip: Sequence[Path] = (),
) -> tuple[list[Found], list[Problem]]:
    """Every readable source under root, filtered; unreadable ones come back as problems."""
    if not root.is_dir():
        raise SettingsError(f"integration-path {root} is not a folder to discover in")
    changed = changed_paths(root, changed_since) if changed_since else None

    def keep(rel: str) -> bool:
        touched = changed is None or any(
            rel in (".", c) or c.startswith(rel + "/") for c in changed
        )
        wanted = not include or _matches(rel, include)
        return touched and wanted and not _matches(rel, exclude)

    sources, problems = scan(root, keep, skip)
    found = [Found(shown_path(path), meta) for path, meta in sources]
    dropped: set[int] = set()
    for same, error in duplicates([(f.path, f.meta) for f in found]):
        problems.append(Problem(found[same[0]].path, str(error)))
        dropped.update(same)
    return [f for i, f in enumerate(found) if i not in dropped], problems
