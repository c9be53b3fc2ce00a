"""build-info.json and connections.json (the connections index), typed. What reads them next (a
deploy, a pull, the next build's staging) gets them checked, so a damaged or foreign file is one
error naming it, never a KeyError three steps later. Unknown keys are ignored, so an artifact
made by a later version still reads."""

from __future__ import annotations

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
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
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


def _named(what: str) -> AfterValidator:
    return AfterValidator(partial(checked_name, what, error=ValueError))


# Names and paths a record holds, held to the rules they were written by when read back: a
# deploy or pull makes paths of them too.
ConnectionId = Annotated[str, _named("connection id")]
PropertyName = Annotated[str, _named("property name")]
FileName = Annotated[str, AfterValidator(partial(_inside, parts=1))]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def _saved(connection: dict[str, Any]) -> dict[str, Any]:
    """connections.json keeps a connection as OIC gave it (secrets removed); only its id is ours."""
    checked_name("connection id", connection.get("id"), ValueError)
    return connection


# The OIC 3 project connections and lookups came from; absent from the file when none.
ProjectId = Annotated[str | None, Field(exclude_if=lambda v: v is None)]


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
    file: Annotated[str, AfterValidator(_inside)]
    sha256: Sha256
    size: int = Field(ge=0)


class AttachmentToSupply(_Model):
    """A connection property's file that holds a secret: not exported, supplied at deployment."""

    connection: ConnectionId
    property: PropertyName


class _Exported(_Model):
    """Where connections came from, and what became of those not saved as they are."""

    server: str
    instance: str | None
    project: ProjectId = None
    attachments: list[SavedAttachment]
    attachments_to_supply: list[AttachmentToSupply]
    skipped: list[ConnectionId]


class ExportResult(_Exported):
    """What the build took from OIC: where from, how, and what it wrote."""

    auth: str  # oauth or basic
    connections: list[ConnectionId]
    lookups: list[Annotated[str, _named("lookup name")]]
    connections_file: str
    connection_plan: str | None


class BuildRecord(_Model):
    """build-info.json: an integration's archive under `iar`, a project's under `car` beside
    `"kind": "project"`; `exported: {}` for an offline build."""

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
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, not {type(data).__name__}")
        key = next((k for k in ("car", "iar") if k in data), None)
        if key is None:
            raise ValueError("no 'iar' or 'car' (the archive)")
        kind = "project" if key == "car" else "integration"
        if data.get("kind", kind) != kind:
            raise ValueError(f"kind: {data['kind']!r} beside {key!r}")
        return {**data, "kind": kind, "exported": data.get("exported") or None}

    @model_validator(mode="after")
    def _kind_fields(self) -> BuildRecord:
        if self.kind == "integration" and self.version is None:
            raise ValueError("an integration's record has no version")
        return self

    @model_serializer(mode="wrap")
    def _document(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        integration = self.kind == "integration"
        for key in ("kind", "revision", "integrations") if integration else ("version", "schedule"):
            del data[key]
        data["iar" if integration else "car"] = data.pop("archive")
        data["exported"] = data["exported"] or {}
        return data

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ConnectionsIndex(_Exported):
    """connections.json: every connection exported, as saved, and where they came from."""

    kind: Literal["integration", "project"]  # what uses them
    id: str  # its CODE|VERSION, or the project code
    connections: list[Annotated[dict[str, Any], AfterValidator(_saved)]]


def new_record(
    meta: Meta, source: Source, archive: ArchiveInfo, exported: ExportResult | None
) -> BuildRecord:
    return BuildRecord.model_validate(
        {
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
    )


Redact = Callable[[Any], Any]
M = TypeVar("M", bound=_Model)


def _checked(path: Path, model: type[M], document: Any, *, json: bool = False) -> M:
    """The record, or one line naming the file: not JSON, or the first problem at its place in
    the document (`iar.size`) and how many more."""
    try:
        return model.model_validate_json(document) if json else model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        if first["type"] == "json_invalid":
            raise ArtifactError(f"{path}: not JSON ({first['msg']})", file=path) from None
        where = ".".join(str(p) for p in first["loc"])
        said = (f"{where}: " if where else "") + first["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ArtifactError(
            f"{path}: not a record oic-build can use: {said}{more}", file=path
        ) from None


def _write(path: Path, record: _Model, redact: Redact | None) -> None:
    """A redacted document is checked again, so what is written is always a valid record."""
    document = record.model_dump(mode="json")
    if redact is not None:
        document = redact(document)
        _checked(path, type(record), document)
    write_file(path, to_json(document))


def _read(path: Path, model: type[M]) -> M:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_RECORD_BYTES + 1)
    except OSError as exc:
        raise ArtifactError(
            f"{path}: cannot read ({exc.strerror or type(exc).__name__})", file=path
        ) from None
    if len(data) > MAX_RECORD_BYTES:
        raise ArtifactError(f"{path}: over {MAX_RECORD_BYTES} bytes, not a record", file=path)
    return _checked(path, model, data, json=True)


def write_record(folder: Path, record: BuildRecord, redact: Redact | None = None) -> None:
    _write(folder / BUILD_INFO, record, redact)


def read_record(folder: Path) -> BuildRecord:
    return _read(folder / BUILD_INFO, BuildRecord)


def write_connections_index(
    folder: Path, index: ConnectionsIndex, redact: Redact | None = None
) -> None:
    _write(folder / CONNECTIONS_INDEX, index, redact)


def read_connections_index(folder: Path) -> ConnectionsIndex:
    return _read(folder / CONNECTIONS_INDEX, ConnectionsIndex)


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
        c
        for c in children
        if not c.name.startswith(".") and not c.is_symlink() and (c / BUILD_INFO).is_file()
    ]
