"""What an offline build imports (behaviour, not timing: bench/bench_startup.py times it), the
HEAD reader that spares it dulwich, and the deferred imports that spare it asyncio."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE

from oicaction.source import git as gitrepo

NOT_ON_THE_OFFLINE_PATH = ("requests", "urllib3", "dulwich", "asyncio")
HAS_GIT = shutil.which("git") is not None
GIT_CONFIG = ("-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main")


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_CONFIG, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _clean_env() -> dict[str, str]:
    prefixes = ("OIC_", "INPUT_", "GITHUB_", "CI_", "GIT_", "BUILD_", "PYDANTIC_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The bundled example committed in a fresh git checkout."""
    if not HAS_GIT:
        pytest.skip("git not installed")
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "hello-world")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "example")
    return repo


def _offline_build(cwd: Path, source: Path) -> tuple[int, list[str], dict[str, object]]:
    script = (
        "import sys\n"
        "from oicaction.cli import main\n"
        f"code = main(['--integration-path', {str(source)!r}, '--artifact-dir', 'out', "
        "'--manage-connections', 'false', '--manage-lookups', 'false'])\n"
        f"print(code, sorted(m for m in {NOT_ON_THE_OFFLINE_PATH!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=_clean_env(), cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    code, _, loaded = done.stdout.strip().partition(" ")
    info = json.loads((cwd / "out" / "HELLO_WORLD_01.00.0000" / "build-info.json").read_text())
    return int(code), json.loads(loaded.replace("'", '"')), info


def test_offline_build_in_a_checkout_loads_no_http_stack_dulwich_or_asyncio(
    checkout: Path,
) -> None:
    code, loaded, info = _offline_build(checkout, checkout / "hello-world")
    assert code == 0
    assert loaded == []
    assert info["git"]["commit"] == _git(checkout, "rev-parse", "HEAD")
    assert info["git"]["ref"] == "refs/heads/main"


def test_offline_build_outside_a_checkout_loads_none_of_them(tmp_path: Path) -> None:
    source = shutil.copytree(EXAMPLE, tmp_path / "hello-world")
    if gitrepo._find_checkout(tmp_path) is not None:
        pytest.skip("the temp folder is inside a git checkout")
    code, loaded, info = _offline_build(tmp_path, source)
    assert (code, loaded) == (0, [])
    assert info["git"]["commit"] is None and info["git"]["ref"] is None


# -- HEAD without dulwich: the same answers as dulwich ----------------------------------------


def _dulwich_head(folder: Path) -> tuple[str | None, str | None]:
    repo = gitrepo._open(folder)
    if repo is None:
        return None, None
    with repo:
        names, sha = repo.refs.follow(b"HEAD")
    ref = names[-1].decode() if names and names[-1] != b"HEAD" else None
    return (sha.decode() if sha else None), ref


def _both(folder: Path) -> tuple[tuple[str | None, str | None], tuple[str | None, str | None]]:
    return gitrepo.head(folder), _dulwich_head(folder)


@pytest.mark.skipif(not HAS_GIT, reason="git not installed")
def test_head_reads_a_branch_a_packed_ref_and_a_detached_head_like_dulwich(
    checkout: Path,
) -> None:
    folder = checkout / "hello-world" / "icspackage"
    sha = _git(checkout, "rev-parse", "HEAD")
    assert gitrepo._plain_head(str(checkout)) == (sha, "refs/heads/main")  # no dulwich
    fast, slow = _both(folder)
    assert fast == slow == (sha, "refs/heads/main")

    _git(checkout, "pack-refs", "--all")
    assert not (checkout / ".git" / "refs" / "heads" / "main").exists()
    assert gitrepo._plain_head(str(checkout)) == (sha, "refs/heads/main")
    assert gitrepo.head(folder) == _dulwich_head(folder)

    _git(checkout, "checkout", "-q", "--detach")
    assert gitrepo._plain_head(str(checkout)) == (sha, None)
    assert gitrepo.head(folder) == _dulwich_head(folder) == (sha, None)


@pytest.mark.skipif(not HAS_GIT, reason="git not installed")
def test_head_leaves_unborn_branches_and_worktrees_to_dulwich(
    checkout: Path, tmp_path: Path
) -> None:
    unborn = tmp_path / "unborn"
    unborn.mkdir()
    _git(unborn, "init", "-q")
    assert gitrepo._plain_head(str(unborn)) is None
    assert gitrepo.head(unborn) == _dulwich_head(unborn) == (None, "refs/heads/main")

    worktree = tmp_path / "wt"
    _git(checkout, "worktree", "add", "-q", "-b", "feature", str(worktree))
    assert (worktree / ".git").is_file()
    assert gitrepo._plain_head(str(worktree)) is None
    sha = _git(worktree, "rev-parse", "HEAD")
    assert gitrepo.head(worktree) == _dulwich_head(worktree) == (sha, "refs/heads/feature")


def test_head_outside_a_checkout(tmp_path: Path) -> None:
    if gitrepo._find_checkout(tmp_path) is not None:
        pytest.skip("the temp folder is inside a git checkout")
    assert gitrepo.head(tmp_path) == (None, None)


# -- deferred imports ---------------------------------------------------------------------------


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_deferred_module_is_imported_on_first_use() -> None:
    out = _run(
        "import sys\n"
        "from oicaction.lazy import deferred\n"
        "assert 'colorsys' not in sys.modules and 'json' not in sys.modules\n"
        "with deferred({'colorsys': (), 'json': ('dumps',)}):\n"
        "    import colorsys\n"
        "    from json import dumps\n"
        "print(type(colorsys).__name__, 'colorsys' in sys.modules, 'json' in sys.modules)\n"
        "print(colorsys.rgb_to_hsv(1.0, 0.0, 0.0), dumps([1]))\n"
        "import colorsys as real, json\n"
        "print(real is sys.modules['colorsys'], type(real).__name__, json.loads('2'))\n"
    )
    assert out.splitlines() == [
        "_Deferred False False",
        "(0.0, 1.0, 1.0) [1]",
        "True module 2",
    ]


def test_settings_defer_asyncio_and_pydantic_settings_still_reaches_it() -> None:
    out = _run(
        "import os, sys\n"
        "os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'\n"
        "import oicaction.settings\n"
        "import pydantic_settings.main as main\n"
        "print(sorted(m for m in ('asyncio', 'importlib.metadata') if m in sys.modules))\n"
        "print(main.asyncio.iscoroutinefunction(print), 'asyncio' in sys.modules)\n"
    )
    assert out.splitlines() == ["[]", "False True"]


def test_the_cli_keeps_a_pydantic_plugin_setting_of_the_user() -> None:
    out = _run(
        "import os\n"
        "os.environ['PYDANTIC_DISABLE_PLUGINS'] = 'logfire'\n"
        "from oicaction.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(os.environ['PYDANTIC_DISABLE_PLUGINS'])\n"
    )
    assert out.endswith("logfire")
