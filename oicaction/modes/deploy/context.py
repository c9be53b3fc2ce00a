"""What every artifact of a deploy run shares (the client, the options, the reporter, the temp
folder, the connections already updated) and what each one ends as (its outcome)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import OicBuildError
from ...oic.client import OicClient
from ...report import Reporter
from .timing import Timing


@dataclass(frozen=True)
class DeployOptions:
    """The deploy inputs, resolved once from Settings."""

    activate: bool = True
    enable_tracing: bool = False
    test_connections: bool = True
    replace: bool = True
    rollback: bool = True
    dry_run: bool = False
    activation_timeout: float = 600.0
    missing_connections: str = "error"
    project: str | None = None  # oic-project: where an integration is deployed


@dataclass
class DeployOutcome:
    """One artifact deployed (or planned, or failed): a row of `deployed`."""

    path: str
    kind: str | None = None
    id: str | None = None
    action: str | None = None  # added | replaced
    status: str = "FAILED"  # ACTIVATED | CONFIGURED | FAILED | ROLLED_BACK | PLANNED
    previous: str | dict[str, str | None] | None = None
    changes: list[str] = field(default_factory=list)
    error: OicBuildError | None = None


class Ledger:
    """Connections updated in this run: one shared by several artifacts is updated once with
    the same values, never by two workers at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._done: dict[str, str] = {}

    def lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def done(self, key: str, payload: dict[str, Any]) -> bool:
        return self._done.get(key) == _digest(payload)

    def record(self, key: str, payload: dict[str, Any]) -> None:
        self._done[key] = _digest(payload)


def _digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(repr(sorted(payload.items())).encode()).hexdigest()


@dataclass
class Context:
    """What every artifact of a run shares."""

    client: OicClient
    options: DeployOptions
    reporter: Reporter
    timing: Timing
    temp: Path
    ledger: Ledger = field(default_factory=Ledger)
