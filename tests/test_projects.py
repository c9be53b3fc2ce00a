"""OIC 3 projects (.car, root project/): the four real exports read as SOURCES.md records them,
build from the committed .car (copied) and from the unzipped project/ folder (packed to the same
entries and contents, byte-identical on every rebuild), mix with integrations in batches and
discovery, and export their connections and lookups from the project endpoints."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import EXAMPLE, run_cli, tree_digest, zip_contents
from oic_standin import API, SAMPLE_LOOKUP, StandIn
from standin_fixtures import server_args

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


def _copy_car(real: Path, rel: str, folder: Path) -> Path:
    """The .car under its original file name (one has a space and parentheses)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(real / rel, folder / Path(rel).name))


def _unzip(car: Path, folder: Path) -> Path:
    with zipfile.ZipFile(car) as zf:
        zf.extractall(folder)
    return folder


def _build(source: Path, art: Path, *extra: str) -> int:
    return run_cli("--integration-path", str(source), "--artifact-dir", str(art), "--json", *extra)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
@pytest.mark.parametrize("form", ["car", "folder"])
def test_metadata_matches_sources(rel: str, form: str, real_dir: Path, tmp_path: Path) -> None:
    code, revision, integrations, conns, lookups, libraries = EXPECTED[rel]
    car = real_dir / rel
    path = car if form == "car" else _unzip(car, tmp_path / "src")
    data = read_source(path, verify=True)
    meta = data.meta
    assert data.source.kind == ("car" if form == "car" else "project")
    assert (meta.code, meta.project_id, meta.revision) == (code, code, revision)
    assert [i.id for i in meta.integrations] == integrations
    assert {f"{c.code}:{c.adapter}" for c in meta.connections} == conns
    assert list(meta.lookups) == lookups
    assert list(meta.libraries) == libraries
    assert meta.name and all(i.name for i in meta.integrations)
    assert meta.warnings == () and meta.extra_roots == ()
    assert data.entries == len(zip_contents(car))


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_build_from_car_copies_it(
    rel: str, real_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, revision, integrations, conns, lookups, libraries = EXPECTED[rel]
    car = _copy_car(real_dir, rel, tmp_path / "src")
    before = tree_digest(car.parent)
    art = tmp_path / "art"
    assert _build(car.parent, art, *OFFLINE) == 0
    out = json.loads(capsys.readouterr().out)
    folder = art / code
    assert sorted(p.name for p in art.iterdir()) == [code]  # no staging folder left
    assert sorted(p.name for p in folder.iterdir()) == [f"{code}.car", "build-info.json"]
    assert (folder / f"{code}.car").read_bytes() == car.read_bytes()
    assert tree_digest(car.parent) == before
    assert out["source-kind"] == "project"
    assert (out["project-code"], out["project-revision"]) == (code, str(revision))
    assert out["project-integrations"] == integrations
    assert {f"{c}" for c in out["connections"]} == {c.split(":")[0] for c in conns}
    assert out["lookups"] == lookups
    assert out["artifact-dir"] == folder.as_posix()
    assert out["car-path"] == (folder / f"{code}.car").as_posix()
    assert "integration-id" not in out and "iar-path" not in out
    (record,) = out["integrations"]
    assert (record["kind"], record["id"], record["status"]) == ("project", code, "built")
    assert record["sha256"] == out["sha256"] and record["integrations"] == integrations
    info = json.loads((folder / "build-info.json").read_text(encoding="utf-8"))
    assert info["kind"] == "project"
    assert (info["code"], info["revision"], info["name"]) == (code, revision, out["project-name"])
    assert [i["id"] for i in info["integrations"]] == integrations
    assert {f"{c['code']}:{c['adapter']}" for c in info["connections"]} == conns
    assert (info["lookups"], info["libraries"]) == (lookups, libraries)
    assert info["car"]["sha256"] == out["sha256"]
    assert info["source"] == {"kind": "car", "path": car.as_posix()}


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_build_from_folder_matches_oic_export(
    rel: str, real_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """project/ packs to OIC's entries and contents, the same bytes on every rebuild."""
    code = EXPECTED[rel][0]
    src = _unzip(real_dir / rel, tmp_path / "src")
    before = tree_digest(src)
    assert _build(src, tmp_path / "one", *OFFLINE) == 0
    assert _build(src, tmp_path / "two", *OFFLINE) == 0
    first = tmp_path / "one" / code / f"{code}.car"
    second = tmp_path / "two" / code / f"{code}.car"
    assert zip_contents(first) == zip_contents(real_dir / rel)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names == sorted(names) and all(n.startswith("project/") for n in names)
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


def test_rebuild_independent_of_mtime_and_creation_order(real_dir: Path, tmp_path: Path) -> None:
    rel = HEMANTH
    contents = zip_contents(real_dir / rel)
    one = _unzip(real_dir / rel, tmp_path / "one")
    two = tmp_path / "two"
    for name in sorted(contents, reverse=True):
        path = two / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(contents[name])
        path.chmod(0o600)
    assert _build(one, tmp_path / "a", *OFFLINE) == 0
    assert _build(two, tmp_path / "b", *OFFLINE) == 0
    car = "B30_HEMANTH_INTEGRAT_FLOWS/B30_HEMANTH_INTEGRAT_FLOWS.car"
    assert (tmp_path / "a" / car).read_bytes() == (tmp_path / "b" / car).read_bytes()


def test_car_file_given_directly_with_space_in_name(real_dir: Path, tmp_path: Path) -> None:
    car = _copy_car(real_dir, HEMANTH, tmp_path / "dir with space")
    assert " (1).car" in car.name
    assert _build(car, tmp_path / "art", *OFFLINE) == 0
    built = tmp_path / "art/B30_HEMANTH_INTEGRAT_FLOWS/B30_HEMANTH_INTEGRAT_FLOWS.car"
    assert built.read_bytes() == car.read_bytes()


def test_car_wins_over_project_folder(
    real_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rel = "oracle-livelabs__oic/HEALTHCARE_ADT_PROJECT.car"
    src = _unzip(real_dir / rel, tmp_path / "src")
    car = _copy_car(real_dir, rel, src)
    (src / "project/project.yaml").write_text("code: SOMETHING_ELSE\n")
    assert _build(src, tmp_path / "art", *OFFLINE) == 0
    err = capsys.readouterr().err
    assert f"both {car.name} and project/ found in {src}; the .car wins" in err
    assert (tmp_path / "art/HEALTHCARE_ADT_PROJECT/HEALTHCARE_ADT_PROJECT.car").is_file()


def test_mismatch_between_project_yaml_and_folders_warns(
    real_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _unzip(
        real_dir / "SoumenGhoshDev__Oracle-Integration-Cloud/DEMO_FIRST_PROJECT_4.car",
        tmp_path / "src",
    )
    shutil.rmtree(src / "project/integrations/HELLO_WORLD_01.00.0000")
    (src / "project/connections/ORACLEERP.xml").unlink()
    shutil.copy(src / "project/connections/GETINFO.xml", src / "project/connections/EXTRA.xml")
    assert _build(src, tmp_path / "art", *OFFLINE) == 0
    warnings = [ln for ln in capsys.readouterr().err.splitlines() if "warning" in ln]
    joined = "\n".join(warnings)
    assert "integrations listed in project.yaml but not in the archive: HELLO_WORLD|01.00.0000" in (
        joined
    )
    assert "connections listed in project.yaml but not in the archive: ORACLEERP" in joined
    assert "connections in the archive but not listed in project.yaml: EXTRA" in joined
    assert len(warnings) == 3, warnings


def test_batch_and_discover_mix_integrations_and_projects(
    real_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "ints/hello")
    _copy_car(real_dir, HEMANTH, repo / "projects/b30")
    _unzip(real_dir / "oracle-livelabs__oic/HEALTHCARE_ADT_PROJECT.car", repo / "projects/hc")
    (repo / "projects/hc/notes").mkdir()  # a folder inside the project source is not walked
    assert run_cli("discover", "--integration-path", str(repo), "--json") == 0
    found = json.loads(capsys.readouterr().out)["integrations"]
    assert [(f["kind"], f["id"], f["version"]) for f in found] == [
        ("integration", "HELLO_WORLD|01.00.0000", "01.00.0000"),
        ("project", "B30_HEMANTH_INTEGRAT_FLOWS", None),
        ("project", "HEALTHCARE_ADT_PROJECT", None),
    ]
    paths = ",".join(f["path"] for f in found)
    art = tmp_path / "art"
    assert _build(Path(paths), art, *OFFLINE) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["status"]) for r in out["integrations"]] == [
        ("integration", "built"),
        ("project", "built"),
        ("project", "built"),
    ]
    assert sorted(p.name for p in art.iterdir()) == [
        "B30_HEMANTH_INTEGRAT_FLOWS",
        "HEALTHCARE_ADT_PROJECT",
        "HELLO_WORLD_01.00.0000",
    ]


def test_duplicate_project_code_in_a_batch_is_refused(
    real_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _copy_car(real_dir, HEMANTH, tmp_path / "a")
    _unzip(real_dir / HEMANTH, tmp_path / "b")
    assert _build(Path(f"{tmp_path / 'a'},{tmp_path / 'b'}"), tmp_path / "art", *OFFLINE) == 1
    err = capsys.readouterr().err
    assert "project B30_HEMANTH_INTEGRAT_FLOWS is in both" in err
    assert "the project code must be unique" in err


# -- connections and lookups from the project endpoints ----------------------------------------


@pytest.fixture
def oic3_body(oic_api_dir: Path) -> dict[str, object]:
    """A real OIC 3 connection body (recorded; abridged by the recorder)."""
    path = oic_api_dir / "oracle-devrel__technology-engineering"
    return json.loads((path / "POB_OICTOOPA_INVOKE.connection.oic3.abridged.json").read_text())


def _serve(standin: StandIn, body: dict[str, object], project: str, *conn_ids: str) -> None:
    for conn_id in conn_ids:
        standin.add_connection(conn_id, {**body, "id": conn_id}, project=project)


@pytest.mark.usefixtures("oic_fast_http")
def test_manage_connections_uses_project_endpoints(
    real_dir: Path, tmp_path: Path, oic_standin: StandIn, oic3_body, capsys
) -> None:
    project = "HEALTHCARE_ADT_PROJECT"
    conns = ["HAPI_FHIR_TEST_SERVER", "HC_RECEIVE_HL7", "HC_SEND_HL7", "PROCESSOR_REST_INTERFACE"]
    lookups = EXPECTED[f"oracle-livelabs__oic/{project}.car"][4]
    _serve(oic_standin, oic3_body, project, *conns)
    for name in lookups:
        oic_standin.add_lookup(name, SAMPLE_LOOKUP, project=project)
    oic_standin.add_connection("HC_SEND_HL7", {"id": "HC_SEND_HL7"})  # global: must not be used
    car = _copy_car(real_dir, f"oracle-livelabs__oic/{project}.car", tmp_path / "src")
    assert _build(car.parent, Path("out"), *server_args(oic_standin)) == 0
    out = json.loads(capsys.readouterr().out)
    folder = Path("out") / project
    for conn_id in conns:
        assert oic_standin.count("GET", f"{API}/projects/{project}/connections/{conn_id}") == 1
        assert (folder / "connections" / conn_id / "connection.json").is_file()
    for name in lookups:
        assert oic_standin.count("GET", f"{API}/projects/{project}/lookups/{name}/archive") == 1
        assert (folder / "lookups" / f"{name}.csv").read_bytes() == SAMPLE_LOOKUP
    assert oic_standin.connection_gets("HC_SEND_HL7") == 0
    assert out["connections-file"] == (folder / "connections.json").as_posix()
    assert (folder / "connectionPlan.properties").is_file()
    info = json.loads((folder / "build-info.json").read_text())
    assert info["exported"]["project"] == project
    assert info["exported"]["connections"] == conns


@pytest.mark.usefixtures("oic_fast_http")
def test_oic_project_setting_overrides_the_project_id(
    real_dir: Path, tmp_path: Path, oic_standin: StandIn, oic3_body, capsys
) -> None:
    _serve(oic_standin, oic3_body, "TEAM_COPY", "B30_HB_FTP_CONN", "B30_HB_REST_CONN")
    car = _copy_car(real_dir, HEMANTH, tmp_path / "src")
    args = (*server_args(oic_standin), "--oic-project", "TEAM_COPY", "--manage-lookups", "false")
    assert _build(car, Path("out"), *args) == 0
    assert oic_standin.count("GET", f"{API}/projects/TEAM_COPY/connections/B30_HB_FTP_CONN") == 1
    # Without the override, the project's own id is asked, which this server lacks: the
    # first request for the project (GET /projects/{id}) answers 404, a settings error.
    assert _build(car, Path("out2"), *server_args(oic_standin)) == 2
    err = capsys.readouterr().err
    assert ": its project id B30_HEMANTH_INTEGRAT_FLOWS was not found on" in err
    assert not Path("out2/B30_HEMANTH_INTEGRAT_FLOWS").exists()


def test_project_code_with_hyphen(real_dir: Path, tmp_path: Path) -> None:
    """OIC 3 accepts hyphens in project codes (LAB-DEVOPS in the recorded import response)."""
    src = _unzip(real_dir / HEMANTH, tmp_path / "src")
    yaml_path = src / "project/project.yaml"
    yaml_path.write_text(
        yaml_path.read_text().replace("B30_HEMANTH_INTEGRAT_FLOWS", "LAB-DEVOPS"), "utf-8"
    )
    assert _build(src, tmp_path / "art", *OFFLINE) == 0
    assert (tmp_path / "art/LAB-DEVOPS/LAB-DEVOPS.car").is_file()


def test_github_outputs_and_summary_of_a_project(
    real_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    car = _copy_car(real_dir, HEMANTH, tmp_path / "src")
    assert run_cli("--integration-path", str(car), "--artifact-dir", "art", *OFFLINE) == 0
    text = outputs.read_text(encoding="utf-8")
    blocks = re.findall(r"^([a-z-]+)<<(ghadelimiter_\w+)\n(.*?)\n\2$", text, re.M | re.S)
    parsed = {name: value for name, _, value in blocks}
    assert "integration-id" not in parsed and "iar-path" not in parsed
    assert parsed["source-kind"] == "project"
    assert parsed["project-code"] == "B30_HEMANTH_INTEGRAT_FLOWS"
    assert json.loads(parsed["project-integrations"]) == ["B30_HB_FTP_INT|01.00.0000"]
    markdown = summary.read_text(encoding="utf-8")
    assert (
        "| Project | `B30_HEMANTH_INTEGRAT_FLOWS` B30 Hemanth Integration Flows "
        "\\(revision 559\\) |" in markdown
    )
    assert "`B30_HB_FTP_INT\\|01.00.0000`" in markdown


def test_discover_passes_over_par_files(
    real_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "repo").mkdir()
    shutil.copy(real_dir / "oracle-livelabs__oic/oic.ocw.hol.par", tmp_path / "repo")
    _copy_car(real_dir, HEMANTH, tmp_path / "repo")
    assert run_cli("discover", "--integration-path", str(tmp_path / "repo"), "--json") == 0
    found = json.loads(capsys.readouterr().out)["integrations"]
    assert [(f["kind"], f["id"]) for f in found] == [("project", "B30_HEMANTH_INTEGRAT_FLOWS")]


def test_project_export_without_server_settings_is_a_settings_error(
    real_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    car = _copy_car(real_dir, HEMANTH, tmp_path / "src")
    assert run_cli("--integration-path", str(car), "--artifact-dir", str(tmp_path / "a")) == 2
    err = capsys.readouterr().err
    assert "project B30_HEMANTH_INTEGRAT_FLOWS uses connections" in err and "oic-url" in err
    assert not (tmp_path / "a").exists()
