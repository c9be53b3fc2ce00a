"""Write the artifact folder all at once, never over a source, safe against concurrent runs and
kills.

- Guard: before anything is written, the folders a stage writes are checked against every source
  path of the run, resolved, both ways (a written folder that is, holds or sits inside a source
  is refused), and an existing `<slug>/` is replaced only if it is an artifact of ours.
- Staging: each run builds in its own `.<slug>.partial-<pid>-<random>/` and holds an flock on it
  while it lives, so a later run can tell the staging folders of dead runs and remove them.
- Swap: one renameat2(RENAME_EXCHANGE) puts the new folder in place and the old one at the
  staging name: `<slug>/` is a complete artifact at every instant, and a run killed at any point
  leaves at most a hidden folder that the next run removes. Where the filesystem lacks it, two
  renames under the artifact-dir lock; a run killed between them leaves `.<slug>.old-*`, which
  the next run puts back.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ..errors import ArtifactError, SettingsError, SourceError
from .layout import BUILD_INFO
from .record import is_artifact

# `.<slug>.partial-<pid>-<hex>` (this version) or `.<slug>.partial-<hex>` (earlier ones).
_STAGING_NAME = re.compile(r"\.(?P<slug>.+)\.(?P<kind>partial|old)-[0-9a-f-]+")
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(None, use_errno=True)
_renameat2 = getattr(_libc, "renameat2", None)
if _renameat2 is not None:
    _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p] * 2 + [ctypes.c_uint]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Protected:
    """What a run reads. No folder we write may be or hold one of `paths` (sources, the folders
    they were found in, plans); none may sit inside one of `trees` (icspackage/ folders)."""

    paths: tuple[Path, ...] = ()
    trees: tuple[Path, ...] = ()


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare it as written
        return path.absolute()


def source_clash(written: Path, protected: Protected) -> str | None:
    """Why writing (or removing) `written` would touch a source; None when it would not."""
    real = _real(written)
    for path in protected.paths:
        src = _real(path)
        if real == src or real in src.parents:
            return f"the artifact folder {written} would replace or hold the source {path}"
    for tree in protected.trees:
        src = _real(tree)
        if real == src or src in real.parents:
            return f"the artifact folder {written} is inside the source {tree}"
    return None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step; False where the system or filesystem cannot."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _open_dir(path: Path) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY)


def _try_lock(fd: int, block: bool = False) -> bool | None:
    """flock; False when another live process holds it, None where locks are not supported."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    """The artifact-dir lock: held only for the short steps that create, swap or remove."""
    _try_lock(fd, block=True)
    try:
        yield
    finally:
        with suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)


def _owner_uid_gid(path: Path) -> tuple[int, int]:
    while not path.exists():
        path = path.parent
    st = path.stat()
    return st.st_uid, st.st_gid


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


class ArtifactStage:
    """A staging folder that becomes `<artifact-dir>/<slug>/` on commit, or vanishes."""

    def __init__(self, artifact_dir: Path, slug: str, protected: Protected = Protected()) -> None:
        self.artifact_dir = artifact_dir
        self.final = artifact_dir / slug
        self._tag = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.path = artifact_dir / f".{slug}.partial-{self._tag}"
        self.protected = protected
        self._created: list[Path] = []
        self._root_fd: int | None = None
        self._fd: int | None = None
        self._committed = False
        # Files we write as root in a container belong to whoever owns the workspace.
        self._owner = _owner_uid_gid(artifact_dir)

    def _refuse(self, reason: str) -> SettingsError:
        return SettingsError(f"artifact-dir {self.artifact_dir}: {reason}; refused")

    def _check(self) -> None:
        """Nothing written may touch a source; an existing `<slug>/` must be ours to replace."""
        for written in (self.final, self.path):
            if clash := source_clash(written, self.protected):
                raise self._refuse(clash)
        if clash := source_clash(self.artifact_dir, Protected(trees=self.protected.trees)):
            raise self._refuse(clash)
        if os.path.lexists(self.final) and not is_artifact(self.final):
            raise self._refuse(
                f"{self.final} exists and is not an oic-build artifact (no {BUILD_INFO}), "
                "so it is not replaced"
            )

    def __enter__(self) -> ArtifactStage:
        self._check()
        try:
            self._open()
        except OSError as exc:
            self._cleanup()
            raise SettingsError(
                f"artifact-dir {self.artifact_dir}: cannot create ({exc.strerror})"
            ) from None
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
        """Make artifact-dir and our staging folder (locked while we live); remove the staging
        folders of runs that died. A run that failed may remove the artifact-dir it made just
        as we open it: then make it again."""
        for _ in range(10):
            self._make_root()
            root_fd = _open_dir(self.artifact_dir)
            with _locked(root_fd):
                gone = os.fstat(root_fd).st_nlink == 0
                if not gone:
                    self._root_fd = root_fd
                    stale = self._claim_stale()
                    self.path.mkdir()
                    self._fd = _open_dir(self.path)
                    _try_lock(self._fd)
            if gone:
                os.close(root_fd)
                continue
            for path, fd in stale:
                shutil.rmtree(path, ignore_errors=True)
                os.close(fd)
            return
        raise OSError(errno.ENOENT, "removed by another run as it was made")

    def _claim_stale(self) -> list[tuple[Path, int]]:
        """Staging folders whose lock is free (their run is gone), locked by us to remove. An
        old artifact left by a kill between the two fallback renames is put back instead."""
        assert self._root_fd is not None
        claimed = []
        with os.scandir(self.artifact_dir) as entries:
            candidates = [e for e in entries if _STAGING_NAME.fullmatch(e.name)]
        for entry in candidates:
            path = Path(entry.path)
            if not entry.is_dir(follow_symlinks=False) or source_clash(path, self.protected):
                continue
            try:
                fd = _open_dir(path)
            except OSError:
                continue
            if not _try_lock(fd):
                os.close(fd)
                continue
            match = _STAGING_NAME.fullmatch(entry.name)
            assert match is not None
            final = self.artifact_dir / match["slug"]
            if match["kind"] == "old" and not os.path.lexists(final):
                with suppress(OSError):
                    os.rename(path, final)
                os.close(fd)
                continue
            claimed.append((path, fd))
        return claimed

    def commit(self) -> Path:
        """Put the staged folder in place of `<slug>/`, in one step where the system can."""
        assert self._root_fd is not None
        self._fix_owner()
        with _locked(self._root_fd):
            self._check()
            old = None
            if not os.path.lexists(self.final):
                os.rename(self.path, self.final)
            elif _exchange(self.path, self.final):
                old = self.path
            else:
                old = self.final.with_name(f".{self.final.name}.old-{self._tag}")
                os.rename(self.final, old)
                try:
                    os.rename(self.path, self.final)
                except OSError:
                    os.rename(old, self.final)
                    raise
            self._committed = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self._close()
        return self.final

    def _fix_owner(self) -> None:
        uid, gid = self._owner
        if os.geteuid() != 0 or uid == 0:
            return
        for created in self._created:
            os.chown(created, uid, gid)
        _chown_tree(self.path, uid, gid)

    def _close(self) -> None:
        for fd in (self._fd, self._root_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._root_fd = None

    def _cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with _locked(self._root_fd) if self._root_fd is not None else nullcontext():
            for created in reversed(self._created):
                try:
                    created.rmdir()  # only if still empty: never remove what others put there
                except OSError:
                    break
        self._close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self._cleanup()
        if isinstance(exc, OSError):
            raise self._os_error(exc) from None

    def _os_error(self, exc: OSError) -> SourceError | ArtifactError:
        """An OSError inside the stage is this build's one-line failure: reading a source when
        it names only paths outside the stage, else writing the artifact (a full disk, no
        permission)."""
        named = [Path(os.fsdecode(f)) for f in (exc.filename, exc.filename2) if f is not None]
        reason = exc.strerror or type(exc).__name__
        if named and not any(self.path in p.parents or p == self.path for p in named):
            return SourceError(f"{named[0]}: cannot read ({reason})", file=named[0])
        return ArtifactError(f"{self.final}: cannot write the artifact ({reason}); nothing written")
