"""Every name in the artifact folder, the rules a name from OIC or a source must pass before it
becomes part of a path there, and the one way JSON is written there:

<CODE>_<VERSION>/                (an integration; a project's folder is <PROJECT_CODE>/)
    <CODE>_<VERSION>.iar          (a project: <PROJECT_CODE>.car)
    build-info.json               (artifact/record.py)
    connectionPlan.properties
    connections.json              (artifact/record.py)
    connections/<ID>/connection.json
    connections/<ID>/attachments/<PROPERTY>
    lookups/<NAME>.csv
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import ArtifactError

BUILD_INFO = "build-info.json"
PLAN_FILE = "connectionPlan.properties"
CONNECTIONS_INDEX = "connections.json"
CONNECTIONS_DIR = "connections"
CONNECTION_FILE = "connection.json"
LOOKUPS_DIR = "lookups"
ATTACHMENTS_DIR = "attachments"

# What OIC allows in the names that become paths here (docs/live-recording.md says where each
# rule comes from). None can be empty, start with `.`, or hold `/`, `\`, `:` or a NUL, so none
# can leave its folder or hide in it; the length bound keeps a path within every filesystem's.
_NAME_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    # Connection identifiers: OIC upper-cases them (every real archive and body agrees).
    "connection id": (re.compile(r"[A-Z0-9_]{1,128}"), "upper-case letters, digits and _"),
    # Lookup names: mixed case, digits, `_` and `-` (real archives and Oracle's own lookups).
    "lookup name": (
        re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}"),
        "letters, digits, _ and -, starting with a letter or digit",
    ),
    # Connection property names: camelCase and dotted (`oauth.access.token.uri` in recorded
    # bodies); `-` for header-style names.
    "property name": (
        re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"),
        "letters, digits, ., _ and -, starting with a letter or digit",
    ),
}


def checked_name(what: str, name: object, error: type[Exception] = ArtifactError) -> str:
    """`name` if OIC could have given it as a `what`, else an `error` naming it."""
    pattern, allowed = _NAME_RULES[what]
    if isinstance(name, str) and pattern.fullmatch(name):
        return name
    shown = repr(name) if len(repr(name)) <= 80 else repr(name)[:77] + "..."
    raise error(f"{what} {shown} is not one OIC gives ({allowed})")


def connection_path(stage: Path, conn_id: str) -> Path:
    return stage / CONNECTIONS_DIR / checked_name("connection id", conn_id) / CONNECTION_FILE


def attachment_path(stage: Path, conn_id: str, prop: str) -> Path:
    """Named by the property: Oracle's download gives no trustworthy file name."""
    folder = stage / CONNECTIONS_DIR / checked_name("connection id", conn_id) / ATTACHMENTS_DIR
    return folder / checked_name("property name", prop)


def lookup_path(stage: Path, name: str) -> Path:
    return stage / LOOKUPS_DIR / f"{checked_name('lookup name', name)}.csv"


def to_json(data: object) -> str:
    """Sorted keys and two-space indents: a file that changes only when its content does."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_file(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
