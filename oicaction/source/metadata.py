"""Read an integration's identity and dependencies from its icspackage entries, zip or folder:
only project.xml and the small connection files are parsed, every XML through defusedxml."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar, Literal
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ..errors import SourceError

ICSPACKAGE = "icspackage"
VERSION_RE = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
MAX_XML_BYTES = 64 * 1024 * 1024

Kind = Literal["integration", "project"]


class Code(str):
    """A part of a summary row shown as code (an id, a path); a plain `str` part is text."""


@dataclass(frozen=True)
class Cell:
    """A step-summary cell kept as values, so the summary redacts each part before escaping it."""

    parts: tuple[str, ...]
    sep: str = " "


SummaryRow = tuple[str, Cell]


@dataclass(frozen=True)
class Connection:
    code: str
    adapter: str | None


class Meta:
    """What the run asks of a source, an integration or a project alike, so the build, the
    record, the outputs and discover never ask which one it is. `id` is unique on OIC, `slug`
    names the artifact folder; `unique_by` says what two sources of a run must not share;
    `extra_roots` are archive entries outside its root (OIC ignores them)."""

    kind: ClassVar[Kind]
    suffix: ClassVar[str]  # of the archive, as OIC names its export
    archive_output: ClassVar[str]  # the step output giving the archive's path
    unique_by: ClassVar[str]
    code: str
    version: str | None
    name: str | None
    connections: tuple[Connection, ...]
    lookups: tuple[str, ...]
    libraries: tuple[str, ...]
    extra_roots: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.code}|{self.version}" if self.version else self.code

    @property
    def slug(self) -> str:
        return f"{self.code}_{self.version}" if self.version else self.code

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id}"

    @property
    def archive_name(self) -> str:
        return f"{self.slug}.{self.suffix}"

    @property
    def oic_project(self) -> str | None:
        """The OIC 3 project its connections live in when no oic-project is set."""
        return None

    @property
    def notes(self) -> tuple[str, ...]:
        return ()

    def record_fields(self) -> dict[str, object]:
        """Its own fields of build-info.json (BuildRecord's names)."""
        raise NotImplementedError

    def output_values(self) -> dict[str, object]:
        """Its own step outputs of a single build."""
        raise NotImplementedError

    def result_values(self) -> dict[str, object]:
        """What it adds to its entry of the `integrations` output."""
        return {}

    def summary_rows(self) -> list[SummaryRow]:
        raise NotImplementedError


@dataclass(frozen=True)
class IntegrationMeta(Meta):
    code: str
    version: str
    name: str | None
    connections: tuple[Connection, ...] = ()
    lookups: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()
    has_schedule: bool = False
    extra_roots: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    kind: ClassVar[Literal["integration"]] = "integration"
    suffix: ClassVar[str] = "iar"
    archive_output: ClassVar[str] = "iar-path"
    unique_by: ClassVar[str] = "code and version"

    def record_fields(self) -> dict[str, object]:
        return {"id": self.id, "version": self.version, "schedule": self.has_schedule}

    def output_values(self) -> dict[str, object]:
        return {
            "integration-id": self.id,
            "integration-code": self.code,
            "integration-version": self.version,
            "integration-name": self.name or "",
        }

    def summary_rows(self) -> list[SummaryRow]:
        return [("Integration", Cell((Code(self.id), self.name or "")))]


def child_text(root: Element, name: str) -> str | None:
    for child in root:
        if child.tag.rsplit("}", 1)[-1] == name:
            return (child.text or "").strip() or None
    return None


def parse_xml(data: bytes, where: str) -> Element:
    """Parse untrusted XML: no DTDs, entities or external references (XXE, billion laughs)."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SourceError(
            f"{where}: refused unsafe XML ({type(exc).__name__}; DTDs and entities are "
            "not allowed)",
            file=where,
        ) from None
    except SafeET.ParseError as exc:
        raise SourceError(f"{where}: not well-formed XML ({exc})", file=where) from None


def read_metadata(
    names: Iterable[str], read: Callable[[str], bytes], origin: str
) -> IntegrationMeta:
    """Read the integration from archive-style entry names (`icspackage/...`); `read` returns
    one entry's bytes, `origin` (the .iar or source folder) names the file at fault."""
    names = sorted(names)
    projects = [
        n
        for n in names
        if (p := PurePosixPath(n).parts)[:2] == (ICSPACKAGE, "project")
        and p[3:] == ("PROJECT-INF", "project.xml")
    ]
    if not projects:
        raise SourceError(
            f"{origin}: no {ICSPACKAGE}/project/<CODE>_<VERSION>/PROJECT-INF/project.xml found",
            file=origin,
        )
    if len(projects) > 1:
        raise SourceError(
            f"{origin}: several project.xml files, expected one: {', '.join(projects)}", file=origin
        )
    where = f"{origin}/{projects[0]}"
    root = parse_xml(read(projects[0]), where)
    code, version = child_text(root, "projectCode"), child_text(root, "projectVersion")
    if not code or not version:
        missing = "<projectCode>" if not code else "<projectVersion>"
        raise SourceError(f"{where}: no {missing}", file=where)
    if not CODE_RE.fullmatch(code):
        raise SourceError(
            f"{where}: integration code {code!r} has characters OIC does not allow", file=where
        )
    if not VERSION_RE.fullmatch(version):
        raise SourceError(
            f"{where}: version {version!r} is not of the form NN.NN.NNNN (e.g. 01.00.0000)",
            file=where,
        )
    if (folder := PurePosixPath(projects[0]).parts[2]) != f"{code}_{version}":
        raise SourceError(
            f"{where}: folder {folder!r} does not match code/version in the XML ({code}_{version})",
            file=where,
        )

    connections = set()
    lookups, libraries, extra = set(), set(), set()
    has_schedule = False
    for name in names:
        parts = PurePosixPath(name).parts
        if parts[:1] != (ICSPACKAGE,):
            extra.add(parts[0] if parts else name)
        elif len(parts) == 3 and parts[1] == "appinstances" and parts[2].endswith(".xml"):
            conn = parse_xml(read(name), f"{origin}/{name}")
            code_ = child_text(conn, "instanceCode") or PurePosixPath(name).stem
            connections.add(Connection(code_, child_text(conn, "applicationTypeRef")))
        elif len(parts) >= 3 and parts[1] == "dvms":
            lookups.add(PurePosixPath(parts[2]).stem)
        elif len(parts) >= 3 and parts[1] == "apilibrary":
            libraries.add(parts[2])
        elif len(parts) >= 3 and parts[1] == "schedule":
            has_schedule = True
    return IntegrationMeta(
        code=code,
        version=version,
        name=child_text(root, "projectName"),
        connections=tuple(sorted(connections, key=lambda c: c.code)),
        lookups=tuple(sorted(lookups)),
        libraries=tuple(sorted(libraries)),
        has_schedule=has_schedule,
        extra_roots=tuple(sorted(extra)),
    )
