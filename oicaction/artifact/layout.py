"""Where exported objects land in the artifact folder, under names safe as file names."""

from __future__ import annotations

from pathlib import Path

from ..errors import SourceError

LOOKUPS_DIR = "lookups"
CONNECTIONS_DIR = "connections"
CONNECTION_FILE = "connection.json"
CONNECTIONS_INDEX = "connections.json"


def safe_component(name: str, what: str, integration: str) -> str:
    """A connection id or lookup name as one path component; refuse anything that could
    escape the artifact folder or hide in it."""
    bad = (
        not name
        or name.startswith(".")
        or any(c in name for c in "/\\\x00:")
        or name != name.strip()
        or len(name) > 200
    )
    if bad:
        raise SourceError(f"{integration}: {what} name {name!r} cannot be used as a file name")
    return name


def lookup_path(stage: Path, name: str) -> Path:
    """`lookups/<NAME>.csv`: the lookup's CSV export as OIC gives it."""
    return stage / LOOKUPS_DIR / f"{name}.csv"


def connection_path(stage: Path, conn_id: str) -> Path:
    """`connections/<ID>/connection.json`."""
    return stage / CONNECTIONS_DIR / conn_id / CONNECTION_FILE


def write_lookup(stage: Path, name: str, data: bytes) -> Path:
    path = lookup_path(stage, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
