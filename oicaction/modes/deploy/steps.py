"""The requests of a deploy, one method per step: read (with lock waits), quiesce (schedule,
deactivation), import (add or replace), connections (update, attachments, test), lookups,
activate, and the activation poll.

Writes are never re-sent blindly: the client sends again only what never left, a 429 with
Retry-After or a lock; after a 5xx or a cut connection on an import or an update, the state is
read before deciding (a resend happens at most once, and only when the state shows the write
did not take). Every error names the unit, the step and the server's title/detail.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...errors import ServerError
from ...oic.client import Answer, OicClient, UncertainWrite, api, lock_hint
from ...report import Reporter
from .timing import Timing, lock_waits, poll_waits
from .unit import Unit

OK = frozenset({200, 201, 202, 204})
# What `GET .../schedule` says of a running schedule (guessed: docs/live-recording.md).
RUNNING_SCHEDULE = frozenset({"STARTED", "RUNNING", "ACTIVE", "SCHEDULED"})
_TAG = re.compile(r"<[^>]+>")
UNKNOWN = "the server's state is unknown, check it in OIC"


class Steps:
    """The requests for one unit (an integration or a project) against one target."""

    def __init__(
        self,
        client: OicClient,
        unit: Unit,
        reporter: Reporter,
        timing: Timing,
        *,
        tracing: bool = False,
        activation_timeout: float = 600.0,
    ) -> None:
        self.client = client
        self.unit = unit
        self.reporter = reporter
        self.timing = timing
        self.tracing = tracing
        self.activation_timeout = activation_timeout

    # -- errors and reads -------------------------------------------------------------------

    def fail(self, step: str, detail: str) -> ServerError:
        return ServerError(f"{self.unit.label}: {step}: {detail}")

    def refused(self, step: str, method: str, path: str, answer: Answer) -> ServerError:
        detail = answer.detail()
        return self.fail(
            step,
            f"HTTP {answer.status} from {method} {path}: {detail}"
            f"{lock_hint(answer.status, detail)}",
        )

    def read(self, path: str, what: str, step: str) -> dict[str, Any] | None:
        """A JSON object, None on 404; a failure names the step."""
        try:
            return self.client.get_json(path, what)
        except ServerError as exc:
            raise self.fail(step, str(exc)) from None

    def read_unlocked(self, path: str, what: str, step: str) -> dict[str, Any] | None:
        """`read`, looking again with backoff while the object says `lockedFlag`; still locked
        after that is an error naming who holds it."""
        body = self.read(path, what, step)
        for wait in lock_waits(self.timing):
            if body is None or not body.get("lockedFlag"):
                return body
            self.reporter.info(f"{what} is locked; looking again in {wait:g} s")
            time.sleep(wait)
            body = self.read(path, what, step)
        if body is not None and body.get("lockedFlag"):
            by = f" by {body['lockedBy']}" if body.get("lockedBy") else ""
            raise self.fail(step, f"{what} is locked{by} (open in the designer?)")
        return body

    def _path(self, *parts: str) -> str:
        return api(*parts, project=self.unit.project)

    def integration(self, iid: str, step: str = "look at the target") -> dict[str, Any] | None:
        return self.read_unlocked(self._path("integrations", iid), f"integration {iid}", step)

    def connection(self, conn: str, step: str = "look at the target") -> dict[str, Any] | None:
        return self.read_unlocked(self._path("connections", conn), f"connection {conn}", step)

    # -- schedules --------------------------------------------------------------------------

    def schedule_running(self, iid: str, body: dict[str, Any]) -> bool:
        if not body.get("scheduleDefinedFlag"):
            return False
        path = self._path("integrations", iid, "schedule")
        found = self.read(path, f"schedule of {iid}", "look at the target")
        state = str((found or {}).get("state") or (found or {}).get("status") or "").upper()
        return state in RUNNING_SCHEDULE

    def schedule(self, iid: str, action: str) -> None:
        """`stop` or `start` the schedule of `iid`."""
        path = self._path("integrations", iid, "schedule", action)
        step = f"{action} the schedule of {iid}"
        answer = self._send_once(step, "POST", path)
        if answer.status not in OK:
            raise self.refused(step, "POST", path, answer)
        self.reporter.info(f"{self.unit.label}: schedule of {iid}: {action}")

    def _send_once(self, step: str, method: str, path: str, **kw: Any) -> Answer:
        """A write never sent again: a cut connection leaves the state unknown, and says so."""
        answer, problem = self._attempt(step, method, path, **kw)
        if answer is None:
            raise self.fail(step, f"{problem}; {UNKNOWN}")
        return answer

    def _attempt(self, step: str, method: str, path: str, **kw: Any) -> tuple[Answer | None, str]:
        """One send: its answer, or (None, what happened) when the connection was cut after
        the request may have arrived, so the state has to be read before anything else."""
        try:
            return self.client.send(method, path, step, **kw), ""
        except UncertainWrite as exc:
            return None, str(exc)
        except ServerError as exc:
            raise self.fail(step, str(exc)) from None

    def _patch(self, step: str, path: str, body: dict[str, Any]) -> tuple[Answer | None, str]:
        """OIC's PATCH (POST + override), sent once: a 2xx answer, a refusal raised, or
        (None, the 5xx or the cut connection) for the caller to read the state after."""
        answer, problem = self._attempt(step, "POST", path, json=body, override="PATCH")
        if answer is None or answer.status in OK:
            return answer, problem
        if answer.status < 500:
            raise self.refused(step, "POST", path, answer)
        return None, f"HTTP {answer.status}: {answer.detail()}"

    # -- status: deactivate, activate, poll -------------------------------------------------

    def status_of(self, iid: str) -> str | None:
        """`activationStatus` (OIC 3), else the integration's `status`."""
        path = self._path("integrations", iid, "activationStatus")
        found = self.read(path, f"activation status of {iid}", "poll")
        if found is not None and found.get("activationStatus"):
            return str(found["activationStatus"]).upper()
        body = self.read(self._path("integrations", iid), f"integration {iid}", "poll")
        return str(body.get("status") or "").upper() if body else None

    def set_status(self, iid: str, want: str, tracing: bool | None = None) -> None:
        """Activate or deactivate `iid` and wait until it is `want`, within
        activation-timeout; FAILEDACTIVATION is an error with OIC's activation errors.
        `tracing`: the tracing flags to activate with (default: enable-tracing)."""
        step = "activate" if want == "ACTIVATED" else "deactivate"
        path = self._path("integrations", iid)
        body: dict[str, Any] = {"status": want}
        if want == "ACTIVATED":
            on = self.tracing if tracing is None else tracing
            body |= {"tracingEnabledFlag": on, "payloadTracingEnabledFlag": on}
        answer = self._status_write(step, path, body, iid, want)
        now = None
        if answer is not None and isinstance(data := answer.json(), dict):
            now = str(data.get("status") or "").upper() or None
        if now != want:
            now = self._poll(iid, want, step)
        self.reporter.info(f"{self.unit.label}: {iid} is {now}")

    def _status_write(
        self, step: str, path: str, body: dict[str, Any], iid: str, want: str
    ) -> Answer | None:
        """The PATCH; after a 5xx or a cut connection, the status decides: under way or done
        means it took (None: poll), otherwise it is sent once more."""
        for attempt in (1, 2):
            answer, problem = self._patch(step, path, body)
            if answer is not None:
                return answer
            now = self.status_of(iid)
            if now == want or (now or "").endswith("_INPROGRESS"):
                self.reporter.info(f"{self.unit.label}: {step}: {problem}; yet {iid} is {now}")
                return None
            if attempt == 2:
                raise self.fail(step, f"{problem}; {iid} is still {now}")
            self.reporter.info(f"{self.unit.label}: {step}: {problem}; {iid} is {now}: once more")
        return None

    def _poll(self, iid: str, want: str, step: str) -> str:
        now = None
        for wait in poll_waits(self.timing, self.activation_timeout):
            time.sleep(wait)
            now = self.status_of(iid)
            if now == want:
                return now
            if now == "FAILEDACTIVATION":
                raise self.fail(step, f"{iid}: FAILEDACTIVATION: {self.activation_errors(iid)}")
        raise self.fail(
            step, f"{iid} is still {now} after {self.activation_timeout:g} s (activation-timeout)"
        )

    def activation_errors(self, iid: str) -> str:
        path = self._path("integrations", iid, "activationErrors")
        found = self.read(path, f"activation errors of {iid}", "activate") or {}
        text = found.get("errorMessage") or found.get("shortSummaryMessage") or ""
        text = " ".join(_TAG.sub(" ", str(text)).split())
        return text or "OIC gave no activation error detail"

    # -- imports ----------------------------------------------------------------------------

    def import_file(
        self,
        step: str,
        collection: str,
        upload: Path,
        *,
        exists: bool,
        replace: bool = True,
        state: Callable[[], dict[str, Any] | None] | None = None,
        stamp: Callable[[dict[str, Any]], object] | None = None,
        before: object = None,
    ) -> str:
        """Import `upload` into `collection` (`.../archive`): POST adds (204; 409: it exists,
        so PUT), PUT replaces (200; 404: it is gone, so POST). Starts with what `exists` says.
        After a 5xx or a cut connection, `state()` decides: there (added) or changed (`stamp`
        differs from `before`) means it took; else it is sent once more. Returns "added" or
        "replaced"."""
        method = "PUT" if exists else "POST"
        switched = resent = False
        while True:
            answer, problem = self._attempt(step, method, collection, upload=upload)
            done = "replaced" if method == "PUT" else "added"
            if answer is not None and answer.status in OK:
                return done
            if (
                answer is not None
                and not switched
                and (method, answer.status)
                in (
                    ("POST", 409),
                    ("PUT", 404),
                )
            ):
                if method == "POST" and not replace:
                    raise self.fail(step, "already on the target, and replace is false")
                method, switched = ("PUT" if method == "POST" else "POST"), True
                continue
            if answer is not None and answer.status < 500:
                raise self.refused(step, method, collection, answer)
            if answer is not None:
                problem = f"HTTP {answer.status} from {method}: {answer.detail()}"
            if resent or state is None:  # it may have taken: the caller treats it so
                raise UncertainWrite(f"{self.unit.label}: {step}: {problem}; {UNKNOWN}")
            now = state()
            took = now is not None and (
                method == "POST" or (stamp is not None and stamp(now) != before)
            )
            if took:
                self.reporter.info(f"{self.unit.label}: {step}: {problem}; it took all the same")
                return done
            self.reporter.info(f"{self.unit.label}: {step}: {problem}; it did not take: once more")
            resent = True

    # -- connections and lookups ------------------------------------------------------------

    def update_connection(self, conn: str, payload: dict[str, Any]) -> None:
        """PATCH the plan's properties; after a 5xx or a cut connection, once more if the
        connection still answers (the same values again change nothing else)."""
        step = f"configure connection {conn}"
        path = self._path("connections", conn)
        for attempt in (1, 2):
            answer, problem = self._patch(step, path, payload)
            if answer is not None:
                return
            if attempt == 2 or self.connection(conn, step) is None:
                raise self.fail(step, f"{problem}; its values on the target are unknown")
            self.reporter.info(f"{self.unit.label}: {step}: {problem}; sending it once more")

    def upload_attachment(self, conn: str, prop: str, upload: Path) -> None:
        step = f"upload attachment {prop} of connection {conn}"
        path = self._path("connections", conn, "attachments", prop)
        answer = self._send_once(step, "POST", path, upload=upload)
        if answer.status not in OK:
            raise self.refused(step, "POST", path, answer)

    def test_connection(self, conn: str) -> Answer:
        step = f"test connection {conn}"
        return self._send_once(step, "POST", self._path("connections", conn, "test"))

    def lookup_export(self, name: str, step: str) -> bytes | None:
        """The lookup's CSV on the target (the client's reader: a JSON or HTML page is no
        CSV); None when it is not there."""
        try:
            return self.client.lookup_csv(name, self.unit.project)
        except ServerError as exc:
            raise self.fail(step, str(exc)) from None

    def import_lookup(self, name: str, upload: Path) -> str:
        """Its export is read first: after a 5xx or a cut connection, a lookup that was absent
        and is there now, or one whose export changed, took; one that was there before and
        reads the same did not (it is sent once more)."""

        def there() -> dict[str, Any] | None:
            found = self.lookup_export(name, f"import lookup {name}")
            return None if found is None else {"name": name, "export": found}

        before = there()
        return self.import_file(
            f"import lookup {name}",
            self._path("lookups", "archive"),
            upload,
            exists=before is not None,
            state=there,
            stamp=lambda now: now["export"],
            before=None if before is None else before["export"],
        )
