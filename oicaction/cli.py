"""Command line and container entry: parse flags, load settings, build, report, exit code."""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import threading
import traceback
from contextlib import suppress
from difflib import get_close_matches
from pathlib import Path
from types import FrameType
from typing import NoReturn, get_args

from . import __version__, outputs
from .errors import (
    EXIT_BUILD,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGPIPE,
    EXIT_SIGTERM,
    OicBuildError,
    SettingsError,
    stop_of,
    unexpected,
)
from .modes.batch import build_batch, exit_code, is_batch, resolve_paths
from .modes.discover import discover, split_list
from .redact import Redactor
from .report import Reporter
from .settings import (
    Settings,
    env_file_values,
    input_name,
    load_settings,
    raw_secrets,
    resolve_env_file,
)

# The modes as commands, in the order --help and the usage error name them.
_COMMANDS = get_args(Settings.model_fields["mode"].annotation)


class _Parser(argparse.ArgumentParser):
    """argparse, but its own messages are never shown: they quote what was typed, and a
    mistyped flag (`--pasword hunter2`) is not known to be secret."""

    def error(self, message: str) -> NoReturn:
        raise argparse.ArgumentError(None, message)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The flags; a usage error is a SettingsError (exit 2) made of our own names and those of
    unknown options only, each with the flag it is closest to."""
    parser = _Parser(
        prog="oic-build",
        allow_abbrev=False,  # `--pass=x` must not be taken for --password, nor echoed
        exit_on_error=False,
        description="Build an Oracle Integration (OIC) integration from source control: "
        "package icspackage/ into an .iar (or check a committed one), export its connections "
        "and lookups from OIC, and write one artifact folder.",
        epilog="Every flag can also be given as the GitHub input of the same name "
        "(INPUT_<NAME>), as an OIC_<NAME> variable (hyphens as underscores) or in the .env file. "
        "Exit codes: 0 success, 1 build failure, 2 bad settings.",
    )
    add = parser.add_argument
    add(
        "command",
        nargs="?",
        choices=_COMMANDS,
        help="build (default); discover: list the integrations under --integration-path; "
        "deploy: put the artifacts under --artifact-path into the target OIC; "
        "pull: export --integrations from OIC into --integration-path",
    )
    add("--version", action="version", version=f"oic-build {__version__}")
    add("--json", action="store_true", help="print the outputs as one JSON object")
    flags = [
        add("--env-file", type=Path, help=".env file to read (default ./.env, or OIC_ENV_FILE)")
    ]
    for name, field in Settings.model_fields.items():
        default = field.default if field.default is not None else "unset"
        text = f"{field.description} (default: {default})"
        flags.append(add(f"--{input_name(name)}", dest=name, metavar="VALUE", help=text))
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return parser.parse_args(argv)
    except argparse.ArgumentError as exc:
        takes_value = {o for a in flags for o in a.option_strings}
        known = [*takes_value, "--version", "--json", "--help", "-h", *_COMMANDS]
        raise _usage_error(argv, takes_value, known, exc.argument_name) from None


def _usage_error(
    argv: list[str], takes_value: set[str], known: list[str], at: str | None
) -> SettingsError:
    """`at`: the flag or command argparse found at fault, by its name."""
    unknown: list[str] = []
    short = False  # `-pHunter2`: a short option and its value run together, never shown
    words = iter(argv)
    for word in words:
        name, eq, _ = word.partition("=")
        if word == "--":
            break
        if name in takes_value and not eq:
            next(words, None)  # its value, whatever it looks like
        elif word.startswith("--") and name not in known and name not in unknown:
            unknown.append(name)
        elif word.startswith("-") and name not in known:
            short = True
    if unknown or short:
        said = [f"{u} -> {m[0]}" for u in unknown if (m := get_close_matches(u, known, 1))]
        hint = f"; did you mean {', '.join(said)}?" if said else ""
        names = [*unknown, *(["a short one (not shown)"] if short else [])]
        reason = f"unknown option{'s' if len(names) > 1 else ''} {', '.join(names)}{hint}"
    elif at in takes_value:
        reason = f"{at} needs a value (one that starts with '-' is given as {at}=VALUE)"
    elif at in known:
        reason = f"{at} takes no value"
    elif at == "command":
        reason = f"the command, if given, is {', '.join(_COMMANDS[:-1])} or {_COMMANDS[-1]}"
    else:
        reason = "more words than one command (not shown: they may hold a secret)"
    return SettingsError(f"{reason} (see --help)")


def _hand_back(
    values: outputs.Outputs, summary: outputs.Table, as_json: bool, reporter: Reporter
) -> None:
    """Step outputs and summary to the runner's files; the --json object on stdout."""
    if (text := outputs.emit(values, summary, as_json, reporter.redactor)) is not None:
        reporter.result(text)


def _discover(settings: Settings, reporter: Reporter, as_json: bool) -> int:
    """List sources for a matrix; unreadable ones are annotated and fail the step, after the
    output is written, so nothing is dropped silently."""
    root = Path(settings.integration_path)
    found, problems = discover(
        root,
        include=split_list(settings.include),
        exclude=split_list(settings.exclude),
        changed_since=settings.changed_since,
        skip=[settings.artifact_dir],
    )
    for item in found:
        reporter.info(f"found {item.meta.label} in {item.path}")
    for problem in problems:
        reporter.error(problem.message, problem.file)
    reporter.info(
        f"{len(found)} source(s) found under {root}"
        + (f", {len(problems)} problem(s)" if problems else "")
    )
    _hand_back(
        outputs.discover_outputs(found),
        outputs.discover_summary(found, problems),
        as_json,
        reporter,
    )
    return EXIT_BUILD if problems else EXIT_OK


