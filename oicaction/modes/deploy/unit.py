"""What one artifact deploys as: an integration, or an OIC 3 project and its integrations. The
same steps serve both; only the paths differ (`/projects/{id}/...` for a project)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ...oic.client import api
from .bundle import Bundle


@dataclass(frozen=True)
class Unit:
    kind: Literal["integration", "project"]
    id: str
    project: str | None  # the scope of its integrations, connections and lookups
    integrations: tuple[str, ...]  # the integrations to quiesce and activate

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id}"

    def archive_collection(self) -> str:
        """Where its archive is imported: `/integrations/archive` or `/projects/archive`."""
        if self.kind == "project":
            return api("projects", "archive")
        return api("integrations", "archive", project=self.project)

    def archive_of_target(self) -> str:
        """Its export on the target: what a rollback re-imports."""
        if self.kind == "project":
            return api("projects", self.id, "archive")
        return api("integrations", self.id, "archive", project=self.project)

    def state_path(self) -> str:
        if self.kind == "project":
            return api("projects", self.id)
        return api("integrations", self.id, project=self.project)


def unit_of(bundle: Bundle, project: str | None) -> Unit:
    """An integration deploys into `project` (oic-project) when given; a project is its own."""
    record = bundle.record
    if record.kind == "project":
        return Unit("project", record.id, record.id, tuple(i.id for i in record.integrations))
    return Unit("integration", record.id, project, (record.id,))
