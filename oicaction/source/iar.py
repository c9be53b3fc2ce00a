"""Open and check a committed archive before it is trusted: a readable zip rooted at icspackage/
(an .iar) or project/ (a project's .car), no entry escaping that root, a bounded total size, and
intact data (CRC)."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO

from ..errors import SourceError, reading
from .metadata import ICSPACKAGE, MAX_XML_BYTES

MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # uncompressed; real integrations are a few MB
MAX_ENTRIES = 100_000
LFS_MAGIC = b"version https://git-lfs"
# What reading a zip raises on bad data: RuntimeError for an encrypted entry or (as its subclass
# NotImplementedError) a method zipfile lacks, zlib.error for bad deflate data.
ZIP_READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, zlib.error)
# OIC exports deflate (and stores); zipfile also reads these. Deflate64 (9) and others it cannot.
READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def _check(info: zipfile.ZipInfo, where: Path) -> None:
    """Refuse a name that would land outside the extraction folder on any OS, and an entry no
    one can unpack without more than the archive: encrypted, or in a compression method zipfile
    cannot read (Deflate64, as Windows Explorer writes for big files)."""
    name = info.filename
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise SourceError(f"{where}: entry {name!r} has an absolute path", file=where)
    if "\\" in name or ".." in PurePosixPath(name).parts or "\x00" in name:
        raise SourceError(f"{where}: entry {name!r} escapes the archive root", file=where)
    if info.flag_bits & 0x1:
        raise SourceError(
            f"{where}: entry {name} is encrypted; export the integration again", file=where
        )
    if info.compress_type not in READABLE_METHODS:
        raise SourceError(
            f"{where}: entry {name} uses compression method {info.compress_type}, which "
            "cannot be read (Deflate64 is 9); re-create the archive with deflate",
            file=where,
        )


class IarFile:
    """A validated .iar (or, with `root="project"`, a project's .car); reading metadata touches
    only the entries it needs."""

    def __init__(self, path: Path, root: str = ICSPACKAGE) -> None:
        self.path = path
        self.root = root
        with reading(path), path.open("rb") as fh:
            head = fh.read(len(LFS_MAGIC))
        if head == LFS_MAGIC:
            raise SourceError(
                f"{path}: is a Git LFS pointer, not the archive; check out with LFS enabled",
                file=path,
            )
        try:
            self._zip = zipfile.ZipFile(path)
        except ZIP_READ_ERRORS as exc:
            raise SourceError(f"{path}: not a readable zip archive ({exc})", file=path) from None
        try:
            self._check_entries(self._zip.infolist())
        except BaseException:
            self._zip.close()
            raise

    def _check_entries(self, infos: list[zipfile.ZipInfo]) -> None:
        if len(infos) > MAX_ENTRIES:
            raise SourceError(
                f"{self.path}: {len(infos)} entries, more than {MAX_ENTRIES}", file=self.path
            )
        total = 0
        for info in infos:
            _check(info, self.path)
            total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise SourceError(
                f"{self.path}: entries expand to {total} bytes, over the {MAX_TOTAL_BYTES} limit "
                "(zip bomb?)",
                file=self.path,
            )
        if not any(i.filename.startswith(self.root + "/") for i in infos):
            what = "integration" if self.root == ICSPACKAGE else self.root
            raise SourceError(
                f"{self.path}: no entry under {self.root}/; not an OIC {what} archive",
                file=self.path,
            )

    def __enter__(self) -> IarFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    def infolist(self) -> list[zipfile.ZipInfo]:
        """Every entry as the zip lists it (folders and duplicates included)."""
        return self._zip.infolist()

    def open(self, info: zipfile.ZipInfo) -> IO[bytes]:
        """One entry as a stream; zipfile checks its CRC once it is read to the end."""
        return self._zip.open(info)

    @property
    def entry_names(self) -> list[str]:
        return [i.filename for i in self._zip.infolist() if not i.is_dir()]

    def read(self, name: str) -> bytes:
        info = self._zip.getinfo(name)
        if info.file_size > MAX_XML_BYTES:
            raise SourceError(
                f"{self.path}: entry {name} is {info.file_size} bytes, too large to be metadata",
                file=self.path,
            )
        try:
            return self._zip.read(info)
        except ZIP_READ_ERRORS as exc:
            raise SourceError(
                f"{self.path}: entry {name} is corrupt ({exc})", file=self.path
            ) from None

    def verify(self) -> None:
        """Decompress every entry once, streaming, to catch corruption before a deploy does."""
        try:
            bad = self._zip.testzip()
        except ZIP_READ_ERRORS as exc:
            raise SourceError(
                f"{self.path}: archive data is corrupt ({exc})", file=self.path
            ) from None
        if bad is not None:
            raise SourceError(f"{self.path}: entry {bad} fails its CRC check", file=self.path)
