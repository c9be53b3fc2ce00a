"""Pull: export integrations (or an OIC 3 project) from OIC into the repository as reviewable
source, so the loop is whole: pull -> review -> build -> deploy.

One way through, all checks before any write: resolve the selection against the server's list,
download every archive (bounded by max-workers, each size-capped, to a temp folder outside the
repository), check each as the build would and more, check each destination folder, and only
then write, one integration at a time, each swapped in whole.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from ...errors import ServerError, SettingsError, shown_path
from ...oic.client import OicClient, api
from ...oic.config import missing_server_settings
from ...report import Reporter
from ...settings import Settings
from ..build import connect
from .archive import Checked, check_archive
from .place import Place, places
from .select import list_integrations, resolve, selection_lines
from .write import (
    Present,
    Status,
    inspect,
    inspect_archive,
    remove_leftovers,
    status,
    target_name,
    write,
)


@dataclass(frozen=True)
class Pulled:
    """One integration or project pulled: where it landed and what changed."""

    id: str  # CODE|VERSION, or the project id
    kind: Literal["integration", "project"]
    path: Path  # <integration-path>/<CODE>
    status: Status
    previous: tuple[str, ...] = ()  # the ids the folder held before

    @property
    def before(self) -> list[str]:
        """What the folder held that it no longer does: another version, another project id."""
        return [i for i in self.previous if i != self.id]


@dataclass(frozen=True)
class _Export:
    """One archive to download: what it is, how, and where to."""

    expected: str
    fetch: Callable[[Path], None]
    dest: Path


def pull_root(settings: Settings) -> Path:
    """The one folder pulls land under (`integration-path`)."""
    value = settings.integration_path.strip()
    if "\n" in value or "," in value or set("*?[") & set(value):
        raise SettingsError(
            f"integration-path {value!r}: pull writes under one folder; give one, not a list "
            "or a glob"
        )
    root = Path(value or ".")
    if root.exists() and not root.is_dir():
        raise SettingsError(f"integration-path {root} is not a folder to pull into")
    return root


def check_settings(settings: Settings) -> list[str] | None:
    """Every setting pull needs, checked before the first request: the selection lines (None
    for a project), or a SettingsError naming the input."""
    if missing := missing_server_settings(settings):
        raise SettingsError(
            f"mode pull exports from OIC, but server settings are missing: {', '.join(missing)}"
        )
    if settings.oic_project:
        if settings.integrations:
            raise SettingsError(
                "integrations and oic-project together: with oic-project the whole OIC 3 project "
                "is pulled (OIC exports a project whole, not one integration of it); give one"
            )
        return None
    return selection_lines(settings.integrations)


def _integration_export(client: OicClient, integration_id: str, dest: Path) -> None:
    """GET .../archive; a 423 (locked, or prebuilt: never exported) fails at once with OIC's
    reason rather than being waited out."""
    sha = client.download(
        api("integrations", integration_id, "archive"),
        f"integration {integration_id}",
        dest,
        retry_locks=False,
    )
    if sha is None:
        raise ServerError(
            f"integration {integration_id}: listed, but its archive answers 404 (deleted "
            "meanwhile?); nothing was written"
        )


def _project_export(client: OicClient, project: str, dest: Path) -> None:
    """OIC 3 exports a project by POST with its code and type (docs/live-recording.md); the
    `.car` is streamed to `dest` like any download, and a lock fails at once as for an
    integration."""
    what = f"project {project}"
    answer = client.send(
        "POST",
        api("projects", project, "archive"),
        what,
        json={"code": project, "type": "DEVELOPED"},
        sink=dest,
        accept="application/octet-stream, */*",
        retry_locks=False,
    )
    if not 200 <= answer.status < 300:
        raise client.fail(answer, what)


def _download(exports: list[_Export], workers: int) -> None:
    """Every archive, at most `workers` at a time; the first failure cancels the rest."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="oic-pull")
    try:
        for future in as_completed([pool.submit(e.fetch, e.dest) for e in exports]):
            future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _planned(
    lines: list[str] | None,
    project: str | None,
    client: OicClient,
    where: str,
    tmp: Path,
    reporter: Reporter,
) -> list[_Export]:
    """What to download: the project, or the integrations the lines resolve to."""
    if project is not None:
        return [_Export(project, partial(_project_export, client, project), tmp / "project.car")]
    chosen = resolve(lines or [], list_integrations(client, where), where)
    reporter.info(
        f"{len(chosen)} integration(s) selected on {where}: " + ", ".join(i.id for i in chosen)
    )
    return [
        _Export(
            i.id,
            partial(_integration_export, client, i.id),
            tmp / f"{i.code}_{i.version}.iar",
        )
        for i in chosen
    ]


