"""Integration archives as OIC exports them, made from the bundled example (no shared fixtures
needed), for the pull tests."""

from __future__ import annotations

import io
import zipfile

from conftest import EXAMPLE

HELLO = "HELLO_WORLD|01.00.0000"


def example_entries(code: str = "HELLO_WORLD", version: str = "01.00.0000") -> dict[str, bytes]:
    """The bundled example's files as archive entries, renamed to `code`/`version`."""
    root = EXAMPLE / "icspackage"
    entries = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = "icspackage/" + path.relative_to(root).as_posix()
        data = path.read_bytes()
        if name.endswith("PROJECT-INF/project.xml"):
            data = data.replace(b">HELLO_WORLD<", f">{code}<".encode())
            data = data.replace(b">01.00.0000<", f">{version}<".encode())
        entries[name.replace("HELLO_WORLD_01.00.0000", f"{code}_{version}")] = data
    return entries


def zipped(entries: dict[str, bytes], date: tuple[int, ...] = (2025, 4, 4, 10, 0, 0)) -> bytes:
    """An archive as OIC writes one: deflated, stamped with the export time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=date), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def exported(code: str = "HELLO_WORLD", version: str = "01.00.0000", **extra: bytes) -> bytes:
    """An exported integration; `extra` adds files under its project folder."""
    entries = example_entries(code, version)
    for name, data in extra.items():
        entries[f"icspackage/project/{code}_{version}/{name}"] = data
    return zipped(entries)
