"""Names from the server (or a source) that become paths (issue 18.1): a connection id, an
attachment's property name or a lookup name that OIC could not have given fails the build,
naming it; nothing is written outside the artifact folder, the committed source is untouched,
and no artifact is left. For integrations and projects alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import build_cli as build
from conftest import make_integration, make_project, one_error, tree_digest
from oic_standin import SAMPLE_LOOKUP, StandIn

pytestmark = pytest.mark.usefixtures("oic_fast_http")

WSDL = b"<definitions/>\n"


def _body(conn_id: str, prop: str = "targetWSDLURL") -> dict[str, object]:
    """A connection whose one property carries an uploaded file."""
    return {
        "id": conn_id,
        "connectionProperties": [
            {"displayName": "WSDL URL", "propertyName": prop, "propertyType": "URL_OR_FILE",
             "propertyValue": "x.wsdl", "hasAttachment": True}
        ],
    }  # fmt: skip


def _everything(root: Path) -> dict[str, str]:
    """Every file under root, for 'nothing written outside' checks."""
    return tree_digest(root)


def _check_refused(rc: int, capsys: pytest.CaptureFixture[str], *named: str) -> None:
    error = one_error(capsys.readouterr().err)
    assert rc == 1, error
    assert all(n in error for n in named), error
    out = Path("out")
    assert not out.exists() or [p.name for p in out.iterdir()] == []


def _hostile_ids(tmp_path: Path) -> list[str]:
    victim = tmp_path / "work" / "src"  # the committed source, as seen from out/.<stage>/
    return ["../../../src", str(victim), "HELLO/../../../src", "hello_rest_trigger"]


@pytest.mark.parametrize("which", range(4), ids=["relative", "absolute", "nested", "lower"])
def test_connection_id_from_the_server(
    which: int, tmp_path: Path, oic_standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asked for HELLO_REST_TRIGGER, the server answers with another id: before, the
    attachment landed at `<that id>/attachments/targetWSDLURL`, inside the source."""
    hostile = _hostile_ids(tmp_path)[which]
    src = make_integration(Path("src"))
    (src / "attachments").mkdir()
    (src / "attachments/targetWSDLURL").write_text("committed\n")
    before, work_before = tree_digest(src), set(_everything(Path.cwd()))
    oic_standin.add_connection("HELLO_REST_TRIGGER", _body(hostile))
    oic_standin.add_attachment("HELLO_REST_TRIGGER", "targetWSDLURL", WSDL)
    rc = build(src, server=oic_standin)
    _check_refused(rc, capsys, "connection HELLO_REST_TRIGGER: ", repr(hostile)[:40])
    assert tree_digest(src) == before
    assert set(_everything(Path.cwd())) - work_before <= {"out"}


@pytest.mark.parametrize(
    "prop", ["../../x", "/tmp/x", "..", ".hidden", "a b", "line\nbreak", "x" * 200]
)
def test_attachment_property_name_from_the_server(
    prop: str, oic_standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_integration(Path("src"))
    before, work_before = tree_digest(src), set(_everything(Path.cwd()))
    oic_standin.add_connection("HELLO_REST_TRIGGER", _body("HELLO_REST_TRIGGER", prop))
    oic_standin.add_attachment("HELLO_REST_TRIGGER", prop, WSDL)
    rc = build(src, server=oic_standin)
    _check_refused(rc, capsys, "connection HELLO_REST_TRIGGER: ", "property name")
    assert tree_digest(src) == before
    assert set(_everything(Path.cwd())) - work_before <= {"out"}
    assert not Path("/tmp/x").exists() or Path("/tmp/x").read_bytes() != WSDL


def test_a_good_answer_is_written_where_expected(oic_standin: StandIn) -> None:
    """The counterpart: dotted property names, as OIC's own (`oauth.client.id`), are kept."""
    src = make_integration(Path("src"))
    oic_standin.add_connection("HELLO_REST_TRIGGER", _body("HELLO_REST_TRIGGER", "oauth.wsdl"))
    oic_standin.add_attachment("HELLO_REST_TRIGGER", "oauth.wsdl", WSDL)
    assert build(src, server=oic_standin) == 0
    saved = Path("out/HELLO_WORLD_01.00.0000/connections/HELLO_REST_TRIGGER/attachments")
    assert (saved / "oauth.wsdl").read_bytes() == WSDL


def test_project_build_with_a_hostile_connection_id(
    tmp_path: Path, oic_standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_project(Path("src"), connections=[("ORDERS_REST", "rest")])
    before = tree_digest(src)
    hostile = str(tmp_path / "victim")
    oic_standin.add_connection("ORDERS_REST", _body(hostile), project="SALES")
    oic_standin.add_attachment("ORDERS_REST", "targetWSDLURL", WSDL, project="SALES")
    rc = build(src, server=oic_standin)
    _check_refused(rc, capsys, "connection ORDERS_REST: ", "connection id")
    assert tree_digest(src) == before
    assert not (tmp_path / "victim").exists()


@pytest.mark.parametrize(
    ("assets", "named"),
    [("connections", "connection id '../../x'"), ("lookups", "lookup name '../../x'")],
)
def test_project_yaml_names_that_cannot_be_paths(
    assets: str, named: str, oic_standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """project.yaml lists its assets by id: one that is no OIC name fails before any request
    for that project's connections and lookups."""
    src = make_project(Path("src"))
    listed = src / "project/project.yaml"
    doc = yaml.safe_load(listed.read_text())
    doc["assets"][assets].append({"id": "../../x", "name": "x"})
    listed.write_text(yaml.safe_dump(doc))
    oic_standin.add_lookup("unused", SAMPLE_LOOKUP, project="SALES")
    before = tree_digest(src)
    rc = build(src, server=oic_standin)
    _check_refused(rc, capsys, "project SALES uses a", named)
    assert tree_digest(src) == before
    assert oic_standin.count("GET", "/ic/api/integration/v1/projects/SALES/connections") == 0


SECRET_NAME = "K7Q2ZX9M4W8R1T5V"  # a password OIC's own id rule would let through


@pytest.mark.parametrize("where", ["connection id", "property name"])
def test_a_secret_never_becomes_a_file_or_folder_name(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server that answers with the run's password as a connection id or attachment name
    (both fit OIC's rules): the build fails, no path anywhere holds the password, and no line
    shows it."""
    from conftest import run_cli
    from oic_standin import USERNAME

    src = make_integration(Path("src"))
    conn_id, prop = ("HELLO_REST_TRIGGER", SECRET_NAME)
    if where == "connection id":
        conn_id, prop = SECRET_NAME, "targetWSDLURL"
    with StandIn(password=SECRET_NAME) as standin:
        standin.add_connection("HELLO_REST_TRIGGER", _body(conn_id, prop))
        standin.add_attachment("HELLO_REST_TRIGGER", prop, WSDL)
        rc = run_cli(
            "--integration-path", str(src), "--artifact-dir", "out", "--oic-url", standin.url,
            "--username", USERNAME, "--password", SECRET_NAME, "--json",
        )  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 1, captured.err
    assert SECRET_NAME not in captured.out + captured.err
    said = {
        "connection id": "not the one asked for",
        "property name": "an attachment name that holds a secret",
    }
    assert f"connection HELLO_REST_TRIGGER: {standin.url} answered with " in captured.err
    assert said[where] in captured.err
    assert not [p for p in Path.cwd().rglob("*") if SECRET_NAME in p.name]
    assert not Path("out").exists() or [p.name for p in Path("out").iterdir()] == []
