"""Archives as OIC exports them (deflated, stamped with the export time), made from conftest's
generated sources, for the pull tests: no shared fixtures needed."""

from __future__ import annotations

import io
import zipfile

from conftest import integration_entries

HELLO = "HELLO_WORLD|01.00.0000"


def zipped(entries: dict[str, bytes], date: tuple[int, ...] = (2025, 4, 4, 10, 0, 0)) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=date), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def exported(code: str = "HELLO_WORLD", version: str = "01.00.0000", **extra: bytes) -> bytes:
    """An exported integration; `extra` adds files under its project folder."""
    entries = integration_entries(code, version)
    for name, data in extra.items():
        entries[f"icspackage/project/{code}_{version}/{name}"] = data
    return zipped(entries)
