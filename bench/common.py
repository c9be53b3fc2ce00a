"""Shared by the bench/ scripts: the machine line, the load average, the one figure format that
bench/run_all.py collects, clean environments for whole-process runs, and generated integrations.

Every figure is printed as one line

    FIGURE <name>: <value> vs <reference> = <ratio>x (target <= <target>x) met|MISSED

where the reference was measured in the same run; run_all.py gathers these lines into its table.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "fixtures"
REAL_SAMPLE = (
    SHARED / "real" / "oracle-livelabs__oic" / "SUBSCIRB_PO_DETAILS_SYNC_01.00.0000.iar.unzipped"
)
EXAMPLE = REPO / "examples" / "hello-world"
ENTRYPOINT = REPO / "entrypoint.py"
TESTS = REPO / "tests"

# Variables that would change what a build does (inputs, CI provenance, the .env file).
_DROP_PREFIXES = ("INPUT_", "OIC_", "GITHUB_", "CI_", "GIT_", "BUILD_", "PYDANTIC_")


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return (
        f"machine: {model}; {os.cpu_count()} cores ({usable} usable); "
        f"Python {platform.python_version()} ({sys.executable}); "
        f"zlib {zlib.ZLIB_RUNTIME_VERSION}; {platform.system()} {platform.release()}"
    )


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def figure(
    name: str,
    value: str,
    reference: str,
    ratio: float,
    target: float | None,
    note: str = "",
) -> bool:
    """Print one figure line; returns whether the target is met (True without a target)."""
    met = target is None or ratio <= target
    goal = f" (target <= {target:g}x)" if target is not None else " (no target)"
    verdict = "" if target is None else (" met" if met else " MISSED")
    tail = f"; {note}" if note else ""
    print(f"FIGURE {name}: {value} vs {reference} = {ratio:.2f}x{goal}{verdict}{tail}", flush=True)
    return met


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without inputs, OIC_ settings or CI variables: an offline local build
    (provenance read from git, as on a developer's machine or a CI that sets none of them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_PREFIXES)}
    env.update(extra)
    return env


def run_timed(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall seconds of one whole process; its output is checked, not shown."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"command failed (exit {done.returncode}): {' '.join(map(str, cmd))}\n"
            f"{done.stderr[-3000:]}"
        )
    return wall


def median_ms(times: Sequence[float]) -> str:
    return f"{statistics.median(times) * 1000:.0f} ms"


def interleaved(
    runs: int, contenders: dict[str, Callable[[], float]], before: Callable[[], None] | None = None
) -> dict[str, list[float]]:
    """Time each contender `runs` times, alternating their order so background load and cache
    effects hit all of them alike; one untimed warm-up run each first."""
    for fn in contenders.values():
        if before:
            before()
        fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for i in range(runs):
        order = list(contenders.items())
        if i % 2:
            order.reverse()
        for name, fn in order:
            if before:
                before()
            times[name].append(fn())
    return times


def precompile() -> None:
    """Bytecode for oicaction/ as `pip install` and the image make it: a stale __pycache__
    (PYTHONDONTWRITEBYTECODE is set on some machines) would time the compiler, not the build."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "oicaction")],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )


# -- generated integrations ---------------------------------------------------------------------

_APPINSTANCE_XML = """<?xml version = '1.0' encoding = 'UTF-8'?>
<ns2:ApplicationInstance xmlns:ns2="http://xmlns.oracle.com/adapters/cloud">
  <instanceCode>{code}</instanceCode>
  <displayName>{code}</displayName>
  <applicationTypeRef>rest</applicationTypeRef>
  <securityPolicy>BASIC_AUTH</securityPolicy>
  <revision>01.00.0000</revision>
  <status>CONFIGURED</status>
</ns2:ApplicationInstance>
"""


