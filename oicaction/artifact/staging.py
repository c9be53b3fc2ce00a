"""Write the artifact folder all at once: build in a hidden staging folder, rename when done,
so a failed run leaves nothing half-written and a rerun replaces the old folder whole."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from types import TracebackType

from ..errors import SettingsError


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


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

    def __init__(self, artifact_dir: Path, slug: str) -> None:
        self.artifact_dir = artifact_dir
        self.final = artifact_dir / slug
        self.path = artifact_dir / f".{slug}.partial-{uuid.uuid4().hex[:12]}"
        self._created: list[Path] = []
        # Files we write as root in a container belong to whoever owns the workspace.
        self._owner = _owner_uid_gid(artifact_dir)

    def __enter__(self) -> ArtifactStage:
        missing = []
        folder = self.artifact_dir
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        if not folder.is_dir():
            raise SettingsError(f"artifact-dir {self.artifact_dir}: {folder} is not a folder")
        try:
            for created in reversed(missing):
                created.mkdir()
                self._created.append(created)
            self.path.mkdir()
        except OSError as exc:
            self._cleanup()
            raise SettingsError(
                f"artifact-dir {self.artifact_dir}: cannot create ({exc.strerror})"
            ) from None
        return self

    def commit(self) -> Path:
        old = None
        if self.final.exists():
            old = self.final.with_name(f".{self.final.name}.old-{uuid.uuid4().hex[:12]}")
            self.final.rename(old)
        self.path.rename(self.final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self._fix_owner()
        return self.final

    def _fix_owner(self) -> None:
        uid, gid = self._owner
        if os.geteuid() != 0 or uid == 0:
            return
        for created in self._created:
            os.chown(created, uid, gid)
        _chown_tree(self.final, uid, gid)

    def _cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        for created in reversed(self._created):
            try:
                created.rmdir()  # only if still empty: never remove what others put there
            except OSError:
                break

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.path.exists():
            self._cleanup()
