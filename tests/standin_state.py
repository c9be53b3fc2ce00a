"""The OIC stand-in's write side, kept apart from its read side (tests/oic_standin.py): what a
deploy changes on a target, with state.

Integrations (statuses, archives, locks, schedules), connection updates, attachment uploads,
connection tests, lookup and project imports; OIC 3's asynchronous activation
(`ACTIVATION_INPROGRESS`, then `activationStatus`), FAILEDACTIVATION with `activationErrors`,
409/404 import answers and a 5xx after an import was applied. Which answers are recorded from a
real OIC, taken from Oracle's REST reference, or guessed is listed in docs/live-recording.md.

Standard library only, like the stand-in.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import io
import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oic_standin import _Handler

# The recorded OIC 3 answers (../shared/fixtures/api/rchafik__oicDevops): activation answers
# this body with `status: ACTIVATION_INPROGRESS`, the poll `{"activationStatus": ...}`, a
# connection test `{"details", "id", "status"}`.
ACTIVATE_ANSWER = {
    "apiDeploymentInprogress": False,
    "compatible": False,
    "links": [],
    "lockedFlag": False,
    "scheduleApplicableFlag": False,
    "scheduleDefinedFlag": False,
    "softDeactivated": False,
    "status": "ACTIVATION_INPROGRESS",
    "tempCopyExists": False,
    "totalEndPoints": 0,
}
MASK = "*****"  # how OIC 3 returns a PASSWORD-typed value (recorded)
_SLUG = re.compile(r"^(?P<code>.+)_(?P<version>\d{2}\.\d{2}\.\d{4})$")


@dataclass
class Integration:
    """One integration on the target; `pending`/`ready_at`: an activation under way."""

    id: str
    archive: bytes = field(default=b"", repr=False)
    status: str = "CONFIGURED"
    pending: str | None = None
    ready_at: float = 0.0
    locked_reads: int = 0
    schedule: str | None = None  # None: no schedule; else its state, STARTED or STOPPED
    tracing: bool = False
    updated: int = 0
    export_locked: bool = False  # its archive answers 423: locked, or a prebuilt integration

    def activation_error(self, model: DeployModel) -> str | None:
        """The arranged activation error of this integration (by id) or of this archive (by
        its sha256): a rollback's re-import of the old archive activates."""
        digest = hashlib.sha256(self.archive).hexdigest()
        return model.fail_activation.get(self.id, model.fail_activation.get(digest))

    def settle(self, model: DeployModel) -> None:
        """Finish an activation or deactivation whose time has come."""
        if self.pending is None or time.monotonic() < self.ready_at:
            return
        if self.pending == "ACTIVATED" and self.activation_error(model) is not None:
            self.status = "FAILEDACTIVATION"
        else:
            self.status = self.pending
        self.pending = None


@dataclass
class DeployModel:
    """The write side's state; tests arrange it and read what was received."""

    integrations: dict[str, Integration] = field(default_factory=dict)  # key: scope + id
    projects: dict[str, bytes] = field(default_factory=dict)  # imported .car per project id
    activation_seconds: float = 0.0  # 0: activation answers the final status at once (Gen2)
    fail_activation: dict[str, str] = field(default_factory=dict)  # id or sha256 -> message
    fail_after_import: int = 0  # the next N imports are applied, then answered 500
    fail_after_status: int = 0  # the next N (de)activations are applied, then answered 500
    echo_updates: bool = False  # a hostile server: a connection update refused, echoing it
    received: list[tuple[str, str, str]] = field(default_factory=list)  # (what, key, sha256)
    connection_values: dict[tuple[str, str], str] = field(default_factory=dict)
    attachments_received: dict[tuple[str, str], bytes] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)  # (method, path): writes in order


def _key(iid: str, project: str | None) -> str:
    return iid if project is None else f"projects/{project}/{iid}"


