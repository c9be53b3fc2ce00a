"""Read the checkout's git data in-process with dulwich: the container has no git binary (it
would double the image), and no `safe.directory` ownership check trips over a mounted checkout.

Every build records HEAD, so `head` first looks for the checkout and reads a plain HEAD (a branch
in a loose or packed ref, or a detached commit) itself: importing dulwich costs about as much as
the rest of an offline build's own work. Anything less plain is left to dulwich.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import SettingsError

NULL_SHA = re.compile(r"^0{40}$")
_SHA1 = re.compile(rb"[0-9a-f]{40}")


def _find_checkout(folder: Path) -> str | None:
    """The first folder from `folder` up that dulwich's `Repo.discover` takes for a repository
    (a `.git` file, a `.git/objects` folder, or a bare repository's objects/ and refs/)."""
    path = os.path.realpath(folder)
    while True:
        dot_git = os.path.join(path, ".git")
        if os.path.isfile(dot_git) or os.path.isdir(os.path.join(dot_git, "objects")):
            return path
        if os.path.isdir(os.path.join(path, "objects")) and os.path.isdir(
            os.path.join(path, "refs")
        ):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def _packed_ref(git_dir: Path, ref: bytes) -> bytes | None:
    try:
        lines = (git_dir / "packed-refs").read_bytes().splitlines()
    except OSError:
        return None
    for line in lines:
        sha, _, name = line.partition(b" ")
        if name.strip() == ref and not line.startswith((b"#", b"^")):
            return sha
    return None


def _plain_head(checkout: str) -> tuple[str, str | None] | None:
    """(commit, ref) when `<checkout>/.git` is an ordinary folder whose HEAD is a commit or a
    branch holding a commit; None for anything else (worktrees, bare or reftable repositories,
    unborn branches, symbolic refs to symbolic refs, SHA-256 repositories): ask dulwich."""
    git_dir = Path(checkout, ".git")
    if not git_dir.is_dir() or (git_dir / "commondir").exists() or (git_dir / "reftable").exists():
        return None
    try:
        head = (git_dir / "HEAD").read_bytes().strip()
    except OSError:
        return None
    if _SHA1.fullmatch(head):
        return head.decode(), None
    ref = head.removeprefix(b"ref: ").strip()
    if not head.startswith(b"ref: refs/") or b".." in ref or b"\\" in ref:
        return None
    try:
        name = ref.decode()
        value: bytes | None = (git_dir / name).read_bytes().strip()
    except FileNotFoundError:
        value = _packed_ref(git_dir, ref)
    except (OSError, UnicodeDecodeError):
        return None
    if value is None or not _SHA1.fullmatch(value):
        return None
    return value.decode(), name


def _open(folder: Path):  # noqa: ANN202 - dulwich's Repo, imported lazily
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    try:
        return Repo.discover(str(folder))
    except NotGitRepository:
        return None


def head(folder: Path) -> tuple[str | None, str | None]:
    """(commit, ref) of HEAD for build-info, or (None, None) outside a checkout."""
    checkout = _find_checkout(folder)
    if checkout is None:
        return None, None
    plain = _plain_head(checkout)
    if plain is not None:
        return plain
    repo = _open(folder)
    if repo is None:
        return None, None
    with repo:
        try:
            names, sha = repo.refs.follow(b"HEAD")
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
