"""Read the checkout's git data in-process with dulwich: the container has no git binary (it
would double the image), and no `safe.directory` ownership check trips over a mounted checkout.
dulwich is imported when git is read: in GitHub the runner's variables say the commit, and
an offline step need not load it (see modes/build.py's note on imports)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SettingsError

if TYPE_CHECKING:
    from dulwich.repo import Repo

NULL_SHA = re.compile(r"^0{40}$")


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


def changed_paths(root: Path, ref: str) -> set[str] | None:
    """Paths under root (relative to it) whose content differs between `ref` and the work tree,
    as `git diff --name-only ref` plus untracked files; None means 'treat all as changed' (the
    all-zero SHA GitHub sends for a new branch)."""
    if NULL_SHA.match(ref):
        return None
    from dulwich.ignore import IgnoreFilterManager
    from dulwich.object_store import iter_tree_contents
    from dulwich.objects import Blob
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
                data = os.readlink(full).encode() if full.is_symlink() else full.read_bytes()
                new[rel] = Blob.from_string(data).id
    return {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}
