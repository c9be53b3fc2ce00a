"""Image benchmark: what the Dockerfile adds on top of its base image, and how long the container
takes to start.

Run from the repository root (needs a Docker engine and the base image; `bash .ci/base-image.sh`
makes both on a machine without a registry):

    .venv/bin/python bench/bench_image.py [--runs 7] [--image oic-build:bench]

- size: the sum of the image's own layers (docker history), i.e. every layer above
  debian:trixie-slim. Only these compare with the published image: where no registry is reached,
  the base is a debootstrap stand-in, larger than the published slim image. Target <= 70 MB.
- `docker run --rm IMAGE --help`, each a new container (the first one after the build shown on
  its own), vs `docker run --rm debian:trixie-slim true`, the engine's own cost of a container.
- start-up inside the image: the offline build of examples/hello-world (mounted read-only) vs
  `python -c pass`, both with the entrypoint's interpreter and flags (-E -s -B -u), timed in one
  container so that the engine's cost is out of it, with the start-up benchmark's steps between
  them (where the time goes).
Without a Docker engine it says so and exits 0. A benchmark: timings are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time

from bench_startup import STAIRCASE
from common import EXAMPLE, REPO, figure, load, machine

BASE = "debian:trixie-slim"
TARGET_MB = 70.0

# Runs inside the image: each [label, argv] of argv[2] as whole processes, interleaved, `runs`
# times each after a warm-up; prints {label: median ms} as JSON.
_IN_IMAGE = r"""
import json, shutil, statistics, subprocess, sys, time
runs, cmds = int(sys.argv[1]), dict(json.loads(sys.argv[2]))
times = {k: [] for k in cmds}
for i in range(runs + 1):
    for name, cmd in (list(cmds.items()) if i % 2 else list(reversed(cmds.items()))):
        shutil.rmtree("/tmp/out", ignore_errors=True)
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        if i:
            times[name].append(time.perf_counter() - t)
print(json.dumps({k: statistics.median(v) * 1000 for k, v in times.items()}))
"""


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def timed(*args: str) -> float:
    start = time.perf_counter()
    docker(*args)
    return time.perf_counter() - start


def history(image: str) -> list[tuple[str, int, str]]:
    fmt = "{{.ID}}\t{{.Size}}\t{{.CreatedBy}}"
    out = docker("history", "--no-trunc", "--human=false", "--format", fmt, image).stdout
    rows = []
    for line in out.splitlines():
        layer_id, size, created = line.split("\t", 2)
        rows.append((layer_id, int(size), created))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=7, help="container starts of each (default 7)")
    ap.add_argument("--image", default="oic-build:bench", help="tag to build (oic-build:bench)")
    ap.add_argument(
        "--no-build", action="store_true", help="measure --image as it is (e.g. an older build)"
    )
    args = ap.parse_args(argv)

    print(machine())
    if shutil.which("docker") is None or docker("info", check=False).returncode != 0:
        print("image: skipped, no Docker engine here (bash .ci/base-image.sh starts one)")
        return 0
    if docker("image", "inspect", BASE, check=False).returncode != 0:
        print(f"image: skipped, no {BASE} image (bash .ci/base-image.sh makes a stand-in)")
        return 0
    print(f"before: {load()}")
    if not args.no_build:
        start = time.perf_counter()
        built = subprocess.run(
            ["docker", "build", "--network", "host", "-q", "-t", args.image, str(REPO)],
            capture_output=True,
            text=True,
        )
        if built.returncode != 0:
            print(built.stderr[-3000:], file=sys.stderr)
            return 1
        print(f"docker build -t {args.image} . took {time.perf_counter() - start:.1f} s")

    image, base = history(args.image), history(BASE)
    if [row[0] for row in image[-len(base) :]] != [row[0] for row in base]:
        print(f"{args.image} is not built on the local {BASE}", file=sys.stderr)
        return 1
    added = image[: len(image) - len(base)]
    added_bytes = sum(size for _, size, _ in added)
    base_bytes = sum(size for _, size, _ in base)
    print(f"layers the Dockerfile adds over {BASE} (docker history, newest first):")
    print("| MB | instruction |\n|---:|---|")
    for _, size, created in added:
        if size:
            text = " ".join(created.replace("/bin/sh -c #(nop) ", "").split())
            print(f"| {size / 1e6:.1f} | `{text[:90]}` |")
    print(f"base {BASE} here: {base_bytes / 1e6:.1f} MB (a local stand-in when no registry)")
    figure(
        "image size (layers the Dockerfile adds)",
        f"{added_bytes / 1e6:.1f} MB",
        f"budget {TARGET_MB:g} MB",
        added_bytes / 1e6 / TARGET_MB,
        1.0,
        f"whole image {(added_bytes + base_bytes) / 1e6:.1f} MB on this base",
    )

    run = ("run", "--rm", "--network", "none")
    first = timed(*run, args.image, "--help")
    helps, bare = [], []
    for i in range(args.runs):
        pair = [(helps, (*run, args.image, "--help")), (bare, (*run, BASE, "true"))]
        for bucket, cmd in pair if i % 2 == 0 else reversed(pair):
            bucket.append(timed(*cmd))
    print(f"first docker run --help after the build: {first * 1000:.0f} ms")
    figure(
        "image start (docker run --rm IMAGE --help)",
        f"{statistics.median(helps) * 1000:.0f} ms",
        f"docker run --rm {BASE} true {statistics.median(bare) * 1000:.0f} ms",
        statistics.median(helps) / statistics.median(bare),
        None,
        f"new container each time, median of {args.runs}",
    )

    py = ["/opt/venv/bin/python", "-E", "-s", "-B", "-u"]  # the image's ENTRYPOINT
    steps = [
        (label, [*py, "-c", "import sys; sys.path.insert(0, '/app')\n" + code])
        for label, code in STAIRCASE
    ]
    build = [*py, "/app/entrypoint.py", "--integration-path", "/example", "--artifact-dir"]
    build += ["/tmp/out", "--manage-connections", "false", "--manage-lookups", "false"]
    steps.append(("+ the offline build of hello-world", build))
    runs = max(args.runs, 11)
    inside = docker(
        *run,
        "-v",
        f"{EXAMPLE}:/example:ro",
        "--entrypoint",
        py[0],
        args.image,
        "-c",
        _IN_IMAGE,
        str(runs),
        json.dumps(steps),
    )
    medians = json.loads(inside.stdout)
    version = docker(*run, "--entrypoint", py[0], args.image, "-V").stdout.strip()
    print(f"\nwhere the time goes in the image ({version}, -E -s -B -u; median of {runs}):")
    print("| process | median ms | step ms |\n|---|---:|---:|")
    previous = 0.0
    for label, med in medians.items():
        print(f"| {label} | {med:.0f} | {med - previous:+.0f} |")
        previous = med
    build_ms, pass_ms = medians[steps[-1][0]], medians[steps[0][0]]
    figure(
        "start-up in the image (offline build of hello-world)",
        f"{build_ms:.0f} ms",
        f"python -c pass {pass_ms:.0f} ms",
        build_ms / pass_ms,
        3.0,
        f"{version}, -E -s -B -u; median of {runs} in one container",
    )
    print(f"after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
