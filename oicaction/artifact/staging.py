"""Write the artifact folder all at once, never over a source, with the standard library.

Each run builds `<slug>/` in its own `mkdtemp` folder in artifact-dir (`.<slug>.oic-build-XXX/`)
beside a marker naming our tool and that folder, flocked while the run lives. Commit is one
rename, or two when `<slug>/` exists (the old one into our temp folder first): a reader sees the
old artifact, the new one or briefly none, never a mix. A later run removes a temp folder only
if its marker proves it ours and its flock is free, first putting back an old artifact it holds.
Why flock: the one sign of a live run that holds across containers sharing the folder (each
build is PID 1 in its own) and after pid reuse; the kernel drops it however the run dies.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import stat
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..errors import ArtifactError, SettingsError, SourceError
from .layout import BUILD_INFO
from .record import TOOL, read_record

MARKER = ".oic-build-run"  # inside a temp folder, never inside an artifact
_TEMP_TAG = ".oic-build-"
_ASIDE = ".replaced"  # in a temp folder: the artifact a commit replaced (no slug has a ".")
_REPLACE_TRIES = 100  # each failed try means another run's artifact went in meanwhile


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare it as written
        return path.absolute()


@dataclass(frozen=True)
class Protected:
    """What a run reads. No folder we write may be or hold one of `paths` (sources, the folders
    they were found in, plans); none may sit inside one of `trees` (icspackage/ folders).
    Each is resolved once, on the first check: a check then costs the depth of the folder
    checked, not the number of sources (a batch of N was N x N resolves)."""

    paths: tuple[Path, ...] = ()
    trees: tuple[Path, ...] = ()

    @cached_property
    def _held(self) -> dict[Path, Path]:
        """Each resolved path and every folder above it -> the first path (as given) it holds."""
        held: dict[Path, Path] = {}
        for path in self.paths:
            src = _resolved(path)
            for folder in (src, *src.parents):
                held.setdefault(folder, path)
        return held

    @cached_property
    def _trees(self) -> dict[Path, int]:
        """Each resolved tree -> its first place in `trees`."""
        found: dict[Path, int] = {}
        for i, tree in enumerate(self.trees):
            found.setdefault(_resolved(tree), i)
        return found

    def clash(self, written: Path, *, trees_only: bool = False) -> str | None:
        """Why writing (or removing) `written` would touch a source; None when it would not."""
        real = _resolved(written)
        if not trees_only and (path := self._held.get(real)) is not None:
            return f"the artifact folder {written} would replace or hold the source {path}"
        inside = [i for f in (real, *real.parents) if (i := self._trees.get(f)) is not None]
        if inside:
            return f"the artifact folder {written} is inside the source {self.trees[min(inside)]}"
        return None


def replaceable(final: Path) -> bool:
    """`final` is absent, an empty folder or one whose build-info.json reads as ours. Read again
    if another run swapped it meanwhile, so a folder half-way through a swap is never taken for
    one not ours."""
    for _ in range(_REPLACE_TRIES):
        try:
            before = os.stat(final, follow_symlinks=False)
        except FileNotFoundError:
            return True
        with suppress(OSError, ArtifactError):
            if stat.S_ISDIR(before.st_mode) and (not any(final.iterdir()) or read_record(final)):
                return True
        with suppress(FileNotFoundError):
            if os.path.samestat(before, os.stat(final, follow_symlinks=False)):
                return False  # the same folder all along, and not ours
    return False


def _free_marker(temp: Path) -> tuple[int, bytes] | None:
    """`temp`'s marker, locked by us, and what it says: a regular file no live run holds. Where
    the filesystem has no flock no run can be told dead: None."""
    try:
        fd = os.open(temp / MARKER, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd, os.read(fd, 4096)
    except OSError:
        pass
    os.close(fd)
    return None


def _says_ours(said: bytes, temp: Path) -> bool:
    """The marker names our tool and `temp` itself."""
    try:
        info = json.loads(said)
    except ValueError:
        return False
    return isinstance(info, dict) and {"tool": TOOL, "folder": temp.name}.items() <= info.items()


# mkdtemp's own names: `.<slug>.oic-build-` and 8 of [a-z0-9_]
_UNMARKED = re.compile(r"\.[^.].*\.oic-build-[a-z0-9_]{8}")


def _remove_left(temp: Path) -> None:
    """Remove a temp folder a run of ours left when it died, its marker opened once: one whose
    marker proves it ours (an artifact it moved aside put back first), or, under mkdtemp's own
    name, one holding nothing or only an empty marker (a run killed between mkdtemp and its
    marker's first byte; rmdir refuses a folder with anything else in it, so nothing of a
    user's is lost). A live run in that instant starts again (`_open`)."""
    unmarked = _UNMARKED.fullmatch(temp.name) is not None
    if unmarked:
        with suppress(OSError):
            temp.rmdir()
            return
    if (free := _free_marker(temp)) is None:
        return
    fd, said = free
    try:
        if _says_ours(said, temp):
            # mkdtemp's part holds no ".": the name is .<slug>.oic-build-<random>
            _put_back(temp, temp.parent / temp.name[1 : temp.name.rindex(_TEMP_TAG)])
            _remove(temp)
        elif unmarked and not said:
            with suppress(OSError):
                (temp / MARKER).unlink()
                temp.rmdir()
    finally:
        os.close(fd)


def _put_back(temp: Path, final: Path) -> None:
    """The artifact a run moved aside, back under `final` if it stopped before its own went in."""
    if (temp / _ASIDE).is_dir() and not os.path.lexists(final):
        with suppress(OSError):  # another run put its artifact there meanwhile
            os.rename(temp / _ASIDE, final)


def _remove(temp: Path) -> None:
    """Remove a temp folder, its marker last, so a run stopped meanwhile leaves one the next
    run still knows for ours."""
    with suppress(OSError):
        for child in [c for c in temp.iterdir() if c.name != MARKER]:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink()
    for step in (temp / MARKER).unlink, temp.rmdir:
        with suppress(OSError):
            step()


def owner_of(path: Path) -> tuple[int, int] | None:
    """Files we write as root in a container belong to whoever owns the workspace: the owner
    of `path` or of its nearest existing parent; None when there is no one to give them to (we
    are not root, or root owns it). The artifact stage and pull (modes/pull/write.py) ask here."""
    while not path.exists():
        path = path.parent
    st = path.stat()
    return None if os.geteuid() != 0 or st.st_uid == 0 else (st.st_uid, st.st_gid)


def give_tree(root: Path, owner: tuple[int, int]) -> None:
    """`root` (a folder or a file) and everything under it to `owner`; links themselves."""
    os.chown(root, *owner, follow_symlinks=False)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), *owner, follow_symlinks=False)


