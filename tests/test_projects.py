"""OIC 3 projects (.car, root project/): the four real exports read as SOURCES.md records them
and pack back to OIC's entries; a project builds from the committed .car (copied) and from the
unzipped project/ folder (packed, byte-identical on every rebuild), mixes with integrations in
batches and discovery, and exports its connections and lookups from the project endpoints."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import build_cli as build
from conftest import (
    make_integration,
    make_project,
    read_outputs,
    run_cli,
    tree_digest,
    use_runner,
    write_zip,
    zip_contents,
)
from oic_standin import API, SAMPLE_LOOKUP, StandIn

from oicaction.source.find import read_source

HEMANTH = (
    "hemanth-bhat04__Oracle_Integration_Cloud/B30_HEMANTH_INTEGRAT_FLOWS-FLOW_DEPLOYMENTS (1).car"
)
# code, revision, integrations, connections (code:adapter), lookups, libraries; from SOURCES.md
# and each archive's project.yaml.
EXPECTED = {
    "oracle-livelabs__oic/HEALTHCARE_ADT_PROJECT.car": (
        "HEALTHCARE_ADT_PROJECT",
        361,
        ["HANDLE_INBOUND_HEALTHCA_MESSAGES|01.00.0000", "PROCES_ADT_HL7_V25_MESSAG|01.00.0000"],
        {
            "HC_SEND_HL7:mllp",
            "HC_RECEIVE_HL7:mllp",
            "HAPI_FHIR_TEST_SERVER:rest",
            "PROCESSOR_REST_INTERFACE:rest",
        },
        [
            "HL7ProcessorRoutes",
            "HL7_to_FHIR_Equipment_to_System",
            "HL7_to_FHIR_Gender_Map",
            "HL7_to_FHIR_Telecom_Use",
        ],
        [],
    ),
    "SoumenGhoshDev__Oracle-Integration-Cloud/DEMO_FIRST_PROJECT_4.car": (
        "DEMO_FIRST_PROJECT",
        362,
        [
            "CREATE_PENDING_WORKERS|01.00.0002",
            "GETWEATHERINFO|01.00.0000",
            "HELLO_WORLD|01.00.0000",
            "HELLO_WORLD|02.00.0001",
            "RETRIEVE_COUNTRY_INFORMATIO|01.00.0000",
            "RETRIEVE_COUNTRY_INFORMATIO|02.00.0000",
        ],
        {
            "REST_TRIGGER:rest",
            "GETINFO:rest",
            "RESTCOUNTRIES:rest",
            "ALTERNATE_COUNTRY_SERVICE:rest",
            "CALLOPENWEATHERAPI:rest",
            "ATPDEMO:atpdatabase",
            "ORACLE_HCM:hcm",
            "FTP_DEMO:ftp",
            "ORACLEERP:erp",
        },
        [],
        ["RANDOM|01.00.0000"],
    ),
    HEMANTH: (
        "B30_HEMANTH_INTEGRAT_FLOWS",
        559,
        ["B30_HB_FTP_INT|01.00.0000"],
        {"B30_HB_REST_CONN:rest", "B30_HB_FTP_CONN:ftp"},
        [],
        [],
    ),
    "bhagavansprasad__iar-lens/FACTORYDOCK-TEST-51.car": (
        "FACTORYDOCK",
        889,
        ["ALTERA_PRINT_SHIP_DOC|01.00.0006"],
        {
            "ERPCLOUDCONN:erp",
            "ALTERA_ATP:atpdatabase",
            "ALTERA_REST_CONNECTI_1:rest",
            "ALTERASFTPCONN:ftp",
        },
        ["alteraCIPLLookUp", "alteraEmailLookUP"],
        [],
    ),
}
OFFLINE = ("--manage-connections", "false", "--manage-lookups", "false")
# The generated project most tests use (conftest.project_entries).
SALES = {
    "integrations": (("ORDERS", "01.00.0000"), ("INVOICES", "02.00.0001")),
    "connections": (("ORDERS_REST", "rest"), ("ORDERS_FTP", "ftp")),
    "lookups": ("Country_Codes",),
    "libraries": (("DATES", "01.00.0000"),),
}


def _unzip(car: Path, folder: Path) -> Path:
    with zipfile.ZipFile(car) as zf:
        zf.extractall(folder)
    return folder


# -- the real exports ------------------------------------------------------------------------


def test_real_cars_read_as_recorded(real_dir: Path, tmp_path: Path) -> None:
    """Each real .car, and each unzipped into a project/ folder, says what SOURCES.md records."""
    for rel, (code, revision, integrations, conns, lookups, libraries) in EXPECTED.items():
        car = real_dir / rel
        for path in (car, _unzip(car, tmp_path / code)):
            data = read_source(path, verify=True)
            meta = data.meta
            assert data.source.kind == ("car" if path == car else "project"), rel
            assert (meta.code, meta.project_id, meta.revision) == (code, code, revision), rel
            assert [i.id for i in meta.integrations] == integrations, rel
            assert {f"{c.code}:{c.adapter}" for c in meta.connections} == conns, rel
            assert (list(meta.lookups), list(meta.libraries)) == (lookups, libraries), rel
            assert meta.name and all(i.name for i in meta.integrations), rel
            assert meta.warnings == () and meta.extra_roots == (), rel
            assert data.entries == len(zip_contents(car)), rel


def test_real_project_folders_pack_to_oic_entries(real_dir: Path, tmp_path: Path) -> None:
    """An unzipped real export packs back to OIC's own entries and contents."""
    for rel, (code, *_rest) in EXPECTED.items():
        src = _unzip(real_dir / rel, tmp_path / "src" / code)
        assert build(src, out=tmp_path / "art") == 0, rel
        built = tmp_path / "art" / code / f"{code}.car"
        assert zip_contents(built) == zip_contents(real_dir / rel), rel


