"""Deploy every artifact under `artifact-path`: each read and checked first (nothing sent for a
bad one), plans resolved and secrets masked before the first request, then each deployed by a
bounded pool of workers (`max-workers`). One failure never stops the others."""

from __future__ import annotations

import tempfile
import traceback
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from ...artifact.record import find_artifacts
from ...errors import EXIT_OK, OicBuildError, SettingsError, SourceError, shown_path, unexpected
from ...oic.client import OicClient
from ...oic.connection_model import is_oic_managed
from ...report import Reporter
from ...settings import Settings
from . import timing as timing_module
from .bundle import Bundle, read_bundle
from .context import Context, DeployOptions, DeployOutcome
from .plan_values import ResolvedPlan, resolve_plan
from .sequence import Deployment
from .timing import Timing


def options_of(settings: Settings) -> DeployOptions:
    return DeployOptions(
        activate=settings.activate,
        enable_tracing=settings.enable_tracing,
        test_connections=settings.test_connections,
        replace=settings.replace,
        rollback=settings.rollback,
        dry_run=settings.dry_run,
        activation_timeout=settings.activation_timeout,
        missing_connections=settings.missing_connections,
        project=settings.oic_project,
    )


def _check_connection_ids(plan: ResolvedPlan, known: set[str]) -> None:
    """Every line names a connection that what is deployed uses: OIC would ignore any other
    line and the user would believe it applied."""
    for value in plan.values:
        conn = value.connection
        if conn in known:
            continue
        why = (
            "is managed by OIC itself and never changed by a deploy"
            if is_oic_managed(conn)
            else f"is not used by what is deployed ({', '.join(sorted(known)) or 'none'})"
        )
        raise SourceError(f"{value.origin}: {value.entry.key}: connection {conn} {why}", value.file)


def _fail(outcome: DeployOutcome, exc: Exception, reporter: Reporter, debug: bool) -> None:
    if isinstance(exc, OicBuildError):
        outcome.error = exc
        return
    outcome.error = unexpected(exc, outcome.path)
    if debug:
        reporter.info("".join(traceback.format_exception(exc)).rstrip())


def prepare(
    settings: Settings, variables: Mapping[str, str], reporter: Reporter
) -> tuple[list[DeployOutcome], dict[int, tuple[Bundle, ResolvedPlan | None]]]:
    """Read and check every artifact and resolve its plan; nothing is sent. Returns the
    outcomes (failed ones with their error) and, by position, what is ready to deploy."""
    if not settings.artifact_path.is_dir():  # a setting at fault, not an artifact: exit 2
        what = "is not a folder" if settings.artifact_path.exists() else "does not exist"
        raise SettingsError(
            f"artifact-path {shown_path(settings.artifact_path)} {what} (the build's "
            "artifact-dir, or one artifact folder in it)"
        )
    folders = find_artifacts(settings.artifact_path)
    if not folders:
        raise SettingsError(
            f"artifact-path {shown_path(settings.artifact_path)} holds no artifact (no "
            "build-info.json in it or in a folder directly inside it)"
        )
    outcomes = [DeployOutcome(shown_path(f)) for f in folders]
    bundles: dict[int, Bundle] = {}
    for n, folder in enumerate(folders):
        try:
            bundles[n] = read_bundle(folder, settings.connection_plan)
        except Exception as exc:
            _fail(outcomes[n], exc, reporter, settings.debug)
    by_id: dict[str, list[int]] = {}
    for n, bundle in bundles.items():
        outcomes[n].kind, outcomes[n].id = bundle.record.kind, bundle.record.id
        by_id.setdefault(bundle.label, []).append(n)
    for label, same in by_id.items():
        if len(same) > 1:
            paths = ", ".join(outcomes[n].path for n in same)
            for n in same:
                outcomes[n].error = SourceError(f"{label} is in more than one artifact: {paths}")
                bundles.pop(n)
    shared = {c for b in bundles.values() for c in b.connections}
    resolved: dict[Path, ResolvedPlan] = {}
    ready: dict[int, tuple[Bundle, ResolvedPlan | None]] = {}
    for n, bundle in bundles.items():
        try:
            plan = None
            if bundle.plan is not None:
                if bundle.plan.path not in resolved:
                    resolved[bundle.plan.path] = resolve_plan(bundle.plan, variables)
                plan = resolved[bundle.plan.path]
                reporter.add_secrets(plan.secrets)
                known = shared if settings.connection_plan else set(bundle.connections)
                _check_connection_ids(plan, known)
            ready[n] = (bundle, plan)
        except Exception as exc:
            _fail(outcomes[n], exc, reporter, settings.debug)
    return outcomes, ready


def _connect(settings: Settings, reporter: Reporter, stack: ExitStack) -> OicClient:
    """The run's one client (pool, token), its settings checked by the first request."""
    from ...oic.config import missing_server_settings
    from ..build import connect  # the build's: one place turns settings into a client

    missing = missing_server_settings(settings)
    if missing:
        raise SettingsError(f"mode deploy needs the target's server settings: {', '.join(missing)}")
    return stack.enter_context(connect(settings, reporter)).client


def run_deploy(
    settings: Settings,
    variables: Mapping[str, str],
    reporter: Reporter,
    timing: Timing | None = None,
) -> list[DeployOutcome]:
    """Deploy every artifact under artifact-path; returns one outcome each."""
    outcomes, ready = prepare(settings, variables, reporter)
    for outcome in outcomes:
        if outcome.error:
            reporter.error(str(outcome.error), outcome.error.file)
    if not ready:
        return outcomes
    options = options_of(settings)
    with ExitStack() as stack:
        client = _connect(settings, reporter, stack)
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="oic-deploy-")))
        ctx = Context(client, options, reporter, timing or timing_module.DEFAULT_TIMING, temp)

        def one(n: int) -> None:
            bundle, plan = ready[n]
            try:
                Deployment(ctx, bundle, plan).run(outcomes[n])
            except Exception as exc:
                _fail(outcomes[n], exc, reporter, settings.debug)
            if (error := outcomes[n].error) is not None:
                reporter.error(str(error), error.file)

        pool = ThreadPoolExecutor(min(settings.max_workers, len(ready)), "oic-deploy")
        try:
            for future in [pool.submit(one, n) for n in sorted(ready)]:
                future.result()
        finally:
            # Stopped (SIGTERM, Ctrl-C): no artifact is started any more; those under way
            # finish their sequence (or roll back), since stopping one half-way would leave
            # its integration deactivated.
            pool.shutdown(wait=True, cancel_futures=True)
    return outcomes


def exit_code(outcomes: list[DeployOutcome]) -> int:
    return max([o.error.exit_code for o in outcomes if o.error] or [EXIT_OK])
