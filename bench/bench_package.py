"""Packaging benchmark: oic-build's packaging (SourceTree + write_iar, what a build does) vs
`zip -r -X -6 -q` on the same generated 2,000-file / ~50 MB icspackage tree (bench/gen_tree.py),
and reading metadata from that 50 MB .iar vs extracting it whole.

Run from the repository root:

    .venv/bin/python bench/bench_package.py [--repeats 7] [--keep DIR]

Needs Info-ZIP's `zip` (Debian: `apt-get install zip`). A benchmark, not a test: timings are
printed, never asserted. Exits 1 if the archive differs between runs or worker counts, 2 if
`zip` is missing. Runs are interleaved (ours, zip, old loop, ...) so background load hits all of
them alike; the load average is printed before and after: re-run when it is high.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # oicaction without installing

from common import load, machine  # this folder is on sys.path when run as a script
from gen_tree import generate

from oicaction.source.iar import IarFile
from oicaction.source.package import COMPRESS_LEVEL, FILE_MODE, FIXED_DATE, write_iar
from oicaction.source.tree import SourceTree


def cpu_seconds() -> float:
    """CPU used so far by this process (all threads) and its waited-for children (zip)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], object], cpu: list[float] | None = None) -> float:
    """Wall seconds of fn(); its CPU seconds are appended to `cpu` when given."""
    cpu_start = cpu_seconds()
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    if cpu is not None:
        cpu.append(cpu_seconds() - cpu_start)
    return wall


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times):.3f} s, min {min(times):.3f} s"


def old_zipfile_loop(root: Path, dest: Path) -> None:
    """The writer before this change (a plain zipfile loop), kept here as a reference point."""
    with zipfile.ZipFile(dest, "w", compresslevel=COMPRESS_LEVEL, allowZip64=True) as zf:
        for entry in SourceTree(root).entries:
            info = zipfile.ZipInfo(entry.name, date_time=FIXED_DATE)
            info.create_system = 3
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = entry.size
            with entry.path.open("rb") as src, zf.open(info, "w") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7, help="timed runs of each (default 7)")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it (default: temp)")
    ap.add_argument("--no-old", action="store_true", help="skip the old zipfile loop reference")
    args = ap.parse_args(argv)

    zip_exe = shutil.which("zip")
    if zip_exe is None:
        print("zip not found: install Info-ZIP zip (Debian: apt-get install zip)", file=sys.stderr)
        return 2

    print(machine())
    print(f"before: {load()}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_package_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run(work, zip_exe, args.repeats, not args.no_old)
    finally:
        print(f"after: {load()}")
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, zip_exe: str, repeats: int, with_old: bool) -> int:
    tree_dir = work / "tree"
    if not (tree_dir / "icspackage").is_dir():
        gen = timed(lambda: generate(tree_dir))
        print(f"generated tree in {gen:.1f} s")
    root = tree_dir / "icspackage"
    files = [p for p in root.rglob("*") if p.is_file()]
    raw = sum(p.stat().st_size for p in files)
    print(f"tree: {len(files)} files, {raw / 1e6:.1f} MB in {root}")

    ours_out, zip_out, old_out = work / "ours.iar", work / "zip.zip", work / "old.iar"

    def ours(dest: Path = ours_out, workers: int | None = None) -> None:
        write_iar(SourceTree(root).entries, dest, max_workers=workers)

    def zip_cli() -> None:
        zip_out.unlink(missing_ok=True)  # zip would update an existing archive
        cmd = [zip_exe, "-r", "-X", f"-{COMPRESS_LEVEL}", "-q", str(zip_out), "icspackage"]
        subprocess.run(cmd, cwd=tree_dir, check=True)

    def old() -> None:
        old_zipfile_loop(root, old_out)

    contenders: dict[str, Callable[[], None]] = {"oic-build": ours, "zip": zip_cli}
    if with_old:
        contenders["old zipfile loop"] = old
    for fn in contenders.values():  # warm the page cache and the code paths
        fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    digests: set[str] = set()
    for i in range(repeats):
        order = list(contenders.items())
        if i % 2:
            order.reverse()
        for name, fn in order:
            times[name].append(timed(fn, cpu[name]))
            if name == "oic-build":
                digests.add(hashlib.sha256(ours_out.read_bytes()).hexdigest())
    for name, t in times.items():
        print(f"  {name:17} {summary(t)}; CPU median {statistics.median(cpu[name]):.3f} s")

    one_worker = work / "ours-1-worker.iar"
    ours(one_worker, workers=1)
    digests.add(hashlib.sha256(one_worker.read_bytes()).hexdigest())

    med = {name: statistics.median(t) for name, t in times.items()}
    best = {name: min(t) for name, t in times.items()}
    size = ours_out.stat().st_size / zip_out.stat().st_size
    print(
        f"packaging: oic-build {med['oic-build']:.3f} s vs zip {med['zip']:.3f} s = "
        f"{med['oic-build'] / med['zip']:.2f}x wall (median of {repeats}); size {size:.3f}x "
        f"({ours_out.stat().st_size:,} vs {zip_out.stat().st_size:,} bytes)"
    )
    print(
        f"packaging (best runs): oic-build {best['oic-build']:.3f} s vs zip {best['zip']:.3f} s = "
        f"{best['oic-build'] / best['zip']:.2f}x wall"
    )
    if with_old:
        old_size = old_out.stat().st_size / zip_out.stat().st_size
        print(
            f"reference: old zipfile loop {med['old zipfile loop']:.3f} s = "
            f"{med['old zipfile loop'] / med['zip']:.2f}x zip's wall; size {old_size:.3f}x"
        )

    with zipfile.ZipFile(ours_out) as zf:
        bad = zf.testzip()
        stored = sum(1 for i in zf.infolist() if i.compress_type == zipfile.ZIP_STORED)
        count = len(zf.infolist())
    print(f"check: {count} entries, {stored} stored, CRCs {'OK' if bad is None else 'BAD ' + bad}")
    identical = len(digests) == 1
    print(
        f"deterministic: {'byte-identical' if identical else 'DIFFERENT'} across "
        f"{repeats} runs and a 1-worker run (sha256 {sorted(digests)[0][:16]})"
    )

    out_dir = work / "extracted"

    def read_meta() -> None:
        with IarFile(ours_out) as iar:
            iar.metadata()

    def extract() -> None:
        with zipfile.ZipFile(ours_out) as zf:
            zf.extractall(out_dir)

    meta_times, extract_times = [], []
    for _ in range(repeats):
        meta_times.append(timed(read_meta))
        shutil.rmtree(out_dir, ignore_errors=True)
        extract_times.append(timed(extract))
    shutil.rmtree(out_dir, ignore_errors=True)
    m, x = statistics.median(meta_times), statistics.median(extract_times)
    print(
        f"metadata: IarFile.metadata() {m * 1000:.1f} ms vs full extraction (extractall) "
        f"{x * 1000:.0f} ms = {m / x:.3f}x on a {ours_out.stat().st_size / 1e6:.1f} MB .iar "
        f"({raw / 1e6:.1f} MB unpacked; median of {repeats})"
    )
    if not (bad is None and identical):
        print("FAIL: output differs between runs or has a bad CRC", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
