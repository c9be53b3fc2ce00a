"""build-info.json read back: the typed record a deploy consumes. (TEMP until core-shape lands:
only the contract names deploy needs, `BuildRecord`, `read_record`, `find_artifacts`.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ArtifactError, SettingsError, shown_path
from .layout import BUILD_INFO

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ArchiveInfo(BaseModel):
    """The `iar` (or `car`) object: the archive's file name in the folder and its digest."""

    model_config = ConfigDict(extra="ignore")
    file: str
    sha256: str
    size: int
    entries: int

    @field_validator("file")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not value or value in (".", "..") or any(c in value for c in "/\\\x00"):
            raise ValueError(f"archive file {value!r} is not a plain file name")
        return value

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _SHA256.match(value):
            raise ValueError("sha256 is not 64 lower-case hex digits")
        return value


class RecordIntegration(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    code: str
    version: str
    name: str | None = None


class RecordConnection(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str
    adapter: str | None = None


class BuildRecord(BaseModel):
    """What one build produced, as build-info.json records it."""

    model_config = ConfigDict(extra="ignore")
    kind: Literal["integration", "project"]
    id: str
    code: str
    name: str | None = None
    version: str | None = None
    archive: ArchiveInfo
    integrations: list[RecordIntegration] = Field(default_factory=list)
    connections: list[RecordConnection] = Field(default_factory=list)
    lookups: list[str] = Field(default_factory=list)
    libraries: list[str] = Field(default_factory=list)
    exported: dict[str, Any] = Field(default_factory=dict)


def _typed(data: dict[str, Any]) -> dict[str, Any]:
    """build-info.json's keys as the record's: `car` means a project, `iar` an integration."""
    project = "car" in data
    return {
        **data,
        "kind": "project" if project else "integration",
        "archive": data.get("car" if project else "iar"),
    }


def read_record(folder: Path) -> BuildRecord:
    """The validated record of the artifact in `folder`; any problem is one ArtifactError
    naming the file."""
    path = folder / BUILD_INFO
    where = shown_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{where}: not found; not an artifact folder", file=path) from None
    except OSError as exc:
        raise ArtifactError(f"{where}: cannot read ({exc.strerror})", file=path) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(f"{where}: not valid JSON ({exc})", file=path) from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{where}: not a JSON object", file=path)
    try:
        return BuildRecord.model_validate(_typed(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "?"
        raise ArtifactError(f"{where}: {loc}: {first['msg']}", file=path) from None


def find_artifacts(path: Path) -> list[Path]:
    """`path` itself when it holds build-info.json, else each folder directly inside it that
    does (sorted); none is a SettingsError naming the path."""
    if not path.is_dir():
        raise SettingsError(f"artifact-path {shown_path(path)} is not a folder")
    if (path / BUILD_INFO).is_file():
        return [path]
    found = sorted(p for p in path.iterdir() if p.is_dir() and (p / BUILD_INFO).is_file())
    if not found:
        raise SettingsError(
            f"artifact-path {shown_path(path)} holds no artifact (no {BUILD_INFO} in it or in a "
            "folder directly inside it)"
        )
    return found