def _form_file(handler: _Handler, body: bytes, name: str = "file") -> bytes | None:
    """The file under `name` of a multipart/form-data body (email's MIME parser)."""
    ctype = handler.headers.get("Content-Type", "")
    if not ctype.startswith("multipart/form-data"):
        return None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + body
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == name:
            return part.get_payload(decode=True)
    return None


def _zip_names(data: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.namelist()
    except zipfile.BadZipFile:
        return []


def _iar_id(data: bytes) -> tuple[str | None, list[str]]:
    """An .iar's integration id (from its `icspackage/project/<CODE>_<VERSION>/` folder) and
    the connections it holds (`icspackage/appinstances/<ID>.xml`)."""
    iid, conns = None, []
    for name in _zip_names(data):
        parts = name.split("/")
        if len(parts) > 3 and parts[:2] == ["icspackage", "project"]:
            match = _SLUG.match(parts[2])
            if match:
                iid = f"{match['code']}|{match['version']}"
        if len(parts) == 3 and parts[:2] == ["icspackage", "appinstances"]:
            conns.append(parts[2].removesuffix(".xml"))
    return iid, conns


def _car_contents(data: bytes) -> tuple[str | None, list[str], list[str]]:
    """A .car's project id (`id:` of project/project.yaml), integrations and connections."""
    project, integrations, conns = None, set(), []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            if "project/project.yaml" in names:
                text = zf.read("project/project.yaml").decode("utf-8", "replace")
                found = re.search(r"^id:\s*(\S+)\s*$", text, re.MULTILINE)
                project = found.group(1) if found else None
    except zipfile.BadZipFile:
        return None, [], []
    for name in names:
        parts = name.split("/")
        if len(parts) > 3 and parts[:2] == ["project", "integrations"]:
            match = _SLUG.match(parts[2])
            if match:
                integrations.add(f"{match['code']}|{match['version']}")
        if len(parts) == 3 and parts[:2] == ["project", "connections"] and parts[2]:
            conns.append(parts[2].removesuffix(".xml"))
    return project, sorted(integrations), conns


def integration_body(item: Integration) -> dict[str, Any]:
    code, _, version = item.id.partition("|")
    status = item.status if item.pending is None else _inprogress(item.pending)
    return {
        "id": item.id,
        "code": code,
        "version": version,
        "name": code.title(),
        "status": status,
        "lockedFlag": item.locked_reads > 0,
        "scheduleApplicableFlag": item.schedule is not None,
        "scheduleDefinedFlag": item.schedule is not None,
        "tracingEnabledFlag": item.tracing,
        "lastUpdated": f"2026-01-01T00:00:{item.updated:02d}.000+0000",
    }


def _inprogress(target: str) -> str:
    return "ACTIVATION_INPROGRESS" if target == "ACTIVATED" else "DEACTIVATION_INPROGRESS"


class Routes:
    """Dispatch of the write side; `handle` answers what it knows, else returns False."""

    def __init__(self, handler: _Handler, method: str, body: bytes) -> None:
        self.h = handler
        self.state = handler.server.state
        self.model: DeployModel = handler.server.state.deploy
        self.method = method
        self.body = body

    def handle(self, segments: list[str]) -> bool:
        if self.method != "GET":
            with self.state.lock:
                self.model.log.append((self.method, "/".join(segments)))
        project = None
        if segments[:2] == ["projects", "archive"]:
            return self._import_project()
        if segments[0] == "projects" and len(segments) >= 3:
            project, segments = segments[1], segments[2:]
            if segments == ["archive"] and self.method in ("GET", "POST"):  # Oracle: POST
                return self._export_project(project)
            if segments == ["integrations"] and self.method == "GET":
                return self._list(project)
        if segments[0] == "integrations":
            return self._integrations(segments[1:], project)
        if segments[0] == "connections" and self.method == "POST":
            return self._connections(segments[1:], project)
        if segments[:2] == ["lookups", "archive"] and self.method in ("POST", "PUT"):
            return self._import_lookup(project)
        return False

    # -- integrations -----------------------------------------------------------------------

    def _integrations(self, rest: list[str], project: str | None) -> bool:
        if rest == ["archive"] and self.method in ("POST", "PUT"):
            return self._import_integration(project)
        if not rest:
            return False
        with self.state.lock:
            item = self.model.integrations.get(_key(rest[0], project))
            if item is not None:
                item.settle(self.model)
        if item is None:
            self.h._oic_error(404, "Not Found", f"Integration {rest[0]} not found", "OIC-404")
            return True
        tail = rest[1:]
        if self.method == "GET":
            return self._integration_get(item, tail)
        if self.method == "POST" and not tail:
            return self._activate(item)
        if self.method == "POST" and tail in (["schedule", "stop"], ["schedule", "start"]):
            if item.schedule is None:
                self.h._oic_error(404, "Not Found", "No schedule", "OIC-404")
                return True
            item.schedule = "STOPPED" if tail[1] == "stop" else "STARTED"
            self.h._json(200, {"state": item.schedule})
            return True
        return False

    def _integration_get(self, item: Integration, tail: list[str]) -> bool:
        if not tail:
            with self.state.lock:
                body = integration_body(item)
                item.locked_reads = max(0, item.locked_reads - 1)
            self.h._json(200, body)
        elif tail == ["archive"] and item.export_locked:
            detail = "Integration is in locked status or PREBUILT type"  # Oracle's words
            self.h._oic_error(423, "Locked", detail, "OIC-423")
        elif tail == ["archive"]:
            self.h._send(200, item.archive, "application/octet-stream")
        elif tail == ["activationStatus"]:
            status = item.status if item.pending is None else _inprogress(item.pending)
            self.h._json(200, {"activationStatus": status})
        elif tail == ["activationErrors"]:
            message = item.activation_error(self.model)
            code, _, version = item.id.partition("|")
            self.h._json(
                200,
                {
                    "code": code,
                    "version": version,
                    "hasErrors": message is not None,
                    **({"errorMessage": message} if message else {}),
                },
            )
        elif tail == ["schedule"] and item.schedule is not None:
            self.h._json(200, {"state": item.schedule, "status": item.schedule})
        else:
            return False
        return True

    def _activate(self, item: Integration) -> bool:
        if self.h.headers.get("X-HTTP-Method-Override", "").upper() != "PATCH":
            return False
        data = json.loads(self.body or b"{}")
        target = data.get("status")
        if target not in ("ACTIVATED", "CONFIGURED"):
            self.h._oic_error(400, "Bad Request", f"Unknown status {target!r}", "OIC-400")
            return True
        if item.locked_reads > 0:
            self.h._oic_error(412, "Precondition Failed", "Integration is locked", "OIC-412")
            return True
        with self.state.lock:
            item.tracing = bool(data.get("tracingEnabledFlag"))
            item.pending = target
            item.ready_at = time.monotonic() + self.model.activation_seconds
            item.settle(self.model)
            answer = {**ACTIVATE_ANSWER, "status": item.status}
            if item.pending is not None:
                answer["status"] = _inprogress(item.pending)
            fail = self.model.fail_after_status > 0
            self.model.fail_after_status -= int(fail)
        if fail:
            self.h._oic_error(502, "Bad Gateway", "The activation request timed out", "OIC-502")
            return True
        self.h._json(200, answer)
        return True

    def _received(self, what: str, key: str, data: bytes) -> bool:
        """Record an import; False (answered 500) when a 5xx after the import is arranged."""
        with self.state.lock:
            self.model.received.append((what, key, hashlib.sha256(data).hexdigest()))
            if self.model.fail_after_import > 0:
                self.model.fail_after_import -= 1
                fail = True
            else:
                fail = False
        if fail:
            self.h._oic_error(500, "Internal Server Error", "Import timed out", "OIC-500")
        return not fail

    def _import_clash(self, kind: str, name: str, exists: bool) -> bool:
        """POST of what exists (409) or PUT of what does not (404): answered, True."""
        if self.method == "POST" and exists:
            self.h._oic_error(409, "Conflict", f"{kind} {name} already exists", "OIC-409")
            return True
        if self.method == "PUT" and not exists:
            self.h._oic_error(404, "Not Found", f"{kind} {name} not found", "OIC-404")
            return True
        return False

    def _import_integration(self, project: str | None) -> bool:
        data = _form_file(self.h, self.body)
        iid, conns = _iar_id(data or b"")
        if data is None or iid is None:
            self.h._oic_error(400, "Bad Request", "No file is uploaded", "OIC-400")
            return True
        key = _key(iid, project)
        with self.state.lock:
            item = self.model.integrations.get(key)
            if item is not None:
                item.settle(self.model)
        if self._import_clash("Integration", iid, item is not None):
            return True
        if item is not None and item.status == "ACTIVATED":  # guessed: see live-recording.md
            self.h._oic_error(409, "Conflict", f"Integration {iid} is activated", "OIC-409")
            return True
        with self.state.lock:
            if item is None:
                item = self.model.integrations[key] = Integration(iid)
            item.archive, item.status, item.updated = data, "CONFIGURED", item.updated + 1
            for conn in conns:
                self._create_connection(conn, project)
        if self._received("integration", key, data):
            self.h._send(204 if self.method == "POST" else 200, b"", "")
        return True

    def _create_connection(self, conn: str, project: str | None) -> None:
        """What an import does for a connection the target lacks: creates it, unconfigured."""
        scoped = conn if project is None else f"projects/{project}/{conn}"
        self.state.connections.setdefault(
            scoped, {"id": conn, "status": "INPROGRESS", "connectionProperties": []}
        )

    # -- projects ---------------------------------------------------------------------------

    def _import_project(self) -> bool:
        if self.method not in ("POST", "PUT"):
            return False
        data = _form_file(self.h, self.body)
        project, integrations, conns = _car_contents(data or b"")
        if data is None or project is None:
            self.h._oic_error(400, "Bad Request", "No file is uploaded", "OIC-400")
            return True
        exists = project in self.model.projects or project in self.state.projects
        if self._import_clash("Project", project, exists):
            return True
        with self.state.lock:
            active = [
                i
                for i in integrations
                if (old := self.model.integrations.get(_key(i, project))) is not None
                and old.status == "ACTIVATED"
            ]
        if active:  # guessed like the integration's: deactivate first
            self.h._oic_error(409, "Conflict", f"{active[0]} is activated", "OIC-409")
            return True
        with self.state.lock:
            self.model.projects[project] = data
            self.state.projects.add(project)
            for iid in integrations:
                item = self.model.integrations.setdefault(_key(iid, project), Integration(iid))
                item.archive, item.updated = b"", item.updated + 1
            for conn in conns:
                self._create_connection(conn, project)
        if self._received("project", project, data):
            self.h._json(200, {"id": project, "code": project, "state": {"status": "DRAFT"}})
        return True

    def _export_project(self, project: str) -> bool:
        data = self.model.projects.get(project)
        if data is None:
            return False
        self.h._send(200, data, "application/octet-stream")
        return True

    def _list(self, project: str) -> bool:
        prefix = f"projects/{project}/"
        with self.state.lock:
            items = []
            for key, item in sorted(self.model.integrations.items()):
                if key.startswith(prefix):
                    item.settle(self.model)
                    items.append(integration_body(item))
        self.h._json(200, {"items": items, "hasMore": False, "totalResults": len(items)})
        return True

    # -- connections and lookups ------------------------------------------------------------

    def _connection(self, conn: str, project: str | None) -> tuple[str, dict[str, Any] | None]:
        scoped = conn if project is None else f"projects/{project}/{conn}"
        body = self.state.connections.get(scoped)
        if isinstance(body, bytes | str):
            body = json.loads(body)
            self.state.connections[scoped] = body
        return scoped, body

    def _connections(self, rest: list[str], project: str | None) -> bool:
        if not rest:
            return False
        with self.state.lock:
            scoped, conn = self._connection(rest[0], project)
        if conn is None:
            self.h._send(404, "Connection not found.", "text/plain")
            return True
        if len(rest) == 1:
            return self._update_connection(scoped, conn)
        if rest[1:] == ["test"]:
            return self._test_connection(rest[0], conn)
        if len(rest) == 3 and rest[1] == "attachments":
            data = _form_file(self.h, self.body)
            if data is None:
                self.h._oic_error(400, "Bad Request", "No file is uploaded", "OIC-400")
                return True
            with self.state.lock:
                self.model.attachments_received[(scoped, rest[2])] = data
                self.state.attachments[(scoped, rest[2])] = data
            self.h._send(200, b"", "")
            return True
        return False

    def _update_connection(self, scoped: str, conn: dict[str, Any]) -> bool:
        if self.h.headers.get("X-HTTP-Method-Override", "").upper() != "PATCH":
            return False
        data = json.loads(self.body or b"{}")
        if self.model.echo_updates:
            sent = self.body.decode("utf-8", "replace")
            self.h._oic_error(400, "Bad Request", f"Cannot apply {sent}", "OIC-400")
            return True
        with self.state.lock:
            for list_name in ("connectionProperties", "securityProperties"):
                props = conn.setdefault(list_name, [])
                for new in data.get(list_name) or ():
                    name = new["propertyName"]
                    value = str(new.get("propertyValue", ""))
                    self.model.connection_values[(scoped, name)] = value
                    shown = MASK if "PASSWORD" in str(new.get("propertyType", "")) else value
                    old = next((p for p in props if p.get("propertyName") == name), None)
                    if old is None:
                        props.append({**new, "propertyValue": shown})
                    else:
                        old["propertyValue"] = shown
            conn["status"] = "CONFIGURED"
        self.h._json(200, {k: v for k, v in conn.items() if k != "securityProperties"})
        return True

    def _test_connection(self, conn_id: str, conn: dict[str, Any]) -> bool:
        """409 while a required property has no value; else the recorded success body."""
        missing = [
            p.get("propertyName")
            for name in ("connectionProperties", "securityProperties")
            for p in conn.get(name) or ()
            if p.get("requiredFlag") and not p.get("propertyValue")
        ]
        if missing or conn.get("status") == "INPROGRESS":
            self.h._oic_error(409, "Conflict", f"Connection {conn_id} is not configured", "OIC-409")
            return True
        self.h._json(
            200,
            {
                "details": f"Test of {conn_id} connection succeeded.",
                "id": conn_id,
                "status": "SUCCESS",
            },
        )
        return True

    def _import_lookup(self, project: str | None) -> bool:
        data = _form_file(self.h, self.body)
        first = (data or b"").split(b"\n", 1)[0].decode("utf-8", "replace").split(",")
        if data is None or len(first) < 2 or first[0].strip() != "DVM":
            self.h._oic_error(400, "Bad Request", "No file is uploaded", "OIC-400")
            return True
        name = first[1].strip()
        scoped = name if project is None else f"projects/{project}/{name}"
        exists = scoped in self.state.lookups
        if self._import_clash("Lookup", name, exists):
            return True
        with self.state.lock:
            self.state.lookups[scoped] = data
        if self._received("lookup", scoped, data):
            self.h._send(204 if self.method == "POST" else 200, b"", "")
        return True


def read_chunked(rfile: io.BufferedIOBase) -> bytes:
    """A request body sent with `Transfer-Encoding: chunked` (a streamed upload)."""
    out = bytearray()
    while True:
        size = int(rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return bytes(out)
        out += rfile.read(size)
        rfile.readline()
