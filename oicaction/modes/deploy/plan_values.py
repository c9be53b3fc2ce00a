"""A plan's lines as the values a deploy sends: `${NAME}` taken from the step's environment (and
the .env file), every secret collected for masking, and every problem raised before anything is
changed on the server.

- `<ID>.secure.<name>=` lines and every value read through `${NAME}` (or `${{NAME}}`) are
  secrets: masked in GitHub (`::add-mask::`) and redacted from every sink.
- An empty value (the build's template leaves secrets empty) means: leave it as on the target.
  OIC's own mask `*****` reads the same.
- `${NAME}` unset or empty is a settings error naming the plan line and NAME (a GitHub secret not
  defined for the environment arrives as an empty variable). Other placeholder styles
  (`%%NAME%%`, `#{NAME}`, `@NAME@`) are not substituted here: an error, so that the placeholder
  is never sent as a password.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ...artifact.plan import Plan, PlanEntry, is_placeholder
from ...errors import SettingsError, SourceError, shown_path

_REFERENCE = re.compile(r"\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class PlanValue:
    """One plan line resolved: `value` empty means "leave as on the target"."""

    entry: PlanEntry
    value: str
    secret: bool
    origin: str  # "plan.properties:12"
    file: Path

    @property
    def connection(self) -> str:
        return self.entry.connection

    @property
    def list_name(self) -> str:
        """OIC's list the line belongs to (FlexDeploy's convention)."""
        return "securityProperties" if self.entry.kind == "secure" else "connectionProperties"


@dataclass(frozen=True)
class ResolvedPlan:
    plan: Plan
    values: tuple[PlanValue, ...]
    secrets: tuple[str, ...]  # every value to mask, before any line that could show it

    def for_connection(self, conn: str) -> list[PlanValue]:
        return [v for v in self.values if v.connection == conn]


def _substitute(
    entry: PlanEntry, origin: str, variables: Mapping[str, str]
) -> tuple[str, list[str]]:
    """The value with every reference replaced; the referenced values (secrets)."""
    used: list[str] = []

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        value = variables.get(name, "")
        if not value:
            raise SettingsError(
                f"{origin}: {entry.key} references ${{{name}}}, which is not set or empty in "
                "the step's environment or .env (pass it as `env:` of the step, e.g. from a "
                "secret of the GitHub environment)"
            )
        used.append(value)
        return value

    return _REFERENCE.sub(one, entry.value), used


def resolve_plan(plan: Plan, variables: Mapping[str, str]) -> ResolvedPlan:
    """Every line of `plan` resolved against `variables` (the environment, then .env)."""
    values: list[PlanValue] = []
    secrets: list[str] = []
    last: dict[str, int] = {}
    for entry in plan.entries:
        last[entry.key] = entry.line  # a key set twice: the last line wins, as in Java
    for entry in plan.entries:
        if last[entry.key] != entry.line:
            continue
        origin = f"{shown_path(plan.path)}:{entry.line}"
        text, used = _substitute(entry, origin, variables)
        if not used and set(text.strip()) == {"*"}:
            text = ""  # OIC's mask, as an export shows a secret: nothing to send
        elif not used and is_placeholder(text):
            raise SourceError(
                f"{origin}: {entry.key} holds a placeholder that deploy does not substitute; "
                "write ${NAME} and pass NAME in the step's environment",
                file=plan.path,
            )
        secret = entry.kind == "secure" or bool(used)
        if secret and text:
            secrets += [*used, text]
        values.append(
            PlanValue(entry, text.strip() if not secret else text, secret, origin, plan.path)
        )
    return ResolvedPlan(plan, tuple(values), tuple(secrets))
