"""Every benchmark of oic-build, one after the other, and one table of their figures at the end.

Run from the repository root, on a quiet machine (not part of the tests; nothing is asserted):

    .venv/bin/python bench/run_all.py [--quick] [--only package,export] [--table FILE]

  package  packaging a 2,000-file / 50 MB icspackage tree vs `zip -r -X -6`, byte-identical
           across runs; reading a 50 MB .iar's metadata vs extracting it (bench_package.py)
  export   50 connections from the OIC stand-in at 100 ms a request, max-workers 1/4/8/16, vs
           the ideal critical path (bench_export.py)
  batch    10/100/500 integrations sharing 10 connections: requests at the server, wall time per
           integration (bench_batch.py)
  pull     50/200 integrations pulled at 50 ms a request, max-workers 1 vs 4, requests at the
           server, and the unchanged second pull (bench_pull.py)
  deploy   20 integrations deployed at 100 ms a request and 1 s activations, max-workers 1/4,
           vs the ideal critical path (bench_deploy.py)
  memory   peak RSS of a build with 20 attachments of 60 MiB vs one, of a 1 GiB answer refused,
           and of 6 connection bodies of 37 MiB vs one (bench_memory.py)
  redact   the run's secrets hunted in 10 MB of hostile text, in each of the three uses (log
           lines, records, shipped files), vs ordinary text and vs a tenth of the size
           (bench_redact.py)
  image    what the Dockerfile adds over its base, `docker run --help`, start-up in the image,
           the gzip'd size a runner pulls, the action's prebuilt and fallback (cold build) paths
           and a 50-job matrix projection (bench_image.py; skipped, saying so, without a Docker
           engine; --quick skips the cold build)

Every figure is a ratio against a reference measured in the same run. Each script's own output
is shown as it runs; the figures are collected into a Markdown table (also written to --table).
--quick runs fewer repeats: a smoke run, not numbers to record.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from common import load, machine

HERE = Path(__file__).resolve().parent
SUITES = ("package", "export", "batch", "pull", "deploy", "memory", "redact", "image")
# (script, arguments, arguments with --quick)
COMMANDS: dict[str, tuple[str, list[str], list[str]]] = {
    "package": ("bench_package.py", [], ["--repeats", "3"]),
    "export": ("bench_export.py", [], ["--runs", "1"]),
    "batch": ("bench_batch.py", [], ["--runs", "1"]),
    "pull": ("bench_pull.py", [], ["--sizes", "10,50"]),
    "deploy": ("bench_deploy.py", [], ["--count", "8"]),
    "memory": ("bench_memory.py", ["--bodies", "6"], ["--attachments", "3", "--mib", "8"]),
    "redact": ("bench_redact.py", [], ["--repeats", "1", "--size-mb", "2"]),
    "image": ("bench_image.py", [], ["--runs", "3", "--no-cold"]),
}
FIGURE = re.compile(
    r"^FIGURE (?P<name>[^:]+): (?P<value>.+?) vs (?P<ref>.+?) = (?P<ratio>[\d.]+)x "
    r"\((?P<target>[^)]*)\)(?: (?P<verdict>met|MISSED))?(?:; (?P<note>.*))?$"
)
# bench_package.py predates the FIGURE lines; its summary lines are read as they are.
PACKAGING = re.compile(
    r"^packaging: oic-build (?P<ours>[\d.]+) s vs zip (?P<zip>[\d.]+) s = (?P<ratio>[\d.]+)x wall "
    r"\(median of (?P<n>\d+)\); size (?P<size>[\d.]+)x"
)
METADATA = re.compile(
    r"^metadata: IarFile.metadata\(\) (?P<meta>[\d.]+) ms vs full extraction \(extractall\) "
    r"(?P<full>[\d.]+) ms = (?P<ratio>[\d.]+)x on a (?P<mb>[\d.]+) MB \.iar "
    r"\((?P<raw>[\d.]+) MB unpacked"
)


def package_figures(line: str) -> list[str]:
    """FIGURE lines made from bench_package.py's summary lines."""
    if m := PACKAGING.match(line):
        ratio, size = float(m["ratio"]), float(m["size"])
        return [
            f"FIGURE packaging 2,000 files / 50 MB: {m['ours']} s vs zip -r -X -6 {m['zip']} s = "
            f"{ratio:.2f}x (target <= 1.15x) {'met' if ratio <= 1.15 else 'MISSED'}; "
            f"median of {m['n']}",
            f"FIGURE packaging output size: {size:.3f} of zip's vs zip's = {size:.3f}x "
            f"(target <= 1.05x) {'met' if size <= 1.05 else 'MISSED'}",
        ]
    if line.startswith("deterministic: "):
        same = "byte-identical" in line
        return [
            f"FIGURE packaging determinism: {'byte-identical' if same else 'DIFFERENT'} vs "
            f"the first run = {1.0 if same else 99:.2f}x (target <= 1x) "
            f"{'met' if same else 'MISSED'}; {line.split(': ', 1)[1]}"
        ]
    if m := METADATA.match(line):
        return [
            f"FIGURE metadata of the {m['raw']} MB tree's .iar ({m['mb']} MB): {m['meta']} ms "
            f"vs full extraction {m['full']} ms = {float(m['ratio']):.2f}x (no target); reads "
            "project.xml and appinstances only, never the whole archive"
        ]
    return []


