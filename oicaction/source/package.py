"""Pack a SourceTree into a deterministic .iar: sorted entries, fixed time and mode, `/` paths,
so the same source gives the same bytes on every run and every machine.

Speed: files are read, checksummed and deflated on a thread pool (zlib and file reads release
the GIL, so every core works) and written strictly in entry order, so neither the worker count
nor scheduling can change a byte. Data that does not shrink is stored, not deflated. zipfile
cannot be handed data that is already compressed, so the container is written here, laid out
as zipfile lays it out (the same headers, version fields and ZIP64 rules): where every entry
shrinks, the archive is byte for byte what the previous zipfile-based writer produced.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import SourceError
from .tree import Entry

FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say
FILE_MODE = 0o100644  # regular file, rw-r--r--
COMPRESS_LEVEL = 6

# Files above this are streamed in _CHUNK pieces by the writing thread instead of being read
# whole by a worker, so a 500 MB file never sits in memory.
STREAM_THRESHOLD = 8 * 1024 * 1024
# A file longer than this whose first SAMPLE_BYTES hold a NUL (binary, as git and grep judge)
# and do not deflate smaller is stored without deflating the rest: already-compressed data
# (jar, png, zip) deflates at only ~40 MB/s, to nothing. Everything else is deflated whole and
# stored when that is not smaller. The rule reads content only, so it is deterministic.
SAMPLE_BYTES = 4 * 1024
# As zipfile: sizes and offsets above this, or more entries than the count limit, use ZIP64.
ZIP64_LIMIT = (1 << 31) - 1
ZIP64_COUNT_LIMIT = 0xFFFE  # 0xFFFF itself is the "see ZIP64" marker

_CHUNK = 1024 * 1024
# Bounded read-ahead: files being read or compressed but not yet written. Memory stays under
# about twice this (raw plus compressed), whatever the tree's size.
_WINDOW_BYTES = 32 * 1024 * 1024
_WINDOW_ENTRIES = 256

_STORED, _DEFLATED = 0, 8
_UTF8_FLAG = 0x800
_VERSION, _VERSION_ZIP64 = 20, 45
_UNIX = 3
_SIGNATURE_LOCAL = b"PK\x03\x04"
_SIGNATURE_CENTRAL = b"PK\x01\x02"
_LOCAL = struct.Struct("<4sHHHHHLLLHH")
_CENTRAL = struct.Struct("<4sBBHHHHHLLLHHHHHLL")
_END = struct.Struct("<4sHHHHLLH")
_END64 = struct.Struct("<4sQHHLLQQQQ")
_END64_LOCATOR = struct.Struct("<4sLQL")
_MARK32, _MARK16 = 0xFFFFFFFF, 0xFFFF


def _dos_time(y: int, mo: int, d: int, h: int, mi: int, s: int) -> tuple[int, int]:
    return (y - 1980) << 9 | mo << 5 | d, h << 11 | mi << 5 | s // 2


_DOS_DATE, _DOS_TIME = _dos_time(*FIXED_DATE)


def _unreadable(entry: Entry, exc: OSError) -> SourceError:
    return SourceError(f"{entry.path}: unreadable ({exc.strerror})", file=entry.path)


def _changed(entry: Entry) -> SourceError:
    return SourceError(f"{entry.path}: changed while being packaged", file=entry.path)


def _skip_deflate(head: bytes | bytearray, length: int) -> bool:
    """True when a file of `length` bytes that starts with `head` looks like compressed binary
    data, not worth deflating: see SAMPLE_BYTES."""
    if length <= SAMPLE_BYTES or head.find(0, 0, SAMPLE_BYTES) < 0:
        return False
    sample = memoryview(head)[:SAMPLE_BYTES]
    return len(zlib.compress(sample, COMPRESS_LEVEL, wbits=-15)) >= SAMPLE_BYTES


@dataclass(frozen=True)
class _Packed:
    """One file made ready by a worker: its CRC, raw size, method and archived bytes."""

    crc: int
    size: int
    method: int
    payload: bytes


def _pack(entry: Entry) -> _Packed:
    """Read and compress one small file (runs on a worker thread)."""
    try:
        data = entry.path.read_bytes()
    except OSError as exc:
        raise _unreadable(entry, exc) from None
    size = len(data)
    crc = zlib.crc32(data)
    if not _skip_deflate(data, size):
        packed = zlib.compress(data, COMPRESS_LEVEL, wbits=-15)
        if len(packed) < size:
            return _Packed(crc, size, _DEFLATED, packed)
    return _Packed(crc, size, _STORED, data)


def _encode(name: str) -> tuple[bytes, int]:
    """Name bytes and flag bits: plain ASCII, or UTF-8 marked with bit 11 (as zipfile does)."""
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8_FLAG


class _Reader:
    """Fills one reused buffer from a source file; read errors become SourceError."""

    def __init__(self, entry: Entry, src: BinaryIO, buf: bytearray) -> None:
        self.entry, self.src, self.view = entry, src, memoryview(buf)

    def next(self) -> int:
        try:
            return self.src.readinto(self.view)
        except OSError as exc:
            raise _unreadable(self.entry, exc) from None

    def rewind(self) -> int:
        try:
            self.src.seek(0)
        except OSError as exc:
            raise _unreadable(self.entry, exc) from None
        return self.next()


class _ZipWriter:
    """Appends entries to `out` in order and ends the archive with its central directory."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.offset = 0
        self.central: list[bytes] = []

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        self.out.write(data)
        self.offset += len(data)

    def _local_header(
        self, name: bytes, flags: int, method: int, crc: int, csize: int, size: int, zip64: bool
    ) -> bytes:
        extra = struct.pack("<HHQQ", 1, 16, size, csize) if zip64 else b""
        return (
            _LOCAL.pack(
                _SIGNATURE_LOCAL,
                _VERSION_ZIP64 if zip64 else _VERSION,
                flags,
                method,
                _DOS_TIME,
                _DOS_DATE,
                crc,
                _MARK32 if zip64 else csize,
                _MARK32 if zip64 else size,
                len(name),
                len(extra),
            )
            + name
            + extra
        )

    def _add_central(
        self, name: bytes, flags: int, method: int, crc: int, csize: int, size: int, offset: int
    ) -> None:
        big = [v for v in (size, csize, offset) if v > ZIP64_LIMIT]
        extra = struct.pack(f"<HH{len(big)}Q", 1, 8 * len(big), *big) if big else b""
        version = _VERSION_ZIP64 if big else _VERSION
        self.central.append(
            _CENTRAL.pack(
                _SIGNATURE_CENTRAL,
                version,
                _UNIX,
                version,
                flags,
                method,
                _DOS_TIME,
                _DOS_DATE,
                crc,
                _MARK32 if csize > ZIP64_LIMIT else csize,
                _MARK32 if size > ZIP64_LIMIT else size,
                len(name),
                len(extra),
                0,  # comment length
                0,  # disk
                0,  # internal attributes
                FILE_MODE << 16,
                _MARK32 if offset > ZIP64_LIMIT else offset,
            )
            + name
            + extra
        )

    def add(self, entry: Entry, packed: _Packed) -> None:
        """Write one entry whose bytes are all known."""
        name, flags = _encode(entry.name)
        csize = len(packed.payload)
        offset = self.offset
        zip64 = packed.size > ZIP64_LIMIT  # csize <= size: what does not shrink is stored
        args = (name, flags, packed.method, packed.crc, csize, packed.size)
        self._write(self._local_header(*args, zip64))
        self._write(packed.payload)
        self._add_central(*args, offset)

    def stream(self, entry: Entry) -> None:
        """Write one large entry in chunks, then patch its header with CRC and sizes."""
        name, flags = _encode(entry.name)
        zip64 = entry.size > ZIP64_LIMIT
        buf = bytearray(max(_CHUNK, SAMPLE_BYTES + 1))  # the first read decides as _pack does
        try:
            src = entry.path.open("rb")
        except OSError as exc:
            raise _unreadable(entry, exc) from None
        with src:
            reader = _Reader(entry, src, buf)
            n = reader.next()
            method = _STORED if _skip_deflate(buf, n) else _DEFLATED
            start = self.offset
            self._write(self._local_header(name, flags, method, 0, 0, 0, zip64))
            data_start = self.offset
            crc, size = self._copy(reader, n, method == _DEFLATED)
            if method == _DEFLATED and self.offset - data_start >= size:
                # Deflate did not shrink it: write the data stored instead, from a fresh read.
                self.out.seek(data_start)
                self.out.truncate()
                self.offset = data_start
                method = _STORED
                if self._copy(reader, reader.rewind(), False) != (crc, size):
                    raise _changed(entry)
        csize = self.offset - data_start
        if size > ZIP64_LIMIT and not zip64:
            raise _changed(entry)  # grew past what its header was written for
        end = self.offset
        self.out.seek(start)
        self.out.write(self._local_header(name, flags, method, crc, csize, size, zip64))
        self.out.seek(end)
        self._add_central(name, flags, method, crc, csize, size, start)

    def _copy(self, reader: _Reader, n: int, deflate: bool) -> tuple[int, int]:
        """Write the source from the `n` bytes already in the buffer on; return (CRC, size)."""
        crc = size = 0
        comp = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15) if deflate else None
        while n:
            chunk = reader.view[:n]
            crc = zlib.crc32(chunk, crc)
            size += n
            self._write(comp.compress(chunk) if comp else chunk)
            n = reader.next()
        if comp:
            self._write(comp.flush())
        return crc, size

    def finish(self) -> None:
        """Central directory, then the end records (ZIP64 ones only when needed)."""
        cd_offset = self.offset
        for record in self.central:
            self._write(record)
        cd_size = self.offset - cd_offset
        count = len(self.central)
        many = count > ZIP64_COUNT_LIMIT
        big_size, big_offset = cd_size > ZIP64_LIMIT, cd_offset > ZIP64_LIMIT
        if many or big_size or big_offset:
            end64 = self.offset
            self._write(
                _END64.pack(
                    b"PK\x06\x06",
                    44,
                    _VERSION_ZIP64,
                    _VERSION_ZIP64,
                    0,
                    0,
                    count,
                    count,
                    cd_size,
                    cd_offset,
                )
            )
            self._write(_END64_LOCATOR.pack(b"PK\x06\x07", 0, end64, 1))
        count16 = _MARK16 if many else count
        self._write(
            _END.pack(
                b"PK\x05\x06",
                0,
                0,
                count16,
                count16,
                _MARK32 if big_size else cd_size,
                _MARK32 if big_offset else cd_offset,
                0,
            )
        )


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def write_iar(
    entries: Sequence[Entry],
    dest: Path,
    *,
    max_workers: int | None = None,
    stream_threshold: int = STREAM_THRESHOLD,
) -> None:
    """Write `entries` (already sorted) to `dest` as a zip rooted at icspackage/.

    The bytes depend on the entries' names and contents only: not on `max_workers` (default:
    the usable cores) nor on `stream_threshold` (files larger are streamed in chunks).
    On failure `dest` is removed, so no partial archive is left to be mistaken for a build.
    """
    pool = ThreadPoolExecutor(max_workers or _workers(), thread_name_prefix="write_iar")
    pending: deque[tuple[Entry, Future[_Packed] | None]] = deque()
    ahead = 0  # raw bytes submitted and not yet written
    todo = iter(entries)
    following = next(todo, None)
    try:
        with dest.open("wb") as out:
            zw = _ZipWriter(out)
            while True:
                while (
                    following is not None
                    and len(pending) < _WINDOW_ENTRIES
                    and (ahead < _WINDOW_BYTES or not pending)
                ):
                    if following.size > stream_threshold:
                        pending.append((following, None))  # streamed here when its turn comes
                    else:
                        pending.append((following, pool.submit(_pack, following)))
                        ahead += following.size
                    following = next(todo, None)
                if not pending:
                    break
                entry, future = pending.popleft()
                if future is None:
                    zw.stream(entry)
                else:
                    zw.add(entry, future.result())
                    ahead -= entry.size
            zw.finish()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        dest.unlink(missing_ok=True)
        raise
    pool.shutdown(wait=True)
