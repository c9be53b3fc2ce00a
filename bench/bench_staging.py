"""Staging under contention: 48 builds forked and released at one instant into one new
artifact-dir (24 of the example, 24 of a copy under another code), timed from the release to the
last exit; every build must exit 0 and leave exactly the two artifact folders (no hidden one).

Run from the repository root, optionally against another checkout (say main) to compare:

    .venv/bin/python bench/bench_staging.py [--rounds 10] [--tree ../main]

A benchmark, not a test: timings are printed, never asserted (the checks are).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import EXAMPLE, load, machine

SLUG = "HELLO_WORLD_01.00.0000"
BUILDS = 48


def _example(dest: Path, code: str) -> None:
    shutil.copytree(EXAMPLE, dest)
    if code != "HELLO_WORLD":
        project = dest / f"icspackage/project/{code}_01.00.0000"
        (dest / f"icspackage/project/{SLUG}").rename(project)
        xml = project / "PROJECT-INF/project.xml"
        xml.write_text(xml.read_text().replace(">HELLO_WORLD<", f">{code}<"))


def _round(main: object) -> float:
    work = Path(tempfile.mkdtemp(prefix="bench-staging-"))
    os.chdir(work)
    _example(work / "tree", "HELLO_WORLD")
    _example(work / "other", "OTHER")
    gate_read, gate_write = os.pipe()
    pids = []
    for i in range(BUILDS):
        pid = os.fork()
        if pid == 0:  # the child: never returns
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            os.read(gate_read, 1)
            source = ("tree", "other")[i % 2]
            argv = ["--integration-path", source, "--artifact-dir", "art"]
            os._exit(main([*argv, "--manage-connections", "false"]))  # type: ignore[operator]
        pids.append(pid)
    time.sleep(0.5)  # every child waits at the gate
    start = time.perf_counter()
    os.write(gate_write, b"x" * BUILDS)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    took = time.perf_counter() - start
    left = sorted(os.listdir(work / "art"))
    os.chdir("/")
    shutil.rmtree(work)
    if codes != [0] * BUILDS or left != [SLUG, "OTHER_01.00.0000"]:
        raise SystemExit(f"a build failed or left something: exits {codes}, left {left}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    from oicaction.cli import main as cli_main

    print(machine())
    print(f"load before: {load()}")
    times = [_round(cli_main) for _ in range(args.rounds)]
    print(f"load after: {load()}")
    median, best = statistics.median(times) * 1000, min(times) * 1000
    print(
        f"{args.tree}: {BUILDS} concurrent builds, median {median:.0f} ms, min {best:.0f} ms "
        f"over {len(times)} rounds, all whole, nothing left"
    )


if __name__ == "__main__":
    main()
