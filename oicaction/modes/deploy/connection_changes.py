"""Plan lines as connection updates: each display name mapped to OIC's `propertyName` (and its
type and group) through the artifact's `connections/<ID>/connection.json`, else through the
target's own connection. OIC silently ignores properties it does not know; we do not: an unknown
connection id or display name is an error naming the plan file and line.

The update carries only `connectionProperties` / `securityProperties` from the plan, only lines
with a value (an empty one leaves the property as it is on the target).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import SourceError
from ...oic.connection_model import is_secret_property, is_true, normalise_connection
from .plan_values import PlanValue, ResolvedPlan

LISTS = ("connectionProperties", "securityProperties")
SET = "(set)"


@dataclass(frozen=True)
class PropertyChange:
    """One property the deploy sets."""

    source: PlanValue
    name: str  # propertyName
    display: str
    type: str | None
    group: str | None
    secret: bool
    old: str | None  # the target's value before the change (None: not set, or not known)

    def as_json(self) -> dict[str, Any]:
        prop: dict[str, Any] = {"propertyName": self.name, "propertyValue": self.source.value}
        if self.type:
            prop["propertyType"] = self.type
        if self.group:
            prop["propertyGroup"] = self.group
        return prop

    def describe(self) -> str | None:
        """`name: old -> new`, secrets as "(set)"; None when the value does not change."""
        if self.secret:
            return f"{self.display}: {SET}"
        if self.old == self.source.value:
            return None
        old = "(none)" if self.old is None else repr(self.old)
        return f"{self.display}: {old} -> {self.source.value!r}"


@dataclass
class ConnectionUpdate:
    """What the plan does to one connection."""

    id: str
    changes: list[PropertyChange] = field(default_factory=list)
    left: list[PlanValue] = field(default_factory=list)  # empty lines: as on the target
    unmapped: list[PlanValue] = field(default_factory=list)  # mapped once the import made it

    def payload(self) -> dict[str, list[dict[str, Any]]]:
        body: dict[str, list[dict[str, Any]]] = {}
        for change in self.changes:
            body.setdefault(change.source.list_name, []).append(change.as_json())
        return body


def properties(body: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """A connection's property lists with canonical keys (any server's spelling)."""
    if body is None:
        return {}
    data = normalise_connection(body, str(body.get("id", "?"))).data
    return {name: [p for p in data.get(name) or () if isinstance(p, dict)] for name in LISTS}


def _find(props: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    for key in ("displayName", "propertyName"):
        for prop in props:
            if str(prop.get(key) or "").strip() == name:
                return prop
    return None


def _unknown_property(value: PlanValue, where: str, lists: dict[str, list]) -> SourceError:
    other = "securityProperties" if value.list_name == "connectionProperties" else "connection"
    hint = ""
    if _find(lists.get(other, []), value.entry.prop) is not None:
        kind = "secure" if value.entry.kind == "connection" else "connection"
        hint = f" (it is in {other}: write {value.connection}.{kind}.{value.entry.prop})"
    return SourceError(
        f"{value.origin}: connection {value.connection} has no property "
        f"{value.entry.prop!r} in {value.list_name} ({where}){hint}",
        file=value.file,
    )


def map_connection(
    conn: str,
    values: list[PlanValue],
    definition: dict[str, Any] | None,
    target: dict[str, Any] | None,
    target_known: bool = True,
) -> ConnectionUpdate:
    """Map `values` (the plan lines of `conn`) through the artifact's definition, else the
    target's connection. `target_known` False: the target's connection was not read (a dry
    run's mapping stays possible, old values unknown)."""
    update = ConnectionUpdate(conn)
    names = properties(definition if definition is not None else target)
    current = properties(target)
    where = f"connections/{conn}/connection.json of the artifact"
    if definition is None:
        where = f"{conn} on the target"
    for value in values:
        if not value.value:
            update.left.append(value)
            continue
        if not names:
            update.unmapped.append(value)
            continue
        prop = _find(names.get(value.list_name, []), value.entry.prop)
        if prop is None:
            raise _unknown_property(value, where, names)
        name = str(prop.get("propertyName") or value.entry.prop)
        now = _find(current.get(value.list_name, []), name) if target_known else None
        old = now.get("propertyValue") if now is not None else None
        update.changes.append(
            PropertyChange(
                source=value,
                name=name,
                display=str(prop.get("displayName") or name),
                type=prop.get("propertyType"),
                group=prop.get("propertyGroup"),
                secret=value.secret or is_secret_property(prop),
                old=None if old is None or old == "" else str(old),
            )
        )
    return update


def lacking(
    conn: str, resolved: ResolvedPlan | None, definition: Mapping[str, Any] | None
) -> list[str]:
    """What the plan leaves a connection without, for the error of a test that answered "not
    configured": lines left empty, and required properties it has no line for."""
    said = []
    lines = resolved.for_connection(conn) if resolved is not None else []
    for value in lines:
        if not value.value:
            said.append(f"{value.origin} {value.entry.key} is empty")
    named = {v.entry.prop for v in lines}
    for list_name, props in properties(dict(definition) if definition else None).items():
        kind = "secure" if list_name == "securityProperties" else "connection"
        for prop in props:
            display = str(prop.get("displayName") or prop.get("propertyName") or "")
            unnamed = display not in named and prop.get("propertyName") not in named
            if is_true(prop.get("requiredFlag")) and unnamed and not prop.get("propertyValue"):
                said.append(f"no line {conn}.{kind}.{display}")
    return said
