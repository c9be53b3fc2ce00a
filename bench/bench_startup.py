"""Start-up benchmark: the whole-process wall time of an offline build of a real sample (what a CI
step costs on every push before any real work) vs `python -c pass` with the same interpreter,
and where the time goes (`python -X importtime`).

Run from the repository root:

    .venv/bin/python bench/bench_startup.py [--runs 21] [--top 15] [--sample DIR]
        [--entry PATH/entrypoint.py] [--compare PATH/entrypoint.py] [--flags "-E -s -B"]

The build is `python entrypoint.py --integration-path SAMPLE --artifact-dir TMP
--manage-connections false --manage-lookups false` in a temp folder with no OIC_/INPUT_/CI
variables (so provenance is read from git, as on a developer's machine or in a CI that sets no
commit variable). The sample defaults to the real SUBSCIRB_PO_DETAILS_SYNC icspackage tree of
../shared/fixtures, else the bundled examples/hello-world. `--entry` times another tree's
entrypoint.py instead (its folder comes first on sys.path); `--compare` adds another tree's to the
same interleaved runs, e.g. the commit before a change:

    mkdir /tmp/before && git archive 9dfc7eb oicaction entrypoint.py | tar -x -C /tmp/before
    .venv/bin/python bench/bench_startup.py --compare /tmp/before/entrypoint.py
A benchmark, not a test: timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from common import (
    ENTRYPOINT,
    EXAMPLE,
    REAL_SAMPLE,
    clean_env,
    figure,
    interleaved,
    load,
    machine,
    median_ms,
    precompile,
    run_timed,
)

TARGET = 3.0
# Whole processes that each import one step more of what the offline build imports: their
# medians show, in wall time rather than importtime's inflated figures, where start-up goes.
_PLUGINS_OFF = "import os; os.environ.setdefault('PYDANTIC_DISABLE_PLUGINS', '__all__')\n"
STAIRCASE = (
    ("python -c pass", "pass"),
    ("+ pydantic_core (Rust extension, core_schema)", "import pydantic_core"),
    ("+ pydantic BaseModel", "from pydantic import BaseModel"),
    (
        "+ pydantic_settings, as oicaction.settings imports it",
        _PLUGINS_OFF + "import contextlib, oicaction\n"  # an older tree has no lazy.py
        "if os.path.exists(os.path.join(oicaction.__path__[0], 'lazy.py')):\n"
        "    from oicaction.lazy import deferred\n"
        "else:\n    deferred = lambda modules: contextlib.nullcontext()\n"
        "with deferred({'asyncio': (), 'importlib.metadata': ('entry_points',)}):\n"
        "    import pydantic_settings",
    ),
    ("+ oicaction.settings (the Settings model built)", _PLUGINS_OFF + "import oicaction.settings"),
    (
        "+ oicaction.cli and the build modules",
        _PLUGINS_OFF + "import oicaction.cli, oicaction.batch, oicaction.settings",
    ),
)
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def parse_importtime(stderr: str) -> list[tuple[int, int, int, str]]:
    """(self us, cumulative us, depth, module) per line of `-X importtime`."""
    rows = []
    for line in stderr.splitlines():
        m = _IMPORT_LINE.match(line)
        if m:
            rows.append((int(m[1]), int(m[2]), len(m[3]) // 2, m[4]))
    return rows


def importtime_report(rows: list[tuple[int, int, int, str]], top: int) -> None:
    total = sum(r[0] for r in rows)
    print(f"\n-X importtime: {len(rows)} modules, {total / 1000:.1f} ms of imports in all")
    print(f"\ntop {top} imports by cumulative time (ms; nesting shown by indent):")
    print("| cumulative ms | self ms | module |\n|---:|---:|---|")
    for self_us, cum_us, depth, name in sorted(rows, key=lambda r: -r[1])[:top]:
        print(f"| {cum_us / 1000:.1f} | {self_us / 1000:.1f} | {'  ' * depth}`{name}` |")
    by_package: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for self_us, _, _, name in rows:
        top_name = name.split(".")[0]
        by_package[top_name] += self_us
        count[top_name] += 1
    print(f"\ntop {top} top-level packages by their modules' own (self) import time:")
    print("| package | self ms | modules |\n|---|---:|---:|")
    for name, us in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]:
        print(f"| `{name}` | {us / 1000:.1f} | {count[name]} |")
    heavy = ("requests", "urllib3", "dulwich", "asyncio", "ssl", "email", "http")
    loaded = [h for h in heavy if h in by_package]
    print(f"\nloaded on the offline path from {heavy}: {loaded or 'none'}")


def git_checkout(sample: Path, dest: Path) -> Path | None:
    """The sample committed in a fresh git checkout (a developer's build records its HEAD)."""
    if shutil.which("git") is None:
        return None
    shutil.copytree(sample, dest / sample.name)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "sample"]):
        subprocess.run([*git, *cmd], cwd=dest, check=True, capture_output=True)
    return dest / sample.name


