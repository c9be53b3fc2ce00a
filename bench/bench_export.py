"""Export benchmark: a whole CLI build of an integration that uses 50 connections, exported from
the OIC stand-in (tests/oic_standin.py) answering every request after 100 ms, at max-workers
1, 4, 8 and 16, vs the ideal critical path: the token, then ceil(50 / workers) rounds of
connection requests, each one latency long.

Run from the repository root:

    .venv/bin/python bench/bench_export.py [--runs 5] [--latency 0.1] [--connections 50]
        [--workers 1,4,8,16]

Each build is a whole process (`python entrypoint.py ... --max-workers W`, OAuth client
credentials against the stand-in, lookups off), so it is what a CI step feels. The export's share
is its wall time minus that of the same build offline (`--manage-connections false`), measured
in the same run: start-up and packaging are the start-up benchmark's figure, not this one's.
The stand-in runs in this process (its threads sleep out the latency); the build in another.
Requests are counted at the stand-in: 1 token + the first request + 50 GETs per build, at most W
in flight.
A benchmark, not a test: timings are printed, never asserted.
"""

from __future__ import annotations

import math
import shutil
import statistics
import sys

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
    write_integration,
)

TARGET = 1.5


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--runs", type=int, default=5, help="timed builds per setting (default 5)")
    ap.add_argument("--latency", type=float, default=0.1, help="seconds per request (0.1)")
    ap.add_argument("--connections", type=int, default=50, help="connections used (50)")
    ap.add_argument(
        "--workers", type=numbers, default="1,4,8,16", help="max-workers settings (1,4,8,16)"
    )
    args = ap.parse_args(argv)
    workers = args.workers

    conns = [f"BENCH_CONN_{i:02d}" for i in range(1, args.connections + 1)]
    env = clean_env()
    with cli_run("bench_export_") as work, serving(args.latency, conns) as standin:
        source = write_integration(work / "src", "BENCH_EXPORT", conns)
        py = [sys.executable, str(ENTRYPOINT), "--integration-path", str(source)]
        flags = server_flags(standin)

        def build(w: int | None) -> float:
            shutil.rmtree(work / "out", ignore_errors=True)
            if w is None:
                cmd = [*py, "--artifact-dir", "out", "--manage-connections", "false"]
            else:
                cmd = [*py, "--artifact-dir", "out", "--manage-lookups", "false"]
                cmd += ["--max-workers", str(w), *flags]
            return run_timed(cmd, work, env)

        build(None)  # warm-up: page cache, bytecode
        build(workers[-1])
        offline: list[float] = []
        rows = []
        for w in workers:
            times = []
            for _ in range(args.runs):
                offline.append(build(None))
                before_total, before_tokens = standin.total_requests, standin.token_requests
                standin.state.max_in_flight = 0
                times.append(build(w))
                tokens = standin.token_requests - before_tokens
                gets = standin.total_requests - before_total - tokens
                if (tokens, gets) != (1, len(conns) + 1):  # + the first request
                    print(f"unexpected requests: {tokens} token, {gets} GETs", file=sys.stderr)
                    return 1
                if not (work / "out" / "BENCH_EXPORT_01.00.0000" / "connections.json").is_file():
                    print("the build exported no connections.json", file=sys.stderr)
                    return 1
            ideal = args.latency * (1 + math.ceil(len(conns) / w))
            rows.append((w, statistics.median(times), ideal, standin.max_in_flight))
        base = statistics.median(offline)
        print(
            f"offline build of the same integration (reference, subtracted): "
            f"median {base * 1000:.0f} ms of {len(offline)}"
        )
        print(
            "| max-workers | whole build ms | export ms (minus offline) | ideal ms | ratio | "
            "most in flight |\n|---:|---:|---:|---:|---:|---:|"
        )
        for w, whole, ideal, in_flight in rows:
            export = whole - base
            print(
                f"| {w} | {whole * 1000:.0f} | {export * 1000:.0f} | {ideal * 1000:.0f} | "
                f"{export / ideal:.2f}x | {in_flight} |"
            )
        for w, whole, ideal, _ in rows:
            figure(
                f"export {len(conns)} connections, max-workers {w}",
                f"{(whole - base) * 1000:.0f} ms",
                f"ideal {ideal * 1000:.0f} ms (token + {math.ceil(len(conns) / w)} x "
                f"{args.latency * 1000:.0f} ms)",
                (whole - base) / ideal,
                TARGET,
                f"whole build {whole * 1000:.0f} ms, offline {base * 1000:.0f} ms; "
                f"median of {args.runs}",
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
