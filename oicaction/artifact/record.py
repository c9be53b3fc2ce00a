"""The artifact's own records, typed: build-info.json and connections.json (the connections
index). What reads them next (a deploy, a pull, the next build's staging) gets them checked, so
a damaged or foreign file is one error naming it, never a KeyError three steps later. Unknown
keys are ignored, so an artifact made by a later version still reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .. import __version__
from ..errors import ArtifactError
from ..source.find import Source
from ..source.git import git_info
from ..source.metadata import Connection, Meta
from .layout import BUILD_INFO, CONNECTIONS_INDEX, checked_name, to_json, write_file

TOOL = "oic-build"
# Records are small (a big one lists a few hundred connections); a bigger file is not ours.
MAX_RECORD_BYTES = 64 * 1024 * 1024


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    def document(self) -> dict[str, Any]:
        """The JSON object written; an OIC 3 `project` only where there is one."""
        data = self.model_dump(mode="json")
        if data.get("project", "") is None:
            del data["project"]
        return data


def _name(what: str, value: object) -> str:
    try:
        return checked_name(what, value)
    except ArtifactError as exc:
        raise ValueError(str(exc)) from None


def _inside(value: str, *, parts: int = 99) -> str:
    """A relative path (`a/b/c`) of at most `parts` parts that stays inside its folder."""
    found = PurePosixPath(value).parts
    if not 0 < len(found) <= parts or value.startswith("/") or "\\" in value or "\x00" in value:
        raise ValueError(
            f"{value!r} is not a {'file name' if parts == 1 else 'path'} inside the artifact"
        )
    if any(p in (".", "..") for p in found):
        raise ValueError(f"{value!r} leaves the artifact")
    return value


# Names and paths a record holds, held to the rules they were written by when read back: a
# deploy or pull makes paths of them too.
ConnectionId = Annotated[str, AfterValidator(partial(_name, "connection id"))]
PropertyName = Annotated[str, AfterValidator(partial(_name, "property name"))]
LookupName = Annotated[str, AfterValidator(partial(_name, "lookup name"))]
FileName = Annotated[str, AfterValidator(partial(_inside, parts=1))]
RelativePath = Annotated[str, AfterValidator(_inside)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ArchiveInfo(_Model):
    """The archive in the artifact folder: the `.iar`, or a project's `.car`."""

    file: FileName
    sha256: Sha256
    size: int = Field(ge=0)
    entries: int = Field(ge=0)


class ProjectIntegrationInfo(_Model):
    id: str
    code: str
    version: str
    name: str | None


class SourceInfo(_Model):
    kind: Literal["iar", "icspackage", "car", "project"]
    path: str


class ToolInfo(_Model):
    name: Literal["oic-build"]
    version: str


class GitInfo(_Model):
    commit: str | None
    ref: str | None
    run_id: str | None
    repository: str | None


class SavedAttachment(_Model):
    """A file uploaded to a connection property, saved in the artifact."""

    connection: ConnectionId
    property: PropertyName
    file: RelativePath
    sha256: Sha256
    size: int = Field(ge=0)


class AttachmentToSupply(_Model):
    """A connection property's file that holds a secret: not exported, supplied at deployment."""

    connection: ConnectionId
    property: PropertyName


class ExportResult(_Model):
    """What the build took from OIC: where from, how, and what it wrote."""

    server: str
    instance: str | None
    project: str | None = None  # the OIC 3 project connections and lookups came from
    auth: str  # oauth or basic
    connections: list[ConnectionId]
    attachments: list[SavedAttachment]
    attachments_to_supply: list[AttachmentToSupply]
    lookups: list[LookupName]
    connections_file: str
    skipped: list[ConnectionId]
    connection_plan: str | None


