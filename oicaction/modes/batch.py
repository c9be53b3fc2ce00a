"""Build several integrations and projects in one step: each into its own folder, one failure
never costs the others their artifacts, and duplicates of one CODE|VERSION (or project code) are
refused by name."""

from __future__ import annotations

import glob
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_OK, OicBuildError, SettingsError, shown_path, stop_of, unexpected
from ..oic.config import missing_server_settings
from ..oic.url import shown_url
from ..report import Reporter
from ..settings import Settings
from .build import (
    BuildResult,
    CheckedSource,
    check_source,
    connect,
    protected_paths,
    server_reasons,
    write_artifact,
)
from .discover import duplicates, split_list

if TYPE_CHECKING:
    from ..oic.fetch_cache import ServerCache

_GLOB_CHARS = frozenset("*?[")


@dataclass
class Outcome:
    """One integration of a batch: built, or failed with a one-line error."""

    path: str
    checked: CheckedSource | None = None
    result: BuildResult | None = None
    error: OicBuildError | None = None


def is_batch(value: str) -> bool:
    """Several paths or a glob: the build reports per integration, as a batch."""
    items = split_list(value)
    return len(items) > 1 or any(_GLOB_CHARS & set(item) for item in items)


def resolve_paths(value: str) -> list[Path]:
    """`integration-path` as a list: one per line or comma-separated, globs expanded (sorted)."""
    paths: list[Path] = []
    for item in split_list(value) or ["."]:
        matches = sorted(glob.glob(item, recursive=True)) if _GLOB_CHARS & set(item) else [item]
        if not matches:
            raise SettingsError(f"integration-path {item} matches nothing")
        paths += map(Path, matches)
    seen: dict[Path, Path] = {}
    for path in paths:
        seen.setdefault(path.resolve(), path)
    return list(seen.values())


def build_batch(settings: Settings, paths: list[Path], reporter: Reporter) -> list[Outcome]:
    """Check every source first (so duplicates are known before anything is written), then
    build each that passed; errors are collected, reported, and the batch goes on."""
    outcomes = [Outcome(shown_path(p)) for p in paths]
    for outcome, path in zip(outcomes, paths, strict=True):
        with _failure_of(outcome, reporter, settings.debug):
            outcome.checked = check_source(settings, path, reporter)
    checked = [o for o in outcomes if o.checked]
    for same, error in duplicates([(o.path, o.checked.meta) for o in checked if o.checked]):
        for i in same:
            checked[i].error = error
    protected = protected_paths(paths, [o.checked for o in checked if o.checked])
    server = _connect(settings, outcomes, reporter)
    with server or nullcontext():
        for outcome in outcomes:
            if outcome.checked and not outcome.error:
                with _failure_of(outcome, reporter, settings.debug):
                    outcome.result = write_artifact(
                        settings, outcome.checked, reporter, server, protected
                    )
            if outcome.error:
                reporter.error(str(outcome.error), outcome.error.file)
    return outcomes


@contextmanager
def _failure_of(outcome: Outcome, reporter: Reporter, debug: bool) -> Iterator[None]:
    """Whatever goes wrong in one integration is its failure and the batch goes on; an error not
    ours (a bug) as one line naming its type, the traceback only when `debug` asks."""
    try:
        yield
    except Exception as exc:
        if (stop := stop_of(exc)) is not None:
            raise stop from None  # an error on the way out of a stop: the batch stops all the same
        outcome.error = exc if isinstance(exc, OicBuildError) else unexpected(exc, outcome.path)
        if debug and outcome.error is not exc:  # a bug: its traceback
            reporter.info("".join(traceback.format_exception(exc)).rstrip())


def _connect(settings: Settings, outcomes: list[Outcome], reporter: Reporter) -> ServerCache | None:
    """One OIC client for every integration of the run that exports; None when none does or
    settings are missing (each such build says which). A client that cannot be set up fails
    those integrations only."""
    exporting = [
        o
        for o in outcomes
        if o.checked and not o.error and server_reasons(settings, o.checked.meta)
    ]
    if not exporting or missing_server_settings(settings):
        return None
    setup = Outcome(f"OIC client for {shown_url(settings.oic_url or '')}")
    server = None
    with _failure_of(setup, reporter, settings.debug):
        server = connect(settings, reporter)
    for outcome in exporting if setup.error else ():
        outcome.error = setup.error
    return server


def exit_code(outcomes: list[Outcome]) -> int:
    return max([o.error.exit_code for o in outcomes if o.error] or [EXIT_OK])
