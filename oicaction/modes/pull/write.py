"""Write a checked export into the repository, one integration (or project) at a time:
`<integration-path>/<CODE>/icspackage/` (a project: `project/`) holding exactly the archive's
files, or with layout iar the archive itself. What is written is staged beside the old folder
and swapped in by rename, so a failure leaves the old one as it was; nothing outside the
integration's folder is touched, and only what pull replaces inside it (the tree, the archives
of the same code) is removed."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ...artifact.staging import give_tree, owner_of
from ...errors import ArtifactError, OicBuildError, SourceError, shown_path
from ...source.find import is_project_tree, read_source
from ...source.iar import IarFile
from ...source.metadata import ICSPACKAGE
from ...source.project import PROJECT
from .archive import CHUNK, Checked, entry_digest, held_id

Status = Literal["added", "updated", "unchanged"]
STAGE_PREFIX = ".oic-pull-"
# A staging folder holds this file: what a killed run left behind is removed by the next pull,
# and only that (never a folder of the user's that merely has a similar name).
MARKER = ".oic-build-pull-staging"
MARKER_TEXT = b"oic-build pull: staging folder, removed when the pull ends\n"


@dataclass(frozen=True)
class Present:
    """What a destination folder holds of the kind pulled: its tree, its archives, and the
    ids (a project: its code) they hold."""

    folder: Path
    tree: Path | None
    archives: tuple[Path, ...]
    ids: tuple[str, ...]


def target_name(checked: Checked, layout: str) -> str:
    """What lands in the folder: the tree's name, or the archive's as OIC names it."""
    return checked.meta.archive_name if layout == "iar" else checked.root


def _refuse(path: Path, reason: str) -> SourceError:
    return SourceError(f"{path}: {reason}; nothing was written", file=path)


def inspect(folder: Path, checked: Checked) -> Present:
    """Check that `folder` holds no source but this integration's (or project's), in any
    version, and nothing pull could be tricked into writing through; say what it holds."""
    project = checked.root == PROJECT
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise _refuse(folder, "not a folder (pull writes into real folders only)")
    if not folder.exists():
        return Present(folder, None, (), ())
    files = sorted(p for p in folder.iterdir() if not p.is_dir() or p.is_symlink())
    other = [p.name for p in files if p.suffix.lower() == (".iar" if project else ".car")]
    if (not project and is_project_tree(folder / PROJECT)) or (
        project and (folder / ICSPACKAGE).is_dir()
    ):
        other.append(f"{ICSPACKAGE if project else PROJECT}/")
    if other:
        what = "an integration" if project else "a project"
        raise _refuse(folder, f"holds {what} ({', '.join(other)}), not {checked.label}")
    suffix = ".car" if project else ".iar"
    archives = [p for p in files if p.suffix.lower() == suffix]
    tree = folder / checked.root
    sources = archives + ([tree] if tree.exists() or tree.is_symlink() else [])
    ids = []
    for path in sources:
        if path.is_symlink() or (path == tree and not path.is_dir()):
            raise _refuse(path, "a symbolic link or not what its name says; pull replaces none")
        try:
            meta = read_source(path, verify=False).meta
        except OicBuildError as exc:
            raise _refuse(
                path,
                f"cannot tell what it holds ({exc}); pull replaces only a source of the same "
                "code: fix or remove it",
            ) from None
        if meta.code != checked.meta.code:
            raise _refuse(
                path,
                f"holds {meta.label}, not {checked.label}: pull does not replace another "
                "integration's source",
            )
        ids.append(held_id(meta))
    present_tree = tree if tree in sources else None
    return Present(folder, present_tree, tuple(archives), tuple(dict.fromkeys(ids)))


def inspect_archive(archive: Path, checked: Checked, layout: str) -> Present:
    """A source the repository keeps as one archive among several in a shared folder: with
    layout iar that file is replaced (under OIC's name for the export); a tree cannot go there,
    as the folder's other archives would then be read as part of one source."""
    folder = archive.parent
    if layout != "iar":
        raise _refuse(
            archive,
            f"{checked.label} is kept as one archive among several; pull writes a "
            f"{checked.root}/ tree only into a folder of its own: move the archive into one, or "
            "pull with layout iar",
        )
    target = folder / target_name(checked, layout)
    if archive.is_symlink() or (target != archive and (target.exists() or target.is_symlink())):
        raise _refuse(
            target if target != archive else archive,
            f"a symbolic link or a file in the way of {checked.label}; pull replaces neither",
        )
    meta = read_source(archive, verify=False).meta
    return Present(folder, None, (archive,), (held_id(meta),))


def tree_digest(tree: Path) -> dict[str, str] | None:
    """Every file under `tree` as an archive entry name and its sha256; None when it holds
    anything but files and folders (a link: never followed, always replaced)."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(tree):
        for name in dirs + files:
            path = Path(folder, name)
            mode = path.lstat().st_mode
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                return None
            with path.open("rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
            found[f"{tree.name}/{path.relative_to(tree).as_posix()}"] = digest
    return found


def archive_digest(path: Path, root: str) -> dict[str, str] | None:
    """The file entries of a committed archive and their sha256; None if it cannot be read."""
    try:
        with IarFile(path, root=root) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
            return {i.filename: entry_digest(archive, i, str(path)) for i in infos}
    except OicBuildError:
        return None


def status(present: Present, checked: Checked, layout: str) -> Status:
    """added (nothing of this code was there), unchanged (the same files, byte for byte, and
    nothing to remove), else updated. An archive counts as unchanged when its entries are: a
    new export of the same integration differs in zip timestamps only."""
    if present.tree is None and not present.archives:
        return "added"
    if layout == "iar":
        target = present.folder / target_name(checked, layout)
        same = (
            present.tree is None
            and present.archives == (target,)
            and archive_digest(target, checked.root) == checked.entries
        )
    else:
        same = (
            not present.archives
            and present.tree is not None
            and tree_digest(present.tree) == checked.entries
        )
    return "unchanged" if same else "updated"


def remove_leftovers(folder: Path) -> list[Path]:
    """Staging folders a killed pull left in `folder` (they hold our marker); removed."""
    removed = []
    for path in sorted(folder.glob(STAGE_PREFIX + "*")) if folder.is_dir() else ():
        marker = path / MARKER
        ours = path.is_dir() and not path.is_symlink() and marker.is_file()
        if ours and marker.read_bytes() == MARKER_TEXT:
            shutil.rmtree(path)
            removed.append(path)
    return removed


def _unpack(checked: Checked, dest: Path) -> None:
    """Every file entry, byte for byte, under `dest` (names were checked: none escapes)."""
    with IarFile(checked.path, root=checked.root) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            target = dest.joinpath(*info.filename.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, target.open("xb") as out:
                shutil.copyfileobj(src, out, CHUNK)


def _created_top(folder: Path) -> Path | None:
    """The highest folder of `folder`'s path that does not exist yet (it will be ours)."""
    top = None
    while not folder.exists():
        top, folder = folder, folder.parent
    return top


def write(present: Present, checked: Checked, layout: str) -> list[Path]:
    """Put the export in place of what `present` found; returns what was removed besides
    the replaced tree or archive (another tree, archives of other versions). A failure to
    write is one ArtifactError saying whether anything changed."""
    try:
        return _write(present, checked, layout)
    except OSError as exc:
        raise ArtifactError(
            f"{shown_path(present.folder)}: could not write {checked.label} "
            f"({exc.strerror or exc}); what was there is as it was",
            file=present.folder,
        ) from None


def _write(present: Present, checked: Checked, layout: str) -> list[Path]:
    """The folders made for a new integration are ours: a failure removes them again."""
    folder = present.folder
    owner = owner_of(folder)
    created = _created_top(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        removed = _swap(present, checked, layout, owner)
    except BaseException:
        while created is not None and folder != created.parent:
            with suppress(OSError):
                folder.rmdir()  # only if empty: after a swap, what was written stays
            folder = folder.parent
        raise
    if created is not None and owner is not None:
        give_tree(created, owner)
    return removed


def _swap(
    present: Present, checked: Checked, layout: str, owner: tuple[int, int] | None
) -> list[Path]:
    """Stage beside, then rename into place; the replaced tree is put back on failure."""
    folder = present.folder
    final = folder / target_name(checked, layout)
    stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=folder))
    try:
        (stage / MARKER).write_bytes(MARKER_TEXT)
        new = stage / "new"
        new.mkdir()
        if layout == "iar":
            built = new / final.name
            shutil.copyfile(checked.path, built)
        else:
            _unpack(checked, new)
            built = new / checked.root
        if owner is not None:
            give_tree(built, owner)
        aside = stage / "old"
        if present.tree is not None:
            os.rename(present.tree, aside)
        try:
            os.replace(built, final)
        except BaseException:
            if present.tree is not None:
                os.rename(aside, present.tree)
            raise
        removed = [p for p in present.archives if p != final]
        for path in removed:
            try:
                path.unlink()
            except OSError as exc:
                raise ArtifactError(
                    f"{shown_path(final)} is written, but {shown_path(path)} could not be "
                    f"removed ({exc.strerror}); remove it, or the build will take it instead",
                    file=path,
                ) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if present.tree is not None and present.tree != final:
        removed.append(present.tree)
    return removed
