"""Command line and container entry: parse flags, load settings, build, report, exit code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import EXIT_BUILD, EXIT_OK, EXIT_USAGE, OicBuildError
from .report import Reporter


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other settings error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see --help)\n")
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    from .settings import Settings, input_name

    parser = _Parser(
        prog="oic-build",
        description="Build an Oracle Integration (OIC) integration from source control: "
        "package icspackage/ into an .iar (or check a committed one), export its connections "
        "and lookups from OIC, and write one artifact folder.",
        epilog="Every flag can also be given as the GitHub input of the same name "
        "(INPUT_<NAME>), as an OIC_<NAME> variable (hyphens as underscores) or in the .env file. "
        "Exit codes: 0 success, 1 build failure, 2 bad settings.",
    )
    parser.add_argument("--version", action="version", version=f"oic-build {__version__}")
    parser.add_argument("--json", action="store_true", help="print the outputs as one JSON object")
    parser.add_argument(
        "--env-file", type=Path, help=".env file to read (default ./.env, or OIC_ENV_FILE)"
    )
    for name, field in Settings.model_fields.items():
        default = field.default if field.default is not None else "unset"
        parser.add_argument(
            f"--{input_name(name)}",
            dest=name,
            metavar="VALUE",
            help=f"{field.description} (default: {default})",
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    reporter = Reporter()
    flags = {k: v for k, v in vars(args).items() if k not in ("json", "env_file")}
    try:
        from .build import build
        from .outputs import emit, summary_markdown
        from .settings import load_settings

        settings = load_settings(flags, args.env_file)
        reporter.add_secrets(settings.secret_values())
        result = build(settings, reporter)
        outputs = result.outputs()
        text = emit(outputs, summary_markdown(result.summary_rows(), "oic-build"), args.json)
        if text is not None:
            sys.stdout.write(reporter.redact(text) + "\n")
        return EXIT_OK
    except OicBuildError as exc:
        reporter.error(str(exc), exc.file)
        return exc.exit_code
    except KeyboardInterrupt:
        reporter.error("interrupted")
        return EXIT_BUILD