class ArtifactStage:
    """A staging folder (`path`) that becomes `<artifact-dir>/<slug>/` on commit, or vanishes."""

    def __init__(self, artifact_dir: Path, slug: str, protected: Protected = Protected()) -> None:
        self.artifact_dir = artifact_dir
        self.final = artifact_dir / slug
        self.protected = protected
        self._temp: Path | None = None
        self._marker: int | None = None
        self._created: list[Path] = []
        self._committed = False

    @property
    def path(self) -> Path:
        """Where the build writes the artifact's files."""
        assert self._temp is not None, "used outside `with`"
        return self._temp / self.final.name

    def _refuse(self, reason: str) -> SettingsError:
        return SettingsError(f"artifact-dir {self.artifact_dir}: {reason}; refused")

    def _not_ours(self) -> SettingsError:
        return self._refuse(
            f"{self.final} exists and is not an oic-build artifact (no {BUILD_INFO}), "
            "so it is not replaced"
        )

    def __enter__(self) -> ArtifactStage:
        try:  # nothing written may touch a source; an existing `<slug>/` must be ours
            for clash in (
                self.protected.clash(self.final),
                self.protected.clash(self.artifact_dir, trees_only=True),
            ):
                if clash:
                    raise self._refuse(clash)
            if not replaceable(self.final):
                raise self._not_ours()
            self._open()
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            self._cleanup()
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise SettingsError(
                f"artifact-dir {self.artifact_dir}: cannot create ({reason})"
            ) from None
        self._remove_dead_runs()
        return self

    def _make_root(self) -> None:
        missing = []
        folder = self.artifact_dir
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        if not folder.is_dir():
            raise SettingsError(f"artifact-dir {self.artifact_dir}: {folder} is not a folder")
        for created in reversed(missing):
            try:
                created.mkdir()
            except FileExistsError:  # another run made it meanwhile
                continue
            self._created.append(created)

    def _open(self) -> None:
        """Again if our folder vanished while it was being made: a failed run removed the
        artifact-dir it made, or another run took our folder, still unmarked, for a dead one."""
        prefix = f".{self.final.name}{_TEMP_TAG}"
        for _ in range(10):
            self._make_root()
            try:
                self._temp = Path(tempfile.mkdtemp(prefix=prefix, dir=self.artifact_dir))
                self._mark()
                return
            except FileNotFoundError:
                if self._marker is not None:
                    os.close(self._marker)
                    self._marker = None
        raise OSError(errno.ENOENT, "removed by another run as it was made")

    def _mark(self) -> None:
        assert self._temp is not None
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        self._marker = os.open(self._temp / MARKER, flags, 0o644)
        # Locked before it says anything, so it is never seen both free and ours. Waiting: a
        # run looking for leftovers may hold it for the instant it reads it empty.
        with suppress(OSError):  # a filesystem without locks: leftovers are then never removed
            fcntl.flock(self._marker, fcntl.LOCK_EX)
        marker = {"tool": TOOL, "folder": self._temp.name, "pid": os.getpid()}
        os.write(self._marker, json.dumps(marker | {"token": os.urandom(8).hex()}).encode())
        self.path.mkdir()  # FileNotFoundError when our folder was taken for a dead one

    def _remove_dead_runs(self) -> None:
        with suppress(OSError):
            for temp in self.artifact_dir.glob(f".*{_TEMP_TAG}*"):
                if temp == self._temp or temp.is_symlink() or self.protected.clash(temp):
                    continue
                _remove_left(temp)

    def commit(self) -> Path:
        """Put the staged folder in place of `<slug>/`: one rename when there is none, else the
        old one moved into our temp folder first (again if another run's went in since)."""
        assert self._temp is not None
        self._fix_owner()
        for _ in range(_REPLACE_TRIES):
            try:
                os.rename(self.path, self.final)
                break
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                    raise
            if not replaceable(self.final):
                raise self._not_ours()
            shutil.rmtree(self._temp / _ASIDE, ignore_errors=True)  # one moved aside before
            with suppress(FileNotFoundError):  # another run moved it meanwhile
                os.rename(self.final, self._temp / _ASIDE)
        else:
            raise ArtifactError(f"{self.final}: other runs kept replacing it; not written")
        self._committed = True
        self._cleanup()
        return self.final

    def _fix_owner(self) -> None:
        owner = owner_of(self._created[0].parent if self._created else self.artifact_dir)
        if owner is not None:
            give_tree(self.path, owner)
            for made in self._created:
                os.chown(made, *owner)

    def _cleanup(self) -> None:
        """After a failure, the artifact we moved aside goes back and the folders we made go
        if still empty."""
        if self._temp is not None:
            if not self._committed:
                _put_back(self._temp, self.final)
            _remove(self._temp)
        if self._marker is not None:
            os.close(self._marker)
        self._temp = self._marker = None
        for created in [] if self._committed else reversed(self._created):
            try:
                created.rmdir()  # only if still empty: never remove what others put there
            except OSError:
                break

    def __exit__(self, _: object, exc: BaseException | None, __: object) -> None:
        """An OSError naming only paths outside the stage is reading a source, else writing the
        artifact (a full disk, no permission)."""
        staged = self._temp
        if not self._committed:
            self._cleanup()
        if not isinstance(exc, OSError):
            return
        named = [Path(os.fsdecode(f)) for f in (exc.filename, exc.filename2) if f is not None]
        reason = exc.strerror or type(exc).__name__
        if named and staged and not any(staged in p.parents or p == staged for p in named):
            raise SourceError(f"{named[0]}: cannot read ({reason})", file=named[0]) from None
        raise ArtifactError(f"{self.final}: cannot write the artifact ({reason}); nothing written")