class BuildRecord(_Model):
    """build-info.json: the artifact's own record."""

    kind: Literal["integration", "project"]
    id: str  # an integration's CODE|VERSION; a project's own id (project.yaml's `id`)
    code: str
    name: str | None
    version: str | None = None  # integrations only
    revision: int | None = None  # projects only: projectRevision
    schedule: bool = False  # integrations only
    archive: ArchiveInfo = Field(validation_alias=AliasChoices("iar", "car"))
    integrations: list[ProjectIntegrationInfo] = []  # projects only
    source: SourceInfo
    connections: list[Connection]  # as the source's archive names them
    lookups: list[str]
    libraries: list[str]
    exported: ExportResult | None  # None: built offline
    tool: ToolInfo
    git: GitInfo
    built_at: str

    @model_validator(mode="before")
    @classmethod
    def _from_document(cls, data: Any) -> Any:
        """build-info.json's object: `kind` from whether `iar` or `car` holds the archive, and
        `exported: {}` for an offline build."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, not {type(data).__name__}")
        key = next((k for k in ("car", "iar") if k in data), None)
        if key is None:
            raise ValueError("no 'iar' or 'car' (the archive)")
        kind = "project" if key == "car" else "integration"
        if data.get("kind", kind) != kind:
            raise ValueError(f"kind: {data['kind']!r} beside {key!r}")
        if data.get("exported") == {}:
            data = {**data, "exported": None}
        return {**data, "kind": kind}

    @model_validator(mode="after")
    def _kind_fields(self) -> BuildRecord:
        if self.kind == "integration" and self.version is None:
            raise ValueError("an integration's record has no version")
        return self

    def document(self) -> dict[str, Any]:
        """build-info.json's shape: an integration's archive under `iar`, a project's under
        `car` beside `"kind": "project"`."""
        data = self.model_dump(mode="json")
        archive = data.pop("archive")
        if self.kind == "integration":
            for key in ("kind", "revision", "integrations"):
                del data[key]
            data["iar"] = archive
        else:
            for key in ("version", "schedule"):
                del data[key]
            data["car"] = archive
        data["exported"] = {} if self.exported is None else self.exported.document()
        return data


class ConnectionsIndex(_Model):
    """connections.json: every connection exported, as saved, and where they came from."""

    kind: Literal["integration", "project"]  # what uses them
    id: str  # its CODE|VERSION, or the project code
    server: str
    instance: str | None
    project: str | None = None  # the OIC 3 project they came from
    connections: list[dict[str, Any]]
    attachments: list[SavedAttachment]
    attachments_to_supply: list[AttachmentToSupply]
    skipped: list[ConnectionId]

    @field_validator("connections")
    @classmethod
    def _saved(cls, saved: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in saved:
            _name("connection id", item.get("id"))
        return saved


def new_record(
    meta: Meta, source: Source, archive: ArchiveInfo, exported: ExportResult | None
) -> BuildRecord:
    fields: dict[str, Any] = {
        "code": meta.code,
        "name": meta.name,
        **meta.record_fields(),
        "iar" if meta.kind == "integration" else "car": archive,
        "source": {"kind": source.kind, "path": source.path.as_posix()},
        "connections": meta.connections,
        "lookups": list(meta.lookups),
        "libraries": list(meta.libraries),
        "exported": exported,
        "tool": {"name": TOOL, "version": __version__},
        "git": git_info(source.folder),
        "built_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    return BuildRecord.model_validate(fields)


Redact = Callable[[Any], Any]
_M = TypeVar("_M", bound=_Model)


def _checked(path: Path, validate: Callable[[Any], _M], document: Any) -> _M:
    """The record, or one line: the first problem at its place in the document (`iar.size`),
    and how many more."""
    try:
        return validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        said = (f"{where}: " if where else "") + first["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ArtifactError(
            f"{path}: not a record oic-build can use: {said}{more}", file=path
        ) from None


def _write(path: Path, document: Any, validate: Callable[[Any], _M], redact: Redact | None) -> None:
    """Write a record's JSON; a redacted document is checked again, so what is written is
    always a valid record."""
    if redact is not None:
        document = redact(document)
        _checked(path, validate, document)
    write_file(path, to_json(document))


def _read(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_RECORD_BYTES + 1)
    except OSError as exc:
        raise ArtifactError(
            f"{path}: cannot read ({exc.strerror or type(exc).__name__})", file=path
        ) from None
    if len(data) > MAX_RECORD_BYTES:
        raise ArtifactError(f"{path}: over {MAX_RECORD_BYTES} bytes, not a record", file=path)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ArtifactError(f"{path}: not JSON ({type(exc).__name__})", file=path) from None


def write_record(folder: Path, record: BuildRecord, redact: Redact | None = None) -> None:
    _write(folder / BUILD_INFO, record.document(), BuildRecord.model_validate, redact)


def read_record(folder: Path) -> BuildRecord:
    path = folder / BUILD_INFO
    return _checked(path, BuildRecord.model_validate, _read(path))


def write_connections_index(
    folder: Path, index: ConnectionsIndex, redact: Redact | None = None
) -> None:
    _write(folder / CONNECTIONS_INDEX, index.document(), ConnectionsIndex.model_validate, redact)


def read_connections_index(folder: Path) -> ConnectionsIndex:
    path = folder / CONNECTIONS_INDEX
    return _checked(path, ConnectionsIndex.model_validate, _read(path))


def is_artifact(folder: Path) -> bool:
    """An artifact folder of ours (a build-info.json that reads as one), or an empty folder:
    the only folders a build may replace."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        if not any(folder.iterdir()):
            return True
        read_record(folder)
    except (OSError, ArtifactError):
        return False
    return True


def find_artifacts(path: Path) -> list[Path]:
    """`path` itself when it holds build-info.json, else the artifact folders directly inside
    it, sorted; hidden folders (a build's staging) and symlinks are passed over."""
    if not path.is_dir():
        raise ArtifactError(f"{path}: not a folder holding oic-build artifacts", file=path)
    if (path / BUILD_INFO).is_file():
        return [path]
    try:
        children = sorted(path.iterdir())
    except OSError as exc:
        raise ArtifactError(
            f"{path}: cannot list ({exc.strerror or type(exc).__name__})", file=path
        ) from None
    return [
        child
        for child in children
        if not child.name.startswith(".")
        and not child.is_symlink()
        and (child / BUILD_INFO).is_file()
    ]
