"""Pack a SourceTree into a deterministic .iar: sorted entries, fixed time and mode, `/` paths,
so the same source gives the same bytes on every run and every machine."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

from .errors import SourceError
from .tree import Entry

FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say
FILE_MODE = 0o100644  # regular file, rw-r--r--
COMPRESS_LEVEL = 6
_CHUNK = 1024 * 1024


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.create_system = 3  # unix, so external_attr carries the mode
    info.external_attr = FILE_MODE << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_iar(entries: Sequence[Entry], dest: Path) -> None:
    """Write `entries` (already sorted) to `dest` as a zip rooted at icspackage/."""
    with zipfile.ZipFile(dest, "w", compresslevel=COMPRESS_LEVEL, allowZip64=True) as zf:
        for entry in entries:
            info = _info(entry.name)
            info.file_size = entry.size
            try:
                with entry.path.open("rb") as src, zf.open(info, "w", force_zip64=False) as out:
                    shutil.copyfileobj(src, out, _CHUNK)
            except OSError as exc:
                raise SourceError(
                    f"{entry.path}: unreadable ({exc.strerror})", file=entry.path
                ) from None
