"""Where a build came from, and what changed since a commit: from the CI's variables, else the
checkout's git data read in-process with dulwich (the container has no git binary, and no
`safe.directory` ownership check trips over a mounted checkout). dulwich is imported when git is
read: in GitHub the runner's variables say the commit, and an offline step need not load it."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SettingsError

if TYPE_CHECKING:
    from dulwich.repo import Repo

NULL_SHA = re.compile(r"^0{40}$")
# (commit, ref, run id) variables of the CIs users run us in, most specific first.
_CI_VARS = (
    ("GITHUB_SHA", "GITHUB_REF", "GITHUB_RUN_ID"),
    ("CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", "CI_PIPELINE_ID"),  # GitLab
    ("GIT_COMMIT", "GIT_BRANCH", "BUILD_NUMBER"),  # Jenkins
    ("BUILD_SOURCEVERSION", "BUILD_SOURCEBRANCH", "BUILD_BUILDID"),  # Azure Pipelines
)


def _open(folder: Path) -> Repo | None:
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    try:
        return Repo.discover(str(folder))
    except NotGitRepository:
        return None


def head(folder: Path) -> tuple[str | None, str | None]:
    """(commit, ref) of HEAD for build-info, or (None, None) outside a checkout."""
    from dulwich.refs import Ref

    repo = _open(folder)
    if repo is None:
        return None, None
    with repo:
        try:
            names, sha = repo.refs.follow(Ref(b"HEAD"))
        except (KeyError, OSError):
            return None, None
        ref = names[-1].decode() if names and names[-1] != b"HEAD" else None
        return (sha.decode() if sha else None), ref


def git_info(folder: Path) -> dict[str, str | None]:
    """build-info's `git`: commit, ref and run of the CI, else HEAD of the checkout."""
    for commit_var, ref_var, run_var in _CI_VARS:
        if commit := os.environ.get(commit_var):
            return {
                "commit": commit,
                "ref": os.environ.get(ref_var),
                "run_id": os.environ.get(run_var),
                "repository": os.environ.get("GITHUB_REPOSITORY"),
            }
    commit, ref = head(folder)
    return {"commit": commit, "ref": ref, "run_id": None, "repository": None}


def changed_paths(root: Path, ref: str) -> set[str] | None:
    """Paths under root (relative to it) whose content differs between `ref` and the work tree,
    as `git diff --name-only ref` plus untracked files; None means 'treat all as changed' (the
    all-zero SHA GitHub sends for a new branch)."""
    if NULL_SHA.match(ref):
        return None
    from dulwich.ignore import IgnoreFilterManager
    from dulwich.object_store import iter_tree_contents
    from dulwich.objectspec import parse_commit

    repo = _open(root)
    if repo is None:
        raise SettingsError(f"changed-since {ref}: {root} is not in a git checkout")
    with repo:
        try:
            commit = parse_commit(repo, ref.encode())
        except (KeyError, ValueError):
            raise SettingsError(
                f"changed-since {ref}: no such commit in the checkout "
                "(fetch more history, e.g. actions/checkout with fetch-depth: 0)"
            ) from None
        top = Path(repo.path).resolve()
        base = root.resolve()
        prefix = base.relative_to(top).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        old = {}
        for entry in iter_tree_contents(repo.object_store, commit.tree):
            path = entry.path.decode("utf-8", "surrogateescape")
            if path.startswith(prefix):
                old[path[len(prefix) :]] = entry.sha
        ignore = IgnoreFilterManager.from_repo(repo)
        new = {}
        for folder, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if d != ".git"]
            for name in files:
                full = Path(folder, name)
                rel = full.relative_to(base).as_posix()
                if rel not in old and ignore.is_ignored(prefix + rel):
                    continue
                if (blob := blob_id(full)) is not None:
                    new[rel] = blob
    return {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}


def blob_id(path: Path) -> bytes | None:
    """git's blob id (hex) of a regular file, read as a stream, or of a symlink; None for what
    git does not track (a FIFO, a device, a socket), which is never opened: a FIFO would block,
    a device never end. A file that cannot be read counts as changed (b"?")."""
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            target = os.fsencode(os.readlink(path))
            return _git_sha(len(target), [target])
        if not stat.S_ISREG(st.st_mode):
            return None
        # O_NONBLOCK: if a FIFO took the file's place since lstat, open does not wait for it
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK), "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                return None
            return _git_sha(st.st_size, iter(lambda: fh.read(1024 * 1024), b""))
    except OSError:
        return b"?"


def _git_sha(size: int, chunks: Iterable[bytes]) -> bytes:
    digest = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest().encode()
