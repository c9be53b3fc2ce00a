"""Deploy benchmark: 20 integrations deployed (`oic-build deploy`, one process) into the OIC
stand-in (tests/oic_standin.py) answering every request after ~100 ms and finishing each
activation ~1 s after it was asked for (OIC 3's asynchronous activation), at max-workers 1 and
4: wall time against the ideal (target <= 1.5x).

Run from the repository root:

    .venv/bin/python bench/bench_deploy.py [--runs 1] [--count 20] [--latency 0.1]
        [--activation 1.0] [--workers 1,4]

Integration i is the bundled example under a new code using one connection of its own
(DEPLOY_CONN_i, on the target already); built offline into one artifact folder each, then
deployed with a shared plan that sets each connection's URL, so every integration goes the whole
way: look at the target, import, configure its connection, test it, activate, poll.

The ideal is the critical path: the token and the first request, then for each round of
max-workers integrations the requests one integration makes that are not polls, plus the
activation time and the one poll that finds it done. Whatever the client adds (its start-up,
waiting between polls, serialising) shows in the ratio.
A benchmark, not a test: timings are printed, never asserted.
"""

from __future__ import annotations

import math
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

TARGET = 1.5


def generate(root: Path, count: int) -> list[str]:
    conns = [f"DEPLOY_CONN_{i:02d}" for i in range(count)]
    for i, conn in enumerate(conns):
        write_integration(root / f"int{i:02d}", f"DEPLOY_{i:02d}", [conn])
    return conns


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--runs", type=int, default=1, help="timed deploys per worker count")
    ap.add_argument("--count", type=int, default=20, help="integrations (20)")
    ap.add_argument("--latency", type=float, default=0.1, help="stand-in seconds per request")
    ap.add_argument("--activation", type=float, default=1.0, help="seconds an activation takes")
    ap.add_argument("--workers", type=numbers, default="1,4", help="max-workers values (1,4)")
    args = ap.parse_args(argv)

    oic = standin_module()
    env = clean_env()
    with cli_run("bench_deploy_") as work:
        conns = generate(work / "src", args.count)
        build = [sys.executable, str(ENTRYPOINT), "--integration-path", "src/*"]
        run_timed([*build, "--artifact-dir", "art", "--manage-connections", "false"], work, env)
        plan = work / "prod.properties"
        plan.write_text(
            "".join(f"{c}.connection.Connection URL=https://prod.example/{c}/\n" for c in conns)
        )

        def once(w: int) -> tuple[float, dict[str, int]]:
            with serving(args.latency, conns) as target:
                target.state.deploy.activation_seconds = args.activation
                cmd = [sys.executable, str(ENTRYPOINT), "deploy", "--artifact-path", "art"]
                cmd += ["--connection-plan", str(plan), "--max-workers", str(w)]
                cmd += server_flags(target)
                wall = run_timed(cmd, work, env)
                active = sum(1 for i in target.state.deploy.integrations.values()
                             if i.status == "ACTIVATED")  # fmt: skip
                if active != args.count:
                    raise SystemExit(f"{active} of {args.count} integrations activated")
                counts = {"all": 0, "polls": 0, "fixed": 0}
                for (_method, path), n in target.state.counts.items():
                    counts["all"] += n
                    if path.endswith("/activationStatus"):
                        counts["polls"] += n
                    elif path == oic.TOKEN_PATH or path.endswith("/connections"):
                        counts["fixed"] += n  # the token and the first request
                return wall, counts

        results: dict[int, tuple[float, dict[str, int], float]] = {}
        for w in args.workers:
            times = []
            for _ in range(args.runs):
                wall, counts = once(w)
                times.append(wall)
            per = (counts["all"] - counts["polls"] - counts["fixed"]) / args.count
            results[w] = (statistics.median(times), counts, per)
        print("| max-workers | wall s | requests | polls | requests per integration |")
        print("|---:|---:|---:|---:|---:|")
        for w, (wall, counts, per) in results.items():
            print(f"| {w} | {wall:.2f} | {counts['all']} | {counts['polls']} | {per:.1f} + polls |")
        for w, (wall, counts, per) in results.items():
            path = per * args.latency + args.activation + args.latency  # + the poll that sees it
            rounds = math.ceil(args.count / w)
            ideal = counts["fixed"] * args.latency + rounds * path
            figure(
                f"deploy {args.count} integrations, max-workers {w}",
                f"{wall * 1000:.0f} ms",
                f"ideal {ideal * 1000:.0f} ms ({counts['fixed']} x {args.latency * 1000:.0f} ms"
                f" + {rounds} x ({per:.0f} requests + 1 poll x {args.latency * 1000:.0f} ms"
                f" + {args.activation:g} s activation))",
                wall / ideal,
                TARGET,
                f"{counts['polls']} polls in all; median of {args.runs}; start-up included",
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
