"""Pack a SourceTree into a deterministic archive (an .iar, or a project's .car) with zipfile:
sorted entries, fixed time and mode, `/` paths, so the same source gives the same bytes on every
run and every machine.

Data that deflate does not shrink is stored, as zip itself does. Each file is deflated once: a
small one in memory to choose; a large one unless its start looks like compressed binary data,
and in the rare case it still grows, the archive is written once more with it stored.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZIP_STORED, ZipFile, ZipInfo

from ..errors import SourceError
from .tree import Entry

FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say
FILE_MODE = 0o100644  # regular file, rw-r--r--
COMPRESS_LEVEL = 6
# Files up to this size are deflated in memory to choose. A larger file whose first SAMPLE_BYTES
# hold a NUL (binary, as git and grep judge) and do not deflate smaller is stored without
# trying: jar, png and zip data deflate slowly, to nothing.
SAMPLE_BYTES = 4 * 1024
ZIP64_LIMIT = (1 << 31) - 1  # as zipfile: a larger entry needs ZIP64 fields
_CHUNK = 1024 * 1024


def _deflated(data: bytes) -> bytes:
    return zlib.compress(data, COMPRESS_LEVEL, wbits=-15)


@contextmanager
def _reading(entry: Entry) -> Iterator[None]:
    """A source file that cannot be read is this source's error; a write error stays one."""
    try:
        yield
    except OSError as exc:
        raise SourceError(f"{entry.path}: unreadable ({exc.strerror})", file=entry.path) from None


def _write_entry(zf: ZipFile, entry: Entry, store: bool) -> bool:
    """Stream one file into the zip; True when it was deflated and did not shrink."""
    with _reading(entry):
        src = entry.path.open("rb")
    with src:
        with _reading(entry):
            chunk = src.read(_CHUNK)
        if entry.size <= SAMPLE_BYTES:
            deflate = len(_deflated(chunk)) < len(chunk)
        else:
            sample = chunk[:SAMPLE_BYTES]
            binary = b"\0" in sample and len(_deflated(sample)) >= len(sample)
            deflate = not (store or binary)
        info = ZipInfo(entry.name, date_time=FIXED_DATE)
        info.create_system = 3  # unix, so external_attr carries the mode
        info.external_attr = FILE_MODE << 16
        info.compress_type = ZIP_DEFLATED if deflate else ZIP_STORED
        info.file_size = entry.size
        with zf.open(info, "w", force_zip64=entry.size > ZIP64_LIMIT) as out:
            while chunk:
                out.write(chunk)
                with _reading(entry):
                    chunk = src.read(_CHUNK)
    return deflate and entry.size > SAMPLE_BYTES and info.compress_size >= info.file_size


def write_archive(entries: Sequence[Entry], dest: Path) -> None:
    """Write `entries` (already sorted, named under their archive root) to `dest` as a zip.
    On failure `dest` is removed, so no partial archive is left to be mistaken for a build."""
    stored: set[str] = set()  # large files that grew when deflated: written again, stored
    try:
        for _ in range(2):
            with ZipFile(dest, "w", compresslevel=COMPRESS_LEVEL, allowZip64=True) as zf:
                grew = [e.name for e in entries if _write_entry(zf, e, e.name in stored)]
            if not grew:
                return
            stored = set(grew)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