def run_suite(name: str, quick: bool) -> tuple[int, list[str], float]:
    script, normal, fast = COMMANDS[name]
    cmd = [sys.executable, str(HERE / script), *(fast if quick else normal)]
    print(f"\n===== {name}: {' '.join(cmd[1:])} ({load()})", flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=HERE.parent, stdout=subprocess.PIPE, text=True, bufsize=1)
    figures: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        line = line.rstrip("\n")
        if line.startswith("FIGURE "):
            figures.append(line)
        elif name == "package":
            figures.extend(package_figures(line))
        elif name == "image" and line.startswith("image: skipped"):
            figures.append(f"SKIPPED {line}")
    code = proc.wait()
    return code, figures, time.perf_counter() - start


def table(figures: list[str]) -> str:
    rows = ["| figure | value | reference (same run) | ratio | target | met? |", "|---" * 6 + "|"]
    for line in figures:
        if line.startswith("SKIPPED "):
            rows.append(f"| {line[len('SKIPPED ') :]} | | | | | skipped |")
            continue
        m = FIGURE.match(line)
        if not m:
            rows.append(f"| {line} | | | | | |")
            continue
        target = m["target"].removeprefix("target ")
        verdict = {"met": "yes", "MISSED": "**no**", None: "–"}[m["verdict"]]
        rows.append(
            f"| {m['name']} | {m['value']} | {m['ref']} | {m['ratio']}x | {target} | {verdict} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats: a smoke run")
    ap.add_argument("--only", default=",".join(SUITES), help=f"some of {','.join(SUITES)}")
    ap.add_argument("--table", type=Path, help="also write the figures' table to this file")
    args = ap.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SUITES]
    if unknown:
        ap.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")

    print(machine())
    print(f"start: {load()}")
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        print("warning: the machine is busy; figures taken now may be off (re-run when quiet)")
    figures: list[str] = []
    failed = []
    start = time.perf_counter()
    for name in chosen:
        code, found, took = run_suite(name, args.quick)
        print(f"===== {name}: exit {code} in {took:.0f} s")
        figures.extend(found)
        if code != 0:
            failed.append(name)
    print(f"\n===== all figures ({machine()}; end: {load()}; {time.perf_counter() - start:.0f} s)")
    text = table(figures)
    print(text)
    if args.table:
        header = f"{machine()}\n\n{load()} at the end\n\n"
        args.table.write_text(header + text + "\n", encoding="utf-8")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
