"""Step 2: look at the target before anything changes: is the integration (or project) there,
its status, its running schedules, the connections it uses, and (a project) the integrations
the target holds that the `.car` no longer does (left alone, and said)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import ServerError
from ...oic.client import api
from .steps import Steps

PAGE = 100
MAX_PAGES = 100


@dataclass
class Target:
    exists: bool
    status: dict[str, str | None] = field(default_factory=dict)  # per integration; None: absent
    schedules: set[str] = field(default_factory=set)  # integrations whose schedule runs
    tracing: dict[str, bool] = field(default_factory=dict)  # tracing on before the deploy
    stamp: object = None  # lastUpdated: tells whether an import took after a lost answer
    connections: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)

    def previous(self, kind: str) -> str | dict[str, str | None] | None:
        """The status before the deploy, as the `deployed` output gives it."""
        if kind == "integration":
            return next(iter(self.status.values()), None)
        return dict(self.status) if self.exists else None

    def active(self) -> list[str]:
        return [i for i, s in self.status.items() if s == "ACTIVATED"]


def stamp_of(body: dict[str, Any]) -> object:
    """When it last changed: an integration's `lastUpdated`, a project's `state.updated`."""
    state = body.get("state")
    if isinstance(state, dict) and isinstance(state.get("updated"), dict):
        return state["updated"].get("date")
    return body.get("lastUpdated")


def _listed(steps: Steps, project: str) -> list[str]:
    """The ids of the integrations a project holds on the target (paged)."""
    path = api("projects", project, "integrations")
    ids: list[str] = []
    for page in range(MAX_PAGES):
        params = {"limit": str(PAGE), "offset": str(page * PAGE)}
        try:
            found = steps.client.get_json(path, f"integrations of project {project}", params=params)
        except ServerError as exc:
            raise steps.fail("look at the target", str(exc)) from None
        items = (found or {}).get("items") or []
        ids += [str(i.get("id")) for i in items if isinstance(i, dict) and i.get("id")]
        if not (found or {}).get("hasMore") or not items:
            break
    return ids


def read_target(steps: Steps, connections: tuple[str, ...]) -> Target:
    """What the target holds now; locked objects are waited for, then an error."""
    unit = steps.unit
    if unit.kind == "project":
        body = steps.read_unlocked(unit.state_path(), unit.label, "look at the target")
    else:
        body = steps.integration(unit.id)
    target = Target(exists=body is not None, stamp=stamp_of(body) if body else None)
    for iid in unit.integrations:
        found = body if unit.kind == "integration" else None
        if unit.kind == "project" and target.exists:
            found = steps.integration(iid)
        if found is None:
            target.status[iid] = None
            continue
        target.status[iid] = str(found.get("status") or "").upper() or None
        target.tracing[iid] = bool(found.get("tracingEnabledFlag"))
        if steps.schedule_running(iid, found):
            target.schedules.add(iid)
    if unit.kind == "project" and target.exists:
        target.leftovers = sorted(set(_listed(steps, unit.id)) - set(unit.integrations))
    for conn in connections:
        target.connections[conn] = steps.connection(conn)
    return target
