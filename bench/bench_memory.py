"""Memory benchmark (issue 18, item 11): the peak RSS of a whole CLI build that exports one
connection with N attachments of S MiB each from the OIC stand-in, against the same build with
one attachment: a build's memory must not grow with the number (or total size) of answers.

Run from the repository root:

    .venv/bin/python bench/bench_memory.py [--attachments 20] [--mib 60]
        [--bodies 6 --body-mib 37]

Each build is a whole process whose own peak RSS (VmHWM, Linux) is the figure; the
stand-in runs in this process and serves one shared buffer for every attachment. Then a build
whose connection answer is 1 GiB without Content-Length (refused at max-response-size). `--bodies B
--body-mib M` adds a second measurement: B connections whose JSON bodies are M MiB each (a huge
`securityPolicyInfo`, which the export drops), against one such connection.
A benchmark, not a test: figures are printed, never asserted (tests/test_memory.py holds a
generous bound).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import (
    REPO,
    clean_env,
    cli_run,
    connection_body,
    figure,
    parser,
    server_flags,
    serving,
    write_integration,
)

# The child reports its own peak RSS after the build: VmHWM (KiB) of its memory map, which starts
# afresh at exec (getrusage's ru_maxrss keeps the forking parent's peak on Linux).
CHILD = (
    "import re, sys\n"
    f"sys.path.insert(0, {str(REPO)!r})\n"
    "from oicaction.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "status = open('/proc/self/status').read()\n"
    "print('MAXRSS', re.search(r'VmHWM:\\s*(\\d+)', status)[1], file=sys.stderr)\n"
    "sys.exit(code)\n"
)
TARGET = 1.25  # N answers may cost at most a quarter more than one


def with_attachments(conn_id: str, count: int) -> dict[str, object]:
    body = connection_body(conn_id)
    props = body["connectionProperties"]
    assert isinstance(props, list)
    for i in range(count):
        props.append(
            {
                "displayName": f"Schema {i}",
                "propertyName": f"schemaFile{i:02d}",
                "propertyType": "URL_OR_FILE",
                "propertyValue": f"schema{i}.xsd",
                "hasAttachment": True,
            }
        )
    return body


def with_big_body(conn_id: str, mib: int) -> dict[str, object]:
    body = connection_body(conn_id)
    entry = {"securityPolicy": "AWS_SIGNATURE_VERSION4", "regions": ["us-east-1"] * 20}
    size = len(str(entry))
    body["securityPolicyInfo"] = [entry] * (mib * 1024 * 1024 // size)
    return body


def peak_rss(source: Path, work: Path, flags: list[str], exit_code: int = 0) -> int:
    """Peak RSS in MiB of one build process (which must end with `exit_code`)."""
    shutil.rmtree(work / "out", ignore_errors=True)
    cmd = [sys.executable, "-c", CHILD, "--integration-path", str(source)]
    cmd += ["--artifact-dir", "out", "--manage-lookups", "false", *flags]
    done = subprocess.run(cmd, cwd=work, env=clean_env(), capture_output=True, text=True)
    if done.returncode != exit_code:
        raise SystemExit(f"build ended with exit {done.returncode}:\n{done.stderr[-3000:]}")
    [line] = [x for x in done.stderr.splitlines() if x.startswith("MAXRSS ")]
    return int(line.split()[1]) // 1024


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--attachments", type=int, default=20, help="attachments (20)")
    ap.add_argument("--mib", type=int, default=60, help="MiB per attachment (60)")
    ap.add_argument("--bodies", type=int, default=0, help="big connection bodies (0: skip)")
    ap.add_argument("--body-mib", type=int, default=37, help="MiB per connection body (37)")
    args = ap.parse_args(argv)
    with cli_run("bench_memory_") as work, serving() as standin:
        flags = server_flags(standin)
        flags += ["--max-response-size", f"{max(64, args.mib + 1, 2 * args.body_mib)}M"]
        data = (b"<xsd:element name='x'/>\n" * (args.mib * 1024 * 1024 // 24 + 1))[
            : args.mib * 1024 * 1024
        ]
        rows = []
        for count in (1, args.attachments):
            conn = f"ATT_{count}"
            standin.add_connection(conn, with_attachments(conn, count))
            for i in range(count):
                standin.add_attachment(conn, f"schemaFile{i:02d}", data)
            source = write_integration(work / f"src{count}", f"BENCH_MEM_{count}", [conn])
            rows.append((count, peak_rss(source, work, flags)))
        offline = peak_rss(work / "src1", work, ["--manage-connections", "false"])
        print(f"offline build of the same integration: peak RSS {offline} MiB")
        for count, rss in rows:
            total = count * args.mib
            print(f"{count} attachment(s) of {args.mib} MiB ({total} MiB): peak {rss} MiB")
        (_, one), (n, many) = rows
        figure(
            f"peak RSS, {n} attachments of {args.mib} MiB",
            f"{many} MiB",
            f"1 attachment {one} MiB (offline build {offline} MiB)",
            many / one,
            TARGET,
        )
        # A 1 GiB answer without Content-Length: refused once past max-response-size.
        standin.add_connection("HUGE", connection_body("HUGE"))
        standin.fault("/connections/HUGE", "big-unsized", size=1 << 30)
        source = write_integration(work / "huge", "BENCH_HUGE", ["HUGE"])
        started = time.perf_counter()
        capped = [*server_flags(standin), "--max-response-size", "64M"]
        huge = peak_rss(source, work, capped, exit_code=1)
        took = time.perf_counter() - started
        print(f"a 1 GiB answer refused at max-response-size 64M: peak {huge} MiB, {took:.1f} s")
        figure(
            "peak RSS, a 1 GiB answer refused",
            f"{huge} MiB",
            f"offline build {offline} MiB + max-response-size 64 MiB",
            huge / (offline + 64),
            TARGET,
            f"whole build {took:.1f} s",
        )
        if args.bodies:
            rows = []
            for count in (1, args.bodies):
                conns = [f"BIG_{count}_{i}" for i in range(count)]
                for conn in conns:
                    standin.add_connection(conn, with_big_body(conn, args.body_mib))
                source = write_integration(work / f"big{count}", f"BENCH_BIG_{count}", conns)
                rows.append((count, peak_rss(source, work, flags)))
            for count, rss in rows:
                print(f"{count} connection(s) of {args.body_mib} MiB JSON: peak {rss} MiB")
            (_, one), (n, many) = rows
            figure(
                f"peak RSS, {n} connection bodies of {args.body_mib} MiB",
                f"{many} MiB",
                f"1 body {one} MiB",
                many / one,
                TARGET,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
