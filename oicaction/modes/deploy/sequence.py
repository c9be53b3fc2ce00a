"""One artifact's way into the target, in the order of the issue (README, "Deploying"):
look at the target, check the plan against it (dry run stops here), keep what is there, quiesce,
import, connections (update, attachments, test), lookups, activate; on a failure after the
target was touched, roll back."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ...errors import OicBuildError
from ...oic.client import UncertainWrite, api
from .bundle import Bundle
from .connection_changes import ConnectionUpdate, lacking, map_connection, properties
from .context import Context, DeployOutcome
from .plan_values import PlanValue, ResolvedPlan
from .rollback import Progress, roll_back
from .steps import OK, Steps
from .target import Target, read_target, stamp_of
from .unit import Unit, unit_of


class Deployment:
    """One artifact against the target."""

    def __init__(self, ctx: Context, bundle: Bundle, plan: ResolvedPlan | None) -> None:
        self.ctx = ctx
        self.options = ctx.options
        self.bundle = bundle
        self.plan = plan
        self.unit: Unit = unit_of(bundle, ctx.options.project)
        self.steps = Steps(
            ctx.client,
            self.unit,
            ctx.reporter,
            ctx.timing,
            tracing=ctx.options.enable_tracing,
            activation_timeout=ctx.options.activation_timeout,
        )
        self.say = lambda text: ctx.reporter.info(f"{self.unit.label}: {text}")

    # -- before anything changes ------------------------------------------------------------

    def _updates(self, target: Target) -> dict[str, ConnectionUpdate]:
        """The plan mapped onto each connection; unknown names fail here, before any write."""
        updates = {}
        for conn in self.bundle.connections:
            values = self.plan.for_connection(conn) if self.plan else []
            updates[conn] = self._map(
                conn, values, self.bundle.definitions.get(conn), target.connections.get(conn)
            )
        return updates

    def _map(
        self,
        conn: str,
        values: list[PlanValue],
        definition: dict[str, Any] | None,
        body: dict[str, Any] | None,
    ) -> ConnectionUpdate:
        """`map_connection`, and a plain line for a property OIC types as secret is a secret
        too: masked before anything (a server's error quoting it included) can show it."""
        update = map_connection(conn, values, definition, body)
        self.ctx.reporter.add_secrets(c.source.value for c in update.changes if c.secret)
        return update

    def _check_missing(self, target: Target, updates: dict[str, ConnectionUpdate]) -> None:
        """A connection the target lacks is made by the import, unconfigured: the plan has to
        set it, unless it has nothing to set (a trigger connection without properties)."""
        for conn, update in updates.items():
            if target.connections.get(conn) is not None or update.changes or update.unmapped:
                continue
            definition = self.bundle.definitions.get(conn)
            if definition is not None and not any(properties(definition).values()):
                continue
            message = (
                f"connection {conn} is not on the target: the import creates it unconfigured "
                "and the plan sets nothing for it"
            )
            if self.options.missing_connections == "error":
                raise self.steps.fail(
                    "look at the target",
                    f"{message}; add its lines to the plan, or set missing-connections: warn",
                )
            self.ctx.reporter.warning(f"{self.unit.label}: {message}")

    def _describe(self, target: Target, updates: dict[str, ConnectionUpdate]) -> list[str]:
        """What the deploy does, one line each (secret values shown as "(set)")."""
        unit, record = self.unit, self.bundle.record
        lines = [
            f"{'replace' if target.exists else 'add'} {unit.label} from {record.archive.file} "
            f"(sha256 {record.archive.sha256[:12]}…)"
        ]
        lines += [f"stop the schedule of {i}, restart it after" for i in sorted(target.schedules)]
        lines += [f"deactivate {i} first" for i in target.active()]
        for conn, update in updates.items():
            for change in update.changes:
                if (said := change.describe()) is not None:
                    lines.append(f"set connection {conn} {said}")
            if update.unmapped:
                lines.append(
                    f"set {len(update.unmapped)} value(s) of connection {conn} once the import "
                    "creates it (its property names are checked then)"
                )
            lines += [f"keep connection {conn} {v.entry.prop} as it is" for v in update.left]
        for item in self.bundle.attachments:
            size = item.path.stat().st_size
            lines.append(f"upload attachment {item.name} of connection {item.owner} ({size} bytes)")
        if self.options.test_connections:
            lines += [f"test connection {c}" for c in self.bundle.connections]
        for item in self.bundle.lookups:
            lines.append(f"{self._lookup_verb(item.name)} lookup {item.name}")
        tracing = "on" if self.options.enable_tracing else "off"
        for iid in unit.integrations:
            lines.append(
                f"activate {iid} (tracing {tracing})"
                if self.options.activate
                else f"leave {iid} CONFIGURED (activate is false)"
            )
        lines += [
            f"leave integration {i} alone: on the target, not in the .car" for i in target.leftovers
        ]
        return lines

    def _lookup_verb(self, name: str) -> str:
        """A dry run says whether a lookup is added or replaced (one read each); a deploy just
        imports it (POST, 409 -> PUT) and says which it was."""
        if not self.options.dry_run:
            return "import"
        there = self.steps.lookup_export(name, "look at the target") is not None
        return "replace" if there else "add"

    def _keep(self, target: Target) -> Path | None:
        """Step 4: the target's own export, for a rollback."""
        if not target.exists or not self.options.rollback:
            return None
        unit = self.unit
        suffix = "car" if unit.kind == "project" else "iar"
        name = hashlib.sha256(unit.label.encode()).hexdigest()[:16]
        dest = self.ctx.temp / f"{name}.{suffix}"
        try:
            what = f"export of {unit.label}"
            found = self.ctx.client.download(unit.archive_of_target(), what, dest)
        except OicBuildError as exc:
            raise self.steps.fail("keep the current version for rollback", str(exc)) from None
        if (
            found is None and unit.kind == "project"
        ):  # the export path is a guess (live-recording.md)
            self.ctx.reporter.warning(
                f"{unit.label}: its export answered 404, so its current version cannot be kept: "
                "no rollback for it (set rollback: false to silence this)"
            )
            return None
        if found is None:
            raise self.steps.fail("keep the current version for rollback", "its export is gone")
        self.say(f"kept its current version ({dest.stat().st_size} bytes) for a rollback")
        return dest

    # -- the changes ------------------------------------------------------------------------

    def _quiesce(self, target: Target, progress: Progress) -> None:
        for iid in sorted(target.schedules):
            self.steps.schedule(iid, "stop")
            progress.stopped.append(iid)
        for iid in target.active():
            progress.deactivated.append(iid)  # asked for: it may take even if the wait fails
            self.steps.set_status(iid, "CONFIGURED")

    def _import(self, target: Target, progress: Progress) -> str:
        unit = self.unit
        try:
            action = self.steps.import_file(
                f"import {unit.kind}",
                unit.archive_collection(),
                self.bundle.archive,
                exists=target.exists,
                replace=self.options.replace,
                state=lambda: self.steps.read(unit.state_path(), unit.label, "import"),
                stamp=stamp_of,
                before=target.stamp,
            )
        except UncertainWrite:
            # It may have replaced what was there: a rollback re-imports the kept version
            # rather than call the old one restored.
            progress.imported = target.exists
            raise
        progress.imported = True
        self.say(f"{action} ({self.bundle.archive.name})")
        return action

    def _configure(self, update: ConnectionUpdate, progress: Progress) -> None:
        conn = update.id
        if update.unmapped:  # the import made it: its names come from the target now
            body = self.steps.connection(conn, f"configure connection {conn}")
            later = self._map(conn, update.unmapped, None, body)
            update.changes += later.changes
        payload = update.payload()
        if not payload:
            return
        key = api("connections", conn, project=self.unit.project)
        with self.ctx.ledger.lock(key):
            if self.ctx.ledger.done(key, payload):
                self.say(f"connection {conn}: already configured by this run")
                return
            self.steps.update_connection(conn, payload)
            self.ctx.ledger.record(key, payload)
        progress.connections.append(conn)
        names = ", ".join(c.display for c in update.changes)
        self.say(f"connection {conn}: set {names}")

    def _test(self, conn: str) -> None:
        answer = self.steps.test_connection(conn)
        data = answer.json()
        outcome = str(data.get("status") or "") if isinstance(data, dict) else ""
        if answer.status in OK and outcome.upper() in ("", "SUCCESS", "SUCCEEDED", "OK"):
            self.say(f"connection {conn}: test passed")
            return
        step = f"test connection {conn}"
        if answer.status == 409:
            body = self.steps.connection(conn, step) or self.bundle.definitions.get(conn)
            raise self.steps.fail(
                step, f"not configured ({answer.detail()}); {self._lacks(conn, body)}"
            )
        if answer.status in OK:
            detail = data.get("details") if isinstance(data, dict) else None
            raise self.steps.fail(step, f"{outcome}: {detail or answer.detail()}")
        path = api("connections", conn, "test", project=self.unit.project)
        raise self.steps.refused(step, "POST", path, answer)

    def _lacks(self, conn: str, body: dict[str, Any] | None) -> str:
        """What the plan leaves a connection OIC calls "not configured" without, naming the
        plan file, so the user knows which lines to add or fill."""
        missing = lacking(conn, self.plan, body)
        if missing:
            return "the plan leaves it without: " + "; ".join(missing)
        if body is not None and not any(properties(body).values()):
            return "OIC lists no property a plan could set for it: configure it in OIC"
        lines = f"{conn}.connection.<name>= / {conn}.secure.<name>= lines"
        if self.plan is None:
            return f"no connection plan sets it: set connection-plan to a plan with its {lines}"
        where = self.plan.plan.path
        if not self.plan.for_connection(conn):
            return f"{where} has no line for it: add its {lines}"
        return f"every line {where} has for it is set: check their values"

    def _activate(self, target: Target, progress: Progress) -> str:
        if not self.options.activate:
            if target.schedules:
                self.say("activate is false: the schedules stopped stay stopped")
            return "CONFIGURED"
        for iid in self.unit.integrations:
            progress.activated.append(iid)
            self.steps.set_status(iid, "ACTIVATED")
        for iid in sorted(target.schedules):
            self.steps.schedule(iid, "start")
        return "ACTIVATED"

    # -- the whole ---------------------------------------------------------------------------

    def run(self, outcome: DeployOutcome) -> None:
        """Deploy, filling `outcome`; a failure is its error (and, after a rollback,
        ROLLED_BACK with what was restored)."""
        unit = self.unit
        outcome.kind, outcome.id = unit.kind, unit.id
        target = read_target(self.steps, self.bundle.connections)
        outcome.previous = target.previous(unit.kind)
        outcome.action = "replaced" if target.exists else "added"
        if target.exists and not self.options.replace:
            raise self.steps.fail("look at the target", "already there, and replace is false")
        updates = self._updates(target)
        self._check_missing(target, updates)
        outcome.changes = self._describe(target, updates)
        verb = "would" if self.options.dry_run else "will"
        for line in outcome.changes:
            self.say(f"{verb} {line}")
        if self.options.dry_run:
            outcome.status = "PLANNED"
            return
        kept = self._keep(target)
        progress = Progress()
        try:
            self._quiesce(target, progress)
            outcome.action = self._import(target, progress)  # what it was, races included
            for update in updates.values():
                self._configure(update, progress)
            for item in self.bundle.attachments:
                self.steps.upload_attachment(item.owner, item.name, item.path)
                progress.attachments.append(f"{item.owner} {item.name}")
                self.say(f"connection {item.owner}: uploaded attachment {item.name}")
            if self.options.test_connections:
                for conn in self.bundle.connections:
                    self._test(conn)
            for item in self.bundle.lookups:
                done = self.steps.import_lookup(item.name, item.path)
                progress.lookups.append(item.name)
                self.say(f"lookup {item.name}: {done}")
            outcome.status = self._activate(target, progress)
        except OicBuildError as exc:
            outcome.error = exc
            if not (progress.changed or progress.activated):
                return
            if not self.options.rollback:
                changed = "; ".join(progress.said(unit.label))
                outcome.error = type(exc)(
                    f"{exc}; left as it is (rollback is false), this deploy changed: {changed}",
                    exc.file,
                )
                return
            self.ctx.reporter.warning(f"{unit.label}: rolling back after: {exc}")
            said = roll_back(self.steps, target, kept, progress)
            restored = target.exists and not any(s.startswith("could not") for s in said)
            outcome.status = "ROLLED_BACK" if restored else "FAILED"
            outcome.error = type(exc)(f"{exc}; rollback: {'; '.join(said)}", exc.file)
