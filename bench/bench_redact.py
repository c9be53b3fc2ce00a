"""Redaction on 10 MB of hostile text: each of the three uses of the run's secrets.

    .venv/bin/python bench/bench_redact.py [--size-mb 10] [--repeats 3]

The secrets are those of a real run: a password with punctuation, a client secret, a 1,200-
character access token and the base64 of user:password. The texts are built to cost the most:
every line the first 8 characters of the password (a cut, masked, in a line people read), every
line starting with them (a false start), one 10 MB line of false starts, every line the whole
password. Each is run through `Redactor.text` (log lines, outputs, summary), `Redactor.record`
(build-info.json, connections.json) and `Redactor.find_line` (lookups, attachments, the plan,
which are never edited), against the same size of ordinary CSV, and at a tenth of the size, so
that the ratio says whether the work is linear (10x the text: 10x the time). Best of --repeats,
in CPU seconds of this process (wall seconds printed beside them): on a shared machine other
processes' load stretches wall time, not the work done.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from common import figure, load, machine, parser

from oicaction.redact import Redactor  # installed by scripts/setup.sh

PASSWORD = 'Hunter2/+ &="<x>\\-long-secret-0a9f'
CLIENT_SECRET = "4f1c2b9e-77aa-4c1d-9e0f-5a6b7c8d9e0f"
TOKEN = "eyJhbGciOiJSUzI1NiJ9." + "aB3-" * 295
TEXTS = {
    "ordinary CSV": "DE,Germany,Berlin,some value here,2024-05-01\n",
    "every line a cut": PASSWORD[:8] + "\n",
    "every line a false start": PASSWORD[:8] + ",Basic value,other\n",
    "one line of false starts": PASSWORD[:9],
    "every line the password": PASSWORD + "\n",
}


def best(repeats: int, work: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of the run with the least CPU time."""
    times = []
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        work()
        times.append((time.process_time() - cpu, time.perf_counter() - wall))
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--size-mb", type=float, default=10.0, help="size of each text (default 10)")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many runs (default 3)")
    args = ap.parse_args(argv)
    print(machine())
    print(f"start: {load()}")
    redactor = Redactor([PASSWORD, CLIENT_SECRET, TOKEN])
    redactor.add_credentials("deploy-bot", PASSWORD)
    size = int(args.size_mb * 1_000_000)
    uses: dict[str, Callable[[str, bytes], object]] = {
        "text": lambda text, _: redactor.text(text),
        "record": lambda text, _: redactor.record(text),
        "find_line": lambda _, data: redactor.find_line(data),
    }
    timings: dict[tuple[str, str, int], float] = {}
    for name, unit in TEXTS.items():
        for n in (size, size // 10):
            text = unit * (n // len(unit))
            data = text.encode()
            for use, run in uses.items():
                took, wall = best(
                    args.repeats, lambda run=run, text=text, data=data: run(text, data)
                )
                timings[(name, use, n)] = took
                print(
                    f"{use:9} {name:26} {n / 1e6:5.1f} MB  {took:7.3f} s CPU ({wall:.3f} s wall)",
                    flush=True,
                )
    mb = f"{size / 1e6:g} MB"
    for use in uses:
        plain = timings[("ordinary CSV", use, size)]
        worst_name = max(TEXTS, key=lambda t: timings[(t, use, size)])
        worst = timings[(worst_name, use, size)]
        figure(
            f"redaction `{use}`, {mb} of the worst text ({worst_name})",
            f"{worst:.3f} s CPU",
            f"{mb} of ordinary CSV {plain:.3f} s",
            worst / plain,
            None,
        )
        small = timings[(worst_name, use, size // 10)]
        figure(
            f"redaction `{use}` linear, {mb} vs 10 x {size / 1e7:g} MB ({worst_name})",
            f"{worst:.3f} s",
            f"10 x {small:.3f} s",
            worst / (10 * small),
            1.5,
        )
    print(f"end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
