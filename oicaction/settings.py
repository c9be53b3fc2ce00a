"""One settings model fed, in order of precedence, by CLI flags, GitHub inputs, OIC_* variables,
a .env file and defaults, so the same build runs alike as an action, in `docker run` and locally."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from dotenv import dotenv_values
from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import SettingsError

ENV_PREFIX = "OIC_"
INPUT_PREFIX = "INPUT_"
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def _parse_bool(value: object) -> object:
    """Accept only true/false/yes/no/1/0 (any case): a typo must not silently mean False."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not a boolean; use true/false/yes/no/1/0")


Flag = Annotated[bool, BeforeValidator(_parse_bool)]
# Where a build writes its artifacts by default, and so where a deploy reads them by default.
ARTIFACTS = Path("oic-artifacts")
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _parse_size(value: object) -> object:
    """`65536`, `64K`, `64M`, `1G` (also `MiB`/`MB`, both binary) as a number of bytes."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower().removesuffix("ib").removesuffix("b")
    unit = text[-1:] if text[-1:] in ("k", "m", "g") else ""
    number = text[: len(text) - len(unit)].strip()
    if not number.isdigit():
        raise ValueError("not a size; use bytes or a number with K, M or G")
    return int(number) * _SIZE_UNITS[unit]


def input_name(field: str) -> str:
    """The action input / CLI flag name of a field: `integration_path` -> `integration-path`."""
    return field.replace("_", "-")


def env_file_values(env_file: Path | None) -> dict[str, str]:
    """The .env file read literally: `${VAR}` is not expanded (python-dotenv would), so a
    committed .env cannot pull another variable of the runner, a secret say, into a value."""
    if env_file is None or not env_file.is_file():
        return {}
    found = dotenv_values(env_file, interpolate=False, encoding="utf-8")
    return {k: v for k, v in found.items() if v is not None}


class _KeyedSource(PydanticBaseSettingsSource):
    """Gives each field the value under its key in `values`, or nothing (not given).

    GitHub inputs: `INPUT_<NAME>` as the runner passes them to container actions (hyphens kept);
    it sets every declared input, empty when the workflow gave none, so empty means not given
    and lets OIC_* variables and the .env file (`OIC_<NAME>`) through."""

    def __init__(
        self, settings_cls: type[BaseSettings], values: dict[str, str], key: Callable[[str], str]
    ) -> None:
        super().__init__(settings_cls)
        self._values = {k: v for k, v in values.items() if v}
        self._key = key

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        key = self._key(field_name)
        return self._values.get(key), key, False

    def __call__(self) -> dict[str, Any]:
        fields = self.settings_cls.model_fields
        values = {name: self.get_field_value(field, name)[0] for name, field in fields.items()}
        return {name: value for name, value in values.items() if value is not None}


class Settings(BaseSettings):
    """Everything a build needs; field names map to inputs, flags and OIC_* variables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    mode: Literal["build", "discover", "deploy", "pull"] = Field(
        "build",
        description="`build` (default) builds integrations; `discover` lists them as the "
        "`integrations` output, for a matrix; `deploy` puts built artifacts into a target OIC "
        '(README, "Deploying"); `pull` exports integrations (or, with `oic-project`, an OIC 3 '
        'project) from OIC into the repository (README, "Pulling from OIC").',
    )
    integration_path: str = Field(
        ".",
        description="Folder holding the integration's `.iar` and/or its unzipped `icspackage/` "
        "folder, or the `.iar` itself; or an OIC 3 project's `.car` and/or `project/` folder, "
        "or the `.car` itself. Several paths (one per line or comma-separated) or a glob "
        "build a batch. In discover mode, the root to scan; in pull mode, the folder each "
        "integration lands in, as `<integration-path>/<CODE>/`.",
    )
    artifact_dir: Path = Field(
        ARTIFACTS,
        description="Folder the artifact is written to, as `<artifact-dir>/<CODE>_<VERSION>/` "
        "(a project: `<artifact-dir>/<CODE>/`).",
    )
    manage_connections: Flag = Field(
        True, description="Export the definitions of the connections the integration uses from OIC."
    )
    manage_lookups: Flag | None = Field(
        None,
        description="Export the lookups the integration uses from OIC as CSV. Unset, it follows "
        "`manage-connections` (FlexDeploy has one switch for both), so `manage-connections: "
        "false` alone gives an offline build.",
    )
    connection_plan: Path | None = Field(
        None,
        description="Connection plan (`.properties`) to ship with the artifact; default: one "
        "found beside the source (`connectionPlan.properties`, `connection-plan.properties`, "
        "`connection_plan.properties`, `replacement.properties`). In deploy mode, the target "
        "environment's plan (values may be `${NAME}`, read from the step's environment); "
        "default: the artifact's own.",
    )
    oic_url: str | None = Field(
        None,
        description="OIC REST API host: on OIC 3 the design host "
        "`https://design.integration.<region>.ocp.oraclecloud.com` (a runtime/console URL is "
        "refused naming the design URL to use); on Gen2 the instance URL.",
    )
    oic_instance: str | None = Field(
        None,
        description="OIC 3 integration instance name (About page, 'Service instance'; sent as "
        "`?integrationInstance=`). Required with the design host.",
    )
    oic_project: str | None = Field(
        None,
        description="OIC 3 project identifier: connections, their attachments and lookups are "
        "read from `/ic/api/integration/v1/projects/<id>/...` (default for a project build: "
        "the `id` in its `project.yaml`; else the global paths).",
    )
    username: str | None = Field(None, description="Basic-auth user (OIC Gen2).")
    password: SecretStr | None = Field(
        None, description="Basic-auth password (OIC Gen2); pass a secret."
    )
    client_id: str | None = Field(
        None, description="OAuth2 client id (OIC Gen3, client credentials)."
    )
    client_secret: SecretStr | None = Field(
        None, description="OAuth2 client secret (OIC Gen3); pass a secret."
    )
    token_url: str | None = Field(
        None, description="OAuth2 token endpoint (the identity domain's `/oauth2/v1/token`)."
    )
    scope: str | None = Field(
        None,
        description="OAuth2 scope, required with `client-id`: the OAuth resource's audience from "
        "the confidential app's token policy (not the design host) followed by "
        "`urn:opc:resource:consumer::all`, e.g. "
        "`https://<id>.integration.<region>.ocp.oraclecloud.com:443urn:opc:resource:consumer::all`.",
    )
    max_workers: int = Field(
        4, ge=1, le=64, description="How many requests to OIC may run at once."
    )
    request_deadline: float = Field(
        120.0,
        gt=0,
        le=3600,
        description="Seconds one request to OIC may take in all, retries included, however "
        "slowly the server trickles its answer; past it the build fails naming this input.",
    )
    max_response_size: Annotated[int, BeforeValidator(_parse_size)] = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="Largest answer accepted from OIC, in bytes or with `K`/`M`/`G` (`64M`); a "
        "larger one fails the build naming this input instead of filling memory.",
    )
    missing_connections: Literal["error", "warn"] = Field(
        "error", description="What a connection missing on the server does: `error` or `warn`."
    )
    debug: Flag = Field(
        False, description="Print the Python traceback of an unexpected error (for a bug report)."
    )

    include: str | None = Field(
        None,
        description="discover: glob patterns (one per line or comma-separated) of source "
        "paths to keep, relative to `integration-path`.",
    )
    exclude: str | None = Field(
        None, description="discover: glob patterns of source paths to leave out."
    )
    changed_since: str | None = Field(
        None,
        description="discover: a git ref; keep only integrations with files changed since it "
        "(e.g. `github.event.before`).",
    )
    integrations: str | None = Field(
        None,
        description="pull: what to export from OIC, one per line or comma-separated: an id "
        "`CODE|VERSION`, a code (its latest version) or a glob of codes (`ORDERS_*`).",
    )
    layout: Literal["icspackage", "iar"] = Field(
        "icspackage",
        description="pull: `icspackage` (default) writes each integration as its unzipped "
        "`icspackage/` folder (a project: `project/`), for review; `iar` commits the archive "
        "as exported (a project: its `.car`).",
    )

    artifact_path: Path = Field(
        ARTIFACTS,
        description="deploy: one artifact folder (holding `build-info.json`), or a folder "
        "holding several, as the build's `artifact-dir` writes them.",
    )
    activate: Flag = Field(
        True,
        description="deploy: activate what was imported, and restart the schedules that were "
        "running; `false` leaves it CONFIGURED.",
    )
    enable_tracing: Flag = Field(
        False,
        description="deploy: activate with tracing and payload tracing on (FlexDeploy's "
        '"Enable Tracing"); never on unless asked.',
    )
    test_connections: Flag = Field(
        True,
        description="deploy: test each connection after configuring it; one that OIC says is "
        "not configured fails the deploy naming the plan lines it lacks.",
    )
    replace: Flag = Field(
        True,
        description="deploy: replace an integration (or project) already on the target with "
        'the same id; `false` makes that an error (FlexDeploy\'s "Overwrite Integrations").',
    )
    rollback: Flag = Field(
        True,
        description="deploy: after a failure, re-import what the target had and restore its "
        "status (connection changes are not undone).",
    )
    dry_run: Flag = Field(
        False,
        description="deploy: look at the target and print what would change (secret values "
        "as `(set)`), changing nothing.",
    )
    activation_timeout: float = Field(
        600.0,
        gt=0,
        le=86400,
        description="deploy: seconds to wait for an activation (or deactivation) to finish.",
    )

    @model_validator(mode="after")
    def _lookups_follow_connections(self) -> Settings:
        if self.manage_lookups is None:
            self.manage_lookups = self.manage_connections
        return self

    @field_validator("integration_path", "artifact_dir", "connection_plan", "artifact_path")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """No path the system takes holds a NUL: refused here, as a setting (exit 2)."""
        if "\0" in str(value):
            raise ValueError("holds a NUL character, which no path can")
        return value

    @field_validator("missing_connections", "mode", "layout", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = getattr(dotenv_settings, "env_file", None)  # load_settings' _env_file
        found = env_file_values(Path(env_file) if env_file is not None else None)
        inputs = {k: v.strip() for k, v in os.environ.items() if k.startswith(INPUT_PREFIX)}
        dotenv = {k.upper(): v for k, v in found.items()}
        return (
            init_settings,
            _KeyedSource(settings_cls, inputs, lambda f: INPUT_PREFIX + input_name(f).upper()),
            env_settings,
            _KeyedSource(settings_cls, dotenv, lambda f: ENV_PREFIX + f.upper()),
        )

    def secret_values(self) -> list[str]:
        """Values that must never be printed: masked in GitHub logs and redacted everywhere."""
        return [v.get_secret_value() for f in SECRET_FIELDS if (v := getattr(self, f))]


# Every SecretStr field: masked, redacted, never echoed in an error.
SECRET_FIELDS = tuple(
    name for name, field in Settings.model_fields.items() if SecretStr in get_args(field.annotation)
)


def raw_secrets(flags: dict[str, Any]) -> list[str]:
    """Secret values as given (flags, inputs, variables), before any validation, so they can be
    masked before the first line is printed, even a line about bad settings."""
    found = [str(flags[f]) for f in SECRET_FIELDS if flags.get(f)]
    for field in SECRET_FIELDS:
        for key in (INPUT_PREFIX + input_name(field).upper(), ENV_PREFIX + field.upper()):
            if value := os.environ.get(key, "").strip():
                found.append(value)
    return found


def _describe_origin(field: str, flags: dict[str, Any], env_file: Path | None) -> str:
    """Say where a value came from, so the error points at the flag, input, variable or file."""
    if field in flags:
        return f"flag --{input_name(field)}"
    key = INPUT_PREFIX + input_name(field).upper()
    if os.environ.get(key, "").strip():
        return f"input '{input_name(field)}' ({key})"
    env = ENV_PREFIX + field.upper()
    if os.environ.get(env, ""):
        return f"variable {env}"
    if env_file is not None and env_file.is_file():
        return f"setting {env} in {env_file}"
    return f"setting '{input_name(field)}'"


def resolve_env_file(given: Path | None) -> Path:
    """The .env file to read: one named by --env-file (`given`) or OIC_ENV_FILE must exist (a
    typo must not silently drop every setting in it); the default ./.env may be absent."""
    named = os.environ.get("OIC_ENV_FILE")
    origin = "--env-file" if given is not None else "OIC_ENV_FILE" if named else None
    env_file = given if given is not None else Path(named or ".env")
    if origin and not env_file.exists():
        raise SettingsError(f"env file {env_file} (from {origin}) does not exist")
    return env_file


def load_settings(flags: dict[str, Any] | None = None, env_file: Path | None = None) -> Settings:
    """Build Settings from all sources; a bad value becomes one SettingsError naming its origin."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    env_file = env_file if env_file is not None else resolve_env_file(None)
    if env_file.exists() and not env_file.is_file():
        raise SettingsError(f"env file {env_file} is not a file", file=env_file)
    try:
        return Settings(_env_file=env_file, **flags)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SettingsError(f"env file {env_file}: cannot read ({reason})", file=env_file) from None
    except ValidationError as exc:
        # The input and where it came from, never its value: any value may be a secret (a
        # variable, a .env line or an input can carry one into any setting).
        problems = []
        for err in exc.errors(include_input=False):
            field = str(err["loc"][0]) if err["loc"] else "?"
            origin = _describe_origin(field, flags, env_file)
            problems.append(f"{origin}: {err['msg'].removeprefix('Value error, ')}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
