"""Where each pulled integration (or project) lands: where the repository already keeps it,
found as `discover` finds sources, else `<integration-path>/<CODE>/`. A second copy would make
discover and batch build refuse the duplicate, so pull never makes one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceError, shown_path
from ..discover import Problem, scan
from .archive import Checked


@dataclass(frozen=True)
class Place:
    """The folder an export goes into; `archive` when the repository keeps it as one archive
    among several in a shared folder (then that file is all pull may replace there)."""

    folder: Path
    archive: Path | None = None


def places(root: Path, checked: Sequence[Checked]) -> tuple[dict[str, Place], list[Problem]]:
    """Each checked export's place (by its id), and the sources under root that could not be
    read (pull cannot tell whether one of them is a pulled integration). The same code kept in
    two places already is one SourceError naming both: pull would not know which to update."""
    found, problems = scan(root) if root.is_dir() else ([], [])
    kept: dict[tuple[str, str], list[Path]] = {}
    for path, meta in found:
        kept.setdefault((meta.kind, meta.code), []).append(path)
    chosen = {}
    for item in checked:
        paths = kept.get((item.meta.kind, item.meta.code), [])
        if len(paths) > 1:
            shown = " and ".join(shown_path(p) for p in paths)
            raise SourceError(
                f"{item.meta.kind} {item.meta.code} is already in both {shown}: pull updates "
                "the one source the repository keeps; remove one of them; nothing was written",
                file=paths[1],
            )
        if not paths:
            chosen[item.id] = Place(root / item.meta.code)
        elif paths[0].is_dir():
            chosen[item.id] = Place(paths[0])
        else:
            chosen[item.id] = Place(paths[0].parent, paths[0])
    return chosen, problems
