"""Build several integrations in one step: each into its own folder, one failure never costs
the others their artifacts, and duplicates of one CODE|VERSION are refused by name."""

from __future__ import annotations

import glob
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .discover import split_list
from .errors import EXIT_OK, OicBuildError, SettingsError
from .outputs import markdown_table, to_output_text
from .pipeline import BuildResult, Loaded, load, needs_server, produce
from .report import Reporter
from .settings import Settings

_GLOB_CHARS = frozenset("*?[")


@dataclass
class Outcome:
    """One integration of a batch: built, or failed with a one-line error."""

    path: str
    loaded: Loaded | None = None
    result: BuildResult | None = None
    error: OicBuildError | None = None

    def as_json(self) -> dict[str, object]:
        meta = self.loaded.meta if self.loaded else None
        res = self.result
        return {
            "path": self.path,
            "id": meta.id if meta else None,
            "code": meta.code if meta else None,
            "version": meta.version if meta else None,
            "status": "built" if res else "failed",
            "artifact-dir": res.artifact.as_posix() if res else None,
            "iar-path": res.iar.as_posix() if res else None,
            "sha256": res.sha256 if res else None,
            "error": str(self.error) if self.error else None,
        }


def is_batch(value: str) -> bool:
    """Several paths or a glob: the build reports per integration, as a batch."""
    items = split_list(value)
    return len(items) > 1 or any(_GLOB_CHARS & set(item) for item in items)


def resolve_paths(value: str) -> list[Path]:
    """`integration-path` as a list: one per line or comma-separated, globs expanded (sorted)."""
    paths: list[Path] = []
    for item in split_list(value) or ["."]:
        if _GLOB_CHARS & set(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                raise SettingsError(f"integration-path {item} matches nothing")
            paths.extend(Path(m) for m in matches)
        else:
            paths.append(Path(item))
    seen: dict[Path, Path] = {}
    for path in paths:
        seen.setdefault(path.resolve(), path)
    return list(seen.values())


def build_batch(settings: Settings, paths: list[Path], reporter: Reporter) -> list[Outcome]:
    """Load every source first (so duplicates are known before anything is written), then
    build each that loaded; errors are collected, reported, and the batch goes on."""
    outcomes = [Outcome(p.as_posix()) for p in paths]
    for outcome, path in zip(outcomes, paths, strict=True):
        try:
            outcome.loaded = load(settings, path, reporter)
        except OicBuildError as exc:
            outcome.error = exc
    by_id: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.loaded:
            by_id.setdefault(outcome.loaded.meta.id, []).append(outcome)
    for id_, same in by_id.items():
        if len(same) > 1:
            paths_text = " and ".join(o.path for o in same)
            for outcome in same:
                outcome.error = OicBuildError(
                    f"integration {id_} is in both {paths_text}; code and version must be unique"
                )
    with ExitStack() as stack:
        _share_server(settings, outcomes, stack)
        for outcome in outcomes:
            if outcome.loaded and not outcome.error:
                try:
                    outcome.result = produce(settings, outcome.loaded, reporter)
                except OicBuildError as exc:
                    outcome.error = exc
            if outcome.error:
                reporter.error(str(outcome.error), outcome.error.file)
    return outcomes


def _share_server(settings: Settings, outcomes: list[Outcome], stack: ExitStack) -> None:
    """One OIC client, token and fetch-once cache for every integration of the run that
    exports; a client that cannot even be set up fails those integrations only."""
    exporting = [
        o for o in outcomes if o.loaded and not o.error and needs_server(settings, o.loaded.meta)
    ]
    if not exporting or settings.missing_server_settings():
        return  # nothing to share, or each build says which settings are missing
    from .artifact.export import shared_cache  # the HTTP stack loads only when needed

    try:
        stack.enter_context(shared_cache(settings))
    except OicBuildError as exc:
        for outcome in exporting:
            outcome.error = exc


def exit_code(outcomes: list[Outcome]) -> int:
    return max([o.error.exit_code for o in outcomes if o.error] or [EXIT_OK])


def batch_outputs(settings: Settings, outcomes: list[Outcome]) -> dict[str, str]:
    return {
        "artifact-dir": settings.artifact_dir.as_posix(),
        "integrations": to_output_text([o.as_json() for o in outcomes]),
    }


def batch_summary(outcomes: list[Outcome]) -> str:
    rows = [
        (
            f"`{o.loaded.meta.id}`" if o.loaded else "–",
            f"`{o.path}`",
            "built" if o.result else f"failed: {o.error}",
        )
        for o in outcomes
    ]
    built = sum(1 for o in outcomes if o.result)
    return markdown_table(
        f"oic-build: {built} of {len(outcomes)} built", ("integration", "path", "result"), rows
    )