def _describe(pulled: Pulled, present: Present, checked: Checked, layout: str) -> str:
    where = shown_path(present.folder / target_name(checked, layout))
    if pulled.status == "unchanged":
        return f"{checked.label}: {where} unchanged"
    if pulled.status == "added":
        return f"{checked.label}: added {where} ({len(checked.entries)} files)"
    bumped = f" (was {', '.join(pulled.before)})" if pulled.before else ""
    return f"{checked.label}: updated {where}{bumped}"


def pull(settings: Settings, reporter: Reporter, done: list[Pulled]) -> None:
    """Pull what the settings select; each integration written is appended to `done` as it
    lands, so a failure half-way still reports what changed."""
    root = pull_root(settings)
    lines = check_settings(settings)
    layout, project = settings.layout, settings.oic_project
    kind: Literal["integration", "project"] = "project" if project else "integration"
    with (
        connect(settings, reporter) as server,
        tempfile.TemporaryDirectory(prefix="oic-pull-", ignore_cleanup_errors=True) as tmp,
    ):
        where = server.client.config.where()
        exports = _planned(lines, project, server.client, where, Path(tmp), reporter)
        _download(exports, settings.max_workers)
        checked = [
            check_archive(
                e.dest,
                e.expected,
                project=project is not None,
                whole_tree=layout != "iar",
                find_secret=reporter.redactor.find_line,
            )
            for e in exports
        ]
        reporter.info(f"{len(checked)} archive(s) exported and checked")
        for item in checked:
            for warning in item.meta.warnings:
                reporter.warning(warning.replace(str(item.path), f"{item.label} as exported"))
        placed, unread = places(root, checked)
        for problem in unread:
            reporter.warning(
                f"{problem.message} (pull cannot tell whether it holds one it pulls, which "
                "would then be in two places)"
            )
        plans = [(item, _present(placed[item.id], item, layout)) for item in checked]
        for item, present in plans:
            if present.folder != root / item.meta.code:
                reporter.info(
                    f"{item.label}: the repository keeps it in {shown_path(present.folder)}, "
                    "so it is pulled there"
                )
            for leftover in remove_leftovers(present.folder):
                reporter.info(f"removed {shown_path(leftover)}, left by a pull that was killed")
            state = status(present, item, layout)
            pulled = Pulled(item.id, kind, present.folder, state, present.ids)
            if state != "unchanged":
                for removed in write(present, item, layout):
                    reporter.info(_removal_note(removed, item, layout))
            reporter.info(_describe(pulled, present, item, layout))
            done.append(pulled)


def _present(place: Place, checked: Checked, layout: str) -> Present:
    if place.archive is not None:
        return inspect_archive(place.archive, checked, layout)
    return inspect(place.folder, checked)


def _removal_note(removed: Path, checked: Checked, layout: str) -> str:
    shown = shown_path(removed)
    if removed.name == checked.root:
        return (
            f"removed {shown}/: with layout iar the archive is the source (the build prefers it, "
            "so a tree beside it would be stale)"
        )
    if layout == "iar":
        return f"removed {shown}: another archive of {checked.meta.code}, replaced by this one"
    return (
        f"removed {shown}: the {checked.root}/ folder replaces it (the build prefers a "
        "committed archive, so it would have built the old code)"
    )
