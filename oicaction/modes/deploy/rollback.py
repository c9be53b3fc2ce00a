"""Step 10: after a failure that came once the target was touched, put back what was there:
re-import the archive kept before the change, restore each integration's status (re-activate
what was active, with its tracing as it was; deactivate what this deploy activated), restart
the schedules it stopped, and say what was restored.

Connection values cannot be read back from OIC (secrets come back masked), so connection
changes are not undone; the message names the connections changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ...errors import OicBuildError
from .steps import Steps
from .target import Target


@dataclass
class Progress:
    """What this deploy changed so far, in order: what a rollback has to undo."""

    stopped: list[str] = field(default_factory=list)  # schedules stopped
    deactivated: list[str] = field(default_factory=list)
    imported: bool = False
    connections: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)  # "<connection> <property>"
    lookups: list[str] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.stopped or self.deactivated or self.imported or self.connections)

    def said(self, label: str) -> list[str]:
        """What was changed, for a failure left as it is (rollback false)."""
        said = [f"stopped the schedule of {i}" for i in self.stopped]
        said += [f"deactivated {i}" for i in self.deactivated]
        said += [f"imported {label}"] if self.imported else []
        said += [f"set values of connection {c}" for c in self.connections]
        said += [f"uploaded attachment {a}" for a in self.attachments]
        said += [f"imported lookup {n}" for n in self.lookups]
        said += [f"asked to activate {i}" for i in self.activated]
        return said


def roll_back(steps: Steps, target: Target, kept: Path | None, progress: Progress) -> list[str]:
    """Undo `progress` on the target as far as it can be; returns what was done, said for a
    user. Raises nothing: a failing rollback step is said, and the rest is still tried."""
    unit, said = steps.unit, []

    def attempt(what: str, action: Callable[[], object]) -> bool:
        """`what` in the infinitive: "re-import the archive"; said as done or as failed."""
        try:
            action()
        except OicBuildError as exc:
            said.append(f"could not {what} ({exc})")
            return False
        said.append(f"did {what}")
        return True

    for iid in progress.activated:  # an active integration cannot be replaced: off first
        attempt(f"deactivate {iid}", partial(steps.set_status, iid, "CONFIGURED"))
    if not target.exists:
        said.append(
            f"{unit.label} was not on the target before; it stays there, not activated "
            "(delete it in OIC if it should go)"
        )
    else:
        if progress.imported and kept is None:
            said.append("could not re-import the version it had before: none was kept")
        if progress.imported and kept is not None:
            attempt(
                "re-import the archive it had before",
                lambda: steps.import_file(
                    "rollback: re-import",
                    unit.archive_collection(),
                    kept,
                    exists=True,
                    state=lambda: steps.read(unit.state_path(), unit.label, "rollback"),
                ),
            )
        for iid, status in target.status.items():
            if status == "ACTIVATED":
                tracing = target.tracing.get(iid, False)
                again = partial(steps.set_status, iid, "ACTIVATED", tracing=tracing)
                attempt(f"re-activate {iid}", again)
        for iid in progress.stopped:
            attempt(f"restart the schedule of {iid}", partial(steps.schedule, iid, "start"))
    if progress.connections or progress.attachments:
        said.append(
            "connection changes are not undone (OIC does not give secret values back): "
            + ", ".join([*progress.connections, *(f"attachment {a}" for a in progress.attachments)])
        )
    if progress.lookups:
        said.append("lookups imported are not undone: " + ", ".join(progress.lookups))
    return said
