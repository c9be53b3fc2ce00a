"""Read an integration's identity and dependencies from its icspackage entries, zip or folder.

Only project.xml and the small connection files are parsed (never the whole archive), every XML
through defusedxml, and only what is really required (project.xml, code, version) can fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar, Literal, Protocol
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ..errors import SourceError

ICSPACKAGE = "icspackage"
PROJECT_XML_GLOB = f"{ICSPACKAGE}/project/<CODE>_<VERSION>/PROJECT-INF/project.xml"
VERSION_RE = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
MAX_XML_BYTES = 64 * 1024 * 1024


Kind = Literal["integration", "project"]


class Code(str):
    """A part of a summary row shown as code (an id, a path); a plain `str` part is text."""


@dataclass(frozen=True)
class Cell:
    """A step-summary cell kept as values: parts (Code or text) joined by `sep`, so the summary
    redacts each part before it escapes it."""

    parts: tuple[str, ...]
    sep: str = " "


# A row of the step summary's table of one build: its label and its cell.
SummaryRow = tuple[str, Cell]


@dataclass(frozen=True)
class Connection:
    """A connection the integration uses, as its archive names it."""

    code: str
    adapter: str | None


class Meta(Protocol):
    """What the rest of the run asks of a source, an integration or a project alike, so the
    build, the record, the outputs and discover never ask which one it is.

    `id` is unique per run and on OIC (`CODE|VERSION`, or a project's code); `slug` names the
    artifact folder and `archive_name` the archive in it, as OIC names its export; `label` is
    how messages name it (`integration CODE|VERSION`, `project CODE`); `archive_output` is the
    step output giving the archive's path; `unique_by` what two sources of a run must not
    share; `oic_project` the OIC 3 project its connections live in when no oic-project is set;
    `extra_roots` archive entries outside its root (OIC ignores them); `notes` log lines.
    """

    @property
    def kind(self) -> Kind: ...
    @property
    def id(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def version(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def slug(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def archive_name(self) -> str: ...
    @property
    def archive_output(self) -> str: ...
    @property
    def unique_by(self) -> str: ...
    @property
    def oic_project(self) -> str | None: ...
    @property
    def connections(self) -> tuple[Connection, ...]: ...
    @property
    def lookups(self) -> tuple[str, ...]: ...
    @property
    def libraries(self) -> tuple[str, ...]: ...
    @property
    def extra_roots(self) -> tuple[str, ...]: ...
    @property
    def notes(self) -> tuple[str, ...]: ...
    @property
    def warnings(self) -> tuple[str, ...]: ...
    def record_fields(self) -> dict[str, object]:
        """Its own fields of build-info.json (BuildRecord's names)."""

    def output_values(self) -> dict[str, object]:
        """Its own step outputs of a single build."""

    def result_values(self) -> dict[str, object]:
        """What it adds to its entry of the `integrations` output."""

    def summary_rows(self) -> list[SummaryRow]:
        """The step summary's first rows."""


@dataclass(frozen=True)
class IntegrationMeta:
    """What the source says about the integration; the rest of the build keys on this."""

    code: str
    version: str
    name: str | None
    connections: tuple[Connection, ...] = ()
    lookups: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()
    has_schedule: bool = False
    extra_roots: tuple[str, ...] = ()

    kind: ClassVar[Literal["integration"]] = "integration"
    archive_output: ClassVar[str] = "iar-path"
    unique_by: ClassVar[str] = "code and version"
    oic_project: ClassVar[None] = None
    notes: ClassVar[tuple[str, ...]] = ()
    warnings: ClassVar[tuple[str, ...]] = ()

    @property
    def id(self) -> str:
        return f"{self.code}|{self.version}"

    @property
    def slug(self) -> str:
        """`CODE_VERSION`, the name OIC itself gives the archive and project folder."""
        return f"{self.code}_{self.version}"

    @property
    def label(self) -> str:
        return f"integration {self.id}"

    @property
    def archive_name(self) -> str:
        return f"{self.slug}.iar"

    def record_fields(self) -> dict[str, object]:
        return {"id": self.id, "version": self.version, "schedule": self.has_schedule}

    def output_values(self) -> dict[str, object]:
        return {
            "integration-id": self.id,
            "integration-code": self.code,
            "integration-version": self.version,
            "integration-name": self.name or "",
        }

    def result_values(self) -> dict[str, object]:
        return {}

    def summary_rows(self) -> list[SummaryRow]:
        return [("Integration", Cell((Code(self.id), self.name or "")))]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child_text(root: Element, name: str) -> str | None:
    for child in root:
        if _local(child.tag) == name:
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
    """Read code, version, name, connections, lookups, libraries and schedule from entries.

    `names` are archive-style paths (`icspackage/...`); `read` returns one entry's bytes;
    `origin` is the .iar file or source folder, used to name the file at fault.
    """
    names = sorted(names)
    projects = [
        n
        for n in names
        if (p := PurePosixPath(n).parts)[:2] == (ICSPACKAGE, "project")
        and len(p) == 5
        and p[3:] == ("PROJECT-INF", "project.xml")
    ]
    if not projects:
        raise SourceError(f"{origin}: no {PROJECT_XML_GLOB} found", file=origin)
    if len(projects) > 1:
        raise SourceError(
            f"{origin}: several project.xml files, expected one: {', '.join(projects)}", file=origin
        )
    project_xml = projects[0]
    where = f"{origin}/{project_xml}"
    root = parse_xml(read(project_xml), where)
    code = child_text(root, "projectCode")
    version = child_text(root, "projectVersion")
    if not code:
        raise SourceError(f"{where}: no <projectCode>", file=where)
    if not version:
        raise SourceError(f"{where}: no <projectVersion>", file=where)
    if not CODE_RE.fullmatch(code):
        raise SourceError(
            f"{where}: integration code {code!r} has characters OIC does not allow", file=where
        )
    if not VERSION_RE.fullmatch(version):
        raise SourceError(
            f"{where}: version {version!r} is not of the form NN.NN.NNNN (e.g. 01.00.0000)",
            file=where,
        )
    folder = PurePosixPath(project_xml).parts[2]
    if folder != f"{code}_{version}":
        raise SourceError(
            f"{where}: folder {folder!r} does not match code/version in the XML ({code}_{version})",
            file=where,
        )

    connections = []
    lookups, libraries, extra = set(), set(), set()
    has_schedule = False
    for name in names:
        parts = PurePosixPath(name).parts
        if not parts or parts[0] != ICSPACKAGE:
            extra.add(parts[0] if parts else name)
            continue
        if len(parts) == 3 and parts[1] == "appinstances" and parts[2].endswith(".xml"):
            conn = parse_xml(read(name), f"{origin}/{name}")
            code_ = child_text(conn, "instanceCode") or PurePosixPath(name).stem
            connections.append(Connection(code_, child_text(conn, "applicationTypeRef")))
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
        connections=tuple(sorted(set(connections), key=lambda c: c.code)),
        lookups=tuple(sorted(lookups)),
        libraries=tuple(sorted(libraries)),
        has_schedule=has_schedule,
        extra_roots=tuple(sorted(extra)),
    )
