"""The artifact's records read back (artifact/record.py): build-info.json and connections.json
as a build wrote them, checked; a damaged or foreign one is one error naming the file; an
artifact folder, or a folder of several, is found; only a folder whose record reads as ours is
ever replaced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import build_cli as build
from conftest import make_integration, make_project, one_error, tree_digest
from oic_standin import StandIn

from oicaction.artifact.record import (
    find_artifacts,
    read_connections_index,
    read_record,
    write_record,
)
from oicaction.errors import ArtifactError

SLUG = "HELLO_WORLD_01.00.0000"


@pytest.fixture
def built() -> Path:
    """One integration and one project built offline into out/."""
    assert build(make_integration(Path("int"))) == 0
    assert build(make_project(Path("proj"), as_car=True)) == 0
    return Path("out")


def test_records_read_back_as_written(built: Path) -> None:
    integration = read_record(built / SLUG)
    assert (integration.kind, integration.id, integration.version) == (
        "integration",
        "HELLO_WORLD|01.00.0000",
        "01.00.0000",
    )
    iar = built / SLUG / integration.archive.file
    assert iar.name == f"{SLUG}.iar" and iar.stat().st_size == integration.archive.size
    assert integration.exported is None and integration.source.kind == "icspackage"
    project = read_record(built / "SALES")
    assert (project.kind, project.id, project.code, project.version) == (
        "project",
        "SALES",
        "SALES",
        None,
    )
    assert project.archive.file == "SALES.car" and project.revision == 7
    assert [i.id for i in project.integrations] == ["ORDERS|01.00.0000"]
    for folder in (built / SLUG, built / "SALES"):  # the same JSON, key for key
        written = json.loads((folder / "build-info.json").read_text())
        assert read_record(folder).document() == written


def _damage(folder: Path, change: object) -> Path:
    path = folder / "build-info.json"
    if callable(change):
        doc = json.loads(path.read_text())
        change(doc)
        path.write_text(json.dumps(doc))
    else:
        path.write_bytes(change)  # type: ignore[arg-type]
    return path


DAMAGE = {
    "not JSON": (b"{nope", "not JSON"),
    "not UTF-8": (b"\xff\xfe{}", "not JSON"),
    "a list": (b"[1, 2]", "expected a JSON object, not list"),
    "no archive": (lambda d: d.pop("iar"), "no 'iar' or 'car'"),
    "size a string": (lambda d: d["iar"].update(size="big"), "iar.size: "),
    "archive escapes": (lambda d: d["iar"].update(file="../../etc/passwd"), "not a file name"),
    "bad sha256": (lambda d: d["iar"].update(sha256="abc"), "sha256"),
    "negative size": (lambda d: d["iar"].update(size=-1), "iar.size: "),
    "no version": (lambda d: d.pop("version"), "no version"),
    "another tool": (lambda d: d["tool"].update(name="other"), "tool.name"),
    "both kinds": (lambda d: d.update(kind="project"), "beside 'iar'"),
    "connection id": (
        lambda d: d.update(exported={**EXPORTED, "connections": ["../x"]}),
        "exported.connections",
    ),
}
EXPORTED = {
    "server": "https://oic.example",
    "instance": None,
    "auth": "oauth",
    "connections": ["A"],
    "attachments": [],
    "attachments_to_supply": [],
    "lookups": [],
    "connections_file": "",
    "skipped": [],
    "connection_plan": None,
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_record_is_one_error_naming_the_file(built: Path, case: str) -> None:
    change, said = DAMAGE[case]
    path = _damage(built / SLUG, change)
    with pytest.raises(ArtifactError) as info:
        read_record(built / SLUG)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert said in message, message
    assert info.value.file == path


def test_a_missing_record_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"build-info\.json: cannot read \(No such file"):
        read_record(tmp_path)


def test_a_record_is_never_written_invalid(built: Path) -> None:
    """A redaction that would break the record fails instead of writing it."""
    record = read_record(built / SLUG)
    before = (built / SLUG / "build-info.json").read_bytes()
    with pytest.raises(ArtifactError, match="not a record oic-build can use: iar"):
        write_record(built / SLUG, record, redact=lambda doc: {**doc, "iar": "***"})
    assert (built / SLUG / "build-info.json").read_bytes() == before


def test_find_artifacts(built: Path) -> None:
    (built / ".SALES.partial-1-0123456789ab").mkdir()  # a run's staging: not an artifact
    (built / ".SALES.partial-1-0123456789ab/build-info.json").write_text("{}")
    (built / "notes").mkdir()
    (built / "linked").symlink_to(SLUG)
    assert find_artifacts(built) == [built / SLUG, built / "SALES"]
    assert find_artifacts(built / SLUG) == [built / SLUG]
    assert find_artifacts(built / "notes") == []
    with pytest.raises(ArtifactError, match="not a folder"):
        find_artifacts(built / SLUG / "build-info.json")


@pytest.mark.parametrize(
    "record",
    [
        b'{"tool": {"name": "oic-build"}}',  # the one key the old check looked at
        b'{"tool": {"name": "something else"}}',
        b"{broken",
    ],
    ids=["only-the-tool-key", "another-tool", "broken-json"],
)
def test_a_folder_whose_record_is_not_ours_is_never_replaced(
    record: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_integration(Path("src"))
    foreign = Path("out") / SLUG
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine")
    (foreign / "build-info.json").write_bytes(record)
    before = tree_digest(foreign)
    assert build(src) == 2
    error = one_error(capsys.readouterr().err)
    assert f"{foreign} exists and is not an oic-build artifact" in error
    assert tree_digest(foreign) == before
    assert not [p.name for p in Path("out").iterdir() if p.name.startswith(".")]  # no staging


@pytest.mark.usefixtures("oic_fast_http")
def test_connections_index_reads_back(oic_fixture_standin: StandIn, tree_source: Path) -> None:
    assert build(tree_source, server=oic_fixture_standin) == 0
    folder = Path("out/COUNTRY_INFO_01.00.0000")
    index = read_connections_index(folder)
    assert (index.kind, index.id, index.server) == (
        "integration",
        "COUNTRY_INFO|01.00.0000",
        oic_fixture_standin.url,
    )
    assert [c["id"] for c in index.connections] == ["LOCAL_REST", "RESTCOUNTRIESEU"]
    exported = read_record(folder).exported
    assert exported is not None and exported.connections == ["LOCAL_REST", "RESTCOUNTRIESEU"]
    assert exported.connections_file == (folder / "connections.json").as_posix()
    (folder / "connections.json").write_text('{"kind": "integration"}')
    with pytest.raises(ArtifactError, match=r"connections\.json: not a record oic-build can use"):
        read_connections_index(folder)