def _pull(settings: Settings, reporter: Reporter, as_json: bool) -> int:
    """Export from OIC into the repository; the outputs say what changed, also when a write
    fails half-way (what landed before it stays, each integration whole)."""
    from .modes.pull.run import Pulled, pull

    done: list[Pulled] = []
    try:
        pull(settings, reporter, done)
    except OicBuildError:
        if done:  # integrations written before the failure are in the outputs
            _hand_back(outputs.pull_outputs(done), outputs.pull_summary(done), as_json, reporter)
        raise
    _hand_back(outputs.pull_outputs(done), outputs.pull_summary(done), as_json, reporter)
    return EXIT_OK


def _build(settings: Settings, reporter: Reporter, as_json: bool) -> int:
    """One path: the single-integration outputs; several or a glob: a batch."""
    paths = resolve_paths(settings.integration_path)
    outcomes = build_batch(settings, paths, reporter)
    single = not is_batch(settings.integration_path)
    if single and not outcomes[0].result:
        return exit_code(outcomes)  # the error is reported; no outputs to hand on
    values = outputs.build_outputs(settings.artifact_dir, outcomes, single)
    _hand_back(values, outputs.build_summary(outcomes, single), as_json, reporter)
    return exit_code(outcomes)


def _deploy(settings: Settings, reporter: Reporter, as_json: bool, env_file: Path) -> int:
    """Deploy every artifact under artifact-path; outputs even when some failed."""
    from .modes.deploy.run import exit_code as deploy_exit_code
    from .modes.deploy.run import run_deploy

    # What a plan's `${NAME}` may read: the .env file, then the environment, which wins, as it
    # does for settings.
    outcomes = run_deploy(settings, {**env_file_values(env_file), **os.environ}, reporter)
    _hand_back(
        outputs.deploy_outputs(outcomes),
        outputs.deploy_summary(outcomes, settings.dry_run),
        as_json,
        reporter,
    )
    failed = sum(1 for o in outcomes if o.error)
    reporter.info(
        f"deploy: {len(outcomes) - failed} of {len(outcomes)} artifact(s) "
        + ("planned (dry run)" if settings.dry_run else "deployed")
    )
    return deploy_exit_code(outcomes)


def _terminate(signum: int, frame: FrameType | None) -> NoReturn:
    """SIGTERM (docker stop, a cancelled job) unwinds as SystemExit(143), so the stage cleans
    up; no per-integration handler catches a SystemExit. As PID 1 in a container the process
    has no default action for it: without a handler `docker stop` waits, then kills."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleanup short
    raise SystemExit(EXIT_SIGTERM)


_STOPPED = {
    EXIT_SIGINT: "interrupted (SIGINT)",
    EXIT_SIGTERM: "terminated (SIGTERM)",
    EXIT_SIGPIPE: "stdout closed (broken pipe)",
}


def _stopped(stop: KeyboardInterrupt | SystemExit, reporter: Reporter) -> int:
    """Say in one line why the run stopped; the unwinding has removed the staging folder."""
    code = EXIT_SIGINT if isinstance(stop, KeyboardInterrupt) else int(stop.code or 0)
    # Objects a stop cut short (a zip file half-way through an entry) complain when collected:
    # noise after the line below, never a finding.
    sys.unraisablehook = lambda _: None
    line = f"{_STOPPED[code]}; nothing half-written is left"
    try:
        reporter.error(line)
    except SystemExit:  # the log is stdout (GitHub) and it is closed: stderr, if still there
        with suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # quiet exit flush
            sys.stderr.write(f"error: {line}\n")
            sys.stderr.flush()
    return code


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a name that is not UTF-8 must not crash a line
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    if threading.current_thread() is not threading.main_thread():
        return _main(argv)  # only the main thread may handle signals
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    redactor = Redactor()  # the run's one redaction: log, annotations, outputs, artifact files
    reporter = Reporter(redactor=redactor)
    reporter.add_secrets(raw_secrets({}))  # masks first: before any other line, even usage
    debug = False
    try:
        args = _parse(argv)
        flags = {k: v for k, v in vars(args).items() if k not in ("json", "env_file", "command")}
        if args.command:
            flags["mode"] = args.command
        reporter.add_secrets(raw_secrets(flags))
        env_file = resolve_env_file(args.env_file)
        settings = load_settings(flags, env_file)
        reporter.add_secrets(settings.secret_values())
        for user, secret in ((settings.username, settings.password),
                             (settings.client_id, settings.client_secret)):  # fmt: skip
            redactor.add_credentials(user, secret.get_secret_value() if secret else None)
        debug = settings.debug
        if settings.mode == "discover":
            return _discover(settings, reporter, args.json)
        if settings.mode == "deploy":
            return _deploy(settings, reporter, args.json, env_file)
        if settings.mode == "pull":
            return _pull(settings, reporter, args.json)
        return _build(settings, reporter, args.json)
    except BaseException as exc:
        if (stop := stop_of(exc)) is not None:
            return _stopped(stop, reporter)
        if isinstance(exc, OicBuildError):
            reporter.error(str(exc), exc.file)
            return exc.exit_code
        if not isinstance(exc, Exception):
            raise  # --help and --version exit
        # the last resort: one line, never a traceback unless asked
        reporter.error(str(unexpected(exc, "oic-build")))
        if debug:
            reporter.info("".join(traceback.format_exception(exc)).rstrip())
        return EXIT_BUILD