# -- building a project -----------------------------------------------------------------------


def test_build_from_car_copies_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    car = make_project(tmp_path / "src", as_car=True, **SALES) / "SALES.car"
    before = tree_digest(car.parent)
    art = tmp_path / "art"
    assert build(car.parent, out=art) == 0
    out = json.loads(capsys.readouterr().out)
    folder = art / "SALES"
    assert sorted(p.name for p in art.iterdir()) == ["SALES"]  # no staging folder left
    assert sorted(p.name for p in folder.iterdir()) == ["SALES.car", "build-info.json"]
    assert (folder / "SALES.car").read_bytes() == car.read_bytes()
    assert tree_digest(car.parent) == before
    integrations = ["INVOICES|02.00.0001", "ORDERS|01.00.0000"]
    assert out["source-kind"] == "project"
    assert (out["project-code"], out["project-revision"], out["project-name"]) == (
        "SALES",
        "7",
        "Sales",
    )
    assert out["project-integrations"] == integrations
    assert out["connections"] == ["ORDERS_FTP", "ORDERS_REST"]
    assert out["lookups"] == ["Country_Codes"]
    assert out["artifact-dir"] == folder.as_posix()
    assert out["car-path"] == (folder / "SALES.car").as_posix()
    assert "integration-id" not in out and "iar-path" not in out
    (record,) = out["integrations"]
    assert (record["kind"], record["id"], record["status"]) == ("project", "SALES", "built")
    assert record["sha256"] == out["sha256"] and record["integrations"] == integrations
    assert record["car-path"] == out["car-path"] and record["iar-path"] is None
    info = json.loads((folder / "build-info.json").read_text(encoding="utf-8"))
    assert info["kind"] == "project" and "version" not in info and "iar" not in info
    assert (info["id"], info["code"], info["revision"], info["name"]) == (
        "SALES",
        "SALES",
        7,
        "Sales",
    )
    assert [i["id"] for i in info["integrations"]] == integrations
    assert info["integrations"][1] == {
        "id": "ORDERS|01.00.0000",
        "code": "ORDERS",
        "version": "01.00.0000",
        "name": "Orders",
    }
    assert info["connections"] == [
        {"code": "ORDERS_FTP", "adapter": "ftp"},
        {"code": "ORDERS_REST", "adapter": "rest"},
    ]
    assert (info["lookups"], info["libraries"]) == (["Country_Codes"], ["DATES|01.00.0000"])
    assert info["car"]["sha256"] == out["sha256"] and info["exported"] == {}
    assert info["source"] == {"kind": "car", "path": car.as_posix()}


