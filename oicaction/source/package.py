"""Pack a SourceTree into a deterministic archive (an .iar, or a project's .car) with zipfile:
sorted entries, fixed time and mode, `/` paths, so the same source gives the same bytes on every
run and every machine.

Data that deflate does not shrink is stored (tiny files, already-compressed binaries), as zip
itself does. Files of up to SAMPLE_BYTES are tried in memory; a larger one is deflated unless its
first SAMPLE_BYTES look like compressed binary data, and in the rare case it still grows, the
archive is written once more with it stored. So each file is deflated once, and the choice,
which depends on content only, is the one the earlier hand-written writer made.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO
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


def _looks_compressed(head: bytes) -> bool:
    """Binary (a NUL in the sample) and the sample does not shrink: see SAMPLE_BYTES."""
    sample = head[:SAMPLE_BYTES]
    return b"\0" in sample and len(_deflated(sample)) >= len(sample)


def _info(entry: Entry, method: int) -> ZipInfo:
    info = ZipInfo(entry.name, date_time=FIXED_DATE)
    info.create_system = 3  # unix, so external_attr carries the mode
    info.external_attr = FILE_MODE << 16
    info.compress_type = method
    info.file_size = entry.size
    return info


def _unreadable(entry: Entry, exc: OSError) -> SourceError:
    return SourceError(f"{entry.path}: unreadable ({exc.strerror})", file=entry.path)


def _write_small(zf: ZipFile, entry: Entry) -> None:
    try:
        data = entry.path.read_bytes()
    except OSError as exc:
        raise _unreadable(entry, exc) from None
    method = ZIP_DEFLATED if len(_deflated(data)) < len(data) else ZIP_STORED
    zf.writestr(_info(entry, method), data)


def _read(src: BinaryIO, entry: Entry, size: int) -> bytes:
    try:
        return src.read(size)
    except OSError as exc:
        raise _unreadable(entry, exc) from None


def _write_large(zf: ZipFile, entry: Entry, store: bool) -> bool:
    """Stream one large file; True when it was deflated and did not shrink."""
    try:
        src = entry.path.open("rb")
    except OSError as exc:
        raise _unreadable(entry, exc) from None
    with src:
        chunk = _read(src, entry, _CHUNK)
        method = ZIP_STORED if store or _looks_compressed(chunk) else ZIP_DEFLATED
        info = _info(entry, method)
        with zf.open(info, "w", force_zip64=entry.size > ZIP64_LIMIT) as out:
            while chunk:
                out.write(chunk)
                chunk = _read(src, entry, _CHUNK)
    return method == ZIP_DEFLATED and info.compress_size >= info.file_size


def _write(entries: Sequence[Entry], dest: Path, stored: set[str]) -> set[str]:
    """One pass; returns the large entries that deflated to no gain."""
    grew: set[str] = set()
    with ZipFile(dest, "w", compresslevel=COMPRESS_LEVEL, allowZip64=True) as zf:
        for entry in entries:
            if entry.size <= SAMPLE_BYTES:
                _write_small(zf, entry)
            elif _write_large(zf, entry, entry.name in stored):
                grew.add(entry.name)
    return grew


def write_archive(entries: Sequence[Entry], dest: Path) -> None:
    """Write `entries` (already sorted, named under their archive root) to `dest` as a zip.

    On failure `dest` is removed, so no partial archive is left to be mistaken for a build.
    """
    try:
        grew = _write(entries, dest, set())
        if grew:
            _write(entries, dest, grew)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
