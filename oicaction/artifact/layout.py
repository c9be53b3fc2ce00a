"""Every name in the artifact folder, and the one way JSON is written there:

<CODE>_<VERSION>/                (an integration; a project's folder is <PROJECT_CODE>/)
    <CODE>_<VERSION>.iar          (a project: <PROJECT_CODE>.car)
    build-info.json
    connectionPlan.properties
    connections.json
    connections/<ID>/connection.json
    connections/<ID>/attachments/<PROPERTY>
    lookups/<NAME>.csv
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import SourceError

BUILD_INFO = "build-info.json"
PLAN_FILE = "connectionPlan.properties"
CONNECTIONS_INDEX = "connections.json"
CONNECTIONS_DIR = "connections"
CONNECTION_FILE = "connection.json"
LOOKUPS_DIR = "lookups"
ATTACHMENTS_DIR = "attachments"


def archive_name(slug: str) -> str:
    """`CODE_VERSION.iar`, the name OIC itself gives an exported integration."""
    return f"{slug}.iar"


def project_archive_name(code: str) -> str:
    """`PROJECT_CODE.car`, the name OIC gives a project export."""
    return f"{code}.car"


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


def connection_path(stage: Path, conn_id: str) -> Path:
    """`connections/<ID>/connection.json`."""
    return stage / CONNECTIONS_DIR / conn_id / CONNECTION_FILE


def attachment_path(stage: Path, conn_id: str, prop: str) -> Path:
    """`connections/<ID>/attachments/<PROPERTY>`: the file uploaded to a connection property,
    named by the property (Oracle's download gives no trustworthy file name)."""
    return stage / CONNECTIONS_DIR / conn_id / ATTACHMENTS_DIR / prop


def lookup_path(stage: Path, name: str) -> Path:
    """`lookups/<NAME>.csv`: the lookup's CSV export as OIC gives it."""
    return stage / LOOKUPS_DIR / f"{name}.csv"


def to_json(data: object) -> str:
    """Sorted keys and two-space indents: a file that changes only when its content does."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_file(path: Path, data: str | bytes) -> None:
    """Write one artifact file, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