def test_build_from_folder_is_the_same_bytes_every_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """project/ packs to its entries and contents, the same bytes on every rebuild."""
    src = make_project(tmp_path / "src", **SALES)
    before = tree_digest(src)
    assert build(src, out=tmp_path / "one") == 0
    assert build(src, out=tmp_path / "two") == 0
    first = tmp_path / "one/SALES/SALES.car"
    assert first.read_bytes() == (tmp_path / "two/SALES/SALES.car").read_bytes()
    on_disk = {p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()}
    with zipfile.ZipFile(first) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names == sorted(names) and set(names) == on_disk
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert tree_digest(src) == before
    # The packed archive reads back as the same project.
    assert read_source(first, verify=True).meta == read_source(src, verify=True).meta
    out = [json.loads(block) for block in _json_blocks(capsys.readouterr().out)]
    assert out[0]["sha256"] == out[1]["sha256"]


def _json_blocks(text: str) -> list[str]:
    """The --json objects of several runs printed one after another."""
    blocks, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth, start = depth + 1, (i if depth == 0 else start)
        elif ch == "}":
            depth -= 1
            if depth == 0:
                blocks.append(text[start : i + 1])
    return blocks


def test_rebuild_independent_of_mtime_and_creation_order(tmp_path: Path) -> None:
    one = make_project(tmp_path / "one", **SALES)
    two = tmp_path / "two"
    for path in sorted((p for p in one.rglob("*") if p.is_file()), reverse=True):
        copy = two / path.relative_to(one)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
        copy.chmod(0o600)
    assert build(one, out=tmp_path / "a") == 0
    assert build(two, out=tmp_path / "b") == 0
    car = "SALES/SALES.car"
    assert (tmp_path / "a" / car).read_bytes() == (tmp_path / "b" / car).read_bytes()


def test_car_file_given_directly_with_space_in_name(tmp_path: Path) -> None:
    """As one real export is named: `<CODE>-FLOW_DEPLOYMENTS (1).car`."""
    folder = make_project(tmp_path / "dir with space", as_car=True, file_name="SALES-X (1).car")
    car = folder / "SALES-X (1).car"
    assert build(car, out=tmp_path / "art") == 0
    assert (tmp_path / "art/SALES/SALES.car").read_bytes() == car.read_bytes()


def test_car_wins_over_project_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = make_project(tmp_path / "src", as_car=True)
    make_project(src, "SOMETHING_ELSE")
    assert build(src, out=tmp_path / "art") == 0
    err = capsys.readouterr().err
    assert f"both SALES.car and project/ found in {src}; the .car wins" in err
    assert (tmp_path / "art/SALES/SALES.car").is_file()


def test_mismatch_between_project_yaml_and_folders_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_project(tmp_path / "src", **SALES)
    shutil.rmtree(src / "project/integrations/ORDERS_01.00.0000")
    (src / "project/connections/ORDERS_FTP.xml").unlink()
    shutil.copy(src / "project/connections/ORDERS_REST.xml", src / "project/connections/EXTRA.xml")
    assert build(src, out=tmp_path / "art") == 0
    warnings = [ln for ln in capsys.readouterr().err.splitlines() if "warning" in ln]
    joined = "\n".join(warnings)
    assert "integrations listed in project.yaml but not in the archive: ORDERS|01.00.0000" in (
        joined
    )
    assert "connections listed in project.yaml but not in the archive: ORDERS_FTP" in joined
    assert "connections in the archive but not listed in project.yaml: EXTRA" in joined
    assert len(warnings) == 3, warnings