def write_integration(
    dest: Path, code: str, connections: Sequence[str], version: str = "01.00.0000"
) -> Path:
    """The bundled example (examples/hello-world) as integration `code`, its appinstances/
    listing `connections` instead of the example's one."""
    pkg = dest / "icspackage"
    project = pkg / "project" / f"{code}_{version}"
    (project / "PROJECT-INF").mkdir(parents=True, exist_ok=True)
    example = EXAMPLE / "icspackage" / "project" / "HELLO_WORLD_01.00.0000"
    for src in example.rglob("*"):
        if src.is_file():
            out = project / src.relative_to(example)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(src.read_bytes())
    xml = project / "PROJECT-INF" / "project.xml"
    text = xml.read_text(encoding="utf-8")
    text = text.replace("<projectCode>HELLO_WORLD<", f"<projectCode>{code}<")
    text = text.replace("<projectVersion>01.00.0000<", f"<projectVersion>{version}<")
    xml.write_text(text, encoding="utf-8")
    apps = pkg / "appinstances"
    apps.mkdir(parents=True, exist_ok=True)
    for conn in connections:
        (apps / f"{conn}.xml").write_text(_APPINSTANCE_XML.format(code=conn))
    return dest


def connection_body(conn_id: str) -> dict[str, object]:
    """A REST connection as OIC returns it (shape of the recorded Gen2 bodies), one secret."""
    return {
        "id": conn_id,
        "name": conn_id.replace("_", " ").title(),
        "adapterType": {"name": "rest", "displayName": "REST", "type": "PREINSTALLED"},
        "role": "INVOKE",
        "securityPolicy": "BASIC_AUTH",
        "status": "CONFIGURED",
        "lastUpdated": "2024-05-01T10:00:00.000+0000",
        "connectionProperties": [
            {
                "displayName": "Connection URL",
                "propertyGroup": "CONNECTION_PROPS",
                "propertyName": "connectionUrl",
                "propertyType": "URL",
                "propertyValue": f"https://{conn_id.lower()}.example.com/api/",
                "requiredFlag": True,
            },
            {
                "displayName": "Connection Type",
                "propertyGroup": "CONNECTION_PROPS",
                "propertyName": "connectionType",
                "propertyType": "CHOICE",
                "propertyValue": "restUrl",
                "requiredFlag": True,
            },
        ],
        "securityProperties": [
            {
                "displayName": "Username",
                "propertyGroup": "CREDENTIALS",
                "propertyName": "username",
                "propertyType": "STRING",
                "propertyValue": "integration.user",
            },
            {
                "displayName": "Password",
                "propertyGroup": "CREDENTIALS",
                "propertyName": "password",
                "propertyType": "PASSWORD",
                "propertyValue": "",
            },
        ],
    }


def standin_module():  # tests/oic_standin.py, imported from the tests folder
    """The OIC stand-in module of the tests (standard library only)."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import oic_standin

    return oic_standin


def server_flags(standin: Any) -> list[str]:
    """The CLI's connection settings for a running stand-in (its client credentials)."""
    oic = standin_module()
    return [
        "--oic-url",
        standin.url,
        "--token-url",
        standin.token_url,
        "--client-id",
        oic.CLIENT_ID,
        "--client-secret",
        oic.CLIENT_SECRET,
        "--scope",
        oic.SCOPE,
    ]


def serving(delay: float = 0.0, connections: Sequence[str] = ()) -> Any:
    """A stand-in answering every request after `delay` seconds and serving `connections`
    (connection_body each); start it with `with`."""
    target = standin_module().StandIn(delay=delay)
    for conn in connections:
        target.add_connection(conn, connection_body(conn))
    return target


# -- the frame of a CLI benchmark ---------------------------------------------------------------


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The arguments of a benchmark, its docstring as --help."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)


def numbers(text: str) -> list[int]:
    """A comma-separated list of integers (an argument such as --workers 1,4)."""
    return [int(n) for n in text.split(",")]


@contextmanager
def cli_run(prefix: str) -> Iterator[Path]:
    """The machine and load lines, bytecode compiled (precompile), and a scratch folder that is
    removed, with the load line after, however the benchmark ends."""
    print(machine())
    print(f"before: {load()}")
    precompile()
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        print(f"after: {load()}")
