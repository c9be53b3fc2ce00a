"""Where a build came from (commit, ref, run), read from the CI's variables, else from git."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# (commit, ref, run id) variables of the CIs users run us in, most specific first.
_CI_VARS = (
    ("GITHUB_SHA", "GITHUB_REF", "GITHUB_RUN_ID"),
    ("CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", "CI_PIPELINE_ID"),  # GitLab
    ("GIT_COMMIT", "GIT_BRANCH", "BUILD_NUMBER"),  # Jenkins
    ("BUILD_SOURCEVERSION", "BUILD_SOURCEBRANCH", "BUILD_BUILDID"),  # Azure Pipelines
)


def run_git(folder: Path, *args: str, strip: bool = True) -> str | None:
    """Run git in folder; None when git is absent or fails (callers say what that means)."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        # safe.directory: in a container the checkout belongs to another uid than ours.
        done = subprocess.run(
            [git, "-c", f"safe.directory={folder.resolve()}", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() if strip else done.stdout


def git_info(folder: Path) -> dict[str, str | None]:
    for commit_var, ref_var, run_var in _CI_VARS:
        if os.environ.get(commit_var):
            return {
                "commit": os.environ.get(commit_var),
                "ref": os.environ.get(ref_var),
                "run_id": os.environ.get(run_var),
                "repository": os.environ.get("GITHUB_REPOSITORY"),
            }
    return {
        "commit": run_git(folder, "rev-parse", "HEAD") or None,
        "ref": run_git(folder, "rev-parse", "--abbrev-ref", "HEAD") or None,
        "run_id": None,
        "repository": None,
    }
