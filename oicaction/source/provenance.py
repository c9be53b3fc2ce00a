"""Where a build came from (commit, ref, run), read from the CI's variables, else from git."""

from __future__ import annotations

import os
from pathlib import Path

from .git import head

# (commit, ref, run id) variables of the CIs users run us in, most specific first.
_CI_VARS = (
    ("GITHUB_SHA", "GITHUB_REF", "GITHUB_RUN_ID"),
    ("CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", "CI_PIPELINE_ID"),  # GitLab
    ("GIT_COMMIT", "GIT_BRANCH", "BUILD_NUMBER"),  # Jenkins
    ("BUILD_SOURCEVERSION", "BUILD_SOURCEBRANCH", "BUILD_BUILDID"),  # Azure Pipelines
)


def git_info(folder: Path) -> dict[str, str | None]:
    for commit_var, ref_var, run_var in _CI_VARS:
        if os.environ.get(commit_var):
            return {
                "commit": os.environ.get(commit_var),
                "ref": os.environ.get(ref_var),
                "run_id": os.environ.get(run_var),
                "repository": os.environ.get("GITHUB_REPOSITORY"),
            }
    commit, ref = head(folder)
    return {"commit": commit, "ref": ref, "run_id": None, "repository": None}
