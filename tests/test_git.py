"""HEAD as build-info.json records it, read with dulwich and checked against the git CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLE, needs_git
from conftest import git as _git

from oicaction.source.git import head

pytestmark = needs_git


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The bundled example committed in a fresh git checkout."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "hello-world")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "example")
    return repo


def test_head_of_a_branch_a_packed_ref_and_a_detached_head(checkout: Path) -> None:
    folder = checkout / "hello-world" / "icspackage"
    sha = _git(checkout, "rev-parse", "HEAD")
    assert head(folder) == (sha, "refs/heads/main")
    _git(checkout, "pack-refs", "--all")
    assert not (checkout / ".git" / "refs" / "heads" / "main").exists()
    assert head(folder) == (sha, "refs/heads/main")
    _git(checkout, "checkout", "-q", "--detach")
    assert head(folder) == (sha, None)


def test_head_of_an_unborn_branch_and_a_worktree(checkout: Path, tmp_path: Path) -> None:
    unborn = tmp_path / "unborn"
    unborn.mkdir()
    _git(unborn, "init", "-q")
    assert head(unborn) == (None, "refs/heads/main")
    worktree = tmp_path / "wt"
    _git(checkout, "worktree", "add", "-q", "-b", "feature", str(worktree))
    assert (worktree / ".git").is_file()
    assert head(worktree) == (_git(worktree, "rev-parse", "HEAD"), "refs/heads/feature")


def test_head_outside_a_checkout(tmp_path: Path) -> None:
    done = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=tmp_path, capture_output=True)
    if done.returncode == 0:
        pytest.skip("the temp folder is inside a git checkout")
    assert head(tmp_path) == (None, None)