def test_batch_and_discover_mix_integrations_and_projects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    make_integration(repo / "ints/hello")
    make_project(repo / "projects/b30", "B30", as_car=True)
    make_project(repo / "projects/hc", "HC")
    (repo / "projects/hc/notes").mkdir()  # a folder inside the project source is not walked
    assert run_cli("discover", "--integration-path", str(repo), "--json") == 0
    found = json.loads(capsys.readouterr().out)["integrations"]
    assert [(f["kind"], f["id"], f["version"]) for f in found] == [
        ("integration", "HELLO_WORLD|01.00.0000", "01.00.0000"),
        ("project", "B30", None),
        ("project", "HC", None),
    ]
    paths = ",".join(f["path"] for f in found)
    art = tmp_path / "art"
    assert build(Path(paths), out=art) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["status"]) for r in out["integrations"]] == [
        ("integration", "built"),
        ("project", "built"),
        ("project", "built"),
    ]
    assert sorted(p.name for p in art.iterdir()) == ["B30", "HC", "HELLO_WORLD_01.00.0000"]


def test_duplicate_project_code_in_a_batch_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(tmp_path / "a", as_car=True)
    make_project(tmp_path / "b")
    assert build(Path(f"{tmp_path / 'a'},{tmp_path / 'b'}"), out=tmp_path / "art") == 1
    err = capsys.readouterr().err
    assert "project SALES is in both" in err
    assert "the project code must be unique" in err


# -- connections and lookups from the project endpoints ----------------------------------------


def _serve(standin: StandIn, project: str, *conn_ids: str) -> None:
    for conn_id in conn_ids:
        url = f"https://{conn_id.lower()}.example"
        body = {"id": conn_id, "securityPolicy": "NONE", "connectionProperties": [
            {"displayName": "Connection URL", "propertyName": "connectionUrl",
             "propertyType": "URL", "propertyValue": url}]}  # fmt: skip
        standin.add_connection(conn_id, body, project=project)


