"""Pull benchmark: N integrations exported from the OIC stand-in (tests/oic_standin.py) into a
repository folder through the CLI (`oic-build pull --integrations PULL_0000,...`), with a latency
per request as a real OIC has. Figures: max-workers 4 vs 1 (target, at the largest N, where the
fixed start-up, token and list no longer dominate: at most 0.4x); the requests counted at the
server (target: one per archive, one per list page of 100, the token and the first request);
and a second pull of the same N, which finds every folder unchanged and writes nothing.

Run from the repository root:

    .venv/bin/python bench/bench_pull.py [--sizes 50,200] [--latency 0.05]

Integration i is the bundled example under a new code, packed as OIC would export it. Each pull
is one whole process with OAuth client credentials; the stand-in runs in this process. A
benchmark, not a test: timings are printed, never asserted.
"""

from __future__ import annotations

import io
import shutil
import sys
import zipfile
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
    write_integration,
)

SPEEDUP_TARGET = 0.4


def exported(work: Path, code: str) -> bytes:
    folder = write_integration(work / "gen" / code, code, ["HELLO_REST_TRIGGER"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((folder / "icspackage").rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    shutil.rmtree(folder)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument(
        "--sizes", type=numbers, default="50,200", help="integrations per pull (50,200)"
    )
    ap.add_argument("--latency", type=float, default=0.05, help="stand-in seconds per request")
    args = ap.parse_args(argv)
    sizes = sorted(args.sizes)

    env = clean_env()
    with cli_run("bench_pull_") as work, serving(args.latency) as standin:
        for i in range(max(sizes)):
            code = f"PULL_{i:04d}"
            standin.add_integration(f"{code}|01.00.0000", exported(work, code))
        flags = server_flags(standin)

        def pull(n: int, workers: int, fresh: bool = True) -> tuple[float, int]:
            if fresh:
                shutil.rmtree(work / "repo", ignore_errors=True)
            before = standin.total_requests
            select = ",".join(f"PULL_{i:04d}" for i in range(n))
            cmd = [sys.executable, str(ENTRYPOINT), "pull", "--integrations", select]
            cmd += ["--integration-path", "repo", "--max-workers", str(workers), *flags]
            wall = run_timed(cmd, work, env)
            if len(list((work / "repo").iterdir())) != n:
                raise SystemExit(f"a pull of {n} did not write {n} folders")
            return wall, standin.total_requests - before

        pull(sizes[0], 4)  # warm-up
        print("| integrations | max-workers 1 | max-workers 4 | again, unchanged | requests |")
        print("|---:|---:|---:|---:|---:|")
        for n in sizes:
            one, _ = pull(n, 1)
            four, requests = pull(n, 4)
            again, _ = pull(n, 4, fresh=False)
            print(f"| {n} | {one:.2f} s | {four:.2f} s | {again:.2f} s | {requests} |")
            pages = -(-max(sizes) // 100)  # the list is read whole: every integration held
            wanted = n + pages + 2
            figure(
                f"pull requests at the server, {n} integrations",
                f"{requests} requests",
                f"{wanted} ({n} archives + {pages} list pages + token + first request)",
                requests / wanted,
                1.0,
            )
            figure(
                f"pull of {n} with max-workers 4 vs 1 ({args.latency * 1000:g} ms a request)",
                f"{four:.2f} s",
                f"{one:.2f} s",
                four / one,
                SPEEDUP_TARGET if n == max(sizes) else None,
                f"a second pull, all unchanged: {again:.2f} s",
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
