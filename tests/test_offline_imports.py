"""An offline build does not load the HTTP stack, dulwich or the other modes' code (behaviour,
not timing: the step time it saves is in BENCHMARKS.md, "Image")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLE

HEAVY = ("requests", "urllib3", "dulwich")
OTHER_MODES = ("oicaction.modes.deploy", "oicaction.modes.pull")


def test_offline_build_in_github_loads_no_http_stack_dulwich_or_other_modes(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from oicaction.cli import main\n"
        f"code = main(['--integration-path', {str(EXAMPLE)!r}, '--artifact-dir', 'out', "
        "'--manage-connections', 'false'])\n"
        f"print(code, sorted(m for m in {HEAVY!r} if m in sys.modules),\n"
        f"      sorted(m for m in sys.modules if m.startswith({OTHER_MODES!r})))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OIC_", "INPUT_", "GIT"))}
    env["GITHUB_SHA"] = "0" * 40  # the runner names the commit: no HEAD to read
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.stdout.strip() == "0 [] []", done.stderr


def test_a_build_that_exports_does_load_them(tmp_path: Path) -> None:
    """The counterpart, so the test above cannot pass by never importing anything."""
    script = (
        "import sys\nfrom oicaction.modes.build import connect\n"
        + (
            "from oicaction.settings import load_settings\n"
            "from oicaction.report import Reporter\n"
            "from oicaction.errors import SettingsError\n"
            "s = load_settings({'oic_url': 'https://design.integration.r.ocp.oraclecloud.com', "
            "'oic_instance': 'i', 'username': 'u', 'password': 'p'})\n"
            "try:\n"
            "    connect(s, Reporter()).close()\n"
            "except SettingsError:\n"  # basic auth on OIC 3: refused before any request
            "    pass\n"
            f"print(sorted(m for m in {HEAVY[:2]!r} if m in sys.modules))\n"
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OIC_", "INPUT_"))}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.stdout.strip() == "['requests', 'urllib3']", done.stderr