@pytest.mark.usefixtures("oic_fast_http")
def test_manage_connections_uses_project_endpoints(
    tmp_path: Path, oic_standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    conns = ["ORDERS_FTP", "ORDERS_REST"]
    _serve(oic_standin, "SALES", *conns)
    oic_standin.add_lookup("Country_Codes", SAMPLE_LOOKUP, project="SALES")
    oic_standin.add_connection("ORDERS_REST", {"id": "ORDERS_REST"})  # global: must not be used
    car = make_project(tmp_path / "src", as_car=True, **SALES) / "SALES.car"
    assert build(car.parent, server=oic_standin) == 0
    out = json.loads(capsys.readouterr().out)
    folder = Path("out/SALES")
    for conn_id in conns:
        assert oic_standin.count("GET", f"{API}/projects/SALES/connections/{conn_id}") == 1
        assert (folder / "connections" / conn_id / "connection.json").is_file()
    assert oic_standin.count("GET", f"{API}/projects/SALES/lookups/Country_Codes/archive") == 1
    assert (folder / "lookups/Country_Codes.csv").read_bytes() == SAMPLE_LOOKUP
    assert oic_standin.connection_gets("ORDERS_REST") == 0
    assert out["connections-file"] == (folder / "connections.json").as_posix()
    plan = (folder / "connectionPlan.properties").read_text()
    assert plan.startswith("# Connection plan for project SALES, generated by oic-build")
    info = json.loads((folder / "build-info.json").read_text())
    assert info["exported"]["project"] == "SALES"
    assert info["exported"]["connections"] == conns
    index = json.loads((folder / "connections.json").read_text())
    assert (index["kind"], index["id"], index["project"]) == ("project", "SALES", "SALES")
    assert "integration" not in index


@pytest.mark.usefixtures("oic_fast_http")
def test_a_missing_project_connection_is_named_as_the_projects(
    tmp_path: Path, oic_standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    _serve(oic_standin, "SALES", "ORDERS_REST")
    src = make_project(tmp_path / "src", **SALES)
    assert build(src, "--manage-lookups", "false", server=oic_standin) == 1
    err = capsys.readouterr().err
    assert "error: connection ORDERS_FTP used by project SALES was not found on " in err
    assert "integration SALES" not in err


@pytest.mark.usefixtures("oic_fast_http")
def test_oic_project_setting_overrides_the_project_id(
    tmp_path: Path, oic_standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    _serve(oic_standin, "TEAM_COPY", "ORDERS_FTP", "ORDERS_REST")
    car = make_project(tmp_path / "src", as_car=True, project_id="SALES_ID") / "SALES.car"
    args = ("--oic-project", "TEAM_COPY", "--manage-lookups", "false")
    assert build(car, *args, server=oic_standin) == 0
    assert oic_standin.count("GET", f"{API}/projects/TEAM_COPY/connections/ORDERS_FTP") == 1
    # Without the override, the project's own id is asked, which this server lacks: the
    # first request for the project (GET /projects/{id}) answers 404, a settings error.
    assert build(car, out="out2", server=oic_standin) == 2
    err = capsys.readouterr().err
    assert ": its project id SALES_ID was not found on" in err
    assert not Path("out2/SALES").exists()


def test_project_code_with_hyphen(tmp_path: Path) -> None:
    """OIC 3 accepts hyphens in project codes (LAB-DEVOPS in the recorded import response)."""
    src = make_project(tmp_path / "src", "LAB-DEVOPS")
    assert build(src, out=tmp_path / "art") == 0
    assert (tmp_path / "art/LAB-DEVOPS/LAB-DEVOPS.car").is_file()


def test_github_outputs_and_summary_of_a_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = use_runner(monkeypatch, tmp_path / "runner", github=False)
    car = make_project(tmp_path / "src", as_car=True, name="Sales & Orders") / "SALES.car"
    assert build(car, *OFFLINE, out="art", json=False) == 0
    parsed = read_outputs(runner)
    assert "integration-id" not in parsed and "iar-path" not in parsed
    assert parsed["source-kind"] == "project"
    assert parsed["project-code"] == "SALES"
    assert parsed["project-revision"] == "7"
    assert json.loads(parsed["project-integrations"]) == ["ORDERS|01.00.0000"]
    markdown = (runner / "summary").read_text(encoding="utf-8")
    assert "| Project | `SALES` Sales \\& Orders \\(revision 7\\) |" in markdown
    assert "| Integrations | `ORDERS\\|01.00.0000` |" in markdown


def test_discover_passes_over_par_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A package archive (.par, as oracle-livelabs ships one) is not a source."""
    repo = make_project(tmp_path / "repo", as_car=True)
    write_zip(repo / "oic.ocw.hol.par", {"SALES_PACKAGE.zip": b"PK"})
    assert run_cli("discover", "--integration-path", str(repo), "--json") == 0
    found = json.loads(capsys.readouterr().out)["integrations"]
    assert [(f["kind"], f["id"]) for f in found] == [("project", "SALES")]


def test_project_export_without_server_settings_is_a_settings_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    car = make_project(tmp_path / "src", as_car=True)
    assert run_cli("--integration-path", str(car), "--artifact-dir", str(tmp_path / "a")) == 2
    err = capsys.readouterr().err
    assert "project SALES uses connections" in err and "oic-url" in err
    assert not (tmp_path / "a").exists()