def staircase(
    py: list[str], root: Path, work: Path, env: dict[str, str], runs: int, build: float
) -> None:
    """Wall time of whole processes importing one step more each (see STAIRCASE)."""
    env = {**env, "PYTHONPATH": str(root)}
    contenders = {
        label: (lambda code=code: run_timed([*py, "-c", code], work, env))
        for label, code in STAIRCASE
    }
    times = interleaved(runs, contenders)
    print(f"\nwhere the time goes, whole processes (median of {runs}; step = added wall time):")
    print("| process | median ms | step ms |\n|---|---:|---:|")
    previous = 0.0
    for label, t in times.items():
        med = statistics.median(t)
        print(f"| {label} | {med * 1000:.0f} | {(med - previous) * 1000:+.0f} |")
        previous = med
    print(
        f"| + the offline build itself (the figure above) | {build * 1000:.0f} | "
        f"{(build - previous) * 1000:+.0f} |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=21, help="timed runs of each (default 21)")
    ap.add_argument("--top", type=int, default=15, help="rows of the importtime tables")
    ap.add_argument("--sample", type=Path, help="integration folder (default: real sample)")
    ap.add_argument("--entry", type=Path, default=ENTRYPOINT, help="entrypoint.py to time")
    ap.add_argument(
        "--compare",
        type=Path,
        action="append",
        default=[],
        help="another tree's entrypoint.py to time in the same interleaved runs (repeatable)",
    )
    ap.add_argument("--python", default=sys.executable, help="interpreter (default: this one)")
    ap.add_argument(
        "--flags", default="", help='interpreter flags for both, e.g. "-E -s -B" as the image'
    )
    args = ap.parse_args(argv)

    sample = args.sample or (REAL_SAMPLE if REAL_SAMPLE.is_dir() else EXAMPLE)
    sample = sample.resolve()
    print(machine())
    print(f"before: {load()}")
    precompile()
    flags = shlex.split(args.flags)
    py = [args.python, *flags]
    work = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    env = clean_env()

    offline = ["--manage-connections", "false", "--manage-lookups", "false"]

    def build_of(source: Path, entry: Path = args.entry) -> list[str]:
        where = ["--integration-path", str(source), "--artifact-dir", "out"]
        return [*py, str(entry.resolve()), *where, *offline]

    build = build_of(sample)
    try:
        print(f"sample: {sample} ({sum(1 for p in sample.rglob('*') if p.is_file())} files)")
        print(f"build:  {shlex.join(build)}")
        contenders = {
            "python -c pass": lambda: run_timed([*py, "-c", "pass"], work, env),
            "offline build": lambda: run_timed(build, work, env),
        }
        checkout = git_checkout(sample, work / "checkout")
        if checkout is not None:
            in_git = build_of(checkout)
            contenders["in a git checkout"] = lambda: run_timed(in_git, work, env)
        else:
            print("no git binary: the in-a-checkout variant is skipped")
        for other in args.compare:
            cmd = build_of(sample, other)
            contenders[str(other)] = lambda cmd=cmd: run_timed(cmd, work, env)
        times = interleaved(
            args.runs, contenders, before=lambda: shutil.rmtree(work / "out", ignore_errors=True)
        )
        for name, t in times.items():
            print(f"  {name:17} median {median_ms(t)}, min {min(t) * 1000:.0f} ms ({len(t)} runs)")
        base = statistics.median(times["python -c pass"])
        for other in args.compare:
            med = statistics.median(times[str(other)])
            print(f"compare: {other}: {med * 1000:.0f} ms = {med / base:.2f}x python -c pass")
        ours = statistics.median(times["offline build"])
        figure(
            "start-up (offline build, whole process)",
            median_ms(times["offline build"]),
            f"python -c pass {median_ms(times['python -c pass'])}",
            ours / base,
            TARGET,
            f"{(ours - base) * 1000:.0f} ms above the bare interpreter; median of {args.runs}",
        )
        if "in a git checkout" in times:
            git_ms = statistics.median(times["in a git checkout"])
            figure(
                "start-up (offline build in a git checkout, HEAD recorded)",
                median_ms(times["in a git checkout"]),
                f"python -c pass {median_ms(times['python -c pass'])}",
                git_ms / base,
                TARGET,
                f"median of {args.runs}",
            )
        staircase(py, args.entry.resolve().parent, work, env, max(args.runs // 2, 5), ours)
        shutil.rmtree(work / "out", ignore_errors=True)
        done = subprocess.run(
            [*py, "-X", "importtime", *build[len(py) :]],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        importtime_report(parse_importtime(done.stderr), args.top)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        print(f"after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
