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
- what a runner pulls: `docker save`, each layer gzip'd (level 6, as `docker push` does), the
  base's layers and ours apart. Target: the whole < 60 MB.
- the action's two ways, as action.yml runs them (README "How it runs"):
  prebuilt   action/prepare.sh finding the image here (`docker image inspect`), then the
             runner's `docker run` of a real build of examples/hello-world (workspace and file
             commands mounted, INPUT_* set), vs a bare `docker run --rm debian:trixie-slim true`.
             Target <= 2x. (The runner's `docker pull` is not timed: no registry here.)
  fallback   prepare.sh writing the build context, then a cold `docker build --no-cache` of it
             (apt-get and pip from the network), as a job without a published image does;
             --no-cold skips it.
  and the projection of both to a 50-job matrix (pull time at --pull-mbps, an assumption).
Without a Docker engine it says so and exits 0. A benchmark: timings are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from pathlib import Path

from common import EXAMPLE, REPO, figure, load, machine

BASE = "debian:trixie-slim"
TARGET_MB = 70.0
PULL_TARGET_MB = 60.0
STEP_TARGET = 2.0
MATRIX_JOBS = 50
# The tag the action looks for when called as bench-org/oic-build@bench (tagged, then removed).
BENCH_REPO, BENCH_REF = "bench-org/oic-build", "bench"
BENCH_TAG = f"ghcr.io/{BENCH_REPO}:{BENCH_REF}"
PREPARE = REPO / "action" / "prepare.sh"


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


def compressed_layers(image: str) -> list[tuple[str, int, int]]:
    """(diff id, bytes, gzip'd bytes) of each layer of `docker save IMAGE`, bottom first."""
    diff_ids = json.loads(docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", image).stdout)
    sizes: dict[str, tuple[int, int]] = {}
    manifest: list[dict[str, object]] = []
    with subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE) as save:
        assert save.stdout is not None
        with tarfile.open(fileobj=save.stdout, mode="r|") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                data = tar.extractfile(member)
                assert data is not None
                if member.name == "manifest.json":
                    manifest = json.load(data)
                    continue
                raw = packed = 0
                gz = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip, docker push's level
                while chunk := data.read(1 << 20):
                    raw += len(chunk)
                    packed += len(gz.compress(chunk))
                sizes[member.name] = (raw, packed + len(gz.flush()))
    paths = manifest[0]["Layers"]
    assert isinstance(paths, list) and len(paths) == len(diff_ids), "unexpected docker save layout"
    return [(d, *sizes[str(p)]) for d, p in zip(diff_ids, paths, strict=True)]


def prepare(workspace: Path, repo: str, ref: str) -> float:
    """action.yml's first step, as the runner runs it; returns its wall time."""
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(workspace / ".github_output"),
        "OIC_ACTION_REPOSITORY": repo,
        "OIC_ACTION_REF": ref,
        "OIC_ACTION_PATH": str(REPO),
        "OIC_ACTION_INPUTS": "integration-path artifact-dir manage-connections",
    }
    start = time.perf_counter()
    subprocess.run(["bash", str(PREPARE)], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def runner_run(image: str, workspace: Path) -> list[str]:
    """`docker run` of a container action the way the runner does it: workspace and file
    commands mounted, INPUT_* and GITHUB_* set, a real build of examples/hello-world."""
    commands = workspace / ".file_commands"
    commands.mkdir(exist_ok=True)
    for name in ("output", "summary"):
        (commands / name).write_text("")
    return [
        "run", "--rm", "--network", "none", "--workdir", "/github/workspace",
        "-v", f"{workspace}:/github/workspace", "-v", f"{commands}:/github/file_commands",
        "-e", "GITHUB_ACTIONS=true", "-e", "GITHUB_WORKSPACE=/github/workspace",
        "-e", "GITHUB_OUTPUT=/github/file_commands/output",
        "-e", "GITHUB_STEP_SUMMARY=/github/file_commands/summary",
        "-e", "INPUT_INTEGRATION-PATH=hello-world", "-e", "INPUT_ARTIFACT-DIR=out",
        "-e", "INPUT_MANAGE-CONNECTIONS=false", image,
    ]  # fmt: skip


def bench_action(image: str, runs: int, cold: bool, pull_mbps: float) -> None:
    """The action's prebuilt and fallback paths, and what they cost a 50-job matrix."""
    layers = compressed_layers(image)
    base_ids = set(json.loads(docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", BASE)
                              .stdout))  # fmt: skip
    base_gz = sum(gz for d, _, gz in layers if d in base_ids)
    ours_gz = sum(gz for d, _, gz in layers if d not in base_ids)
    print(f"\nwhat a runner pulls ({image}, docker save, each layer gzip -6):")
    print("| layer | MB | gzip'd MB |\n|---|---:|---:|")
    for diff_id, raw, gz in layers:
        whose = "base" if diff_id in base_ids else "ours"
        print(f"| {whose} {diff_id[7:19]} | {raw / 1e6:.1f} | {gz / 1e6:.1f} |")
    total_gz = base_gz + ours_gz
    figure(
        "image a runner pulls (gzip'd layers)",
        f"{total_gz / 1e6:.1f} MB (base {base_gz / 1e6:.1f} + ours {ours_gz / 1e6:.1f})",
        f"budget {PULL_TARGET_MB:g} MB",
        total_gz / 1e6 / PULL_TARGET_MB,
        1.0,
        "the base here is the local debootstrap stand-in",
    )

    with tempfile.TemporaryDirectory(prefix="oic-bench-action.") as tmp:
        workspace = Path(tmp)
        shutil.copytree(EXAMPLE, workspace / "hello-world")
        docker("tag", image, BENCH_TAG)
        try:
            prep, step, bare = [], [], []
            run_cmd = runner_run(image, workspace)
            timed(*run_cmd)  # warm-up
            for i in range(runs):
                pair = ["step", "bare"] if i % 2 == 0 else ["bare", "step"]
                for which in pair:
                    if which == "bare":
                        bare.append(timed("run", "--rm", "--network", "none", BASE, "true"))
                        continue
                    shutil.rmtree(workspace / "out", ignore_errors=True)
                    p = prepare(workspace, BENCH_REPO, BENCH_REF)
                    r = timed(*run_cmd)
                    prep.append(p)
                    step.append(p + r)
            output = (workspace / ".file_commands" / "output").read_text()
            assert "HELLO_WORLD|01.00.0000" in output, "the step built nothing"
        finally:
            docker("rmi", BENCH_TAG, check=False)
        prep_ms, step_ms = statistics.median(prep) * 1000, statistics.median(step) * 1000
        bare_ms = statistics.median(bare) * 1000
        figure(
            "prebuilt path: the action's step (find image + docker run of a real build)",
            f"{step_ms:.0f} ms (finding the image {prep_ms:.0f} ms)",
            f"docker run --rm {BASE} true {bare_ms:.0f} ms",
            step_ms / bare_ms,
            STEP_TARGET,
            f"median of {runs}, interleaved; the runner's docker pull not included",
        )

        cold_s = None
        if cold:
            prepare(workspace, "", "")  # uses: ./ -> writes the build context
            context = workspace / ".github/.tmp/.generated-actions/oic-build-dockerfile"
            start = time.perf_counter()
            built = subprocess.run(
                ["docker", "build", "--no-cache", "--network", "host", "-q",
                 "-t", "oic-build:bench-cold", str(context)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            cold_s = time.perf_counter() - start
            docker("rmi", "oic-build:bench-cold", check=False)
            if built.returncode != 0:
                print(built.stderr[-2000:], file=sys.stderr)
                cold_s = None
            else:
                figure(
                    "fallback path: cold image build (docker build --no-cache)",
                    f"{cold_s:.1f} s",
                    f"the prebuilt step {step_ms / 1000:.2f} s",
                    cold_s / (step_ms / 1000),
                    None,
                    "apt-get and pip from the network; the base image here already",
                )

    pull_s = total_gz / 1e6 / pull_mbps
    print(f"\n{MATRIX_JOBS}-job matrix, runner time spent before and around the build itself:")
    print(f"  prebuilt: {MATRIX_JOBS} x ({step_ms / 1000:.2f} s step + {pull_s:.1f} s pull of "
          f"{total_gz / 1e6:.0f} MB at an assumed {pull_mbps:g} MB/s) = "
          f"{MATRIX_JOBS * (step_ms / 1000 + pull_s) / 60:.1f} min")  # fmt: skip
    if cold_s is not None:
        base_pull = base_gz / 1e6 / pull_mbps
        print(f"  fallback: {MATRIX_JOBS} x ({cold_s:.1f} s build + {step_ms / 1000:.2f} s step + "
              f"{base_pull:.1f} s pull of the base) = "
              f"{MATRIX_JOBS * (cold_s + step_ms / 1000 + base_pull) / 60:.1f} min")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=7, help="container starts of each (default 7)")
    ap.add_argument("--image", default="oic-build:bench", help="tag to build (oic-build:bench)")
    ap.add_argument(
        "--no-build", action="store_true", help="measure --image as it is (e.g. an older build)"
    )
    ap.add_argument("--no-cold", action="store_true", help="skip the cold build (network)")
    ap.add_argument(
        "--pull-mbps", type=float, default=50.0, help="assumed pull speed, MB/s (projection only)"
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

    bench_action(args.image, max(args.runs, 7), not args.no_cold, args.pull_mbps)
    print(f"after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
