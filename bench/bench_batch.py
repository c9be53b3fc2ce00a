"""Batch benchmark: N integrations sharing 10 connections built as one batch through the CLI
(`--integration-path 'DIR/*'`) against the OIC stand-in (tests/oic_standin.py), N = 10, 100
and 500: requests counted at the server (target: 10 connection GETs + 1 token + the one probe
GET of the connection list, whatever N) and wall time per integration as the batch grows
(target: flat, i.e. a linear total).

Run from the repository root:

    .venv/bin/python bench/bench_batch.py [--runs 3] [--sizes 10,100,500] [--latency 0]

Integration i is the bundled example under a new code whose appinstances/ list 3 of the 10
shared connections (i, i+1, i+2 modulo 10), packed from its icspackage/ tree; lookups are off.
Each batch is one whole process with OAuth client credentials; the stand-in runs in this
process. Two figures for "flat": the wall time per integration at the largest size vs the
middle one, and the marginal cost of an integration (the slope of total time over N, which
leaves out the fixed start-up) over the upper interval vs the lower one.
A benchmark, not a test: timings are printed, never asserted.
"""

from __future__ import annotations

import shutil
import statistics
import sys
from pathlib import Path

from common import (
    ENTRYPOINT,
    clean_env,
    cli_run,
    figure,
    numbers,
    parser,
    run_timed,
    server_flags,
    serving,
    standin_module,
    write_integration,
)

SHARED = 10
PER_INTEGRATION = 3
PER_INTEGRATION_TARGET = 1.1
SLOPE_TARGET = 1.2


CONNS = [f"SHARED_CONN_{i:02d}" for i in range(SHARED)]


def generate(root: Path, count: int) -> Path:
    for i in range(count):
        used = [CONNS[(i + k) % SHARED] for k in range(PER_INTEGRATION)]
        write_integration(root / f"int{i:04d}", f"BATCH_{i:04d}", used)
    return root


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--runs", type=int, default=3, help="timed batches per size (default 3)")
    ap.add_argument("--sizes", type=numbers, default="10,100,500", help="batch sizes (10,100,500)")
    ap.add_argument("--latency", type=float, default=0.0, help="stand-in seconds per request")
    args = ap.parse_args(argv)
    sizes = sorted(args.sizes)

    oic = standin_module()
    env = clean_env()
    totals: dict[int, float] = {}
    counts: dict[int, tuple[int, int, int]] = {}
    with cli_run("bench_batch_") as work:
        for n in sizes:
            generate(work / f"batch{n}", n)
        with serving(args.latency, CONNS) as standin:
            flags = server_flags(standin)

            def batch(n: int) -> tuple[float, tuple[int, int, int]]:
                shutil.rmtree(work / "out", ignore_errors=True)
                before = dict(standin.state.counts)
                cmd = [sys.executable, str(ENTRYPOINT), "--integration-path", f"batch{n}/*"]
                cmd += ["--artifact-dir", "out", "--manage-lookups", "false", *flags]
                wall = run_timed(cmd, work, env)
                built = sum(1 for p in (work / "out").iterdir() if p.is_dir())
                if built != n:
                    raise SystemExit(f"batch of {n} built {built} artifacts")
                new = {k: v - before.get(k, 0) for k, v in standin.state.counts.items()}
                tokens = new.get(("POST", oic.TOKEN_PATH), 0)
                gets = sum(v for (m, p), v in new.items() if m == "GET" and "/connections/" in p)
                return wall, (tokens, gets, sum(new.values()))

            batch(sizes[0])  # warm-up
            times: dict[int, list[float]] = {n: [] for n in sizes}
            for i in range(args.runs):
                for n in sizes if i % 2 == 0 else reversed(sizes):
                    wall, counts[n] = batch(n)
                    times[n].append(wall)
            totals = {n: statistics.median(t) for n, t in times.items()}
        print("| integrations | total ms | ms per integration | token requests | connection GETs |")
        print("|---:|---:|---:|---:|---:|")
        for n in sizes:
            tokens, gets, _ = counts[n]
            print(
                f"| {n} | {totals[n] * 1000:.0f} | {totals[n] / n * 1000:.1f} | {tokens} | {gets} |"
            )
        for n in sizes:
            tokens, gets, total = counts[n]
            wanted = min(SHARED, n + PER_INTEGRATION - 1) + 2
            figure(
                f"batch requests at the server, {n} integrations",
                f"{total} requests ({gets} connection GETs + {tokens} token + the rest)",
                f"{wanted} ({wanted - 2} shared connections + 1 token + 1 probe)",
                total / wanted,
                1.0,
            )
        if len(sizes) >= 2:
            mid, top = sizes[-2], sizes[-1]
            per_mid, per_top = totals[mid] / mid, totals[top] / top
            figure(
                f"batch wall per integration, {top} vs {mid}",
                f"{per_top * 1000:.1f} ms",
                f"{per_mid * 1000:.1f} ms at {mid}",
                per_top / per_mid,
                PER_INTEGRATION_TARGET,
                f"totals {totals[top]:.2f} s and {totals[mid]:.2f} s; median of {args.runs}",
            )
        if len(sizes) >= 3:
            low, mid, top = sizes[-3], sizes[-2], sizes[-1]
            slope_low = (totals[mid] - totals[low]) / (mid - low)
            slope_top = (totals[top] - totals[mid]) / (top - mid)
            fixed = totals[low] - slope_low * low
            figure(
                f"batch marginal cost per integration, {mid}->{top} vs {low}->{mid}",
                f"{slope_top * 1000:.1f} ms",
                f"{slope_low * 1000:.1f} ms",
                slope_top / slope_low,
                SLOPE_TARGET,
                f"fixed cost (start-up, token, shared fetches) about {fixed * 1000:.0f} ms",
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
