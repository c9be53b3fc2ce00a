"""Connection plans: the `connectionPlan.properties` FlexDeploy users keep beside their
integrations. As in FlexDeploy, `<CONNECTION_ID>.connection.<property>=<value>` lines are OIC's
`connectionProperties`, `<CONNECTION_ID>.secure.<property>=` lines its `securityProperties`,
named by display name (else property name). Java properties syntax (escapes, continuations,
`#`/`!` comments), except that only an unescaped `=` or `:` ends a key, never a space.

A committed plan ships byte for byte in every mode, never edited, so it must parse, must not be
a symlink out of the tree, and must hold no value for a secret property nor one of the run's
secrets: refused naming file, line and key, never the line's text. A line Java reads as a secret
key followed by its value (`C1.secure.Password s3cret=`) is refused too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from ..oic.connection_model import (
    CleanConnection,
    is_secret_name,
    is_secret_property,
    is_true,
    iter_properties,
)
from ..redact import shipped_secret
from ..report import Reporter
from .layout import PLAN_FILE, write_file

_KEY = re.compile(r"^(?P<conn>[^.\s]+)\.(?P<kind>connection|secure)\.(?P<prop>.+)$", re.DOTALL)
# A value that names a secret instead of holding it: ${{NAME}}, ${NAME}, %%NAME%%, #{NAME}, @NAME@.
_PLACEHOLDER = re.compile(
    r"^\s*(\$\{\{[^{}]+\}\}|\$\{[^{}]+\}|%%[^%]+%%?|#\{[^{}]+\}|@[\w.-]+@)\s*$"
)
_WHITESPACE = " \t\f"
# A logical line: Java's key (up to the first unescaped space), the rest of ours (up to the first
# unescaped `=` or `:`, spaces around it dropped), the value.
_LINE = re.compile(r"((?:\\.|[^\\=: \t\f])*)((?:\\.|[^\\=:])*?)[ \t\f]*[=:][ \t\f]*(.*)", re.DOTALL)
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_UNESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_CONTROL = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f", "\\": "\\\\"}


def _escape(text: str, specials: str) -> str:
    out = []
    for ch in text:
        if ch in _CONTROL or ch in specials:
            out.append(_CONTROL.get(ch, "\\" + ch))
        elif " " <= ch <= "~":
            out.append(ch)
        else:  # ASCII-only output reads the same as ISO-8859-1 (Java) and as UTF-8
            data = ch.encode("utf-16-be", "surrogatepass")
            out += (f"\\u{data[i]:02X}{data[i + 1]:02X}" for i in range(0, len(data), 2))
    text = "".join(out)
    return "\\" + text if text[:1] == " " else text


def escape_key(key: str) -> str:
    """So that our parser (and Java's, but for inner spaces) reads the key back."""
    text = _escape(key, "=:")
    text = "\\" + text if text[:1] in ("#", "!") else text
    return text[:-1] + "\\ " if text.endswith(" ") and not text.endswith("\\ ") else text


def escape_value(value: str) -> str:
    return _escape(value, "")


def _unescape_one(found: re.Match[str]) -> str:
    code = found[1]
    if code == "u":
        raise ValueError("malformed \\u escape")  # never the text: its digits may be a value's
    return chr(int(code[1:], 16)) if code[0] == "u" else _ESCAPES.get(code, code)


def unescape(text: str) -> str:
    joined = _UNESCAPE.sub(_unescape_one, text)
    try:  # join UTF-16 surrogate pairs written as two \u escapes
        return joined.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        return joined


@dataclass(frozen=True)
class PlanEntry:
    line: int
    key: str
    value: str
    connection: str
    kind: str
    prop: str


@dataclass(frozen=True)
class Plan:
    path: Path
    entries: tuple[PlanEntry, ...]
    raw: bytes


def _ends_continued(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def parse_plan(text: str, origin: str) -> list[PlanEntry]:
    lines = text.splitlines()
    entries: list[PlanEntry] = []
    n = 0
    while n < len(lines):
        start, logical = n + 1, lines[n].lstrip(_WHITESPACE)
        n += 1
        if not logical or logical[0] in "#!":
            continue
        while _ends_continued(logical):
            logical = logical[:-1] + (lines[n].lstrip(_WHITESPACE) if n < len(lines) else "")
            n += 1
        where = f"{origin}:{start}"
        if (split := _LINE.fullmatch(logical)) is None:
            raise SourceError(
                f"{where}: no '=' in this line (Java's `key value` form is not read); expected "
                "<CONNECTION_ID>.connection.<property>=<value>",
                file=origin,
            )
        try:
            raw = (split[1] + split[2], split[3], split[1])
            key, value, java_key = (unescape(part) for part in raw)
        except ValueError as exc:
            raise SourceError(f"{where}: {exc}", file=origin) from None
        # A message shows Java's key, never more of the line: Java reads the rest as a value.
        java = _KEY.match(java_key)
        if java_key != key and is_secret_name(java["prop"] if java else java_key):
            raise SourceError(
                f"{where}: {java_key} is followed by a space and more text before the '=' or ':', "
                f"which Java reads as its value; write {java_key}= with the value empty or a "
                "placeholder and supply it at deployment (a space inside a property name is "
                "written '\\ ')",
                file=origin,
            )
        match = _KEY.match(key)
        if not match:
            raise SourceError(
                f"{where}: key {java_key!r} is not <CONNECTION_ID>.connection.<property> or "
                "<CONNECTION_ID>.secure.<property>",
                file=origin,
            )
        entries.append(
            PlanEntry(start, key, value, match["conn"], match["kind"], match["prop"].strip())
        )
    return entries


def read_plan(path: Path, roots: Sequence[Path] = ()) -> Plan:
    """UTF-8, or ISO-8859-1 as Java writes them. A symlink must stay inside one of `roots`:
    pointed at /proc/self/environ it would ship the environment."""
    if path.is_symlink():
        target = path.resolve()
        if not any(target.is_relative_to(root.resolve()) for root in roots):
            raise SourceError(
                f"{path}: connection plan is a symlink to {target}, outside the source tree; "
                "commit the plan itself",
                file=path,
            )
    if path.exists() and not path.is_file():
        raise SourceError(f"{path}: connection plan is not a regular file", file=path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror})", file=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return Plan(path, tuple(parse_plan(text, str(path))), raw)


def check_plan(plan: Plan, used: Iterable[str], integration: str) -> list[str]:
    """Warnings about entries for connections the integration does not use, and repeated keys."""
    warnings: list[str] = []
    used = set(used)
    unused: dict[str, list[PlanEntry]] = {}
    seen: dict[str, int] = {}
    for entry in plan.entries:
        if entry.connection not in used:
            unused.setdefault(entry.connection, []).append(entry)
        if entry.key in seen:
            warnings.append(
                f"{plan.path}:{entry.line}: {entry.key} is set again (first at line "
                f"{seen[entry.key]}); the last value wins"
            )
        seen.setdefault(entry.key, entry.line)
    for conn, entries in sorted(unused.items()):
        count = f"{len(entries)} entries" if len(entries) > 1 else "an entry"
        warnings.append(
            f"{plan.path}:{entries[0].line}: {count} for connection {conn}, which "
            f"{integration} does not use"
        )
    return warnings


def is_placeholder(value: str) -> bool:
    """True if the value names a secret to be substituted at deployment instead of holding it,
    or is OIC's own mask (`*****`)."""
    return bool(_PLACEHOLDER.match(value)) or set(value.strip()) == {"*"}


def check_plan_values(
    plan: Plan, connections: Mapping[str, CleanConnection] | None = None, server: str = ""
) -> list[str]:
    """Refuse a committed value for a secret property (judged by the server's property type
    when the connections are known, by the property's name always); warn about properties
    the exported connections do not have. The plan itself is never changed."""
    warnings: list[str] = []
    for entry in plan.entries:
        conn = (connections or {}).get(entry.connection)
        found = iter_properties(conn.data) if conn else ()
        names = ("displayName", "propertyName")
        prop = next((p for _, p in found if entry.prop in (p.get(n) for n in names)), None)
        if conn is not None and prop is None:
            warnings.append(
                f"{plan.path}:{entry.line}: connection {entry.connection} on {server} has no "
                f"property {entry.prop!r}"
            )
        secret = is_secret_name(entry.prop) or (prop is not None and is_secret_property(prop))
        if secret and entry.value.strip() and not is_placeholder(entry.value):
            raise SourceError(
                f"{plan.path}:{entry.line}: {entry.key} holds a committed value for a secret; "
                "remove it from source control (leave it empty or use a placeholder such as "
                "${{NAME}}) and supply it at deployment",
                file=plan.path,
            )
    return warnings


def _plan_lines(conn: CleanConnection) -> Iterator[str]:
    """A line for every visible property, named by display name (property name if repeated),
    the value of a secret one empty."""
    for list_name, kind in (
        ("connectionProperties", "connection"),
        ("securityProperties", "secure"),
    ):
        used: set[str] = set()
        for prop in conn.data.get(list_name) or ():
            if not isinstance(prop, dict) or is_true(prop.get("hiddenFlag", prop.get("hidden"))):
                continue
            name = str(prop.get("displayName") or prop.get("propertyName") or "").strip()
            if name in used:
                name = str(prop.get("propertyName") or "").strip()
            if not name or name in used:
                continue
            used.add(name)
            value = prop.get("propertyValue")
            if is_secret_property(prop) or value is None or is_placeholder(str(value)):
                value = ""
            text = str(value).lower() if isinstance(value, bool) else str(value)
            yield f"{escape_key(f'{conn.id}.{kind}.{name}')}={escape_value(text)}"


def generate_plan(
    connections: Sequence[CleanConnection],
    integration: str,
    server: str,
    adapters: Mapping[str, str | None] | None = None,
) -> str:
    out = [
        f"# Connection plan for {integration}, generated by oic-build from {server}.",
        "# <CONNECTION_ID>.connection.<property>=<value>  (OIC's connectionProperties)",
        "# <CONNECTION_ID>.secure.<property>=<value>      (OIC's securityProperties)",
        "# Values of secret properties are left empty: supply them at deployment.",
    ]
    for conn in sorted(connections, key=lambda c: c.id):
        adapter = (adapters or {}).get(conn.id) or (conn.data.get("adapterType") or {}).get("name")
        policy = conn.data.get("securityPolicy")
        parts = [
            f"{adapter} adapter" if adapter else "",
            f"security policy {policy}" if policy else "",
        ]
        about = ", ".join(p for p in parts if p)
        out += ["", f"# {conn.id}" + (f": {about}" if about else "")]
        out += list(_plan_lines(conn)) or ["# (no properties)"]
    return "\n".join(out) + "\n"


def load_plan(
    plan: Path | None, roots: Sequence[Path], used: Iterable[str], owner: str, reporter: Reporter
) -> Plan | None:
    """Read and check a committed plan the same way in every mode, before anything is sent
    or written."""
    if plan is None:
        return None
    parsed = read_plan(plan, roots)
    if (line := reporter.redactor.find_line(parsed.raw)) is not None:
        raise SourceError(shipped_secret(str(parsed.path), line), file=parsed.path)
    for warning in check_plan(parsed, used, owner):
        reporter.warning(warning, file=parsed.path)
    check_plan_values(parsed)
    return parsed


def ship_plan(
    plan: Plan,
    stage: Path,
    reporter: Reporter,
    connections: Mapping[str, CleanConnection] | None = None,
    server: str = "",
) -> None:
    """With the exported connections, its values are checked against their property types too."""
    if connections is not None:
        for warning in check_plan_values(plan, connections, server):
            reporter.warning(warning, file=plan.path)
    write_file(stage / PLAN_FILE, plan.raw)
    reporter.info(f"connection plan {plan.path} checked -> {PLAN_FILE}")
