"""Packaging benchmark: oic-build's packaging (SourceTree + write_archive, what a build does) vs
`zip -r -X -6 -q` on the same generated 2,000-file / ~50 MB icspackage tree (bench/gen_tree.py),
and reading metadata from that 50 MB .iar vs extracting it whole.

Run from the repository root:

    .venv/bin/python bench/bench_package.py [--repeats 7] [--keep DIR]

Needs Info-ZIP's `zip` (Debian: `apt-get install zip`). A benchmark, not a test: timings are
printed, never asserted. Exits 1 if the archive differs between runs, 2 if `zip` is missing.
Runs are interleaved (ours, zip, previous, ...) so background load hits all of them alike; the
load average is printed before and after: re-run when it is high.

`--previous REV` also times the writer of an earlier commit (e.g. 8780633, the hand-written
parallel writer that the zipfile one replaced), on the tree and on every real archive of
../shared/fixtures (unzipped, then packed by each contender).
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
import types
import zipfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # oicaction without installing

from common import load, machine  # this folder is on sys.path when run as a script
from gen_tree import generate

from oicaction.source.iar import IarFile
from oicaction.source.metadata import read_metadata
from oicaction.source.package import COMPRESS_LEVEL, write_archive
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


def previous_writer(rev: str) -> Callable[[Path, Path], None]:
    """The archive writer as it was at git revision `rev` (write_archive, called write_iar
    before projects), loaded from `git show` as a module."""
    repo = Path(__file__).resolve().parents[1]
    for path in ("oicaction/source/package.py", "oicaction/package.py"):
        done = subprocess.run(
            ["git", "show", f"{rev}:{path}"], cwd=repo, capture_output=True, text=True
        )
        if done.returncode == 0:
            break
    else:
        raise SystemExit(f"no package.py at {rev}")
    code = done.stdout.replace("from .errors", "from oicaction.errors")
    code = code.replace("from ..errors", "from oicaction.errors")
    code = code.replace("from .tree", "from oicaction.source.tree")
    module = types.ModuleType(f"previous_package_{rev}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(code, f"{rev}:{path}", "exec"), module.__dict__)

    def write(root: Path, dest: Path) -> None:
        writer = getattr(module, "write_archive", None) or module.write_iar
        writer(SourceTree(root).entries, dest)

    return write


def real_archives(work: Path, zip_exe: str, previous: Callable[[Path, Path], None] | None) -> None:
    """Every real .iar of ../shared/fixtures unzipped and packed again: summed wall time."""
    shared = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
    iars = sorted(shared.rglob("*.iar"))
    if not iars:
        print(f"real archives: none found under {shared}")
        return
    trees = []
    for n, iar in enumerate(iars):
        folder = work / "real" / str(n)
        with zipfile.ZipFile(iar) as zf:
            zf.extractall(folder)
        trees.append(folder)
    contenders: dict[str, Callable[[Path, Path], None]] = {
        "oic-build": lambda root, dest: write_archive(SourceTree(root).entries, dest),
        "zip": lambda root, dest: subprocess.run(
            [zip_exe, "-r", "-X", f"-{COMPRESS_LEVEL}", "-q", str(dest), "icspackage"],
            cwd=root.parent,
            check=True,
        ),
    }
    if previous is not None:
        contenders["previous"] = previous
    totals: dict[str, list[float]] = {name: [] for name in contenders}
    sizes: dict[str, int] = {}
    for _ in range(7):
        for name, fn in contenders.items():
            start = time.perf_counter()
            size = 0
            for folder in trees:
                dest = folder.parent / f"{folder.name}-{name}.zip"
                dest.unlink(missing_ok=True)
                fn(folder / "icspackage", dest)
                size += dest.stat().st_size
            totals[name].append(time.perf_counter() - start)
            sizes[name] = size
    parts = [
        f"{name} {statistics.median(t) * 1000:.1f} ms ({sizes[name]:,} bytes)"
        for name, t in totals.items()
    ]
    print(
        f"real archives ({len(trees)}, packed one after another, median of 7): " + "; ".join(parts)
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7, help="timed runs of each (default 7)")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it (default: temp)")
    ap.add_argument("--previous", metavar="REV", help="also time the writer of git revision REV")
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
        previous = previous_writer(args.previous) if args.previous else None
        real_archives(work, zip_exe, previous)
        return run(work, zip_exe, args.repeats, previous)
    finally:
        print(f"after: {load()}")
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def run(
    work: Path, zip_exe: str, repeats: int, previous: Callable[[Path, Path], None] | None
) -> int:
    tree_dir = work / "tree"
    if not (tree_dir / "icspackage").is_dir():
        gen = timed(lambda: generate(tree_dir))
        print(f"generated tree in {gen:.1f} s")
    root = tree_dir / "icspackage"
    files = [p for p in root.rglob("*") if p.is_file()]
    raw = sum(p.stat().st_size for p in files)
    print(f"tree: {len(files)} files, {raw / 1e6:.1f} MB in {root}")

    ours_out, zip_out, old_out = work / "ours.iar", work / "zip.zip", work / "old.iar"

    def ours(dest: Path = ours_out) -> None:
        write_archive(SourceTree(root).entries, dest)

    def zip_cli() -> None:
        zip_out.unlink(missing_ok=True)  # zip would update an existing archive
        cmd = [zip_exe, "-r", "-X", f"-{COMPRESS_LEVEL}", "-q", str(zip_out), "icspackage"]
        subprocess.run(cmd, cwd=tree_dir, check=True)

    contenders: dict[str, Callable[[], None]] = {"oic-build": ours, "zip": zip_cli}
    if previous is not None:
        contenders["previous"] = lambda: previous(root, old_out)
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
    if previous is not None:
        old_size = old_out.stat().st_size / zip_out.stat().st_size
        same = old_out.read_bytes() == ours_out.read_bytes()
        print(
            f"reference: previous writer {med['previous']:.3f} s = "
            f"{med['previous'] / med['zip']:.2f}x zip's wall; size {old_size:.3f}x; "
            f"{'the same bytes as' if same else 'other bytes than'} oic-build's"
        )

    with zipfile.ZipFile(ours_out) as zf:
        bad = zf.testzip()
        stored = sum(1 for i in zf.infolist() if i.compress_type == zipfile.ZIP_STORED)
        count = len(zf.infolist())
    print(f"check: {count} entries, {stored} stored, CRCs {'OK' if bad is None else 'BAD ' + bad}")
    identical = len(digests) == 1
    print(
        f"deterministic: {'byte-identical' if identical else 'DIFFERENT'} across "
        f"{repeats} runs (sha256 {sorted(digests)[0][:16]})"
    )

    out_dir = work / "extracted"

    def read_meta() -> None:
        with IarFile(ours_out) as iar:
            read_metadata(iar.entry_names, iar.read, str(ours_out))

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
        f"metadata: read_metadata on an IarFile {m * 1000:.1f} ms vs full extraction (extractall) "
        f"{x * 1000:.0f} ms = {m / x:.3f}x on a {ours_out.stat().st_size / 1e6:.1f} MB .iar "
        f"({raw / 1e6:.1f} MB unpacked; median of {repeats})"
    )
    if not (bad is None and identical):
        print("FAIL: output differs between runs or has a bad CRC", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
